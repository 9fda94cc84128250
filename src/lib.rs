//! derive-check library.
pub mod cas;
pub mod expr;
pub mod parser;
pub mod polynomial;
