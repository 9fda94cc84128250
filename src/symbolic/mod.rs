//! The symbolic engine: the CAS boundary, our polynomial types, the
//! scalar normal form under the domain's rules, symbolic derivatives and
//! integrals, finite ranges of sums over all integers, and proofs by induction.

pub(crate) mod calculus;
pub(crate) mod cas;
pub(crate) mod induction;
pub(crate) mod norm_error;
pub(crate) mod normal;
pub(crate) mod polynomial;
pub(crate) mod sums;
