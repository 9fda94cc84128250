//! LaTeX wherever an expression is accepted: `\frac{1}{2}(3I - WW^\top)W`
//! is read as `(1/2) (3 I - W Wᵀ) W`.
//!
//! The translator turns LaTeX math into the expression parser's own tokens,
//! each with the span of the LaTeX it came from, so the parser, its name
//! rules and its errors are the same for both syntaxes and every error
//! points at the LaTeX as written. Translation needs the declarations:
//! letters run together (`WW`) are split into declared names, and a
//! subscript is part of a name (`d_{out}` is `d_out`) unless the base is a
//! family or array (`w_{ji}` is `w(j, i)`). `lexer.rs` reads the text and
//! builds the brace tree, `translate.rs` maps it to tokens, `print.rs`
//! prints an expression back in LaTeX.

mod lexer;
pub mod print;
mod translate;

use crate::syntax::expr::Span;
use crate::syntax::lexer::{Names, ParseError, Tok};

/// Which syntax an expression string is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// LaTeX when the text has a backslash command, `^{` or `_{`; else plain.
    #[default]
    Auto,
    /// The plain syntax of FORMAT.md.
    Plain,
    /// LaTeX math.
    Latex,
}

impl Syntax {
    /// Reads a `syntax = "..."` value.
    pub fn parse(text: &str) -> Option<Syntax> {
        match text.trim() {
            "auto" => Some(Syntax::Auto),
            "plain" => Some(Syntax::Plain),
            "latex" => Some(Syntax::Latex),
            _ => None,
        }
    }
}

/// Does the text look like LaTeX: a backslash command, `^{` or `_{`?
pub fn looks_like_latex(text: &str) -> bool {
    text.contains('\\') || text.contains("^{") || text.contains("_{")
}

/// The parser's tokens for LaTeX `text`; `bound` names are values.
pub(crate) fn tokens(
    text: &str,
    names: &dyn Names,
    bound: &[String],
) -> Result<Vec<(Tok, Span)>, ParseError> {
    let toks = lexer::lex(text)?;
    let nodes = lexer::tree(toks, crate::syntax::lexer::NESTING)?;
    translate::translate(text, &nodes, names, bound)
}

/// Is `name` a Greek letter's command name (`eta`), which the translator
/// may hand to the parser as one name?
pub fn is_greek_name(name: &str) -> bool {
    translate::is_greek(name)
}

/// Is `name` (without its backslash) a LaTeX command the translator knows?
/// Used to say which TOML escape swallowed a command's first letter.
pub fn is_command_name(name: &str) -> bool {
    name.len() > 1 && translate::known_command(name)
}

/// A plain-syntax lexing error, with a hint when the text holds LaTeX.
pub(crate) fn hint_plain(text: &str, e: ParseError) -> ParseError {
    if text.get(e.span.start..e.span.end) == Some("\\") {
        return ParseError {
            message: format!(
                "{}: this string is read in the plain syntax (`syntax = \"plain\"`); LaTeX is read with `syntax = \"latex\"` or when the text has a backslash command",
                e.message
            ),
            span: e.span,
        };
    }
    e
}
