//! The expression parser: claim text → [`Expr`] with spans.
//!
//! It implements the syntax of FORMAT.md: exact decimals, `+ - * / ^`,
//! juxtaposition, postfix transpose and superscripts, the Unicode of pasted
//! answers, calls versus products decided by what a name is, relation chains,
//! implications and `and`-joined conditions. It knows names only through the
//! [`Names`] trait, so it stays a pure function of the text and the
//! declarations.

use crate::syntax::builtins::{Arity, Builtin};
use crate::syntax::expr::{BinOp, Chain, Expr, ExprKind, Logic, RelOp, Span, Statement};
use crate::syntax::latex;
pub use crate::syntax::latex::Syntax;
pub use crate::syntax::lexer::{is_builtin, NameClass, Names, ParseError, NESTING};
pub(crate) use crate::syntax::lexer::{lex, Tok};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(_) => "a number".into(),
        Tok::Ident(n) => format!("`{n}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Rel(r) => format!("`{}`", r.symbol()),
        Tok::Implies => "`=>`".into(),
        Tok::Iff => "`<=>`".into(),
        Tok::Plus => "`+`".into(),
        Tok::Minus => "`-`".into(),
        Tok::Star => "`*`".into(),
        Tok::Slash => "`/`".into(),
        Tok::Caret => "`^`".into(),
        Tok::Prime => "`'`".into(),
        Tok::SupT => "`ᵀ`".into(),
        Tok::Sup(n) => format!("superscript {n}"),
        Tok::SupInverse => "`⁻¹`".into(),
        Tok::Bang => "`!`".into(),
        Tok::Half => "`½`".into(),
        Tok::Sqrt => "`√`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBrack => "`[`".into(),
        Tok::RBrack => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Bar => "`|`".into(),
        Tok::DoubleBar => "`‖`".into(),
        Tok::LFloor => "`⌊`".into(),
        Tok::RFloor => "`⌋`".into(),
        Tok::LCeil => "`⌈`".into(),
        Tok::RCeil => "`⌉`".into(),
    }
}

