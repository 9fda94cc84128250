//! Claim families beyond plain scalars: random variables (the moment
//! calculus), arrays and layers, and matrices.

pub mod arrays;
pub mod matrix;
pub mod moments;
pub mod scalar;
