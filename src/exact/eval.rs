//! Exact evaluation of scalar expressions at a point, with certified
//! enclosures where a value is irrational. This is the spot checks'
//! independent path: it evaluates what the text says, definitions and all,
//! without any of the symbolic rewriting rules.

use crate::exact::layers::Array;
use crate::exact::real::{Real, RealError};
use crate::resolve::{Context, Kind};
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, RelOp};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The budget [`Budgets::call_depth`](crate::config::Budgets::call_depth).
pub(crate) const CALL_DEPTH: usize = crate::config::Budgets::DEFAULT.call_depth;
/// The budget [`Budgets::sum_terms`](crate::config::Budgets::sum_terms).
pub(crate) const SUM_TERMS: u64 = crate::config::Budgets::DEFAULT.sum_terms;
/// The budget [`Budgets::eval_work`](crate::config::Budgets::eval_work).
pub(crate) const EVAL_WORK: usize = crate::config::Budgets::DEFAULT.eval_work;

/// The largest `n` whose `n!` is computed exactly.
pub(crate) const FACTORIAL_LIMIT: u64 = 2000;

/// `q!` for a nonnegative integer `q` up to [`FACTORIAL_LIMIT`].
pub(crate) fn factorial_of(q: &BigRational) -> Option<BigRational> {
    if !q.is_integer() || q.is_negative() {
        return None;
    }
    let n = q.to_integer().to_u64().filter(|n| *n <= FACTORIAL_LIMIT)?;
    let mut acc = BigInt::from(1);
    for i in 2..=n {
        acc *= i;
    }
    Some(BigRational::from_integer(acc))
}

/// Why a value could not be had.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum EvalError {
    /// Not defined at this point (division by zero, a root of a negative...).
    #[error("{0}")]
    Undefined(String),
    /// A construct the evaluator does not handle.
    #[error("{0}")]
    Unsupported(String),
    /// A work or depth budget ran out.
    #[error("{0}")]
    Budget(String),
    /// An enclosure too wide to decide a comparison, `floor` or `if`.
    #[error("{0}")]
    Undecided(String),
}

impl From<RealError> for EvalError {
    fn from(e: RealError) -> EvalError {
        match e {
            RealError::DivisionByZero => EvalError::Undefined("division by zero".into()),
            RealError::Domain(s) => EvalError::Undefined(s),
            RealError::Undecided(s) => EvalError::Undecided(s),
            RealError::Budget(s) => EvalError::Budget(s),
        }
    }
}

type R<T> = Result<T, EvalError>;

/// Evaluates expressions of one file at points.
pub(crate) struct Evaluator<'a> {
    ctx: &'a Context,
    work: Cell<usize>,
    arrays: BTreeMap<String, Array>,
}

fn int_of(v: &Real, what: &str) -> R<BigInt> {
    match v.as_exact() {
        Some(q) if q.is_integer() => Ok(q.numer().clone()),
        Some(_) => Err(EvalError::Unsupported(format!("{what} must be an integer"))),
        None => Err(EvalError::Undecided(format!("{what} is not known exactly"))),
    }
}

impl<'a> Evaluator<'a> {
    /// An evaluator for the declarations and definitions of `ctx`.
    pub(crate) fn new(ctx: &'a Context) -> Evaluator<'a> {
        Evaluator {
            ctx,
            work: Cell::new(0),
            arrays: BTreeMap::new(),
        }
    }

    /// Gives array symbols values (sampled arrays), for entries `x(i, j)`.
    pub(crate) fn with_arrays(mut self, arrays: BTreeMap<String, Array>) -> Evaluator<'a> {
        self.arrays = arrays;
        self
    }

    /// The values of the array symbols.
    pub(crate) fn arrays(&self) -> &BTreeMap<String, Array> {
        &self.arrays
    }

    /// The value of array symbol `name`, if it has one.
    pub(crate) fn array(&self, name: &str) -> Option<&Array> {
        self.arrays.get(name)
    }

