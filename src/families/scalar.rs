//! Scalar steps: the symbolic normal form or sign of the difference (also
//! after writing bounded symbols as bound plus offset), induction for sums
//! and recursive definitions; then points: exact evaluation when nothing is
//! free, exhaustion of a finite integer domain, an ordered scan of one
//! integer symbol, and seeded spot checks. A proof is cross-checked at a
//! few points, and a certified counterexample always wins over it.

use crate::check::evidence::{Evidence, PointOutcome};
use crate::check::{display_point, Scope};
use crate::exact::eval::{compare, EvalError, Evaluator};
use crate::exact::real::Real;
use crate::exact::spot::{all_points, Point, Sampler};
use crate::resolve::domain::{as_literal, Bound, Domain, Sign};
use crate::resolve::expand::substitute;
use crate::resolve::{names_in, Context, Kind, ScalarKind};
use crate::symbolic::normal::{NormError, Normalizer};
use crate::symbolic::polynomial::{Alg, RatFun};
use crate::syntax::expr::{BinOp, Builtin, Expr, RelOp};
use crate::syntax::parser::decimal_places;
use crate::verdict::{Certificate, Counterexample, Method, StopReason, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;
use std::collections::BTreeMap;

/// How a step's two values are compared.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    /// The relation as written.
    Rel(RelOp),
    /// `≈` against a literal with this tolerance; `literal_on_right` tells the side.
    Approx {
        /// The decimal literal.
        literal: BigRational,
        /// Half a unit of its last written digit.
        tolerance: BigRational,
        /// Is the literal the right side?
        literal_on_right: bool,
    },
}

impl Test {
    /// Does `a test b` hold, with certainty?
    pub(crate) fn holds(&self, a: &Real, b: &Real) -> Result<bool, EvalError> {
        match self {
            Test::Rel(op) => compare(a, *op, b),
            Test::Approx {
                literal,
                tolerance,
                literal_on_right,
            } => {
                let other = if *literal_on_right { a } else { b };
                let lo = Real::exact(literal - tolerance);
                let hi = Real::exact(literal + tolerance);
                Ok(compare(&lo, RelOp::Le, other)? && compare(other, RelOp::Le, &hi)?)
            }
        }
    }
}

/// Half a unit of the last of `places` decimal places.
pub(crate) fn half_unit(places: usize) -> BigRational {
    BigRational::new(
        BigInt::from(1),
        BigInt::from(2) * num_traits::pow(BigInt::from(10), places),
    )
}

/// The first name among `names` that is not a scalar, with why a scalar
/// step cannot use it.
pub(crate) fn non_scalar_use(names: &[String], ctx: &Context) -> Option<String> {
    names
        .iter()
        .find_map(|n| match ctx.symbols.get(n).map(|s| &s.kind) {
            Some(Kind::Scalar(_)) | None => None,
            Some(Kind::Matrix(..)) | Some(Kind::Identity) => Some(format!(
                "`{n}` is a matrix; matrix claims are not supported yet"
            )),
            Some(Kind::Array(..)) => Some(format!(
                "`{n}` is an array; array claims are not supported yet"
            )),
            Some(Kind::Random { .. }) => Some(format!(
                "`{n}` is a random variable; random-variable claims are not supported yet"
            )),
        })
}

