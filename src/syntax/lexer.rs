//! The lexer of the plain syntax: text → [`Tok`]s with spans, exact
//! numbers (decimals, scientific notation), and the names the parser and
//! the LaTeX translator share ([`Names`], [`ParseError`]).

use crate::syntax::builtins::Builtin;
use crate::syntax::expr::{RelOp, Span};
use num_bigint::BigInt;
use num_rational::BigRational;

/// The budget [`Budgets::nesting`](crate::config::Budgets::nesting).
pub const NESTING: usize = crate::config::Budgets::DEFAULT.nesting;

/// What a name stands for, as far as parsing is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameClass {
    /// A value: `x(y + 1)` is a product.
    Value,
    /// A function: `f(y + 1)` is a call.
    Function,
}

/// The names a parser may meet: declarations, definitions and built-ins.
pub trait Names {
    /// What `name` is, or `None` when it is unknown.
    fn class(&self, name: &str) -> Option<NameClass>;
    /// Every declared or defined name (to suggest splits of unknown names).
    fn declared(&self) -> Vec<String>;
    /// Told of a name the parser met and did not know, just before it
    /// reports the error (so `extract` learns names from the parser itself,
    /// never from the message's text).
    fn unknown(&self, _name: &str) {}
}

/// A parse failure at a span of the expression text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What went wrong, in words.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// Is `name` a built-in function?
pub fn is_builtin(name: &str) -> bool {
    Builtin::from_name(name).is_some()
}

/// A token of the expression language, with its span (also produced by
/// the LaTeX translator, [`crate::syntax::latex`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Num(BigRational),
    Ident(String),
    Str(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Prime,
    SupT,
    Sup(u32),
    /// `⁻¹`: the inverse (of a matrix), `x^-1` of a scalar.
    SupInverse,
    /// `!` after an operand: the factorial.
    Bang,
    Half,
    Sqrt,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Bar,
    DoubleBar,
    LFloor,
    RFloor,
    LCeil,
    RCeil,
    Rel(RelOp),
    Implies,
    Iff,
}

pub(crate) fn is_ident_start(c: char) -> bool {
    (c.is_alphabetic() || c == '_') && !matches!(c, 'ᵀ' | '½' | '²' | '³' | '√')
}

pub(crate) fn is_ident_continue(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !matches!(c, 'ᵀ' | '½' | '²' | '³' | '√')
}

/// The exponent of scientific notation allowed, in absolute value.
const MAX_EXPONENT: u32 = 4000;

/// The number written at byte `start` of `text` (digits, an optional
/// decimal part, an optional exponent `e-3` / `E4`): its exact value and
/// the byte just past it.
pub(crate) fn number_at(text: &str, start: usize) -> Result<(BigRational, usize), ParseError> {
    let bytes = text.as_bytes();
    let digits_from = |mut k: usize| {
        while k < bytes.len() && bytes[k].is_ascii_digit() {
            k += 1;
        }
        k
    };
    let int_end = digits_from(start);
    let too_long = |what: &str, end: usize| ParseError {
        message: format!("{what} with more than 4000 digits is beyond the parser's limit"),
        span: Span { start, end },
    };
    if int_end - start > 4000 {
        return Err(too_long("a number", int_end));
    }
    let mut value =
        BigRational::from_integer(text[start..int_end].parse::<BigInt>().unwrap_or_default());
    let mut end = int_end;
    if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
        let frac_end = digits_from(end + 1);
        let frac = &text[end + 1..frac_end];
        if frac.len() > 4000 {
            return Err(too_long("a decimal", frac_end));
        }
        let num = frac.parse::<BigInt>().unwrap_or_default();
        value += BigRational::new(num, num_traits::pow(BigInt::from(10), frac.len()));
        end = frac_end;
    }
    // Scientific notation: `e` or `E`, an optional sign, then digits.
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut k = end + 1;
        let negative = k < bytes.len() && bytes[k] == b'-';
        if k < bytes.len() && (bytes[k] == b'-' || bytes[k] == b'+') {
            k += 1;
        }
        let exp_end = digits_from(k);
        let followed_by_name = exp_end < bytes.len()
            && text[exp_end..]
                .chars()
                .next()
                .is_some_and(is_ident_continue);
        if exp_end > k && !followed_by_name {
            let span = Span {
                start,
                end: exp_end,
            };
            let exponent: u32 = match text[k..exp_end].parse() {
                Ok(x) if x <= MAX_EXPONENT => x,
                _ => {
                    return Err(ParseError {
                        message: format!(
                            "an exponent beyond {MAX_EXPONENT} in scientific notation is beyond the parser's limit"
                        ),
                        span,
                    })
                }
            };
            let scale =
                BigRational::from_integer(num_traits::pow(BigInt::from(10), exponent as usize));
            value = if negative {
                value / scale
            } else {
                value * scale
            };
            end = exp_end;
        }
    }
    Ok((value, end))
}