/// A control character in an expression is almost always a TOML escape of
/// a basic string (`"\frac"` holds a form feed): the message names it.
fn control_character(text: &str) -> Result<(), ParseError> {
    for (i, c) in text.char_indices() {
        let escape = match c {
            '\u{8}' => 'b',
            '\u{c}' => 'f',
            '\t' => 't',
            '\r' => 'r',
            '\n' => 'n',
            _ if c.is_control() => {
                return Err(ParseError {
                    message: format!("unexpected control character U+{:04X}", c as u32),
                    span: Span {
                        start: i,
                        end: i + c.len_utf8(),
                    },
                })
            }
            _ => continue,
        };
        let rest: String = text[i + c.len_utf8()..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let command = format!("{escape}{rest}");
        // A line break is legitimate in a multi-line string: only the
        // commands whose rest never starts a line of prose count.
        let is_command = match c {
            '\n' => ["nabla", "neq", "nonumber", "notag"].contains(&command.as_str()),
            '\r' => [
                "right", "rho", "rangle", "rfloor", "rceil", "rVert", "rvert",
            ]
            .contains(&command.as_str()),
            _ => crate::syntax::latex::is_command_name(&command),
        };
        // Tabs and line breaks are whitespace unless they ate a LaTeX command.
        if matches!(c, '\t' | '\r' | '\n') && !is_command {
            continue;
        }
        let name = match c {
            '\u{8}' => "backspace",
            '\u{c}' => "form feed",
            '\t' => "tab",
            '\r' => "carriage return",
            _ => "line break",
        };
        let hint = if is_command {
            format!("; TOML's escape `\\{escape}` in a basic string \"…\" turned `\\{command}` into it: write LaTeX in a literal string '…'")
        } else {
            format!("; TOML's escape `\\{escape}` in a basic string \"…\" produces it: write LaTeX in a literal string '…'")
        };
        return Err(ParseError {
            message: format!("a {name} character inside the expression{hint}"),
            span: Span {
                start: i,
                end: i + c.len_utf8(),
            },
        });
    }
    Ok(())
}

/// Splits an unknown run of letters into declared names, if it can be done.
fn split_suggestion(word: &str, names: &dyn Names) -> Option<String> {
    let declared = names.declared();
    let chars: Vec<char> = word.chars().collect();
    // best[i]: a split of chars[..i] into declared names, preferring fewer parts.
    let mut best: Vec<Option<Vec<String>>> = vec![None; chars.len() + 1];
    best[0] = Some(Vec::new());
    for i in 0..chars.len() {
        let Some(prefix) = best[i].clone() else {
            continue;
        };
        for j in i + 1..=chars.len() {
            let piece: String = chars[i..j].iter().collect();
            if declared.contains(&piece) {
                let mut parts = prefix.clone();
                parts.push(piece);
                if best[j].as_ref().is_none_or(|b| b.len() > parts.len()) {
                    best[j] = Some(parts);
                }
            }
        }
    }
    best[chars.len()]
        .as_ref()
        .filter(|p| p.len() > 1)
        .map(|p| p.join(" "))
}

struct Parser<'a> {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    names: &'a dyn Names,
    bound: Vec<String>,
    depth: usize,
    abs_depth: usize,
    norm_depth: usize,
    text_len: usize,
    /// Sum indices that shadow a declared name, and the fresh names they are read as (innermost last).
    renames: Vec<(String, String)>,
    /// Notes for the report (a shadowed name).
    notes: Vec<String>,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k).map(|t| &t.0)
    }

    fn span_here(&self) -> Span {
        self.toks.get(self.pos).map_or(
            Span {
                start: self.text_len,
                end: self.text_len,
            },
            |t| t.1,
        )
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        self.pos += 1;
        t
    }

    fn error<T>(&self, message: impl Into<String>, span: Span) -> PResult<T> {
        Err(ParseError {
            message: message.into(),
            span,
        })
    }

    fn expect(&mut self, tok: Tok, what: &str) -> PResult<Span> {
        match self.peek() {
            Some(t) if *t == tok => Ok(self.bump().1),
            Some(t) => {
                let d = describe(t);
                self.error(format!("expected {what}, found {d}"), self.span_here())
            }
            None => self.error(
                format!("expected {what}, found the end of the text"),
                self.span_here(),
            ),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > NESTING {
            return self.error(
                format!("the expression is nested more than {NESTING} levels deep"),
                self.span_here(),
            );
        }
        Ok(())
    }

    /// A name not declared, defined or bound: `i₁`, `i₂`, ...
    fn fresh_name(&self, base: &str) -> String {
        const DIGITS: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
        (1usize..)
            .map(|n| {
                let sub: String = n
                    .to_string()
                    .chars()
                    .map(|d| DIGITS[d as usize - '0' as usize])
                    .collect();
                format!("{base}{sub}")
            })
            .find(|c| self.class_of(c).is_none() && !self.renames.iter().any(|(_, f)| f == c))
            .expect("some name is fresh")
    }

    fn class_of(&self, name: &str) -> Option<NameClass> {
        if self.bound.iter().any(|b| b == name) {
            return Some(NameClass::Value);
        }
        if let Some(c) = self.names.class(name) {
            return Some(c);
        }
        if is_builtin(name) {
            return Some(NameClass::Function);
        }
        None
    }

    fn is_keyword_and(&self) -> bool {
        matches!(self.peek(), Some(Tok::Ident(n)) if n == "and" && self.class_of("and").is_none())
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => BinOp::Add,
                Some(Tok::Minus) => BinOp::Sub,
                _ => break,
            };
            self.bump();
            let rhs = self.term()?;
            lhs = Expr::binary(op, lhs, rhs);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn starts_juxtaposed(&self) -> bool {
        match self.peek() {
            Some(Tok::Ident(_)) => !self.is_keyword_and(),
            Some(Tok::LParen | Tok::Sqrt | Tok::LFloor | Tok::LCeil | Tok::Half) => true,
            Some(Tok::Bar) => self.abs_depth == 0,
            Some(Tok::DoubleBar) => self.norm_depth == 0,
            _ => false,
        }
    }

    /// Did the previous token close a parenthesis?
    fn after_paren(&self) -> bool {
        self.pos > 0 && matches!(self.toks[self.pos - 1].0, Tok::RParen)
    }

    /// Was the previous token a number?
    fn after_number(&self) -> bool {
        self.pos > 0 && matches!(self.toks[self.pos - 1].0, Tok::Num(_))
    }

    /// Did the previous token end a matrix operand that a literal matrix
    /// may multiply by juxtaposition: a literal's `]`, a transpose or
    /// superscript, or a name (`Q [[1, 0], [0, 1]]`, `[[..]]ᵀ [[..]]`)?
    fn after_matrix_operand(&self) -> bool {
        self.pos > 0
            && match &self.toks[self.pos - 1].0 {
                Tok::RBrack | Tok::SupT | Tok::Prime | Tok::SupInverse | Tok::Sup(_) => true,
                // `A^T [[..]]`.
                Tok::Ident(t) if t == "T" => {
                    self.pos > 1 && matches!(self.toks[self.pos - 2].0, Tok::Caret)
                }
                Tok::Ident(_) => {
                    self.pos + 1 < self.toks.len()
                        && matches!(self.toks[self.pos + 1].0, Tok::LBrack)
                }
                _ => false,
            }
    }

    /// term := unary (('*' | '/') unary | juxtaposed power)*
    fn term(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            match self.peek() {
                Some(Tok::Star) => {
                    self.bump();
                    let rhs = self.unary()?;
                    lhs = Expr::binary(BinOp::Mul, lhs, rhs);
                }
                Some(Tok::Slash) => {
                    self.bump();
                    let rhs = self.unary()?;
                    lhs = Expr::binary(BinOp::Div, lhs, rhs);
                }
                // `(3/10) 0.6`: a number may follow a parenthesised factor.
                Some(Tok::Num(_)) if self.after_paren() => {
                    let rhs = self.power()?;
                    lhs = Expr::binary(BinOp::Mul, lhs, rhs);
                }
                Some(Tok::Num(_)) => {
                    return self.error(
                        "a number cannot follow here without an operator (write `*`)",
                        self.span_here(),
                    )
                }
                // `5 [1, 2]`, `(1/sqrt(2)) [[1, 1], [1, -1]]`: a number or a
                // parenthesised factor scales a literal array; a matrix
                // operand multiplies one (`[[..]]ᵀ [[..]]`).
                Some(Tok::LBrack)
                    if self.after_paren() || self.after_number() || self.after_matrix_operand() =>
                {
                    let rhs = self.power()?;
                    lhs = Expr::binary(BinOp::Mul, lhs, rhs);
                }
                _ if self.starts_juxtaposed() => {
                    let rhs = self.power()?;
                    lhs = Expr::binary(BinOp::Mul, lhs, rhs);
                }
                _ => break,
            }
        }
        Ok(lhs)
    }

    /// unary := ('-' | '+') unary | power
    fn unary(&mut self) -> PResult<Expr> {
        match self.peek() {
            Some(Tok::Minus) => {
                let (_, span) = self.bump();
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                let span = span.to(inner.span);
                Ok(Expr::new(ExprKind::Neg(Box::new(inner)), span))
            }
            Some(Tok::Plus) => {
                self.bump();
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.power(),
        }
    }

    /// power := postfix ('^' signed-power)?, right-associative.
    fn power(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if matches!(self.peek(), Some(Tok::Caret)) {
            self.bump();
            self.enter()?;
            let exponent = match self.peek() {
                Some(Tok::Minus) => {
                    let (_, span) = self.bump();
                    let inner = self.power()?;
                    let span = span.to(inner.span);
                    Expr::new(ExprKind::Neg(Box::new(inner)), span)
                }
                Some(Tok::Plus) => {
                    self.bump();
                    self.power()?
                }
                _ => self.power()?,
            };
            self.depth -= 1;
            return Ok(Expr::binary(BinOp::Pow, base, exponent));
        }
        Ok(base)
    }

    /// postfix := primary ('^T' | ''' | 'ᵀ' | '²' | '³' | '⁻¹')*
    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Some(Tok::Caret)
                    if matches!(self.peek_at(1), Some(Tok::Ident(t)) if t == "T")
                        && self.class_of("T").is_none() =>
                {
                    self.bump();
                    let (_, span) = self.bump();
                    let span = e.span.to(span);
                    e = Expr::new(ExprKind::Transpose(Box::new(e)), span);
                }
                Some(Tok::Prime | Tok::SupT) => {
                    let (_, span) = self.bump();
                    let span = e.span.to(span);
                    e = Expr::new(ExprKind::Transpose(Box::new(e)), span);
                }
                Some(Tok::Bang) => {
                    let (_, span) = self.bump();
                    let span = e.span.to(span);
                    e = Expr::new(
                        ExprKind::Builtin {
                            op: Builtin::Factorial,
                            args: vec![e],
                            options: Vec::new(),
                        },
                        span,
                    );
                }
                Some(Tok::SupInverse) => {
                    let (_, span) = self.bump();
                    let exponent = Expr::new(
                        ExprKind::Number(BigRational::from_integer(BigInt::from(-1))),
                        span,
                    );
                    e = Expr::binary(BinOp::Pow, e, exponent);
                }
                Some(Tok::Sup(n)) => {
                    let n = *n;
                    let (_, span) = self.bump();
                    let exponent = Expr::new(
                        ExprKind::Number(BigRational::from_integer(BigInt::from(n))),
                        span,
                    );
                    e = Expr::binary(BinOp::Pow, e, exponent);
                }
                _ => break,
            }
        }
        Ok(e)
    }

    fn enclosed(&mut self, open: Span, close: Tok, close_desc: &str, op: Builtin) -> PResult<Expr> {
        let inner = self.expr()?;
        let end = self.expect(close, close_desc)?;
        Ok(Expr::new(
            ExprKind::Builtin {
                op,
                args: vec![inner],
                options: Vec::new(),
            },
            open.to(end),
        ))
    }

    fn primary(&mut self) -> PResult<Expr> {
        let span = self.span_here();
        let Some(tok) = self.peek().cloned() else {
            return self.error("expected an expression, found the end of the text", span);
        };
        let result = match tok {
            Tok::Num(q) => {
                self.bump();
                Expr::new(ExprKind::Number(q), span)
            }
            Tok::Half => {
                self.bump();
                Expr::new(
                    ExprKind::Number(BigRational::new(BigInt::one(), BigInt::from(2))),
                    span,
                )
            }
            Tok::Str(s) => {
                self.bump();
                Expr::new(ExprKind::Str(s), span)
            }
            Tok::LParen => {
                self.bump();
                let saved = self.abs_depth;
                self.abs_depth = 0;
                let mut inner = self.expr()?;
                self.abs_depth = saved;
                let end = self.expect(Tok::RParen, "`)`")?;
                inner.span = span.to(end);
                inner
            }
            Tok::LBrack => self.matrix()?,
            Tok::Sqrt => {
                self.bump();
                let inner = self.primary()?;
                let full = span.to(inner.span);
                Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::Sqrt,
                        args: vec![inner],
                        options: Vec::new(),
                    },
                    full,
                )
            }
            Tok::LFloor => {
                self.bump();
                self.enclosed(span, Tok::RFloor, "`⌋`", Builtin::Floor)?
            }
            Tok::LCeil => {
                self.bump();
                self.enclosed(span, Tok::RCeil, "`⌉`", Builtin::Ceil)?
            }
            Tok::DoubleBar => {
                self.bump();
                self.norm_depth += 1;
                let inner = self.enclosed(span, Tok::DoubleBar, "a closing `‖`", Builtin::Norm2);
                self.norm_depth -= 1;
                inner?
            }
            Tok::Bar => {
                self.bump();
                self.abs_depth += 1;
                let inner = self.expr()?;
                self.abs_depth -= 1;
                let end = self.expect(Tok::Bar, "a closing `|`")?;
                Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::Abs,
                        args: vec![inner],
                        options: Vec::new(),
                    },
                    span.to(end),
                )
            }
            Tok::Ident(name) => self.name(name, span)?,
            other => {
                return self.error(
                    format!("expected an expression, found {}", describe(&other)),
                    span,
                );
            }
        };
        Ok(result)
    }

    fn name(&mut self, name: String, span: Span) -> PResult<Expr> {
        self.bump();
        if let Some((_, fresh)) = self.renames.iter().rev().find(|(k, _)| *k == name) {
            return Ok(Expr::new(ExprKind::Name(fresh.clone()), span));
        }
        let class = self.class_of(&name);
        if name == "E" && class.is_none() && matches!(self.peek(), Some(Tok::LBrack)) {
            self.bump();
            let inner = self.expr()?;
            let end = self.expect(Tok::RBrack, "`]` closing `E[`")?;
            return Ok(Expr::new(ExprKind::Expect(Box::new(inner)), span.to(end)));
        }
        if name == "inf" && class.is_none() {
            // Only meaningful as a bound of `sum`/`prod`; checked later.
            return Ok(Expr::new(ExprKind::Name(name), span));
        }
        let constant = if name == "π" {
            Some(Builtin::Pi)
        } else {
            Builtin::from_name(&name)
        }
        .filter(|b| {
            b.is_constant() && self.names.class(&name).is_none() && !self.bound.contains(&name)
        });
        if let Some(op) = constant {
            return Ok(Expr::new(
                ExprKind::Builtin {
                    op,
                    args: Vec::new(),
                    options: Vec::new(),
                },
                span,
            ));
        }
        match class {
            None => {
                self.names.unknown(&name);
                let message = match split_suggestion(&name, self.names) {
                    Some(split) => format!("unknown name `{name}`; did you mean `{split}`?"),
                    None => format!("unknown name `{name}`"),
                };
                self.error(message, span)
            }
            Some(NameClass::Function) if matches!(self.peek(), Some(Tok::LParen)) => {
                self.call(name, span)
            }
            Some(NameClass::Function) if is_builtin(&name) && self.names.class(&name).is_none() => {
                self.error(
                    format!("the built-in `{name}` must be called with `(...)`"),
                    span,
                )
            }
            Some(_) => Ok(Expr::new(ExprKind::Name(name), span)),
        }
    }

    fn call(&mut self, name: String, span: Span) -> PResult<Expr> {
        self.bump(); // (
        let saved_abs = self.abs_depth;
        self.abs_depth = 0;
        // A declared or defined name shadows a built-in of the same spelling.
        let builtin_here = Builtin::from_name(&name).filter(|_| self.names.class(&name).is_none());
        let binder = builtin_here.is_some_and(|b| b.binds_index());
        let takes_options = builtin_here.is_some_and(|b| !b.options().is_empty());
        let mut args = Vec::new();
        let mut options: Vec<(String, Expr)> = Vec::new();
        let mut pushed = false;
        let mut renamed = false;
        let mut pending_rename: Option<(String, String)> = None;
        if matches!(self.peek(), Some(Tok::RParen)) {
            return self.error(format!("`{name}` needs arguments"), self.span_here());
        }
        loop {
            let index = args.len() + options.len();
            if binder && index == 0 {
                let here = self.span_here();
                match self.peek().cloned() {
                    Some(Tok::Ident(k)) => {
                        self.bump();
                        // An index may shadow a declared name inside its own
                        // body, as in mathematics: it is read as a fresh name
                        // (`i₁`), so the declared one is never confused with it.
                        let fresh = if self.names.class(&k).is_some() || self.class_of(&k).is_some()
                        {
                            let fresh = self.fresh_name(&k);
                            self.notes.push(format!(
                                "the index `{k}` of `{name}` shadows the declared `{k}` inside its sum; it is read there as `{fresh}`"
                            ));
                            pending_rename = Some((k.clone(), fresh.clone()));
                            fresh
                        } else {
                            k
                        };
                        args.push(Expr::new(ExprKind::Name(fresh), here));
                    }
                    _ => {
                        return self.error(
                            format!("the first argument of `{name}` must be an index name"),
                            here,
                        )
                    }
                }
            } else {
                if binder && index == 3 && !pushed {
                    if let Some(ExprKind::Name(k)) = args.first().map(|a| &a.kind) {
                        self.bound.push(k.clone());
                        pushed = true;
                    }
                    if let Some(rename) = pending_rename.take() {
                        self.renames.push(rename);
                        renamed = true;
                    }
                }
                let is_option = takes_options
                    && matches!(self.peek(), Some(Tok::Ident(_)))
                    && matches!(self.peek_at(1), Some(Tok::Rel(RelOp::Eq)));
                if is_option {
                    let (tok, _) = self.bump();
                    self.bump();
                    let Tok::Ident(key) = tok else { unreachable!() };
                    let value = self.condition_or_expr()?;
                    options.push((key, value));
                } else {
                    if !options.is_empty() {
                        return self.error(
                            "positional arguments must come before named options",
                            self.span_here(),
                        );
                    }
                    args.push(self.condition_or_expr()?);
                }
            }
            match self.peek() {
                Some(Tok::Comma) => {
                    self.bump();
                }
                _ => break,
            }
        }
        if pushed {
            self.bound.pop();
        }
        if renamed {
            self.renames.pop();
        }
        let end = self.expect(Tok::RParen, "`,` or `)`")?;
        self.abs_depth = saved_abs;
        let span = span.to(end);
        let Some(op) = builtin_here else {
            return Ok(Expr::new(ExprKind::Call { name, args }, span));
        };
        if let Arity::OneOf(counts) = op.arity() {
            if !counts.contains(&args.len()) {
                let list: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
                return self.error(
                    format!(
                        "`{name}` takes {} arguments, found {}",
                        list.join(" or "),
                        args.len()
                    ),
                    span,
                );
            }
        }
        // The variables of `diff` and `integral` are symbols or array entries.
        let variables: &[Expr] = match op {
            Builtin::Diff if args.len() >= 2 => &args[1..],
            Builtin::Integral if args.len() >= 2 => &args[1..2],
            _ => &[],
        };
        for v in variables {
            let ok = match &v.kind {
                ExprKind::Name(_) => true,
                ExprKind::Call { .. } => op == Builtin::Diff,
                _ => false,
            };
            if !ok {
                return self.error(
                    if op == Builtin::Diff {
                        format!("`diff` differentiates by a symbol or an array entry such as `w(h, l)`, not `{v}`")
                    } else {
                        format!("the variable of `integral` must be a name, not `{v}`")
                    },
                    v.span,
                );
            }
        }
        if let Arity::Exactly(n) = op.arity() {
            if args.len() != n {
                return self.error(
                    format!(
                        "`{name}` takes {n} argument{}, found {}",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                    span,
                );
            }
        }
        Ok(Expr::new(ExprKind::Builtin { op, args, options }, span))
    }

    fn matrix(&mut self) -> PResult<Expr> {
        let (_, open) = self.bump();
        let mut rows: Vec<Vec<Expr>> = Vec::new();
        if matches!(self.peek(), Some(Tok::LBrack)) {
            loop {
                let row_open = self.expect(Tok::LBrack, "`[` starting a row")?;
                let mut row = vec![self.expr()?];
                while matches!(self.peek(), Some(Tok::Comma)) {
                    self.bump();
                    row.push(self.expr()?);
                }
                let row_close = self.expect(Tok::RBrack, "`,` or `]` closing the row")?;
                if let Some(first) = rows.first() {
                    if first.len() != row.len() {
                        return self.error(
                            format!(
                                "ragged matrix literal: row {} has {} entries but row 1 has {}",
                                rows.len() + 1,
                                row.len(),
                                first.len()
                            ),
                            row_open.to(row_close),
                        );
                    }
                }
                rows.push(row);
                if matches!(self.peek(), Some(Tok::Comma)) {
                    self.bump();
                } else {
                    break;
                }
            }
        } else {
            rows.push(vec![self.expr()?]);
            while matches!(self.peek(), Some(Tok::Comma)) {
                self.bump();
                rows.push(vec![self.expr()?]);
            }
        }
        let close = self.expect(Tok::RBrack, "`]`")?;
        Ok(Expr::new(ExprKind::Matrix(rows), open.to(close)))
    }

    /// An expression, or a comparison chain and `and`-joined comparisons.
    fn condition_or_expr(&mut self) -> PResult<Expr> {
        let first = self.comparison()?;
        if !self.is_keyword_and() {
            return Ok(first);
        }
        let mut parts = vec![first];
        while self.is_keyword_and() {
            self.bump();
            parts.push(self.comparison()?);
        }
        let span = parts[0].span.to(parts[parts.len() - 1].span);
        Ok(Expr::new(ExprKind::And(parts), span))
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let first = self.expr()?;
        let mut items = vec![first];
        let mut ops = Vec::new();
        while let Some(Tok::Rel(op)) = self.peek() {
            ops.push(*op);
            self.bump();
            items.push(self.expr()?);
        }
        if ops.is_empty() {
            return Ok(items.pop().expect("one item"));
        }
        let span = items[0].span.to(items[items.len() - 1].span);
        Ok(Expr::new(ExprKind::Compare(items, ops), span))
    }

    fn chain(&mut self) -> PResult<Chain> {
        let mut terms = vec![self.expr()?];
        let mut ops = Vec::new();
        while let Some(Tok::Rel(op)) = self.peek() {
            let op = *op;
            let (_, span) = self.bump();
            ops.push((op, span));
            terms.push(self.expr()?);
        }
        if ops.is_empty() {
            let span = terms[0].span;
            return self.error(
                "expected a relation such as `=`, `<=` or `≈` after this expression",
                span,
            );
        }
        if let Some((_, span)) = ops.iter().find(|(op, _)| *op == RelOp::Ne) {
            return self.error(
                "`!=` may appear in `where` conditions but not in `show`",
                *span,
            );
        }
        let up = ops.iter().find(|(o, _)| matches!(o, RelOp::Le | RelOp::Lt));
        let down = ops.iter().find(|(o, _)| matches!(o, RelOp::Ge | RelOp::Gt));
        if let (Some(_), Some((_, span))) = (up, down) {
            return self.error("a chain may not mix `<=`/`<` with `>=`/`>`", *span);
        }
        Ok(Chain { terms, ops })
    }

    fn chains(&mut self) -> PResult<Vec<Chain>> {
        let mut out = vec![self.chain()?];
        while self.is_keyword_and() {
            self.bump();
            out.push(self.chain()?);
        }
        Ok(out)
    }

    fn statement(&mut self) -> PResult<Statement> {
        let premise = self.chains()?;
        let logic = match self.peek() {
            Some(Tok::Implies) => Some(Logic::Implies),
            Some(Tok::Iff) => Some(Logic::Iff),
            _ => None,
        };
        let Some(logic) = logic else {
            if premise.len() > 1 {
                return self.error(
                    "`and` joins relations only around `=>` or `<=>`",
                    self.span_here(),
                );
            }
            return Ok(Statement::Chain(
                premise.into_iter().next().expect("one chain"),
            ));
        };
        let (_, span) = self.bump();
        let conclusion = self.chains()?;
        Ok(Statement::Logic {
            premise,
            logic,
            conclusion,
            span,
        })
    }

    fn finish(&self) -> PResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(Tok::RParen) => self.error("unmatched `)`", self.span_here()),
            Some(Tok::Num(_)) => self.error(
                "a number cannot follow here without an operator (write `*`)",
                self.span_here(),
            ),
            Some(t) => self.error(format!("unexpected {}", describe(t)), self.span_here()),
        }
    }
}

