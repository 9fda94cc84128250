//! Matrix claims: noncommutative algebra with symbolic sizes, norms and
//! cost counting.
//!
//! A step that mentions a matrix, the identity or a matrix built-in is
//! typed first ([`typed`]: every product, sum and transpose size-checked,
//! a mismatch is a located `error`). Then:
//! 1. **Proof for every size**: both sides go to the [`normal_form`] (words
//!    of matrix atoms with scalar coefficients, `given` equations as
//!    rewrite rules, scalar functions of matrices as placeholders) and the
//!    coefficients are compared by the exact scalar normal form.
//! 2. **Spot checks**: exact rational matrices ([`dense`]) at several small
//!    admissible sizes (1 and non-square included), with `given` hypotheses
//!    met (orthonormal columns from Householder reflections, other
//!    hypotheses by rejection); `norm2` exactly through [`spectral`]. A
//!    failure is `refuted` with the sizes and the (shrunk) matrices; agreement
//!    without a proof is `checked`, never `proved`.
//!
//! `grad`, `hessian` and `jacobian` enter the normal form through
//! [`calculus`] (our matrix-calculus rules) and are evaluated at samples
//! through [`jet`] (exact dual numbers), two independent paths.

pub(crate) mod calculus;
pub(crate) mod dense;
pub(crate) mod entrywise;
pub(crate) mod eval;
pub(crate) mod jet;
pub(crate) mod normal_form;
pub(crate) mod size;
pub(crate) mod spectral;
pub(crate) mod typed;

use crate::check::evidence::{Evidence, PointOutcome};
use crate::config::Config;
use crate::exact::eval::{compare, Evaluator};
use crate::exact::real::Real;
use crate::exact::spot::{Point, Rng, Sampler};
use crate::resolve::domain::{Domain, Sign};
use crate::resolve::expand::substitute;
use crate::resolve::{names_in, Context, Kind};
use crate::syntax::expr::{Builtin, Chain, Expr, ExprKind, Logic, RelOp};
use crate::verdict::{
    Certificate, Counterexample, CrossChecks, EntryMismatch, Method, Rule, StopReason, Verdict,
};
use dense::Mat;
use eval::{Env, V};
use normal_form::{MatPoly, NfError, Normalizer};
use num_bigint::BigInt;
use num_rational::BigRational;
use std::collections::BTreeMap;
use typed::{TKind, TypeError, Typer, T};

/// What one step of a claim shares with the others.
struct Scope<'a> {
    /// Declarations and definitions.
    pub(crate) ctx: &'a Context,
    /// Settings and budgets.
    pub(crate) cfg: &'a Config,
    /// The claim's scalar domain.
    pub(crate) dom: &'a Domain,
    /// Scalar `given` substitutions.
    pub(crate) subs: &'a BTreeMap<String, Expr>,
    /// `where` conditions and the other `given` hypotheses.
    pub(crate) conditions: &'a [Expr],
    /// This step's sampling seed.
    pub(crate) seed: u64,
}

/// A relation between two typed sides.
struct Rel {
    lhs: T,
    op: RelOp,
    rhs: T,
}

/// How a matrix symbol is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Draw {
    Free,
    OrthonormalColumns,
    OrthonormalRows,
    Symmetric,
    /// Orthogonal by the Cayley transform `(I − S)(I + S)⁻¹` of a skew `S`.
    Orthogonal,
    /// Invertible: a random matrix shifted by `k I` until its determinant is nonzero.
    Invertible,
    /// `L Lᵀ + I`.
    PositiveDefinite,
    Diagonal,
}

/// `det(A) != 0` (or `0 != det(A)`) with `A` a declared matrix symbol.
fn nonsingular_hypothesis(c: &Expr, ctx: &Context) -> Option<String> {
    let ExprKind::Compare(items, ops) = &c.kind else {
        return None;
    };
    if items.len() != 2 || ops.len() != 1 || ops[0] != RelOp::Ne {
        return None;
    }
    let det_of = |e: &Expr| -> Option<String> {
        let ExprKind::Builtin {
            op: Builtin::Det,
            args,
            ..
        } = &e.kind
        else {
            return None;
        };
        let [a] = args.as_slice() else { return None };
        let ExprKind::Name(n) = &a.kind else {
            return None;
        };
        matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Matrix(..))).then(|| n.clone())
    };
    let zero = |e: &Expr| {
        crate::symbolic::normal::fold_rational(e).is_some_and(|q| q == crate::syntax::expr::rat(0))
    };
    match (det_of(&items[0]), det_of(&items[1])) {
        (Some(n), None) if zero(&items[1]) => Some(n),
        (None, Some(n)) if zero(&items[0]) => Some(n),
        _ => None,
    }
}

impl<'a> Scope<'a> {
    /// The matrix view of a claim's scope, for step `index`.
    fn of(scope: &'a crate::check::Scope<'a>, index: usize) -> Scope<'a> {
        Scope {
            ctx: scope.ctx,
            cfg: scope.cfg,
            dom: &scope.dom,
            subs: &scope.subs,
            conditions: &scope.conditions,
            seed: scope.step_seed(index),
        }
    }
}

fn type_failure(e: TypeError) -> Verdict {
    match e {
        TypeError::Error(span, m) => Verdict::error(m, Some(span)),
        TypeError::Unsupported(m) => Verdict::unsupported(m),
    }
}

fn walk_t(t: &T, f: &mut dyn FnMut(&T)) {
    f(t);
    match &t.kind {
        TKind::Scalar(_) | TKind::Symbol(_) | TKind::Identity | TKind::Literal(_) => {}
        TKind::Defined(_, a) | TKind::AsScalar(a) | TKind::Neg(a) | TKind::Transpose(a) => {
            walk_t(a, f)
        }
        TKind::Add(a, b)
        | TKind::Sub(a, b)
        | TKind::Mul(a, b)
        | TKind::Div(a, b)
        | TKind::Pow(a, b) => {
            walk_t(a, f);
            walk_t(b, f);
        }
        TKind::Call(_, args) => args.iter().for_each(|a| walk_t(a, f)),
    }
}

/// Exact scalar proof of `l op r` under `dom` (placeholders declared there).
fn prove_scalar(dom: &Domain, l: &Expr, r: &Expr, op: RelOp) -> Result<bool, String> {
    let mut n = crate::symbolic::normal::Normalizer::new(dom);
    n.prescan(l);
    n.prescan(r);
    let a = n.alg(l).map_err(|e| e.to_string())?;
    let b = n.alg(r).map_err(|e| e.to_string())?;
    let diff = match op {
        RelOp::Ge | RelOp::Gt => crate::symbolic::polynomial::Alg::sub(a, b),
        _ => crate::symbolic::polynomial::Alg::sub(b, a),
    };
    let rf = n.ratfun(&diff).map_err(|e| e.to_string())?;
    Ok(match op {
        RelOp::Eq => rf.num.is_zero(),
        RelOp::Le | RelOp::Ge => n.ratfun_sign(&rf).nonneg(),
        RelOp::Lt | RelOp::Gt => n.ratfun_sign(&rf) == Sign::Pos,
        _ => false,
    })
}