    /// The entry `name(i, j)` (1-based; a vector's entries take one index).
    pub(crate) fn entry(&self, name: &str, indices: &[Real]) -> R<Real> {
        let a = self
            .arrays
            .get(name)
            .ok_or_else(|| EvalError::Unsupported(format!("`{name}` has no sampled value")))?;
        let idx: Vec<BigInt> = indices
            .iter()
            .map(|v| int_of(v, "an index"))
            .collect::<R<_>>()?;
        let (i, j) = match idx.as_slice() {
            [i, j] => (i.clone(), j.clone()),
            [i] if a.cols == 1 => (i.clone(), BigInt::from(1)),
            _ => {
                return Err(EvalError::Unsupported(format!(
                    "`{name}` takes two indices"
                )))
            }
        };
        let (Some(i), Some(j)) = (i.to_usize(), j.to_usize()) else {
            return Err(EvalError::Undefined(format!(
                "index out of range for `{name}`"
            )));
        };
        if i == 0 || j == 0 || i > a.rows || j > a.cols {
            return Err(EvalError::Undefined(format!(
                "`{name}({i}, {j})` is outside its {} × {} range",
                a.rows, a.cols
            )));
        }
        Ok(Real::exact(a.get(i - 1, j - 1).clone()))
    }

    /// The value of `e` where each free symbol has the value in `point`.
    pub(crate) fn eval(&self, e: &Expr, point: &BTreeMap<String, Real>) -> R<Real> {
        self.work.set(0);
        let mut locals = Vec::new();
        self.value(e, point, &mut locals, 0)
    }