fn parser<'a>(
    text: &str,
    names: &'a dyn Names,
    bound: &[String],
    syntax: Syntax,
) -> PResult<Parser<'a>> {
    control_character(text)?;
    let latex = match syntax {
        Syntax::Latex => true,
        Syntax::Plain => false,
        Syntax::Auto => latex::looks_like_latex(text),
    };
    let toks = if latex {
        latex::tokens(text, names, bound)?
    } else {
        lex(text).map_err(|e| latex::hint_plain(text, e))?
    };
    Ok(Parser {
        toks,
        pos: 0,
        names,
        bound: bound.to_vec(),
        depth: 0,
        abs_depth: 0,
        norm_depth: 0,
        text_len: text.len(),
        renames: Vec::new(),
        notes: Vec::new(),
    })
}

/// Parses a `show` text: a relation chain, or an implication or equivalence.
pub fn parse_statement(text: &str, names: &dyn Names) -> Result<Statement, ParseError> {
    parse_statement_as(text, names, Syntax::Auto).map(|(s, _)| s)
}

/// [`parse_statement`] in a chosen syntax; also returns the notes for the
/// report (sum indices that shadow a declared name).
pub fn parse_statement_as(
    text: &str,
    names: &dyn Names,
    syntax: Syntax,
) -> Result<(Statement, Vec<String>), ParseError> {
    let mut p = parser(text, names, &[], syntax)?;
    let s = p.statement()?;
    p.finish()?;
    Ok((s, p.notes))
}

