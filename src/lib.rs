//! derive-check library.
pub mod cas;
pub mod expr;
pub mod layers;
pub mod parser;
pub mod polynomial;
