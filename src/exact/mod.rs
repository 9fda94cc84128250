//! The independent exact path: certified reals, exact evaluation at a
//! point (with forward-mode dual numbers for `diff`), the CNN layers on
//! exact arrays, and seeded sampling and exhaustive grids. Spot checks and
//! cross-checks rest on this path, so it never imports the symbolic engine.

pub(crate) mod algebraic;
pub(crate) mod dual;
pub(crate) mod dyadic;
pub(crate) mod eval;
pub(crate) mod fold;
pub(crate) mod interval;
pub(crate) mod layers;
pub(crate) mod real;
pub(crate) mod spot;