/// Parses one expression; `bound` names are in scope as values (a definition's parameters).
pub fn parse_expr(text: &str, names: &dyn Names, bound: &[String]) -> Result<Expr, ParseError> {
    parse_expr_as(text, names, bound, Syntax::Auto)
}

/// [`parse_expr`] in a chosen syntax.
pub fn parse_expr_as(
    text: &str,
    names: &dyn Names,
    bound: &[String],
    syntax: Syntax,
) -> Result<Expr, ParseError> {
    let mut p = parser(text, names, bound, syntax)?;
    let e = p.expr()?;
    p.finish()?;
    Ok(e)
}

/// Parses a condition: comparisons, chained, joined with `and` (a `where`).
pub fn parse_condition(text: &str, names: &dyn Names) -> Result<Vec<Expr>, ParseError> {
    parse_condition_as(text, names, Syntax::Auto)
}

/// [`parse_condition`] in a chosen syntax.
pub fn parse_condition_as(
    text: &str,
    names: &dyn Names,
    syntax: Syntax,
) -> Result<Vec<Expr>, ParseError> {
    let mut p = parser(text, names, &[], syntax)?;
    let e = p.condition_or_expr()?;
    p.finish()?;
    let parts = match e.kind {
        ExprKind::And(parts) => parts,
        _ => vec![e],
    };
    for part in &parts {
        if !matches!(part.kind, ExprKind::Compare(..)) {
            return Err(ParseError {
                message: "expected a comparison such as `0 <= n <= 6`".into(),
                span: part.span,
            });
        }
        if let ExprKind::Compare(_, ops) = &part.kind {
            if ops.contains(&RelOp::Approx) {
                return Err(ParseError {
                    message: "`≈` is not a condition".into(),
                    span: part.span,
                });
            }
        }
    }
    Ok(parts)
}