/// Checks one scalar step `lhs op rhs`. A side `integral(f, x)` (an
/// antiderivative) makes the step `diff(other side, x) = f`.
pub(crate) fn check_step(
    scope: &Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Verdict {
    if let Some((l, r)) = crate::symbolic::calculus::indefinite_step(lhs, rhs) {
        if op != RelOp::Eq {
            return Verdict::unsupported(
                "an indefinite integral is compared with `=` only (`integral(f, x) = F + C`)",
            );
        }
        let mut v = check_step_as_written(scope, index, &l, op, &r);
        if let Verdict::Proved { rules, .. } = &mut v {
            rules.insert(0, crate::verdict::Rule::Antiderivative);
        }
        return v;
    }
    // A definite integral has no value at a point but F(b) − F(a): write
    // that in, for the points and the proof alike.
    let has_integral = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |n| {
            found |= matches!(n.as_builtin(), Some((Builtin::Integral, a)) if a.len() == 4)
        });
        found
    };
    if has_integral(lhs) || has_integral(rhs) {
        let mut calc = crate::symbolic::calculus::Calculus::new(
            &scope.dom,
            scope.cfg.budgets.derivative_nodes,
            &crate::symbolic::normal::JUDGE,
        );
        let prepared = |calc: &mut crate::symbolic::calculus::Calculus<'_>, e: &Expr| {
            scope
                .prepare(e)
                .ok()
                .and_then(|x| calc.eliminate_integrals(&x).ok())
        };
        if let (Some(l), Some(r)) = (prepared(&mut calc, lhs), prepared(&mut calc, rhs)) {
            let mut v = check_step_as_written(scope, index, &l, op, &r);
            if let Verdict::Proved { rules, .. } = &mut v {
                for rule in calc.rules {
                    if !rules.contains(&rule) {
                        rules.push(rule);
                    }
                }
            }
            return v;
        }
    }
    check_step_as_written(scope, index, lhs, op, rhs)
}

fn check_step_as_written(
    scope: &Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Verdict {
    let test = if op == RelOp::Approx {
        let lit = |e: &Expr| {
            as_literal(e).and_then(|v| decimal_places(&scope.show_text, e.span).map(|d| (v, d)))
        };
        let (literal, places, literal_on_right) = match (lit(rhs), lit(lhs)) {
            (Some((v, d)), _) => (v, d, true),
            (None, Some((v, d))) => (v, d, false),
            (None, None) => {
                return Verdict::error(
                    "`≈` needs a decimal literal on one side (its digits give the precision)",
                    None,
                )
            }
        };
        Test::Approx {
            literal,
            tolerance: half_unit(places),
            literal_on_right,
        }
    } else {
        Test::Rel(op)
    };
    let mut used = Vec::new();
    names_in(lhs, &mut used);
    names_in(rhs, &mut used);
    if let Some(reason) = non_scalar_use(&used, scope.ctx) {
        return Verdict::unsupported(reason);
    }
    let (l, r) = match (scope.prepare(lhs), scope.prepare(rhs)) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(m), _) | (_, Err(m)) => {
            // Recursive definitions cannot be expanded symbolically; induction may still apply.
            let proof = by_induction(scope, lhs, op, rhs);
            return with_points(
                scope,
                index,
                lhs,
                rhs,
                &test,
                proof,
                BTreeMap::new(),
                Some(m),
            );
        }
    };
    let mut expanded_names = Vec::new();
    names_in(&l, &mut expanded_names);
    names_in(&r, &mut expanded_names);
    if let Some(reason) = non_scalar_use(&expanded_names, scope.ctx) {
        return Verdict::unsupported(reason);
    }
    // 1. The symbolic method.
    if !scope.cfg.symbolic {
        return with_points(scope, index, lhs, rhs, &test, None, BTreeMap::new(), None);
    }
    let (mut proof, roots, symbolic_note) = match symbolic(scope, &l, &r, &test) {
        Ok((verdict, roots)) => (verdict, roots, None),
        Err((note, roots)) => (None, roots, Some(note)),
    };
    if proof.is_none() {
        proof = by_induction(scope, lhs, op, rhs);
    }
    // 2. Points: exhaustive or sampled; cross-checks a proof.
    with_points(scope, index, lhs, rhs, &test, proof, roots, symbolic_note)
}

/// The symbolic proof of `lhs = rhs` alone (definitions and `given`
/// substitutions expanded, then the normal form; no points), for families
/// whose points are checked elsewhere.
pub(crate) fn proof_of_equation(scope: &Scope<'_>, lhs: &Expr, rhs: &Expr) -> Option<Verdict> {
    let (l, r) = (scope.prepare(lhs).ok()?, scope.prepare(rhs).ok()?);
    match symbolic(scope, &l, &r, &Test::Rel(RelOp::Eq)) {
        Ok((Some(v), _)) => Some(v),
        _ => None,
    }
}

