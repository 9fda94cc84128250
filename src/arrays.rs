//! Concrete arrays: exact evaluation of array-valued expressions (matrix
//! literals, definitions of them, `+ - *` and transposes, and the layers of
//! [`crate::layers`]) and entry-by-entry comparison, so a wrong array is
//! refuted with every mismatching entry.

use crate::eval::{EvalError, Evaluator};
use crate::expr::{BinOp, Expr, ExprKind, Span};
use crate::layers::{self, Array, LayerError, PadMode};
use crate::real::Real;
use crate::resolve::{Context, Kind};
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use std::collections::BTreeMap;

/// Built-ins whose value is an array.
pub const ARRAY_FUNCTIONS: &[&str] = &[
    "conv1d",
    "conv2d",
    "correlate2d",
    "flip",
    "maxpool2d",
    "avgpool2d",
    "relu",
    "flatten",
    "gap",
    "roll",
    "rows",
    "cols",
    "numel",
    "ones",
    "zeros",
];

/// The largest size (rows or columns) an array built from a sampled size may
/// have; larger sample points are skipped, not errors. Default: 512.
pub const MAX_SIZE: usize = 512;

/// A value: a scalar or an exact array.
#[derive(Clone, Debug)]
pub enum Value {
    /// A scalar.
    Scalar(Real),
    /// An array.
    Array(Array),
}

/// Why an array expression has no value.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayIssue {
    /// The claim is malformed here (a size mismatch, a bad layer argument).
    Error(Span, String),
    /// Outside what the evaluator handles.
    Unsupported(String),
    /// A scalar part could not be evaluated.
    Scalar(EvalError),
}

type A<T> = Result<T, ArrayIssue>;

/// Does the expression (or a definition it uses) produce an array?
pub fn involves_arrays(e: &Expr, ctx: &Context) -> bool {
    let mut found = false;
    let mut seen: Vec<String> = Vec::new();
    let mut stack = vec![e.clone()];
    while let Some(x) = stack.pop() {
        x.walk(&mut |n| match &n.kind {
            ExprKind::Matrix(_) => found = true,
            ExprKind::Name(name) | ExprKind::Call { name, .. }
                if matches!(
                    ctx.symbols.get(name).map(|s| &s.kind),
                    Some(Kind::Array(..))
                ) =>
            {
                found = true
            }
            ExprKind::Call { name, .. }
                if ARRAY_FUNCTIONS.contains(&name.as_str()) && !ctx.symbols.contains_key(name) =>
            {
                found = true
            }
            ExprKind::Name(name) | ExprKind::Call { name, .. } => {
                if let Some(d) = ctx.definitions.get(name) {
                    if !seen.contains(name) {
                        seen.push(name.clone());
                        stack.push(d.body.clone());
                    }
                }
            }
            _ => {}
        });
    }
    found
}

fn layer_error(span: Span, e: LayerError) -> ArrayIssue {
    ArrayIssue::Error(span, format!("argument `{}`: {}", e.argument, e.message))
}

/// Evaluates array expressions of one file.
pub struct ArrayEval<'a> {
    ctx: &'a Context,
    scalars: Evaluator<'a>,
}