/// Parses a definition's left side: `A` or `h(n)` or `R(l, k)`.
pub fn parse_definition_head(text: &str) -> Result<(String, Vec<String>), ParseError> {
    let toks = lex(text)?;
    let mut it = toks.into_iter();
    let bad = |span: Span| ParseError {
        message: "a definition's name must be a name, optionally with parameters: `h(n)`".into(),
        span,
    };
    let whole = Span {
        start: 0,
        end: text.len(),
    };
    let name = match it.next() {
        Some((Tok::Ident(n), _)) => n,
        Some((_, s)) => return Err(bad(s)),
        None => return Err(bad(whole)),
    };
    let mut params = Vec::new();
    match it.next() {
        None => return Ok((name, params)),
        Some((Tok::LParen, _)) => {}
        Some((_, s)) => return Err(bad(s)),
    }
    loop {
        match it.next() {
            Some((Tok::Ident(p), s)) => {
                if params.contains(&p) {
                    return Err(ParseError {
                        message: format!("parameter `{p}` appears twice"),
                        span: s,
                    });
                }
                params.push(p);
            }
            Some((_, s)) => return Err(bad(s)),
            None => return Err(bad(whole)),
        }
        match it.next() {
            Some((Tok::Comma, _)) => continue,
            Some((Tok::RParen, _)) => break,
            Some((_, s)) => return Err(bad(s)),
            None => return Err(bad(whole)),
        }
    }
    if let Some((_, s)) = it.next() {
        return Err(bad(s));
    }
    Ok((name, params))
}

