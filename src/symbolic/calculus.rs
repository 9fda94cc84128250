//! Symbolic calculus on our own `Expr`: `diff(expr, v, ...)` replaced by
//! the derivative (sum, product, quotient, power and chain rules through
//! every scalar built-in), by a scalar symbol or an array entry `w(h, l)`,
//! with sums differentiated term by term and the Kronecker delta of an
//! entry collapsed (`d/d th(k) Σ_q f(th(q)) = f'(th(k))` when the domain
//! puts `k` in the range); and definite integrals `integral(f, x, a, b)`
//! replaced by `F(b) − F(a)` for an antiderivative `F` we find ourselves
//! (verified by differentiating it back) that is continuous on the
//! interval. The results are ordinary expressions, which the normal form
//! then decides; the dual-number evaluator (`exact::dual`) stays the
//! independent path at points.
//!
//! Soundness: a rule that holds only away from some points (`abs`, `step`,
//! `sign`, `max`, `min`, `floor`, `ceil`) is used only when the domain
//! excludes those points; otherwise the step is unsupported with the points
//! named. Every produced node counts against
//! [`Budgets::derivative_nodes`](crate::config::Budgets::derivative_nodes).

use crate::exact::fold::fold_rational;
use crate::resolve::domain::{Domain, Sign};
use crate::resolve::expand::{map_children, substitute, try_map_children};
use crate::symbolic::norm_error::NormError;
use crate::symbolic::sums::linear_in;
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, RelOp};
use crate::verdict::Rule;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::{BTreeMap, BTreeSet};

/// The budget [`Budgets::derivative_nodes`](crate::config::Budgets::derivative_nodes).
pub(crate) const DERIVATIVE_NODES: usize = crate::config::Budgets::DEFAULT.derivative_nodes;

type C<T> = Result<T, NormError>;

fn unsupported<T>(m: impl Into<String>) -> C<T> {
    Err(NormError::Unsupported(m.into()))
}

/// What a derivative is taken by.
#[derive(Clone, Debug)]
enum Var {
    /// A scalar symbol.
    Symbol(String),
    /// An entry `w(h, l)` of an array symbol.
    Entry(String, Vec<Expr>),
}

/// Does `e` mention the name `x` free (not as a bound sum index)?
pub(crate) fn mentions(e: &Expr, x: &str) -> bool {
    match &e.kind {
        ExprKind::Name(n) => n == x,
        ExprKind::Builtin { op, args, .. } if op.binds_index() && args.len() == 4 => {
            mentions(&args[1], x)
                || mentions(&args[2], x)
                || (!matches!(&args[0].kind, ExprKind::Name(k) if k == x) && mentions(&args[3], x))
        }
        ExprKind::Builtin {
            op: Builtin::Integral,
            args,
            ..
        } if args.len() == 4 => {
            mentions(&args[2], x)
                || mentions(&args[3], x)
                || (!matches!(&args[1].kind, ExprKind::Name(k) if k == x) && mentions(&args[0], x))
        }
        _ => {
            let mut found = false;
            map_children(&e.kind, &mut |c| {
                found = found || mentions(c, x);
                c.clone()
            });
            found
        }
    }
}

fn mentions_entry(e: &Expr, name: &str) -> bool {
    let mut found = false;
    e.walk(&mut |n| {
        if matches!(&n.kind, ExprKind::Call { name: m, .. } if m == name) {
            found = true;
        }
    });
    found
}

// ---- small builders that fold the trivial cases, to keep results small ----

fn num_of(e: &Expr) -> Option<BigRational> {
    e.as_number().cloned()
}

fn zero() -> Expr {
    Expr::int(0)
}

fn one() -> Expr {
    Expr::int(1)
}

fn is_zero(e: &Expr) -> bool {
    num_of(e).is_some_and(|q| q.is_zero())
}

fn is_one(e: &Expr) -> bool {
    num_of(e).is_some_and(|q| q.is_one())
}

pub(crate) fn neg(a: Expr) -> Expr {
    if let Some(q) = num_of(&a) {
        return Expr::rational(-q);
    }
    match a.kind {
        ExprKind::Neg(x) => *x,
        // −(x − y) = y − x
        ExprKind::Binary(BinOp::Sub, x, y) => sub(*y, *x),
        kind => Expr::new(
            ExprKind::Neg(Box::new(Expr::new(kind, a.span))),
            Default::default(),
        ),
    }
}

pub(crate) fn add(a: Expr, b: Expr) -> Expr {
    if is_zero(&a) {
        return b;
    }
    if is_zero(&b) {
        return a;
    }
    if let (Some(x), Some(y)) = (num_of(&a), num_of(&b)) {
        return Expr::rational(x + y);
    }
    Expr::binary(BinOp::Add, a, b)
}

pub(crate) fn sub(a: Expr, b: Expr) -> Expr {
    if is_zero(&b) {
        return a;
    }
    if is_zero(&a) {
        return neg(b);
    }
    if let (Some(x), Some(y)) = (num_of(&a), num_of(&b)) {
        return Expr::rational(x - y);
    }
    Expr::binary(BinOp::Sub, a, b)
}

pub(crate) fn mul(a: Expr, b: Expr) -> Expr {
    if is_zero(&a) || is_zero(&b) {
        return zero();
    }
    if is_one(&a) {
        return b;
    }
    if is_one(&b) {
        return a;
    }
    if let (Some(x), Some(y)) = (num_of(&a), num_of(&b)) {
        return Expr::rational(x * y);
    }
    Expr::binary(BinOp::Mul, a, b)
}

