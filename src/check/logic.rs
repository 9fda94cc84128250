//! Implications and equivalences between scalar relations, `A ⇒ B` and
//! `A ⇔ B`: proved when one relation's difference is the other's times a
//! factor of fixed sign (both then hold at the same points), or, for `⇒`
//! with an equation premise `x = e`, when the conclusion with `e` written
//! for `x` is proved; otherwise checked at sampled points where the premise
//! holds, under the one evidence rule.

use crate::check::evidence::{Evidence, PointOutcome};
use crate::check::{display_point, Scope};
use crate::exact::eval::{compare, Evaluator};
use crate::exact::real::Real;
use crate::exact::spot::{Point, Sampler};
use crate::families::scalar::{non_scalar_use, prove_relation};
use crate::resolve::domain::Sign;
use crate::resolve::expand::substitute;
use crate::resolve::{names_in, Kind, ScalarKind};
use crate::symbolic::normal::{NormError, Normalizer};
use crate::symbolic::polynomial::Alg;
use crate::syntax::expr::{Chain, Expr, ExprKind, Logic, RelOp};
use crate::verdict::{Certificate, Counterexample, Method, StopReason, Verdict};
use num_rational::BigRational;
use num_traits::Zero;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One relation `lhs op rhs`.
pub(crate) type Relation = (Expr, RelOp, Expr);

/// The single relation of a premise or conclusion, if it is one.
pub(crate) fn single(c: &[Chain]) -> Option<Relation> {
    match c {
        [chain] if chain.terms.len() == 2 => Some((
            chain.terms[0].clone(),
            chain.ops[0].0,
            chain.terms[1].clone(),
        )),
        _ => None,
    }
}

/// Checks a scalar implication or equivalence.
pub(crate) fn check(
    scope: &Scope<'_>,
    premise: &[Chain],
    logic: Logic,
    conclusion: &[Chain],
) -> Verdict {
    let (Some(p), Some(c)) = (single(premise), single(conclusion)) else {
        return Verdict::unsupported(
            "only implications between two single relations are supported",
        );
    };
    let mut used = Vec::new();
    for e in [&p.0, &p.2, &c.0, &c.2] {
        names_in(e, &mut used);
    }
    if let Some(reason) = non_scalar_use(&used, scope.ctx) {
        return Verdict::unsupported(reason);
    }
    decide(scope, &p, logic, &c)
}

/// Decides `p ⇒ c` (or `⇔`) between relations of scalars: symbolically
/// where a method applies, else at points.
pub(crate) fn decide(scope: &Scope<'_>, p: &Relation, logic: Logic, c: &Relation) -> Verdict {
    let prepared: Result<Vec<Expr>, String> = [&p.0, &p.2, &c.0, &c.2]
        .map(|e| scope.prepare(e))
        .into_iter()
        .collect();
    let note = match prepared {
        Ok(_) if !scope.cfg.symbolic => "symbolic proofs are off".to_string(),
        Ok(x) => {
            let (pe, ce) = ((&x[0], p.1, &x[1]), (&x[2], c.1, &x[3]));
            match ratio_test(scope, pe, ce) {
                Ok(v) => return v,
                Err(note) => match (logic, substituted(scope, pe, ce)) {
                    (Logic::Implies, Some(v)) => return v,
                    _ => note,
                },
            }
        }
        Err(m) => m,
    };
    by_points(scope, p, logic, c, note)
}

