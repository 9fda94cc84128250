//! Checking: one claim's steps → verdicts. The claim's domain (kinds,
//! `where`, `given`) is built once into a [`Scope`]; then each step goes to
//! the module of its family, chosen during resolution, in one `match`
//! ([`check_step`], [`check_implication`]). The families decide steps
//! symbolically where they can and at exact points otherwise; the points
//! become a verdict under one rule ([`evidence`]).

pub(crate) mod evidence;
pub(crate) mod logic;

use crate::config::Config;
use crate::exact::eval::Evaluator;
use crate::exact::spot::Point;
use crate::families;
use crate::report::{ClaimReport, StepReport};
use crate::resolve::domain::Domain;
use crate::resolve::expand::substitute;
use crate::resolve::family::{involves_random, Family};
use crate::resolve::{names_in, Claim, ClaimBody, Context, Kind};
use crate::symbolic::sums::expand_cut as expand;
use crate::syntax::expr::{
    format_rational, Builtin, Chain, Expr, ExprKind, Logic, RelOp, Statement,
};
use crate::verdict::{Verdict, VerdictKind};
use std::collections::BTreeMap;

/// Everything one claim's steps share: the declarations, the settings, the
/// domain and the hypotheses.
pub(crate) struct Scope<'a> {
    /// Declarations and definitions.
    pub(crate) ctx: &'a Context,
    /// Settings and budgets.
    pub(crate) cfg: &'a Config,
    /// The claim's scalar domain: kinds, bounds and facts.
    pub(crate) dom: Domain,
    /// `given` hypotheses `name = expr`, written into every side.
    pub(crate) subs: BTreeMap<String, Expr>,
    /// Conditions every sample must satisfy (`where` and the other `given`s).
    pub(crate) conditions: Vec<Expr>,
    /// The text of `show` (it seeds each step's samples).
    pub(crate) show_text: String,
    /// The claim's seed (the run's seed mixed with the claim's id).
    pub(crate) seed: u64,
}

/// A seed for one step: FNV-1a over `id`, mixed with the step number and
/// the run's seed.
pub(crate) fn seed_for(seed: u64, id: &str, step: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
}

/// The declared symbols `e` mentions.
pub(crate) fn free_symbols(e: &Expr, ctx: &Context) -> Vec<String> {
    let mut names = Vec::new();
    names_in(e, &mut names);
    names.retain(|n| ctx.symbols.contains_key(n));
    names
}

/// Each free symbol's exact value, as reports show it.
pub(crate) fn display_point(p: &Point) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| (k.clone(), v.display())).collect()
}

