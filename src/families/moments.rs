//! Moments: `E[...]`, `Var(...)`, `Cov(a, b)` and `Std(...)` of polynomials
//! in random variables, computed exactly and written back as scalar
//! expressions, so that the rest of the checker sees only declared scalars.
//!
//! An expectation is expanded into terms `coefficient · Π atoms`, where an
//! atom is a random symbol or a family member `x(i, j)`, possibly under sums
//! over index ranges. Linearity moves `E` onto each term. Inside a term,
//! distinct random symbols are independent and so are family members with
//! distinct indices, so `E` of the product is the product of the moments of
//! each distinct variable. Under sums the indices may coincide: the sum is
//! split by the equality pattern of its indices (a set partition of the
//! summation variables that share a range), and the number of index tuples
//! with exactly that pattern is a falling factorial `N (N − 1) ⋯` of the
//! range size. Whether two members are the same variable is decided from
//! their index tuples as affine forms; anything the pattern does not decide
//! (`x(i)` against `x(j + 1)`) makes the step `unsupported`, never a guess.
//!
//! Moments come from the declarations only: `random(mean = m, var = v)` gives
//! the first two, `normal(m, v)` every one. A moment the declarations do not
//! determine is `unsupported` with that reason.

use crate::check::logic::single;
use crate::check::Scope;
use crate::resolve::expand::{substitute, try_map_children};
use crate::resolve::{names_in, Context, Kind};
use crate::syntax::expr::{BinOp, Builtin, Chain, Expr, ExprKind, Logic, RelOp, Span};
use crate::verdict::{Method, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::BTreeMap;

/// The budget [`Budgets::moment_terms`](crate::config::Budgets::moment_terms).
pub(crate) const MOMENT_TERMS: usize = crate::config::Budgets::DEFAULT.moment_terms;
/// The budget [`Budgets::moment_patterns`](crate::config::Budgets::moment_patterns).
pub(crate) const MOMENT_PATTERNS: usize = crate::config::Budgets::DEFAULT.moment_patterns;
/// The budget [`Budgets::moment_power`](crate::config::Budgets::moment_power).
pub(crate) const MOMENT_POWER: u32 = crate::config::Budgets::DEFAULT.moment_power;

/// Why a moment could not be computed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MomentError {
    /// The step is outside what the moment calculus decides; the reason says why.
    Unsupported(String),
    /// The expression is malformed (a located error).
    Invalid(String, Span),
}

type R<T> = Result<T, MomentError>;

fn unsupported<T>(reason: impl Into<String>) -> R<T> {
    Err(MomentError::Unsupported(reason.into()))
}

/// One random atom: a random symbol, or a family member with its indices.
#[derive(Clone, Debug)]
struct Atom {
    name: String,
    index: Vec<Expr>,
}

impl Atom {
    fn show(&self) -> String {
        if self.index.is_empty() {
            self.name.clone()
        } else {
            let args: Vec<String> = self.index.iter().map(|e| e.to_string()).collect();
            format!("{}({})", self.name, args.join(", "))
        }
    }
}

/// A summation variable of a term, with its range.
#[derive(Clone, Debug)]
struct Bound {
    var: String,
    lo: Expr,
    hi: Expr,
}

/// `coefficient · Π atoms`, summed over `bounds`.
#[derive(Clone, Debug, Default)]
struct Term {
    coeff: Vec<Expr>,
    atoms: Vec<Atom>,
    bounds: Vec<Bound>,
}

/// Is `name` a declared random symbol (or family)?
fn random_kind<'a>(ctx: &'a Context, name: &str) -> Option<(&'a Kind, bool)> {
    match ctx.symbols.get(name).map(|s| &s.kind) {
        Some(k @ Kind::Random { family, .. }) => Some((k, *family)),
        _ => None,
    }
}

pub(crate) use crate::resolve::family::involves_random;

/// An affine form `constant + Σ coefficient · name` of an index expression.
#[derive(Clone, Debug, PartialEq)]
struct Affine {
    constant: BigRational,
    terms: BTreeMap<String, BigRational>,
}

impl Affine {
    fn constant(q: BigRational) -> Affine {
        Affine {
            constant: q,
            terms: BTreeMap::new(),
        }
    }

    fn add(mut self, other: &Affine, sign: i64) -> Affine {
        let s = BigRational::from_integer(BigInt::from(sign));
        self.constant += &other.constant * &s;
        for (n, c) in &other.terms {
            let entry = self
                .terms
                .entry(n.clone())
                .or_insert_with(BigRational::zero);
            *entry += c * &s;
        }
        self.terms.retain(|_, c| !c.is_zero());
        self
    }

    fn scale(mut self, q: &BigRational) -> Affine {
        self.constant *= q;
        for c in self.terms.values_mut() {
            *c *= q;
        }
        self.terms.retain(|_, c| !c.is_zero());
        self
    }

    fn name(n: &str) -> Affine {
        Affine {
            constant: BigRational::zero(),
            terms: BTreeMap::from([(n.to_string(), BigRational::one())]),
        }
    }

    /// The form written as an expression.
    fn to_expr(&self) -> Expr {
        let mut parts = Vec::new();
        for (n, c) in &self.terms {
            parts.push(product([Expr::rational(c.clone()), Expr::name(n)]));
        }
        parts.push(Expr::rational(self.constant.clone()));
        sum(parts)
    }