impl<'a> ArrayEval<'a> {
    /// An evaluator for the declarations and definitions of `ctx`.
    pub fn new(ctx: &'a Context) -> ArrayEval<'a> {
        ArrayEval {
            ctx,
            scalars: Evaluator::new(ctx),
        }
    }

    /// The same, with values for array symbols (sampled arrays).
    pub fn with_arrays(ctx: &'a Context, arrays: BTreeMap<String, Array>) -> ArrayEval<'a> {
        ArrayEval {
            ctx,
            scalars: Evaluator::new(ctx).with_arrays(arrays),
        }
    }

    fn scalar(&self, e: &Expr, point: &BTreeMap<String, Real>) -> A<Real> {
        self.scalars.eval(e, point).map_err(ArrayIssue::Scalar)
    }

    fn exact(&self, e: &Expr, point: &BTreeMap<String, Real>) -> A<BigRational> {
        match self.scalar(e, point)? {
            Real::Exact(q) => Ok(q),
            other => Err(ArrayIssue::Unsupported(format!(
                "the entry `{e}` is irrational ({}); arrays are compared exactly",
                other.display()
            ))),
        }
    }

    fn count(&self, e: &Expr, point: &BTreeMap<String, Real>, what: &str, least: i64) -> A<usize> {
        let q = self.exact(e, point)?;
        let n = if q.is_integer() {
            q.to_integer().to_i64()
        } else {
            None
        };
        match n {
            Some(n) if n >= least && n <= 1 << 20 => Ok(n as usize),
            _ => Err(ArrayIssue::Error(
                e.span,
                format!(
                    "argument `{what}` must be an integer of at least {least}, found {}",
                    crate::expr::format_rational(&q)
                ),
            )),
        }
    }

    /// The value of `e` at `point` (scalar symbols' values).
    pub fn value(&self, e: &Expr, point: &BTreeMap<String, Real>, depth: usize) -> A<Value> {
        if depth > 200 {
            return Err(ArrayIssue::Unsupported(
                "definitions nest too deeply".into(),
            ));
        }
        if !involves_arrays(e, self.ctx) {
            return Ok(Value::Scalar(self.scalar(e, point)?));
        }
        match &e.kind {
            ExprKind::Matrix(rows) => {
                let mut data = Vec::new();
                for row in rows {
                    let mut r = Vec::new();
                    for x in row {
                        // An entry may itself involve arrays (`gap(conv2d(...))`).
                        let q = match self.value(x, point, depth + 1)? {
                            Value::Scalar(Real::Exact(q)) => q,
                            Value::Scalar(other) => {
                                return Err(ArrayIssue::Unsupported(format!(
                                "the entry `{x}` is irrational ({}); arrays are compared exactly",
                                other.display()
                            )))
                            }
                            Value::Array(_) => {
                                return Err(ArrayIssue::Error(
                                    x.span,
                                    format!("the entry `{x}` is an array, not a number"),
                                ))
                            }
                        };
                        r.push(q);
                    }
                    data.push(r);
                }
                Array::from_rows(data)
                    .map(Value::Array)
                    .map_err(|err| layer_error(e.span, err))
            }
            ExprKind::Name(n) => match self.ctx.definitions.get(n) {
                Some(d) if d.params.is_empty() => self.value(&d.body, point, depth + 1),
                _ => match self.scalars.array(n) {
                    Some(a) => Ok(Value::Array(a.clone())),
                    None => Err(ArrayIssue::Unsupported(format!("`{n}` has no array value"))),
                },
            },
            ExprKind::Neg(a) => match self.value(a, point, depth)? {
                Value::Array(x) => Ok(Value::Array(x.map(|v| -v))),
                Value::Scalar(s) => Ok(Value::Scalar(s.neg())),
            },
            ExprKind::Transpose(a) => match self.value(a, point, depth)? {
                Value::Array(x) => Ok(Value::Array(x.transpose())),
                s => Ok(s),
            },
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (self.value(a, point, depth)?, self.value(b, point, depth)?);
                self.binary(e, *op, x, y)
            }
            ExprKind::Call {
                name,
                args,
                options,
            } => {
                if let Some(d) = self.ctx.definitions.get(name) {
                    if d.params.len() != args.len() {
                        return Err(ArrayIssue::Error(
                            e.span,
                            format!("`{name}` takes {} arguments", d.params.len()),
                        ));
                    }
                    let mut map = BTreeMap::new();
                    for (p, a) in d.params.iter().zip(args) {
                        map.insert(p.clone(), a.clone());
                    }
                    let body = crate::expand::substitute(&d.body, &map);
                    return self.value(&body, point, depth + 1);
                }
                if ARRAY_FUNCTIONS.contains(&name.as_str()) {
                    return self.layer(e, name, args, options, point, depth);
                }
                // A scalar-valued call (an entry, `diff`, a sum of entries...).
                Ok(Value::Scalar(self.scalar(e, point)?))
            }
            _ => Err(ArrayIssue::Unsupported(format!(
                "`{e}` is not supported with arrays yet"
            ))),
        }
    }

    fn binary(&self, e: &Expr, op: BinOp, x: Value, y: Value) -> A<Value> {
        let size_error =
            |err: LayerError| ArrayIssue::Error(e.span, format!("in `{e}`: {}", err.message));
        match (x, y) {
            (Value::Scalar(a), Value::Scalar(b)) => {
                let r = match op {
                    BinOp::Add => a.add(&b),
                    BinOp::Sub => a.sub(&b),
                    BinOp::Mul => a.mul(&b),
                    BinOp::Div => a.div(&b),
                    BinOp::Pow => a.pow(&b),
                };
                r.map(Value::Scalar)
                    .map_err(|err| ArrayIssue::Scalar(err.into()))
            }
            (Value::Array(a), Value::Array(b)) => match op {
                BinOp::Add => a
                    .zip_with(&b, |p, q| p + q)
                    .map(Value::Array)
                    .map_err(size_error),
                BinOp::Sub => a
                    .zip_with(&b, |p, q| p - q)
                    .map(Value::Array)
                    .map_err(size_error),
                BinOp::Mul => a.matmul(&b).map(Value::Array).map_err(size_error),
                _ => Err(ArrayIssue::Error(
                    e.span,
                    format!("`{e}`: this operation is not defined between two arrays"),
                )),
            },
            (Value::Scalar(s), Value::Array(a)) | (Value::Array(a), Value::Scalar(s))
                if op == BinOp::Mul =>
            {
                let q = s
                    .as_exact()
                    .cloned()
                    .ok_or_else(|| ArrayIssue::Unsupported("an irrational scale factor".into()))?;
                Ok(Value::Array(a.scale(&q)))
            }
            (Value::Array(a), Value::Scalar(s)) if op == BinOp::Div => {
                let q = s
                    .as_exact()
                    .cloned()
                    .ok_or_else(|| ArrayIssue::Unsupported("an irrational divisor".into()))?;
                if q.is_zero() {
                    return Err(ArrayIssue::Scalar(EvalError::Undefined(
                        "division by zero".into(),
                    )));
                }
                Ok(Value::Array(a.scale(&q.recip())))
            }
            _ => Err(ArrayIssue::Error(
                e.span,
                format!("`{e}` mixes an array and a scalar in a way that is not defined"),
            )),
        }
    }

    fn array_arg(
        &self,
        e: &Expr,
        what: &str,
        point: &BTreeMap<String, Real>,
        depth: usize,
    ) -> A<Array> {
        match self.value(e, point, depth)? {
            Value::Array(a) => Ok(a),
            Value::Scalar(_) => Err(ArrayIssue::Error(
                e.span,
                format!("argument `{what}` must be an array"),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn layer(
        &self,
        e: &Expr,
        name: &str,
        args: &[Expr],
        options: &[(String, Expr)],
        point: &BTreeMap<String, Real>,
        depth: usize,
    ) -> A<Value> {
        let option = |key: &str| options.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        for (k, v) in options {
            let allowed: &[&str] = match name {
                "conv2d" | "correlate2d" => &["pad", "stride", "mode"],
                "conv1d" => &["pad", "stride"],
                "maxpool2d" | "avgpool2d" => &["size", "stride"],
                _ => &[],
            };
            if !allowed.contains(&k.as_str()) {
                return Err(ArrayIssue::Error(
                    v.span,
                    format!("`{name}` has no option `{k}`"),
                ));
            }
        }
        let arg = |i: usize, what: &str| self.array_arg(&args[i], what, point, depth);
        match name {
            "conv2d" | "correlate2d" | "conv1d" => {
                let (x, h) = (arg(0, "x")?, arg(1, "h")?);
                let stride = match option("stride") {
                    Some(s) => self.count(s, point, "stride", 1)?,
                    None => 1,
                };
                let circular = match option("mode") {
                    None => false,
                    Some(Expr { kind: ExprKind::Str(m), span }) => match m.as_str() {
                        "circular" => true,
                        "zero" => false,
                        _ => return Err(ArrayIssue::Error(*span, format!("argument `mode`: unknown mode \"{m}\" (use \"circular\" or \"zero\")"))),
                    },
                    Some(other) => return Err(ArrayIssue::Error(other.span, "argument `mode` must be a string such as \"circular\"".into())),
                };
                let pad = match option("pad") {
                    Some(p) => self.count(p, point, "pad", 0)?,
                    None => 0,
                };
                if circular && option("pad").is_some() {
                    return Err(ArrayIssue::Error(
                        e.span,
                        "circular mode takes no `pad`".into(),
                    ));
                }
                let mode = if circular {
                    PadMode::Circular
                } else {
                    PadMode::Zero(pad)
                };
                let r = match name {
                    "conv2d" => layers::conv2d(&x, &h, mode, stride),
                    "correlate2d" => layers::correlate2d(&x, &h, mode, stride),
                    _ => layers::conv1d(&x, &h, pad, stride),
                };
                r.map(Value::Array).map_err(|err| layer_error(e.span, err))
            }
            "flip" => Ok(Value::Array(layers::flip(&arg(0, "h")?))),
            "roll" => {
                let x = arg(0, "x")?;
                let dr = self.count(&args[1], point, "rows", 0)?;
                let dc = self.count(&args[2], point, "columns", 0)?;
                layers::roll(&x, dr, dc)
                    .map(Value::Array)
                    .map_err(|err| layer_error(e.span, err))
            }
            "gap" => Ok(Value::Scalar(Real::exact(layers::global_avg_pool(&arg(
                0, "x",
            )?)))),
            "rows" | "cols" | "numel" => {
                let x = arg(0, "x")?;
                let n = match name {
                    "rows" => x.rows,
                    "cols" => x.cols,
                    _ => x.rows * x.cols,
                };
                Ok(Value::Scalar(Real::exact(BigRational::from_integer(
                    n.into(),
                ))))
            }
            "ones" | "zeros" => {
                let r = self.count(&args[0], point, "rows", 1)?;
                let c = self.count(&args[1], point, "columns", 1)?;
                if r > MAX_SIZE || c > MAX_SIZE {
                    return Err(ArrayIssue::Scalar(EvalError::Budget(format!(
                        "a {r} × {c} array is over the size budget of {MAX_SIZE} for sampled sizes"
                    ))));
                }
                let fill = if name == "ones" {
                    BigRational::from_integer(1.into())
                } else {
                    BigRational::zero()
                };
                Array::new(r, c, vec![fill; r * c])
                    .map(Value::Array)
                    .map_err(|err| layer_error(e.span, err))
            }
            "relu" => Ok(Value::Array(layers::relu(&arg(0, "x")?))),
            "flatten" => Ok(Value::Array(layers::flatten(&arg(0, "x")?))),
            "maxpool2d" | "avgpool2d" => {
                let x = arg(0, "x")?;
                let size = self.count(&args[1], point, "size", 1)?;
                let stride = self.count(&args[2], point, "stride", 1)?;
                let r = if name == "maxpool2d" {
                    layers::maxpool2d(&x, size, stride)
                } else {
                    layers::avgpool2d(&x, size, stride)
                };
                r.map(Value::Array).map_err(|err| layer_error(e.span, err))
            }
            _ => Err(ArrayIssue::Unsupported(format!(
                "`{name}` is not supported with arrays yet"
            ))),
        }
    }
}

/// The array symbols an expression uses, directly or through definitions.
pub fn array_symbols(e: &Expr, ctx: &Context) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut stack = vec![e.clone()];
    while let Some(x) = stack.pop() {
        x.walk(&mut |n| match &n.kind {
            ExprKind::Name(name) | ExprKind::Call { name, .. } => {
                if matches!(
                    ctx.symbols.get(name).map(|s| &s.kind),
                    Some(Kind::Array(..))
                ) && !out.contains(name)
                {
                    out.push(name.clone());
                }
                if let Some(d) = ctx.definitions.get(name) {
                    if !seen.contains(name) {
                        seen.push(name.clone());
                        stack.push(d.body.clone());
                    }
                }
            }
            _ => {}
        });
    }
    out.sort();
    out
}

/// Random arrays for the array symbols at a point: sizes from their
/// declarations, integer entries in `[-magnitude, magnitude]` from `rng`.
/// `None` when a size is not a positive integer there or is over [`MAX_SIZE`].
pub fn sample_arrays(
    names: &[String],
    ctx: &Context,
    point: &BTreeMap<String, Real>,
    rng: &mut crate::spot::Rng,
    magnitude: i64,
) -> Option<BTreeMap<String, Array>> {
    let ev = Evaluator::new(ctx);
    let mut out = BTreeMap::new();
    for n in names {
        let Some(Kind::Array(r, c)) = ctx.symbols.get(n).map(|s| &s.kind) else {
            continue;
        };
        let size = |e: &Expr| -> Option<usize> {
            let v = ev.eval(e, point).ok()?;
            let q = v.as_exact()?;
            let k = if q.is_integer() {
                q.to_integer().to_usize()?
            } else {
                return None;
            };
            (1..=MAX_SIZE).contains(&k).then_some(k)
        };
        let (r, c) = (size(r)?, size(c)?);
        let data = (0..r * c)
            .map(|_| BigRational::from_integer(rng.range(-magnitude, magnitude).into()))
            .collect();
        out.insert(n.clone(), Array::new(r, c, data).ok()?);
    }
    Some(out)
}