pub(crate) fn div(a: Expr, b: Expr) -> Expr {
    if is_zero(&a) {
        return zero();
    }
    if is_one(&b) {
        return a;
    }
    Expr::binary(BinOp::Div, a, b)
}

pub(crate) fn pow(a: Expr, b: Expr) -> Expr {
    if is_one(&b) {
        return a;
    }
    if is_zero(&b) {
        return one();
    }
    Expr::binary(BinOp::Pow, a, b)
}

fn call(op: Builtin, a: Expr) -> Expr {
    Expr::builtin(op, vec![a])
}

fn compare(a: Expr, op: RelOp, b: Expr) -> Expr {
    Expr::new(ExprKind::Compare(vec![a, b], vec![op]), Default::default())
}

fn and(mut parts: Vec<Expr>) -> Expr {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    Expr::new(ExprKind::And(parts), Default::default())
}

fn if_then(cond: Expr, then: Expr) -> Expr {
    Expr::builtin(Builtin::If, vec![cond, then, zero()])
}

fn size(e: &Expr) -> usize {
    let mut n = 0;
    e.walk(&mut |_| n += 1);
    n
}

/// What the calculus asks of the normal form: the sign of an expression,
/// the truth of a condition, whether an expression is identically zero
/// (`normal::JUDGE`; passed in, so that this module never imports the
/// normal form, which itself calls the calculus).
pub(crate) struct Judge {
    /// The sign of `e` under the domain.
    pub(crate) sign: fn(&Domain, &Expr) -> Sign,
    /// Whether a condition holds everywhere, fails everywhere, or neither.
    pub(crate) decide: fn(&Domain, &Expr) -> Option<bool>,
    /// Whether `e` is identically zero (its normal form's numerator).
    pub(crate) is_zero: fn(&Domain, &Expr) -> bool,
}

/// Differentiates and integrates under one domain, noting the rules used.
pub(crate) struct Calculus<'a> {
    dom: &'a Domain,
    judge: &'a Judge,
    /// The rules used, for the report.
    pub(crate) rules: BTreeSet<Rule>,
    nodes: usize,
    limit: usize,
    fresh: usize,
    integrals_only: bool,
}

