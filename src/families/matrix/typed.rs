//! Typing: a claim's expression → a tree whose every node knows whether it
//! is a scalar or a matrix of some shape. Every product, sum, power and
//! transpose is size-checked here; a mismatch is a located error naming the
//! sub-expression and both sizes. Scalar pieces that mention no matrix stay
//! plain expressions for the scalar engine.

use super::size::{Dim, Shape, SizePoly, Sizes};
use crate::resolve::{Context, Kind};
use crate::syntax::builtins::Belongs;
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, Span};

/// The budget [`Budgets::matrix_depth`](crate::config::Budgets::matrix_depth).
pub(crate) const MATRIX_DEPTH: usize = crate::config::Budgets::DEFAULT.matrix_depth;
/// The budget [`Budgets::matrix_power`](crate::config::Budgets::matrix_power).
pub(crate) const MATRIX_POWER: u32 = crate::config::Budgets::DEFAULT.matrix_power;

/// Scalar functions that may be applied to scalars computed from matrices.
/// Scalar built-ins allowed in matrix claims (`sign` also entrywise on a matrix).
pub(super) const SCALAR_FUNCTIONS: &[Builtin] = &[
    Builtin::Sqrt,
    Builtin::Abs,
    Builtin::Sign,
    Builtin::Floor,
    Builtin::Ceil,
    Builtin::Exp,
    Builtin::Log,
    Builtin::Min,
    Builtin::Max,
];

/// A typed node.
#[derive(Clone, Debug)]
pub(crate) struct T {
    /// What it is.
    pub(crate) kind: TKind,
    /// Its shape; `None` for a scalar.
    pub(crate) shape: Option<Shape>,
    /// Where it was written.
    pub(crate) span: Span,
}

/// The node kinds of a typed matrix expression.
#[derive(Clone, Debug)]
pub(crate) enum TKind {
    /// A scalar expression that mentions no matrix.
    Scalar(Expr),
    /// A declared matrix (or vector).
    Symbol(String),
    /// The identity, of the size its context needs.
    Identity,
    /// A matrix literal (entries are scalar expressions).
    Literal(Vec<Vec<Expr>>),
    /// A `[define]` name whose body is a matrix expression.
    Defined(String, Box<T>),
    /// A 1 × 1 matrix used as a scalar.
    AsScalar(Box<T>),
    /// `-a`.
    Neg(Box<T>),
    /// `a + b`.
    Add(Box<T>, Box<T>),
    /// `a - b`.
    Sub(Box<T>, Box<T>),
    /// `a b`: scalar or matrix product (the shapes say which).
    Mul(Box<T>, Box<T>),
    /// `a / s`, `s` a scalar.
    Div(Box<T>, Box<T>),
    /// `a ^ k`: a scalar power, or a literal power of a square matrix.
    Pow(Box<T>, Box<T>),
    /// `aᵀ`.
    Transpose(Box<T>),
    /// A built-in applied to typed arguments.
    Call(Builtin, Vec<T>),
}

/// Why an expression cannot be typed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TypeError {
    /// The claim is malformed here.
    Error(Span, String),
    /// Outside what the matrix engine handles.
    Unsupported(String),
}

type R<T> = Result<T, TypeError>;

/// Does `e` (or a definition it uses) mention a matrix, the identity, a
/// matrix literal or a matrix built-in?
pub(crate) fn mentions_matrices(e: &Expr, ctx: &Context) -> bool {
    mentions(e, ctx, true)
}

fn mentions(e: &Expr, ctx: &Context, literals: bool) -> bool {
    let mut found = false;
    let mut seen: Vec<String> = Vec::new();
    let mut stack = vec![e.clone()];
    while let Some(x) = stack.pop() {
        if found || seen.len() > 10_000 {
            break;
        }
        x.walk(&mut |n| match &n.kind {
            ExprKind::Matrix(_) if literals => found = true,
            ExprKind::Builtin { op, .. } if op.belongs() == Belongs::Matrix => found = true,
            ExprKind::Name(name) | ExprKind::Call { name, .. } => {
                match ctx.symbols.get(name).map(|s| &s.kind) {
                    Some(Kind::Matrix(..)) | Some(Kind::Identity) => found = true,
                    Some(_) => {}
                    None => {
                        if let Some(d) = ctx.definitions.get(name) {
                            if !seen.contains(name) {
                                seen.push(name.clone());
                                stack.push(d.body.clone());
                            }
                        }
                    }
                }
            }
            _ => {}
        });
    }
    found
}

