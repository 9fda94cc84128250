//! Concrete arrays: exact evaluation of array-valued expressions (matrix
//! literals, definitions of them, `+ - *` and transposes, and the layers of
//! [`crate::exact::layers`]) and entry-by-entry comparison, so a wrong array is
//! refuted with every mismatching entry.

use crate::exact::eval::{EvalError, Evaluator};
use crate::exact::layers::{self, Array, LayerError, PadMode};
use crate::exact::real::Real;
use crate::resolve::{Context, Kind};
use crate::syntax::builtins::Belongs;
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, Span};
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    let none = BTreeSet::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        let mut found = false;
        x.walk(&mut |n| {
            found = found || array_node(n, ctx, &none);
            if let ExprKind::Name(name) | ExprKind::Call { name, .. } = &n.kind {
                if let Some((key, d)) = ctx.definitions.get_key_value(name) {
                    if !seen.contains(&key.as_str()) {
                        seen.push(key.as_str());
                        stack.push(&d.body);
                    }
                }
            }
        });
        if found {
            return true;
        }
    }
    false
}

/// The definitions whose bodies involve arrays, directly or through other
/// definitions: compute once per file or step, for [`ArrayEval::with_definitions`].
pub fn array_definitions(ctx: &Context) -> BTreeSet<String> {
    ctx.definitions
        .iter()
        .filter(|(_, d)| involves_arrays(&d.body, ctx))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Rejects options the built-in does not take.
fn check_options(op: Builtin, options: &[(String, Expr)]) -> A<()> {
    for (k, v) in options {
        if !op.options().contains(&k.as_str()) {
            return Err(ArrayIssue::Error(
                v.span,
                format!("`{op}` has no option `{k}`"),
            ));
        }
    }
    Ok(())
}

fn layer_error(span: Span, e: LayerError) -> ArrayIssue {
    ArrayIssue::Error(span, format!("argument `{}`: {}", e.argument, e.message))
}

/// Evaluates array expressions of one file.
pub struct ArrayEval<'a> {
    ctx: &'a Context,
    scalars: Evaluator<'a>,
    /// The definitions whose bodies involve arrays (directly or through others).
    array_defs: Cow<'a, BTreeSet<String>>,
    /// Values of definition calls already evaluated in this [`ArrayEval::value`]
    /// call, by the call's text: `b(v, k21)` and `b(v, k22)` share `a(v, k11)`.
    memo: RefCell<HashMap<String, Value>>,
}

/// Is this node itself array-valued (not looking into definitions)?
fn array_node(n: &Expr, ctx: &Context, array_defs: &BTreeSet<String>) -> bool {
    match &n.kind {
        ExprKind::Matrix(_) => true,
        ExprKind::Builtin { op, .. } => op.belongs() == Belongs::Array,
        ExprKind::Name(name) | ExprKind::Call { name, .. } => {
            matches!(
                ctx.symbols.get(name).map(|s| &s.kind),
                Some(Kind::Array(..))
            ) || array_defs.contains(name)
        }
        _ => false,
    }
}

