//! The symbolic engine: the CAS boundary, our polynomial types, the
//! scalar normal form under the domain's rules, finite ranges of sums over
//! all integers, and proofs by induction.

pub mod cas;
pub mod induction;
pub mod normal;
pub mod polynomial;
pub mod sums;