/// Are all coefficients of a normal form zero (exact scalar normal form)?
fn all_zero(dom: &Domain, m: &MatPoly) -> Result<bool, String> {
    let zero = Expr::int(0);
    for c in m.terms.values() {
        if !prove_scalar(dom, c, &zero, RelOp::Eq)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The slack placeholder of a bound or a premise: a nonnegative name no
/// user symbol can have.
fn slack_name(of: &str, i: usize) -> String {
    format!("slack{i}[{of}]")
}

/// Is the scalar relation `l op r` proved under `dom`, directly or after
/// replacing spectral-norm placeholders by upper bounds? Each bound
/// `p <= u` (submultiplicativity, triangle inequality, Frobenius) is used as
/// the exact substitution `p = u - s` with a fresh `s >= 0`: a proof for
/// every `s >= 0` holds in particular at `s = u - p`, so the relation is
/// monotone in the other factors exactly as far as the sign test shows.
/// Returns the rules of the bounds used (empty for a direct proof).
fn prove_with_bounds(
    nf: &mut Normalizer<'_>,
    base: &Domain,
    l: &Expr,
    op: RelOp,
    r: &Expr,
    combinations: usize,
) -> Result<Option<Vec<Rule>>, String> {
    let domain = |nf: &Normalizer<'_>| {
        let mut dom = base.clone();
        for (name, p) in &nf.placeholders {
            dom.kinds.insert(name.clone(), p.kind);
        }
        dom
    };
    if prove_scalar(&domain(nf), l, r, op)? {
        return Ok(Some(Vec::new()));
    }
    if !matches!(op, RelOp::Le | RelOp::Lt | RelOp::Ge | RelOp::Gt) {
        return Ok(None);
    }
    let mut names = Vec::new();
    names_in(l, &mut names);
    names_in(r, &mut names);
    // Squared Frobenius norms `trace(uᵀ u)` are bounded through their root:
    // `sqrt(p)` becomes a nonnegative name `q` (and `p` becomes `q²`).
    let (mut l, mut r) = (l.clone(), r.clone());
    let mut roots = Vec::new();
    let mut root_of = Vec::new();
    let mut options = Vec::new();
    let mut bounded = Vec::new();
    for n in &names {
        let def = nf.placeholders.get(n).map(|p| p.def.clone());
        match def {
            Some(normal_form::PlaceDef::Norm2(_)) => {
                options.push(
                    nf.norm2_upper_bounds(n)
                        .map_err(|NfError::Unsupported(m)| m)?,
                );
                bounded.push(n.clone());
            }
            Some(normal_form::PlaceDef::Trace(w)) if nf.gram_half(&w).is_some() => {
                let q = format!("sqrt[{n}]");
                l = root_alias(&l, n, &q);
                r = root_alias(&r, n, &q);
                options.push(
                    nf.gram_trace_bounds(&w)
                        .map_err(|NfError::Unsupported(m)| m)?,
                );
                roots.push(q.clone());
                root_of.push(n.clone());
                bounded.push(q);
            }
            _ => {}
        }
        if bounded.len() >= 4 {
            break;
        }
    }
    let (l, r) = (&l, &r);
    let names = bounded;
    if names.is_empty() {
        return Ok(None);
    }
    // An odometer over the choices (0: the placeholder stays).
    let mut choice = vec![0usize; names.len()];
    let mut tried = 0;
    loop {
        let mut k = 0;
        loop {
            if k == choice.len() {
                return Ok(None);
            }
            choice[k] += 1;
            if choice[k] <= options[k].len() {
                break;
            }
            choice[k] = 0;
            k += 1;
        }
        tried += 1;
        if tried > combinations {
            return Ok(None);
        }
        let mut map = BTreeMap::new();
        let mut dom = domain(nf);
        for q in &roots {
            dom.kinds
                .insert(q.clone(), crate::resolve::ScalarKind::Nonnegative);
        }
        let mut rules = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if choice[i] == 0 {
                continue;
            }
            let (u, rule) = &options[i][choice[i] - 1];
            let mut u = u.clone();
            for (q, p) in roots.iter().zip(&root_of) {
                u = root_alias(&u, p, q);
            }
            let u = &u;
            let sl = slack_name(n, 0);
            dom.kinds
                .insert(sl.clone(), crate::resolve::ScalarKind::Nonnegative);
            map.insert(
                n.clone(),
                Expr::binary(crate::syntax::expr::BinOp::Sub, u.clone(), Expr::name(&sl)),
            );
            if !rules.contains(rule) {
                rules.push(rule.clone());
            }
        }
        let fix = |e: &Expr| substitute(&substitute(e, &map), &nf.place_subs);
        let (l2, r2) = (fix(l), fix(r));
        if prove_scalar(&dom, &l2, &r2, op)? {
            return Ok(Some(rules));
        }
    }
}

/// `e` with `sqrt(p)` written `q` and any other `p` written `q²` (`p >= 0`).
fn root_alias(e: &Expr, p: &str, q: &str) -> Expr {
    match &e.kind {
        ExprKind::Builtin {
            op: Builtin::Sqrt,
            args,
            ..
        } if args.len() == 1 && matches!(&args[0].kind, ExprKind::Name(n) if n == p) => {
            Expr::name(q)
        }
        ExprKind::Name(n) if n == p => {
            Expr::binary(crate::syntax::expr::BinOp::Pow, Expr::name(q), Expr::int(2))
        }
        other => Expr::new(
            crate::resolve::expand::map_children(other, &mut |c| root_alias(c, p, q)),
            e.span,
        ),
    }
}

/// A premise `a op b` (scalar forms) used as a fact: `=` as a substitution,
/// `<=`/`>=`/`<`/`>` as `a = b - s` (`a = b + s`) with a fresh slack of sign
/// `s >= 0` (`s > 0`), when `a` (or `b`) solves for a placeholder or a
/// declared scalar symbol. At every point where the premise holds the slack
/// has that sign, so a proof for every such slack covers those points.
fn premise_fact(
    nf: &mut Normalizer<'_>,
    ctx: &Context,
    slacks: &mut BTreeMap<String, crate::resolve::ScalarKind>,
    a: &Expr,
    op: RelOp,
    b: &Expr,
) -> bool {
    use crate::syntax::expr::BinOp;
    let sl = slack_name(&format!("{a}"), slacks.len());
    let (kind, lhs_value, rhs_value) = match op {
        RelOp::Eq => (None, b.clone(), a.clone()),
        RelOp::Le | RelOp::Lt => (
            Some(op),
            Expr::binary(BinOp::Sub, b.clone(), Expr::name(&sl)),
            Expr::binary(BinOp::Add, a.clone(), Expr::name(&sl)),
        ),
        RelOp::Ge | RelOp::Gt => (
            Some(op),
            Expr::binary(BinOp::Add, b.clone(), Expr::name(&sl)),
            Expr::binary(BinOp::Sub, a.clone(), Expr::name(&sl)),
        ),
        _ => return false,
    };
    let symbol = |x: &Expr, v: &Expr| -> Option<String> {
        let ExprKind::Name(n) = &x.kind else {
            return None;
        };
        if !matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Scalar(_))) {
            return None;
        }
        let mut names = Vec::new();
        names_in(v, &mut names);
        (!names.contains(n)).then(|| n.clone())
    };
    let done = if nf.add_scalar_fact(a, &lhs_value) || nf.add_scalar_fact(b, &rhs_value) {
        true
    } else if let Some(n) = symbol(a, &lhs_value) {
        nf.place_subs.insert(n, lhs_value);
        true
    } else if let Some(n) = symbol(b, &rhs_value) {
        nf.place_subs.insert(n, rhs_value);
        true
    } else {
        false
    };
    if done {
        if let Some(op) = kind {
            let k = if matches!(op, RelOp::Lt | RelOp::Gt) {
                crate::resolve::ScalarKind::Positive
            } else {
                crate::resolve::ScalarKind::Nonnegative
            };
            slacks.insert(sl, k);
        }
    }
    done
}

/// Ratio test on scalar forms: `dp = k · dc` with `k` of strict sign (both
/// relations then hold at the same admissible points).
fn ratio_test(dom: &Domain, p: (&Expr, RelOp, &Expr), c: (&Expr, RelOp, &Expr)) -> bool {
    use crate::symbolic::polynomial::Alg;
    let ineq = |o: RelOp| matches!(o, RelOp::Le | RelOp::Ge | RelOp::Lt | RelOp::Gt);
    let strict = |o: RelOp| matches!(o, RelOp::Lt | RelOp::Gt);
    let compatible = (p.1 == RelOp::Eq && c.1 == RelOp::Eq)
        || (ineq(p.1) && ineq(c.1) && strict(p.1) == strict(c.1));
    if !compatible {
        return false;
    }
    let mut n = crate::symbolic::normal::Normalizer::new(dom);
    for e in [p.0, p.2, c.0, c.2] {
        n.prescan(e);
    }
    let diff = |n: &mut crate::symbolic::normal::Normalizer<'_>,
                (a, op, b): (&Expr, RelOp, &Expr)| {
        let (x, y) = (n.alg(a)?, n.alg(b)?);
        Ok::<Alg, crate::symbolic::normal::NormError>(match op {
            RelOp::Ge | RelOp::Gt => Alg::sub(x, y),
            _ => Alg::sub(y, x),
        })
    };
    let run = |n: &mut crate::symbolic::normal::Normalizer<'_>| {
        let dp = diff(n, p)?;
        let dc = diff(n, c)?;
        let rf = n.ratfun(&Alg::Mul(vec![dp, Alg::Pow(Box::new(dc), -1)]))?;
        Ok::<_, crate::symbolic::normal::NormError>(n.ratfun_strict_sign(&rf))
    };
    match run(&mut n) {
        Ok(s) => match p.1 {
            RelOp::Eq => s.is_some(),
            _ => s == Some(Sign::Pos),
        },
        Err(_) => false,
    }
}

/// Everything a step (or an implication) needs, typed and normalized.
struct Prepared<'a> {
    /// Matrix symbols a hypothesis `det(A) != 0` makes invertible.
    invertible: Vec<String>,
    typer_sizes: size::Sizes,
    rels: Vec<Rel>,
    /// Matrix hypotheses (typed), checked at every sample.
    hypotheses: Vec<Rel>,
    /// Scalar conditions (where, scalar givens), checked by the scalar evaluator.
    scalar_conditions: Vec<Expr>,
    draws: BTreeMap<String, Draw>,
    scope: &'a Scope<'a>,
}

