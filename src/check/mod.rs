//! Checking: one claim's steps → verdicts. Each step is tried, in order, by
//! exact evaluation (no free symbols), the symbolic normal form or sign
//! test, exhaustion of a finite integer domain, and spot checks; the first
//! method that decides it names the verdict. Proved steps are cross-checked
//! on a few points too: a certified counterexample always wins.

use crate::config::Config;
use crate::exact::eval::{compare, EvalError, Evaluator};
use crate::exact::real::Real;
use crate::exact::spot::{all_points, Point, Sampler};
use crate::families::arrays::{
    array_definitions, array_symbols, involves_arrays, sample_arrays, ArrayEval, ArrayIssue, Value,
};
use crate::families::moments::{involves_moments, involves_random, MomentError, Moments};
use crate::report::{ClaimReport, StepReport};
use crate::resolve::domain::{as_literal, Domain, Sign};
use crate::resolve::expand::substitute;
use crate::resolve::{names_in, Claim, ClaimBody, Context, Kind};
use crate::symbolic::normal::{NormError, Normalizer};
use crate::symbolic::sums::expand_cut as expand;
use crate::syntax::expr::{
    format_rational, Builtin, Chain, Expr, ExprKind, Logic, RelOp, Statement,
};
use crate::syntax::parser::decimal_places;
use crate::verdict::{Counterexample, EntryMismatch, StepVerdict, VerdictKind};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use std::collections::BTreeMap;

/// What the points tried so far showed.
#[derive(Default)]
struct Tally {
    admissible: usize,
    undefined: usize,
    agreed: usize,
    undecided: usize,
    problem: Option<String>,
}

/// Everything one claim's steps share.
struct ClaimScope<'a> {
    ctx: &'a Context,
    cfg: &'a Config,
    dom: Domain,
    /// `given` hypotheses `name = expr`, written into every side.
    subs: BTreeMap<String, Expr>,
    /// Conditions every sample must satisfy (where and non-substitution givens).
    conditions: Vec<Expr>,
    show_text: String,
    seed: u64,
}

/// How a step's two values are compared.
#[derive(Clone, Debug)]
enum Test {
    Rel(RelOp),
    /// `≈` against a literal with this tolerance; `literal_on_right` tells the side.
    Approx {
        literal: BigRational,
        tolerance: BigRational,
        literal_on_right: bool,
    },
}