    fn of(e: &Expr) -> Option<Affine> {
        Some(match &e.kind {
            ExprKind::Number(q) => Affine::constant(q.clone()),
            ExprKind::Name(n) => Affine {
                constant: BigRational::zero(),
                terms: BTreeMap::from([(n.clone(), BigRational::one())]),
            },
            ExprKind::Neg(a) => Affine::of(a)?.scale(&-BigRational::one()),
            ExprKind::Binary(BinOp::Add, a, b) => Affine::of(a)?.add(&Affine::of(b)?, 1),
            ExprKind::Binary(BinOp::Sub, a, b) => Affine::of(a)?.add(&Affine::of(b)?, -1),
            ExprKind::Binary(BinOp::Mul, a, b) => {
                let (a, b) = (Affine::of(a)?, Affine::of(b)?);
                if a.terms.is_empty() {
                    b.scale(&a.constant)
                } else if b.terms.is_empty() {
                    a.scale(&b.constant)
                } else {
                    return None;
                }
            }
            ExprKind::Binary(BinOp::Div, a, b) => {
                let (a, b) = (Affine::of(a)?, Affine::of(b)?);
                if !b.terms.is_empty() || b.constant.is_zero() {
                    return None;
                }
                a.scale(&b.constant.recip())
            }
            _ => return None,
        })
    }
}

/// `No` when the difference `d` is `±(u − p)` for a leader `u` known to differ
/// from the point `p` its group is pinned at; `Unknown` otherwise.
fn avoids_point(d: &Affine, points: &BTreeMap<String, Affine>) -> Same {
    for (u, p) in points {
        if d.terms.contains_key(u) {
            let e = Affine::name(u).add(p, -1);
            if *d == e || *d == e.clone().scale(&-BigRational::one()) {
                return Same::No;
            }
        }
    }
    Same::Unknown
}

/// Whether two index components are equal, always different, or undecided.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Same {
    Yes,
    No,
    Unknown,
}

/// The moment calculus for one step: declarations, and a test that a range
/// size is nonnegative under the claim's domain.
pub(crate) struct Moments<'a> {
    ctx: &'a Context,
    nonnegative: &'a mut dyn FnMut(&Expr) -> bool,
    fresh: usize,
}

fn mul(a: Expr, b: Expr) -> Expr {
    match (a.as_number(), b.as_number()) {
        (Some(x), Some(y)) => Expr::rational(x * y),
        (Some(x), _) if x.is_one() => b,
        (_, Some(y)) if y.is_one() => a,
        _ => Expr::binary(BinOp::Mul, a, b),
    }
}

/// The product of `factors`, with the numbers multiplied out in front.
fn product(factors: impl IntoIterator<Item = Expr>) -> Expr {
    let mut number = BigRational::one();
    let mut rest = Vec::new();
    for f in factors {
        match f.as_number() {
            Some(q) => number *= q,
            None => rest.push(f),
        }
    }
    if number.is_zero() {
        return Expr::int(0);
    }
    let body = rest
        .into_iter()
        .reduce(|a, b| Expr::binary(BinOp::Mul, a, b));
    match body {
        None => Expr::rational(number),
        Some(b) if number.is_one() => b,
        Some(b) if number == -BigRational::one() => {
            Expr::new(ExprKind::Neg(Box::new(b)), Span::default())
        }
        Some(b) => Expr::binary(BinOp::Mul, Expr::rational(number), b),
    }
}

/// The number of integers in `lo..=hi`, written as simply as the bounds allow.
fn range_size(lo: &Expr, hi: &Expr) -> Expr {
    match lo.as_number() {
        Some(q) if q.is_one() => hi.clone(),
        Some(q) => {
            let shift = BigRational::one() - q;
            if shift.is_negative() {
                Expr::binary(BinOp::Sub, hi.clone(), Expr::rational(-shift))
            } else {
                Expr::binary(BinOp::Add, hi.clone(), Expr::rational(shift))
            }
        }
        None => Expr::binary(
            BinOp::Add,
            Expr::binary(BinOp::Sub, hi.clone(), lo.clone()),
            Expr::int(1),
        ),
    }
}

/// A polynomial with rational coefficients in the range sizes `N_0, N_1, ...`
/// of a term's groups: the number of index tuples of some patterns.
#[derive(Clone, Debug)]
struct CountPoly {
    /// Exponent vector → coefficient.
    terms: BTreeMap<Vec<u32>, BigRational>,
}

impl CountPoly {
    fn zero() -> CountPoly {
        CountPoly {
            terms: BTreeMap::new(),
        }
    }

    fn one(groups: usize) -> CountPoly {
        CountPoly {
            terms: BTreeMap::from([(vec![0; groups], BigRational::one())]),
        }
    }

    /// This polynomial times `(N_g − j)`.
    fn times_size_minus(&self, g: usize, j: i64) -> CountPoly {
        let mut out = CountPoly::zero();
        let minus_j = BigRational::from_integer(BigInt::from(-j));
        for (exps, c) in &self.terms {
            let mut up = exps.clone();
            up[g] += 1;
            *out.terms.entry(up).or_insert_with(BigRational::zero) += c;
            if j != 0 {
                *out.terms
                    .entry(exps.clone())
                    .or_insert_with(BigRational::zero) += c * &minus_j;
            }
        }
        out.terms.retain(|_, c| !c.is_zero());
        out
    }

    fn add(&mut self, other: &CountPoly) {
        for (exps, c) in &other.terms {
            *self
                .terms
                .entry(exps.clone())
                .or_insert_with(BigRational::zero) += c;
        }
        self.terms.retain(|_, c| !c.is_zero());
    }