/// Proves `A ⇔ B` (hence `A ⇒ B`) by showing that B's difference times a
/// factor of fixed sign is A's difference.
fn ratio_test(
    scope: &Scope<'_>,
    p: (&Expr, RelOp, &Expr),
    c: (&Expr, RelOp, &Expr),
) -> Result<Verdict, String> {
    let same_kind = |(a, b): (RelOp, RelOp)| a == b || a.flipped() == b;
    let compatible = same_kind((p.1, c.1))
        || (matches!(p.1, RelOp::Le | RelOp::Ge) && matches!(c.1, RelOp::Le | RelOp::Ge))
        || (matches!(p.1, RelOp::Lt | RelOp::Gt) && matches!(c.1, RelOp::Lt | RelOp::Gt));
    if !compatible {
        return Err("the premise and conclusion are different kinds of relation".into());
    }
    let mut n = Normalizer::new(&scope.dom);
    for e in [p.0, p.2, c.0, c.2] {
        n.prescan(e);
    }
    // Orient each as "difference >= 0" (or "= 0").
    let diff =
        |n: &mut Normalizer<'_>, (a, op, b): (&Expr, RelOp, &Expr)| -> Result<Alg, NormError> {
            let (x, y) = (n.alg(a)?, n.alg(b)?);
            Ok(match op {
                RelOp::Ge | RelOp::Gt => Alg::sub(x, y),
                _ => Alg::sub(y, x),
            })
        };
    let run = |n: &mut Normalizer<'_>| -> Result<Option<Verdict>, NormError> {
        let dp = diff(n, p)?;
        let dc = diff(n, c)?;
        let ratio = Alg::Mul(vec![dp, Alg::Pow(Box::new(dc), -1)]);
        let rf = n.ratfun(&ratio)?;
        // The factor relates the two differences everywhere only if it is
        // never zero and never undefined: both its parts of strict sign.
        let s = n.ratfun_strict_sign(&rf);
        let ok = match p.1 {
            RelOp::Eq => s.is_some(),
            _ => s == Some(Sign::Pos),
        };
        Ok(ok.then(|| Verdict::Proved {
            method: Method::RatioTest,
            context: vec![
                "so both relations hold at the same admissible points (where both sides are defined)"
                    .into(),
            ],
            rules: n.rules.iter().cloned().collect(),
            remarks: Vec::new(),
            cross_checks: None,
        }))
    };
    match run(&mut n) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(
            "the two relations are not multiples of each other by a factor of fixed sign".into(),
        ),
        Err(e) => Err(format!("symbolic engine: {e}")),
    }
}

/// For `x = e ⇒ B` with `x` a declared scalar that `e` does not mention:
/// proves `B` with `e` written for `x`, by normal form or sign. Every
/// admissible point where the premise holds has `x = e`, so `B` holds
/// there exactly when `B[x := e]` does; the proof of `B[x := e]` holds on
/// the whole domain, of which those points are a part.
fn substituted(
    scope: &Scope<'_>,
    p: (&Expr, RelOp, &Expr),
    c: (&Expr, RelOp, &Expr),
) -> Option<Verdict> {
    if !matches!(
        c.1,
        RelOp::Eq | RelOp::Le | RelOp::Lt | RelOp::Ge | RelOp::Gt
    ) {
        return None;
    }
    let (name, value) = solved_for(scope, &(p.0.clone(), p.1, p.2.clone()))?;
    let map: BTreeMap<String, Expr> = [(name.clone(), value.clone())].into_iter().collect();
    let (l, r) = (substitute(c.0, &map), substitute(c.2, &map));
    let mut n = Normalizer::new(&scope.dom);
    n.prescan(&l);
    n.prescan(&r);
    match prove_relation(&mut n, &l, &r, c.1) {
        Ok(Some(Verdict::Proved { rules, remarks, .. })) => Some(Verdict::Proved {
            method: Method::PremiseSubstituted,
            context: vec![format!("the premise gives {name} = {value}")],
            rules,
            remarks,
            cross_checks: None,
        }),
        _ => None,
    }
}

/// `x = e` (either way round) with `x` a declared scalar that `e` does not
/// mention: the symbol and its value.
fn solved_for(scope: &Scope<'_>, p: &Relation) -> Option<(String, Expr)> {
    if p.1 != RelOp::Eq {
        return None;
    }
    let solved = |x: &Expr, e: &Expr| -> Option<(String, Expr)> {
        let ExprKind::Name(n) = &x.kind else {
            return None;
        };
        if !matches!(
            scope.ctx.symbols.get(n).map(|s| &s.kind),
            Some(Kind::Scalar(_))
        ) || scope.subs.contains_key(n)
        {
            return None;
        }
        let mut names = Vec::new();
        names_in(e, &mut names);
        (!names.contains(n)).then(|| (n.clone(), e.clone()))
    };
    solved(&p.0, &p.2).or_else(|| solved(&p.2, &p.0))
}

/// Is `v` certainly of the scalar kind `k`? (`false` when undecided.)
fn of_kind(k: ScalarKind, v: &Real) -> bool {
    let zero = Real::exact(BigRational::zero());
    let sign = v.cmp_certain(&zero);
    let integral = v.as_exact().is_some_and(|q| q.is_integer());
    let sign_ok = match k {
        ScalarKind::Real | ScalarKind::Integer => true,
        ScalarKind::Positive | ScalarKind::PositiveInteger => sign == Some(Ordering::Greater),
        ScalarKind::Nonnegative | ScalarKind::NonnegativeInteger => {
            matches!(sign, Some(Ordering::Greater | Ordering::Equal))
        }
        ScalarKind::Nonzero => v.certainly_ne(&zero),
    };
    sign_ok && (!k.is_integer() || integral)
}