impl<'a> Prepared<'a> {
    fn new(scope: &'a Scope<'a>, rels: &[(Expr, RelOp, Expr)]) -> Result<Prepared<'a>, Verdict> {
        let mut typer = Typer::new(scope.ctx);
        let mut invertible = Vec::new();
        for c in scope.conditions {
            if let Some(n) = nonsingular_hypothesis(c, scope.ctx) {
                invertible.push(n);
            }
        }
        typer.invertible = invertible.clone();
        // A hypothesis `M = expr` about a declared matrix `M` (not in
        // `expr`) is a substitution, as FORMAT.md says of `name = expr`:
        // written into the steps and the other hypotheses; `M` is then
        // free, so the equation itself needs no sample to satisfy it.
        let mut msubs: BTreeMap<String, Expr> = BTreeMap::new();
        let mut substitutions = Vec::new();
        for c in scope.conditions {
            let ExprKind::Compare(items, ops) = &c.kind else {
                continue;
            };
            let (ExprKind::Name(m), [RelOp::Eq]) = (&items[0].kind, ops.as_slice()) else {
                continue;
            };
            let is_matrix = matches!(
                scope.ctx.symbols.get(m).map(|s| &s.kind),
                Some(crate::resolve::Kind::Matrix(..))
            );
            let mut inner = Vec::new();
            crate::resolve::names_in(&items[1], &mut inner);
            if is_matrix && !inner.contains(m) && !msubs.contains_key(m) {
                // Sizes checked as for any hypothesis.
                typed_rel(&mut typer, &items[0], RelOp::Eq, &items[1])?;
                msubs.insert(m.clone(), items[1].clone());
                substitutions.push(c.clone());
            }
        }
        let subst = |e: &Expr| {
            let mut x = e.clone();
            // Twice, for a substitution whose value names another one.
            for _ in 0..2 {
                x = substitute(&x, &msubs);
            }
            x
        };
        let mut typed_rels = Vec::new();
        for (l, op, r) in rels {
            typed_rels.push(typed_rel(&mut typer, &subst(l), *op, &subst(r))?);
        }
        let mut hypotheses = Vec::new();
        let mut scalar_conditions = Vec::new();
        for c in scope.conditions {
            if nonsingular_hypothesis(c, scope.ctx).is_some() {
                // Met by construction: the symbol is drawn invertible.
                continue;
            }
            if substitutions.contains(c) {
                continue;
            }
            let c = &subst(c);
            if !typed::mentions_matrices(c, scope.ctx) {
                scalar_conditions.push(c.clone());
                continue;
            }
            let ExprKind::Compare(items, ops) = &c.kind else {
                return Err(Verdict::unsupported(format!(
                    "the condition `{c}` about matrices"
                )));
            };
            for (i, op) in ops.iter().enumerate() {
                // `det(Xᵀ W X) != 0` and other scalar `!=` hypotheses: a
                // filter on samples (an inverse is read where it exists, so
                // proofs need no such fact).
                if *op == RelOp::Ne {
                    if let Some(rel) = scalar_ne(&mut typer, &items[i], &items[i + 1]) {
                        hypotheses.push(rel);
                        continue;
                    }
                }
                hypotheses.push(
                    typed_rel(&mut typer, &items[i], *op, &items[i + 1]).map_err(|v| match v {
                        Verdict::Error { message, span } => Verdict::Error {
                            message: format!("in the hypothesis `{c}`: {message}"),
                            span,
                        },
                        Verdict::Unsupported(reason) => {
                            Verdict::unsupported(format!("in the hypothesis `{c}`: {reason}"))
                        }
                        other => other,
                    })?,
                );
            }
        }
        let mut draws = BTreeMap::new();
        for (name, sym) in &scope.ctx.symbols {
            use crate::resolve::Structure as St;
            let d = match sym.structure {
                St::General if invertible.contains(name) => Draw::Invertible,
                St::General => continue,
                St::Symmetric => Draw::Symmetric,
                St::Orthogonal => Draw::Orthogonal,
                St::Invertible => Draw::Invertible,
                St::PositiveDefinite => Draw::PositiveDefinite,
                St::Diagonal => Draw::Diagonal,
            };
            draws.insert(name.clone(), d);
        }
        for h in &hypotheses {
            if let Some((name, d)) = orthonormal(h) {
                draws.insert(name, d);
            }
        }
        Ok(Prepared {
            invertible,
            typer_sizes: typer.sizes,
            rels: typed_rels,
            hypotheses,
            scalar_conditions,
            draws,
            scope,
        })
    }

    /// A normalizer with the hypotheses turned into rules and facts.
    fn normalizer(&self) -> Normalizer<'_> {
        let s = self.scope;
        let mut nf = Normalizer::new(s.ctx, &self.typer_sizes, s.subs);
        nf.invertible = self.invertible.clone();
        nf.derivative = Some(calculus::derivative);
        for h in &self.hypotheses {
            if h.op != RelOp::Eq {
                continue;
            }
            if h.lhs.shape.is_some() {
                if let (Ok(a), Ok(b)) = (nf.mat(&h.lhs), nf.mat(&h.rhs)) {
                    nf.add_rule(&a, &b);
                }
            } else if let (Ok(a), Ok(b)) = (nf.scalar(&h.lhs), nf.scalar(&h.rhs)) {
                nf.add_scalar_fact(&a, &b);
            }
        }
        nf
    }

    /// The domain extended with the placeholders' kinds.
    fn domain(&self, nf: &Normalizer<'_>) -> Domain {
        let mut dom = self.scope.dom.clone();
        for (name, p) in &nf.placeholders {
            dom.kinds.insert(name.clone(), p.kind);
        }
        dom
    }

    /// Scalar and size symbols to sample, and the matrix symbols.
    fn symbols(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let ctx = self.scope.ctx;
        let mut names = Vec::new();
        let mut mats = Vec::new();
        let mut visit = |t: &T| match &t.kind {
            TKind::Scalar(e) => {
                if let Ok(x) = crate::symbolic::sums::expand_cut(e, ctx, &BTreeMap::new()) {
                    names_in(&x, &mut names);
                }
            }
            TKind::Symbol(n) if !mats.contains(n) => {
                mats.push(n.clone());
            }
            TKind::Literal(rows) => rows.iter().flatten().for_each(|e| names_in(e, &mut names)),
            _ => {}
        };
        for r in self.rels.iter().chain(&self.hypotheses) {
            walk_t(&r.lhs, &mut visit);
            walk_t(&r.rhs, &mut visit);
        }
        for c in &self.scalar_conditions {
            names_in(c, &mut names);
        }
        if names_in_cost(&self.rels) {
            names.push("c".into());
        }
        let mut size_syms = Vec::new();
        for m in &mats {
            if let Some(Kind::Matrix(r, c)) = ctx.symbols.get(m).map(|s| &s.kind) {
                names_in(r, &mut size_syms);
                names_in(c, &mut size_syms);
            }
        }
        // Sizes of identities and literals come from the sizes found by typing.
        for r in self.rels.iter().chain(&self.hypotheses) {
            for t in [&r.lhs, &r.rhs] {
                walk_t(t, &mut |x| {
                    if let Some(s) = &x.shape {
                        for d in [&s.rows, &s.cols] {
                            if let Some(p) = self.typer_sizes.known(d) {
                                for n in p.symbols() {
                                    if !size_syms.contains(&n) {
                                        size_syms.push(n);
                                    }
                                }
                            }
                        }
                    }
                });
            }
        }
        let scalar =
            |n: &String| matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Scalar(_)));
        size_syms.retain(|n| scalar(n) && !self.scope.subs.contains_key(n));
        size_syms.sort();
        size_syms.dedup();
        names.retain(|n| scalar(n) && !self.scope.subs.contains_key(n) && !size_syms.contains(n));
        // Substituted values may mention further symbols.
        for e in self.scope.subs.values() {
            let mut more = Vec::new();
            names_in(e, &mut more);
            for n in more {
                if scalar(&n) && !size_syms.contains(&n) && !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names.sort();
        names.dedup();
        mats.sort();
        (names, size_syms, mats)
    }
}

fn names_in_cost(rels: &[Rel]) -> bool {
    let mut found = false;
    for r in rels {
        for t in [&r.lhs, &r.rhs] {
            walk_t(t, &mut |x| {
                if matches!(&x.kind, TKind::Call(Builtin::Cost, _)) {
                    found = true;
                }
            });
        }
    }
    found
}

/// `Xᵀ X = I` (or `X Xᵀ = I`) with `X` a declared matrix.
fn orthonormal(h: &Rel) -> Option<(String, Draw)> {
    if h.op != RelOp::Eq || !matches!(h.rhs.kind, TKind::Identity) {
        return None;
    }
    let TKind::Mul(a, b) = &h.lhs.kind else {
        return None;
    };
    match (&a.kind, &b.kind) {
        (TKind::Transpose(x), TKind::Symbol(y)) => match &x.kind {
            TKind::Symbol(x) if x == y => Some((x.clone(), Draw::OrthonormalColumns)),
            _ => None,
        },
        (TKind::Symbol(x), TKind::Transpose(y)) => match &y.kind {
            TKind::Symbol(y) if x == y => Some((x.clone(), Draw::OrthonormalRows)),
            _ => None,
        },
        _ => None,
    }
}