impl Test {
    fn holds(&self, a: &Real, b: &Real) -> Result<bool, EvalError> {
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

fn seed_for(seed: u64, id: &str, step: usize) -> u64 {
    // FNV-1a over the claim id, mixed with the step number and the run's seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
}

fn free_symbols(e: &Expr, ctx: &Context) -> Vec<String> {
    let mut names = Vec::new();
    names_in(e, &mut names);
    names.retain(|n| ctx.symbols.contains_key(n));
    names
}

fn non_scalar_use(names: &[String], ctx: &Context) -> Option<String> {
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

fn display_point(p: &Point) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| (k.clone(), v.display())).collect()
}

impl ClaimScope<'_> {
    /// What a matrix step needs of this claim (see [`crate::families::matrix`]).
    fn matrix_scope(&self, index: usize) -> crate::families::matrix::Scope<'_> {
        crate::families::matrix::Scope {
            ctx: self.ctx,
            cfg: self.cfg,
            dom: &self.dom,
            subs: &self.subs,
            conditions: &self.conditions,
            seed: seed_for(self.seed, &self.show_text, index),
        }
    }

    fn prepare(&self, e: &Expr) -> Result<Expr, String> {
        expand(e, self.ctx, &self.subs)
    }

    fn admissible(&self, ev: &Evaluator<'_>, p: &Point) -> bool {
        self.conditions
            .iter()
            .all(|c| ev.holds(c, p).unwrap_or(false))
    }

    /// The point with the `given` substitutions' values added, so that
    /// definitions mentioning a substituted symbol evaluate too.
    fn with_subs(&self, ev: &Evaluator<'_>, p: &Point) -> Point {
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

    /// The symbols to sample for a step.
    fn symbols_of(&self, exprs: &[&Expr]) -> Vec<String> {
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

    fn check_chain_step(&self, index: usize, lhs: &Expr, op: RelOp, rhs: &Expr) -> StepVerdict {
        if [lhs, rhs]
            .into_iter()
            .chain(&self.conditions)
            .any(|e| crate::families::matrix::involves_matrices(e, self.ctx))
        {
            return crate::families::matrix::check_step(&self.matrix_scope(index), lhs, op, rhs);
        }
        if [lhs, rhs]
            .iter()
            .any(|e| involves_moments(e) || involves_random(e, self.ctx))
        {
            return self.check_moment_step(index, lhs, op, rhs);
        }
        if involves_arrays(lhs, self.ctx) || involves_arrays(rhs, self.ctx) {
            return self.check_array_step(index, lhs, op, rhs);
        }
        let test = if op == RelOp::Approx {
            let lit = |e: &Expr| {
                as_literal(e).and_then(|v| decimal_places(&self.show_text, e.span).map(|d| (v, d)))
            };
            let (literal, places, on_right) =
                match (lit(rhs), lit(lhs)) {
                    (Some((v, d)), _) => (v, d, true),
                    (None, Some((v, d))) => (v, d, false),
                    (None, None) => return StepVerdict::new(
                        VerdictKind::Error,
                        "none",
                        "`≈` needs a decimal literal on one side (its digits give the precision)",
                    ),
                };
            let tolerance = BigRational::new(
                BigInt::from(1),
                BigInt::from(2) * num_traits::pow(BigInt::from(10), places),
            );
            Test::Approx {
                literal,
                tolerance,
                literal_on_right: on_right,
            }
        } else {
            Test::Rel(op)
        };
        let mut used = Vec::new();
        names_in(lhs, &mut used);
        names_in(rhs, &mut used);
        if let Some(reason) = non_scalar_use(&used, self.ctx) {
            return StepVerdict::unsupported(reason);
        }
        let (l, r) = match (self.prepare(lhs), self.prepare(rhs)) {
            (Ok(l), Ok(r)) => (l, r),
            (Err(m), _) | (_, Err(m)) => {
                // Recursive definitions cannot be expanded symbolically; induction may still apply.
                let proof = self.by_induction(lhs, op, rhs);
                return self.with_points(index, lhs, rhs, &test, proof, BTreeMap::new(), Some(m));
            }
        };
        let mut expanded_names = Vec::new();
        names_in(&l, &mut expanded_names);
        names_in(&r, &mut expanded_names);
        if let Some(reason) = non_scalar_use(&expanded_names, self.ctx) {
            return StepVerdict::unsupported(reason);
        }
        // 1. The symbolic method.
        if !self.cfg.symbolic {
            return self.spot_only(index, lhs, rhs, &test, None);
        }
        let symbolic = self.symbolic(&l, &r, &test);
        let (mut proof, roots, symbolic_note) = match symbolic {
            Ok((verdict, roots)) => (verdict, roots, None),
            Err((note, roots)) => (None, roots, Some(note)),
        };
        if proof.is_none() {
            proof = self.by_induction(lhs, op, rhs);
        }
        // 2. Points: exhaustive or sampled; cross-checks a proof.
        self.with_points(index, lhs, rhs, &test, proof, roots, symbolic_note)
    }

    /// A step about random variables: every `E`, `Var`, `Cov` and `Std` is
    /// replaced by the exact scalar it equals, then the scalar step is checked.
    fn check_moment_step(&self, index: usize, lhs: &Expr, op: RelOp, rhs: &Expr) -> StepVerdict {
        let (l, r) = match (self.prepare(lhs), self.prepare(rhs)) {
            (Ok(l), Ok(r)) => (l, r),
            (Err(m), _) | (_, Err(m)) => return StepVerdict::unsupported(m),
        };
        let mut nonnegative = |e: &Expr| self.provably_nonnegative(e);
        let mut calculus = Moments::new(self.ctx, &mut nonnegative);
        let reduced = calculus
            .reduce(&l)
            .and_then(|a| Ok((a, calculus.reduce(&r)?)));
        match reduced {
            Err(MomentError::Unsupported(why)) => StepVerdict::unsupported(why),
            Err(MomentError::Invalid(message, span)) => {
                let mut v = StepVerdict::new(VerdictKind::Error, "none", message);
                v.span = Some(span);
                v
            }
            Ok((l2, r2)) => {
                let mut v = self.check_chain_step(index, &l2, op, &r2);
                v.method = format!(
                    "moment calculus (linearity, independence, index coincidences), then {}",
                    v.method
                );
                let reduced = format!("the moments make the step {l2} {} {r2}", op.symbol());
                v.detail = if v.detail.is_empty() {
                    reduced
                } else {
                    format!("{reduced}\n{}", v.detail)
                };
                v
            }
        }
    }

    /// Does the domain imply `e ≥ 0` (directly, or after writing bounded
    /// symbols as their bounds plus nonnegative offsets)?
    fn provably_nonnegative(&self, e: &Expr) -> bool {
        let e = substitute(e, &self.subs);
        if Normalizer::new(&self.dom).sign_of(&e).nonneg() {
            return true;
        }
        if let Some((shifted, map)) = shifted_domain(&self.dom) {
            let e2 = substitute(&e, &map);
            return Normalizer::new(&shifted).sign_of(&e2).nonneg();
        }
        false
    }

    fn by_induction(&self, lhs: &Expr, op: RelOp, rhs: &Expr) -> Option<StepVerdict> {
        if op != RelOp::Eq || !self.cfg.symbolic {
            return None;
        }
        let (ls, rs) = (substitute(lhs, &self.subs), substitute(rhs, &self.subs));
        crate::symbolic::induction::prove(self.ctx, &self.dom, &ls, &rs)
            .map(|method| StepVerdict::new(VerdictKind::Proved, method, ""))
    }

    /// Proves an equality by normal form or an inequality by sign, if it can.
    /// Returns the proof (or `None`) and the radical degrees for sampling.
    #[allow(clippy::type_complexity)]
    fn symbolic(
        &self,
        l: &Expr,
        r: &Expr,
        test: &Test,
    ) -> Result<(Option<StepVerdict>, BTreeMap<String, u32>), (String, BTreeMap<String, u32>)> {
        let mut n = Normalizer::new(&self.dom);
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
            if let Some((shifted_dom, map)) = shifted_domain(&self.dom) {
                let (l2, r2) = (substitute(l, &map), substitute(r, &map));
                let mut n2 = Normalizer::new(&shifted_dom);
                n2.prescan(&l2);
                n2.prescan(&r2);
                if let Ok(Some(mut v)) = prove_relation(&mut n2, &l2, &r2, op) {
                    v.detail = format!(
                        "after writing each bounded symbol as its bound plus a nonnegative offset ({})\n{}",
                        map.iter().map(|(k, e)| format!("{k} -> {e}")).collect::<Vec<_>>().join(", "),
                        v.detail
                    );
                    return Ok((Some(v), roots));
                }
            }
        }
        match first {
            Ok(v) => Ok((v, roots)),
            Err(e) => Err((format!("symbolic engine: {e}"), roots)),
        }
    }

    fn spot_only(
        &self,
        index: usize,
        lhs: &Expr,
        rhs: &Expr,
        test: &Test,
        note: Option<String>,
    ) -> StepVerdict {
        self.with_points(index, lhs, rhs, test, None, BTreeMap::new(), note)
    }

    /// Evaluates the step at one point and records the outcome; returns the
    /// refutation if the point is a certified counterexample.
    fn try_point(
        &self,
        ev: &Evaluator<'_>,
        sides: (&Expr, &Expr),
        test: &Test,
        p: &Point,
        tally: &mut Tally,
    ) -> Option<StepVerdict> {
        if !self.admissible(ev, p) {
            return None;
        }
        tally.admissible += 1;
        let full = self.with_subs(ev, p);
        let (a, b) = match (ev.eval(sides.0, &full), ev.eval(sides.1, &full)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                match &e {
                    EvalError::Unsupported(m) => tally.problem = Some(m.clone()),
                    EvalError::Undefined(m) => {
                        tally.undefined += 1;
                        tally
                            .problem
                            .get_or_insert_with(|| format!("a side is undefined there ({m})"));
                    }
                    _ => {
                        tally.undecided += 1;
                        tally.problem.get_or_insert_with(|| e.to_string());
                    }
                }
                return None;
            }
        };
        match test.holds(&a, &b) {
            Ok(true) => {
                tally.agreed += 1;
                None
            }
            Ok(false) => {
                let exact = a.as_exact().is_some() && b.as_exact().is_some();
                let method = match (p.is_empty(), exact) {
                    (true, true) => "exact evaluation",
                    (false, true) => "certified counterexample (exact evaluation)",
                    (true, false) => "evaluation with certified enclosures (disjoint)",
                    (false, false) => "certified counterexample (disjoint certified enclosures)",
                };
                let mut v = StepVerdict::new(VerdictKind::Refuted, method, "");
                v.counterexample = Some(Counterexample {
                    values: display_point(p),
                    lhs: a.display(),
                    rhs: b.display(),
                    mismatches: Vec::new(),
                });
                Some(v)
            }
            Err(_) => {
                tally.undecided += 1;
                None
            }
        }
    }

    /// Decides a step at points: exact evaluation when it has no free
    /// symbols, exhaustion of a finite domain, an ordered scan of a single
    /// integer symbol, then seeded spot checks. A `proof` from the symbolic
    /// method is cross-checked; a certified counterexample wins over it.
    #[allow(clippy::too_many_arguments)]
    fn with_points(
        &self,
        index: usize,
        lhs: &Expr,
        rhs: &Expr,
        test: &Test,
        proof: Option<StepVerdict>,
        roots: BTreeMap<String, u32>,
        note: Option<String>,
    ) -> StepVerdict {
        let ev = Evaluator::new(self.ctx);
        let (l, r) = (substitute(lhs, &self.subs), substitute(rhs, &self.subs));
        let sides = (&l, &r);
        let symbols = self.symbols_of(&[lhs, rhs]);
        let mut tally = Tally::default();
        let mut refuted = None;
        let mut by_points = None;
        if symbols.is_empty() {
            refuted = self.try_point(&ev, sides, test, &Point::new(), &mut tally);
            if refuted.is_none() && tally.agreed == 1 {
                by_points = Some(StepVerdict::new(
                    VerdictKind::Proved,
                    "exact evaluation",
                    "",
                ));
            }
        } else if let Some(points) = all_points(&self.dom, &symbols, self.cfg.exhaustive_limit) {
            let total = points.len();
            for p in &points {
                refuted = self.try_point(&ev, sides, test, p, &mut tally);
                if refuted.is_some() {
                    break;
                }
            }
            if refuted.is_none()
                && tally.agreed > 0
                && tally.agreed + tally.undefined == tally.admissible
                && tally.undecided == 0
            {
                let excluded = total - tally.agreed;
                by_points = Some(StepVerdict::new(
                    VerdictKind::Proved,
                    format!("exhaustive check of all {} admissible points", tally.agreed),
                    if excluded > 0 {
                        format!("{excluded} of {total} points excluded (by the conditions, or a side undefined there)")
                    } else {
                        String::new()
                    },
                ));
            }
        } else {
            if proof.is_none() {
                refuted = self.scan_in_order(&ev, sides, test, &symbols, &mut tally);
            }
            let wanted = if proof.is_some() {
                self.cfg.cross_checks
            } else {
                self.cfg.samples
            };
            let mut sampler = Sampler::new(
                &self.dom,
                symbols.clone(),
                roots,
                seed_for(self.seed, &self.show_text, index),
            );
            let mut drawn = 0;
            while refuted.is_none() && tally.agreed < wanted && drawn < self.cfg.attempts {
                for p in sampler.points(wanted.max(8)) {
                    drawn += 1;
                    refuted = self.try_point(&ev, sides, test, &p, &mut tally);
                    if refuted.is_some() || tally.agreed >= wanted {
                        break;
                    }
                }
            }
        }
        if let Some(mut v) = refuted {
            if proof.is_some() {
                v.detail = "the symbolic method claimed a proof but this certified counterexample contradicts it; \
                            the counterexample wins (please report this as a bug)"
                    .into();
            }
            return v;
        }
        // With no free symbols, exact evaluation is the plainer proof.
        if let (Some(p), true) = (&by_points, symbols.is_empty()) {
            return p.clone();
        }
        if let Some(mut p) = proof {
            if tally.agreed == 0 && !self.conditions.is_empty() {
                return StepVerdict::unsupported(
                    "proved symbolically, but no admissible point was found, so the domain may be empty",
                );
            }
            if tally.agreed > 0 {
                let cross = format!(
                    "cross-checked at {} point{}",
                    tally.agreed,
                    if tally.agreed == 1 { "" } else { "s" }
                );
                p.detail = if p.detail.is_empty() {
                    cross
                } else {
                    format!("{}\n{cross}", p.detail)
                };
            }
            return p;
        }
        if let Some(p) = by_points {
            return p;
        }
        if tally.agreed > 0 && tally.agreed < self.cfg.min_checks {
            return StepVerdict::unsupported(format!(
                "only {} admissible point{} could be evaluated, fewer than the {} spot checks a `checked` needs{}",
                tally.agreed,
                if tally.agreed == 1 { "" } else { "s" },
                self.cfg.min_checks,
                tally.problem.map(|m| format!(": {m}")).unwrap_or_default()
            ));
        }
        if tally.agreed > 0 {
            let mut v = StepVerdict::new(
                VerdictKind::Checked,
                "spot checks with exact arithmetic (no proof method applied)",
                note.unwrap_or_default(),
            );
            v.checks = tally.agreed;
            return v;
        }
        let mut reason = String::from("no admissible point could be evaluated");
        if let Some(m) = tally.problem {
            reason = format!("{reason}: {m}");
        }
        if let Some(n) = note {
            reason = format!("{reason}\n{n}");
        }
        StepVerdict::unsupported(reason)
    }

    /// With one integer symbol bounded below, checks its first values in
    /// order, so that a refutation names the smallest failing value.
    fn scan_in_order(
        &self,
        ev: &Evaluator<'_>,
        sides: (&Expr, &Expr),
        test: &Test,
        symbols: &[String],
        tally: &mut Tally,
    ) -> Option<StepVerdict> {
        let [x] = symbols else { return None };
        if !self.dom.kinds.get(x).is_some_and(|k| k.is_integer()) {
            return None;
        }
        let lo = self.dom.lower_bound(x)?;
        let mut v = lo.value.to_integer();
        for _ in 0..self.cfg.scan {
            let value = BigRational::from_integer(v.clone());
            if self.dom.upper_bound(x).is_some_and(|u| value > u.value) {
                break;
            }
            let mut p = Point::new();
            p.insert(x.clone(), Real::exact(value));
            if let Some(r) = self.try_point(ev, sides, test, &p, tally) {
                return Some(r);
            }
            v += 1;
        }
        None
    }

    /// A step between arrays: exact evaluation entry by entry, at every
    /// admissible point of a finite domain or at sampled points. Array
    /// symbols get random exact entries at each point, so a step that uses
    /// them is at best `checked`.
    fn check_array_step(&self, index: usize, lhs: &Expr, op: RelOp, rhs: &Expr) -> StepVerdict {
        let mut used = Vec::new();
        names_in(lhs, &mut used);
        names_in(rhs, &mut used);
        used.retain(|n| {
            !matches!(
                self.ctx.symbols.get(n).map(|s| &s.kind),
                Some(Kind::Array(..))
            )
        });
        if let Some(reason) = non_scalar_use(&used, self.ctx) {
            return StepVerdict::unsupported(reason);
        }
        match op {
            RelOp::Eq => {}
            RelOp::Approx if matches!(rhs.kind, ExprKind::Matrix(_)) => {}
            RelOp::Approx => {
                return StepVerdict::new(
                    VerdictKind::Error,
                    "none",
                    "`≈` between arrays needs an array literal on the right (its digits give each entry's precision)",
                )
            }
            _ => return StepVerdict::unsupported("arrays are compared with `=` or `≈` only"),
        }
        let ev = Evaluator::new(self.ctx);
        let (l, r) = (substitute(lhs, &self.subs), substitute(rhs, &self.subs));
        let mut symbols = self.symbols_of(&[lhs, rhs]);
        let mut random = array_symbols(&l, self.ctx);
        random.extend(array_symbols(&r, self.ctx));
        random.sort();
        random.dedup();
        symbols.retain(|s| !random.contains(s));
        // Array sizes may mention symbols the step itself does not.
        for name in &random {
            if let Some(Kind::Array(rows, cols)) = self.ctx.symbols.get(name).map(|s| &s.kind) {
                for n in free_symbols(rows, self.ctx)
                    .into_iter()
                    .chain(free_symbols(cols, self.ctx))
                {
                    if !symbols.contains(&n) && !random.contains(&n) {
                        symbols.push(n);
                    }
                }
            }
        }
        symbols.sort();
        let seed = seed_for(self.seed, &self.show_text, index);
        let exhaustive = all_points(&self.dom, &symbols, self.cfg.exhaustive_limit);
        let finite = exhaustive.is_some();
        let points = match exhaustive {
            Some(p) => p,
            None => Sampler::new(&self.dom, symbols.clone(), BTreeMap::new(), seed)
                .points(self.cfg.attempts),
        };
        let mut rng = crate::exact::spot::Rng::new(seed);
        // Random arrays: several draws per point, about `samples` draws in all.
        // Random arrays: several draws per point, about `array_draws` in all,
        // so that a claim false only where a random entry is extreme is caught.
        let rounds = if random.is_empty() {
            1
        } else {
            self.cfg
                .array_draws
                .div_ceil(points.len().max(1))
                .clamp(2, self.cfg.array_draws)
        };
        let array_defs = array_definitions(self.ctx);
        let mut agreed = 0;
        let mut draws = 0usize;
        let mut problem = None;
        'points: for p in &points {
            if !self.admissible(&ev, p) {
                continue;
            }
            for _ in 0..rounds {
                // Small entries first (readable counterexamples), larger later (fewer ties).
                draws += 1;
                let magnitude = (2 + draws / 4).min(99) as i64;
                let Some(sampled) = sample_arrays(&random, self.ctx, p, &mut rng, magnitude) else {
                    problem.get_or_insert_with(|| {
                        "an array size is not a positive integer here, or over the size budget"
                            .to_string()
                    });
                    continue 'points;
                };
                let arrays = ArrayEval::with_definitions(self.ctx, sampled, &array_defs);
                let full = self.with_subs(&ev, p);
                let (a, b) = match (arrays.value(&l, &full), arrays.value(&r, &full)) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(issue), _) | (_, Err(issue)) => match issue {
                        ArrayIssue::Error(span, message) => {
                            let mut v = StepVerdict::new(VerdictKind::Error, "none", message);
                            v.span = Some(span);
                            return v;
                        }
                        ArrayIssue::Unsupported(m) => return StepVerdict::unsupported(m),
                        ArrayIssue::Scalar(e) => {
                            problem = Some(e.to_string());
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
                        Ok(true) => agreed += 1,
                        Ok(false) => {
                            let mut v = StepVerdict::new(
                                VerdictKind::Refuted,
                                "certified counterexample (exact evaluation)",
                                "",
                            );
                            v.counterexample = Some(Counterexample {
                                values: values(),
                                lhs: x.display(),
                                rhs: y.display(),
                                mismatches: Vec::new(),
                            });
                            return v;
                        }
                        Err(e) => problem = Some(e.to_string()),
                    }
                    continue;
                }
                match compare_values(&a, &b, op, rhs, &self.show_text) {
                    Ok(mismatches) if mismatches.is_empty() => agreed += 1,
                    Ok(mismatches) => {
                        let mut v = StepVerdict::new(
                            VerdictKind::Refuted,
                            "exact evaluation, entry by entry",
                            format!("{} of {} entries differ", mismatches.len(), entry_count(&a)),
                        );
                        let first = mismatches[0].clone();
                        v.counterexample = Some(Counterexample {
                            values: values(),
                            lhs: first.lhs.clone(),
                            rhs: first.rhs.clone(),
                            mismatches,
                        });
                        return v;
                    }
                    Err(shape) => {
                        let mut v = StepVerdict::new(
                            VerdictKind::Refuted,
                            "exact evaluation (the shapes differ)",
                            shape,
                        );
                        v.counterexample = Some(Counterexample {
                            values: values(),
                            lhs: describe_shape(&a),
                            rhs: describe_shape(&b),
                            mismatches: Vec::new(),
                        });
                        return v;
                    }
                }
            }
            if !finite && agreed >= self.cfg.samples {
                break;
            }
        }
        // Exact evaluation or exhaustion needs one point; spot checks need enough.
        let needed = if random.is_empty() && (symbols.is_empty() || finite) {
            1
        } else {
            self.cfg.min_checks
        };
        if agreed < needed {
            return StepVerdict::unsupported(format!(
                "only {agreed} admissible point{} could be evaluated, fewer than the {} spot checks a `checked` needs{}",
                if agreed == 1 { "" } else { "s" },
                self.cfg.min_checks,
                problem.map(|m| format!(": {m}")).unwrap_or_default()
            ));
        }
        if !random.is_empty() {
            let mut v = StepVerdict::new(
                VerdictKind::Checked,
                format!(
                    "spot checks with exact arithmetic on random integer arrays for {}",
                    random.join(", ")
                ),
                problem
                    .map(|m| format!("some points could not be evaluated: {m}"))
                    .unwrap_or_default(),
            );
            v.checks = agreed;
            return v;
        }
        if symbols.is_empty() {
            return StepVerdict::new(VerdictKind::Proved, "exact evaluation, entry by entry", "");
        }
        if finite {
            let method =
                format!("exhaustive check of all {agreed} admissible points, entry by entry");
            return StepVerdict::new(VerdictKind::Proved, method, "");
        }
        let mut v = StepVerdict::new(
            VerdictKind::Checked,
            "spot checks with exact arithmetic, entry by entry",
            "",
        );
        v.checks = agreed;
        v
    }

    fn check_logic(&self, premise: &[Chain], logic: Logic, conclusion: &[Chain]) -> StepVerdict {
        if premise
            .iter()
            .chain(conclusion)
            .flat_map(|c| &c.terms)
            .chain(&self.conditions)
            .any(|t| crate::families::matrix::involves_matrices(t, self.ctx))
        {
            return crate::families::matrix::check_implication(
                &self.matrix_scope(0),
                premise,
                logic,
                conclusion,
            );
        }
        let single = |c: &[Chain]| -> Option<(Expr, RelOp, Expr)> {
            if c.len() == 1 && c[0].terms.len() == 2 {
                Some((c[0].terms[0].clone(), c[0].ops[0].0, c[0].terms[1].clone()))
            } else {
                None
            }
        };
        let (Some(p), Some(c)) = (single(premise), single(conclusion)) else {
            return StepVerdict::unsupported(
                "only implications between two single relations are supported",
            );
        };
        let mut used = Vec::new();
        for e in [&p.0, &p.2, &c.0, &c.2] {
            names_in(e, &mut used);
        }
        if let Some(reason) = non_scalar_use(&used, self.ctx) {
            return StepVerdict::unsupported(reason);
        }
        let prepared = [&p.0, &p.2, &c.0, &c.2].map(|e| self.prepare(e));
        let prepared: Result<Vec<Expr>, String> = prepared.into_iter().collect();
        let proof = match prepared {
            Ok(_) if !self.cfg.symbolic => Err("symbolic proofs are off".to_string()),
            Ok(x) => self.ratio_test((&x[0], p.1, &x[1]), (&x[2], c.1, &x[3])),
            Err(m) => Err(m),
        };
        match proof {
            Ok(v) => v,
            Err(note) => self.logic_by_points(&p, logic, &c, note),
        }
    }

    /// Proves `A ⇔ B` (hence `A ⇒ B`) by showing that B's difference times a
    /// factor of fixed sign is A's difference.
    fn ratio_test(
        &self,
        p: (&Expr, RelOp, &Expr),
        c: (&Expr, RelOp, &Expr),
    ) -> Result<StepVerdict, String> {
        let norm = |(a, b): (RelOp, RelOp)| a == b || a.flipped() == b;
        if !norm((p.1, c.1))
            && !(matches!(p.1, RelOp::Le | RelOp::Ge) && matches!(c.1, RelOp::Le | RelOp::Ge))
            && !(matches!(p.1, RelOp::Lt | RelOp::Gt) && matches!(c.1, RelOp::Lt | RelOp::Gt))
        {
            return Err("the premise and conclusion are different kinds of relation".into());
        }
        let mut n = Normalizer::new(&self.dom);
        for e in [p.0, p.2, c.0, c.2] {
            n.prescan(e);
        }
        // Orient each as "difference >= 0" (or "= 0").
        let diff = |n: &mut Normalizer<'_>,
                    (a, op, b): (&Expr, RelOp, &Expr)|
         -> Result<crate::symbolic::polynomial::Alg, NormError> {
            let (x, y) = (n.alg(a)?, n.alg(b)?);
            Ok(match op {
                RelOp::Ge | RelOp::Gt => crate::symbolic::polynomial::Alg::sub(x, y),
                _ => crate::symbolic::polynomial::Alg::sub(y, x),
            })
        };
        let run = |n: &mut Normalizer<'_>| -> Result<Option<StepVerdict>, NormError> {
            let dp = diff(n, p)?;
            let dc = diff(n, c)?;
            let ratio = crate::symbolic::polynomial::Alg::Mul(vec![
                dp,
                crate::symbolic::polynomial::Alg::Pow(Box::new(dc), -1),
            ]);
            let rf = n.ratfun(&ratio)?;
            // The factor relates the two differences everywhere only if it is
            // never zero and never undefined: both its parts of strict sign.
            let s = n.ratfun_strict_sign(&rf);
            let ok = match p.1 {
                RelOp::Eq => s.is_some(),
                _ => s == Some(Sign::Pos),
            };
            let rules = if n.rules.is_empty() {
                String::new()
            } else {
                format!(
                    "\nrules used: {}",
                    n.rules.iter().copied().collect::<Vec<_>>().join("; ")
                )
            };
            Ok(ok.then(|| {
                StepVerdict::new(
                    VerdictKind::Proved,
                    "the premise's difference is the conclusion's times a factor of fixed sign",
                    format!("so both relations hold at the same admissible points (where both sides are defined){rules}"),
                )
            }))
        };
        match run(&mut n) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(
                "the two relations are not multiples of each other by a factor of fixed sign"
                    .into(),
            ),
            Err(e) => Err(format!("symbolic engine: {e}")),
        }
    }

    fn logic_by_points(
        &self,
        p: &(Expr, RelOp, Expr),
        logic: Logic,
        c: &(Expr, RelOp, Expr),
        note: String,
    ) -> StepVerdict {
        let ev = Evaluator::new(self.ctx);
        let sub = |e: &Expr| substitute(e, &self.subs);
        let (pa, pb, ca, cb) = (sub(&p.0), sub(&p.2), sub(&c.0), sub(&c.2));
        let symbols = self.symbols_of(&[&p.0, &p.2, &c.0, &c.2]);
        let mut sampler = Sampler::new(
            &self.dom,
            symbols,
            BTreeMap::new(),
            seed_for(self.seed, &self.show_text, 0),
        );
        let truth = |a: &Expr, op: RelOp, b: &Expr, pt: &Point| -> Option<bool> {
            let x = ev.eval(a, pt).ok()?;
            let y = ev.eval(b, pt).ok()?;
            compare(&x, op, &y).ok()
        };
        let mut agreed = 0;
        for pt in sampler.points(self.cfg.attempts) {
            if !self.admissible(&ev, &pt) {
                continue;
            }
            let (Some(tp), Some(tc)) = (truth(&pa, p.1, &pb, &pt), truth(&ca, c.1, &cb, &pt))
            else {
                continue;
            };
            let bad = (tp && !tc) || (logic == Logic::Iff && tc && !tp);
            if bad {
                let mut v = StepVerdict::new(
                    VerdictKind::Refuted,
                    "certified counterexample (exact evaluation)",
                    if tp {
                        "the premise holds here but the conclusion does not"
                    } else {
                        "the conclusion holds here but the premise does not"
                    },
                );
                v.counterexample = Some(Counterexample {
                    values: display_point(&pt),
                    lhs: format!("premise {}", if tp { "true" } else { "false" }),
                    rhs: format!("conclusion {}", if tc { "true" } else { "false" }),
                    mismatches: Vec::new(),
                });
                return v;
            }
            if tp || (logic == Logic::Iff && tc) {
                agreed += 1;
            }
        }
        if agreed > 0 {
            let mut v = StepVerdict::new(
                VerdictKind::Checked,
                "spot checks with exact arithmetic at points where the premise holds",
                note,
            );
            v.checks = agreed;
            return v;
        }
        StepVerdict::unsupported(format!(
            "no sampled point satisfies the premise, so nothing could be checked\n{note}"
        ))
    }
}