/// Checks `p ⇒ c` (or `⇔`) at sampled admissible points where the premise
/// (or, for `⇔`, either side) holds. For `⇒` with an equation premise
/// `x = e`, the points are built to satisfy it: the other symbols are
/// sampled and `x` is given the value of `e` there.
fn by_points(scope: &Scope<'_>, p: &Relation, logic: Logic, c: &Relation, note: String) -> Verdict {
    let ev = Evaluator::new(scope.ctx);
    let sub = |e: &Expr| substitute(e, &scope.subs);
    let (pa, pb, ca, cb) = (sub(&p.0), sub(&p.2), sub(&c.0), sub(&c.2));
    let mut symbols = scope.symbols_of(&[&p.0, &p.2, &c.0, &c.2]);
    let guided = (logic == Logic::Implies)
        .then(|| solved_for(scope, p))
        .flatten()
        .and_then(|(x, e)| {
            let kind = match scope.ctx.symbols.get(&x).map(|s| &s.kind) {
                Some(Kind::Scalar(k)) => *k,
                _ => return None,
            };
            Some((x, sub(&e), kind))
        });
    if let Some((x, _, _)) = &guided {
        symbols.retain(|s| s != x);
    }
    let mut sampler = Sampler::new(&scope.dom, symbols, BTreeMap::new(), scope.step_seed(0));
    let mut evidence = Evidence::default();
    let truth = |a: &Expr, op: RelOp, b: &Expr, pt: &Point| -> Result<bool, String> {
        let x = ev.eval(a, pt).map_err(|e| e.to_string())?;
        let y = ev.eval(b, pt).map_err(|e| e.to_string())?;
        compare(&x, op, &y).map_err(|e| e.to_string())
    };
    let mut premise_held = false;
    for mut pt in sampler.points(scope.cfg.budgets.attempts) {
        if let Some((x, value, kind)) = &guided {
            match ev.eval(value, &scope.with_subs(&ev, &pt)) {
                Ok(v) if of_kind(*kind, &v) => {
                    pt.insert(x.clone(), v);
                }
                Ok(_) => continue,
                Err(e) => {
                    evidence.note_problem(e.to_string());
                    continue;
                }
            }
        }
        // Admissibility first: it is cheaper than the point's key, and an
        // inadmissible point is inadmissible again when drawn twice.
        if !scope.admissible(&ev, &pt) || !evidence.first_time(format!("{:?}", display_point(&pt)))
        {
            continue;
        }
        // A guided point satisfies the premise by construction (its value
        // may be irrational, where `=` of two enclosures cannot be decided).
        let premise = if guided.is_some() {
            Ok(true)
        } else {
            truth(&pa, p.1, &pb, &pt)
        };
        let (tp, tc) = match (premise, truth(&ca, c.1, &cb, &pt)) {
            (Ok(tp), Ok(tc)) => (tp, tc),
            (Err(m), _) | (_, Err(m)) => {
                evidence.note_problem(m);
                continue;
            }
        };
        let bad = (tp && !tc) || (logic == Logic::Iff && tc && !tp);
        if bad {
            return Verdict::Refuted {
                method: Method::Counterexample(Certificate::Exact),
                counterexample: Counterexample {
                    values: display_point(&pt),
                    lhs: format!("premise {}", if tp { "true" } else { "false" }),
                    rhs: format!("conclusion {}", if tc { "true" } else { "false" }),
                    mismatches: Vec::new(),
                },
                notes: vec![if tp {
                    "the premise holds here but the conclusion does not"
                } else {
                    "the conclusion holds here but the premise does not"
                }
                .into()],
            };
        }
        // Only points where a side holds test anything.
        if tp || (logic == Logic::Iff && tc) {
            premise_held = true;
            evidence.record(PointOutcome::Agreed);
        }
    }
    if !premise_held {
        return Verdict::Unsupported(StopReason::PremiseNeverHolds { note });
    }
    evidence.sampled(
        scope.cfg.budgets.min_checks,
        Method::SpotChecksPremise,
        Vec::new(),
        Some(note),
    )
}