pub(crate) fn lex(text: &str) -> Result<Vec<(Tok, Span)>, ParseError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let end_of = |k: usize| -> usize { chars.get(k).map_or(text.len(), |c| c.0) };
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).map(|c| c.1);
        let next2 = chars.get(i + 2).map(|c| c.1);
        let (tok, len) = if c.is_ascii_digit() {
            let (value, end) = number_at(text, start)?;
            let len = text[start..end].chars().count();
            (Tok::Num(value), len)
        } else if is_ident_start(c) {
            let mut j = i;
            while j < chars.len() && is_ident_continue(chars[j].1) {
                j += 1;
            }
            (Tok::Ident(text[start..end_of(j)].to_string()), j - i)
        } else {
            match c {
                '"' => {
                    let mut j = i + 1;
                    while j < chars.len() && chars[j].1 != '"' {
                        j += 1;
                    }
                    if j >= chars.len() {
                        return Err(ParseError {
                            message: "unterminated string literal".into(),
                            span: Span {
                                start,
                                end: text.len(),
                            },
                        });
                    }
                    (
                        Tok::Str(text[end_of(i + 1)..end_of(j)].to_string()),
                        j + 1 - i,
                    )
                }
                '+' => (Tok::Plus, 1),
                '-' | '−' | '–' => (Tok::Minus, 1),
                '*' | '·' | '×' | '⋅' => (Tok::Star, 1),
                '/' | '÷' => (Tok::Slash, 1),
                '^' => (Tok::Caret, 1),
                '\'' | '′' => (Tok::Prime, 1),
                'ᵀ' => (Tok::SupT, 1),
                '²' => (Tok::Sup(2), 1),
                '³' => (Tok::Sup(3), 1),
                '⁻' if next == Some('¹') => (Tok::SupInverse, 2),
                '½' => (Tok::Half, 1),
                '√' => (Tok::Sqrt, 1),
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                '[' => (Tok::LBrack, 1),
                ']' => (Tok::RBrack, 1),
                ',' => (Tok::Comma, 1),
                '|' => (Tok::Bar, 1),
                '‖' => (Tok::DoubleBar, 1),
                '⌊' => (Tok::LFloor, 1),
                '⌋' => (Tok::RFloor, 1),
                '⌈' => (Tok::LCeil, 1),
                '⌉' => (Tok::RCeil, 1),
                '≤' => (Tok::Rel(RelOp::Le), 1),
                '≥' => (Tok::Rel(RelOp::Ge), 1),
                '≠' => (Tok::Rel(RelOp::Ne), 1),
                '≈' => (Tok::Rel(RelOp::Approx), 1),
                '⇒' => (Tok::Implies, 1),
                '⇔' => (Tok::Iff, 1),
                '<' if next == Some('=') && next2 == Some('>') => (Tok::Iff, 3),
                '<' if next == Some('=') => (Tok::Rel(RelOp::Le), 2),
                '<' => (Tok::Rel(RelOp::Lt), 1),
                '>' if next == Some('=') => (Tok::Rel(RelOp::Ge), 2),
                '>' => (Tok::Rel(RelOp::Gt), 1),
                '!' if next == Some('=') => (Tok::Rel(RelOp::Ne), 2),
                '!' => (Tok::Bang, 1),
                '=' if next == Some('>') => (Tok::Implies, 2),
                '=' if next == Some('=') => (Tok::Rel(RelOp::Eq), 2),
                '=' => (Tok::Rel(RelOp::Eq), 1),
                _ => {
                    return Err(ParseError {
                        message: format!("unexpected character `{c}`"),
                        span: Span {
                            start,
                            end: end_of(i + 1),
                        },
                    })
                }
            }
        };
        out.push((
            tok,
            Span {
                start,
                end: end_of(i + len),
            },
        ));
        i += len;
    }
    Ok(out)
}