impl<'a> Calculus<'a> {
    /// A calculus for steps under `dom`, with a budget of produced nodes.
    pub(crate) fn new(dom: &'a Domain, limit: usize, judge: &'a Judge) -> Calculus<'a> {
        Calculus {
            dom,
            judge,
            rules: BTreeSet::new(),
            nodes: 0,
            limit,
            fresh: 0,
            integrals_only: false,
        }
    }

    /// `e` with every definite `integral` replaced by `F(b) − F(a)`, the
    /// `diff`s left as written (for evaluation at points, where a definite
    /// integral has no other value).
    pub(crate) fn eliminate_integrals(&mut self, e: &Expr) -> C<Expr> {
        self.integrals_only = true;
        let r = self.eliminate(e);
        self.integrals_only = false;
        r
    }

    fn sign(&self, e: &Expr) -> Sign {
        (self.judge.sign)(self.dom, e)
    }

    fn decide(&self, cond: &Expr) -> Option<bool> {
        (self.judge.decide)(self.dom, cond)
    }

    fn charge(&mut self, e: &Expr) -> C<()> {
        self.nodes += size(e);
        if self.nodes > self.limit {
            return Err(NormError::Budget(format!(
                "differentiation produced more than {} expression nodes (the derivative budget)",
                self.limit
            )));
        }
        Ok(())
    }

    /// `e` with every `diff` (innermost first) and every definite
    /// `integral` replaced by its value as an expression.
    pub(crate) fn eliminate(&mut self, e: &Expr) -> C<Expr> {
        let kind = try_map_children(&e.kind, &mut |c| self.eliminate(c))?;
        let e = Expr::new(kind, e.span);
        match &e.kind {
            ExprKind::Builtin {
                op: Builtin::Diff, ..
            } if self.integrals_only => Ok(e),
            ExprKind::Builtin {
                op: Builtin::Diff,
                args,
                ..
            } => {
                let mut d = args[0].clone();
                for v in &args[1..] {
                    let var = self.var(v)?;
                    d = self.derivative(&d, &var)?;
                    self.charge(&d)?;
                }
                self.rules.insert(Rule::SymbolicDerivative);
                Ok(d)
            }
            ExprKind::Builtin {
                op: Builtin::Integral,
                args,
                ..
            } if args.len() == 4 => self.definite(&args[0], &args[1], &args[2], &args[3]),
            ExprKind::Builtin {
                op: Builtin::Integral,
                ..
            } if self.integrals_only => Ok(e),
            ExprKind::Builtin {
                op: Builtin::Integral,
                ..
            } => unsupported(
                "an indefinite integral is compared as a whole side: `integral(f, x) = F + C`",
            ),
            _ => Ok(e),
        }
    }

    fn var(&self, v: &Expr) -> C<Var> {
        match &v.kind {
            ExprKind::Name(x) if self.dom.kinds.contains_key(x) => {
                if self.dom.kinds.get(x).is_some_and(|k| k.is_integer()) {
                    return unsupported(format!(
                        "`{x}` is an integer symbol; diff differentiates by a real symbol"
                    ));
                }
                Ok(Var::Symbol(x.clone()))
            }
            ExprKind::Call { name, args } => Ok(Var::Entry(name.clone(), args.clone())),
            _ => unsupported(format!(
                "diff differentiates by a declared real symbol or an array entry such as `w(h, l)`, not `{v}`"
            )),
        }
    }

    /// Is `e` constant with respect to `v`?
    fn constant(&self, e: &Expr, v: &Var) -> bool {
        match v {
            Var::Symbol(x) => !mentions(e, x),
            Var::Entry(name, _) => !mentions_entry(e, name),
        }
    }

    /// The derivative of `e` (free of `diff`) by `v`.
    fn derivative(&mut self, e: &Expr, v: &Var) -> C<Expr> {
        if self.constant(e, v) {
            return Ok(zero());
        }
        self.nodes += 1;
        if self.nodes > self.limit {
            return Err(NormError::Budget(format!(
                "differentiation produced more than {} expression nodes (the derivative budget)",
                self.limit
            )));
        }
        let d = |me: &mut Self, x: &Expr| me.derivative(x, v);
        Ok(match &e.kind {
            ExprKind::Number(_) | ExprKind::Str(_) => zero(),
            ExprKind::Name(n) => match v {
                Var::Symbol(x) if x == n => one(),
                _ => zero(),
            },
            ExprKind::Neg(a) => neg(d(self, a)?),
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (&**a, &**b);
                match op {
                    BinOp::Add => add(d(self, a)?, d(self, b)?),
                    BinOp::Sub => sub(d(self, a)?, d(self, b)?),
                    BinOp::Mul => add(mul(d(self, a)?, b.clone()), mul(a.clone(), d(self, b)?)),
                    BinOp::Div => {
                        if self.constant(b, v) {
                            div(d(self, a)?, b.clone())
                        } else {
                            div(
                                sub(mul(d(self, a)?, b.clone()), mul(a.clone(), d(self, b)?)),
                                pow(b.clone(), Expr::int(2)),
                            )
                        }
                    }
                    BinOp::Pow => self.power(a, b, v)?,
                }
            }
            ExprKind::Call { name, args } => match v {
                Var::Entry(w, at) if w == name => self.kronecker(args, at)?,
                _ => {
                    if args.iter().all(|a| self.constant(a, v)) {
                        zero()
                    } else {
                        // An index mentions the variable: the entry is piecewise constant in it.
                        return unsupported(format!(
                            "diff of `{e}`, whose index depends on the variable, is not supported"
                        ));
                    }
                }
            },
            ExprKind::Builtin { op, args, .. } => self.builtin(e, *op, args, v)?,
            ExprKind::Transpose(_) | ExprKind::Matrix(_) => {
                return unsupported("diff of a matrix expression is not supported here")
            }
            ExprKind::Expect(_) => return unsupported("diff of an expectation is not supported"),
            ExprKind::Compare(..) | ExprKind::And(_) => {
                return unsupported(format!("`{e}` is not a value"))
            }
        })
    }

    /// d(a^b).
    fn power(&mut self, a: &Expr, b: &Expr, v: &Var) -> C<Expr> {
        if self.constant(b, v) {
            // b·a^(b−1)·a'
            let da = self.derivative(a, v)?;
            let lowered = match fold_rational(b) {
                Some(q) => Expr::rational(q - BigRational::one()),
                None => sub(b.clone(), one()),
            };
            return Ok(mul(mul(b.clone(), pow(a.clone(), lowered)), da));
        }
        // A varying exponent: a^b = exp(b log a), which needs a > 0.
        let base_positive =
            fold_rational(a).is_some_and(|q| q.is_positive()) || self.sign(a) == Sign::Pos;
        if !base_positive {
            return unsupported(format!(
                "diff of `{a}` to a varying power needs a positive base (declare it, or add a condition)"
            ));
        }
        self.rules.insert(Rule::PowerAsExp);
        let db = self.derivative(b, v)?;
        let log_a = call(Builtin::Log, a.clone());
        let whole = pow(a.clone(), b.clone());
        if self.constant(a, v) {
            return Ok(mul(mul(whole, log_a), db));
        }
        let da = self.derivative(a, v)?;
        Ok(mul(
            whole,
            add(mul(db, log_a), div(mul(b.clone(), da), a.clone())),
        ))
    }

    /// d w(args) / d w(at): 1 where the indices agree, 0 where they differ.
    fn kronecker(&mut self, args: &[Expr], at: &[Expr]) -> C<Expr> {
        if args.len() != at.len() {
            return unsupported("an array entry is written with a different number of indices");
        }
        let mut conds = Vec::new();
        for (a, t) in args.iter().zip(at) {
            if a == t {
                continue;
            }
            let c = compare(a.clone(), RelOp::Eq, t.clone());
            match self.decide(&c) {
                Some(true) => {}
                Some(false) => return Ok(zero()),
                None => conds.push(c),
            }
        }
        self.rules.insert(Rule::KroneckerDelta);
        Ok(if conds.is_empty() {
            one()
        } else {
            if_then(and(conds), one())
        })
    }

    fn builtin(&mut self, whole: &Expr, op: Builtin, args: &[Expr], v: &Var) -> C<Expr> {
        let name = op.name();
        let chain = |me: &mut Self, outer: Expr| -> C<Expr> {
            let da = me.derivative(&args[0], v)?;
            Ok(mul(outer, da))
        };
        let x = || args[0].clone();
        match op {
            Builtin::Exp => chain(self, call(Builtin::Exp, x())),
            Builtin::Log => {
                let da = self.derivative(&args[0], v)?;
                Ok(div(da, x()))
            }
            Builtin::Sqrt => {
                let da = self.derivative(&args[0], v)?;
                Ok(div(da, mul(Expr::int(2), call(Builtin::Sqrt, x()))))
            }
            Builtin::Sin => chain(self, call(Builtin::Cos, x())),
            Builtin::Cos => chain(self, neg(call(Builtin::Sin, x()))),
            Builtin::Tan => {
                let da = self.derivative(&args[0], v)?;
                Ok(div(da, pow(call(Builtin::Cos, x()), Expr::int(2))))
            }
            Builtin::Sinh => chain(self, call(Builtin::Cosh, x())),
            Builtin::Cosh => chain(self, call(Builtin::Sinh, x())),
            Builtin::Tanh => chain(
                self,
                sub(one(), pow(call(Builtin::Tanh, x()), Expr::int(2))),
            ),
            Builtin::Sigmoid => {
                let s = call(Builtin::Sigmoid, x());
                chain(self, mul(s.clone(), sub(one(), s)))
            }
            Builtin::Softplus => chain(self, call(Builtin::Sigmoid, x())),
            Builtin::Pi | Builtin::E => Ok(zero()),
            Builtin::Abs => {
                let s = self.sign(&args[0]);
                if !s.nonzero() {
                    return unsupported(format!(
                        "abs is not differentiable where `{}` = 0, which the domain does not exclude",
                        args[0]
                    ));
                }
                self.rules.insert(Rule::DerivativeAwayFromKinks);
                chain(self, call(Builtin::Sign, x()))
            }
            Builtin::Step | Builtin::Sign => {
                if !self.sign(&args[0]).nonzero() {
                    return unsupported(format!(
                        "{name} is not differentiable where `{}` = 0, which the domain does not exclude",
                        args[0]
                    ));
                }
                self.rules.insert(Rule::DerivativeAwayFromKinks);
                Ok(zero())
            }
            Builtin::Factorial => unsupported(format!(
                "`{}!` is defined at integers only: it has no derivative by a real variable",
                args[0]
            )),
            Builtin::Floor | Builtin::Ceil => unsupported(format!(
                "{name} is not differentiable where `{}` is an integer",
                args[0]
            )),
            Builtin::Min | Builtin::Max => {
                // Differentiable where one argument is strictly the extreme one.
                let mut best = 0;
                for i in 1..args.len() {
                    let s = self.sign(&sub(args[i].clone(), args[best].clone()));
                    let better = if op == Builtin::Max {
                        s == Sign::Pos
                    } else {
                        s == Sign::Neg
                    };
                    let worse = if op == Builtin::Max {
                        s == Sign::Neg
                    } else {
                        s == Sign::Pos
                    };
                    if better {
                        best = i;
                    } else if !worse {
                        // Two arguments that never tie (`max(x, 0)` where
                        // `x != 0`): with d = a − b ≠ 0, `max(a, b)` is `a`
                        // where step(d) = 1 and `b` where it is 0 (`min`
                        // the other way round).
                        if args.len() == 2 && s.nonzero() {
                            let d = sub(args[0].clone(), args[1].clone());
                            let step = Expr::builtin(Builtin::Step, vec![d]);
                            let (hi, lo) = if op == Builtin::Max {
                                (&args[0], &args[1])
                            } else {
                                (&args[1], &args[0])
                            };
                            let dh = self.derivative(hi, v)?;
                            let dl = self.derivative(lo, v)?;
                            self.rules.insert(Rule::DerivativeAwayFromKinks);
                            return Ok(add(
                                mul(step.clone(), dh),
                                mul(sub(Expr::int(1), step), dl),
                            ));
                        }
                        return unsupported(format!(
                            "{name} is not differentiable where its arguments tie, which the domain does not exclude"
                        ));
                    }
                }
                self.rules.insert(Rule::DerivativeAwayFromKinks);
                self.derivative(&args[best], v)
            }
            Builtin::If => {
                if self.constant(&args[0], v) {
                    let a = self.derivative(&args[1], v)?;
                    let b = self.derivative(&args[2], v)?;
                    return Ok(Expr::builtin(Builtin::If, vec![args[0].clone(), a, b]));
                }
                match self.decide(&args[0]) {
                    Some(true) => self.derivative(&args[1], v),
                    Some(false) => self.derivative(&args[2], v),
                    None => unsupported(format!(
                        "the condition `{}` depends on the variable and is not decided by the domain; \
                         `if` is not differentiable where it switches",
                        args[0]
                    )),
                }
            }
            Builtin::Sum | Builtin::Prod => self.sum(op, args, v),
            Builtin::Diff | Builtin::Integral => {
                unsupported(format!("`{whole}` should have been evaluated first"))
            }
            _ => unsupported(format!("diff through `{name}` is not supported")),
        }
    }

    fn fresh_index(&mut self, avoid: &Expr) -> String {
        loop {
            self.fresh += 1;
            let name = format!("j{}′", self.fresh);
            if !mentions(avoid, &name) {
                return name;
            }
        }
    }

    /// d sum(k, lo, hi, body): term by term, the bounds constant; a
    /// Kronecker delta of the index collapses the sum. d prod: the product rule.
    fn sum(&mut self, op: Builtin, args: &[Expr], v: &Var) -> C<Expr> {
        let ExprKind::Name(k) = &args[0].kind else {
            return unsupported("a sum needs an index");
        };
        if !self.constant(&args[1], v) || !self.constant(&args[2], v) {
            return unsupported("diff of a sum whose bounds depend on the variable");
        }
        if matches!(v, Var::Symbol(x) if x == k) {
            // The index shadows the variable: the body does not depend on it.
            return Ok(zero());
        }
        if let Var::Entry(_, at) = v {
            if at.iter().any(|a| mentions(a, k)) {
                // Rename the index so it cannot capture the entry's indices.
                let fresh = self.fresh_index(&args[3]);
                let mut map = BTreeMap::new();
                map.insert(k.clone(), Expr::name(&fresh));
                let body = substitute(&args[3], &map);
                let mut renamed = args.to_vec();
                renamed[0] = Expr::name(&fresh);
                renamed[3] = body;
                return self.sum(op, &renamed, v);
            }
        }
        let body = &args[3];
        if op == Builtin::Sum {
            let db = self.derivative(body, v)?;
            self.rules.insert(Rule::SumTermByTerm);
            return self.collapse(k, &args[1], &args[2], db);
        }
        // d Π_k b(k) = Σ_j b'(j) Π_{k} (if k = j then 1 else b(k)).
        let j = self.fresh_index(body);
        let mut map = BTreeMap::new();
        map.insert(k.clone(), Expr::name(&j));
        let db = self.derivative(body, v)?;
        let db_j = substitute(&db, &map);
        let others = Expr::builtin(
            Builtin::Prod,
            vec![
                args[0].clone(),
                args[1].clone(),
                args[2].clone(),
                Expr::builtin(
                    Builtin::If,
                    vec![
                        compare(Expr::name(k), RelOp::Eq, Expr::name(&j)),
                        one(),
                        body.clone(),
                    ],
                ),
            ],
        );
        self.rules.insert(Rule::ProductRuleOfProd);
        Ok(Expr::builtin(
            Builtin::Sum,
            vec![
                Expr::name(&j),
                args[1].clone(),
                args[2].clone(),
                mul(db_j, others),
            ],
        ))
    }

    /// `sum(k, lo, hi, t)` for each additive term `t` of `body`; a term
    /// with a factor `if(k = e and rest, 1, 0)` is the one term at `k = e`
    /// when `lo <= e <= hi` (decided by the domain where it can).
    fn collapse(&mut self, k: &str, lo: &Expr, hi: &Expr, body: Expr) -> C<Expr> {
        let mut kept = zero();
        let mut out = zero();
        for t in split_terms(&body, k) {
            match take_delta(&t, k) {
                Some((e, rest, t)) => {
                    let mut map = BTreeMap::new();
                    map.insert(k.to_string(), e.clone());
                    let at = substitute(&t, &map);
                    let mut conds = vec![
                        compare(lo.clone(), RelOp::Le, e.clone()),
                        compare(e.clone(), RelOp::Le, hi.clone()),
                    ];
                    conds.extend(rest.iter().map(|c| substitute(c, &map)));
                    let cond = and(conds);
                    self.rules.insert(Rule::KroneckerCollapse);
                    let term = match self.decide(&cond) {
                        Some(true) => at,
                        Some(false) => zero(),
                        None => if_then(cond, at),
                    };
                    out = add(out, term);
                }
                None => kept = add(kept, t),
            }
        }
        if !is_zero(&kept) {
            out = add(
                out,
                Expr::builtin(
                    Builtin::Sum,
                    vec![Expr::name(k), lo.clone(), hi.clone(), kept],
                ),
            );
        }
        Ok(out)
    }

    // ---- integrals ----

    /// `integral(f, x, a, b)` as `F(b) − F(a)`.
    fn definite(&mut self, f: &Expr, x: &Expr, a: &Expr, b: &Expr) -> C<Expr> {
        let ExprKind::Name(xn) = &x.kind else {
            return unsupported("an integral's variable must be a name");
        };
        for bound in [a, b] {
            if is_infinite(bound) {
                return unsupported(
                    "improper integrals (an infinite bound) are not supported: write the limit of F instead",
                );
            }
            if mentions(bound, xn) {
                return unsupported("an integral's bounds must not mention its variable");
            }
        }
        let Some((big_f, needs)) = antiderivative(f, xn) else {
            return unsupported(format!(
                "no antiderivative of `{f}` found (polynomials, powers, exp, sin, cos of linear \
                 arguments); state one as `integral(f, {xn}) = F + C`"
            ));
        };
        // F must be an antiderivative: verified by our own derivative and
        // the normal form, not trusted.
        let check = self.derivative(&big_f, &Var::Symbol(xn.clone()))?;
        {
            let zero_form = (self.judge.is_zero)(self.dom, &sub(check, f.clone()));
            if !zero_form {
                return unsupported(format!(
                    "could not verify the antiderivative `{big_f}` of `{f}`"
                ));
            }
        }
        // Continuity of F on the interval between a and b: each expression
        // it needs of one strict sign is linear in x, so its signs at the
        // two bounds decide it on the whole interval.
        for need in &needs {
            let (lin, positive) = match need {
                Need::Positive(l) => (l, true),
                Need::Nonzero(l) => (l, false),
            };
            let mut m = BTreeMap::new();
            m.insert(xn.clone(), a.clone());
            let at_a = substitute(lin, &m);
            m.insert(xn.clone(), b.clone());
            let at_b = substitute(lin, &m);
            let (sa, sb) = (self.sign(&at_a), self.sign(&at_b));
            let ok = (sa == Sign::Pos && sb == Sign::Pos)
                || (!positive && sa == Sign::Neg && sb == Sign::Neg);
            if !ok {
                return unsupported(format!(
                    "the antiderivative `{big_f}` is continuous only where `{lin}` {}, \
                     and the domain does not put the whole interval there",
                    if positive { "> 0" } else { "!= 0" }
                ));
            }
        }
        let big_f = with_abs_logs(&big_f, &needs);
        self.rules.insert(Rule::FundamentalTheorem);
        let mut m = BTreeMap::new();
        m.insert(xn.clone(), b.clone());
        let at_b = substitute(&big_f, &m);
        m.insert(xn.clone(), a.clone());
        let at_a = substitute(&big_f, &m);
        let out = sub(at_b, at_a);
        self.charge(&out)?;
        Ok(out)
    }
}