    /// The declarations and definitions this evaluator reads.
    pub(crate) fn context(&self) -> &'a Context {
        self.ctx
    }

    /// The value of `e` with some bound names (sum indices) already set.
    pub(crate) fn eval_with_locals(
        &self,
        e: &Expr,
        point: &BTreeMap<String, Real>,
        locals: &[(String, Real)],
    ) -> R<Real> {
        let mut l = locals.to_vec();
        self.value(e, point, &mut l, 0)
    }

    /// The truth of a condition (a comparison chain or `and`) at `point`.
    pub(crate) fn holds(&self, cond: &Expr, point: &BTreeMap<String, Real>) -> R<bool> {
        self.work.set(0);
        let mut locals = Vec::new();
        self.truth(cond, point, &mut locals, 0)
    }

    fn tick(&self) -> R<()> {
        let w = self.work.get() + 1;
        self.work.set(w);
        if crate::guard::expired() {
            return Err(EvalError::Budget(crate::guard::REACHED.into()));
        }
        if w > EVAL_WORK {
            return Err(EvalError::Budget(format!(
                "evaluation took more than {EVAL_WORK} steps"
            )));
        }
        Ok(())
    }

    fn lookup(
        &self,
        name: &str,
        point: &BTreeMap<String, Real>,
        locals: &[(String, Real)],
        depth: usize,
    ) -> R<Real> {
        if let Some((_, v)) = locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        if let Some(def) = self.ctx.definitions.get(name) {
            if def.params.is_empty() {
                let mut inner = Vec::new();
                return self.value(&def.body, point, &mut inner, depth + 1);
            }
        }
        if let Some(v) = point.get(name) {
            return Ok(v.clone());
        }
        if name == "inf" {
            return Err(EvalError::Unsupported(
                "`inf` is only allowed as a bound of a sum".into(),
            ));
        }
        match self.ctx.symbols.get(name).map(|s| &s.kind) {
            Some(Kind::Scalar(_)) | None => {
                Err(EvalError::Unsupported(format!("no value for `{name}`")))
            }
            Some(_) => Err(EvalError::Unsupported(format!(
                "`{name}` is a matrix, array or random variable; such claims are not supported yet"
            ))),
        }
    }

    fn truth(
        &self,
        e: &Expr,
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Real)>,
        depth: usize,
    ) -> R<bool> {
        self.tick()?;
        match &e.kind {
            ExprKind::And(parts) => {
                for p in parts {
                    if !self.truth(p, point, locals, depth)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            ExprKind::Compare(items, ops) => {
                let mut prev = self.value(&items[0], point, locals, depth)?;
                for (i, op) in ops.iter().enumerate() {
                    let next = self.value(&items[i + 1], point, locals, depth)?;
                    if !compare(&prev, *op, &next)? {
                        return Ok(false);
                    }
                    prev = next;
                }
                Ok(true)
            }
            _ => Err(EvalError::Unsupported(format!("`{e}` is not a condition"))),
        }
    }

    fn value(
        &self,
        e: &Expr,
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Real)>,
        depth: usize,
    ) -> R<Real> {
        self.tick()?;
        if depth > CALL_DEPTH {
            return Err(EvalError::Budget(format!(
                "definitions nest more than {CALL_DEPTH} calls deep (a recursion without a reachable base case?)"
            )));
        }
        match &e.kind {
            ExprKind::Number(q) => Ok(Real::exact(q.clone())),
            ExprKind::Name(n) => self.lookup(n, point, locals, depth),
            ExprKind::Str(_) => Err(EvalError::Unsupported("a string is not a value".into())),
            ExprKind::Neg(a) => Ok(self.value(a, point, locals, depth)?.neg()),
            ExprKind::Binary(op, a, b) => {
                let x = self.value(a, point, locals, depth)?;
                let y = self.value(b, point, locals, depth)?;
                Ok(match op {
                    BinOp::Add => x.add(&y)?,
                    BinOp::Sub => x.sub(&y)?,
                    BinOp::Mul => x.mul(&y)?,
                    BinOp::Div => x.div(&y)?,
                    BinOp::Pow => match y.as_exact() {
                        Some(q) if q.is_integer() => x.powi(q.numer())?,
                        _ => x
                            .pow(&y)
                            .map_err(|err| outside_domain(e, "the base", &x, err.into()))?,
                    },
                })
            }
            ExprKind::Call { name, args } => self.call(name, args, point, locals, depth),
            ExprKind::Builtin { op, args, options } => {
                let v = self.builtin(e, *op, args, options, point, locals, depth);
                if matches!(op, Builtin::Sqrt | Builtin::Log) && args.len() == 1 {
                    if let Err(EvalError::Undefined(m)) = &v {
                        if !m.starts_with('`') {
                            let arg = self.value(&args[0], point, locals, depth)?;
                            return Err(outside_domain(
                                e,
                                "the argument",
                                &arg,
                                EvalError::Undefined(m.clone()),
                            ));
                        }
                    }
                }
                v
            }
            ExprKind::Transpose(_) | ExprKind::Matrix(_) => Err(EvalError::Unsupported(
                "matrix expressions are not supported yet".into(),
            )),
            ExprKind::Expect(_) => Err(EvalError::Unsupported(
                "random variables are not supported yet".into(),
            )),
            ExprKind::Compare(..) | ExprKind::And(_) => Err(EvalError::Unsupported(format!(
                "the condition `{e}` is used as a value"
            ))),
        }
    }

    /// A call of a defined function, or an entry of a sampled array.
    fn call(
        &self,
        name: &str,
        args: &[Expr],
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Real)>,
        depth: usize,
    ) -> R<Real> {
        if let Some(def) = self.ctx.definitions.get(name) {
            if def.params.len() != args.len() {
                return Err(EvalError::Unsupported(format!(
                    "`{name}` takes {} arguments, found {}",
                    def.params.len(),
                    args.len()
                )));
            }
            let mut inner = Vec::with_capacity(args.len());
            for (p, a) in def.params.iter().zip(args) {
                inner.push((p.clone(), self.value(a, point, locals, depth)?));
            }
            return self.value(&def.body, point, &mut inner, depth + 1);
        }
        if self.arrays.contains_key(name) {
            let mut idx = Vec::with_capacity(args.len());
            for a in args {
                idx.push(self.value(a, point, locals, depth)?);
            }
            return self.entry(name, &idx);
        }
        if self.ctx.symbols.contains_key(name) {
            return Err(EvalError::Unsupported(format!(
                "`{name}(...)` is an array or family entry; such claims are not supported yet"
            )));
        }
        Err(EvalError::Unsupported(format!(
            "`{name}` is not supported yet"
        )))
    }

    /// A call of a built-in.
    #[allow(clippy::too_many_arguments)]
    fn builtin(
        &self,
        whole: &Expr,
        op: Builtin,
        args: &[Expr],
        options: &[(String, Expr)],
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Real)>,
        depth: usize,
    ) -> R<Real> {
        let name = op.name();
        if op == Builtin::Diff {
            if args.len() != 2 {
                return Err(EvalError::Unsupported(
                    "a repeated derivative is not evaluated at points (it is decided symbolically)"
                        .into(),
                ));
            }
            return self.derivative(&args[0], &args[1], point, locals);
        }
        if !options.is_empty() {
            return Err(EvalError::Unsupported(format!(
                "`{name}` with options is not supported yet"
            )));
        }
        if let Some(defined) = crate::syntax::expr::exp_form(op, args) {
            return self.value(&defined, point, locals, depth);
        }
        let arg =
            |i: usize, locals: &mut Vec<(String, Real)>| self.value(&args[i], point, locals, depth);
        match op {
            Builtin::Sin => Ok(arg(0, locals)?.sin()?),
            Builtin::Cos => Ok(arg(0, locals)?.cos()?),
            Builtin::Tan => Ok(arg(0, locals)?.tan()?),
            Builtin::Pi => Ok(Real::pi()?),
            Builtin::Sigmoid
            | Builtin::Softplus
            | Builtin::Sinh
            | Builtin::Cosh
            | Builtin::Tanh
            | Builtin::E => Err(EvalError::Unsupported(format!(
                "`{name}` is evaluated through its definition by exp"
            ))),
            Builtin::Sqrt => Ok(arg(0, locals)?.sqrt()?),
            Builtin::Abs => Ok(arg(0, locals)?.abs()?),
            Builtin::Sign => Ok(arg(0, locals)?.sign()?),
            Builtin::Floor => Ok(arg(0, locals)?.floor()?),
            Builtin::Factorial => {
                let v = arg(0, locals)?;
                let q = v.as_exact().cloned().ok_or_else(|| {
                    EvalError::Undefined("the factorial of a number that is not an integer".into())
                })?;
                factorial_of(&q).map(Real::exact).ok_or_else(|| {
                    if q.is_integer() && !q.is_negative() {
                        EvalError::Budget(format!(
                            "the factorial of {q} is beyond {FACTORIAL_LIMIT}!"
                        ))
                    } else {
                        EvalError::Undefined(format!(
                            "the factorial of {q}: defined for nonnegative integers"
                        ))
                    }
                })
            }
            Builtin::Ceil => Ok(arg(0, locals)?.ceil()?),
            Builtin::Exp => Ok(arg(0, locals)?.exp()?),
            Builtin::Log => Ok(arg(0, locals)?.log()?),
            Builtin::Step => {
                let v = arg(0, locals)?;
                let zero = Real::exact(BigRational::zero());
                match v.cmp_certain(&zero) {
                    Some(Ordering::Less) => Ok(zero),
                    Some(_) => Ok(Real::exact(BigRational::one())),
                    None => Err(EvalError::Undecided("the sign of step's argument".into())),
                }
            }
            Builtin::Min | Builtin::Max => {
                let mut acc = arg(0, locals)?;
                for i in 1..args.len() {
                    let v = arg(i, locals)?;
                    acc = if op == Builtin::Min {
                        acc.min(&v)?
                    } else {
                        acc.max(&v)?
                    };
                }
                Ok(acc)
            }
            Builtin::If => {
                if self.truth(&args[0], point, locals, depth)? {
                    arg(1, locals)
                } else {
                    arg(2, locals)
                }
            }
            Builtin::Sum | Builtin::Prod => {
                let ExprKind::Name(k) = &args[0].kind else {
                    return Err(EvalError::Unsupported("a sum needs an index name".into()));
                };
                let (lo_inf, hi_inf) = (infinite_bound(&args[1]), infinite_bound(&args[2]));
                if lo_inf == Some(true) || hi_inf == Some(false) {
                    return Err(EvalError::Unsupported(format!(
                        "`{whole}` has its infinite bounds the wrong way round (write `-inf` below, `inf` above)"
                    )));
                }
                if op == Builtin::Prod && (lo_inf.is_some() || hi_inf.is_some()) {
                    return Err(EvalError::Unsupported(
                        "a product over infinitely many factors is not supported".into(),
                    ));
                }
                let (mut lower, mut upper) = (None, None);
                if lo_inf.is_some() || hi_inf.is_some() {
                    // Infinite bounds: the body's own range at this point.
                    self.support_at(&args[3], k, point, locals, depth, &mut lower, &mut upper)?;
                }
                let lo = match lo_inf {
                    Some(_) => lower.ok_or_else(|| EvalError::Unsupported(format!(
                        "cannot find where the body of `{whole}` vanishes below: write its lower bound, or a `step`/`if` factor"
                    )))?,
                    None => int_of(&arg(1, locals)?, "a sum's lower bound")?,
                };
                let hi = match hi_inf {
                    Some(_) => upper.ok_or_else(|| EvalError::Unsupported(format!(
                        "cannot find where the body of `{whole}` vanishes above: write its upper bound, or a `step`/`if` factor"
                    )))?,
                    None => int_of(&arg(2, locals)?, "a sum's upper bound")?,
                };
                let mut acc = Real::exact(if op == Builtin::Sum {
                    BigRational::zero()
                } else {
                    BigRational::one()
                });
                if hi < lo {
                    return Ok(acc);
                }
                let count = (&hi - &lo + 1u32).to_u64().filter(|c| *c <= SUM_TERMS);
                if count.is_none() {
                    return Err(EvalError::Budget(format!(
                        "a sum with more than {SUM_TERMS} terms"
                    )));
                }
                if op == Builtin::Sum && !mentions(&args[3], k) {
                    // A body free of the index has one value: the number of
                    // terms times it (exactly what the terms add up to).
                    let v = self.value(&args[3], point, locals, depth)?;
                    let n = Real::exact(BigRational::from_integer(&hi - &lo + 1u32));
                    return Ok(n.mul(&v)?);
                }
                let mut i = lo;
                while i <= hi {
                    locals.push((k.clone(), Real::exact(BigRational::from_integer(i.clone()))));
                    let v = self.value(&args[3], point, locals, depth);
                    locals.pop();
                    let v = v?;
                    acc = if op == Builtin::Sum {
                        acc.add(&v)?
                    } else {
                        acc.mul(&v)?
                    };
                    i += 1;
                }
                Ok(acc)
            }
            Builtin::Integral => Err(EvalError::Unsupported(
                "integrals are not evaluated at points".into(),
            )),
            Builtin::Diff
            | Builtin::Trace
            | Builtin::Norm2
            | Builtin::NormF
            | Builtin::Rms
            | Builtin::Rank
            | Builtin::Cost
            | Builtin::Inv
            | Builtin::Det
            | Builtin::Diag
            | Builtin::Grad
            | Builtin::Hessian
            | Builtin::Jacobian
            | Builtin::Conv1d
            | Builtin::Conv2d
            | Builtin::Correlate2d
            | Builtin::Flip
            | Builtin::Maxpool2d
            | Builtin::Avgpool2d
            | Builtin::Relu
            | Builtin::Flatten
            | Builtin::Gap
            | Builtin::Roll
            | Builtin::Rows
            | Builtin::Cols
            | Builtin::Numel
            | Builtin::Ones
            | Builtin::Zeros
            | Builtin::Var
            | Builtin::Cov
            | Builtin::Std => Err(EvalError::Unsupported(format!(
                "`{}` is not supported yet",
                whole
            ))),
        }
    }
}