impl<'a> ArrayEval<'a> {
    /// An evaluator for the declarations and definitions of `ctx`.
    pub fn new(ctx: &'a Context) -> ArrayEval<'a> {
        ArrayEval::with_arrays(ctx, BTreeMap::new())
    }

    /// The same, with values for array symbols (sampled arrays).
    pub fn with_arrays(ctx: &'a Context, arrays: BTreeMap<String, Array>) -> ArrayEval<'a> {
        ArrayEval {
            ctx,
            scalars: Evaluator::new(ctx).with_arrays(arrays),
            array_defs: Cow::Owned(array_definitions(ctx)),
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// The same, with the array definitions already known
    /// ([`array_definitions`] of `ctx`): many draws share one computation.
    pub fn with_definitions(
        ctx: &'a Context,
        arrays: BTreeMap<String, Array>,
        array_defs: &'a BTreeSet<String>,
    ) -> ArrayEval<'a> {
        ArrayEval {
            ctx,
            scalars: Evaluator::new(ctx).with_arrays(arrays),
            array_defs: Cow::Borrowed(array_defs),
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// The sampled arrays this evaluator gives the array symbols.
    pub fn arrays(&self) -> &BTreeMap<String, Array> {
        self.scalars.arrays()
    }

    /// Does `e` produce an array? The same answer as [`involves_arrays`],
    /// with the definitions' answers computed once.
    fn involves(&self, e: &Expr) -> bool {
        let mut found = false;
        e.walk(&mut |n| found = found || array_node(n, self.ctx, &self.array_defs));
        found
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
                    crate::syntax::expr::format_rational(&q)
                ),
            )),
        }
    }

    /// The value of `e` at `point` (scalar symbols' values).
    pub fn value(&self, e: &Expr, point: &BTreeMap<String, Real>) -> A<Value> {
        self.memo.borrow_mut().clear();
        let v = self.value_at(e, point, 0);
        self.memo.borrow_mut().clear();
        v
    }

    fn value_at(&self, e: &Expr, point: &BTreeMap<String, Real>, depth: usize) -> A<Value> {
        if depth > 200 {
            return Err(ArrayIssue::Unsupported(
                "definitions nest too deeply".into(),
            ));
        }
        if !self.involves(e) {
            return Ok(Value::Scalar(self.scalar(e, point)?));
        }
        match &e.kind {
            ExprKind::Matrix(rows) => {
                let mut data = Vec::new();
                for row in rows {
                    let mut r = Vec::new();
                    for x in row {
                        // An entry may itself involve arrays (`gap(conv2d(...))`).
                        let q = match self.value_at(x, point, depth + 1)? {
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
                Some(d) if d.params.is_empty() => self.value_at(&d.body, point, depth + 1),
                _ => match self.scalars.array(n) {
                    Some(a) => Ok(Value::Array(a.clone())),
                    None => Err(ArrayIssue::Unsupported(format!("`{n}` has no array value"))),
                },
            },
            ExprKind::Neg(a) => match self.value_at(a, point, depth)? {
                Value::Array(x) => Ok(Value::Array(x.map(|v| -v))),
                Value::Scalar(s) => Ok(Value::Scalar(s.neg())),
            },
            ExprKind::Transpose(a) => match self.value_at(a, point, depth)? {
                Value::Array(x) => Ok(Value::Array(x.transpose())),
                s => Ok(s),
            },
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (
                    self.value_at(a, point, depth)?,
                    self.value_at(b, point, depth)?,
                );
                self.binary(e, *op, x, y)
            }
            ExprKind::Builtin { op, args, options } if op.belongs() == Belongs::Array => {
                self.layer(e, *op, args, options, point, depth)
            }
            // A scalar-valued built-in (`diff`, a sum of entries...).
            ExprKind::Builtin { .. } => Ok(Value::Scalar(self.scalar(e, point)?)),
            ExprKind::Call { name, args } => {
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
                    let key = e.to_string();
                    if let Some(v) = self.memo.borrow().get(&key) {
                        return Ok(v.clone());
                    }
                    let body = crate::resolve::expand::substitute(&d.body, &map);
                    let v = self.value_at(&body, point, depth + 1)?;
                    self.memo.borrow_mut().insert(key, v.clone());
                    return Ok(v);
                }
                // A scalar-valued call (an entry of an array or a family).
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
                    .zip_with(&b, layers::add)
                    .map(Value::Array)
                    .map_err(size_error),
                BinOp::Sub => a
                    .zip_with(&b, layers::sub)
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
        match self.value_at(e, point, depth)? {
            Value::Array(a) => Ok(a),
            Value::Scalar(_) => Err(ArrayIssue::Error(
                e.span,
                format!("argument `{what}` must be an array"),
            )),
        }
    }

    /// The padding mode and stride of a convolution call, from its options.
    fn conv_options(
        &self,
        e: &Expr,
        options: &[(String, Expr)],
        point: &BTreeMap<String, Real>,
    ) -> A<(PadMode, usize)> {
        let option = |key: &str| options.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let stride = match option("stride") {
            Some(s) => self.count(s, point, "stride", 1)?,
            None => 1,
        };
        let circular = match option("mode") {
            None => false,
            Some(Expr {
                kind: ExprKind::Str(m),
                span,
            }) => match m.as_str() {
                "circular" => true,
                "zero" => false,
                _ => {
                    return Err(ArrayIssue::Error(
                        *span,
                        format!(
                            "argument `mode`: unknown mode \"{m}\" (use \"circular\" or \"zero\")"
                        ),
                    ))
                }
            },
            Some(other) => {
                return Err(ArrayIssue::Error(
                    other.span,
                    "argument `mode` must be a string such as \"circular\"".into(),
                ))
            }
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
        Ok((mode, stride))
    }

    /// The shape of `e` computed from shapes alone, with the same errors as
    /// its full evaluation, for `ones`, `zeros`, sampled array symbols and
    /// 2-D convolutions and pools of those; `None` for anything else (the
    /// caller then evaluates the entries).
    fn shape(
        &self,
        e: &Expr,
        point: &BTreeMap<String, Real>,
        depth: usize,
    ) -> A<Option<(usize, usize)>> {
        if depth > 200 {
            return Ok(None);
        }
        match &e.kind {
            ExprKind::Name(n) if !self.ctx.definitions.contains_key(n) => {
                Ok(self.scalars.array(n).map(|a| (a.rows, a.cols)))
            }
            ExprKind::Builtin { op, args, options } => {
                match (op, args.len()) {
                    (Builtin::Ones | Builtin::Zeros, 2) if options.is_empty() => {
                        let r = self.count(&args[0], point, "rows", 1)?;
                        let c = self.count(&args[1], point, "columns", 1)?;
                        if r > MAX_SIZE || c > MAX_SIZE {
                            // The full evaluation reports the budget.
                            return Ok(None);
                        }
                        Ok(Some((r, c)))
                    }
                    (Builtin::Conv2d | Builtin::Correlate2d, 2) => {
                        check_options(*op, options)?;
                        let Some(x) = self.shape(&args[0], point, depth + 1)? else {
                            return Ok(None);
                        };
                        let Some(h) = self.shape(&args[1], point, depth + 1)? else {
                            return Ok(None);
                        };
                        let (mode, stride) = self.conv_options(e, options, point)?;
                        layers::conv_shape(x, h, mode, stride)
                            .map(Some)
                            .map_err(|err| layer_error(e.span, err))
                    }
                    (Builtin::Maxpool2d | Builtin::Avgpool2d, 3) if options.is_empty() => {
                        let Some(x) = self.shape(&args[0], point, depth + 1)? else {
                            return Ok(None);
                        };
                        let size = self.count(&args[1], point, "size", 1)?;
                        let stride = self.count(&args[2], point, "stride", 1)?;
                        layers::pool_shape(x, size, stride)
                            .map(Some)
                            .map_err(|err| layer_error(e.span, err))
                    }
                    _ => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn layer(
        &self,
        e: &Expr,
        op: Builtin,
        args: &[Expr],
        options: &[(String, Expr)],
        point: &BTreeMap<String, Real>,
        depth: usize,
    ) -> A<Value> {
        check_options(op, options)?;
        let name = op.name();
        let arg = |i: usize, what: &str| self.array_arg(&args[i], what, point, depth);
        match op {
            Builtin::Conv2d | Builtin::Correlate2d | Builtin::Conv1d => {
                let (x, h) = (arg(0, "x")?, arg(1, "h")?);
                let (mode, stride) = self.conv_options(e, options, point)?;
                let r = match (op, mode) {
                    (Builtin::Conv2d, _) => layers::conv2d(&x, &h, mode, stride),
                    (Builtin::Correlate2d, _) => layers::correlate2d(&x, &h, mode, stride),
                    (_, PadMode::Zero(pad)) => layers::conv1d(&x, &h, pad, stride),
                    (_, PadMode::Circular) => {
                        return Err(ArrayIssue::Error(
                            e.span,
                            "conv1d has no `mode` option".into(),
                        ))
                    }
                };
                r.map(Value::Array).map_err(|err| layer_error(e.span, err))
            }
            Builtin::Flip => Ok(Value::Array(layers::flip(&arg(0, "h")?))),
            Builtin::Roll => {
                let x = arg(0, "x")?;
                let dr = self.count(&args[1], point, "rows", 0)?;
                let dc = self.count(&args[2], point, "columns", 0)?;
                layers::roll(&x, dr, dc)
                    .map(Value::Array)
                    .map_err(|err| layer_error(e.span, err))
            }
            Builtin::Gap => Ok(Value::Scalar(Real::exact(layers::global_avg_pool(&arg(
                0, "x",
            )?)))),
            Builtin::Rows | Builtin::Cols | Builtin::Numel => {
                // The shape alone where it can be had without the entries.
                let (rows, cols) = match self.shape(&args[0], point, depth)? {
                    Some(shape) => shape,
                    None => {
                        let x = arg(0, "x")?;
                        (x.rows, x.cols)
                    }
                };
                let n = match op {
                    Builtin::Rows => rows,
                    Builtin::Cols => cols,
                    _ => rows * cols,
                };
                Ok(Value::Scalar(Real::exact(BigRational::from_integer(
                    n.into(),
                ))))
            }
            Builtin::Ones | Builtin::Zeros => {
                let r = self.count(&args[0], point, "rows", 1)?;
                let c = self.count(&args[1], point, "columns", 1)?;
                if r > MAX_SIZE || c > MAX_SIZE {
                    return Err(ArrayIssue::Scalar(EvalError::Budget(format!(
                        "a {r} × {c} array is over the size budget of {MAX_SIZE} for sampled sizes"
                    ))));
                }
                let fill = if op == Builtin::Ones {
                    BigRational::from_integer(1.into())
                } else {
                    BigRational::zero()
                };
                Array::new(r, c, vec![fill; r * c])
                    .map(Value::Array)
                    .map_err(|err| layer_error(e.span, err))
            }
            Builtin::Relu => Ok(Value::Array(layers::relu(&arg(0, "x")?))),
            Builtin::Flatten => Ok(Value::Array(layers::flatten(&arg(0, "x")?))),
            Builtin::Maxpool2d | Builtin::Avgpool2d => {
                let x = arg(0, "x")?;
                let size = self.count(&args[1], point, "size", 1)?;
                let stride = self.count(&args[2], point, "stride", 1)?;
                let r = if op == Builtin::Maxpool2d {
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
    rng: &mut crate::exact::spot::Rng,
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