/// Types expressions of one step, sharing one size substitution.
pub(crate) struct Typer<'a> {
    ctx: &'a Context,
    /// The sizes found so far (identity sizes are unified here).
    pub(crate) sizes: Sizes,
    /// Matrix symbols a hypothesis `det(A) != 0` declares invertible.
    pub(crate) invertible: Vec<String>,
}

fn err<X>(span: Span, message: impl Into<String>) -> R<X> {
    Err(TypeError::Error(span, message.into()))
}

impl<'a> Typer<'a> {
    /// A typer for the declarations of `ctx`.
    pub(crate) fn new(ctx: &'a Context) -> Typer<'a> {
        Typer {
            ctx,
            sizes: Sizes::default(),
            invertible: Vec::new(),
        }
    }

    /// `inv(a)`: `a` square, and a bare symbol declared invertible (a kind
    /// or a hypothesis `det(A) != 0`); the inverse of a compound expression
    /// is read where it exists.
    fn inverse(&mut self, a: T, span: Span, written: &str) -> R<T> {
        let Some(s) = a.shape.clone() else {
            return err(
                span,
                format!("`{written}` is the inverse of a scalar; write `1/x` for scalars"),
            );
        };
        if !self.sizes.unify(&s.rows, &s.cols) {
            return err(
                span,
                format!(
                    "`{written}` is the inverse of a {} matrix, which is not square",
                    self.sizes.show_shape(&s)
                ),
            );
        }
        let mut base = &a;
        while let TKind::Transpose(x) = &base.kind {
            base = x;
        }
        if let TKind::Symbol(n) = &base.kind {
            let declared = self
                .ctx
                .symbols
                .get(n)
                .is_some_and(|x| x.structure.invertible());
            if !declared && !self.invertible.contains(n) {
                return err(
                    span,
                    format!(
                        "`{written}` needs `{n}` to be invertible: declare it `invertible matrix(n)` \
                         (or `orthogonal`, `positive definite`), or add `given = [\"det({n}) != 0\"]`"
                    ),
                );
            }
        }
        Ok(T {
            kind: TKind::Call(Builtin::Inv, vec![a]),
            shape: Some(s),
            span,
        })
    }

    fn size(&self, e: &Expr, name: &str) -> R<Dim> {
        match SizePoly::from_expr(e) {
            Some(s) => Ok(Dim::Size(s)),
            None => Err(TypeError::Unsupported(format!(
                "the size `{e}` of `{name}` is not a polynomial in integer symbols"
            ))),
        }
    }

    /// Types one expression.
    pub(crate) fn typed(&mut self, e: &Expr) -> R<T> {
        self.node(e, 0)
    }

    /// Makes a 1 × 1 matrix usable as a scalar (other values unchanged).
    pub(crate) fn scalar_view(&mut self, t: T) -> R<T> {
        match &t.shape {
            None => Ok(t),
            Some(s) => {
                let s = s.clone();
                let one = Dim::Size(SizePoly::one());
                if self.sizes.unify(&s.rows, &one) && self.sizes.unify(&s.cols, &one) {
                    let span = t.span;
                    Ok(T {
                        kind: TKind::AsScalar(Box::new(t)),
                        shape: None,
                        span,
                    })
                } else {
                    err(
                        t.span,
                        format!(
                            "`{}` is a {} matrix where a scalar is needed",
                            show_span_expr(&t),
                            self.sizes.show_shape(&s)
                        ),
                    )
                }
            }
        }
    }

    fn node(&mut self, e: &Expr, depth: usize) -> R<T> {
        if depth > MATRIX_DEPTH {
            return Err(TypeError::Unsupported(
                "the matrix expression nests too deeply".into(),
            ));
        }
        let span = e.span;
        let scalar = |kind| T {
            kind,
            shape: None,
            span,
        };
        if !mentions_matrices(e, self.ctx) {
            return Ok(scalar(TKind::Scalar(e.clone())));
        }
        match &e.kind {
            ExprKind::Name(n) => {
                if let Some(s) = self.ctx.symbols.get(n) {
                    return match &s.kind {
                        Kind::Matrix(r, c) => Ok(T {
                            kind: TKind::Symbol(n.clone()),
                            shape: Some(Shape {
                                rows: self.size(r, n)?,
                                cols: self.size(c, n)?,
                            }),
                            span,
                        }),
                        Kind::Identity => {
                            let d = self.sizes.fresh();
                            Ok(T {
                                kind: TKind::Identity,
                                shape: Some(Shape {
                                    rows: d.clone(),
                                    cols: d,
                                }),
                                span,
                            })
                        }
                        _ => Err(TypeError::Unsupported(format!(
                            "`{n}` cannot be used in a matrix expression"
                        ))),
                    };
                }
                match self.ctx.definitions.get(n) {
                    Some(d) if d.params.is_empty() => {
                        let body = d.body.clone();
                        let inner = self.node(&body, depth + 1)?;
                        let shape = inner.shape.clone();
                        Ok(T {
                            kind: TKind::Defined(n.clone(), Box::new(inner)),
                            shape,
                            span,
                        })
                    }
                    _ => Err(TypeError::Unsupported(format!(
                        "`{n}` cannot be used in a matrix expression"
                    ))),
                }
            }
            ExprKind::Matrix(rows) => {
                let cols = rows.first().map_or(0, |r| r.len());
                if rows.is_empty() || cols == 0 || rows.iter().any(|r| r.len() != cols) {
                    return err(
                        span,
                        "a matrix literal needs rows of one common, nonzero length",
                    );
                }
                for x in rows.iter().flatten() {
                    if mentions_matrices(x, self.ctx) {
                        return err(x.span, "a matrix literal's entries must be scalars");
                    }
                }
                Ok(T {
                    kind: TKind::Literal(rows.clone()),
                    shape: Some(Shape {
                        rows: Dim::Size(SizePoly::constant(crate::syntax::expr::rat(
                            rows.len() as i64
                        ))),
                        cols: Dim::Size(SizePoly::constant(crate::syntax::expr::rat(cols as i64))),
                    }),
                    span,
                })
            }
            ExprKind::Neg(a) => {
                let a = self.node(a, depth + 1)?;
                let shape = a.shape.clone();
                Ok(T {
                    kind: TKind::Neg(Box::new(a)),
                    shape,
                    span,
                })
            }
            ExprKind::Transpose(a) => {
                let a = self.node(a, depth + 1)?;
                let shape = a.shape.as_ref().map(|s| Shape {
                    rows: s.cols.clone(),
                    cols: s.rows.clone(),
                });
                Ok(T {
                    kind: TKind::Transpose(Box::new(a)),
                    shape,
                    span,
                })
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.node(a, depth + 1)?;
                let y = self.node(b, depth + 1)?;
                self.binary(*op, x, y, e)
            }
            ExprKind::Call { name, .. } => Err(TypeError::Unsupported(format!(
                "`{name}(...)` applied to matrices"
            ))),
            ExprKind::Builtin { op, args, options } => {
                let (op, name) = (*op, op.name());
                if !options.is_empty() {
                    return Err(TypeError::Unsupported(format!(
                        "`{name}` with options in a matrix expression"
                    )));
                }
                if matches!(op, Builtin::Grad | Builtin::Hessian | Builtin::Jacobian) {
                    return self.derivative(op, args, span, depth);
                }
                let is_matrix_fn = op.belongs() == Belongs::Matrix;
                if !is_matrix_fn && !SCALAR_FUNCTIONS.contains(&op) {
                    return Err(TypeError::Unsupported(format!(
                        "`{name}` is not supported in matrix claims"
                    )));
                }
                let mut typed = Vec::new();
                for a in args {
                    typed.push(self.node(a, depth + 1)?);
                }
                if is_matrix_fn {
                    let [arg] = typed.as_slice() else {
                        return err(span, format!("`{name}` takes one argument"));
                    };
                    let arg = arg.clone();
                    match (&arg.shape, op) {
                        (_, Builtin::Inv) => return self.inverse(arg, span, &e.to_string()),
                        (Some(s), Builtin::Diag) => {
                            let s = s.clone();
                            if !self.sizes.unify(&s.cols, &Dim::Size(SizePoly::one())) {
                                return err(
                                    arg.span,
                                    format!(
                                        "`diag` needs a column vector, and `{}` is {}",
                                        a_text(args),
                                        self.sizes.show_shape(&s)
                                    ),
                                );
                            }
                            return Ok(T {
                                kind: TKind::Call(op, vec![arg]),
                                shape: Some(Shape {
                                    rows: s.rows.clone(),
                                    cols: s.rows,
                                }),
                                span,
                            });
                        }
                        (Some(s), Builtin::Det) => {
                            let s = s.clone();
                            if !self.sizes.unify(&s.rows, &s.cols) {
                                return err(
                                    arg.span,
                                    format!(
                                        "`det` needs a square matrix, and `{}` is {}",
                                        a_text(args),
                                        self.sizes.show_shape(&s)
                                    ),
                                );
                            }
                        }
                        (None, Builtin::Cost) => {}
                        (None, _) => {
                            return err(
                                arg.span,
                                format!(
                                    "`{name}` needs a matrix, and `{}` is a scalar",
                                    a_text(args)
                                ),
                            )
                        }
                        (Some(s), Builtin::Trace) => {
                            let s = s.clone();
                            if !self.sizes.unify(&s.rows, &s.cols) {
                                return err(
                                    arg.span,
                                    format!(
                                        "`trace` needs a square matrix, and `{}` is {}",
                                        a_text(args),
                                        self.sizes.show_shape(&s)
                                    ),
                                );
                            }
                        }
                        (Some(s), Builtin::Rms) => {
                            let s = s.clone();
                            if !self.sizes.unify(&s.cols, &Dim::Size(SizePoly::one())) {
                                return err(
                                    arg.span,
                                    format!(
                                        "`rms` needs a column vector, and `{}` is {}",
                                        a_text(args),
                                        self.sizes.show_shape(&s)
                                    ),
                                );
                            }
                        }
                        _ => {}
                    }
                    return Ok(scalar(TKind::Call(op, vec![arg])));
                }
                // Scalar functions: `sign` applies entrywise to a matrix; the others need scalars.
                if op == Builtin::Sign && typed.len() == 1 && typed[0].shape.is_some() {
                    let shape = typed[0].shape.clone();
                    return Ok(T {
                        kind: TKind::Call(op, typed),
                        shape,
                        span,
                    });
                }
                let mut scalars = Vec::new();
                for t in typed {
                    scalars.push(self.scalar_view(t)?);
                }
                Ok(scalar(TKind::Call(op, scalars)))
            }
            _ => Err(TypeError::Unsupported(format!(
                "`{e}` is not supported in matrix claims"
            ))),
        }
    }

    fn binary(&mut self, op: BinOp, x: T, y: T, e: &Expr) -> R<T> {
        let span = e.span;
        let node = |kind, shape| T { kind, shape, span };
        match op {
            BinOp::Add | BinOp::Sub => {
                let (x, y) = match (&x.shape, &y.shape) {
                    (Some(_), None) => (self.scalar_view_for_sum(x, &y, e)?, y),
                    (None, Some(_)) => {
                        let y2 = self.scalar_view_for_sum(y, &x, e)?;
                        (x, y2)
                    }
                    _ => (x, y),
                };
                let shape = match (&x.shape, &y.shape) {
                    (Some(a), Some(b)) => {
                        let (a, b) = (a.clone(), b.clone());
                        if !self.sizes.unify(&a.rows, &b.rows)
                            || !self.sizes.unify(&a.cols, &b.cols)
                        {
                            return err(
                                span,
                                format!(
                                    "size mismatch in `{e}`: cannot {} a {} matrix and a {} matrix",
                                    if op == BinOp::Add { "add" } else { "subtract" },
                                    self.sizes.show_shape(&a),
                                    self.sizes.show_shape(&b)
                                ),
                            );
                        }
                        Some(a)
                    }
                    _ => None,
                };
                let kind = if op == BinOp::Add {
                    TKind::Add(Box::new(x), Box::new(y))
                } else {
                    TKind::Sub(Box::new(x), Box::new(y))
                };
                Ok(node(kind, shape))
            }
            BinOp::Mul => match (x.shape.clone(), y.shape.clone()) {
                (Some(a), Some(b)) => {
                    if self.sizes.unify(&a.cols, &b.rows) {
                        let shape = Shape {
                            rows: a.rows,
                            cols: b.cols,
                        };
                        return Ok(node(TKind::Mul(Box::new(x), Box::new(y)), Some(shape)));
                    }
                    // A 1 × 1 factor scales the other.
                    if self.sizes.is_one_by_one(&a) {
                        let x = self.scalar_view(x)?;
                        return Ok(node(TKind::Mul(Box::new(x), Box::new(y)), Some(b)));
                    }
                    if self.sizes.is_one_by_one(&b) {
                        let y = self.scalar_view(y)?;
                        return Ok(node(TKind::Mul(Box::new(x), Box::new(y)), Some(a)));
                    }
                    err(
                        span,
                        format!(
                            "size mismatch in `{e}`: a {} matrix times a {} matrix ({} columns against {} rows)",
                            self.sizes.show_shape(&a),
                            self.sizes.show_shape(&b),
                            self.sizes.show(&a.cols),
                            self.sizes.show(&b.rows)
                        ),
                    )
                }
                (s, None) | (None, s) => Ok(node(TKind::Mul(Box::new(x), Box::new(y)), s)),
            },
            BinOp::Div => {
                let y = match y.shape {
                    Some(_) => self.scalar_view(y).map_err(|_| {
                        TypeError::Error(
                            span,
                            format!("`{e}` divides by a matrix; write a scalar divisor"),
                        )
                    })?,
                    None => y,
                };
                let shape = x.shape.clone();
                Ok(node(TKind::Div(Box::new(x), Box::new(y)), shape))
            }
            BinOp::Pow => {
                let y = self.scalar_view(y)?;
                match x.shape.clone() {
                    None => Ok(node(TKind::Pow(Box::new(x), Box::new(y)), None)),
                    Some(s) => {
                        let k = match &y.kind {
                            TKind::Scalar(k) => crate::symbolic::normal::fold_rational(k),
                            _ => None,
                        };
                        if k.as_ref() == Some(&crate::syntax::expr::rat(-1)) {
                            return self.inverse(x, span, &e.to_string());
                        }
                        let ok = k.as_ref().is_some_and(|k| {
                            k.is_integer()
                                && *k >= crate::syntax::expr::rat(0)
                                && *k <= crate::syntax::expr::rat(MATRIX_POWER as i64)
                        });
                        if !ok {
                            return Err(TypeError::Unsupported(format!(
                                "`{e}`: only literal powers 0 to {MATRIX_POWER} of matrices are supported"
                            )));
                        }
                        if !self.sizes.unify(&s.rows, &s.cols) {
                            return err(
                                span,
                                format!(
                                    "`{e}` is a power of a {} matrix, which is not square",
                                    self.sizes.show_shape(&s)
                                ),
                            );
                        }
                        Ok(node(TKind::Pow(Box::new(x), Box::new(y)), Some(s)))
                    }
                }
            }
        }
    }

    /// `grad(f, x)`, `hessian(f, x)`, `jacobian(F, x)`: `x` a declared
    /// vector or matrix symbol (a vector for `hessian` and `jacobian`), `f`
    /// a scalar (a 1 × 1 matrix counts), `F` a column vector. The result
    /// has the shape of `x`, n × n, or m × n.
    fn derivative(&mut self, op: Builtin, args: &[Expr], span: Span, depth: usize) -> R<T> {
        let name = op.name();
        let [f, x] = args else {
            return err(
                span,
                format!("`{name}` takes two arguments: `{name}(f, x)`"),
            );
        };
        let symbol = match &x.kind {
            ExprKind::Name(n) => self.ctx.symbols.get(n).map(|s| (n.clone(), &s.kind)),
            _ => None,
        };
        let xt = match symbol {
            Some((_, Kind::Matrix(..))) => self.node(x, depth + 1)?,
            Some((n, Kind::Scalar(_))) => {
                return err(
                    x.span,
                    format!(
                        "`{name}` differentiates by a vector or matrix symbol, and `{n}` is a scalar: write `diff({f}, {n})`"
                    ),
                )
            }
            _ => {
                return err(
                    x.span,
                    format!(
                        "`{name}` differentiates by a declared vector or matrix symbol, and `{x}` is not one"
                    ),
                )
            }
        };
        let xs = xt.shape.clone().expect("a matrix symbol has a shape");
        let one = Dim::Size(SizePoly::one());
        let x_is_vector = self.sizes.known(&xs.cols).is_some_and(|c| c.is_one());
        if op != Builtin::Grad && !x_is_vector {
            return err(
                x.span,
                format!(
                    "`{name}` differentiates by a vector, and `{x}` is a {} matrix{}",
                    self.sizes.show_shape(&xs),
                    if op == Builtin::Hessian {
                        " (the Hessian by a matrix is not supported; use `grad`)"
                    } else {
                        ""
                    }
                ),
            );
        }
        let ft = self.node(f, depth + 1)?;
        if op == Builtin::Jacobian {
            // A 1 × 1 product (`xᵀ x`) is a scalar here too.
            let Some(fs) = ft.shape.clone().filter(|s| !self.sizes.is_one_by_one(s)) else {
                return err(
                    f.span,
                    format!("`jacobian` needs a vector-valued function, and `{f}` is a scalar: use `grad({f}, {x})`"),
                );
            };
            if !self.sizes.unify(&fs.cols, &one) {
                return err(
                    f.span,
                    format!(
                        "`jacobian` needs a column vector, and `{f}` is {}",
                        self.sizes.show_shape(&fs)
                    ),
                );
            }
            let shape = Shape {
                rows: fs.rows.clone(),
                cols: xs.rows.clone(),
            };
            return Ok(T {
                kind: TKind::Call(op, vec![ft, xt]),
                shape: Some(shape),
                span,
            });
        }
        let ft = match &ft.shape {
            Some(fs) if !self.sizes.is_one_by_one(fs) => {
                let fs = fs.clone();
                return err(
                    f.span,
                    format!(
                        "`{name}` needs a scalar function, and `{f}` is a {} matrix{}",
                        self.sizes.show_shape(&fs),
                        if x_is_vector {
                            "; use `jacobian` for a vector-valued one"
                        } else {
                            ""
                        }
                    ),
                );
            }
            _ => self.scalar_view(ft)?,
        };
        let shape = if op == Builtin::Grad {
            xs
        } else {
            Shape {
                rows: xs.rows.clone(),
                cols: xs.rows,
            }
        };
        Ok(T {
            kind: TKind::Call(op, vec![ft, xt]),
            shape: Some(shape),
            span,
        })
    }

    fn scalar_view_for_sum(&mut self, m: T, other: &T, e: &Expr) -> R<T> {
        let shape = m.shape.clone().expect("a matrix");
        self.scalar_view(m).map_err(|_| {
            TypeError::Error(
                e.span,
                format!(
                    "size mismatch in `{e}`: cannot add a {} matrix and the scalar `{}`",
                    self.sizes.show_shape(&shape),
                    show_span_expr(other)
                ),
            )
        })
    }
}

fn a_text(args: &[Expr]) -> String {
    args.first().map(|a| a.to_string()).unwrap_or_default()
}

/// A short text for a typed node in messages.
pub(crate) fn show_span_expr(t: &T) -> String {
    match &t.kind {
        TKind::Scalar(e) => e.to_string(),
        TKind::Symbol(n) | TKind::Defined(n, _) => n.clone(),
        TKind::Identity => "I".into(),
        _ => "this expression".into(),
    }
}