/// Is the bound `inf` or `-inf`?
fn is_infinite(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(n) => n == "inf" || n == "∞",
        ExprKind::Neg(a) => is_infinite(a),
        _ => false,
    }
}

/// Additive terms of `e` whose sum is `e`, distributing products only
/// where a factor holds a Kronecker delta in `k`.
fn split_terms(e: &Expr, k: &str) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Binary(BinOp::Add, a, b) => {
            let mut v = split_terms(a, k);
            v.extend(split_terms(b, k));
            v
        }
        ExprKind::Binary(BinOp::Sub, a, b) => {
            let mut v = split_terms(a, k);
            v.extend(split_terms(b, k).into_iter().map(neg));
            v
        }
        ExprKind::Neg(a) => split_terms(a, k).into_iter().map(neg).collect(),
        ExprKind::Binary(BinOp::Mul, a, b) => {
            let (da, db) = (has_delta(a, k), has_delta(b, k));
            if !da && !db {
                return vec![e.clone()];
            }
            let xs = if da {
                split_terms(a, k)
            } else {
                vec![(**a).clone()]
            };
            let ys = if db {
                split_terms(b, k)
            } else {
                vec![(**b).clone()]
            };
            let mut out = Vec::new();
            for x in &xs {
                for y in &ys {
                    out.push(mul(x.clone(), y.clone()));
                }
            }
            out
        }
        ExprKind::Binary(BinOp::Div, a, b) if has_delta(a, k) => split_terms(a, k)
            .into_iter()
            .map(|t| div(t, (**b).clone()))
            .collect(),
        _ => vec![e.clone()],
    }
}