/// A domain error that names the sub-expression and its argument's value:
/// "`log(x - 1)` is undefined: the logarithm of a number that is not
/// positive (the argument is 0)".
fn outside_domain(whole: &Expr, what: &str, arg: &Real, err: EvalError) -> EvalError {
    match err {
        EvalError::Undefined(m) if !m.starts_with('`') => EvalError::Undefined(format!(
            "`{whole}` is undefined: {m} ({what} is {})",
            arg.display()
        )),
        other => other,
    }
}

/// `Some(true)` for `inf`, `Some(false)` for `-inf`, else `None`.
fn infinite_bound(e: &Expr) -> Option<bool> {
    match &e.kind {
        ExprKind::Name(n) if n == "inf" => Some(true),
        ExprKind::Neg(a) if matches!(&a.kind, ExprKind::Name(n) if n == "inf") => Some(false),
        _ => None,
    }
}

/// Does `e` mention the name `k`?
fn mentions(e: &Expr, k: &str) -> bool {
    let mut found = false;
    e.walk(&mut |n| found |= matches!(&n.kind, ExprKind::Name(x) if x == k));
    found
}

/// `⌈q⌉` and `⌊q⌋` of a rational.
fn ceil_of(q: &BigRational) -> BigInt {
    q.ceil().to_integer()
}

