//! Concrete arrays: exact evaluation of array-valued expressions (matrix
//! literals, definitions of them, `+ - *` and transposes, and the layers of
//! [`crate::exact::layers`]) and entry-by-entry comparison, so a wrong array is
//! refuted with every mismatching entry.

use crate::check::evidence::{Evidence, PointOutcome};
use crate::check::{display_point, free_symbols, Scope};
use crate::exact::eval::compare;
use crate::exact::eval::{EvalError, Evaluator};
use crate::exact::layers::{self, Array, LayerError, PadMode};
use crate::exact::real::Real;
use crate::exact::spot::{all_points, Rng, Sampler};
use crate::families::scalar::half_unit;
use crate::resolve::expand::substitute;
use crate::resolve::names_in;
use crate::resolve::{Context, Kind};
use crate::syntax::builtins::Belongs;
use crate::syntax::expr::{format_rational, RelOp};
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, Span};
use crate::syntax::parser::decimal_places;
use crate::verdict::{Certificate, Counterexample, EntryMismatch, Method, Verdict};
use num_rational::BigRational;
use num_traits::Signed;
use num_traits::{ToPrimitive, Zero};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The budget [`Budgets::array_size`](crate::config::Budgets::array_size).
pub(crate) const ARRAY_SIZE: usize = crate::config::Budgets::DEFAULT.array_size;

/// A value: a scalar or an exact array.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// A scalar.
    Scalar(Real),
    /// An array.
    Array(Array),
}

/// Why an array expression has no value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ArrayIssue {
    /// The claim is malformed here (a size mismatch, a bad layer argument).
    Error(Span, String),
    /// Outside what the evaluator handles.
    Unsupported(String),
    /// A scalar part could not be evaluated.
    Scalar(EvalError),
}

type A<T> = Result<T, ArrayIssue>;

pub(crate) use crate::resolve::family::involves_arrays;