fn delta_of(e: &Expr, k: &str) -> Option<(Expr, Vec<Expr>)> {
    let (Builtin::If, args) = e.as_builtin()? else {
        return None;
    };
    if !is_one(&args[1]) || !is_zero(&args[2]) {
        return None;
    }
    let conds: Vec<&Expr> = match &args[0].kind {
        ExprKind::And(parts) => parts.iter().collect(),
        _ => vec![&args[0]],
    };
    for (i, c) in conds.iter().enumerate() {
        let ExprKind::Compare(items, ops) = &c.kind else {
            continue;
        };
        if ops.len() != 1 || ops[0] != RelOp::Eq {
            continue;
        }
        // items[0] − items[1] = s·k + r with s = ±1: k = −r/s.
        let d = sub(items[0].clone(), items[1].clone());
        let Some((s, r)) = linear_in(&d, k) else {
            continue;
        };
        let solved = if s.is_one() {
            neg(r)
        } else if (-s.clone()).is_one() {
            r
        } else {
            continue;
        };
        if mentions(&solved, k) {
            continue;
        }
        let rest = conds
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| (*c).clone())
            .collect();
        return Some((solved, rest));
    }
    None
}

fn has_delta(e: &Expr, k: &str) -> bool {
    match &e.kind {
        ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul, a, b) => {
            has_delta(a, k) || has_delta(b, k)
        }
        ExprKind::Binary(BinOp::Div, a, _) | ExprKind::Neg(a) => has_delta(a, k),
        _ => delta_of(e, k).is_some(),
    }
}