/// Proves `l op r` by the normal form of the difference (`=`) or its sign
/// (inequalities); `None` when the method does not decide it.
fn prove_relation(
    n: &mut Normalizer<'_>,
    l: &Expr,
    r: &Expr,
    op: RelOp,
) -> Result<Option<StepVerdict>, NormError> {
    let a = n.alg(l)?;
    let b = n.alg(r)?;
    let diff = match op {
        RelOp::Ge | RelOp::Gt => crate::symbolic::polynomial::Alg::sub(a, b),
        _ => crate::symbolic::polynomial::Alg::sub(b, a),
    };
    let rf = n.ratfun(&diff)?;
    let rules = if n.rules.is_empty() {
        String::new()
    } else {
        format!(
            "rules used: {}",
            n.rules.iter().copied().collect::<Vec<_>>().join("; ")
        )
    };
    let poles = if rf.den.as_constant().is_some() {
        ""
    } else {
        "holds wherever both sides are defined"
    };
    let detail = [rules.as_str(), poles]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    match op {
        RelOp::Eq => Ok(rf.num.is_zero().then(|| {
            StepVerdict::new(
                VerdictKind::Proved,
                "exact symbolic normal form (rational function)",
                detail.clone(),
            )
        })),
        RelOp::Le | RelOp::Ge | RelOp::Lt | RelOp::Gt => {
            let s = n.ratfun_sign(&rf);
            let strict = matches!(op, RelOp::Lt | RelOp::Gt);
            let ok = if strict { s == Sign::Pos } else { s.nonneg() };
            Ok(ok.then(|| {
                StepVerdict::new(
                    VerdictKind::Proved,
                    "sign of the difference under the domain (every term of one sign)",
                    detail.clone(),
                )
            }))
        }
        _ => Ok(None),
    }
}

