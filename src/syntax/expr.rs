//! Expressions: the typed syntax tree of one claim's text, with byte spans
//! into that text so every diagnostic can point at the offending piece.

pub use crate::syntax::builtins::Builtin;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::fmt;

/// A byte range `[start, end)` inside one expression string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte of the piece.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

impl Span {
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One expression node with the span of the text it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Binary operators of the expression language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`, `·`, `×` or juxtaposition
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// Comparison relations of `show`, `where`, `given` and `if`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelOp {
    /// `=`
    Eq,
    /// `!=`, `≠`
    Ne,
    /// `<=`, `≤`
    Le,
    /// `<`
    Lt,
    /// `>=`, `≥`
    Ge,
    /// `>`
    Gt,
    /// `≈`: equal to the precision written
    Approx,
}

impl RelOp {
    /// The symbol used in reports.
    pub fn symbol(self) -> &'static str {
        match self {
            RelOp::Eq => "=",
            RelOp::Ne => "!=",
            RelOp::Le => "<=",
            RelOp::Lt => "<",
            RelOp::Ge => ">=",
            RelOp::Gt => ">",
            RelOp::Approx => "≈",
        }
    }

    /// The relation with its sides swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> RelOp {
        match self {
            RelOp::Le => RelOp::Ge,
            RelOp::Lt => RelOp::Gt,
            RelOp::Ge => RelOp::Le,
            RelOp::Gt => RelOp::Lt,
            other => other,
        }
    }
}

/// The node kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An exact rational literal (`0.25` is 1/4).
    Number(BigRational),
    /// A name: a declared symbol, a definition without arguments, or a bound index.
    Name(String),
    /// A string literal, only meaningful as an option value (`mode = "circular"`).
    Str(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// Postfix transpose.
    Transpose(Box<Expr>),
    /// A call of a built-in function.
    Builtin {
        /// Which built-in.
        op: Builtin,
        /// Positional arguments.
        args: Vec<Expr>,
        /// Named options such as `pad = 1`, in the order written.
        options: Vec<(String, Expr)>,
    },
    /// A call of a defined function, a family member or an array entry.
    Call {
        /// The function's name.
        name: String,
        /// Positional arguments.
        args: Vec<Expr>,
    },
    /// `E[...]`: an expectation.
    Expect(Box<Expr>),
    /// A matrix literal `[[1, 2], [3, 4]]`; a vector literal `[1, 2]` is a single column.
    Matrix(Vec<Vec<Expr>>),
    /// A comparison chain used as a condition (`l = 1` inside `if`).
    Compare(Vec<Expr>, Vec<RelOp>),
    /// Conditions joined with `and`.
    And(Vec<Expr>),
}

impl Expr {
    /// A node with the given kind and span.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// An integer literal with an empty span (for rewritten expressions).
    pub fn int(n: i64) -> Expr {
        Expr::new(
            ExprKind::Number(BigRational::from_integer(BigInt::from(n))),
            Span::default(),
        )
    }

    /// A rational literal with an empty span.
    pub fn rational(q: BigRational) -> Expr {
        Expr::new(ExprKind::Number(q), Span::default())
    }

    /// A name with an empty span.
    pub fn name(n: &str) -> Expr {
        Expr::new(ExprKind::Name(n.to_string()), Span::default())
    }

    /// A binary node spanning both operands.
    pub fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
        let span = a.span.to(b.span);
        Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b)), span)
    }

    /// A call of a defined function, family or array (an empty span).
    pub fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::new(
            ExprKind::Call {
                name: name.to_string(),
                args,
            },
            Span::default(),
        )
    }

    /// A call of a built-in with positional arguments only (an empty span).
    pub fn builtin(op: Builtin, args: Vec<Expr>) -> Expr {
        Expr::new(
            ExprKind::Builtin {
                op,
                args,
                options: Vec::new(),
            },
            Span::default(),
        )
    }

    /// The built-in called here, with its arguments, if this is a built-in call.
    pub fn as_builtin(&self) -> Option<(Builtin, &[Expr])> {
        match &self.kind {
            ExprKind::Builtin { op, args, .. } => Some((*op, args)),
            _ => None,
        }
    }

    /// The name of the function called or named here: a defined function,
    /// family or array (`Call`), a built-in, or a plain name.
    pub fn head_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(n) | ExprKind::Call { name: n, .. } => Some(n),
            ExprKind::Builtin { op, .. } => Some(op.name()),
            _ => None,
        }
    }

    /// The literal's value, if this node is a number.
    pub fn as_number(&self) -> Option<&BigRational> {
        match &self.kind {
            ExprKind::Number(q) => Some(q),
            _ => None,
        }
    }

    /// Visits every node, parents before children.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Number(_) | ExprKind::Name(_) | ExprKind::Str(_) => {}
            ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Expect(a) => a.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::Builtin { args, options, .. } => {
                for a in args {
                    a.walk(f);
                }
                for (_, v) in options {
                    v.walk(f);
                }
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    a.walk(f);
                }
            }
            ExprKind::Matrix(rows) => {
                for r in rows {
                    for e in r {
                        e.walk(f);
                    }
                }
            }
            ExprKind::Compare(items, _) | ExprKind::And(items) => {
                for e in items {
                    e.walk(f);
                }
            }
        }
    }

    /// The depth of the tree (a leaf has depth 1).
    pub fn depth(&self) -> usize {
        let mut children = 0;
        match &self.kind {
            ExprKind::Number(_) | ExprKind::Name(_) | ExprKind::Str(_) => {}
            ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Expect(a) => children = a.depth(),
            ExprKind::Binary(_, a, b) => children = a.depth().max(b.depth()),
            ExprKind::Builtin { args, options, .. } => {
                for a in args.iter().chain(options.iter().map(|(_, v)| v)) {
                    children = children.max(a.depth());
                }
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    children = children.max(a.depth());
                }
            }
            ExprKind::Matrix(rows) => {
                for e in rows.iter().flatten() {
                    children = children.max(e.depth());
                }
            }
            ExprKind::Compare(items, _) | ExprKind::And(items) => {
                for e in items {
                    children = children.max(e.depth());
                }
            }
        }
        children + 1
    }
}

/// Formats a rational the way reports show exact values: `3`, `-127/128`.
pub fn format_rational(q: &BigRational) -> String {
    if q.is_integer() {
        q.numer().to_string()
    } else {
        format!("{}/{}", q.numer(), q.denom())
    }
}

/// The finite decimal form of a rational whose denominator has no prime
/// factors but 2 and 5 (`0.4961`), or `None`.
pub fn format_decimal(q: &BigRational) -> Option<String> {
    let mut d = q.denom().clone();
    let (two, five) = (BigInt::from(2), BigInt::from(5));
    let mut places = 0usize;
    let (mut twos, mut fives) = (0usize, 0usize);
    while (&d % &two).is_zero() {
        d /= &two;
        twos += 1;
    }
    while (&d % &five).is_zero() {
        d /= &five;
        fives += 1;
    }
    if !d.is_one() {
        return None;
    }
    places = places.max(twos).max(fives);
    let scaled =
        (q * BigRational::from_integer(num_traits::pow(BigInt::from(10), places))).to_integer();
    let digits = scaled.abs().to_string();
    let digits = format!("{:0>width$}", digits, width = places + 1);
    let (int_part, frac) = digits.split_at(digits.len() - places);
    let sign = if q.is_negative() { "-" } else { "" };
    Some(if places == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    })
}

fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Compare(..) | ExprKind::And(_) => 0,
        ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) => 1,
        ExprKind::Binary(BinOp::Mul | BinOp::Div, ..) => 2,
        ExprKind::Neg(_) => 3,
        ExprKind::Number(q) if q.is_negative() => 3,
        ExprKind::Number(q) if format_decimal(q).is_none() => 2,
        ExprKind::Binary(BinOp::Pow, ..) => 4,
        _ => 5,
    }
}

/// Writes `name(args, key = value, ...)`.
fn write_call(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    args: &[Expr],
    options: &[(String, Expr)],
) -> fmt::Result {
    write!(f, "{name}(")?;
    let mut first = true;
    for a in args {
        if !first {
            write!(f, ", ")?;
        }
        first = false;
        write!(f, "{a}")?;
    }
    for (k, v) in options {
        if !first {
            write!(f, ", ")?;
        }
        first = false;
        write!(f, "{k} = {v}")?;
    }
    write!(f, ")")
}

/// Writes `e`, wrapping it in parentheses unless it is atomic.
fn write_grouped(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    if precedence(e) >= 5 {
        write!(f, "{e}")
    } else {
        write!(f, "({e})")
    }
}

/// The fully parenthesized form used in reports: every operation that is
/// not atomic is wrapped, so a reader sees exactly how the text was read.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(q) => match format_decimal(q) {
                Some(d) => write!(f, "{d}"),
                None => write!(f, "{}", format_rational(q)),
            },
            ExprKind::Name(n) => write!(f, "{n}"),
            ExprKind::Str(s) => write!(f, "\"{s}\""),
            ExprKind::Neg(a) => {
                write!(f, "-")?;
                write_grouped(f, a)
            }
            ExprKind::Binary(op, a, b) => {
                let sym = match op {
                    BinOp::Add => " + ",
                    BinOp::Sub => " - ",
                    BinOp::Mul => " * ",
                    BinOp::Div => " / ",
                    BinOp::Pow => "^",
                };
                write_grouped(f, a)?;
                write!(f, "{sym}")?;
                write_grouped(f, b)
            }
            ExprKind::Transpose(a) => {
                write_grouped(f, a)?;
                write!(f, "^T")
            }
            ExprKind::Call { name, args } => write_call(f, name, args, &[]),
            ExprKind::Builtin { op, args, options }
                if op.is_constant() && args.is_empty() && options.is_empty() =>
            {
                f.write_str(op.name())
            }
            ExprKind::Builtin { op, args, options } => write_call(f, op.name(), args, options),
            ExprKind::Expect(a) => write!(f, "E[{a}]"),
            ExprKind::Matrix(rows) => {
                write!(f, "[")?;
                for (i, r) in rows.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "[")?;
                    for (j, e) in r.iter().enumerate() {
                        if j > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{e}")?;
                    }
                    write!(f, "]")?;
                }
                write!(f, "]")
            }
            ExprKind::Compare(items, ops) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " {} ", ops[i - 1].symbol())?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            ExprKind::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " and ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

/// A relation chain `a = b <= c` as written in `show`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// The terms, at least two.
    pub terms: Vec<Expr>,
    /// The relations between neighbouring terms, with their spans.
    pub ops: Vec<(RelOp, Span)>,
}

/// Implication or equivalence between relations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logic {
    /// `=>`, `⇒`
    Implies,
    /// `<=>`, `⇔`
    Iff,
}

/// What a claim's `show` asserts.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// A relation chain; each neighbouring pair is a step.
    Chain(Chain),
    /// `A => B` or `A <=> B`, each side one or more relations joined with `and`.
    Logic {
        /// The hypotheses.
        premise: Vec<Chain>,
        /// Which connective.
        logic: Logic,
        /// The conclusions.
        conclusion: Vec<Chain>,
        /// Where the connective was written.
        span: Span,
    },
}

impl Statement {
    /// Calls `f` on every top-level expression of the statement.
    pub fn walk_exprs(&self, f: &mut dyn FnMut(&Expr)) {
        let chains: Vec<&Chain> = match self {
            Statement::Chain(c) => vec![c],
            Statement::Logic {
                premise,
                conclusion,
                ..
            } => premise.iter().chain(conclusion).collect(),
        };
        for c in chains {
            for t in &c.terms {
                f(t);
            }
        }
    }
}

/// Small integer helper used across the crate.
pub fn rat(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

/// True for the literal zero.
pub fn is_zero_literal(e: &Expr) -> bool {
    e.as_number().is_some_and(|q| q.is_zero())
}

/// True for the literal one.
pub fn is_one_literal(e: &Expr) -> bool {
    e.as_number().is_some_and(|q| q.is_one())
}

/// The built-ins defined through `exp` and `log` (`sigmoid`, `softplus`,
/// `sinh`, `cosh`, `tanh`, the constant `e`): their definition applied to
/// `args`, so that every engine decides them by the rules of `exp` and `log`.
/// `None` for every other built-in.
pub fn exp_form(
    op: Builtin,
    args: &[crate::syntax::expr::Expr],
) -> Option<crate::syntax::expr::Expr> {
    use crate::syntax::expr::{BinOp, Expr, ExprKind};
    let exp = |e: Expr| Expr::builtin(Builtin::Exp, vec![e]);
    let neg = |e: Expr| {
        let span = e.span;
        Expr::new(ExprKind::Neg(Box::new(e)), span)
    };
    let bin = Expr::binary;
    let x = || args[0].clone();
    Some(match op {
        Builtin::E => exp(Expr::int(1)),
        Builtin::Sigmoid => bin(
            BinOp::Div,
            Expr::int(1),
            bin(BinOp::Add, Expr::int(1), exp(neg(x()))),
        ),
        Builtin::Softplus => {
            Expr::builtin(Builtin::Log, vec![bin(BinOp::Add, Expr::int(1), exp(x()))])
        }
        Builtin::Sinh => bin(
            BinOp::Div,
            bin(BinOp::Sub, exp(x()), exp(neg(x()))),
            Expr::int(2),
        ),
        Builtin::Cosh => bin(
            BinOp::Div,
            bin(BinOp::Add, exp(x()), exp(neg(x()))),
            Expr::int(2),
        ),
        Builtin::Tanh => bin(
            BinOp::Div,
            bin(BinOp::Sub, exp(x()), exp(neg(x()))),
            bin(BinOp::Add, exp(x()), exp(neg(x()))),
        ),
        _ => return None,
    })
}