fn typed_rel(typer: &mut Typer<'_>, l: &Expr, op: RelOp, r: &Expr) -> Result<Rel, Verdict> {
    let lt = typer.typed(l).map_err(type_failure)?;
    let rt = typer.typed(r).map_err(type_failure)?;
    let (lt, rt) = match (&lt.shape, &rt.shape) {
        (Some(a), Some(b)) => {
            let (a, b) = (a.clone(), b.clone());
            if !typer.sizes.unify(&a.rows, &b.rows) || !typer.sizes.unify(&a.cols, &b.cols) {
                return Err(Verdict::error(
                    format!(
                        "size mismatch: the left side `{l}` is {} and the right side `{r}` is {}",
                        typer.sizes.show_shape(&a),
                        typer.sizes.show_shape(&b)
                    ),
                    Some(l.span.to(r.span)),
                ));
            }
            (lt, rt)
        }
        // A matrix compared with the literal 0 (`grad(f, x) = 0`) is
        // compared with the zero matrix of its shape; a 1 × 1 matrix with
        // a scalar.
        (Some(_), None) => match typer.scalar_view(lt.clone()) {
            Ok(l) => (l, rt),
            Err(_) if is_zero_literal(&rt) => {
                let z = zero_like(&lt, rt.span);
                (lt, z)
            }
            Err(e) => return Err(type_failure(e)),
        },
        (None, Some(_)) => match typer.scalar_view(rt.clone()) {
            Ok(r) => (lt, r),
            Err(_) if is_zero_literal(&lt) => (zero_like(&rt, lt.span), rt),
            Err(e) => return Err(type_failure(e)),
        },
        (None, None) => (lt, rt),
    };
    if lt.shape.is_some() && op != RelOp::Eq {
        return Err(Verdict::unsupported(format!(
            "matrices are compared with `=` only, not `{}`",
            op.symbol()
        )));
    }
    if op == RelOp::Approx || op == RelOp::Ne {
        return Err(Verdict::unsupported(format!(
            "`{}` in matrix claims is not supported",
            op.symbol()
        )));
    }
    Ok(Rel {
        lhs: lt,
        op,
        rhs: rt,
    })
}

/// `a != b` between two scalar sides, typed (for hypotheses only).
fn scalar_ne(typer: &mut Typer<'_>, a: &Expr, b: &Expr) -> Option<Rel> {
    let lhs = typer.typed(a).ok()?;
    let rhs = typer.typed(b).ok()?;
    let lhs = typer.scalar_view(lhs).ok()?;
    let rhs = typer.scalar_view(rhs).ok()?;
    (lhs.shape.is_none() && rhs.shape.is_none()).then_some(Rel {
        lhs,
        op: RelOp::Ne,
        rhs,
    })
}

/// Is a typed side the literal scalar 0?
fn is_zero_literal(t: &T) -> bool {
    matches!(&t.kind, TKind::Scalar(e) if crate::symbolic::normal::fold_rational(e)
        .is_some_and(|q| num_traits::Zero::is_zero(&q)))
}

/// The zero matrix of `t`'s shape, written `0 · t`.
fn zero_like(t: &T, span: crate::syntax::expr::Span) -> T {
    T {
        kind: TKind::Mul(
            Box::new(T {
                kind: TKind::Scalar(Expr::int(0)),
                shape: None,
                span,
            }),
            Box::new(t.clone()),
        ),
        shape: t.shape.clone(),
        span,
    }
}

/// A matrix implication `P = Q ⇒ L = R` (or `⇔`) proved when the
/// conclusion's difference `L − R` is a constant multiple `k (P − Q)` of
/// the premise's in the normal form (`k ≠ 0` for `⇔`): wherever the
/// premise holds, so does the conclusion. Returns the rules used.
fn prove_matrix_implication(prepared: &Prepared<'_>, np: usize, logic: Logic) -> Option<Vec<Rule>> {
    if let Some(rules) = premise_multiple(prepared, np, logic) {
        return Some(rules);
    }
    let (prem, concl) = prepared.rels.split_at(np);
    match logic {
        Logic::Implies => by_premise_rules(prepared, prem, concl),
        Logic::Iff => {
            let mut a = by_premise_rules(prepared, prem, concl)?;
            for r in by_premise_rules(prepared, concl, prem)? {
                if !a.contains(&r) {
                    a.push(r);
                }
            }
            Some(a)
        }
    }
}

/// `from ⇒ to` with the equations of `from` as rewrite rules (matrix
/// equations oriented by [`Normalizer::add_premise_rule`], scalar ones as
/// facts): each equation of `to` between matrices rewrites to a zero
/// difference, directly or after multiplying through by a matrix whose
/// inverse occurs (`K d = 0` gives `d = 0` where `K⁻¹` exists); each
/// scalar relation is then proved with the rewritten scalar forms. Every
/// rewrite replaces a word by an equal matrix wherever the premise holds,
/// so a zero difference means the conclusion holds there.
fn by_premise_rules(prepared: &Prepared<'_>, from: &[Rel], to: &[Rel]) -> Option<Vec<Rule>> {
    if from.is_empty() || from.iter().any(|r| r.op != RelOp::Eq) {
        return None;
    }
    let mut nf = prepared.normalizer();
    for r in from {
        if r.lhs.shape.is_some() {
            let a = nf.mat(&r.lhs).ok()?;
            let b = nf.mat(&r.rhs).ok()?;
            let d = nf.absorb_inverses(a.plus(&b, true)).ok()?;
            if !nf.add_premise_rule(&d) {
                return None;
            }
        } else {
            let a = nf.scalar(&r.lhs).ok()?;
            let b = nf.scalar(&r.rhs).ok()?;
            if !nf.add_scalar_fact(&a, &b) {
                return None;
            }
        }
    }
    let budget = prepared.scope.cfg.budgets.norm_bound_combinations;
    let mut extra = Vec::new();
    for r in to {
        if r.lhs.shape.is_some() {
            if r.op != RelOp::Eq {
                return None;
            }
            let a = nf.mat(&r.lhs).ok()?;
            let b = nf.mat(&r.rhs).ok()?;
            let d = nf.renormalize(&a.plus(&b, true)).ok()?;
            let d = nf.absorb_inverses(d).ok()?;
            if all_zero(&prepared.domain(&nf), &d).ok()? {
                continue;
            }
            let mut done = false;
            for k in nf.inverted() {
                for k in [k.clone(), k.transposed()] {
                    let mut tries = Vec::new();
                    if k.cols == d.rows {
                        tries.push(nf.product(&k, &d).ok()?);
                    }
                    if d.cols == k.rows {
                        tries.push(nf.product(&d, &k).ok()?);
                    }
                    for x in tries {
                        let x = nf.absorb_inverses(x).ok()?;
                        if all_zero(&prepared.domain(&nf), &x).ok()? {
                            done = true;
                            break;
                        }
                    }
                    if done {
                        break;
                    }
                }
                if done {
                    break;
                }
            }
            if !done {
                return None;
            }
            if !extra.contains(&Rule::MultipliedOut) {
                extra.push(Rule::MultipliedOut);
            }
        } else {
            let a = nf.scalar(&r.lhs).ok()?;
            let b = nf.scalar(&r.rhs).ok()?;
            let dom = prepared.domain(&nf);
            for x in prove_with_bounds(&mut nf, &dom, &a, r.op, &b, budget).ok()?? {
                if !extra.contains(&x) {
                    extra.push(x);
                }
            }
        }
    }
    let mut rules = nf.used.clone();
    for x in extra {
        if !rules.contains(&x) {
            rules.push(x);
        }
    }
    Some(rules)
}

/// `P = Q ⇒ L = R` when `L − R` is a constant multiple of `P − Q`.
fn premise_multiple(prepared: &Prepared<'_>, np: usize, logic: Logic) -> Option<Vec<Rule>> {
    let rels = &prepared.rels;
    if np != 1
        || rels.len() != 2
        || rels
            .iter()
            .any(|r| r.lhs.shape.is_none() || r.op != RelOp::Eq)
    {
        return None;
    }
    let mut nf = prepared.normalizer();
    let mut diff = |r: &Rel| -> Option<MatPoly> {
        let a = nf.mat(&r.lhs).ok()?;
        let b = nf.mat(&r.rhs).ok()?;
        nf.absorb_inverses(a.plus(&b, true)).ok()
    };
    let p = diff(&rels[0])?;
    let c = diff(&rels[1])?;
    if p.rows != c.rows || p.cols != c.cols {
        return None;
    }
    let fold = crate::symbolic::normal::fold_rational;
    let mut candidates: Vec<BigRational> = Vec::new();
    for (w, cc) in &c.terms {
        if let (Some(x), Some(y)) = (fold(cc), p.terms.get(w).and_then(fold)) {
            if !num_traits::Zero::is_zero(&y) && !candidates.contains(&(&x / &y)) {
                candidates.push(x / y);
            }
        }
    }
    if logic == Logic::Implies {
        candidates.push(BigRational::from_integer(0.into()));
    }
    let dom = prepared.domain(&nf);
    for k in candidates.into_iter().take(6) {
        if logic == Logic::Iff && num_traits::Zero::is_zero(&k) {
            continue;
        }
        let d = c.plus(&p.scaled(&Expr::rational(k)), true);
        if all_zero(&dom, &d).ok()? {
            let mut rules = nf.used.clone();
            rules.push(Rule::MatrixPremiseMultiple);
            return Some(rules);
        }
    }
    None
}