    /// The polynomial written with the sizes' own expressions, highest degree first.
    fn to_expr(&self, sizes: &[Expr]) -> Expr {
        let mut terms = Vec::new();
        for (exps, c) in self.terms.iter().rev() {
            let mut f = vec![Expr::rational(c.clone())];
            for (g, &e) in exps.iter().enumerate() {
                if e > 0 {
                    f.push(power(&sizes[g], e));
                }
            }
            terms.push(product(f));
        }
        sum(terms)
    }
}

/// `coefficient · Σ count · moment` over the patterns collected for one term.
fn assemble(coeff: Expr, collected: BTreeMap<String, (Expr, CountPoly)>, sizes: &[Expr]) -> Expr {
    let mut terms = Vec::new();
    for (_, (m, count)) in collected {
        if count.terms.is_empty() {
            continue;
        }
        terms.push(mul(count.to_expr(sizes), m));
    }
    if terms.is_empty() {
        return Expr::int(0);
    }
    mul(coeff, sum(terms))
}

/// `b` when `t` is `−b` or `(−q) · b` with a negative number `−q`.
fn negated(t: &Expr) -> Option<Expr> {
    match &t.kind {
        ExprKind::Neg(b) => Some((**b).clone()),
        ExprKind::Binary(BinOp::Mul, q, b) => {
            let q = q.as_number().filter(|q| q.is_negative())?;
            Some(mul(Expr::rational(-q), (**b).clone()))
        }
        _ => None,
    }
}

/// The sum of `terms`, numbers added up and written last, `a + (−b)` as `a − b`.
fn sum(terms: Vec<Expr>) -> Expr {
    let mut number = BigRational::zero();
    let mut acc: Option<Expr> = None;
    for t in terms {
        if let Some(q) = t.as_number() {
            number += q;
            continue;
        }
        acc = Some(match acc {
            None => t,
            Some(a) => match negated(&t) {
                Some(b) => Expr::binary(BinOp::Sub, a, b),
                None => Expr::binary(BinOp::Add, a, t),
            },
        });
    }
    match acc {
        None => Expr::rational(number),
        Some(a) if number.is_zero() => a,
        Some(a) if number.is_negative() => Expr::binary(BinOp::Sub, a, Expr::rational(-number)),
        Some(a) => Expr::binary(BinOp::Add, a, Expr::rational(number)),
    }
}

fn is_zero(e: &Expr) -> bool {
    e.as_number().is_some_and(|q| q.is_zero())
}

fn power(e: &Expr, k: u32) -> Expr {
    match (k, e.as_number()) {
        (0, _) => Expr::int(1),
        (1, _) => e.clone(),
        (_, Some(q)) => Expr::rational(num_traits::pow(q.clone(), k as usize)),
        _ => Expr::binary(BinOp::Pow, e.clone(), Expr::int(k as i64)),
    }
}

fn binomial(n: u32, k: u32) -> BigInt {
    let mut r = BigInt::one();
    for i in 0..k {
        r = r * BigInt::from(n - i) / BigInt::from(i + 1);
    }
    r
}

fn double_factorial_odd(p: u32) -> BigInt {
    // (p − 1)!! for even p: 1 · 3 · 5 ⋯ (p − 1).
    let mut r = BigInt::one();
    let mut i = 1;
    while i < p {
        r *= BigInt::from(i);
        i += 2;
    }
    r
}

/// Restricted growth strings: every set partition of `n` items, as block numbers.
fn partitions(n: usize, out: &mut Vec<Vec<usize>>, limit: usize) -> bool {
    fn go(
        cur: &mut Vec<usize>,
        n: usize,
        max: usize,
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) -> bool {
        if cur.len() == n {
            if out.len() >= limit {
                return false;
            }
            out.push(cur.clone());
            return true;
        }
        for b in 0..=max.min(cur.len()) {
            cur.push(b);
            let next = if b == max { max + 1 } else { max };
            if !go(cur, n, next, out, limit) {
                return false;
            }
            cur.pop();
        }
        true
    }
    go(&mut Vec::new(), n, 0, out, limit)
}