/// Does the domain imply `e ≥ 0` (directly, or after writing bounded
/// symbols as their bounds plus nonnegative offsets)?
pub(crate) fn provably_nonnegative(scope: &Scope<'_>, e: &Expr) -> bool {
    let e = substitute(e, &scope.subs);
    if Normalizer::new(&scope.dom).sign_of(&e).nonneg() {
        return true;
    }
    if let Some((shifted, map)) = shifted_domain(&scope.dom) {
        let e2 = substitute(&e, &map);
        return Normalizer::new(&shifted).sign_of(&e2).nonneg();
    }
    false
}

fn by_induction(scope: &Scope<'_>, lhs: &Expr, op: RelOp, rhs: &Expr) -> Option<Verdict> {
    if op != RelOp::Eq || !scope.cfg.symbolic {
        return None;
    }
    let (ls, rs) = (substitute(lhs, &scope.subs), substitute(rhs, &scope.subs));
    crate::symbolic::induction::prove(scope.ctx, &scope.dom, &ls, &rs).map(Verdict::proved)
}

/// The proof (or `None`) by normal form or sign, and the radical degrees
/// for sampling; `Err` with a note when the engine could not decide.
type Symbolic = Result<(Option<Verdict>, BTreeMap<String, u32>), (String, BTreeMap<String, u32>)>;

/// Proves an equality by normal form or an inequality by sign, if it can.
fn symbolic(scope: &Scope<'_>, l: &Expr, r: &Expr, test: &Test) -> Symbolic {
    let mut n = Normalizer::new(&scope.dom);
    n.prescan(l);
    n.prescan(r);
    let roots = n.roots_map();
    let op = match test {
        Test::Rel(op) => *op,
        Test::Approx { .. } => return Ok((None, roots)),
    };
    let first = prove_relation(&mut n, l, r, op);
    if matches!(first, Ok(None)) && op != RelOp::Eq {
        // Use the domain's bounds monotonically: x = lo + x' with x' >= 0.
        if let Some((shifted_dom, map)) = shifted_domain(&scope.dom) {
            let (l2, r2) = (substitute(l, &map), substitute(r, &map));
            let mut n2 = Normalizer::new(&shifted_dom);
            n2.prescan(&l2);
            n2.prescan(&r2);
            if let Ok(Some(v)) = prove_relation(&mut n2, &l2, &r2, op) {
                let shifts = map
                    .iter()
                    .map(|(k, e)| format!("{k} -> {e}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let v = v.in_context(format!(
                    "after writing each bounded symbol as its bound plus a nonnegative offset ({shifts})"
                ));
                return Ok((Some(v), roots));
            }
        }
    }
    match first {
        Ok(v) => Ok((v, roots)),
        Err(e) => Err((format!("symbolic engine: {e}"), roots)),
    }
}

/// Evaluates the step at one admissible point: its outcome, or the
/// certified refutation there. Irrational values are enclosed at
/// [`Budgets::precision_bits`](crate::config::Budgets::precision_bits);
/// a point the enclosures do not decide is evaluated again with twice the
/// bits, up to `max_precision_bits`. Enclosures of an equation's (or a
/// non-strict inequality's) sides that overlap and agree to
/// `agreement_bits` are numerical agreement.
fn try_point(
    scope: &Scope<'_>,
    ev: &Evaluator<'_>,
    sides: (&Expr, &Expr),
    test: &Test,
    p: &Point,
) -> Result<PointOutcome, Verdict> {
    let budgets = &scope.cfg.budgets;
    let mut bits = budgets.precision_bits;
    loop {
        let outcome = crate::exact::real::with_precision(bits, || {
            try_point_at(
                ev,
                &scope.with_subs(ev, p),
                sides,
                test,
                p,
                budgets.agreement_bits,
            )
        })?;
        match outcome {
            PointOutcome::Undecided(_) if bits < budgets.max_precision_bits => {
                bits = bits.saturating_mul(2).min(budgets.max_precision_bits);
            }
            other => return Ok(other),
        }
    }
}