/// The domain with every bounded symbol written as bound + offset (or
/// bound − offset), the offset nonnegative; `None` when nothing is bounded.
fn shifted_domain(dom: &Domain) -> Option<(Domain, BTreeMap<String, Expr>)> {
    use crate::resolve::ScalarKind;
    use crate::syntax::expr::BinOp;
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
                    h.map(|h| crate::resolve::domain::Bound {
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
    let as_array = |v: &Value| -> Option<crate::exact::layers::Array> {
        match v {
            Value::Array(x) => Some(x.clone()),
            Value::Scalar(Real::Exact(q)) => {
                crate::exact::layers::Array::new(1, 1, vec![q.clone()]).ok()
            }
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
                    let tol = BigRational::new(
                        BigInt::from(1),
                        BigInt::from(2) * num_traits::pow(BigInt::from(10), places),
                    );
                    (p - q).abs() <= tol
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
pub fn mostly_exact(claim: &Claim, ctx: &Context) -> bool {
    let Ok(body) = &claim.body else { return false };
    let Statement::Chain(chain) = &body.statement else {
        return false;
    };
    let arrays: Vec<bool> = chain
        .terms
        .iter()
        .map(|e| involves_arrays(e, ctx))
        .collect();
    arrays.len() >= 2 && arrays.windows(2).all(|w| w[0] || w[1])
}

/// Where a claim's error is, relative to the claim, so that an outcome can
/// be reused by another claim with the same parsed content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorAt {
    /// At the claim's header.
    Claim,
    /// At the start of `show`.
    Show,
    /// At a piece of the `show` text.
    ShowSpan(crate::syntax::expr::Span),
}

/// What checking a well-formed claim concluded, without file locations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimOutcome {
    /// The worst verdict of its steps (or `error`).
    pub verdict: VerdictKind,
    /// For an `error` claim: where (relative to the claim) and what.
    pub error: Option<(ErrorAt, String)>,
    /// Its steps, in order.
    pub steps: Vec<StepReport>,
}

impl ClaimOutcome {
    /// The claim's report: the outcome located in the claim's file.
    pub fn locate(self, claim: &Claim) -> ClaimReport {
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
        }
    }
}

/// Checks one claim of a file.
pub fn check_claim(claim: &Claim, ctx: &Context, cfg: &Config) -> ClaimReport {
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
        },
    }
}