fn floor_of(q: &BigRational) -> BigInt {
    q.floor().to_integer()
}

impl Evaluator<'_> {
    /// Narrows `lower`/`upper` to the integers `k` outside which `body` is
    /// zero at this point, from its `step` and `if` factors (through
    /// definitions). Each factor's argument must be affine in `k`, with
    /// coefficients evaluated exactly here. The evaluator's own method: it
    /// shares nothing with the symbolic range finder of the proofs.
    #[allow(clippy::too_many_arguments)]
    fn support_at(
        &self,
        body: &Expr,
        k: &str,
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Real)>,
        depth: usize,
        lower: &mut Option<BigInt>,
        upper: &mut Option<BigInt>,
    ) -> R<()> {
        self.tick()?;
        if depth > CALL_DEPTH {
            return Err(EvalError::Budget(format!(
                "definitions nest more than {CALL_DEPTH} calls deep"
            )));
        }
        let mut bound = |slope: BigRational, at_zero: BigRational, op: RelOp| {
            // slope·k + at_zero op 0, k an integer.
            if slope.is_zero() {
                let holds = match op {
                    RelOp::Ge => !at_zero.is_negative(),
                    RelOp::Gt => at_zero.is_positive(),
                    RelOp::Le => !at_zero.is_positive(),
                    RelOp::Lt => at_zero.is_negative(),
                    RelOp::Eq => at_zero.is_zero(),
                    _ => true,
                };
                if !holds {
                    // The body is zero everywhere: an empty range.
                    *lower = Some(BigInt::one());
                    *upper = Some(BigInt::zero());
                }
                return;
            }
            let root = -at_zero / &slope;
            let op = if slope.is_positive() {
                op
            } else {
                op.flipped()
            };
            let (lo, hi) = match op {
                RelOp::Ge => (Some(ceil_of(&root)), None),
                RelOp::Gt => (Some(floor_of(&root) + 1), None),
                RelOp::Le => (None, Some(floor_of(&root))),
                RelOp::Lt => (None, Some(ceil_of(&root) - 1)),
                RelOp::Eq => (Some(ceil_of(&root)), Some(floor_of(&root))),
                _ => (None, None),
            };
            if let Some(l) = lo {
                *lower = Some(lower.take().map_or(l.clone(), |x| x.max(l)));
            }
            if let Some(h) = hi {
                *upper = Some(upper.take().map_or(h.clone(), |x| x.min(h)));
            }
        };
        match &body.kind {
            ExprKind::Binary(BinOp::Mul, a, b) => {
                self.support_at(a, k, point, locals, depth, lower, upper)?;
                self.support_at(b, k, point, locals, depth, lower, upper)?;
            }
            ExprKind::Binary(BinOp::Div, a, _) | ExprKind::Neg(a) => {
                self.support_at(a, k, point, locals, depth, lower, upper)?;
            }
            ExprKind::Name(n) if n != k => {
                if let Some(def) = self.ctx.definitions.get(n).filter(|d| d.params.is_empty()) {
                    self.support_at(&def.body, k, point, locals, depth + 1, lower, upper)?;
                }
            }
            ExprKind::Call { name, args } => {
                if let Some(def) = self.ctx.definitions.get(name) {
                    if def.params.len() == args.len() {
                        let map: BTreeMap<String, Expr> = def
                            .params
                            .iter()
                            .cloned()
                            .zip(args.iter().cloned())
                            .collect();
                        let inner = crate::resolve::expand::substitute(&def.body, &map);
                        self.support_at(&inner, k, point, locals, depth + 1, lower, upper)?;
                    }
                }
            }
            ExprKind::Builtin { op, args, .. } => {
                if *op == Builtin::Step && args.len() == 1 {
                    if let Some((slope, at_zero)) =
                        self.affine_at(&args[0], k, point, locals, depth)?
                    {
                        bound(slope, at_zero, RelOp::Ge);
                    }
                } else if *op == Builtin::If
                    && args.len() == 3
                    && matches!(&args[2].kind, ExprKind::Number(q) if q.is_zero())
                {
                    let conds: Vec<&Expr> = match &args[0].kind {
                        ExprKind::And(parts) => parts.iter().collect(),
                        _ => vec![&args[0]],
                    };
                    for c in conds {
                        if let ExprKind::Compare(items, ops) = &c.kind {
                            for (i, op) in ops.iter().enumerate() {
                                let diff = Expr::binary(
                                    BinOp::Sub,
                                    items[i].clone(),
                                    items[i + 1].clone(),
                                );
                                if let Some((slope, at_zero)) =
                                    self.affine_at(&diff, k, point, locals, depth)?
                                {
                                    bound(slope, at_zero, *op);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `e = slope·k + at_zero` with both exact here, if `e` is affine in `k`.
    fn affine_at(
        &self,
        e: &Expr,
        k: &str,
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Real)>,
        depth: usize,
    ) -> R<Option<(BigRational, BigRational)>> {
        self.tick()?;
        if !mentions(e, k) {
            // Constant in k: its exact value here (or not affine with known coefficients).
            return Ok(match self.value(e, point, locals, depth) {
                Ok(v) => v.as_exact().map(|q| (BigRational::zero(), q.clone())),
                Err(_) => None,
            });
        }
        let pair = |a: &Expr, this: &Self, locals: &mut Vec<(String, Real)>| {
            this.affine_at(a, k, point, locals, depth)
        };
        Ok(match &e.kind {
            ExprKind::Name(n) if n == k => Some((BigRational::one(), BigRational::zero())),
            ExprKind::Neg(a) => pair(a, self, locals)?.map(|(s, c)| (-s, -c)),
            ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
                match (pair(a, self, locals)?, pair(b, self, locals)?) {
                    (Some((s1, c1)), Some((s2, c2))) if *op == BinOp::Add => {
                        Some((s1 + s2, c1 + c2))
                    }
                    (Some((s1, c1)), Some((s2, c2))) => Some((s1 - s2, c1 - c2)),
                    _ => None,
                }
            }
            ExprKind::Binary(BinOp::Mul, a, b) => {
                match (pair(a, self, locals)?, pair(b, self, locals)?) {
                    (Some((s1, c1)), Some((s2, c2))) if s1.is_zero() => Some((&c1 * s2, c1 * c2)),
                    (Some((s1, c1)), Some((s2, c2))) if s2.is_zero() => Some((s1 * &c2, c1 * c2)),
                    _ => None,
                }
            }
            ExprKind::Binary(BinOp::Div, a, b) if !mentions(b, k) => {
                match (pair(a, self, locals)?, pair(b, self, locals)?) {
                    (Some((s1, c1)), Some((_, d))) if !d.is_zero() => Some((s1 / &d, c1 / d)),
                    _ => None,
                }
            }
            _ => None,
        })
    }
}

/// Decides `a op b` with certainty, or says it cannot.
pub(crate) fn compare(a: &Real, op: RelOp, b: &Real) -> R<bool> {
    let ord = a.cmp_certain(b);
    let undecided =
        || EvalError::Undecided(format!("comparing {} with {}", a.display(), b.display()));
    Ok(match op {
        RelOp::Eq | RelOp::Approx => match ord {
            Some(o) => o == Ordering::Equal,
            None if a.certainly_ne(b) => false,
            None => return Err(undecided()),
        },
        RelOp::Ne => match ord {
            Some(o) => o != Ordering::Equal,
            None if a.certainly_ne(b) => true,
            None => return Err(undecided()),
        },
        RelOp::Le => ord.ok_or_else(undecided)? != Ordering::Greater,
        RelOp::Lt => ord.ok_or_else(undecided)? == Ordering::Less,
        RelOp::Ge => ord.ok_or_else(undecided)? != Ordering::Less,
        RelOp::Gt => ord.ok_or_else(undecided)? == Ordering::Greater,
    })
}