/// [`try_point`] at the current precision.
fn try_point_at(
    ev: &Evaluator<'_>,
    full: &Point,
    sides: (&Expr, &Expr),
    test: &Test,
    p: &Point,
    agreement_bits: u32,
) -> Result<PointOutcome, Verdict> {
    let (a, b) = match (ev.eval(sides.0, full), ev.eval(sides.1, full)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return Ok(match e {
                // More precision does not help a budget: the point is unusable.
                EvalError::Unsupported(m) | EvalError::Budget(m) => PointOutcome::Unusable(m),
                EvalError::Undefined(m) => PointOutcome::Undefined(m),
                other => PointOutcome::Undecided(other.to_string()),
            });
        }
    };
    let tolerant = matches!(test, Test::Rel(RelOp::Eq | RelOp::Le | RelOp::Ge));
    match test.holds(&a, &b) {
        Ok(true) => Ok(PointOutcome::Agreed),
        Err(_) if tolerant && a.agrees_within(&b, agreement_bits) => {
            Ok(PointOutcome::AgreedNumerically)
        }
        Ok(false) => {
            let exact = a.as_exact().is_some() && b.as_exact().is_some();
            let method = match (p.is_empty(), exact) {
                (true, true) => Method::ExactEvaluation,
                (false, true) => Method::Counterexample(Certificate::Exact),
                (true, false) => Method::Enclosures,
                (false, false) => Method::Counterexample(Certificate::Enclosures),
            };
            Err(Verdict::refuted(
                method,
                Counterexample {
                    values: display_point(p),
                    lhs: a.display(),
                    rhs: b.display(),
                    mismatches: Vec::new(),
                },
            ))
        }
        Err(e) => Ok(PointOutcome::Undecided(e.to_string())),
    }
}