/// A term with a Kronecker factor in `k`: the solved index, the other
/// conditions, and the term with that factor replaced by 1.
fn take_delta(t: &Expr, k: &str) -> Option<(Expr, Vec<Expr>, Expr)> {
    if let Some((e, rest)) = delta_of(t, k) {
        return Some((e, rest, one()));
    }
    match &t.kind {
        ExprKind::Binary(BinOp::Mul, a, b) => {
            if let Some((e, rest, a2)) = take_delta(a, k) {
                return Some((e, rest, mul(a2, (**b).clone())));
            }
            let (e, rest, b2) = take_delta(b, k)?;
            Some((e, rest, mul((**a).clone(), b2)))
        }
        ExprKind::Binary(BinOp::Div, a, b) => {
            let (e, rest, a2) = take_delta(a, k)?;
            Some((e, rest, div(a2, (**b).clone())))
        }
        ExprKind::Neg(a) => {
            let (e, rest, a2) = take_delta(a, k)?;
            Some((e, rest, neg(a2)))
        }
        _ => None,
    }
}

/// What an antiderivative needs to be continuous on an interval.
#[derive(Clone, Debug)]
enum Need {
    /// This expression (linear in the variable) positive on the interval.
    Positive(Expr),
    /// This expression (linear in the variable) nonzero on the interval;
    /// the antiderivative's `log(it)` is then evaluated as `log(|it|)`.
    Nonzero(Expr),
}

/// `F` with `log(L)` written `log(|L|)` for each `L` that needs only to be
/// nonzero (the antiderivative of `1/L` on an interval where `L < 0`).
fn with_abs_logs(f: &Expr, needs: &[Need]) -> Expr {
    let kind = map_children(&f.kind, &mut |c| with_abs_logs(c, needs));
    let e = Expr::new(kind, f.span);
    if let Some((Builtin::Log, args)) = e.as_builtin() {
        if needs
            .iter()
            .any(|n| matches!(n, Need::Nonzero(l) if *l == args[0]))
        {
            return call(Builtin::Log, call(Builtin::Abs, args[0].clone()));
        }
    }
    e
}