/// The outcome of one relation at one point.
enum Outcome {
    Holds,
    Fails {
        lhs: String,
        rhs: String,
        mismatches: Vec<EntryMismatch>,
    },
    Undecided(String),
}

/// Decides a relation at a point: exact matrices entry by entry; scalars by
/// certified comparison, with an exact closed-form fallback for equal
/// irrational values.
fn decide(env: &Env<'_>, rel: &Rel, nf: Option<&mut Normalizer<'_>>) -> Outcome {
    let (a, b) = match (env.value(&rel.lhs), env.value(&rel.rhs)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Outcome::Undecided(e),
    };
    match (a, b) {
        (V::M(x), V::M(y)) => {
            if (x.rows, x.cols) != (y.rows, y.cols) {
                return Outcome::Undecided("the sides' sizes differ at this point".into());
            }
            let mut mismatches = Vec::new();
            for i in 0..x.rows {
                for j in 0..x.cols {
                    if x.get(i, j) != y.get(i, j) {
                        mismatches.push(EntryMismatch {
                            entry: (i + 1, j + 1),
                            lhs: crate::syntax::expr::format_rational(x.get(i, j)),
                            rhs: crate::syntax::expr::format_rational(y.get(i, j)),
                        });
                    }
                }
            }
            if mismatches.is_empty() {
                Outcome::Holds
            } else {
                Outcome::Fails {
                    lhs: x.to_string(),
                    rhs: y.to_string(),
                    mismatches,
                }
            }
        }
        (V::S(x), V::S(y)) => match compare(&x, rel.op, &y) {
            Ok(true) => Outcome::Holds,
            Ok(false) => Outcome::Fails {
                lhs: x.display(),
                rhs: y.display(),
                mismatches: Vec::new(),
            },
            Err(_) => match nf.and_then(|nf| exactly_equal(env, rel, nf)) {
                Some(true) => match rel.op {
                    RelOp::Eq | RelOp::Le | RelOp::Ge => Outcome::Holds,
                    _ => Outcome::Fails {
                        lhs: x.display(),
                        rhs: y.display(),
                        mismatches: Vec::new(),
                    },
                },
                _ => Outcome::Undecided(format!(
                    "the values {} and {} could not be compared with certainty",
                    x.display(),
                    y.display()
                )),
            },
        },
        _ => Outcome::Undecided("a matrix compared with a scalar".into()),
    }
}

/// Are the two scalar sides exactly equal here? Placeholders and symbols are
/// replaced by closed forms and the difference goes to the exact scalar
/// normal form (`Some(true)` only when it is zero).
fn exactly_equal(env: &Env<'_>, rel: &Rel, nf: &mut Normalizer<'_>) -> Option<bool> {
    // Without the hypotheses' placeholder values: a hypothesis must not
    // confirm itself, and the sample's own values decide.
    let saved = std::mem::take(&mut nf.place_subs);
    let sides = (nf.scalar(&rel.lhs), nf.scalar(&rel.rhs));
    nf.place_subs = saved;
    let (l, r) = (sides.0.ok()?, sides.1.ok()?);
    let mut map: BTreeMap<String, Expr> = BTreeMap::new();
    for (k, v) in &env.point {
        map.insert(k.clone(), Expr::rational(v.as_exact()?.clone()));
    }
    for (k, v) in env.placeholder_values(nf) {
        map.insert(k, v?);
    }
    let (l, r) = (substitute(&l, &map), substitute(&r, &map));
    let mut names = Vec::new();
    names_in(&l, &mut names);
    names_in(&r, &mut names);
    if names.iter().any(|n| {
        map.contains_key(n)
            || nf.placeholders.contains_key(n)
            || env.ev.context().symbols.contains_key(n)
    }) {
        return None;
    }
    let dom = Domain::default();
    prove_scalar(&dom, &l, &r, RelOp::Eq).ok().filter(|z| *z)
}

fn small_sizes(rng: &mut Rng, i: usize, count: usize) -> Vec<i64> {
    match i {
        0 => vec![2; count],
        1 => vec![1; count],
        2 => (0..count).map(|k| 2 + (k % 2) as i64).collect(),
        3 => (0..count).map(|k| 3 - (k % 2) as i64).collect(),
        _ => {
            let cap = if i < 12 {
                3
            } else if i < 40 {
                4
            } else {
                5
            };
            (0..count).map(|_| rng.range(1, cap)).collect()
        }
    }
}

fn draw_matrix(rng: &mut Rng, rows: usize, cols: usize, draw: Draw, j: usize) -> Option<Mat> {
    let q = |n: i64| BigRational::from_integer(BigInt::from(n));
    match draw {
        Draw::Free => {
            // Small integers first (readable counterexamples), larger later;
            // some draws of ±1 (no zero entry) and some small fractions, so
            // that hypotheses like `rms(x) = 1` or a norm bound can hold.
            let mode = if j < 4 { 0 } else { rng.range(0, 9) };
            let data = match mode {
                0..=3 => {
                    let m = (1 + j / 6).min(9) as i64;
                    (0..rows * cols).map(|_| q(rng.range(-m, m))).collect()
                }
                4..=6 => (0..rows * cols)
                    .map(|_| q(if rng.range(0, 1) == 0 { -1 } else { 1 }))
                    .collect(),
                7 => {
                    let d = q(rng.range(2, 16));
                    (0..rows * cols).map(|_| q(rng.range(-2, 2)) / &d).collect()
                }
                _ => {
                    let d = q(rng.range(16, 256));
                    (0..rows * cols).map(|_| q(rng.range(-3, 3)) / &d).collect()
                }
            };
            Some(Mat { rows, cols, data })
        }
        Draw::Symmetric
        | Draw::Diagonal
        | Draw::PositiveDefinite
        | Draw::Invertible
        | Draw::Orthogonal => {
            if rows != cols {
                return None;
            }
            let n = rows;
            let free = draw_matrix(rng, n, n, Draw::Free, j)?;
            Some(match draw {
                Draw::Symmetric => free.add_scaled(&free.t(), &q(1)).ok()?,
                Draw::Diagonal => {
                    let mut m = Mat::zeros(n, n);
                    for i in 0..n {
                        m.data[i * n + i] = free.data[i * n + i].clone();
                    }
                    m
                }
                Draw::PositiveDefinite => free
                    .mul(&free.t())
                    .ok()?
                    .add_scaled(&Mat::identity(n), &q(1))
                    .ok()?,
                Draw::Invertible => {
                    // det(M + k I) is a polynomial of degree n in k: at most
                    // n values of k make it singular.
                    let mut m = free;
                    let mut k = 0;
                    while m.det().ok()? == q(0) {
                        k += 1;
                        if k > n + 1 {
                            return None;
                        }
                        m = m.add_scaled(&Mat::identity(n), &q(1)).ok()?;
                    }
                    m
                }
                _ => {
                    // The Cayley transform of the skew part: exactly orthogonal.
                    let skew = free.add_scaled(&free.t(), &q(-1)).ok()?;
                    let i = Mat::identity(n);
                    let a = i.add_scaled(&skew, &q(-1)).ok()?;
                    let b = i.add_scaled(&skew, &q(1)).ok()?.inverse()?;
                    a.mul(&b).ok()?
                }
            })
        }
        Draw::OrthonormalColumns | Draw::OrthonormalRows => {
            let (r, k) = if draw == Draw::OrthonormalColumns {
                (rows, cols)
            } else {
                (cols, rows)
            };
            let vs: Vec<Vec<BigRational>> = (0..k.max(1))
                .map(|_| {
                    let mut v: Vec<BigRational> = (0..r).map(|_| q(rng.range(-2, 2))).collect();
                    if v.iter().all(|x| *x == q(0)) {
                        v[0] = q(1);
                    }
                    v
                })
                .collect();
            let m = dense::orthonormal_columns(r, k, &vs).ok()?;
            Some(if draw == Draw::OrthonormalColumns {
                m
            } else {
                m.t()
            })
        }
    }
}

struct Sampled {
    env_point: Point,
    mats: BTreeMap<String, Mat>,
}

/// The evidence gathered at sample points.
#[derive(Default)]
struct Tally {
    /// The points tried, under the one evidence rule.
    evidence: Evidence,
    sizes_seen: Vec<String>,
    /// No free symbol and no matrix symbol: one exact evaluation decides.
    fixed: bool,
}