/// Decides a step at points: exact evaluation when it has no free
/// symbols, exhaustion of a finite domain, an ordered scan of a single
/// integer symbol, then seeded spot checks. A `proof` from the symbolic
/// method is cross-checked; a certified counterexample wins over it.
#[allow(clippy::too_many_arguments)]
fn with_points(
    scope: &Scope<'_>,
    index: usize,
    lhs: &Expr,
    rhs: &Expr,
    test: &Test,
    proof: Option<Verdict>,
    roots: BTreeMap<String, u32>,
    note: Option<String>,
) -> Verdict {
    let ev = Evaluator::new(scope.ctx);
    let (l, r) = (substitute(lhs, &scope.subs), substitute(rhs, &scope.subs));
    let sides = (&l, &r);
    let symbols = scope.symbols_of(&[lhs, rhs]);
    let mut evidence = Evidence::default();
    let at = |p: &Point, evidence: &mut Evidence| -> Option<Verdict> {
        // Admissibility first: it is cheaper than the point's key, and an
        // inadmissible point is inadmissible again when drawn twice.
        if !scope.admissible(&ev, p) || !evidence.first_time(format!("{:?}", display_point(p))) {
            return None;
        }
        match try_point(scope, &ev, sides, test, p) {
            Ok(outcome) => {
                evidence.record(outcome);
                None
            }
            Err(refutation) => Some(refutation),
        }
    };
    let mut refuted = None;
    let mut by_points = None;
    if symbols.is_empty() {
        refuted = at(&Point::new(), &mut evidence);
        if refuted.is_none() && evidence.agreed == 1 && evidence.numerical == 0 {
            // Decided by exact values, or by disjoint enclosures (an inequality).
            let exact = [sides.0, sides.1].iter().all(|s| {
                ev.eval(s, &scope.with_subs(&ev, &Point::new()))
                    .is_ok_and(|v| v.as_exact().is_some())
            });
            by_points = Some(Verdict::proved(if exact {
                Method::ExactEvaluation
            } else {
                Method::Enclosures
            }));
        }
        if refuted.is_none() && by_points.is_none() {
            // Irrational or undefined constants: exact algebraic numbers
            // decide radicals; an undefined value is never proved.
            match algebraic(scope, lhs, rhs, test) {
                Some(Ok(v)) if v.kind() == crate::verdict::VerdictKind::Refuted => refuted = Some(v),
                Some(Ok(v)) => by_points = Some(v),
                Some(Err(undefined)) => {
                    return Verdict::unsupported(format!(
                        "{undefined}; a constant claim about a value that does not exist is neither proved nor refuted"
                    ))
                }
                None => {}
            }
            if by_points.is_none() && refuted.is_none() && evidence.undefined > 0 {
                let full = scope.with_subs(&ev, &Point::new());
                let why = [sides.0, sides.1]
                    .iter()
                    .find_map(|s| match ev.eval(s, &full) {
                        Err(EvalError::Undefined(m)) => Some(m),
                        _ => None,
                    })
                    .or_else(|| evidence.problem.clone())
                    .unwrap_or_default();
                return Verdict::unsupported(format!(
                    "{why}; a constant claim about a value that does not exist is neither proved nor refuted"
                ));
            }
        }
    } else if let Some(points) =
        all_points(&scope.dom, &symbols, scope.cfg.budgets.exhaustive_limit)
    {
        let total = points.len();
        for p in &points {
            refuted = at(p, &mut evidence);
            if refuted.is_some() {
                break;
            }
        }
        if refuted.is_none() && evidence.all_agreed() {
            let excluded = total - evidence.agreed;
            let mut proved = Verdict::proved(Method::Exhaustive {
                points: evidence.agreed,
                entries: false,
            });
            if let (Verdict::Proved { remarks, .. }, true) = (&mut proved, excluded > 0) {
                remarks.push(format!(
                    "{excluded} of {total} points excluded (by the conditions, or a side undefined there)"
                ));
            }
            by_points = Some(proved);
        }
    } else {
        if proof.is_none() {
            refuted = scan_in_order(scope, &symbols, &mut |p| at(p, &mut evidence));
        }
        let wanted = if proof.is_some() {
            scope.cfg.budgets.cross_checks
        } else {
            scope.cfg.budgets.samples
        };
        let mut sampler = Sampler::new(&scope.dom, symbols.clone(), roots, scope.step_seed(index));
        // Cross-checks of a proof stop once `wanted` points were decided
        // either way: an undecided point (equal irrational values) costs as
        // much as a decided one and tells nothing.
        let enough = |e: &Evidence| {
            e.agreed >= wanted || (proof.is_some() && e.agreed + e.undecided >= wanted)
        };
        let mut drawn = 0;
        while refuted.is_none() && !enough(&evidence) && drawn < scope.cfg.budgets.attempts {
            // Values out of range at many points (`exp(exp(x))` at large x):
            // moderate magnitudes from now on.
            if !sampler.is_moderate() && evidence.unusable > evidence.agreed {
                sampler.moderate();
            }
            for p in sampler.points(wanted.max(8)) {
                drawn += 1;
                refuted = at(&p, &mut evidence);
                if refuted.is_some() || enough(&evidence) {
                    break;
                }
            }
        }
    }
    if let Some(v) = refuted {
        if proof.is_some() {
            if let Verdict::Refuted {
                method,
                counterexample,
                ..
            } = v
            {
                return Verdict::Refuted {
                    method,
                    counterexample,
                    notes: vec!["the symbolic method claimed a proof but this certified counterexample contradicts it; \
                            the counterexample wins (please report this as a bug)"
                        .into()],
                };
            }
        }
        return v;
    }
    // With no free symbols, exact evaluation is the plainer proof.
    if let (Some(p), true) = (&by_points, symbols.is_empty()) {
        return p.clone();
    }
    if let Some(mut p) = proof {
        // Some admissible point where the sides are defined (even if not
        // evaluable) shows the domain is not empty.
        if evidence.agreed == 0
            && evidence.admissible <= evidence.undefined
            && !scope.conditions.is_empty()
        {
            return Verdict::Unsupported(StopReason::DomainMaybeEmpty);
        }
        if let Verdict::Proved { cross_checks, .. } = &mut p {
            *cross_checks = evidence.cross_checks(false);
        }
        return p;
    }
    if let Some(p) = by_points {
        return p;
    }
    if symbols.is_empty() && evidence.numerical > 0 {
        return Verdict::unsupported(format!(
            "both sides are irrational and agree numerically (certified enclosures overlapping within a relative 2^-{}), \
             but no exact method decides this constant claim, so it is not proved",
            scope.cfg.budgets.agreement_bits
        ));
    }
    evidence.sampled(
        scope.cfg.budgets.min_checks,
        Method::SpotChecks,
        Vec::new(),
        note,
    )
}