/// `e` as a polynomial in `x`: coefficients (free of `x`) by degree.
fn polynomial_in(e: &Expr, x: &str) -> Option<BTreeMap<u32, Expr>> {
    const MAX_DEGREE: u32 = 64;
    let single = |d: u32, c: Expr| {
        let mut m = BTreeMap::new();
        m.insert(d, c);
        m
    };
    if !mentions(e, x) {
        return Some(single(0, e.clone()));
    }
    match &e.kind {
        ExprKind::Name(n) if n == x => Some(single(1, one())),
        ExprKind::Neg(a) => Some(
            polynomial_in(a, x)?
                .into_iter()
                .map(|(d, c)| (d, neg(c)))
                .collect(),
        ),
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let mut p = polynomial_in(a, x)?;
            for (d, c) in polynomial_in(b, x)? {
                let c = if *op == BinOp::Sub { neg(c) } else { c };
                let cur = p.remove(&d).unwrap_or_else(zero);
                p.insert(d, add(cur, c));
            }
            Some(p)
        }
        ExprKind::Binary(BinOp::Mul, a, b) => {
            let (p, q) = (polynomial_in(a, x)?, polynomial_in(b, x)?);
            let mut out: BTreeMap<u32, Expr> = BTreeMap::new();
            for (d1, c1) in &p {
                for (d2, c2) in &q {
                    let d = d1 + d2;
                    if d > MAX_DEGREE {
                        return None;
                    }
                    let cur = out.remove(&d).unwrap_or_else(zero);
                    out.insert(d, add(cur, mul(c1.clone(), c2.clone())));
                }
            }
            Some(out)
        }
        ExprKind::Binary(BinOp::Div, a, b) if !mentions(b, x) => Some(
            polynomial_in(a, x)?
                .into_iter()
                .map(|(d, c)| (d, div(c, (**b).clone())))
                .collect(),
        ),
        ExprKind::Binary(BinOp::Pow, a, b) => {
            let k = fold_rational(b)?;
            if !k.is_integer()
                || k.is_negative()
                || k > BigRational::from_integer(MAX_DEGREE.into())
            {
                return None;
            }
            let k: u32 = k.to_integer().try_into().ok()?;
            let base = polynomial_in(a, x)?;
            let mut acc = single(0, one());
            for _ in 0..k {
                let mut out: BTreeMap<u32, Expr> = BTreeMap::new();
                for (d1, c1) in &acc {
                    for (d2, c2) in &base {
                        let d = d1 + d2;
                        if d > MAX_DEGREE {
                            return None;
                        }
                        let cur = out.remove(&d).unwrap_or_else(zero);
                        out.insert(d, add(cur, mul(c1.clone(), c2.clone())));
                    }
                }
                acc = out;
            }
            Some(acc)
        }
        _ => None,
    }
}

/// `e = a·x + b` with `a` a nonzero number: `(a, b)`.
fn linear_arg(e: &Expr, x: &str) -> Option<(BigRational, Expr)> {
    let (a, b) = linear_in(e, x)?;
    (!a.is_zero() && !mentions(&b, x)).then_some((a, b))
}