/// Checks the body of a well-formed claim with this id (the id seeds the
/// spot checks).
pub fn check_body(id: &str, body: &ClaimBody, ctx: &Context, cfg: &Config) -> ClaimOutcome {
    let mut report = ClaimOutcome {
        verdict: VerdictKind::Error,
        error: None,
        steps: Vec::new(),
    };
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
            if ops.len() == 1 && ops[0] == RelOp::Eq {
                if let ExprKind::Name(n) = &items[0].kind {
                    if matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Scalar(_)))
                        && !subs.contains_key(n)
                    {
                        match expand(&items[1], ctx, &BTreeMap::new()) {
                            Ok(v) => {
                                subs.insert(n.clone(), v);
                            }
                            Err(m) => {
                                report.error = Some((ErrorAt::Claim, format!("in `given`: {m}")));
                                return report;
                            }
                        }
                        // The substituted symbol's own kind must still hold, or the
                        // domain is empty: keep it as a condition on the value.
                        if let Some(Kind::Scalar(k)) = ctx.symbols.get(n).map(|s| &s.kind) {
                            if let Some(c) = kind_condition(*k, &items[1]) {
                                conditions.push(c);
                            }
                        }
                        continue;
                    }
                }
            }
        }
        conditions.push(g.clone());
    }
    for c in &body.conditions {
        conditions.push(c.clone());
    }
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
        match expand(c, ctx, &BTreeMap::new()) {
            Ok(x) => dom.add_condition(&x),
            Err(m) => {
                report.error = Some((ErrorAt::Claim, format!("in a condition: {m}")));
                return report;
            }
        }
    }
    // A condition with no free symbol that is false empties the domain.
    let ev = Evaluator::new(ctx);
    for c in &conditions {
        if free_symbols(c, ctx).is_empty() && ev.holds(c, &Point::new()) == Ok(false) {
            report.error = Some((
                ErrorAt::Claim,
                format!("the domain is empty: the condition `{c}` is false"),
            ));
            return report;
        }
    }
    dom.propagate();
    for (name, lo) in &dom.lower {
        if let Some(hi) = dom.upper.get(name) {
            if lo.value > hi.value || (lo.value == hi.value && (lo.strict || hi.strict)) {
                report.error = Some((
                    ErrorAt::Claim,
                    format!(
                        "the domain is empty: `{name}` must be at least {} and at most {}",
                        format_rational(&lo.value),
                        format_rational(&hi.value)
                    ),
                ));
                return report;
            }
        }
    }
    let scope = ClaimScope {
        ctx,
        cfg,
        dom,
        subs,
        conditions,
        show_text: body.show.text.clone(),
        seed: cfg.seed ^ seed_for(0, id, 0),
    };
    match &body.statement {
        Statement::Chain(chain) => {
            for (i, (op, _)) in chain.ops.iter().enumerate() {
                let (a, b) = (&chain.terms[i], &chain.terms[i + 1]);
                let verdict = scope.check_chain_step(i, a, *op, b);
                report.steps.push(StepReport {
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
            let verdict = scope.check_logic(premise, *logic, conclusion);
            let show = |cs: &[Chain]| {
                cs.iter()
                    .map(|c| {
                        let mut s = c.terms[0].to_string();
                        for (i, (op, _)) in c.ops.iter().enumerate() {
                            s = format!("{s} {} {}", op.symbol(), c.terms[i + 1]);
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            report.steps.push(StepReport {
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
    report.verdict = report
        .steps
        .iter()
        .map(|s| s.verdict.kind)
        .max()
        .unwrap_or(VerdictKind::Error);
    if report.verdict == VerdictKind::Error {
        if let Some(s) = report
            .steps
            .iter()
            .find(|s| s.verdict.kind == VerdictKind::Error)
        {
            let at = s.verdict.span.map_or(ErrorAt::Show, ErrorAt::ShowSpan);
            report.error = Some((at, s.verdict.detail.clone()));
        }
    }
    report
}