/// The definitions whose bodies involve arrays, directly or through other
/// definitions: compute once per file or step, for [`ArrayEval::with_definitions`].
pub(crate) fn array_definitions(ctx: &Context) -> BTreeSet<String> {
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
pub(crate) struct ArrayEval<'a> {
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
    /// The same, with the array definitions already known
    /// ([`array_definitions`] of `ctx`): many draws share one computation.
    pub(crate) fn with_definitions(
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
    pub(crate) fn arrays(&self) -> &BTreeMap<String, Array> {
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
    pub(crate) fn value(&self, e: &Expr, point: &BTreeMap<String, Real>) -> A<Value> {
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
                        if r > ARRAY_SIZE || c > ARRAY_SIZE {
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
                if r > ARRAY_SIZE || c > ARRAY_SIZE {
                    return Err(ArrayIssue::Scalar(EvalError::Budget(format!(
                        "a {r} × {c} array is over the size budget of {ARRAY_SIZE} for sampled sizes"
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
pub(crate) fn array_symbols(e: &Expr, ctx: &Context) -> Vec<String> {
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
/// `None` when a size is not a positive integer there or is over [`ARRAY_SIZE`].
pub(crate) fn sample_arrays(
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
            (1..=ARRAY_SIZE).contains(&k).then_some(k)
        };
        let (r, c) = (size(r)?, size(c)?);
        let data = (0..r * c)
            .map(|_| BigRational::from_integer(rng.range(-magnitude, magnitude).into()))
            .collect();
        out.insert(n.clone(), Array::new(r, c, data).ok()?);
    }
    Some(out)
}

/// Checks one step between arrays: exact evaluation entry by entry, at
/// every admissible point of a finite domain or at sampled points. Array
/// symbols get random exact entries at each point, so a step that uses
/// them is at best `checked`.
pub(crate) fn check_step(
    scope: &Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Verdict {
    let v = check_array_step(scope, index, lhs, op, rhs);
    // Literal arrays whose entries are irrational or symbolic (an SVD with
    // radicals, `[a, b] + [b, a] = (a + b) [1, 1]`): entry by entry, each
    // entry a scalar step, where exact evaluation did not decide.
    if matches!(v, Verdict::Unsupported(_) | Verdict::Checked { .. }) {
        if let Some(w) = crate::families::matrix::literal_step(scope, index, lhs, op, rhs) {
            let stronger = matches!(
                (&v, &w),
                (_, Verdict::Proved { .. } | Verdict::Refuted { .. })
                    | (Verdict::Unsupported(_), Verdict::Checked { .. })
            );
            if stronger {
                return w;
            }
        }
    }
    v
}

/// A step between arrays by exact evaluation (see [`check_step`]).
fn check_array_step(scope: &Scope<'_>, index: usize, lhs: &Expr, op: RelOp, rhs: &Expr) -> Verdict {
    // A scalar equation between entries of arrays (`diff(Σ_i w(i)², w(k)) =
    // 2 w(k)`, sums over symbolic ranges) may be proved by the scalar
    // normal form, each entry a generator; sample arrays then cross-check
    // the proof (the cross-check budget of points, not a full sampling)
    // and a certified counterexample among them wins.
    let eligible = op == RelOp::Eq
        && scope.cfg.symbolic
        && !whole_arrays(lhs, scope.ctx)
        && !whole_arrays(rhs, scope.ctx)
        && !has_extremum(lhs, scope.ctx)
        && !has_extremum(rhs, scope.ctx);
    let proof = if eligible {
        crate::families::scalar::proof_of_equation(scope, lhs, rhs)
    } else {
        None
    };
    let Some(Verdict::Proved {
        method,
        context,
        rules,
        remarks,
        ..
    }) = proof
    else {
        return check_step_by_points(scope, index, lhs, op, rhs, false);
    };
    let budgets = &scope.cfg.budgets;
    let cfg = crate::config::Config {
        budgets: crate::config::Budgets {
            samples: budgets.cross_checks,
            attempts: budgets.cross_checks * 10,
            min_checks: 1,
            ..budgets.clone()
        },
        ..scope.cfg.clone()
    };
    let cross = Scope {
        ctx: scope.ctx,
        cfg: &cfg,
        dom: scope.dom.clone(),
        subs: scope.subs.clone(),
        conditions: scope.conditions.clone(),
        show_text: scope.show_text.clone(),
        seed: scope.seed,
    };
    match check_step_by_points(&cross, index, lhs, op, rhs, true) {
        decided @ (Verdict::Refuted { .. } | Verdict::Error { .. }) => decided,
        sampled => Verdict::Proved {
            method,
            context,
            rules,
            remarks,
            cross_checks: match &sampled {
                Verdict::Checked { checks, .. } => Some(crate::verdict::CrossChecks {
                    points: *checks,
                    matrices: false,
                }),
                _ => None,
            },
        },
    }
}

/// Does `e` (through its definitions) take a `max` or `min` of entries?
/// Such steps (pooling) are decided by points: resolving every `max` by
/// the sign of differences of unknown entries multiplies the cases.
fn has_extremum(e: &Expr, ctx: &crate::resolve::Context) -> bool {
    let Ok(x) = crate::resolve::expand::expand_definitions(e, ctx) else {
        return true;
    };
    let mut found = false;
    x.walk(&mut |y| {
        found |= matches!(y.as_builtin(), Some((Builtin::Max | Builtin::Min, _)));
    });
    found
}

/// Does `e` use an array as a whole (a bare array name, a literal, a
/// transpose), not only its entries?
fn whole_arrays(e: &Expr, ctx: &crate::resolve::Context) -> bool {
    let mut found = false;
    e.walk(&mut |x| match &x.kind {
        ExprKind::Name(n) => {
            found |= matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Array(..)))
        }
        ExprKind::Matrix(_) | ExprKind::Transpose(_) => found = true,
        _ => {}
    });
    found
}

/// Decides an array step at sample points. `cross_check`: the step is
/// already proved and the points cross-check the proof, so scalar values
/// whose certified enclosures agree (see [`Real::agrees_within`]) count as
/// agreeing numerically, as a scalar proof's cross-checks do; otherwise only
/// exact agreement counts.
fn check_step_by_points(
    scope: &Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
    cross_check: bool,
) -> Verdict {
    let ctx = scope.ctx;
    let mut used = Vec::new();
    names_in(lhs, &mut used);
    names_in(rhs, &mut used);
    used.retain(|n| !matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Array(..))));
    if let Some(reason) = crate::families::scalar::non_scalar_use(&used, ctx) {
        return Verdict::unsupported(reason);
    }
    match op {
        RelOp::Eq => {}
        RelOp::Approx if matches!(rhs.kind, ExprKind::Matrix(_)) => {}
        RelOp::Approx => {
            return Verdict::error(
                "`≈` between arrays needs an array literal on the right (its digits give each entry's precision)",
                None,
            )
        }
        _ => return Verdict::unsupported("arrays are compared with `=` or `≈` only"),
    }
    let ev = Evaluator::new(ctx);
    let (l, r) = (substitute(lhs, &scope.subs), substitute(rhs, &scope.subs));
    let mut symbols = scope.symbols_of(&[lhs, rhs]);
    let mut random = array_symbols(&l, ctx);
    random.extend(array_symbols(&r, ctx));
    random.sort();
    random.dedup();
    symbols.retain(|s| !random.contains(s));
    // Array sizes may mention symbols the step itself does not.
    for name in &random {
        if let Some(Kind::Array(rows, cols)) = ctx.symbols.get(name).map(|s| &s.kind) {
            for n in free_symbols(rows, ctx)
                .into_iter()
                .chain(free_symbols(cols, ctx))
            {
                if !symbols.contains(&n) && !random.contains(&n) {
                    symbols.push(n);
                }
            }
        }
    }
    symbols.sort();
    let seed = scope.step_seed(index);
    let exhaustive = all_points(&scope.dom, &symbols, scope.cfg.budgets.exhaustive_limit);
    let finite = exhaustive.is_some();
    let points = match exhaustive {
        Some(p) => p,
        None => Sampler::new(&scope.dom, symbols.clone(), BTreeMap::new(), seed)
            .points(scope.cfg.budgets.attempts),
    };
    let mut rng = Rng::new(seed);
    // Random arrays: several draws per point, about `array_draws` in all,
    // so that a claim false only where a random entry is extreme is caught.
    let rounds = if random.is_empty() {
        1
    } else {
        scope
            .cfg
            .budgets
            .array_draws
            .div_ceil(points.len().max(1))
            .clamp(2, scope.cfg.budgets.array_draws)
    };
    let array_defs = array_definitions(ctx);
    let mut evidence = Evidence::default();
    let mut draws = 0usize;
    'points: for p in &points {
        if !scope.admissible(&ev, p) {
            continue;
        }
        for _ in 0..rounds {
            // Small entries first (readable counterexamples), larger later (fewer ties).
            draws += 1;
            let magnitude = (2 + draws / 4).min(99) as i64;
            let Some(sampled) = sample_arrays(&random, ctx, p, &mut rng, magnitude) else {
                evidence.note_problem(
                    "an array size is not a positive integer here, or over the size budget",
                );
                continue 'points;
            };
            let arrays = ArrayEval::with_definitions(ctx, sampled, &array_defs);
            let full = scope.with_subs(&ev, p);
            let (a, b) = match (arrays.value(&l, &full), arrays.value(&r, &full)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(issue), _) | (_, Err(issue)) => match issue {
                    ArrayIssue::Error(span, message) => return Verdict::error(message, Some(span)),
                    ArrayIssue::Unsupported(m) => return Verdict::unsupported(m),
                    ArrayIssue::Scalar(e) => {
                        evidence.record(match e {
                            EvalError::Undefined(m) => PointOutcome::Undefined(m),
                            EvalError::Unsupported(m) => PointOutcome::Unusable(m),
                            other => PointOutcome::Undecided(other.to_string()),
                        });
                        continue;
                    }
                },
            };
            // The point and the arrays drawn, shown only with a refutation.
            let values = || {
                let mut values = display_point(p);
                for (name, arr) in arrays.arrays() {
                    values.insert(name.clone(), arr.to_string());
                }
                values
            };
            if let (Value::Scalar(x), Value::Scalar(y)) = (&a, &b) {
                match compare(x, if op == RelOp::Approx { RelOp::Eq } else { op }, y) {
                    Ok(true) => evidence.record(PointOutcome::Agreed),
                    Ok(false) => {
                        return Verdict::refuted(
                            Method::Counterexample(Certificate::Exact),
                            Counterexample {
                                values: values(),
                                lhs: x.display(),
                                rhs: y.display(),
                                mismatches: Vec::new(),
                            },
                        )
                    }
                    Err(_)
                        if cross_check
                            && op == RelOp::Eq
                            && x.agrees_within(y, scope.cfg.budgets.agreement_bits) =>
                    {
                        evidence.record(PointOutcome::AgreedNumerically)
                    }
                    Err(e) => evidence.record(PointOutcome::Undecided(e.to_string())),
                }
                continue;
            }
            match compare_values(&a, &b, op, rhs, &scope.show_text) {
                Ok(mismatches) if mismatches.is_empty() => evidence.record(PointOutcome::Agreed),
                Ok(mismatches) => {
                    let first = mismatches[0].clone();
                    return Verdict::Refuted {
                        method: Method::ExactEntries,
                        notes: vec![format!(
                            "{} of {} entries differ",
                            mismatches.len(),
                            entry_count(&a)
                        )],
                        counterexample: Counterexample {
                            values: values(),
                            lhs: first.lhs,
                            rhs: first.rhs,
                            mismatches,
                        },
                    };
                }
                Err(shape) => {
                    return Verdict::Refuted {
                        method: Method::ExactShapes,
                        notes: vec![shape],
                        counterexample: Counterexample {
                            values: values(),
                            lhs: describe_shape(&a),
                            rhs: describe_shape(&b),
                            mismatches: Vec::new(),
                        },
                    }
                }
            }
        }
        if !finite && evidence.agreed >= scope.cfg.budgets.samples {
            break;
        }
    }
    // Exact evaluation or exhaustion is a proof when every admissible
    // point agreed; anything else rests on spot checks.
    if random.is_empty() && (symbols.is_empty() || finite) && evidence.all_agreed() {
        return Verdict::proved(if symbols.is_empty() {
            Method::ExactEntries
        } else {
            Method::Exhaustive {
                points: evidence.agreed,
                entries: true,
            }
        });
    }
    let (method, notes) = if random.is_empty() {
        (Method::SpotChecksEntries, Vec::new())
    } else {
        let notes = evidence
            .problem
            .iter()
            .map(|m| format!("some points could not be evaluated: {m}"))
            .collect();
        (Method::SpotChecksRandomArrays(random.clone()), notes)
    };
    evidence.sampled(scope.cfg.budgets.min_checks, method, notes, None)
}

/// Implications between array relations are not decided.
pub(crate) fn check_implication() -> Verdict {
    Verdict::unsupported(
        "implications between relations of arrays are not supported; state each array step as an equation",
    )
}

fn entry_count(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.rows * a.cols,
        Value::Scalar(_) => 1,
    }
}

fn describe_shape(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("a {} × {} array", a.rows, a.cols),
        Value::Scalar(s) => format!("the scalar {}", s.display()),
    }
}

/// The mismatching entries of two values (`Err` when their shapes differ).
/// With `≈`, each entry of the right side's literal carries its own precision.
fn compare_values(
    a: &Value,
    b: &Value,
    op: RelOp,
    rhs: &Expr,
    show: &str,
) -> Result<Vec<EntryMismatch>, String> {
    let as_array = |v: &Value| -> Option<Array> {
        match v {
            Value::Array(x) => Some(x.clone()),
            Value::Scalar(Real::Exact(q)) => Array::new(1, 1, vec![q.clone()]).ok(),
            Value::Scalar(_) => None,
        }
    };
    let (Some(x), Some(y)) = (as_array(a), as_array(b)) else {
        return Err("an irrational scalar cannot be compared with an array".into());
    };
    if (x.rows, x.cols) != (y.rows, y.cols) {
        let which = if x.rows != y.rows {
            format!("the number of rows differs ({} against {})", x.rows, y.rows)
        } else {
            format!(
                "the number of columns differs ({} against {})",
                x.cols, y.cols
            )
        };
        return Err(format!("the shapes differ: {which}"));
    }
    let entries: Vec<&Expr> = match &rhs.kind {
        ExprKind::Matrix(rows) => rows.iter().flatten().collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for i in 0..x.rows {
        for j in 0..x.cols {
            let (p, q) = (x.get(i, j), y.get(i, j));
            let same = match op {
                RelOp::Approx => {
                    let places = entries
                        .get(i * x.cols + j)
                        .and_then(|e| decimal_places(show, e.span))
                        .unwrap_or(0);
                    (p - q).abs() <= half_unit(places)
                }
                RelOp::Eq => p == q,
                _ => return Err("arrays are compared with `=` or `≈` only".into()),
            };
            if !same {
                out.push(EntryMismatch {
                    entry: (i + 1, j + 1),
                    lhs: format_rational(p),
                    rhs: format_rational(q),
                });
            }
        }
    }
    Ok(out)
}
