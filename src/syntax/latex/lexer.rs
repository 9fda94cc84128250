//! The LaTeX lexer: math-mode text → commands, letters, numbers, braces and
//! plain characters, each with its byte span and whether space preceded it;
//! then the brace tree ([`Node`]) the translator walks.

use crate::syntax::expr::Span;
use crate::syntax::lexer::{number_at, ParseError};
use num_rational::BigRational;

/// What a LaTeX token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LKind {
    /// `\name`, or `\` and one non-letter (`\,`, `\|`, `\{`, `\\`).
    Cmd(String),
    /// One letter (ASCII or not: Greek pasted as Unicode too).
    Letter(char),
    /// A number, exactly (decimals and scientific notation).
    Num(BigRational),
    /// `{`
    Open,
    /// `}`
    Close,
    /// Anything else, read by the plain lexer: operators, parentheses,
    /// relations (`<=` stays one piece), Unicode symbols.
    Plain(String),
}

/// One LaTeX token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LTok {
    pub(crate) kind: LKind,
    pub(crate) span: Span,
    /// Whitespace (or nothing but a brace) came right before it.
    pub(crate) space_before: bool,
}

/// The brace tree: a token, or a `{ … }` group.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// A token.
    Tok(LTok),
    /// A braced group.
    Group {
        /// The whole group, braces included.
        span: Span,
        /// Its contents.
        items: Vec<Node>,
    },
}

impl Node {
    /// Where the node was written.
    pub(crate) fn span(&self) -> Span {
        match self {
            Node::Tok(t) => t.span,
            Node::Group { span, .. } => *span,
        }
    }

    /// The token, if this is one.
    pub(crate) fn tok(&self) -> Option<&LTok> {
        match self {
            Node::Tok(t) => Some(t),
            Node::Group { .. } => None,
        }
    }

    /// Is this the command `\name`?
    pub(crate) fn is_cmd(&self, name: &str) -> bool {
        matches!(self.tok(), Some(LTok { kind: LKind::Cmd(c), .. }) if c == name)
    }

    /// Is this the plain piece `s`?
    pub(crate) fn is_plain(&self, s: &str) -> bool {
        matches!(self.tok(), Some(LTok { kind: LKind::Plain(p), .. }) if p == s)
    }

    /// The command's name, if this is a command.
    pub(crate) fn cmd(&self) -> Option<&str> {
        match self.tok() {
            Some(LTok {
                kind: LKind::Cmd(c),
                ..
            }) => Some(c),
            _ => None,
        }
    }
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic() && !matches!(c, 'ᵀ' | '½' | '²' | '³' | '√')
}

/// Lexes LaTeX math.
pub(crate) fn lex(text: &str) -> Result<Vec<LTok>, ParseError> {
    let mut out = Vec::new();
    let mut space = true;
    let mut iter = text.char_indices().peekable();
    while let Some((start, c)) = iter.next() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let span_to = |end: usize| Span { start, end };
        let (kind, end) = if c == '\\' {
            match iter.peek().copied() {
                Some((_, n)) if n.is_ascii_alphabetic() => {
                    let mut end = start + 1;
                    while let Some(&(i, n)) = iter.peek() {
                        if !n.is_ascii_alphabetic() {
                            break;
                        }
                        end = i + n.len_utf8();
                        iter.next();
                    }
                    (LKind::Cmd(text[start + 1..end].to_string()), end)
                }
                Some((i, n)) => {
                    iter.next();
                    (LKind::Cmd(n.to_string()), i + n.len_utf8())
                }
                None => {
                    return Err(ParseError {
                        message: "a lone `\\` at the end of the text".into(),
                        span: span_to(start + 1),
                    })
                }
            }
        } else if c == '%' {
            // A LaTeX comment runs to the end of the line.
            for (_, n) in iter.by_ref() {
                if n == '\n' {
                    break;
                }
            }
            space = true;
            continue;
        } else if c.is_ascii_digit() {
            let (value, end) = number_at(text, start)?;
            while iter.peek().is_some_and(|&(i, _)| i < end) {
                iter.next();
            }
            (LKind::Num(value), end)
        } else if is_letter(c) {
            (LKind::Letter(c), start + c.len_utf8())
        } else if c == '{' {
            (LKind::Open, start + 1)
        } else if c == '}' {
            (LKind::Close, start + 1)
        } else if matches!(c, '<' | '>' | '=' | '!') {
            let mut end = start + 1;
            while let Some(&(i, n)) = iter.peek() {
                if !matches!(n, '<' | '>' | '=') {
                    break;
                }
                end = i + 1;
                iter.next();
            }
            (LKind::Plain(text[start..end].to_string()), end)
        } else {
            (LKind::Plain(c.to_string()), start + c.len_utf8())
        };
        out.push(LTok {
            kind,
            span: span_to(end),
            space_before: space,
        });
        space = false;
    }
    Ok(out)
}

/// Builds the brace tree, at most `nesting` groups deep.
pub(crate) fn tree(toks: Vec<LTok>, nesting: usize) -> Result<Vec<Node>, ParseError> {
    // An explicit stack: no recursion, so no depth can overflow it.
    let mut stack: Vec<(Span, Vec<Node>)> = vec![(Span::default(), Vec::new())];
    for t in toks {
        match t.kind {
            LKind::Open => {
                if stack.len() > nesting {
                    return Err(ParseError {
                        message: format!(
                            "the expression is nested more than {nesting} levels deep"
                        ),
                        span: t.span,
                    });
                }
                stack.push((t.span, Vec::new()));
            }
            LKind::Close => {
                if stack.len() == 1 {
                    return Err(ParseError {
                        message: "unmatched `}`".into(),
                        span: t.span,
                    });
                }
                let (open, items) = stack.pop().expect("an open group");
                stack
                    .last_mut()
                    .expect("the top level")
                    .1
                    .push(Node::Group {
                        span: open.to(t.span),
                        items,
                    });
            }
            _ => stack
                .last_mut()
                .expect("the top level")
                .1
                .push(Node::Tok(t)),
        }
    }
    if stack.len() > 1 {
        let (open, _) = stack.pop().expect("an open group");
        return Err(ParseError {
            message: "this `{` is never closed: add a `}`".into(),
            span: open,
        });
    }
    Ok(stack.pop().expect("the top level").1)
}