/// True when a literal is a decimal with digits after the point (for `≈`).
pub fn decimal_places(text: &str, span: Span) -> Option<usize> {
    let piece = text.get(span.start..span.end)?.trim();
    let piece = piece.trim_start_matches(['-', '−', '+']).trim();
    if !piece.chars().all(|c| c.is_ascii_digit() || c == '.') || piece.is_empty() {
        return None;
    }
    Some(piece.split_once('.').map_or(0, |(_, f)| f.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct TestNames(BTreeMap<&'static str, NameClass>);

    impl Names for TestNames {
        fn class(&self, name: &str) -> Option<NameClass> {
            self.0.get(name).copied()
        }
        fn declared(&self) -> Vec<String> {
            self.0.keys().map(|s| s.to_string()).collect()
        }
    }

    fn names() -> TestNames {
        let mut m = BTreeMap::new();
        for v in ["x", "y", "a", "b", "c", "n", "d_in", "d_out", "W", "σ", "α"] {
            m.insert(v, NameClass::Value);
        }
        m.insert("h", NameClass::Function);
        TestNames(m)
    }

    fn show(text: &str) -> String {
        match parse_expr(text, &names(), &[]) {
            Ok(e) => e.to_string(),
            Err(e) => format!("error at {}..{}: {}", e.span.start, e.span.end, e.message),
        }
    }

    macro_rules! reads {
        ($($text:expr => $want:expr),* $(,)?) => {
            $(assert_eq!(show($text), $want, "reading {:?}", $text);)*
        };
    }

    #[test]
    fn precedence_and_juxtaposition() {
        reads! {
            "a/b c" => "(a / b) * c",
            "2c d_in" => "(2 * c) * d_in",
            "-x^2" => "-(x^2)",
            "2^-n" => "2^(-n)",
            "a^b^c" => "a^(b^c)",
            "x(y + 1)" => "x * (y + 1)",
            "h(n - 1)" => "h(n - 1)",
            "(a+b)(a-b)" => "(a + b) * (a - b)",
            "W W^T" => "W * W^T",
            "WᵀW" => "W^T * W",
            "x²" => "x^2",
            "√d_in" => "sqrt(d_in)",
            "2·3 − 1" => "(2 * 3) - 1",
            "½ x" => "0.5 * x",
            "0.49609375" => "0.49609375",
            "|x - y|" => "abs(x - y)",
            "‖x‖" => "norm2(x)",
            "⌊x/2⌋ + 1" => "floor(x / 2) + 1",
            "σ α" => "σ * α",
        }
    }

    #[test]
    fn errors_point_at_the_problem() {
        reads! {
            "x +" => "error at 3..3: expected an expression, found the end of the text",
            "xy" => "error at 0..2: unknown name `xy`; did you mean `x y`?",
            "zz" => "error at 0..2: unknown name `zz`",
            "(x" => "error at 2..2: expected `)`, found the end of the text",
            "x 2" => "error at 2..3: a number cannot follow here without an operator (write `*`)",
            "[[1, 2], [3]]" => "error at 9..12: ragged matrix literal: row 2 has 1 entries but row 1 has 2",
            "sum(x, 1, n, x)" => "sum(x₁, 1, n, x₁)",
            "sum(2, 1, n, x)" => "error at 4..5: the first argument of `sum` must be an index name",
            "x $ y" => "error at 2..3: unexpected character `$`",
        }
    }

    #[test]
    fn sums_bind_their_index() {
        reads! { "sum(k, 0, n, (1/2)^k)" => "sum(k, 0, n, (1 / 2)^k)" }
        assert!(show("k + sum(k, 0, n, k)").starts_with("error"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}x{}", "(".repeat(5000), ")".repeat(5000));
        assert!(show(&text).contains("nested more than"));
        let minus = format!("{}x", "-".repeat(5000));
        assert!(show(&minus).contains("nested more than"));
        let pow = format!("x{}", "^x".repeat(5000));
        assert!(show(&pow).contains("nested more than"));
    }

    #[test]
    fn statements_and_conditions() {
        let s = parse_statement("a = b <= c", &names()).unwrap();
        assert!(matches!(s, Statement::Chain(ref c) if c.terms.len() == 3));
        let s = parse_statement("c^2 d_in = 1 => c = 1/sqrt(d_in)", &names()).unwrap();
        assert!(matches!(
            s,
            Statement::Logic {
                logic: Logic::Implies,
                ..
            }
        ));
        assert!(parse_statement("a <= b >= c", &names()).is_err());
        assert!(parse_statement("a + b", &names()).is_err());
        let c = parse_condition("0 <= n <= 6 and x != 0", &names()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            parse_definition_head("h(n)").unwrap(),
            ("h".to_string(), vec!["n".to_string()])
        );
        assert!(parse_definition_head("h(n").is_err());
    }
}
