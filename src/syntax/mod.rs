//! The text of a derivation file and what is read from it: source text and
//! located diagnostics, the TOML loader with spans, the expression parser
//! and the expression tree.

pub mod builtins;
pub mod expr;
pub mod latex;
pub mod lexer;
pub mod load;
pub mod parser;
pub mod source;