/// Decides a constant step whose sides are exact real algebraic numbers
/// (rationals, `+ − × ÷`, rational powers, roots): `Some(Ok(verdict))`,
/// `Some(Err(reason))` when a side is undefined (which sub-expression),
/// `None` when the sides are not algebraic or a budget ran out.
fn algebraic(
    scope: &Scope<'_>,
    lhs: &Expr,
    rhs: &Expr,
    test: &Test,
) -> Option<Result<Verdict, String>> {
    use crate::exact::algebraic::{compare as alg_compare, AlgError, Algebraics};
    use std::cmp::Ordering;
    let Test::Rel(op) = test else { return None };
    let (l, r) = (scope.prepare(lhs).ok()?, scope.prepare(rhs).ok()?);
    let alg = Algebraics::new(scope.cfg.budgets.algebraic_degree);
    let (a, b) = match (alg.eval(&l), alg.eval(&r)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(AlgError::Undefined(m)), _) | (_, Err(AlgError::Undefined(m))) => return Some(Err(m)),
        _ => return None,
    };
    let ord = alg_compare(&a, &b).ok()?;
    let holds = match op {
        RelOp::Eq | RelOp::Approx => ord == Ordering::Equal,
        RelOp::Ne => ord != Ordering::Equal,
        RelOp::Le => ord != Ordering::Greater,
        RelOp::Lt => ord == Ordering::Less,
        RelOp::Ge => ord != Ordering::Less,
        RelOp::Gt => ord == Ordering::Greater,
    };
    if holds {
        return Some(Ok(Verdict::proved(Method::AlgebraicNumbers)));
    }
    let shown = |x: &crate::exact::algebraic::Algebraic| {
        let (lo, hi) = x.enclosure();
        Real::between(&lo, &hi).map_or_else(|_| "?".into(), |v| v.display())
    };
    Some(Ok(Verdict::refuted(
        Method::AlgebraicNumbers,
        Counterexample {
            values: BTreeMap::new(),
            lhs: shown(&a),
            rhs: shown(&b),
            mismatches: Vec::new(),
        },
    )))
}

/// With one integer symbol bounded below, checks its first values in
/// order, so that a refutation names the smallest failing value.
fn scan_in_order(
    scope: &Scope<'_>,
    symbols: &[String],
    at: &mut dyn FnMut(&Point) -> Option<Verdict>,
) -> Option<Verdict> {
    let [x] = symbols else { return None };
    if !scope.dom.kinds.get(x).is_some_and(|k| k.is_integer()) {
        return None;
    }
    let lo = scope.dom.lower_bound(x)?;
    let first = lo.value.to_integer();
    for offset in 0..scope.cfg.budgets.scan {
        let value = BigRational::from_integer(&first + num_bigint::BigInt::from(offset));
        if scope.dom.upper_bound(x).is_some_and(|u| value > u.value) {
            break;
        }
        let mut p = Point::new();
        p.insert(x.clone(), Real::exact(value));
        if let Some(r) = at(&p) {
            return Some(r);
        }
    }
    None
}

