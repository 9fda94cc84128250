//! Claim families beyond plain scalars: random variables (the moment
//! calculus), arrays and layers, and matrices.

pub(crate) mod arrays;
pub(crate) mod matrix;
pub(crate) mod moments;
pub(crate) mod scalar;