impl Prepared<'_> {
    fn env<'e>(&'e self, ev: &'e Evaluator<'e>, s: &Sampled, nf_c: Option<String>) -> Env<'e> {
        Env {
            ev,
            sizes: &self.typer_sizes,
            subs: self.scope.subs,
            point: s.env_point.clone(),
            mats: s.mats.clone(),
            cost_constant: nf_c,
        }
    }

    fn with_subs(&self, ev: &Evaluator<'_>, p: &Point) -> Point {
        let mut full = p.clone();
        for _ in 0..2 {
            for (name, e) in self.scope.subs {
                if !full.contains_key(name) {
                    if let Ok(v) = ev.eval(e, &full) {
                        full.insert(name.clone(), v);
                    }
                }
            }
        }
        full
    }

    /// Do the hypotheses hold at this sample?
    fn hypotheses_hold(&self, env: &Env<'_>, nf: &mut Normalizer<'_>) -> bool {
        self.hypotheses
            .iter()
            .all(|h| matches!(decide(env, h, Some(&mut *nf)), Outcome::Holds))
    }

    /// Runs `body` at admissible samples until it returns `Some` or `wanted`
    /// agreements; returns the refutation, if any.
    #[allow(clippy::type_complexity)]
    fn sample(
        &self,
        nf: &mut Normalizer<'_>,
        wanted: usize,
        implication: bool,
        cap: Option<usize>,
        tally: &mut Tally,
        check: &mut dyn FnMut(&Env<'_>, &mut Normalizer<'_>) -> Option<Result<(), Outcome>>,
    ) -> Option<(Sampled, Outcome)> {
        let s = self.scope;
        let (scalars, size_syms, mats) = self.symbols();
        let ev = Evaluator::new(s.ctx);
        // Radicals of scalar symbols get perfect powers so their roots stay exact.
        let mut roots = BTreeMap::new();
        {
            let dom = self.domain(nf);
            let mut n = crate::symbolic::normal::Normalizer::new(&dom);
            for r in &self.rels {
                for t in [&r.lhs, &r.rhs] {
                    if let Ok(e) = nf.scalar(t) {
                        n.prescan(&e);
                    }
                }
            }
            for (k, v) in n.roots_map() {
                if scalars.contains(&k) {
                    roots.insert(k, v);
                }
            }
        }
        let mut sampler = Sampler::new(s.dom, scalars.clone(), roots, s.seed);
        let mut rng = Rng::new(s.seed ^ 0x5EED);
        tally.fixed = scalars.is_empty() && size_syms.is_empty() && mats.is_empty();
        // Implications need points where a premise holds: more candidates.
        let attempts = s.cfg.budgets.attempts
            * if implication {
                s.cfg.budgets.implication_attempts
            } else {
                1
            };
        let attempts = cap.map_or(attempts, |c| attempts.min(c));
        let candidates = sampler.points(if tally.fixed { 1 } else { attempts });
        for (i, base) in candidates.into_iter().enumerate() {
            if tally.evidence.agreed >= wanted {
                break;
            }
            let mut p = base;
            let sizes = small_sizes(&mut rng, i, size_syms.len());
            for (k, n) in size_syms.iter().enumerate() {
                p.insert(
                    n.clone(),
                    Real::exact(BigRational::from_integer(BigInt::from(sizes[k]))),
                );
            }
            if !self
                .scalar_conditions
                .iter()
                .all(|c| ev.holds(&substitute(c, s.subs), &p).unwrap_or(false))
            {
                continue;
            }
            // Sizes of each matrix at this point.
            let full = self.with_subs(&ev, &p);
            let exact_vals: BTreeMap<String, BigRational> = full
                .iter()
                .filter_map(|(k, v)| v.as_exact().map(|q| (k.clone(), q.clone())))
                .collect();
            let mut sampled = BTreeMap::new();
            let mut ok = true;
            for m in &mats {
                let Some(Kind::Matrix(r, c)) = s.ctx.symbols.get(m).map(|x| &x.kind) else {
                    ok = false;
                    break;
                };
                let dims = (
                    size::SizePoly::from_expr(r)
                        .and_then(|x| x.count(&exact_vals, eval::MATRIX_DIM)),
                    size::SizePoly::from_expr(c)
                        .and_then(|x| x.count(&exact_vals, eval::MATRIX_DIM)),
                );
                let draw = self.draws.get(m).copied().unwrap_or(Draw::Free);
                match dims {
                    (Some(r), Some(c)) => match draw_matrix(&mut rng, r, c, draw, i) {
                        Some(x) => {
                            sampled.insert(m.clone(), x);
                        }
                        None => ok = false,
                    },
                    _ => ok = false,
                }
            }
            if !ok {
                tally.evidence.note_problem("a matrix size is not a small positive integer at some points, or orthonormal columns do not fit");
                continue;
            }
            let smp = Sampled {
                env_point: full,
                mats: sampled,
            };
            let env = self.env(&ev, &smp, nf.cost_constant.clone());
            if !self.hypotheses_hold(&env, nf) {
                continue;
            }
            match check(&env, nf) {
                None => {}
                Some(Ok(())) => {
                    tally.evidence.record(PointOutcome::Agreed);
                    let label = size_syms
                        .iter()
                        .map(|n| format!("{n} = {}", p[n].display()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if !label.is_empty()
                        && !tally.sizes_seen.contains(&label)
                        && tally.sizes_seen.len() < 6
                    {
                        tally.sizes_seen.push(label);
                    }
                }
                Some(Err(Outcome::Undecided(m))) => {
                    tally.evidence.record(PointOutcome::Undecided(m));
                }
                Some(Err(o)) => return Some((smp, o)),
            }
        }
        None
    }

    /// Makes a counterexample's matrices small: entries set to 0 or ±1
    /// while the step still fails and the hypotheses still hold.
    fn shrink(
        &self,
        nf: &mut Normalizer<'_>,
        rel: &Rel,
        mut smp: Sampled,
        mut out: Outcome,
    ) -> (Sampled, Outcome) {
        let ev = Evaluator::new(self.scope.ctx);
        let mut budget = self.scope.cfg.budgets.shrink_evaluations;
        let names: Vec<String> = smp
            .mats
            .keys()
            .filter(|n| !self.draws.contains_key(*n))
            .cloned()
            .collect();
        let q = |n: i64| BigRational::from_integer(BigInt::from(n));
        for _round in 0..2 {
            for name in &names {
                let len = smp.mats[name].data.len();
                for k in 0..len {
                    let cur = smp.mats[name].data[k].clone();
                    for cand in [q(0), q(1), q(-1)] {
                        if budget == 0
                            || num_traits::Signed::abs(&cand) >= num_traits::Signed::abs(&cur)
                        {
                            continue;
                        }
                        budget -= 1;
                        let mut trial = Sampled {
                            env_point: smp.env_point.clone(),
                            mats: smp.mats.clone(),
                        };
                        trial.mats.get_mut(name).unwrap().data[k] = cand;
                        let env = self.env(&ev, &trial, nf.cost_constant.clone());
                        if !self.hypotheses_hold(&env, nf) {
                            continue;
                        }
                        let o = decide(&env, rel, Some(&mut *nf));
                        if matches!(o, Outcome::Fails { .. }) {
                            smp = trial;
                            out = o;
                            break;
                        }
                    }
                }
            }
        }
        (smp, out)
    }
}

fn refutation(smp: &Sampled, outcome: Outcome) -> Verdict {
    let Outcome::Fails {
        lhs,
        rhs,
        mismatches,
    } = outcome
    else {
        return Verdict::Unsupported(StopReason::Internal(
            "a refutation without a failure".into(),
        ));
    };
    let mut values: BTreeMap<String, String> = smp
        .env_point
        .iter()
        .map(|(k, v)| (k.clone(), v.display()))
        .collect();
    for (k, m) in &smp.mats {
        values.insert(k.clone(), m.to_string());
    }
    let (certificate, notes) = if mismatches.is_empty() {
        (Certificate::Matrices, Vec::new())
    } else {
        (
            Certificate::MatrixEntries,
            vec![format!("{} entries differ", mismatches.len())],
        )
    };
    Verdict::Refuted {
        method: Method::Counterexample(certificate),
        counterexample: Counterexample {
            values,
            lhs,
            rhs,
            mismatches,
        },
        notes,
    }
}

/// Checks one step `lhs op rhs` that involves matrices.
pub(crate) fn check_step(
    claim: &crate::check::Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Verdict {
    let scope = &Scope::of(claim, index);
    // `≈` is typed as `=`; only the entrywise method below compares to the
    // written precision.
    let typing_op = if op == RelOp::Approx { RelOp::Eq } else { op };
    let prepared = match Prepared::new(scope, &[(lhs.clone(), typing_op, rhs.clone())]) {
        Ok(p) => p,
        Err(v) => return v,
    };
    let rel = &prepared.rels[0];
    // 0. Literal matrices with entries that are not rational constants
    // (radicals, symbols, trigonometry): entry by entry, as scalar steps.
    // Only without matrix hypotheses (after substitutions), so that a
    // scalar counterexample is one of the matrix step.
    let literal_entries = if rel.lhs.shape.is_some() && prepared.hypotheses.is_empty() {
        entrywise::entries(&rel.lhs, &rel.rhs, &prepared.typer_sizes)
    } else {
        None
    };
    let mut entry_note = None;
    if let Some(pairs) = &literal_entries {
        let cols = prepared
            .typer_sizes
            .known(&rel.lhs.shape.as_ref().expect("a matrix side").cols)
            .and_then(|s| s.as_constant())
            .and_then(|q| usize::try_from(q.to_integer()).ok())
            .unwrap_or(1)
            .max(1);
        let entry_scope = crate::check::Scope {
            ctx: claim.ctx,
            cfg: claim.cfg,
            dom: claim.dom.clone(),
            subs: claim.subs.clone(),
            conditions: prepared.scalar_conditions.clone(),
            show_text: claim.show_text.clone(),
            seed: claim.seed,
        };
        match entrywise::decide(&entry_scope, index, pairs, cols, op) {
            Ok(v) => return v,
            Err(reason) => entry_note = Some(reason),
        }
    }
    if op == RelOp::Approx {
        return match entry_note {
            Some(reason) => Verdict::unsupported(reason),
            None => entrywise::approx_unsupported(),
        };
    }
    let mut nf = prepared.normalizer();
    // 1. The normal form.
    let mut proof: Option<(Method, Vec<Rule>)> = None;
    let mut note = String::new();
    if scope.cfg.symbolic {
        let attempt: Result<bool, String> = (|| {
            if rel.lhs.shape.is_some() {
                let a = nf.mat(&rel.lhs).map_err(|NfError::Unsupported(m)| m)?;
                let b = nf.mat(&rel.rhs).map_err(|NfError::Unsupported(m)| m)?;
                let d = nf
                    .absorb_inverses(a.plus(&b, true))
                    .map_err(|NfError::Unsupported(m)| m)?;
                let dom = prepared.domain(&nf);
                if all_zero(&dom, &d)? {
                    return Ok(true);
                }
                // Inverses of sums: multiply through by the sum.
                for x in nf.multiplied_out(&d).map_err(|NfError::Unsupported(m)| m)? {
                    let dom = prepared.domain(&nf);
                    if all_zero(&dom, &x)? {
                        nf.note(Rule::MultipliedOut);
                        return Ok(true);
                    }
                }
                Ok(false)
            } else {
                let a = nf.scalar(&rel.lhs).map_err(|NfError::Unsupported(m)| m)?;
                let b = nf.scalar(&rel.rhs).map_err(|NfError::Unsupported(m)| m)?;
                let budget = scope.cfg.budgets.norm_bound_combinations;
                match prove_with_bounds(&mut nf, scope.dom, &a, op, &b, budget)? {
                    Some(rules) => {
                        for r in rules {
                            if !nf.used.contains(&r) {
                                nf.used.push(r);
                            }
                        }
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
        })();
        match attempt {
            Ok(true) => {
                let method = if rel.lhs.shape.is_some() {
                    Method::MatrixNormalForm
                } else {
                    Method::MatrixScalarNormalForm
                };
                proof = Some((method, nf.used.clone()));
            }
            Ok(false) => note = "the two sides have different normal forms (not a proof of anything: sampled instead)".into(),
            Err(m) => note = format!("no normal form: {m}"),
        }
    }
    // 2. Exact spot checks.
    let wanted = if proof.is_some() {
        scope.cfg.budgets.cross_checks
    } else {
        scope.cfg.budgets.samples
    };
    let mut tally = Tally::default();
    let found =
        prepared.sample(
            &mut nf,
            wanted,
            false,
            None,
            &mut tally,
            &mut |env, nf| match decide(env, rel, Some(nf)) {
                Outcome::Holds => Some(Ok(())),
                o => Some(Err(o)),
            },
        );
    if let Some((smp, outcome)) = found {
        let (smp, outcome) = prepared.shrink(&mut nf, rel, smp, outcome);
        let mut v = refutation(&smp, outcome);
        if let (Verdict::Refuted { notes, .. }, true) = (&mut v, proof.is_some()) {
            notes.push(
                "the normal form claimed a proof but this certified counterexample contradicts it; the counterexample wins (please report this as a bug)"
                    .into(),
            );
        }
        return v;
    }
    if tally.fixed && tally.evidence.agreed == 1 {
        return Verdict::proved(Method::ExactMatrices);
    }
    if let Some((method, rules)) = proof {
        if tally.evidence.agreed == 0 && !scope.conditions.is_empty() {
            return Verdict::Unsupported(StopReason::DomainMaybeEmpty);
        }
        return Verdict::Proved {
            method,
            context: Vec::new(),
            rules,
            remarks: Vec::new(),
            cross_checks: (tally.evidence.agreed > 0).then_some(CrossChecks {
                points: tally.evidence.agreed,
                matrices: true,
            }),
        };
    }
    if let Some(reason) = entry_note {
        note = if note.is_empty() {
            format!("entry by entry: {reason}")
        } else {
            format!("{note}; entry by entry: {reason}")
        };
    }
    checked_or_unsupported(scope, &tally, note, Method::MatrixSpotChecks)
}

/// A step between array literals (the array family's claims that mention
/// no array symbol or layer) decided entry by entry, when some entry is not
/// a rational constant: `[a, b] + [b, a] = [a + b, a + b]`, an SVD with
/// radicals. Only sums, differences, scalar multiples and quotients,
/// products and transposes of literals (where array and matrix meanings
/// agree), and only without conditions about arrays; `None` otherwise.
pub(crate) fn literal_step(
    claim: &crate::check::Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Option<Verdict> {
    if !matches!(op, RelOp::Eq | RelOp::Approx)
        || claim
            .conditions
            .iter()
            .any(|c| crate::resolve::family::involves_arrays(c, claim.ctx))
    {
        return None;
    }
    let mut names = Vec::new();
    crate::resolve::names_in(lhs, &mut names);
    crate::resolve::names_in(rhs, &mut names);
    if names.iter().any(|n| {
        matches!(
            claim.ctx.symbols.get(n).map(|s| &s.kind),
            Some(crate::resolve::Kind::Array(..))
        )
    }) {
        return None;
    }
    let mut typer = Typer::new(claim.ctx);
    let rel = typed_rel(&mut typer, lhs, RelOp::Eq, rhs).ok()?;
    if !plain_literal_algebra(&rel.lhs) || !plain_literal_algebra(&rel.rhs) {
        return None;
    }
    let pairs = entrywise::entries(&rel.lhs, &rel.rhs, &typer.sizes)?;
    let cols = typer
        .sizes
        .known(&rel.lhs.shape.as_ref()?.cols)?
        .as_constant()?;
    let cols = usize::try_from(cols.to_integer()).ok()?.max(1);
    entrywise::decide(claim, index, &pairs, cols, op).ok()
}

/// Only literals, scalars, sums, negations, scalar multiples and quotients,
/// matrix products and transposes; a power or a call only of scalars.
fn plain_literal_algebra(t: &T) -> bool {
    match &t.kind {
        TKind::Scalar(_) | TKind::Literal(_) => true,
        TKind::Neg(a) | TKind::Transpose(a) | TKind::AsScalar(a) => plain_literal_algebra(a),
        TKind::Add(a, b) | TKind::Sub(a, b) | TKind::Mul(a, b) | TKind::Div(a, b) => {
            plain_literal_algebra(a) && plain_literal_algebra(b)
        }
        TKind::Pow(a, b) => {
            a.shape.is_none() && plain_literal_algebra(a) && plain_literal_algebra(b)
        }
        TKind::Call(_, args) => args
            .iter()
            .all(|a| a.shape.is_none() && plain_literal_algebra(a)),
        TKind::Defined(_, b) => plain_literal_algebra(b),
        TKind::Symbol(_) | TKind::Identity => false,
    }
}

/// The verdict of sampled matrices alone, under the one evidence rule.
fn checked_or_unsupported(
    scope: &Scope<'_>,
    tally: &Tally,
    note: String,
    method: Method,
) -> Verdict {
    let sizes = if tally.sizes_seen.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "sizes tried include: {}",
            tally.sizes_seen.join("; ")
        )]
    };
    tally.evidence.sampled(
        scope.cfg.budgets.min_checks,
        method,
        sizes,
        (!note.is_empty()).then_some(note),
    )
}

/// Checks `A => B` or `A <=> B` where the relations involve matrices: at
/// exact sample points where the premise holds (or, for `<=>`, either side).
pub(crate) fn check_implication(
    claim: &crate::check::Scope<'_>,
    premise: &[Chain],
    logic: Logic,
    conclusion: &[Chain],
) -> Verdict {
    let scope = &Scope::of(claim, 0);
    let single = |cs: &[Chain]| -> Option<Vec<(Expr, RelOp, Expr)>> {
        let mut out = Vec::new();
        for c in cs {
            for (i, (op, _)) in c.ops.iter().enumerate() {
                out.push((c.terms[i].clone(), *op, c.terms[i + 1].clone()));
            }
        }
        (!out.is_empty()).then_some(out)
    };
    let (Some(p), Some(c)) = (single(premise), single(conclusion)) else {
        return Verdict::unsupported("an empty premise or conclusion");
    };
    let np = p.len();
    let all: Vec<_> = p.into_iter().chain(c).collect();
    let prepared = match Prepared::new(scope, &all) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let mut nf = prepared.normalizer();
    let mut tally = Tally::default();
    let rels = &prepared.rels;
    let proof = if scope.cfg.symbolic {
        prove_implication(&prepared, np, logic)
    } else {
        None
    };
    if let Some(rules) = proof {
        // Cross-checks only: a certified counterexample still wins. Points
        // where a premise equation holds are rare (`grad(J, θ) = 0`), so
        // the candidates are capped (`cross_check_attempts`).
        let found = prepared.sample(
            &mut nf,
            scope.cfg.budgets.cross_checks,
            false,
            Some(scope.cfg.budgets.cross_check_attempts),
            &mut tally,
            &mut |env, nf| implication_at(env, nf, rels, np, logic),
        );
        if let Some((smp, outcome)) = found {
            let mut v = refutation(&smp, outcome);
            if let Verdict::Refuted { notes, .. } = &mut v {
                notes.push("the matrix implication claimed a proof but this certified counterexample contradicts it; the counterexample wins (please report this as a bug)".into());
            }
            return v;
        }
        return Verdict::Proved {
            method: Method::MatrixScalarNormalForm,
            context: vec![match logic {
                _ if rules.iter().any(|r| matches!(r, Rule::PremiseRewrite { .. })) => match logic {
                    Logic::Implies => "the premise's equations between matrices used as rewrite rules, then the conclusion's difference rewritten to zero".into(),
                    Logic::Iff => "each side's equations used as rewrite rules to prove the other".into(),
                },
                _ if rules.contains(&Rule::MatrixPremiseMultiple) => "the conclusion's difference is a constant multiple of the premise's in the matrix normal form".into(),
                Logic::Implies => "the premise used as facts (equations substituted, bounds with a nonnegative slack), then the conclusion proved".into(),
                Logic::Iff => "each side used as facts to prove the other (or one difference a multiple of the other by a factor of fixed sign)".into(),
            }],
            rules,
            remarks: Vec::new(),
            cross_checks: (tally.evidence.agreed > 0).then_some(CrossChecks {
                points: tally.evidence.agreed,
                matrices: true,
            }),
        };
    }
    // No early stop: a counterexample to an implication may need a narrow
    // window of values, so every candidate point is tried.
    let found = prepared.sample(
        &mut nf,
        usize::MAX,
        true,
        None,
        &mut tally,
        &mut |env, nf| implication_at(env, nf, rels, np, logic),
    );
    if let Some((smp, outcome)) = found {
        return refutation(&smp, outcome);
    }
    checked_or_unsupported(
        scope,
        &tally,
        "points where the premise fails, or where every equation of the conclusion has both sides zero, test nothing".into(),
        Method::MatrixSpotChecksPremise,
    )
}

/// The implication at one sample: `None` where it tests nothing (the
/// premise fails, or a relation is undecided), else whether it holds.
fn implication_at(
    env: &Env<'_>,
    nf: &mut Normalizer<'_>,
    rels: &[Rel],
    np: usize,
    logic: Logic,
) -> Option<Result<(), Outcome>> {
    let mut truth = |r: &Rel| match decide(env, r, Some(&mut *nf)) {
        Outcome::Holds => Some(true),
        Outcome::Fails { .. } => Some(false),
        Outcome::Undecided(_) => None,
    };
    let mut tp = true;
    for r in &rels[..np] {
        tp &= truth(r)?;
        if !tp && logic == Logic::Implies {
            // The premise fails here: nothing to check.
            return None;
        }
    }
    let mut tc = true;
    for r in &rels[np..] {
        tc &= truth(r)?;
    }
    // A point where every conclusion equation holds with both sides zero
    // (`x = 0` for an eigenvector statement, `A = 0`) agrees with any
    // conclusion of that shape: it tests nothing.
    if tp
        && tc
        && rels[np..]
            .iter()
            .all(|r| r.op == RelOp::Eq && both_zero(env, r))
    {
        return None;
    }
    let bad = (tp && !tc) || (logic == Logic::Iff && tc && !tp);
    if bad {
        return Some(Err(Outcome::Fails {
            lhs: format!("premise {}", if tp { "true" } else { "false" }),
            rhs: format!("conclusion {}", if tc { "true" } else { "false" }),
            mismatches: Vec::new(),
        }));
    }
    (tp || (logic == Logic::Iff && tc)).then_some(Ok(()))
}

/// Are both sides of `rel` zero at this sample (matrices entrywise)?
fn both_zero(env: &Env<'_>, rel: &Rel) -> bool {
    let zero = |t: &T| match env.value(t) {
        Ok(V::M(m)) => {
            (0..m.rows).all(|i| (0..m.cols).all(|j| num_traits::Zero::is_zero(m.get(i, j))))
        }
        Ok(V::S(x)) => x.as_exact().is_some_and(num_traits::Zero::is_zero),
        Err(_) => false,
    };
    zero(&rel.lhs) && zero(&rel.rhs)
}

/// A proof of a matrix implication through scalar forms: every relation is
/// a scalar one (norms, traces and quadratic forms as placeholders). For
/// `A ⇒ B`: the premises become facts (equations substituted, inequalities
/// with a slack of known sign) and each conclusion is proved, with norm
/// bounds where needed; or, for a single premise and conclusion, one
/// difference is the other's times a factor of strict sign. For `A ⇔ B`:
/// the ratio test, or each side proves the other. Returns the rules used.
fn prove_implication(prepared: &Prepared<'_>, np: usize, logic: Logic) -> Option<Vec<Rule>> {
    let rels = &prepared.rels;
    if rels.iter().any(|r| r.lhs.shape.is_some()) {
        return prove_matrix_implication(prepared, np, logic);
    }
    let (prem, concl) = rels.split_at(np);
    let direct = |from: &[Rel], to: &[Rel]| -> Option<(Vec<Rule>, bool)> {
        let mut nf = prepared.normalizer();
        let mut from_s = Vec::new();
        for r in from {
            from_s.push((nf.scalar(&r.lhs).ok()?, r.op, nf.scalar(&r.rhs).ok()?));
        }
        // The ratio test, before any fact is added.
        if from.len() == 1 && to.len() == 1 {
            let to_s = (
                nf.scalar(&to[0].lhs).ok()?,
                to[0].op,
                nf.scalar(&to[0].rhs).ok()?,
            );
            let dom = prepared.domain(&nf);
            let f = &from_s[0];
            if ratio_test(&dom, (&f.0, f.1, &f.2), (&to_s.0, to_s.1, &to_s.2)) {
                return Some((nf.used.clone(), true));
            }
        }
        let mut slacks = BTreeMap::new();
        let mut rules = nf.used.clone();
        for (a, op, b) in &from_s {
            let (a, b) = (substitute(a, &nf.place_subs), substitute(b, &nf.place_subs));
            if !premise_fact(&mut nf, prepared.scope.ctx, &mut slacks, &a, *op, &b) {
                return None;
            }
            let rule = if *op == RelOp::Eq {
                Rule::PremiseEquation
            } else {
                Rule::PremiseBound
            };
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        let mut base = prepared.scope.dom.clone();
        for (k, v) in slacks {
            base.kinds.insert(k, v);
        }
        for r in to {
            let a = nf.scalar(&r.lhs).ok()?;
            let b = nf.scalar(&r.rhs).ok()?;
            // Facts found later may fix placeholders met earlier.
            let (a, b) = (
                substitute(&substitute(&a, &nf.place_subs), &nf.place_subs),
                substitute(&substitute(&b, &nf.place_subs), &nf.place_subs),
            );
            let budget = prepared.scope.cfg.budgets.norm_bound_combinations;
            let more = prove_with_bounds(&mut nf, &base, &a, r.op, &b, budget).ok()??;
            for x in more {
                if !rules.contains(&x) {
                    rules.push(x);
                }
            }
        }
        for x in nf.used {
            if !rules.contains(&x) {
                rules.push(x);
            }
        }
        Some((rules, false))
    };
    let merge = |mut a: Vec<Rule>, b: Vec<Rule>| {
        for x in b {
            if !a.contains(&x) {
                a.push(x);
            }
        }
        a
    };
    match logic {
        Logic::Implies => direct(prem, concl).map(|(r, _)| r),
        Logic::Iff => {
            let (a, by_ratio) = direct(prem, concl)?;
            if by_ratio {
                // The ratio test shows both directions at once.
                return Some(a);
            }
            let (b, _) = direct(concl, prem)?;
            Some(merge(a, b))
        }
    }
}