/// Proves `l op r` by the normal form of the difference (`=`) or its sign
/// (inequalities); `None` when the method does not decide it.
pub(crate) fn prove_relation(
    n: &mut Normalizer<'_>,
    l: &Expr,
    r: &Expr,
    op: RelOp,
) -> Result<Option<Verdict>, NormError> {
    if op == RelOp::Eq {
        // Sums over one symbolic range on both sides, combined first
        // (`Σ a(i) = Σ b(i) − Σ c(i)` with `a = b − c`); the rules of a
        // failed attempt are not reported.
        let before = n.rules.clone();
        if let Ok(Some(d)) = n.fused_difference(l, r) {
            if let Ok(rf) = n.alg(&d).and_then(|a| n.ratfun(&a)) {
                if rf.num.is_zero() {
                    return Ok(Some(proved_by(n, Method::NormalForm, &rf)));
                }
            }
        }
        n.rules = before;
    }
    let a = n.alg(l)?;
    let b = n.alg(r)?;
    let diff = match op {
        RelOp::Ge | RelOp::Gt => Alg::sub(a, b),
        _ => Alg::sub(b, a),
    };
    let rf = n.ratfun(&diff)?;
    let method = match op {
        RelOp::Eq if rf.num.is_zero() => Method::NormalForm,
        RelOp::Le | RelOp::Ge | RelOp::Lt | RelOp::Gt => {
            let s = n.ratfun_sign(&rf);
            let strict = matches!(op, RelOp::Lt | RelOp::Gt);
            if (strict && s == Sign::Pos) || (!strict && s.nonneg()) {
                Method::SignOfDifference
            } else {
                return Ok(None);
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(proved_by(n, method, &rf)))
}

/// The proof by `method` of a step whose difference is `rf`, with the rules
/// the normalizer used.
fn proved_by(n: &Normalizer<'_>, method: Method, rf: &RatFun) -> Verdict {
    let mut remarks = Vec::new();
    if rf.den.as_constant().is_none() {
        remarks.push("holds wherever both sides are defined".to_string());
    }
    Verdict::Proved {
        method,
        context: Vec::new(),
        rules: n.rules.iter().cloned().collect(),
        remarks,
        cross_checks: None,
    }
}

/// The domain with every bounded symbol written as bound + offset (or
/// bound − offset), the offset nonnegative; `None` when nothing is bounded.
pub(crate) fn shifted_domain(dom: &Domain) -> Option<(Domain, BTreeMap<String, Expr>)> {
    let mut out = dom.clone();
    let mut map = BTreeMap::new();
    for (x, kind) in &dom.kinds {
        let lo = dom.lower.get(x);
        let hi = dom.upper.get(x);
        let (shift, new_upper) = match (lo, hi) {
            (Some(l), h) if !l.value.is_zero() || l.strict => {
                let e = Expr::binary(BinOp::Add, Expr::rational(l.value.clone()), Expr::name(x));
                (
                    e,
                    h.map(|h| Bound {
                        value: &h.value - &l.value,
                        strict: h.strict,
                    }),
                )
            }
            (None, Some(h)) => {
                let e = Expr::binary(BinOp::Sub, Expr::rational(h.value.clone()), Expr::name(x));
                (e, None)
            }
            _ => continue,
        };
        map.insert(x.clone(), shift);
        let integer = kind.is_integer();
        out.kinds.insert(
            x.clone(),
            if integer {
                ScalarKind::NonnegativeInteger
            } else {
                ScalarKind::Nonnegative
            },
        );
        out.lower.remove(x);
        out.upper.remove(x);
        if let Some(u) = new_upper {
            out.upper.insert(x.clone(), u);
        }
    }
    if map.is_empty() {
        return None;
    }
    out.facts.clear();
    Some((out, map))
}