impl Scope<'_> {
    /// The sampling seed of step `index`.
    pub(crate) fn step_seed(&self, index: usize) -> u64 {
        seed_for(self.seed, &self.show_text, index)
    }

    /// `e` with definitions written in, sums over all integers cut to
    /// their range, and the `given` substitutions applied.
    pub(crate) fn prepare(&self, e: &Expr) -> Result<Expr, String> {
        expand(e, self.ctx, &self.subs)
    }

    /// Does the point satisfy every condition?
    pub(crate) fn admissible(&self, ev: &Evaluator<'_>, p: &Point) -> bool {
        self.conditions
            .iter()
            .all(|c| ev.holds(c, p).unwrap_or(false))
    }

    /// The point with the `given` substitutions' values added, so that
    /// definitions mentioning a substituted symbol evaluate too.
    pub(crate) fn with_subs(&self, ev: &Evaluator<'_>, p: &Point) -> Point {
        let mut full = p.clone();
        for _ in 0..2 {
            for (name, e) in &self.subs {
                if !full.contains_key(name) {
                    if let Ok(v) = ev.eval(e, &full) {
                        full.insert(name.clone(), v);
                    }
                }
            }
        }
        full
    }

    /// The symbols to sample for a step between `exprs`.
    pub(crate) fn symbols_of(&self, exprs: &[&Expr]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in exprs.iter().copied().chain(self.conditions.iter()) {
            for n in free_symbols(e, self.ctx) {
                if !out.contains(&n) && !self.subs.contains_key(&n) {
                    out.push(n);
                }
            }
        }
        // Definitions mention symbols too.
        for e in exprs {
            if let Ok(x) = self.prepare(e) {
                for n in free_symbols(&x, self.ctx) {
                    if !out.contains(&n) && !self.subs.contains_key(&n) {
                        out.push(n);
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// Checks one step of a chain with the module of its family.
pub(crate) fn check_step(
    scope: &Scope<'_>,
    family: Family,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Verdict {
    guarded(scope, || match family {
        Family::Scalar => families::scalar::check_step(scope, index, lhs, op, rhs),
        Family::Arrays => families::arrays::check_step(scope, index, lhs, op, rhs),
        Family::Moments => families::moments::check_step(scope, index, lhs, op, rhs),
        Family::Matrix => families::matrix::check_step(scope, index, lhs, op, rhs),
    })
}

/// Runs a step's methods under the wall-clock guard: a step that reaches it
/// is `unsupported`, whatever its methods concluded from partial work.
fn guarded(scope: &Scope<'_>, work: impl FnOnce() -> Verdict) -> Verdict {
    let limit = scope.cfg.step_limit;
    match crate::guard::run(limit, work) {
        (verdict, crate::guard::Outcome::InTime) => verdict,
        (_, crate::guard::Outcome::Reached) => {
            Verdict::Unsupported(crate::verdict::StopReason::GuardReached {
                millis: limit.map_or(0, |l| l.as_millis()),
            })
        }
    }
}

/// Checks an implication or equivalence with the module of its family.
pub(crate) fn check_implication(
    scope: &Scope<'_>,
    family: Family,
    premise: &[Chain],
    logic: Logic,
    conclusion: &[Chain],
) -> Verdict {
    guarded(scope, || match family {
        Family::Scalar => logic::check(scope, premise, logic, conclusion),
        Family::Arrays => families::arrays::check_implication(),
        Family::Moments => families::moments::check_implication(scope, premise, logic, conclusion),
        Family::Matrix => families::matrix::check_implication(scope, premise, logic, conclusion),
    })
}

/// The condition a value must meet to be of kind `k` (`None` for `real`).
fn kind_condition(k: crate::resolve::ScalarKind, value: &Expr) -> Option<Expr> {
    use crate::resolve::ScalarKind as K;
    let cmp = |op: RelOp| {
        Expr::new(
            ExprKind::Compare(vec![value.clone(), Expr::int(0)], vec![op]),
            value.span,
        )
    };
    let integral = || {
        let floor = Expr::builtin(Builtin::Floor, vec![value.clone()]);
        Expr::new(
            ExprKind::Compare(vec![floor, value.clone()], vec![RelOp::Eq]),
            value.span,
        )
    };
    let both = |a: Expr, b: Expr| Expr::new(ExprKind::And(vec![a, b]), value.span);
    match k {
        K::Real => None,
        K::Positive => Some(cmp(RelOp::Gt)),
        K::Nonnegative => Some(cmp(RelOp::Ge)),
        K::Nonzero => Some(cmp(RelOp::Ne)),
        K::Integer => Some(integral()),
        K::PositiveInteger => Some(both(cmp(RelOp::Gt), integral())),
        K::NonnegativeInteger => Some(both(cmp(RelOp::Ge), integral())),
    }
}

/// Whether a claim is about arrays, every step with an array on one side
/// (checked by exact evaluation, with little or no CAS work): a scheduling
/// hint for parallel checking only.
pub(crate) fn mostly_exact(claim: &Claim) -> bool {
    let Ok(body) = &claim.body else { return false };
    matches!(body.statement, Statement::Chain(_))
        && !body.families.is_empty()
        && body.families.iter().all(|f| *f == Family::Arrays)
}

/// Where a claim's error is, relative to the claim, so that an outcome can
/// be reused by another claim with the same parsed content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorAt {
    /// At the claim's header.
    Claim,
    /// At the start of `show`.
    Show,
    /// At a piece of the `show` text.
    ShowSpan(crate::syntax::expr::Span),
}

/// What checking a well-formed claim concluded, without file locations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimOutcome {
    /// The worst verdict of its steps (or `error`).
    pub(crate) verdict: VerdictKind,
    /// For an `error` claim: where (relative to the claim) and what.
    pub(crate) error: Option<(ErrorAt, String)>,
    /// Its steps, in order.
    pub(crate) steps: Vec<StepReport>,
    /// Notes from checking (a `given` that no proof used).
    pub(crate) notes: Vec<String>,
}

impl ClaimOutcome {
    fn error(at: ErrorAt, message: String) -> ClaimOutcome {
        ClaimOutcome {
            verdict: VerdictKind::Error,
            error: Some((at, message)),
            steps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The claim's report: the outcome located in the claim's file.
    pub(crate) fn locate(self, claim: &Claim) -> ClaimReport {
        let error = self.error.map(|(at, message)| {
            let location = match (&claim.body, at) {
                (Ok(body), ErrorAt::ShowSpan(span)) => body.locate(span),
                (Ok(body), ErrorAt::Show) => body.show.location,
                _ => claim.location,
            };
            (location, message)
        });
        ClaimReport {
            id: claim.id.clone(),
            location: claim.location,
            text: claim.text.clone(),
            verdict: self.verdict,
            expect: claim.expect,
            error,
            steps: self.steps,
            notes: claim
                .body
                .as_ref()
                .map(|b| b.notes.clone())
                .unwrap_or_default()
                .into_iter()
                .chain(self.notes)
                .collect(),
        }
    }
}

/// Checks one claim of a file.
pub(crate) fn check_claim(claim: &Claim, ctx: &Context, cfg: &Config) -> ClaimReport {
    match &claim.body {
        Ok(body) => check_body(&claim.id, body, ctx, cfg).locate(claim),
        Err((loc, msg)) => ClaimReport {
            id: claim.id.clone(),
            location: claim.location,
            text: claim.text.clone(),
            verdict: VerdictKind::Error,
            expect: claim.expect,
            error: Some((*loc, msg.clone())),
            steps: Vec::new(),
            notes: Vec::new(),
        },
    }
}

/// The claim's domain and hypotheses, or the located reason it is empty
/// or unreadable.
fn scope_of<'a>(
    id: &str,
    body: &ClaimBody,
    ctx: &'a Context,
    cfg: &'a Config,
) -> Result<Scope<'a>, (ErrorAt, String)> {
    // Only the declarations the claim uses: they and the parsed claim key
    // its memo entry (`ClaimBody::memo_key`).
    let used = || body.uses.iter().filter_map(|n| ctx.symbols.get(n));
    let mut dom = Domain::default();
    for s in used() {
        if let Kind::Scalar(k) = s.kind {
            dom.kinds.insert(s.name.clone(), k);
        }
    }
    let mut subs = BTreeMap::new();
    let mut conditions = Vec::new();
    for g in &body.given {
        if let ExprKind::Compare(items, ops) = &g.kind {
            if let ([ExprKind::Name(n), _], [RelOp::Eq]) =
                ([&items[0].kind, &items[1].kind], ops.as_slice())
            {
                if matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Scalar(_)))
                    && !subs.contains_key(n)
                {
                    let value = expand(&items[1], ctx, &BTreeMap::new())
                        .map_err(|m| (ErrorAt::Claim, format!("in `given`: {m}")))?;
                    subs.insert(n.clone(), value);
                    // The substituted symbol's own kind must still hold, or the
                    // domain is empty: keep it as a condition on the value.
                    if let Some(Kind::Scalar(k)) = ctx.symbols.get(n).map(|s| &s.kind) {
                        conditions.extend(kind_condition(*k, &items[1]));
                    }
                    continue;
                }
            }
        }
        conditions.push(g.clone());
    }
    conditions.extend(body.conditions.iter().cloned());
    // A claim about random variables assumes their declared variances are nonnegative.
    let mut uses_random = false;
    body.statement
        .walk_exprs(&mut |e| uses_random |= involves_random(e, ctx));
    if uses_random {
        for s in used() {
            if let Kind::Random { var, .. } = &s.kind {
                if !free_symbols(var, ctx).is_empty() {
                    conditions.push(Expr::new(
                        ExprKind::Compare(vec![var.clone(), Expr::int(0)], vec![RelOp::Ge]),
                        var.span,
                    ));
                }
            }
        }
    }
    // Conditions on substituted symbols are evaluated after substitution.
    let conditions: Vec<Expr> = conditions.iter().map(|c| substitute(c, &subs)).collect();
    for c in &conditions {
        let x = expand(c, ctx, &BTreeMap::new())
            .map_err(|m| (ErrorAt::Claim, format!("in a condition: {m}")))?;
        dom.add_condition(&x);
    }
    // A condition with no free symbol that is false empties the domain.
    let ev = Evaluator::new(ctx);
    for c in &conditions {
        if free_symbols(c, ctx).is_empty() && ev.holds(c, &Point::new()) == Ok(false) {
            return Err((
                ErrorAt::Claim,
                format!("the domain is empty: the condition `{c}` is false"),
            ));
        }
    }
    dom.propagate();
    for (name, lo) in &dom.lower {
        if let Some(hi) = dom.upper.get(name) {
            if lo.value > hi.value || (lo.value == hi.value && (lo.strict || hi.strict)) {
                return Err((
                    ErrorAt::Claim,
                    format!(
                        "the domain is empty: `{name}` must be at least {} and at most {}",
                        format_rational(&lo.value),
                        format_rational(&hi.value)
                    ),
                ));
            }
        }
    }
    Ok(Scope {
        ctx,
        cfg,
        dom,
        subs,
        conditions,
        show_text: body.show.text.clone(),
        seed: cfg.seed ^ seed_for(0, id, 0),
    })
}

/// A chain of relations as the report shows it: `a = b <= c`.
fn chain_text(c: &Chain) -> String {
    let mut s = c.terms[0].to_string();
    for (i, (op, _)) in c.ops.iter().enumerate() {
        s = format!("{s} {} {}", op.symbol(), c.terms[i + 1]);
    }
    s
}

/// Checks the body of a well-formed claim with this id (the id seeds the
/// spot checks).
pub(crate) fn check_body(id: &str, body: &ClaimBody, ctx: &Context, cfg: &Config) -> ClaimOutcome {
    let scope = match scope_of(id, body, ctx, cfg) {
        Ok(s) => s,
        Err((at, message)) => return ClaimOutcome::error(at, message),
    };
    let mut steps = Vec::new();
    match &body.statement {
        Statement::Chain(chain) => {
            for (i, (op, _)) in chain.ops.iter().enumerate() {
                let (a, b) = (&chain.terms[i], &chain.terms[i + 1]);
                let verdict = check_step(&scope, body.families[i], i, a, *op, b);
                steps.push(StepReport {
                    lhs: a.to_string(),
                    relation: op.symbol().to_string(),
                    rhs: b.to_string(),
                    verdict,
                });
            }
        }
        Statement::Logic {
            premise,
            logic,
            conclusion,
            ..
        } => {
            let verdict = check_implication(&scope, body.families[0], premise, *logic, conclusion);
            let show = |cs: &[Chain]| cs.iter().map(chain_text).collect::<Vec<_>>().join(" and ");
            steps.push(StepReport {
                lhs: show(premise),
                relation: if *logic == Logic::Implies {
                    "=>"
                } else {
                    "<=>"
                }
                .to_string(),
                rhs: show(conclusion),
                verdict,
            });
        }
    }
    let verdict = steps
        .iter()
        .map(|s| s.verdict.kind())
        .max()
        .unwrap_or(VerdictKind::Error);
    let error = steps.iter().find_map(|s| match &s.verdict {
        Verdict::Error { message, span } => Some((
            span.map_or(ErrorAt::Show, ErrorAt::ShowSpan),
            message.clone(),
        )),
        _ => None,
    });
    let notes = unused_givens(id, body, ctx, cfg, &steps);
    ClaimOutcome {
        verdict,
        error,
        steps,
        notes,
    }
}

/// The `given` hypotheses that no proof of the claim used: each proved step
/// is checked again without the hypothesis (the same methods, one
/// cross-check, a handful of sample points); a hypothesis without which
/// every proved step is still proved did not take part, and a grader is
/// told so. Only information: verdicts come from the full check.
fn unused_givens(
    id: &str,
    body: &ClaimBody,
    ctx: &Context,
    cfg: &Config,
    steps: &[StepReport],
) -> Vec<String> {
    let proved: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.verdict.kind() == VerdictKind::Proved)
        .map(|(i, _)| i)
        .collect();
    if body.given.is_empty() || proved.is_empty() {
        return Vec::new();
    }
    let quick = Config {
        budgets: crate::config::Budgets {
            samples: 1,
            attempts: 4,
            cross_checks: 1,
            min_checks: 1,
            ..cfg.budgets.clone()
        },
        ..cfg.clone()
    };
    let mut notes = Vec::new();
    for (k, g) in body.given.iter().enumerate() {
        let mut without = body.clone();
        without.given.remove(k);
        let Ok(scope) = scope_of(id, &without, ctx, &quick) else {
            continue;
        };
        let still = proved.iter().all(|&i| {
            let v = match &without.statement {
                Statement::Chain(chain) => {
                    let (a, b) = (&chain.terms[i], &chain.terms[i + 1]);
                    check_step(&scope, body.families[i], i, a, chain.ops[i].0, b)
                }
                Statement::Logic {
                    premise,
                    logic,
                    conclusion,
                    ..
                } => check_implication(&scope, body.families[0], premise, *logic, conclusion),
            };
            v.kind() == VerdictKind::Proved
        });
        if still {
            notes.push(format!(
                "the hypothesis `{g}` (given) was not used: every proved step is proved without it"
            ));
        }
    }
    notes
}