/// An antiderivative of `f` in `x` from a small table (linearity,
/// polynomials, powers and `exp`, `sin`, `cos` of linear arguments), with
/// what it needs to be continuous.
fn antiderivative(f: &Expr, x: &str) -> Option<(Expr, Vec<Need>)> {
    if !mentions(f, x) {
        return Some((mul(f.clone(), Expr::name(x)), Vec::new()));
    }
    if let Some(p) = polynomial_in(f, x) {
        let mut out = zero();
        for (d, c) in p {
            let k = Expr::int(d as i64 + 1);
            out = add(out, div(mul(c, pow(Expr::name(x), k.clone())), k));
        }
        return Some((out, Vec::new()));
    }
    match &f.kind {
        ExprKind::Neg(a) => {
            let (g, n) = antiderivative(a, x)?;
            Some((neg(g), n))
        }
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let (ga, mut na) = antiderivative(a, x)?;
            let (gb, nb) = antiderivative(b, x)?;
            na.extend(nb);
            Some((
                if *op == BinOp::Add {
                    add(ga, gb)
                } else {
                    sub(ga, gb)
                },
                na,
            ))
        }
        ExprKind::Binary(BinOp::Mul, a, b) if !mentions(a, x) => {
            let (g, n) = antiderivative(b, x)?;
            Some((mul((**a).clone(), g), n))
        }
        ExprKind::Binary(BinOp::Mul, a, b) if !mentions(b, x) => {
            let (g, n) = antiderivative(a, x)?;
            Some((mul(g, (**b).clone()), n))
        }
        ExprKind::Binary(BinOp::Div, a, b) if !mentions(b, x) => {
            let (g, n) = antiderivative(a, x)?;
            Some((div(g, (**b).clone()), n))
        }
        ExprKind::Binary(BinOp::Div, a, b) if !mentions(a, x) => {
            // a / (c x + d) = (a/c) log|c x + d| ... written with the sign known:
            // only 1/x-like terms with a linear denominator.
            let (c, _) = linear_arg(b, x)?;
            let g = div(
                mul((**a).clone(), call(Builtin::Log, (**b).clone())),
                Expr::rational(c),
            );
            Some((g, vec![Need::Nonzero((**b).clone())]))
        }
        ExprKind::Binary(BinOp::Pow, a, b) if !mentions(b, x) => {
            let (c, _) = linear_arg(a, x)?;
            let r = fold_rational(b)?;
            if r == -BigRational::one() {
                let g = div(call(Builtin::Log, (**a).clone()), Expr::rational(c));
                return Some((g, vec![Need::Nonzero((**a).clone())]));
            }
            let r1 = &r + BigRational::one();
            let g = div(
                pow((**a).clone(), Expr::rational(r1.clone())),
                Expr::rational(r1 * c),
            );
            let needs = if r.is_integer() && !r.is_negative() {
                Vec::new()
            } else {
                vec![Need::Positive((**a).clone())]
            };
            Some((g, needs))
        }
        ExprKind::Builtin { op, args, .. } if args.len() == 1 => {
            let (c, _) = linear_arg(&args[0], x)?;
            let c = Expr::rational(c);
            let a = args[0].clone();
            match op {
                Builtin::Exp => Some((div(call(Builtin::Exp, a), c), Vec::new())),
                Builtin::Sin => Some((neg(div(call(Builtin::Cos, a), c)), Vec::new())),
                Builtin::Cos => Some((div(call(Builtin::Sin, a), c), Vec::new())),
                Builtin::Sqrt if matches!(&args[0].kind, ExprKind::Name(n) if n == x) => Some((
                    div(
                        mul(
                            Expr::int(2),
                            pow(a, Expr::rational(BigRational::new(3.into(), 2.into()))),
                        ),
                        Expr::int(3),
                    ),
                    vec![Need::Positive(Expr::name(x))],
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An indefinite integral written as one side of an `=` step,
/// `integral(f, x) = G`, becomes the step `diff(G, x) = f`: `G` is an
/// antiderivative of `f` (a constant of integration is any name that
/// does not depend on `x`). `None` when neither side is one.
pub(crate) fn indefinite_step(l: &Expr, r: &Expr) -> Option<(Expr, Expr)> {
    let as_indefinite = |e: &Expr| match e.as_builtin() {
        Some((Builtin::Integral, args)) if args.len() == 2 => {
            Some((args[0].clone(), args[1].clone()))
        }
        _ => None,
    };
    if let Some((f, x)) = as_indefinite(l) {
        return Some((Expr::builtin(Builtin::Diff, vec![r.clone(), x]), f));
    }
    let (f, x) = as_indefinite(r)?;
    Some((Expr::builtin(Builtin::Diff, vec![l.clone(), x]), f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::ScalarKind;

    fn x() -> Expr {
        Expr::name("x")
    }

    fn real_x() -> Domain {
        let mut d = Domain::default();
        d.kinds.insert("x".into(), ScalarKind::Real);
        d
    }

    #[test]
    fn power_rule_and_chain_rule_without_the_cas() {
        let dom = real_x();
        let mut c = Calculus::new(&dom, 1000, &crate::symbolic::normal::JUDGE);
        let v = Var::Symbol("x".into());
        let cube = pow(x(), Expr::int(3));
        assert_eq!(c.derivative(&cube, &v).unwrap().to_string(), "3 * (x^2)");
        let e = call(Builtin::Exp, neg(x()));
        assert_eq!(c.derivative(&e, &v).unwrap().to_string(), "exp(-x) * (-1)");
        let constant = call(Builtin::Sin, Expr::name("y"));
        assert!(is_zero(&c.derivative(&constant, &v).unwrap()));
    }

    #[test]
    fn the_node_budget_stops_deep_chains() {
        let dom = real_x();
        let mut c = Calculus::new(&dom, 50, &crate::symbolic::normal::JUDGE);
        let body = (0..12).fold(x(), |acc, _| call(Builtin::Exp, mul(acc, x())));
        let deep = Expr::builtin(Builtin::Diff, vec![body, x(), x(), x(), x(), x(), x(), x()]);
        assert!(matches!(c.eliminate(&deep), Err(NormError::Budget(_))));
    }

    #[test]
    fn polynomials_integrate_term_by_term() {
        // 3x² − 2x + 1
        let f = add(
            sub(
                mul(Expr::int(3), pow(x(), Expr::int(2))),
                mul(Expr::int(2), x()),
            ),
            one(),
        );
        let (big_f, needs) = antiderivative(&f, "x").unwrap();
        assert!(needs.is_empty());
        // x³ − x² + x: degrees 1, 2 and 3 (no constant term).
        let p = polynomial_in(&big_f, "x").unwrap();
        assert_eq!(p.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        let reciprocal = div(one(), x());
        let (_, needs) = antiderivative(&reciprocal, "x").unwrap();
        assert!(matches!(needs.as_slice(), [Need::Nonzero(_)]));
        assert!(antiderivative(&call(Builtin::Exp, pow(x(), Expr::int(2))), "x").is_none());
    }

    #[test]
    fn a_kronecker_factor_is_found_and_solved() {
        let delta = if_then(compare(Expr::name("q"), RelOp::Eq, Expr::name("k")), one());
        let term = mul(Expr::name("a"), delta);
        let (at, rest, left) = take_delta(&term, "q").unwrap();
        assert_eq!(at.to_string(), "k");
        assert!(rest.is_empty());
        assert_eq!(left.to_string(), "a");
        assert_eq!(split_terms(&add(term.clone(), term), "q").len(), 2);
    }

    #[test]
    fn an_indefinite_side_becomes_a_derivative_step() {
        let int = Expr::builtin(Builtin::Integral, vec![x(), x()]);
        let (l, r) = indefinite_step(&Expr::name("F"), &int).unwrap();
        assert_eq!(l.to_string(), "diff(F, x)");
        assert_eq!(r.to_string(), "x");
    }
}