impl<'a> Moments<'a> {
    /// A calculus over `ctx`; `nonnegative(e)` must return true only when the
    /// domain implies `e ≥ 0`.
    pub(crate) fn new(
        ctx: &'a Context,
        nonnegative: &'a mut dyn FnMut(&Expr) -> bool,
    ) -> Moments<'a> {
        Moments {
            ctx,
            nonnegative,
            fresh: 0,
        }
    }

    /// Replaces every `E[...]`, `Var`, `Cov` and `Std` in `e` (innermost
    /// first) by the exact scalar expression it equals. A random symbol left
    /// outside them is unsupported.
    pub(crate) fn reduce(&mut self, e: &Expr) -> R<Expr> {
        let out = self.reduce_inner(e)?;
        let mut left = Vec::new();
        names_in(&out, &mut left);
        if let Some(n) = left.iter().find(|n| random_kind(self.ctx, n).is_some()) {
            return unsupported(format!(
                "the random variable `{n}` appears outside E[...], Var, Cov and Std; \
                 only moments of random variables are checked"
            ));
        }
        Ok(out)
    }

    fn reduce_inner(&mut self, e: &Expr) -> R<Expr> {
        let kind = try_map_children(&e.kind, &mut |c| self.reduce_inner(c))?;
        let node = Expr::new(kind, e.span);
        match &node.kind {
            ExprKind::Expect(a) => self.expectation(a),
            ExprKind::Builtin {
                op: Builtin::Var,
                args,
                ..
            } if args.len() == 1 => self.variance(&args[0]),
            ExprKind::Builtin {
                op: Builtin::Std,
                args,
                ..
            } if args.len() == 1 => {
                Ok(Expr::builtin(Builtin::Sqrt, vec![self.variance(&args[0])?]))
            }
            ExprKind::Builtin {
                op: Builtin::Cov,
                args,
                ..
            } if args.len() == 2 => self.covariance(&args[0], &args[1]),
            _ => Ok(node),
        }
    }

    /// `E[a]`.
    fn expectation(&mut self, a: &Expr) -> R<Expr> {
        let terms = self.terms(a)?;
        self.expect_terms(&terms)
    }

    /// `Var(a) = E[a²] − E[a]²`.
    fn variance(&mut self, a: &Expr) -> R<Expr> {
        self.covariance(a, a)
    }

    /// `Cov(a, b) = E[a b] − E[a] E[b]`.
    fn covariance(&mut self, a: &Expr, b: &Expr) -> R<Expr> {
        let ta = self.terms(a)?;
        let tb = self.terms(b)?;
        let both = self.mul_terms(&ta, &tb)?;
        let eab = self.expect_terms(&both)?;
        let ea = self.expect_terms(&ta)?;
        let eb = self.expect_terms(&tb)?;
        let prod = if is_zero(&ea) || is_zero(&eb) {
            return Ok(eab);
        } else {
            Expr::binary(BinOp::Mul, ea, eb)
        };
        Ok(Expr::binary(BinOp::Sub, eab, prod))
    }

    fn fresh_name(&mut self, base: &str) -> String {
        self.fresh += 1;
        // `#` cannot appear in a written name, so fresh names never clash.
        format!("{base}#{}", self.fresh)
    }

    /// Renames the summation variables of a term to fresh names.
    fn rename(&mut self, t: &Term) -> Term {
        let mut map = BTreeMap::new();
        let mut bounds = Vec::new();
        for b in &t.bounds {
            let base = b.var.split('#').next().unwrap_or("i").to_string();
            let v = self.fresh_name(&base);
            map.insert(b.var.clone(), Expr::name(&v));
            bounds.push(Bound {
                var: v,
                lo: substitute(&b.lo, &map),
                hi: substitute(&b.hi, &map),
            });
        }
        Term {
            coeff: t.coeff.iter().map(|c| substitute(c, &map)).collect(),
            atoms: t
                .atoms
                .iter()
                .map(|a| Atom {
                    name: a.name.clone(),
                    index: a.index.iter().map(|i| substitute(i, &map)).collect(),
                })
                .collect(),
            bounds,
        }
    }

    fn mul_terms(&mut self, a: &[Term], b: &[Term]) -> R<Vec<Term>> {
        if a.len().saturating_mul(b.len()) > MOMENT_TERMS {
            return unsupported(format!(
                "the expansion needs more than {MOMENT_TERMS} terms (the term budget)"
            ));
        }
        let mut out = Vec::with_capacity(a.len() * b.len());
        for x in a {
            for y in b {
                let y = self.rename(y);
                let mut t = x.clone();
                t.coeff.extend(y.coeff);
                t.atoms.extend(y.atoms);
                t.bounds.extend(y.bounds);
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Expands `e` into a sum of terms `coefficient · Π atoms`.
    fn terms(&mut self, e: &Expr) -> R<Vec<Term>> {
        if !involves_random(e, self.ctx) {
            return Ok(vec![Term {
                coeff: vec![e.clone()],
                ..Term::default()
            }]);
        }
        match &e.kind {
            ExprKind::Name(n) => match random_kind(self.ctx, n) {
                Some((_, false)) => Ok(vec![Term {
                    atoms: vec![Atom {
                        name: n.clone(),
                        index: Vec::new(),
                    }],
                    ..Term::default()
                }]),
                Some((_, true)) => Err(MomentError::Invalid(
                    format!("`{n}` is a random family: write a member with its indices, `{n}(i)`"),
                    e.span,
                )),
                None => unreachable!("involves_random found a random name"),
            },
            ExprKind::Call { name, args } if random_kind(self.ctx, name).is_some() => {
                let (_, family) = random_kind(self.ctx, name).expect("checked above");
                if !family {
                    return Err(MomentError::Invalid(
                        format!("`{name}` is one random variable, not a family: it takes no indices"),
                        e.span,
                    ));
                }
                if args.is_empty() {
                    return Err(MomentError::Invalid(
                        format!("a member of the family `{name}` is written `{name}(i, ...)`"),
                        e.span,
                    ));
                }
                if let Some(a) = args.iter().find(|a| involves_random(a, self.ctx)) {
                    return unsupported(format!("the index `{a}` is itself random"));
                }
                Ok(vec![Term {
                    atoms: vec![Atom {
                        name: name.clone(),
                        index: args.clone(),
                    }],
                    ..Term::default()
                }])
            }
            ExprKind::Builtin {
                op: Builtin::Sum,
                args,
                ..
            } if args.len() == 4 => {
                let ExprKind::Name(k) = &args[0].kind else {
                    return unsupported(format!("the sum `{e}` has no index name"));
                };
                for bound in &args[1..3] {
                    if involves_random(bound, self.ctx) {
                        return unsupported(format!("the bound `{bound}` is random"));
                    }
                    if let ExprKind::Name(n) = &bound.kind {
                        if n == "inf" {
                            return unsupported(
                                "an infinite sum of random variables (moments are computed for finite ranges)",
                            );
                        }
                    }
                    if matches!(&bound.kind, ExprKind::Neg(a) if matches!(&a.kind, ExprKind::Name(n) if n == "inf"))
                    {
                        return unsupported(
                            "an infinite sum of random variables (moments are computed for finite ranges)",
                        );
                    }
                }
                let v = self.fresh_name(k);
                let body = substitute(
                    &args[3],
                    &BTreeMap::from([(k.clone(), Expr::name(&v))]),
                );
                let inner = self.terms(&body)?;
                Ok(inner
                    .into_iter()
                    .map(|mut t| {
                        t.bounds.push(Bound {
                            var: v.clone(),
                            lo: args[1].clone(),
                            hi: args[2].clone(),
                        });
                        t
                    })
                    .collect())
            }
            ExprKind::Neg(a) => {
                let mut ts = self.terms(a)?;
                for t in &mut ts {
                    t.coeff.push(Expr::int(-1));
                }
                Ok(ts)
            }
            ExprKind::Binary(BinOp::Add, a, b) => {
                let mut ts = self.terms(a)?;
                ts.extend(self.terms(b)?);
                self.budget(&ts)?;
                Ok(ts)
            }
            ExprKind::Binary(BinOp::Sub, a, b) => {
                let mut ts = self.terms(a)?;
                for mut t in self.terms(b)? {
                    t.coeff.push(Expr::int(-1));
                    ts.push(t);
                }
                self.budget(&ts)?;
                Ok(ts)
            }
            ExprKind::Binary(BinOp::Mul, a, b) => {
                let (ta, tb) = (self.terms(a)?, self.terms(b)?);
                self.mul_terms(&ta, &tb)
            }
            ExprKind::Binary(BinOp::Div, a, b) if !involves_random(b, self.ctx) => {
                let mut ts = self.terms(a)?;
                let inv = Expr::binary(BinOp::Div, Expr::int(1), (**b).clone());
                for t in &mut ts {
                    t.coeff.push(inv.clone());
                }
                Ok(ts)
            }
            ExprKind::Binary(BinOp::Pow, a, k) => {
                let n = k
                    .as_number()
                    .filter(|q| q.is_integer() && !q.is_negative())
                    .and_then(|q| q.to_integer().to_u32())
                    .filter(|n| *n <= MOMENT_POWER);
                let Some(n) = n else {
                    return unsupported(format!(
                        "`{e}` is not a polynomial in the random variables (the power must be a whole number from 0 to {MOMENT_POWER})"
                    ));
                };
                let base = self.terms(a)?;
                let mut acc = vec![Term {
                    coeff: vec![Expr::int(1)],
                    ..Term::default()
                }];
                for _ in 0..n {
                    acc = self.mul_terms(&acc, &base)?;
                }
                Ok(acc)
            }
            _ => unsupported(format!(
                "`{e}` is not a polynomial in the random variables; moments are computed for sums and products"
            )),
        }
    }

    /// Is `e` an integer wherever it is defined? Integer literals, integer
    /// symbols, and bound summation indices (names that are not declared),
    /// joined by `+`, `−`, `·` and whole powers.
    fn integer_valued(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Number(q) => q.is_integer(),
            ExprKind::Name(n) => match self.ctx.symbols.get(n).map(|s| &s.kind) {
                Some(Kind::Scalar(k)) => k.is_integer(),
                Some(_) => false,
                None => !self.ctx.definitions.contains_key(n),
            },
            ExprKind::Neg(a) => self.integer_valued(a),
            ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul, a, b) => {
                self.integer_valued(a) && self.integer_valued(b)
            }
            ExprKind::Binary(BinOp::Pow, a, b) => {
                self.integer_valued(a)
                    && b.as_number()
                        .is_some_and(|k| k.is_integer() && !k.is_negative())
            }
            _ => false,
        }
    }

    fn budget(&self, ts: &[Term]) -> R<()> {
        if ts.len() > MOMENT_TERMS {
            return unsupported(format!(
                "the expansion needs more than {MOMENT_TERMS} terms (the term budget)"
            ));
        }
        Ok(())
    }

    /// `E[X^p]` of one random variable, from its declaration.
    fn moment(&self, name: &str, p: u32) -> R<Expr> {
        let Some((
            Kind::Random {
                normal, mean, var, ..
            },
            _,
        )) = random_kind(self.ctx, name)
        else {
            unreachable!("atoms are random symbols")
        };
        let mean_zero = is_zero(mean);
        if p == 0 {
            return Ok(Expr::int(1));
        }
        if p == 1 {
            return Ok(mean.clone());
        }
        if !normal {
            if p == 2 {
                return Ok(if mean_zero {
                    var.clone()
                } else {
                    Expr::binary(BinOp::Add, var.clone(), power(mean, 2))
                });
            }
            return unsupported(format!(
                "the step needs E[{name}^{p}], but `{name}` is declared with its mean and variance only \
                 (declare it `normal(...)` if it is Gaussian)"
            ));
        }
        // Gaussian: E[(m + Z)^p] with E[Z^j] = v^(j/2) (j − 1)!! for even j, 0 for odd j.
        let mut terms = Vec::new();
        for j in (0..=p).step_by(2) {
            if mean_zero && j != p {
                continue;
            }
            let c = binomial(p, j) * double_factorial_odd(j);
            let mut f = vec![Expr::rational(BigRational::from_integer(c))];
            if p - j > 0 {
                f.push(power(mean, p - j));
            }
            if j > 0 {
                f.push(power(var, j / 2));
            }
            terms.push(product(f));
        }
        Ok(sum(terms))
    }

    /// Whether two family members' index tuples name the same variable,
    /// given which summation variables are block leaders of one range group.
    fn same_member(
        &self,
        a: &Atom,
        b: &Atom,
        group_of: &BTreeMap<String, usize>,
        points: &BTreeMap<String, Affine>,
    ) -> R<Same> {
        if a.index.len() != b.index.len() {
            return unsupported(format!(
                "`{}` and `{}` index the family `{}` with different numbers of indices",
                a.show(),
                b.show(),
                a.name
            ));
        }
        let mut all = Same::Yes;
        for (x, y) in a.index.iter().zip(&b.index) {
            let s = if x == y || x.to_string() == y.to_string() {
                Same::Yes
            } else {
                match (Affine::of(x), Affine::of(y)) {
                    (Some(ax), Some(ay)) => {
                        let d = ax.add(&ay, -1);
                        if d.terms.is_empty() {
                            if d.constant.is_zero() {
                                Same::Yes
                            } else {
                                Same::No
                            }
                        } else if d.constant.is_zero() && d.terms.len() == 2 {
                            // u − v with u and v leaders of different blocks of one group.
                            let mut it = d.terms.iter();
                            let (u, cu) = it.next().expect("two terms");
                            let (v, cv) = it.next().expect("two terms");
                            let same_group = matches!(
                                (group_of.get(u), group_of.get(v)),
                                (Some(g), Some(h)) if g == h
                            );
                            if same_group && (cu + cv).is_zero() {
                                Same::No
                            } else {
                                avoids_point(&d, points)
                            }
                        } else {
                            avoids_point(&d, points)
                        }
                    }
                    _ => Same::Unknown,
                }
            };
            match s {
                Same::No => return Ok(Same::No),
                Same::Unknown => all = Same::Unknown,
                Same::Yes => {}
            }
        }
        Ok(all)
    }

    fn expect_terms(&mut self, terms: &[Term]) -> R<Expr> {
        let mut out = Vec::new();
        for t in terms {
            let e = self.expect_term(t)?;
            if !is_zero(&e) {
                out.push(e);
            }
        }
        Ok(sum(out))
    }

    /// `E` of one term, summed over its index patterns.
    fn expect_term(&mut self, t: &Term) -> R<Expr> {
        let bound_names: Vec<&str> = t.bounds.iter().map(|b| b.var.as_str()).collect();
        for c in &t.coeff {
            let mut names = Vec::new();
            names_in(c, &mut names);
            if let Some(n) = names.iter().find(|n| bound_names.contains(&n.as_str())) {
                return unsupported(format!(
                    "the coefficient `{c}` depends on the summation index `{}`; \
                     moments of sums are computed when the index appears only in random variables",
                    n.split('#').next().unwrap_or(n)
                ));
            }
        }
        // Range groups: summation variables with the same range.
        let mut groups: Vec<(String, String, Expr, Vec<usize>)> = Vec::new();
        for (i, b) in t.bounds.iter().enumerate() {
            for r in [&b.lo, &b.hi] {
                let mut names = Vec::new();
                names_in(r, &mut names);
                if names.iter().any(|n| bound_names.contains(&n.as_str())) {
                    return unsupported(format!(
                        "the range {}..{} depends on another summation index",
                        b.lo, b.hi
                    ));
                }
            }
            if !self.integer_valued(&b.lo) || !self.integer_valued(&b.hi) {
                return unsupported(format!(
                    "the bounds {}..{} of a sum of random variables must be integers",
                    b.lo, b.hi
                ));
            }
            let (lo, hi) = (b.lo.to_string(), b.hi.to_string());
            match groups.iter_mut().find(|g| g.0 == lo && g.1 == hi) {
                Some(g) => g.3.push(i),
                None => {
                    let size = range_size(&b.lo, &b.hi);
                    groups.push((lo, hi, size, vec![i]));
                }
            }
        }
        for g in &groups {
            if !(self.nonnegative)(&g.2) {
                return unsupported(format!(
                    "cannot show that the range {}..{} has a nonnegative number of terms under the domain \
                     (state it with `where`)",
                    g.0, g.1
                ));
            }
        }
        let pins = self.pins(t, &groups, &bound_names);
        // Every combination of one set partition per group, and for a group
        // pinned at a point, which block (if any) sits at that point.
        let mut per_group: Vec<Vec<(Vec<usize>, Option<usize>)>> = Vec::new();
        let mut total: usize = 1;
        for (gi, g) in groups.iter().enumerate() {
            let mut ps = Vec::new();
            if !partitions(g.3.len(), &mut ps, MOMENT_PATTERNS) {
                return unsupported(format!(
                    "more than {MOMENT_PATTERNS} index patterns (the pattern budget)"
                ));
            }
            let mut options = Vec::new();
            for p in ps {
                options.push((p.clone(), None));
                if pins[gi].is_some() {
                    let blocks = p.iter().max().map_or(0, |m| m + 1);
                    for b in 0..blocks {
                        options.push((p.clone(), Some(b)));
                    }
                }
            }
            total = total.saturating_mul(options.len());
            if total > MOMENT_PATTERNS {
                return unsupported(format!(
                    "more than {MOMENT_PATTERNS} index patterns (the pattern budget)"
                ));
            }
            per_group.push(options);
        }
        let coeff = product(t.coeff.iter().cloned());
        let sizes: Vec<Expr> = groups.iter().map(|g| g.2.clone()).collect();
        // Moment products by pattern, with the summed count of their index tuples.
        let mut collected: BTreeMap<String, (Expr, CountPoly)> = BTreeMap::new();
        let mut choice = vec![0usize; groups.len()];
        loop {
            let mut map = BTreeMap::new();
            let mut group_of = BTreeMap::new();
            let mut points = BTreeMap::new();
            let mut count = CountPoly::one(groups.len());
            for (gi, g) in groups.iter().enumerate() {
                let (blocks, pinned) = &per_group[gi][choice[gi]];
                let mut leaders: Vec<usize> = Vec::new();
                for (pos, &member) in g.3.iter().enumerate() {
                    let blk = blocks[pos];
                    if blk == leaders.len() {
                        leaders.push(member);
                    }
                    if *pinned == Some(blk) {
                        let p = pins[gi].as_ref().expect("pinned groups have a point");
                        map.insert(t.bounds[member].var.clone(), p.to_expr());
                        continue;
                    }
                    let leader = &t.bounds[leaders[blk]].var;
                    group_of.insert(leader.clone(), gi);
                    if let Some(p) = &pins[gi] {
                        points.insert(leader.clone(), p.clone());
                    }
                    if member != leaders[blk] {
                        map.insert(t.bounds[member].var.clone(), Expr::name(leader));
                    }
                }
                // b distinct values for b free blocks: N (N − 1) ⋯ (N − b + 1);
                // in a pinned group they also avoid the point: (N − 1) ⋯ (N − b).
                let free = leaders.len() - usize::from(pinned.is_some());
                let first = i64::from(pins[gi].is_some());
                for j in 0..free {
                    count = count.times_size_minus(gi, first + j as i64);
                }
            }
            if let Some(m) = self.pattern_moment(t, &map, &group_of, &points)? {
                let key = m.to_string();
                let entry = collected
                    .entry(key)
                    .or_insert_with(|| (m, CountPoly::zero()));
                entry.1.add(&count);
            }
            // Next combination.
            let mut gi = 0;
            loop {
                if gi == groups.len() {
                    return Ok(assemble(coeff, collected, &sizes));
                }
                choice[gi] += 1;
                if choice[gi] < per_group[gi].len() {
                    break;
                }
                choice[gi] = 0;
                gi += 1;
            }
        }
    }

    /// For each range group, the one point (free of summation indices) that
    /// its variables are compared with inside family indices, when there is
    /// exactly one and the domain puts it inside the range: `x(i)` against
    /// `x(j)` with `1 <= j <= d` pins the group of `i` at `j`.
    #[allow(clippy::type_complexity)]
    fn pins(
        &mut self,
        t: &Term,
        groups: &[(String, String, Expr, Vec<usize>)],
        bound_names: &[&str],
    ) -> Vec<Option<Affine>> {
        let mut found: Vec<Vec<Affine>> = vec![Vec::new(); groups.len()];
        let group_of_var = |v: &str| {
            groups
                .iter()
                .position(|g| g.3.iter().any(|&i| t.bounds[i].var == v))
        };
        for (ai, a) in t.atoms.iter().enumerate() {
            for b in &t.atoms[ai + 1..] {
                if a.name != b.name || a.index.len() != b.index.len() {
                    continue;
                }
                for (x, y) in a.index.iter().zip(&b.index) {
                    let (Some(ax), Some(ay)) = (Affine::of(x), Affine::of(y)) else {
                        continue;
                    };
                    for (bound, free) in [(&ax, &ay), (&ay, &ax)] {
                        let vars: Vec<&String> = bound
                            .terms
                            .keys()
                            .filter(|n| bound_names.contains(&n.as_str()))
                            .collect();
                        let free_ok = free
                            .terms
                            .keys()
                            .all(|n| !bound_names.contains(&n.as_str()));
                        if vars.len() != 1 || !free_ok || !bound.terms[vars[0]].is_one() {
                            continue;
                        }
                        // u + δ = f  ⇔  u = f − δ.
                        let u = vars[0];
                        let point = free
                            .clone()
                            .add(&bound.clone().add(&Affine::name(u), -1), -1);
                        if let Some(g) = group_of_var(u) {
                            if !found[g].contains(&point) {
                                found[g].push(point);
                            }
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (gi, points) in found.into_iter().enumerate() {
            let pin = match points.as_slice() {
                [p] if self.integer_valued(&p.to_expr()) => {
                    let b = &t.bounds[groups[gi].3[0]];
                    let pe = p.to_expr();
                    let above = Expr::binary(BinOp::Sub, pe.clone(), b.lo.clone());
                    let below = Expr::binary(BinOp::Sub, b.hi.clone(), pe);
                    if (self.nonnegative)(&above) && (self.nonnegative)(&below) {
                        Some(p.clone())
                    } else {
                        None
                    }
                }
                _ => None,
            };
            out.push(pin);
        }
        out
    }

    /// The moment product of a term under one index pattern (`None` when it is zero).
    fn pattern_moment(
        &self,
        t: &Term,
        map: &BTreeMap<String, Expr>,
        group_of: &BTreeMap<String, usize>,
        points: &BTreeMap<String, Affine>,
    ) -> R<Option<Expr>> {
        // Distinct variables with their powers; pairs whose identity is undecided.
        let mut vars: Vec<(Atom, u32)> = Vec::new();
        let mut undecided: Vec<(usize, usize)> = Vec::new();
        for a in &t.atoms {
            let a = Atom {
                name: a.name.clone(),
                index: a.index.iter().map(|i| substitute(i, map)).collect(),
            };
            let mut found = None;
            let mut open = Vec::new();
            for (k, (b, _)) in vars.iter().enumerate() {
                if b.name != a.name {
                    continue;
                }
                match self.same_member(&a, b, group_of, points)? {
                    Same::Yes => {
                        found = Some(k);
                        break;
                    }
                    Same::No => {}
                    Same::Unknown => open.push(k),
                }
            }
            let me = match found {
                Some(k) => {
                    vars[k].1 += 1;
                    k
                }
                None => {
                    vars.push((a, 1));
                    vars.len() - 1
                }
            };
            undecided.extend(open.into_iter().map(|k| (k, me)));
        }
        undecided.retain(|(a, b)| a != b);
        // A variable that is certainly alone with a zero mean kills the
        // product, whatever is undecided elsewhere.
        for (k, (a, p)) in vars.iter().enumerate() {
            let involved = undecided.iter().any(|(x, y)| *x == k || *y == k);
            if *p == 1 && !involved {
                if let Some((Kind::Random { mean, .. }, _)) = random_kind(self.ctx, &a.name) {
                    if is_zero(mean) {
                        return Ok(None);
                    }
                }
            }
        }
        if let Some((x, y)) = undecided.first() {
            return unsupported(format!(
                "cannot tell whether `{}` and `{}` are the same variable (their indices may or may not coincide)",
                vars[*x].0.show(),
                vars[*y].0.show()
            ));
        }
        let mut factors = Vec::new();
        for (a, p) in &vars {
            if *p > MOMENT_POWER {
                return unsupported(format!("a power above {MOMENT_POWER} of `{}`", a.show()));
            }
            let m = self.moment(&a.name, *p)?;
            if is_zero(&m) {
                return Ok(None);
            }
            factors.push(m);
        }
        Ok(Some(product(factors)))
    }
}

/// Replaces the moments of both sides by the exact scalars they equal: the
/// reduced sides, or the verdict that stops the step.
fn reduce_sides(scope: &Scope<'_>, sides: &[&Expr]) -> Result<Vec<Expr>, Verdict> {
    let mut nonnegative = |e: &Expr| crate::families::scalar::provably_nonnegative(scope, e);
    let mut calculus = Moments::new(scope.ctx, &mut nonnegative);
    let mut out = Vec::new();
    for e in sides {
        let prepared = scope.prepare(e).map_err(Verdict::unsupported)?;
        match calculus.reduce(&prepared) {
            Ok(x) => out.push(x),
            Err(MomentError::Unsupported(why)) => return Err(Verdict::unsupported(why)),
            Err(MomentError::Invalid(message, span)) => {
                return Err(Verdict::error(message, Some(span)))
            }
        }
    }
    Ok(out)
}

/// The verdict of the reduced step, told as a moment-calculus verdict.
fn told(v: Verdict, reduced: String) -> Verdict {
    let v = v.in_context(reduced);
    match v {
        Verdict::Proved {
            method,
            context,
            rules,
            remarks,
            cross_checks,
        } => Verdict::Proved {
            method: Method::Moments(Box::new(method)),
            context,
            rules,
            remarks,
            cross_checks,
        },
        Verdict::Checked {
            method,
            checks,
            notes,
        } => Verdict::Checked {
            method: Method::Moments(Box::new(method)),
            checks,
            notes,
        },
        Verdict::Refuted {
            method,
            counterexample,
            notes,
        } => Verdict::Refuted {
            method: Method::Moments(Box::new(method)),
            counterexample,
            notes,
        },
        other => other,
    }
}

/// Checks a step about random variables: every `E`, `Var`, `Cov` and
/// `Std` is replaced by the exact scalar it equals, then the scalar step is
/// checked.
pub(crate) fn check_step(
    scope: &Scope<'_>,
    index: usize,
    lhs: &Expr,
    op: RelOp,
    rhs: &Expr,
) -> Verdict {
    match reduce_sides(scope, &[lhs, rhs]) {
        Err(v) => v,
        Ok(r) => {
            let reduced = format!(
                "the moments make the step {} {} {}",
                r[0],
                op.symbol(),
                r[1]
            );
            told(
                crate::families::scalar::check_step(scope, index, &r[0], op, &r[1]),
                reduced,
            )
        }
    }
}

/// Checks an implication between relations of moments: the moments are
/// replaced by their exact values, then the scalar implication is decided.
pub(crate) fn check_implication(
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
    match reduce_sides(scope, &[&p.0, &p.2, &c.0, &c.2]) {
        Err(v) => v,
        Ok(r) => {
            let reduced = format!(
                "the moments make the implication {} {} {} {} {} {} {}",
                r[0],
                p.1.symbol(),
                r[1],
                if logic == Logic::Implies { "=>" } else { "<=>" },
                r[2],
                c.1.symbol(),
                r[3]
            );
            let v = crate::check::logic::decide(
                scope,
                &(r[0].clone(), p.1, r[1].clone()),
                logic,
                &(r[2].clone(), c.1, r[3].clone()),
            );
            told(v, reduced)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_partitions_are_counted_by_bell_numbers() {
        for (n, bell) in [(0, 1), (1, 1), (2, 2), (3, 5), (4, 15), (5, 52), (6, 203)] {
            let mut out = Vec::new();
            assert!(partitions(n, &mut out, 1000));
            assert_eq!(out.len(), bell, "Bell({n})");
        }
        let mut out = Vec::new();
        assert!(!partitions(8, &mut out, 100), "the limit stops enumeration");
    }

    #[test]
    fn gaussian_constants() {
        assert_eq!(double_factorial_odd(4), BigInt::from(3));
        assert_eq!(double_factorial_odd(6), BigInt::from(15));
        assert_eq!(binomial(4, 2), BigInt::from(6));
    }

    #[test]
    fn affine_differences_decide_identity() {
        let ctx = Context::default();
        let p = |s: &str| {
            let bound: Vec<String> = ["i", "h", "j"].iter().map(|s| s.to_string()).collect();
            crate::syntax::parser::parse_expr(s, &ctx, &bound).expect("parses")
        };
        let a = Affine::of(&p("i + h - 1")).unwrap();
        let b = Affine::of(&p("h + i - 1")).unwrap();
        assert_eq!(a.add(&b, -1), Affine::constant(BigRational::zero()));
        assert!(Affine::of(&p("i * j")).is_none());
    }
}
