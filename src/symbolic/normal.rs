//! Normalization: a scalar expression → an exact rational function over
//! generators, applying only the rules the declared domain justifies.
//!
//! The CAS gives exact polynomial and rational arithmetic; the rules that
//! depend on the domain are ours (see ENGINE-NOTES): for nonnegative
//! quantities `(a·b)^r = a^r·b^r`, `(a/b)^r = a^r·b^(−r)` and
//! `(a^p)^q = a^(p·q)`; for any positive base `b^(x+y) = b^x·b^y`, numeric
//! bases split into prime powers; radicals of nonnegative symbols become
//! fresh generators (`x = t^L`); `abs`, `sign`, `min`, `max`, `step`, `if`
//! resolve where the domain fixes the sign. Whatever is left becomes an
//! opaque generator keyed by its normalized arguments. Treating generators
//! as independent is sound for proofs: an identity that holds for all
//! values of independent generators holds for the actual ones.

pub(crate) use crate::exact::fold::fold_rational;
use crate::exact::fold::small_exponent;
use crate::resolve::domain::{Domain, Sign};
use crate::symbolic::cas;
use crate::symbolic::polynomial::{Alg, Poly, RatFun, Term};
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, RelOp};
use crate::verdict::Rule;
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A monomial of an exponent: its coefficient, its generator key and the generators' powers.
type ExponentMonomial = (BigRational, String, Vec<u32>);

/// The budget [`Budgets::root_degree`](crate::config::Budgets::root_degree).
pub(crate) const ROOT_DEGREE: u32 = crate::config::Budgets::DEFAULT.root_degree;
/// The budget [`Budgets::expanded_sum_terms`](crate::config::Budgets::expanded_sum_terms).
pub(crate) const EXPANDED_SUM_TERMS: u64 = crate::config::Budgets::DEFAULT.expanded_sum_terms;
/// The budget [`Budgets::factor_limit`](crate::config::Budgets::factor_limit).
pub(crate) const FACTOR_LIMIT: u64 = crate::config::Budgets::DEFAULT.factor_limit;

/// What a generator stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GenKind {
    /// A declared scalar symbol.
    Symbol(String),
    /// `t` with `symbol = t^degree`, `t >= 0`.
    Root(String, u32),
    /// `prime^(1/degree)`.
    PrimeRoot(BigInt, u32),
    /// `base^(monomial)`: a symbolic power of a positive base.
    Power(String, String),
    /// Anything else, keyed by its normalized text.
    Opaque(String),
}

/// One generator of the rational functions.
#[derive(Clone, Debug)]
pub(crate) struct Generator {
    /// What it is.
    pub(crate) kind: GenKind,
    /// What is known about its sign.
    pub(crate) sign: Sign,
}

pub(crate) use crate::symbolic::norm_error::NormError;

type N<T> = Result<T, NormError>;

/// Trial-division factorization of a positive integer up to [`FACTOR_LIMIT`].
fn factor(n: &BigInt) -> Option<Vec<(BigInt, i64)>> {
    let mut m = n.to_u64().filter(|m| *m <= FACTOR_LIMIT && *m >= 1)?;
    let mut out = Vec::new();
    let mut p = 2u64;
    while p * p <= m {
        let mut e = 0;
        while m % p == 0 {
            m /= p;
            e += 1;
        }
        if e > 0 {
            out.push((BigInt::from(p), e));
        }
        p += if p == 2 { 1 } else { 2 };
    }
    if m > 1 {
        out.push((BigInt::from(m), 1));
    }
    Some(out)
}

fn exact_root(q: &BigRational, d: u32) -> Option<BigRational> {
    let r = |n: &BigInt| -> Option<BigInt> {
        let x = n.nth_root(d);
        (num_traits::pow(x.clone(), d as usize) == *n).then_some(x)
    };
    if q.is_negative() {
        return None;
    }
    Some(BigRational::new(r(q.numer())?, r(q.denom())?))
}

/// Turns expressions of one step into rational functions over shared generators.
pub(crate) struct Normalizer<'a> {
    dom: &'a Domain,
    /// The generators met so far.
    pub(crate) gens: Vec<Generator>,
    index: HashMap<GenKey, usize>,
    roots: BTreeMap<String, u32>,
    /// The domain rules used, for the report.
    pub(crate) rules: BTreeSet<Rule>,
    depth: usize,
    /// Pairs of generators `(sin θ, cos θ)` of one base angle, reduced
    /// modulo `sin² + cos² = 1`.
    trig: Vec<(usize, usize)>,
    /// Generators `log(a)` of a positive `a`, with `a`: for `exp(m·log a) = a^m`.
    log_args: HashMap<usize, Expr>,
    /// The canonical index names of the sums over symbolic ranges being
    /// keyed (`#ι0`, `#ι1`, …: names no claim can spell), innermost last.
    binders: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct GenKey(String);

fn gen_key(kind: &GenKind) -> GenKey {
    GenKey(match kind {
        GenKind::Symbol(s) => format!("sym:{s}"),
        GenKind::Root(s, d) => format!("root:{s}:{d}"),
        GenKind::PrimeRoot(p, d) => format!("proot:{p}:{d}"),
        GenKind::Power(b, m) => format!("pow:{b}:{m}"),
        GenKind::Opaque(s) => format!("opaque:{s}"),
    })
}

fn num(q: BigRational) -> Alg {
    Alg::Num(q)
}

fn int(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn mul(items: Vec<Alg>) -> Alg {
    Alg::Mul(items)
}

fn pow(a: Alg, k: i64) -> Alg {
    if k == 1 {
        a
    } else {
        Alg::Pow(Box::new(a), k)
    }
}

fn sub_expr(a: &Expr, b: &Expr) -> Expr {
    Expr::binary(BinOp::Sub, a.clone(), b.clone())
}

impl<'a> Normalizer<'a> {
    /// A normalizer for one step under `dom`.
    pub(crate) fn new(dom: &'a Domain) -> Normalizer<'a> {
        Normalizer {
            dom,
            gens: Vec::new(),
            index: HashMap::new(),
            roots: BTreeMap::new(),
            rules: BTreeSet::new(),
            depth: 0,
            trig: Vec::new(),
            log_args: HashMap::new(),
            binders: Vec::new(),
        }
    }

    /// Notes the radicals applied to nonnegative symbols in `e`, so that each
    /// such symbol gets one root generator for the whole step. Call on every
    /// expression of the step before converting any.
    pub(crate) fn prescan(&mut self, e: &Expr) {
        self.scan(e, 1);
    }

    fn scan(&mut self, e: &Expr, acc: u32) {
        match &e.kind {
            ExprKind::Name(x) => {
                if acc > 1 && self.dom.symbol_sign(x).nonneg() && self.dom.kinds.contains_key(x) {
                    let cur = self.roots.get(x).copied().unwrap_or(1);
                    let l = cur.lcm(&acc);
                    if l <= ROOT_DEGREE {
                        self.roots.insert(x.clone(), l);
                    }
                }
            }
            ExprKind::Binary(BinOp::Pow, b, ex) => {
                let d = fold_rational(ex)
                    .filter(|r| !r.is_integer())
                    .and_then(|r| r.denom().to_u32())
                    .unwrap_or(1);
                self.scan(b, acc.saturating_mul(d).min(ROOT_DEGREE + 1));
                self.scan(ex, 1);
            }
            ExprKind::Binary(BinOp::Mul | BinOp::Div, a, b) => {
                self.scan(a, acc);
                self.scan(b, acc);
            }
            ExprKind::Neg(a) => self.scan(a, acc),
            ExprKind::Builtin {
                op: Builtin::Sqrt,
                args,
                ..
            } if args.len() == 1 => self.scan(&args[0], acc.saturating_mul(2).min(ROOT_DEGREE + 1)),
            _ => {
                let mut children = Vec::new();
                crate::resolve::expand::map_children(&e.kind, &mut |c| {
                    children.push(c.clone());
                    c.clone()
                });
                for c in &children {
                    self.scan(c, 1);
                }
            }
        }
    }

    /// The radical degree chosen for each nonnegative symbol by [`Normalizer::prescan`].
    pub(crate) fn roots_map(&self) -> BTreeMap<String, u32> {
        self.roots.clone()
    }

    fn gen(&mut self, kind: GenKind, sign: Sign) -> usize {
        let key = gen_key(&kind);
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        let i = self.gens.len();
        self.gens.push(Generator { kind, sign });
        self.index.insert(key, i);
        i
    }

    /// The signs of the generators, in order.
    pub(crate) fn gen_signs(&self) -> Vec<Sign> {
        self.gens.iter().map(|g| g.sign).collect()
    }

    /// Converts a scalar expression.
    pub(crate) fn alg(&mut self, e: &Expr) -> N<Alg> {
        if crate::guard::expired() {
            return Err(NormError::Unsupported(crate::guard::REACHED.into()));
        }
        self.depth += 1;
        if self.depth > crate::config::Budgets::DEFAULT.normal_depth {
            self.depth -= 1;
            return Err(NormError::Budget(
                "the expression nests too deeply for the symbolic engine".into(),
            ));
        }
        let r = self.alg_inner(e);
        self.depth -= 1;
        r
    }

    fn alg_inner(&mut self, e: &Expr) -> N<Alg> {
        match &e.kind {
            ExprKind::Number(q) => Ok(num(q.clone())),
            ExprKind::Name(x) => self.symbol(x),
            ExprKind::Neg(a) => Ok(mul(vec![num(int(-1)), self.alg(a)?])),
            ExprKind::Binary(op, a, b) => match op {
                BinOp::Add => Ok(Alg::Add(vec![self.alg(a)?, self.alg(b)?])),
                BinOp::Sub => Ok(Alg::sub(self.alg(a)?, self.alg(b)?)),
                BinOp::Mul => Ok(mul(vec![self.alg(a)?, self.alg(b)?])),
                BinOp::Div => Ok(mul(vec![self.alg(a)?, pow(self.alg(b)?, -1)])),
                BinOp::Pow => self.power(a, b),
            },
            ExprKind::Builtin { op, args, options } if options.is_empty() => {
                self.builtin(e, *op, args)
            }
            ExprKind::Builtin { op, .. } => Err(NormError::Unsupported(format!(
                "`{op}` with options is not supported yet"
            ))),
            ExprKind::Call { name, .. } if self.dom.kinds.contains_key(name) => Err(
                NormError::Unsupported(format!("`{name}` is not a function")),
            ),
            // An entry `w(i, 1)` of an array (or family): a real number,
            // one generator per entry, its indices in normal form (so
            // `w(k + 0, 1)` and `w(k, 1)` are one generator). Entries with
            // different index forms stay independent generators, which is
            // sound for identities: they hold for any values.
            ExprKind::Call { name, args } => {
                let mut key = format!("{name}(");
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        key.push(',');
                    }
                    key.push_str(&self.canonical(a)?);
                }
                key.push(')');
                Ok(self.opaque(format!("entry:{key}"), Sign::Unknown))
            }
            ExprKind::Transpose(_) | ExprKind::Matrix(_) => Err(NormError::Unsupported(
                "matrix expressions are not supported yet".into(),
            )),
            ExprKind::Expect(_) => Err(NormError::Unsupported(
                "random variables are not supported yet".into(),
            )),
            ExprKind::Str(_) | ExprKind::Compare(..) | ExprKind::And(_) => {
                Err(NormError::Unsupported(format!("`{e}` is not a value")))
            }
        }
    }

    fn symbol(&mut self, x: &str) -> N<Alg> {
        if self.binders.iter().any(|b| b == x) {
            return Ok(Alg::Var(
                self.gen(GenKind::Symbol(x.to_string()), Sign::Unknown),
            ));
        }
        if !self.dom.kinds.contains_key(x) {
            return Err(NormError::Unsupported(format!(
                "`{x}` is not a scalar symbol (matrices, arrays and random variables are not supported yet)"
            )));
        }
        let sign = self.dom.symbol_sign(x);
        match self.roots.get(x).copied() {
            Some(l) if l > 1 => {
                let i = self.gen(
                    GenKind::Root(x.to_string(), l),
                    if sign == Sign::Pos {
                        Sign::Pos
                    } else {
                        Sign::NonNeg
                    },
                );
                Ok(pow(Alg::Var(i), l as i64))
            }
            _ => Ok(Alg::Var(self.gen(GenKind::Symbol(x.to_string()), sign))),
        }
    }

    /// `b^e` where `e` is an expression.
    fn power(&mut self, b: &Expr, ex: &Expr) -> N<Alg> {
        match fold_rational(ex) {
            Some(r) => self.power_q(b, &r),
            None => self.power_symbolic(b, ex),
        }
    }

    /// `b^r` for a rational `r`.
    fn power_q(&mut self, b: &Expr, r: &BigRational) -> N<Alg> {
        if r.is_integer() {
            let k = small_exponent(r).ok_or_else(|| {
                NormError::Budget(format!(
                    "the exponent {r} is beyond the symbolic engine's limit"
                ))
            })?;
            if k == 0 {
                return Ok(num(int(1)));
            }
            return Ok(pow(self.alg(b)?, k));
        }
        self.rational_power(b, r)
    }

    fn numeric_power(&mut self, c: &BigRational, r: &BigRational) -> N<Alg> {
        if c.is_zero() {
            return if r.is_positive() {
                Ok(num(BigRational::zero()))
            } else {
                Err(NormError::Undefined("0 to a nonpositive power".into()))
            };
        }
        let d = r.denom().to_u32().filter(|d| *d <= ROOT_DEGREE);
        let p = small_exponent(&BigRational::from_integer(r.numer().clone()));
        let (Some(d), Some(p)) = (d, p) else {
            return Ok(self.opaque(format!("({c})^({r})"), Sign::Unknown));
        };
        if c.is_negative() {
            if d % 2 == 0 {
                return Err(NormError::Undefined(format!(
                    "an even root of the negative number {c}"
                )));
            }
            let magnitude = self.numeric_power(&-c.clone(), r)?;
            return Ok(if p % 2 == 0 {
                magnitude
            } else {
                mul(vec![num(int(-1)), magnitude])
            });
        }
        if let Some(root) = exact_root(c, d) {
            if p.unsigned_abs() <= 4096 {
                return Ok(pow(num(root), p));
            }
        }
        self.rules.insert(Rule::NumericRadicals);
        let mut factors = Vec::new();
        let (Some(fn_), Some(fd)) = (factor(c.numer()), factor(c.denom())) else {
            return Ok(self.opaque(format!("({c})^({r})"), Sign::Pos));
        };
        for (prime, e) in fn_.into_iter().chain(fd.into_iter().map(|(q, e)| (q, -e))) {
            // prime^(e·r) = prime^(whole) · (prime^(1/den))^(rem)
            let k = BigRational::from_integer(BigInt::from(e)) * r;
            let den = k.denom().to_u32().unwrap_or(1);
            let numer = k.numer().to_i64().unwrap_or(0);
            let whole = numer.div_euclid(den as i64);
            let rem = numer.rem_euclid(den as i64);
            let pq = BigRational::from_integer(prime.clone());
            if whole != 0 {
                factors.push(pow(num(pq), whole));
            }
            if rem != 0 {
                let g = self.gen(GenKind::PrimeRoot(prime, den), Sign::Pos);
                factors.push(pow(Alg::Var(g), rem));
            }
        }
        Ok(mul(factors))
    }

    fn rational_power(&mut self, b: &Expr, r: &BigRational) -> N<Alg> {
        if let Some(c) = fold_rational(b) {
            return self.numeric_power(&c, r);
        }
        let sb = self.sign_of(b);
        if sb.nonneg() {
            match &b.kind {
                ExprKind::Binary(BinOp::Mul, x, y)
                    if self.sign_of(x).nonneg() && self.sign_of(y).nonneg() =>
                {
                    self.rules.insert(Rule::PowerOfProduct);
                    return Ok(mul(vec![
                        self.rational_power(x, r)?,
                        self.rational_power(y, r)?,
                    ]));
                }
                ExprKind::Binary(BinOp::Div, x, y)
                    if self.sign_of(x).nonneg() && self.sign_of(y).nonneg() =>
                {
                    self.rules.insert(Rule::PowerOfQuotient);
                    return Ok(mul(vec![
                        self.rational_power(x, r)?,
                        self.rational_power(y, &-r.clone())?,
                    ]));
                }
                ExprKind::Binary(BinOp::Pow, x, s) => {
                    if let Some(s) = fold_rational(s) {
                        if self.sign_of(x).nonneg() {
                            self.rules.insert(Rule::PowerOfPowerNonneg);
                            return self.power_q(x, &(s * r));
                        }
                        if s.is_integer() && s.to_integer().is_even() {
                            self.rules.insert(Rule::EvenPowerOfPower);
                            let a = Expr::builtin(Builtin::Abs, vec![(**x).clone()]);
                            return self.power_q(&a, &(s * r));
                        }
                    } else if self.sign_of(x) == Sign::Pos {
                        self.rules.insert(Rule::PowerOfPowerPos);
                        let scaled =
                            Expr::binary(BinOp::Mul, (**s).clone(), Expr::rational(r.clone()));
                        return self.power_symbolic(x, &scaled);
                    }
                }
                ExprKind::Builtin {
                    op: Builtin::Sqrt,
                    args,
                    ..
                } if args.len() == 1 && self.sign_of(&args[0]).nonneg() => {
                    self.rules.insert(Rule::PowerOfPowerNonneg);
                    return self.power_q(&args[0], &(r / int(2)));
                }
                ExprKind::Builtin {
                    op: Builtin::Exp,
                    args,
                    ..
                } if args.len() == 1 => {
                    self.rules.insert(Rule::PowerOfExp);
                    let scaled =
                        Expr::binary(BinOp::Mul, Expr::rational(r.clone()), args[0].clone());
                    return self.exp(&scaled);
                }
                ExprKind::Name(x) => {
                    if let Some(l) = self.roots.get(x).copied() {
                        let k = r * int(l as i64);
                        if k.is_integer() {
                            self.rules.insert(Rule::RadicalGenerators);
                            let sign = if sb == Sign::Pos {
                                Sign::Pos
                            } else {
                                Sign::NonNeg
                            };
                            let i = self.gen(GenKind::Root(x.clone(), l), sign);
                            let k = small_exponent(&k)
                                .ok_or_else(|| NormError::Budget("exponent too large".into()))?;
                            return Ok(pow(Alg::Var(i), k));
                        }
                    }
                }
                _ => {}
            }
        }
        let base = self.canonical(b)?;
        let sign = if sb == Sign::Pos || (r.is_negative() && sb.nonneg()) {
            Sign::Pos
        } else if r.denom().is_even() || sb.nonneg() {
            Sign::NonNeg
        } else {
            Sign::Unknown
        };
        Ok(self.opaque(format!("({base})^({r})"), sign))
    }

    /// The exponent as a constant plus monomials with rational coefficients.
    fn exponent_parts(&mut self, ex: &Expr) -> N<(BigRational, Vec<ExponentMonomial>)> {
        let a = self.alg(ex)?;
        let rf = self.ratfun(&a)?;
        let Some(den) = rf.den.as_constant() else {
            return Err(NormError::Unsupported(format!(
                "the exponent `{ex}` is not a polynomial"
            )));
        };
        let mut c0 = BigRational::zero();
        let mut parts = Vec::new();
        for t in &rf.num.terms {
            let coeff = &t.coeff / &den;
            if t.exps.iter().all(|e| *e == 0) {
                c0 += coeff;
            } else {
                let key = t
                    .exps
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| **e > 0)
                    .map(|(i, e)| format!("g{i}^{e}"))
                    .collect::<Vec<_>>()
                    .join("*");
                parts.push((coeff, key, t.exps.clone()));
            }
        }
        parts.sort_by(|a, b| a.1.cmp(&b.1));
        Ok((c0, parts))
    }

    /// The symbolic part of `base^(ex)` for a positive base given by its
    /// prime factors (label, multiplicity), from the exponent's monomials:
    /// one positive generator `label^monomial` each. `None` when a
    /// coefficient is not an integer.
    fn split_power(
        &mut self,
        label_factors: &[(String, BigRational)],
        parts: &[(BigRational, String, Vec<u32>)],
    ) -> N<Option<Alg>> {
        let mut factors = Vec::new();
        for (label, e) in label_factors {
            for (coeff, key, _) in parts {
                let k = coeff * e;
                if !k.is_integer() {
                    return Ok(None);
                }
                let k = small_exponent(&k)
                    .ok_or_else(|| NormError::Budget("exponent too large".into()))?;
                let g = self.gen(GenKind::Power(label.clone(), key.clone()), Sign::Pos);
                factors.push(pow(Alg::Var(g), k));
            }
        }
        Ok(Some(mul(factors)))
    }

    fn power_symbolic(&mut self, b: &Expr, ex: &Expr) -> N<Alg> {
        if let Some(c) = fold_rational(b) {
            if c.is_one() {
                return Ok(num(int(1)));
            }
            if c.is_positive() {
                let (Some(fn_), Some(fd)) = (factor(c.numer()), factor(c.denom())) else {
                    return self.opaque_power(b, ex, Sign::Pos);
                };
                let labels: Vec<(String, BigRational)> = fn_
                    .into_iter()
                    .map(|(p, e)| (p.to_string(), int(e)))
                    .chain(fd.into_iter().map(|(p, e)| (p.to_string(), int(-e))))
                    .collect();
                let (c0, parts) = self.exponent_parts(ex)?;
                if let Some(rest) = self.split_power(&labels, &parts)? {
                    self.rules.insert(Rule::NumericBases);
                    let constant = self.numeric_power(&c, &c0)?;
                    return Ok(mul(vec![constant, rest]));
                }
            }
            return self.opaque_power(b, ex, Sign::Unknown);
        }
        let sb = self.sign_of(b);
        if sb == Sign::Pos {
            // A power of a power of a positive base, `sqrt` and `exp`
            // included: (a^p)^q = a^(p·q), sqrt(a)^q = a^(q/2),
            // exp(a)^q = exp(a·q), for every real p, q.
            let times = |p: Expr| Expr::binary(BinOp::Mul, p, ex.clone());
            match &b.kind {
                ExprKind::Binary(BinOp::Pow, x, p) if self.sign_of(x) == Sign::Pos => {
                    self.rules.insert(Rule::PowerOfPowerPos);
                    return self.power(x, &times((**p).clone()));
                }
                ExprKind::Builtin {
                    op: Builtin::Sqrt,
                    args,
                    ..
                } if args.len() == 1 && self.sign_of(&args[0]) == Sign::Pos => {
                    self.rules.insert(Rule::PowerOfPowerPos);
                    let half = Expr::rational(BigRational::new(1.into(), 2.into()));
                    return self.power(&args[0], &times(half));
                }
                ExprKind::Builtin {
                    op: Builtin::Exp,
                    args,
                    ..
                } if args.len() == 1 => {
                    self.rules.insert(Rule::ExpOfSum);
                    return self.exp(&times(args[0].clone()));
                }
                _ => {}
            }
            match &b.kind {
                ExprKind::Name(x) if !self.roots.contains_key(x) => {
                    let (c0, parts) = self.exponent_parts(ex)?;
                    if let Some(rest) = self.split_power(&[(x.clone(), int(1))], &parts)? {
                        self.rules.insert(Rule::SumExponent);
                        let constant = self.power_q(b, &c0)?;
                        return Ok(mul(vec![constant, rest]));
                    }
                }
                ExprKind::Binary(BinOp::Mul, x, y)
                    if self.sign_of(x) == Sign::Pos && self.sign_of(y) == Sign::Pos =>
                {
                    self.rules.insert(Rule::SymbolicPowerOfProduct);
                    return Ok(mul(vec![
                        self.power_symbolic(x, ex)?,
                        self.power_symbolic(y, ex)?,
                    ]));
                }
                ExprKind::Binary(BinOp::Div, x, y)
                    if self.sign_of(x) == Sign::Pos && self.sign_of(y) == Sign::Pos =>
                {
                    self.rules.insert(Rule::SymbolicPowerOfQuotient);
                    let neg = Expr::new(ExprKind::Neg(Box::new(ex.clone())), ex.span);
                    return Ok(mul(vec![
                        self.power_symbolic(x, ex)?,
                        self.power_symbolic(y, &neg)?,
                    ]));
                }
                ExprKind::Name(_) => {}
                _ => {
                    // Any other positive base: one generator per monomial of
                    // the exponent, labelled by the base's normal form.
                    let label = self.canonical(b)?;
                    let (c0, parts) = self.exponent_parts(ex)?;
                    if let Some(rest) = self.split_power(&[(label, int(1))], &parts)? {
                        self.rules.insert(Rule::SumExponent);
                        let constant = self.power_q(b, &c0)?;
                        return Ok(mul(vec![constant, rest]));
                    }
                }
            }
        }
        let sign = if sb == Sign::Pos {
            Sign::Pos
        } else {
            Sign::Unknown
        };
        self.opaque_power(b, ex, sign)
    }

    fn opaque_power(&mut self, b: &Expr, ex: &Expr, sign: Sign) -> N<Alg> {
        let kb = self.canonical(b)?;
        let ke = self.canonical(ex)?;
        Ok(self.opaque(format!("({kb})^({ke})"), sign))
    }

    fn exp(&mut self, a: &Expr) -> N<Alg> {
        if let Some(c) = fold_rational(a) {
            if c.is_zero() {
                return Ok(num(int(1)));
            }
            if let Some(k) = small_exponent(&c).filter(|k| k.abs() <= 4096) {
                let g = self.gen(GenKind::Power("e".into(), String::new()), Sign::Pos);
                return Ok(pow(Alg::Var(g), k));
            }
            return Ok(self.opaque(format!("exp({c})"), Sign::Pos));
        }
        let (c0, mut parts) = match self.exponent_parts(a) {
            Ok(p) => p,
            Err(NormError::Unsupported(_)) => {
                // An exponent that is not a polynomial: one generator for
                // the whole exponential, keyed by the exponent's normal form.
                let k = self.canonical(a)?;
                return Ok(self.opaque(format!("exp({k})"), Sign::Pos));
            }
            Err(e) => return Err(e),
        };
        // exp(c·m·log(b)) = b^(c·m) for the generator log(b) of a positive b.
        let mut from_logs = Vec::new();
        let mut i = 0;
        while i < parts.len() {
            match self.power_of_log(&parts[i].0, &parts[i].2)? {
                Some(v) => {
                    self.rules.insert(Rule::ExpOfLog);
                    from_logs.push(v);
                    parts.remove(i);
                }
                None => i += 1,
            }
        }
        if !from_logs.is_empty() {
            let rest_exp = self.exp_of_parts(&c0, &parts)?;
            from_logs.push(rest_exp);
            return Ok(mul(from_logs));
        }
        if let Some(rest) = self.split_power(&[("e".to_string(), int(1))], &parts)? {
            self.rules.insert(Rule::ExpOfSum);
            let constant = self.exp(&Expr::rational(c0))?;
            return Ok(mul(vec![constant, rest]));
        }
        let k = self.canonical(a)?;
        Ok(self.opaque(format!("exp({k})"), Sign::Pos))
    }

    /// `exp(c0 + Σ parts)` from the exponent's parts.
    fn exp_of_parts(
        &mut self,
        c0: &BigRational,
        parts: &[(BigRational, String, Vec<u32>)],
    ) -> N<Alg> {
        let constant = self.exp(&Expr::rational(c0.clone()))?;
        if parts.is_empty() {
            return Ok(constant);
        }
        if let Some(rest) = self.split_power(&[("e".to_string(), int(1))], parts)? {
            self.rules.insert(Rule::ExpOfSum);
            return Ok(mul(vec![constant, rest]));
        }
        let key: Vec<String> = parts.iter().map(|(c, k, _)| format!("{c}*{k}")).collect();
        Ok(mul(vec![
            constant,
            self.opaque(format!("exp[{}]", key.join("+")), Sign::Pos),
        ]))
    }

    /// `exp(c·m·log(b))` for a monomial holding the generator `log(b)` of a
    /// positive `b` once, with the rest of the monomial in declared
    /// symbols: `b^(c·m)`.
    fn power_of_log(&mut self, coeff: &BigRational, exps: &[u32]) -> N<Option<Alg>> {
        let Some(j) = exps
            .iter()
            .enumerate()
            .find(|(j, e)| **e == 1 && self.log_args.contains_key(j))
            .map(|(j, _)| j)
        else {
            return Ok(None);
        };
        let base = self.log_args[&j].clone();
        let mut m = Expr::rational(coeff.clone());
        for (i, e) in exps.iter().enumerate() {
            if i == j || *e == 0 {
                continue;
            }
            let GenKind::Symbol(x) = &self.gens[i].kind else {
                return Ok(None);
            };
            m = Expr::binary(
                BinOp::Mul,
                m,
                Expr::binary(BinOp::Pow, Expr::name(x), Expr::int(*e as i64)),
            );
        }
        if let Some(q) = fold_rational(&m) {
            return Ok(Some(self.power_q(&base, &q)?));
        }
        Ok(Some(self.power_symbolic(&base, &m)?))
    }

    /// The monomial a `Power` generator's key names (`g0^1*g2^3`).
    fn monomial_of_key(key: &str) -> Option<Alg> {
        let mut f = Vec::new();
        for part in key.split('*') {
            let (g, e) = part.strip_prefix('g')?.split_once('^')?;
            f.push(pow(Alg::Var(g.parse().ok()?), e.parse().ok()?));
        }
        Some(mul(f))
    }

    /// `log` of one positive generator.
    fn log_of_generator(&mut self, i: usize) -> N<Option<Alg>> {
        if self.gens[i].sign != Sign::Pos {
            return Ok(None);
        }
        let log_key = |k: &str| format!("log({k}|1*)");
        Ok(Some(match self.gens[i].kind.clone() {
            GenKind::Power(label, key) => {
                let Some(m) = Self::monomial_of_key(&key) else {
                    return Ok(None);
                };
                let log_base = if label == "e" {
                    num(int(1))
                } else if let Ok(p) = label.parse::<i64>() {
                    self.log(&Expr::int(p))?
                } else if self.dom.kinds.contains_key(&label) {
                    self.log(&Expr::name(&label))?
                } else {
                    // A base known by its normal form: the key `log` gives it.
                    self.opaque(format!("log({label})"), Sign::Unknown)
                };
                mul(vec![m, log_base])
            }
            GenKind::PrimeRoot(p, d) => {
                let lp = self.log(&Expr::rational(BigRational::from_integer(p)))?;
                mul(vec![num(BigRational::new(1.into(), BigInt::from(d))), lp])
            }
            GenKind::Root(x, l) => {
                let g = self.gen(
                    GenKind::Opaque(log_key(&format!("1*g{i}^{l}"))),
                    Sign::Unknown,
                );
                self.log_args.entry(g).or_insert_with(|| Expr::name(&x));
                mul(vec![
                    num(BigRational::new(1.into(), BigInt::from(l))),
                    Alg::Var(g),
                ])
            }
            GenKind::Symbol(x) => {
                let g = self.gen(
                    GenKind::Opaque(log_key(&format!("1*g{i}^1"))),
                    Sign::Unknown,
                );
                self.log_args.entry(g).or_insert_with(|| Expr::name(&x));
                Alg::Var(g)
            }
            GenKind::Opaque(_) => self.opaque(log_key(&format!("1*g{i}^1")), Sign::Unknown),
        }))
    }

    /// A polynomial as a positive constant, a monomial and a remaining
    /// polynomial of one strict sign (or none).
    fn factor_poly(&mut self, p: &Poly) -> Option<(BigRational, Vec<u32>, Option<Poly>)> {
        if p.terms.len() == 1 {
            let t = &p.terms[0];
            return Some((t.coeff.clone(), t.exps.clone(), None));
        }
        let n = self.gens.len();
        let mut m = vec![u32::MAX; n];
        for t in &p.terms {
            for (i, slot) in m.iter_mut().enumerate() {
                *slot = (*slot).min(t.exps.get(i).copied().unwrap_or(0));
            }
        }
        let mut rest = Poly {
            terms: p
                .terms
                .iter()
                .map(|t| Term {
                    coeff: t.coeff.clone(),
                    exps: (0..n)
                        .map(|i| t.exps.get(i).copied().unwrap_or(0) - m[i])
                        .collect(),
                })
                .collect(),
        };
        let one = Poly {
            terms: vec![Term {
                coeff: BigRational::one(),
                exps: vec![0; n],
            }],
        };
        let s = self.ratfun_sign(&RatFun {
            num: rest.clone(),
            den: one,
        });
        let c = match s {
            Sign::Pos => BigRational::one(),
            Sign::Neg => {
                for t in &mut rest.terms {
                    t.coeff = -t.coeff.clone();
                }
                -BigRational::one()
            }
            _ => return None,
        };
        Some((c, m, Some(rest)))
    }

    /// `log(a)` for a positive `a` whose normal form is a constant times a
    /// monomial of positive generators times polynomials of one strict sign:
    /// the sum of their logs (`log(s/(1 − s)) = t` for `s = sigmoid(t)`).
    fn log_of_factors(&mut self, a: &Expr) -> N<Option<Alg>> {
        let Ok(alg) = self.alg(a) else {
            return Ok(None);
        };
        let Ok(rf) = self.ratfun(&alg) else {
            return Ok(None);
        };
        if let (Some(n), Some(d)) = (rf.num.as_constant(), rf.den.as_constant()) {
            // A constant argument: the log of the number.
            return Ok(Some(self.log(&Expr::rational(n / d))?));
        }
        let (Some((cn, mn, pn)), Some((cd, md, pd))) =
            (self.factor_poly(&rf.num), self.factor_poly(&rf.den))
        else {
            return Ok(None);
        };
        let c = &cn / &cd;
        if !c.is_positive() {
            return Ok(None);
        }
        let net: Vec<i64> = (0..self.gens.len())
            .map(|i| {
                mn.get(i).copied().unwrap_or(0) as i64 - md.get(i).copied().unwrap_or(0) as i64
            })
            .collect();
        let nonzero: Vec<usize> = (0..net.len()).filter(|i| net[*i] != 0).collect();
        // Nothing to split: leave it to the plain generator.
        if pd.is_none()
            && c.is_one()
            && (nonzero.is_empty() || (nonzero.len() == 1 && net[nonzero[0]] == 1 && pn.is_none()))
        {
            return Ok(None);
        }
        if pn.is_some() && pd.is_none() && c.is_one() && nonzero.is_empty() {
            return Ok(None);
        }
        let mut items = Vec::new();
        if !c.is_one() {
            items.push(self.log(&Expr::rational(c))?);
        }
        for i in nonzero {
            let Some(l) = self.log_of_generator(i)? else {
                return Ok(None);
            };
            items.push(mul(vec![num(int(net[i])), l]));
        }
        for (p, sign) in [(pn, 1), (pd, -1)] {
            if let Some(p) = p {
                let g = self.opaque(format!("log({}|1*)", poly_key(&p)), Sign::Unknown);
                items.push(mul(vec![num(int(sign)), g]));
            }
        }
        self.rules.insert(Rule::LogOfFactors);
        Ok(Some(Alg::Add(items)))
    }

    /// The generators `(sin θ, cos θ)` of a base angle.
    fn trig_pair(&mut self, base: &str) -> (usize, usize) {
        let s = self.gen(GenKind::Opaque(format!("sin[{base}]")), Sign::Unknown);
        let c = self.gen(GenKind::Opaque(format!("cos[{base}]")), Sign::Unknown);
        if !self.trig.contains(&(s, c)) {
            self.trig.push((s, c));
        }
        (s, c)
    }

    /// `(cos(qπ), sin(qπ))` exactly, for `q` a multiple of 1/4 or 1/6.
    fn exact_pi_multiple(&mut self, q: &BigRational) -> N<Option<(Alg, Alg)>> {
        let half = || num(BigRational::new(1.into(), 2.into()));
        let r = |me: &mut Self, p: i64| -> N<Alg> {
            let root = me.numeric_power(&int(p), &BigRational::new(1.into(), 2.into()))?;
            Ok(mul(vec![half(), root]))
        };
        let four = q * int(4);
        let six = q * int(6);
        let (re, im) = if four.is_integer() {
            let k = four
                .to_integer()
                .mod_floor(&BigInt::from(8))
                .to_i64()
                .unwrap_or(0);
            let cos = [1, 2, 0, -2, -1, -2, 0, 2];
            let sin = [0, 2, 1, 2, 0, -2, -1, -2];
            // 2 stands for √2/2 with the sign of the entry.
            let value = |me: &mut Self, v: i64| -> N<Alg> {
                Ok(match v {
                    2 => r(me, 2)?,
                    -2 => mul(vec![num(int(-1)), r(me, 2)?]),
                    v => num(int(v)),
                })
            };
            (value(self, cos[k as usize])?, value(self, sin[k as usize])?)
        } else if six.is_integer() {
            let k = six
                .to_integer()
                .mod_floor(&BigInt::from(12))
                .to_i64()
                .unwrap_or(0);
            // 3 stands for √3/2, 5 for 1/2, with signs.
            let cos = [1, 3, 5, 0, -5, -3, -1, -3, -5, 0, 5, 3];
            let sin = [0, 5, 3, 1, 3, 5, 0, -5, -3, -1, -3, -5];
            let value = |me: &mut Self, v: i64| -> N<Alg> {
                Ok(match v {
                    3 => r(me, 3)?,
                    -3 => mul(vec![num(int(-1)), r(me, 3)?]),
                    5 => half(),
                    -5 => num(BigRational::new((-1).into(), 2.into())),
                    v => num(int(v)),
                })
            };
            (value(self, cos[k as usize])?, value(self, sin[k as usize])?)
        } else {
            return Ok(None);
        };
        Ok(Some((re, im)))
    }

    /// `sin`, `cos`, `tan` of a polynomial argument: the argument split into
    /// monomials (a rational multiple of a base angle each), each written
    /// through the sine and cosine of its base angle by the multiple-angle
    /// and angle-addition formulas; multiples of π/4 and π/6 exactly.
    /// `None` when the argument is not a polynomial or over the budget.
    fn trig(&mut self, op: Builtin, arg: &Expr) -> N<Option<Alg>> {
        let Ok((c0, parts)) = self.exponent_parts(arg) else {
            return Ok(None);
        };
        if parts.len() > TRIG_TERMS {
            return Ok(None);
        }
        let pi = self
            .index
            .get(&gen_key(&GenKind::Opaque("pi".into())))
            .copied();
        let mut acc = (num(int(1)), num(int(0)));
        let mut angles: Vec<(BigRational, String)> = Vec::new();
        if !c0.is_zero() {
            angles.push((c0, "1".to_string()));
        }
        let mut rewritten = false;
        for (coeff, key, exps) in parts {
            let is_pi = pi.is_some_and(|p| {
                exps.iter()
                    .enumerate()
                    .all(|(i, e)| if i == p { *e == 1 } else { *e == 0 })
            });
            if is_pi {
                if let Some(v) = self.exact_pi_multiple(&coeff)? {
                    self.rules.insert(Rule::TrigExactValues);
                    acc = complex_mul(acc, v);
                    rewritten = true;
                    continue;
                }
            }
            angles.push((coeff, key));
        }
        if angles.len() > 1 {
            rewritten = true;
        }
        for (coeff, key) in angles {
            let q = coeff.denom().clone();
            let Some(p) = coeff
                .numer()
                .to_i64()
                .filter(|p| p.unsigned_abs() <= TRIG_MULTIPLE)
            else {
                return Ok(None);
            };
            if p != 1 {
                rewritten = true;
            }
            let base = if q.is_one() {
                key
            } else {
                format!("({key})/{q}")
            };
            let (s, c) = self.trig_pair(&base);
            acc = complex_mul(acc, multiple_angle(p, s, c));
        }
        if rewritten {
            self.rules.insert(Rule::TrigExpansion);
        }
        Ok(Some(match op {
            Builtin::Sin => acc.1,
            Builtin::Cos => acc.0,
            _ => {
                self.rules.insert(Rule::TanAsQuotient);
                mul(vec![acc.1, pow(acc.0, -1)])
            }
        }))
    }

    /// `p` reduced modulo `sin² + cos² = 1` for every pair: each `sin^e`
    /// with `e >= 2` written `sin^(e mod 2)·(1 − cos²)^(e div 2)`, so two
    /// polynomials equal on the circle reduce to the same one.
    fn reduce_circle(&mut self, p: Poly) -> N<Poly> {
        let mut p = p;
        for (s, c) in self.trig.clone() {
            if !p
                .terms
                .iter()
                .any(|t| t.exps.get(s).is_some_and(|e| *e >= 2))
            {
                continue;
            }
            self.rules.insert(Rule::PythagoreanIdentity);
            let mut acc: BTreeMap<Vec<u32>, BigRational> = BTreeMap::new();
            for t in p.terms {
                let e = t.exps.get(s).copied().unwrap_or(0);
                if e < 2 || c >= t.exps.len() {
                    *acc.entry(t.exps).or_insert_with(BigRational::zero) += t.coeff;
                    continue;
                }
                let m = e / 2;
                let mut binom = BigInt::one();
                for j in 0..=m {
                    let mut exps = t.exps.clone();
                    exps[s] = e % 2;
                    exps[c] += 2 * j;
                    let sign = if j % 2 == 0 { int(1) } else { int(-1) };
                    *acc.entry(exps).or_insert_with(BigRational::zero) +=
                        &t.coeff * BigRational::from_integer(binom.clone()) * sign;
                    binom = binom * BigInt::from(m - j) / BigInt::from(j + 1);
                }
                if acc.len() as u64 > crate::config::Budgets::DEFAULT.cas_terms {
                    return Err(NormError::Budget(
                        "reducing by sin² + cos² = 1 produced too many terms".into(),
                    ));
                }
            }
            p = Poly {
                terms: acc
                    .into_iter()
                    .filter(|(_, c)| !c.is_zero())
                    .map(|(exps, coeff)| Term { coeff, exps })
                    .collect(),
            };
        }
        Ok(p)
    }

    fn opaque(&mut self, key: String, sign: Sign) -> Alg {
        Alg::Var(self.gen(GenKind::Opaque(key), sign))
    }

    /// A canonical text for an expression's value: its normalized rational function.
    fn canonical(&mut self, e: &Expr) -> N<String> {
        let a = self.alg(e)?;
        let rf = self.ratfun(&a)?;
        Ok(format!("{}|{}", poly_key(&rf.num), poly_key(&rf.den)))
    }

    fn builtin(&mut self, whole: &Expr, op: Builtin, args: &[Expr]) -> N<Alg> {
        let name = op.name();
        if let Some(defined) = crate::syntax::expr::exp_form(op, args) {
            self.rules.insert(Rule::ExpDefinition);
            return self.alg(&defined);
        }
        match op {
            Builtin::Pi => Ok(self.opaque("pi".to_string(), Sign::Pos)),
            Builtin::Sin | Builtin::Cos | Builtin::Tan => {
                if let Some(v) = self.trig(op, &args[0])? {
                    return Ok(v);
                }
                let k = self.canonical(&args[0])?;
                Ok(self.opaque(format!("{name}({k})"), Sign::Unknown))
            }
            Builtin::Sigmoid
            | Builtin::Softplus
            | Builtin::Sinh
            | Builtin::Cosh
            | Builtin::Tanh
            | Builtin::E => unreachable!("defined through exp"),
            Builtin::Sqrt => self.rational_power(&args[0], &BigRational::new(1.into(), 2.into())),
            Builtin::Abs => self.abs(&args[0]),
            Builtin::Sign => self.sign_fn(&args[0]),
            Builtin::Exp => self.exp(&args[0]),
            Builtin::Log => self.log(&args[0]),
            Builtin::Factorial => {
                // n! of a constant is its value; otherwise one generator
                // per argument's normal form (positive where defined).
                if let Some(c) = fold_rational(&args[0]) {
                    if let Some(v) = crate::exact::eval::factorial_of(&c) {
                        return Ok(num(v));
                    }
                }
                // (a + c)! = (a + 1)···(a + c)·a! for an integer a >= 0 and
                // a constant integer 0 < c <= 64.
                if let ExprKind::Binary(BinOp::Add, a, b) = &args[0].kind {
                    for (base, shift) in [(a, b), (b, a)] {
                        let Some(c) = fold_rational(shift).filter(|c| c.is_integer()) else {
                            continue;
                        };
                        let Some(c) = c.to_integer().to_u32().filter(|c| (1..=64).contains(c))
                        else {
                            continue;
                        };
                        if self.integer_valued(base) && self.sign_of(base).nonneg() {
                            self.rules.insert(Rule::FactorialShift);
                            let mut parts = vec![self.builtin(
                                whole,
                                Builtin::Factorial,
                                std::slice::from_ref(&**base),
                            )?];
                            for i in 1..=c {
                                parts.push(self.alg(&Expr::binary(
                                    BinOp::Add,
                                    (**base).clone(),
                                    Expr::int(i64::from(i)),
                                ))?);
                            }
                            return Ok(mul(parts));
                        }
                    }
                }
                let k = self.canonical(&args[0])?;
                Ok(self.opaque(format!("{name}({k})"), Sign::Pos))
            }
            Builtin::Floor | Builtin::Ceil => {
                if let Some(c) = fold_rational(&args[0]) {
                    return Ok(num(if op == Builtin::Floor {
                        c.floor()
                    } else {
                        c.ceil()
                    }));
                }
                if self.integer_valued(&args[0]) {
                    self.rules.insert(Rule::FloorOfInteger);
                    return self.alg(&args[0]);
                }
                let k = self.canonical(&args[0])?;
                Ok(self.opaque(format!("{name}({k})"), Sign::Unknown))
            }
            Builtin::Step => {
                let s = self.sign_of(&args[0]);
                if s.nonneg() {
                    self.rules.insert(Rule::StepResolved);
                    return Ok(num(int(1)));
                }
                if s == Sign::Neg {
                    self.rules.insert(Rule::StepResolved);
                    return Ok(num(int(0)));
                }
                let k = self.canonical(&args[0])?;
                Ok(self.opaque(format!("step({k})"), Sign::NonNeg))
            }
            Builtin::Min | Builtin::Max => {
                let mut acc = args[0].clone();
                for next in &args[1..] {
                    let s = self.sign_of(&sub_expr(&acc, next));
                    let take_acc = if op == Builtin::Min {
                        s.nonpos()
                    } else {
                        s.nonneg()
                    };
                    let take_next = if op == Builtin::Min {
                        s.nonneg()
                    } else {
                        s.nonpos()
                    };
                    if take_acc {
                        self.rules.insert(Rule::MinMaxResolved);
                    } else if take_next {
                        self.rules.insert(Rule::MinMaxResolved);
                        acc = next.clone();
                    } else {
                        let k = self.canonical(whole)?;
                        return Ok(self.opaque(format!("{name}({k})"), Sign::Unknown));
                    }
                }
                self.alg(&acc)
            }
            Builtin::If => match self.decide(&args[0]) {
                Some(true) => {
                    self.rules.insert(Rule::IfResolved);
                    self.alg(&args[1])
                }
                Some(false) => {
                    self.rules.insert(Rule::IfResolved);
                    self.alg(&args[2])
                }
                None => Err(NormError::Unsupported(format!(
                    "the condition `{}` is not decided by the domain",
                    args[0]
                ))),
            },
            Builtin::Sum | Builtin::Prod => {
                let ExprKind::Name(k) = &args[0].kind else {
                    return Err(NormError::Unsupported("a sum needs an index".into()));
                };
                // A sum whose body does not involve its index is the body times
                // the number of terms, when that number is known to be >= 0
                // (a range with hi < lo − 1 is empty, not of negative size).
                let mut body_names = Vec::new();
                crate::resolve::names_in(&args[3], &mut body_names);
                if op == Builtin::Sum
                    && !body_names.contains(k)
                    && self.integer_valued(&args[1])
                    && self.integer_valued(&args[2])
                    && (fold_rational(&args[1]).is_none() || fold_rational(&args[2]).is_none())
                {
                    let size = count_of(&args[1], &args[2]);
                    if self.sign_of(&size).nonneg() {
                        self.rules.insert(Rule::ConstantSum);
                        return self.alg(&Expr::binary(BinOp::Mul, size, args[3].clone()));
                    }
                }
                let (Some(lo), Some(hi)) = (fold_rational(&args[1]), fold_rational(&args[2]))
                else {
                    if op == Builtin::Sum {
                        return self.linear_sum(k, &args[1], &args[2], &args[3]);
                    }
                    return Err(NormError::Unsupported(
                        "products with symbolic bounds are not supported yet".into(),
                    ));
                };
                if !lo.is_integer() || !hi.is_integer() {
                    return Err(NormError::Unsupported(
                        "a sum's bounds must be integers".into(),
                    ));
                }
                let (lo, hi) = (lo.to_integer(), hi.to_integer());
                let mut items = Vec::new();
                if hi >= lo {
                    let count = (&hi - &lo + 1u32).to_u64().unwrap_or(u64::MAX);
                    if count > EXPANDED_SUM_TERMS {
                        return Err(NormError::Budget(format!(
                            "a sum of {count} terms is over the budget of {EXPANDED_SUM_TERMS} terms for symbolic expansion"
                        )));
                    }
                    let mut i = lo;
                    while i <= hi {
                        let mut map = BTreeMap::new();
                        map.insert(
                            k.clone(),
                            Expr::rational(BigRational::from_integer(i.clone())),
                        );
                        let body = crate::resolve::expand::substitute(&args[3], &map);
                        items.push(self.alg(&body)?);
                        i += 1;
                    }
                }
                self.rules.insert(Rule::SumsExpanded);
                Ok(if op == Builtin::Sum {
                    Alg::Add(items)
                } else {
                    Alg::Mul(items)
                })
            }
            Builtin::Diff | Builtin::Integral => {
                // Our own calculus writes the derivative (or F(b) − F(a)) as
                // an expression, which is then normalized like any other.
                let mut calc = crate::symbolic::calculus::Calculus::new(
                    self.dom,
                    crate::symbolic::calculus::DERIVATIVE_NODES,
                    &JUDGE,
                );
                let value = calc.eliminate(whole)?;
                self.rules.extend(calc.rules);
                self.alg(&value)
            }
            Builtin::Trace
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
            | Builtin::Std => Err(NormError::Unsupported(format!(
                "`{name}` is not supported by the scalar engine yet"
            ))),
        }
    }

    /// `sum(k, lo, hi, body)` over a symbolic range, split linearly: the
    /// body's terms (products distributed, small powers of sums expanded,
    /// inner sums over symbolic ranges split first) each become a factor
    /// free of `k` times the sum of the rest; a term free of `k` is
    /// `(hi − lo + 1)` times itself when that count is known to be >= 0.
    /// Each remaining sum is one generator keyed by its range and the
    /// normal form of its body with `k` renamed canonically, so sums that
    /// differ only in the name of their index are one generator. A body
    /// whose normal form is 0 makes the sum 0.
    fn linear_sum(&mut self, k: &str, lo: &Expr, hi: &Expr, body: &Expr) -> N<Alg> {
        if !self.integer_valued(lo) || !self.integer_valued(hi) {
            return Err(NormError::Unsupported(
                "a sum's bounds must be integer-valued".into(),
            ));
        }
        if self.binders.len() >= 8 {
            return Err(NormError::Budget(
                "sums nested more than 8 deep over symbolic ranges".into(),
            ));
        }
        if self.sum_body_is_zero(k, body) {
            self.rules.insert(Rule::SumsLinear);
            return Ok(num(int(0)));
        }
        let body = linearize_sums(body, &mut |e| self.sign_of(e).nonneg())?;
        let terms = expand_terms(&body, SUM_SPLIT_TERMS)?;
        let count = count_of(lo, hi);
        let mut out = Vec::new();
        for (c, factors) in terms {
            let (dep, free): (Vec<Expr>, Vec<Expr>) =
                factors.into_iter().partition(|f| mentions_name(f, k));
            let mut parts = vec![num(c)];
            for f in &free {
                parts.push(self.alg(f)?);
            }
            if dep.is_empty() {
                if !self.sign_of(&count).nonneg() {
                    return Err(NormError::Unsupported(format!(
                        "the number of terms `{count}` of a sum is not known to be >= 0"
                    )));
                }
                parts.push(self.alg(&count)?);
            } else {
                let f = product_of(dep);
                parts.push(self.sum_generator(k, lo, hi, &f)?);
            }
            out.push(mul(parts));
        }
        self.rules.insert(Rule::SumsLinear);
        Ok(Alg::Add(out))
    }

    /// Does the body of a sum normalize to 0 (its index renamed)?
    fn sum_body_is_zero(&mut self, k: &str, body: &Expr) -> bool {
        self.under_binder(k, body, |n, renamed| {
            n.alg(renamed).and_then(|a| n.ratfun(&a))
        })
        .is_ok_and(|rf| rf.num.is_zero())
    }

    /// `f` applied to `e` with the index `k` renamed to the next canonical
    /// binder, which is known (as an integer symbol) while `f` runs.
    fn under_binder<T>(&mut self, k: &str, e: &Expr, f: impl FnOnce(&mut Self, &Expr) -> T) -> T {
        let name = format!("#ι{}", self.binders.len());
        let mut map = BTreeMap::new();
        map.insert(k.to_string(), Expr::name(&name));
        let renamed = crate::resolve::expand::substitute(e, &map);
        self.binders.push(name);
        let r = f(self, &renamed);
        self.binders.pop();
        r
    }

    /// The generator of `sum(k, lo, hi, f)`, `f` not split further.
    fn sum_generator(&mut self, k: &str, lo: &Expr, hi: &Expr, f: &Expr) -> N<Alg> {
        let (lo_key, hi_key) = (self.canonical(lo)?, self.canonical(hi)?);
        let body_key = self.under_binder(k, f, |n, renamed| n.canonical(renamed));
        let key = format!("sum[{lo_key}..{hi_key}]{{{}}}", body_key?);
        Ok(self.opaque(key, Sign::Unknown))
    }

    /// `l − r` with the sums over one symbolic range that appear linearly
    /// (a sum times factors free of its index) fused into one sum, so that
    /// `Σ a(i) − Σ (b(i) − c(i))` with `a = b − c` is `Σ 0`; `None` when no
    /// two such sums share a range.
    pub(crate) fn fused_difference(&mut self, l: &Expr, r: &Expr) -> N<Option<Expr>> {
        // Most steps have no sum over a symbolic range: nothing to fuse.
        let symbolic_range = |e: &Expr| {
            let mut found = false;
            e.walk(&mut |x| found |= is_symbolic_range_sum(x));
            found
        };
        if !symbolic_range(l) && !symbolic_range(r) {
            return Ok(None);
        }
        let d = Expr::binary(BinOp::Sub, l.clone(), r.clone());
        // Derivatives written out first: `diff(Σ …, x)` is a sum too.
        let mut calc = crate::symbolic::calculus::Calculus::new(
            self.dom,
            crate::symbolic::calculus::DERIVATIVE_NODES,
            &JUDGE,
        );
        let d = calc.eliminate(&d)?;
        self.rules.extend(calc.rules);
        let terms = expand_terms(&d, SUM_SPLIT_TERMS)?;
        let mut rest: Vec<Expr> = Vec::new();
        // One group per range: its keys, bounds and scaled bodies.
        type Group = ((String, String), Expr, Expr, Vec<Expr>);
        let mut groups: Vec<Group> = Vec::new();
        for (c, factors) in terms {
            let sums: Vec<usize> = (0..factors.len())
                .filter(|&i| is_symbolic_range_sum(&factors[i]))
                .collect();
            let whole = |c: BigRational, f: Vec<Expr>| {
                let mut t = vec![Expr::rational(c)];
                t.extend(f);
                product_of(t)
            };
            let [at] = sums.as_slice() else {
                rest.push(whole(c, factors));
                continue;
            };
            let Some((_, a)) = factors[*at].as_builtin() else {
                rest.push(whole(c, factors));
                continue;
            };
            let ExprKind::Name(k) = &a[0].kind else {
                rest.push(whole(c, factors));
                continue;
            };
            let others: Vec<Expr> = (0..factors.len())
                .filter(|i| i != at)
                .map(|i| factors[i].clone())
                .collect();
            if others.iter().any(|f| mentions_name(f, k)) {
                rest.push(whole(c, factors));
                continue;
            }
            let range = (self.canonical(&a[1])?, self.canonical(&a[2])?);
            let mut map = BTreeMap::new();
            map.insert(k.clone(), Expr::name("#φ"));
            let mut term = others;
            term.push(crate::resolve::expand::substitute(&a[3], &map));
            let scaled = whole(c, term);
            match groups.iter_mut().find(|g| g.0 == range) {
                Some(g) => g.3.push(scaled),
                None => groups.push((range, a[1].clone(), a[2].clone(), vec![scaled])),
            }
        }
        if !groups.iter().any(|g| g.3.len() > 1) {
            return Ok(None);
        }
        let mut parts = rest;
        for (_, lo, hi, bodies) in groups {
            parts.push(Expr::builtin(
                Builtin::Sum,
                vec![Expr::name("#φ"), lo, hi, sum_of(bodies)],
            ));
        }
        Ok(Some(sum_of(parts)))
    }

    fn integer_valued(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Number(q) => q.is_integer(),
            ExprKind::Name(x) => {
                self.dom.kinds.get(x).is_some_and(|k| k.is_integer())
                    || self.binders.iter().any(|b| b == x)
            }
            ExprKind::Neg(a) => self.integer_valued(a),
            ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul, a, b) => {
                self.integer_valued(a) && self.integer_valued(b)
            }
            ExprKind::Binary(BinOp::Pow, a, b) => {
                self.integer_valued(a)
                    && fold_rational(b).is_some_and(|k| k.is_integer() && !k.is_negative())
            }
            ExprKind::Builtin {
                op: Builtin::Floor | Builtin::Ceil,
                ..
            } => true,
            _ => false,
        }
    }

    fn abs(&mut self, a: &Expr) -> N<Alg> {
        let s = self.sign_of(a);
        if s.nonneg() {
            self.rules.insert(Rule::AbsOfNonneg);
            return self.alg(a);
        }
        if s.nonpos() {
            self.rules.insert(Rule::AbsOfNonpos);
            return Ok(mul(vec![num(int(-1)), self.alg(a)?]));
        }
        match &a.kind {
            ExprKind::Neg(x) => self.abs(x),
            ExprKind::Binary(BinOp::Mul, x, y) => {
                self.rules.insert(Rule::AbsOfProduct);
                Ok(mul(vec![self.abs(x)?, self.abs(y)?]))
            }
            ExprKind::Binary(BinOp::Div, x, y) => {
                self.rules.insert(Rule::AbsOfQuotient);
                Ok(mul(vec![self.abs(x)?, pow(self.abs(y)?, -1)]))
            }
            ExprKind::Binary(BinOp::Pow, x, k)
                if fold_rational(k).is_some_and(|k| k.is_integer()) =>
            {
                let k = fold_rational(k).expect("checked");
                let abs_x = Expr::builtin(Builtin::Abs, vec![(**x).clone()]);
                self.power_q(&abs_x, &k)
            }
            _ => {
                let k = self.canonical(a)?;
                let sign = if s.nonzero() { Sign::Pos } else { Sign::NonNeg };
                Ok(self.opaque(format!("abs({k})"), sign))
            }
        }
    }

    fn sign_fn(&mut self, a: &Expr) -> N<Alg> {
        let s = self.sign_of(a);
        match s {
            Sign::Pos => {
                self.rules.insert(Rule::SignResolved);
                return Ok(num(int(1)));
            }
            Sign::Neg => {
                self.rules.insert(Rule::SignResolved);
                return Ok(num(int(-1)));
            }
            Sign::Zero => return Ok(num(int(0))),
            _ => {}
        }
        match &a.kind {
            ExprKind::Neg(x) => Ok(mul(vec![num(int(-1)), self.sign_fn(x)?])),
            ExprKind::Binary(BinOp::Mul | BinOp::Div, x, y) => {
                self.rules.insert(Rule::SignOfProduct);
                Ok(mul(vec![self.sign_fn(x)?, self.sign_fn(y)?]))
            }
            _ => {
                let k = self.canonical(a)?;
                let sign = if s.nonzero() {
                    Sign::NonZero
                } else {
                    Sign::Unknown
                };
                Ok(self.opaque(format!("sign({k})"), sign))
            }
        }
    }

    fn log(&mut self, a: &Expr) -> N<Alg> {
        if let Some(defined) = a
            .as_builtin()
            .and_then(|(op, args)| crate::syntax::expr::exp_form(op, args))
        {
            self.rules.insert(Rule::ExpDefinition);
            return self.log(&defined);
        }
        if let Some(c) = fold_rational(a) {
            if !c.is_positive() {
                return Err(NormError::Undefined(format!(
                    "log of the nonpositive number {c}"
                )));
            }
            if c.is_one() {
                return Ok(num(BigRational::zero()));
            }
            let (Some(fn_), Some(fd)) = (factor(c.numer()), factor(c.denom())) else {
                return Ok(self.opaque(format!("log({c})"), Sign::of(&(c - int(1)))));
            };
            self.rules.insert(Rule::LogOfNumber);
            let mut items = Vec::new();
            for (p, e) in fn_.into_iter().chain(fd.into_iter().map(|(p, e)| (p, -e))) {
                let g = self.opaque(format!("log({p})"), Sign::Pos);
                items.push(mul(vec![num(int(e)), g]));
            }
            return Ok(Alg::Add(items));
        }
        let s = self.sign_of(a);
        if s == Sign::Pos {
            match &a.kind {
                ExprKind::Binary(BinOp::Mul, x, y)
                    if self.sign_of(x) == Sign::Pos && self.sign_of(y) == Sign::Pos =>
                {
                    self.rules.insert(Rule::LogOfProduct);
                    return Ok(Alg::Add(vec![self.log(x)?, self.log(y)?]));
                }
                ExprKind::Binary(BinOp::Div, x, y)
                    if self.sign_of(x) == Sign::Pos && self.sign_of(y) == Sign::Pos =>
                {
                    self.rules.insert(Rule::LogOfQuotient);
                    return Ok(Alg::sub(self.log(x)?, self.log(y)?));
                }
                ExprKind::Binary(BinOp::Pow, x, k) if self.sign_of(x) == Sign::Pos => {
                    self.rules.insert(Rule::LogOfPower);
                    return Ok(mul(vec![self.alg(k)?, self.log(x)?]));
                }
                ExprKind::Builtin {
                    op: Builtin::Sqrt,
                    args,
                    ..
                } if self.sign_of(&args[0]) == Sign::Pos => {
                    self.rules.insert(Rule::LogOfPower);
                    return Ok(mul(vec![
                        num(BigRational::new(1.into(), 2.into())),
                        self.log(&args[0])?,
                    ]));
                }
                ExprKind::Builtin {
                    op: Builtin::Exp,
                    args,
                    ..
                } => {
                    self.rules.insert(Rule::LogOfExp);
                    return self.alg(&args[0]);
                }
                _ => {}
            }
        }
        if let Some(v) = self.log_of_factors(a)? {
            return Ok(v);
        }
        let k = self.canonical(a)?;
        let g = self.gen(GenKind::Opaque(format!("log({k})")), Sign::Unknown);
        if s == Sign::Pos {
            self.log_args.entry(g).or_insert_with(|| a.clone());
        }
        Ok(Alg::Var(g))
    }

    /// Decides a condition from the domain alone, if it can.
    pub(crate) fn decide(&mut self, cond: &Expr) -> Option<bool> {
        match &cond.kind {
            ExprKind::And(parts) => {
                let mut all = true;
                for p in parts {
                    match self.decide(p)? {
                        true => {}
                        false => all = false,
                    }
                }
                Some(all)
            }
            ExprKind::Compare(items, ops) => {
                let mut all = true;
                for (i, op) in ops.iter().enumerate() {
                    let s = self.sign_of(&sub_expr(&items[i + 1], &items[i]));
                    let truth = match op {
                        RelOp::Le => s.nonneg().then_some(true).or(if s == Sign::Neg {
                            Some(false)
                        } else {
                            None
                        }),
                        RelOp::Lt => (s == Sign::Pos).then_some(true).or(if s.nonpos() {
                            Some(false)
                        } else {
                            None
                        }),
                        RelOp::Ge => s.nonpos().then_some(true).or(if s == Sign::Pos {
                            Some(false)
                        } else {
                            None
                        }),
                        RelOp::Gt => (s == Sign::Neg).then_some(true).or(if s.nonneg() {
                            Some(false)
                        } else {
                            None
                        }),
                        RelOp::Eq => (s == Sign::Zero).then_some(true).or(if s.nonzero() {
                            Some(false)
                        } else {
                            None
                        }),
                        RelOp::Ne => s.nonzero().then_some(true).or(if s == Sign::Zero {
                            Some(false)
                        } else {
                            None
                        }),
                        RelOp::Approx => None,
                    }?;
                    all &= truth;
                }
                Some(all)
            }
            _ => None,
        }
    }

    /// The CAS's canonical rational function of `a`, with powers of prime
    /// roots reduced (`(2^(1/2))^2 = 2`) in the numerator.
    pub(crate) fn ratfun(&mut self, a: &Alg) -> N<RatFun> {
        let mut rf = cas::rational_function(a, self.gens.len())?;
        rf.num = self.reduce_prime_roots(rf.num);
        if !self.trig.is_empty() {
            rf.num = self.reduce_circle(rf.num)?;
            rf.den = self.reduce_circle(rf.den)?;
            if rf.den.is_zero() {
                return Err(NormError::Undefined(
                    "a denominator vanishes everywhere (by sin² + cos² = 1)".into(),
                ));
            }
        }
        Ok(rf)
    }

    fn reduce_prime_roots(&self, p: Poly) -> Poly {
        let roots: Vec<(usize, BigInt, u32)> = self
            .gens
            .iter()
            .enumerate()
            .filter_map(|(i, g)| match &g.kind {
                GenKind::PrimeRoot(p, d) => Some((i, p.clone(), *d)),
                _ => None,
            })
            .collect();
        if roots.is_empty() {
            return p;
        }
        let mut acc: BTreeMap<Vec<u32>, BigRational> = BTreeMap::new();
        for mut t in p.terms {
            for (i, prime, d) in &roots {
                if let Some(e) = t.exps.get_mut(*i) {
                    if *e >= *d {
                        let whole = *e / *d;
                        *e %= *d;
                        t.coeff *= BigRational::from_integer(num_traits::pow(
                            prime.clone(),
                            whole as usize,
                        ));
                    }
                }
            }
            *acc.entry(t.exps).or_insert_with(BigRational::zero) += t.coeff;
        }
        Poly {
            terms: acc
                .into_iter()
                .filter(|(_, c)| !c.is_zero())
                .map(|(exps, coeff)| Term { coeff, exps })
                .collect(),
        }
    }

    /// What the domain says about the sign of `e`.
    pub(crate) fn sign_of(&mut self, e: &Expr) -> Sign {
        let s = self.structural_sign(e);
        if matches!(s, Sign::Pos | Sign::Neg | Sign::Zero) {
            return s;
        }
        if let ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) = &e.kind {
            if self.depth < 200 {
                self.depth += 1;
                let r = self.alg(e).and_then(|a| self.ratfun(&a));
                self.depth -= 1;
                if let Ok(rf) = r {
                    let t = self.ratfun_sign(&rf);
                    if t != Sign::Unknown {
                        return t;
                    }
                }
            }
        }
        if s == Sign::Unknown && self.nonzero_by_condition(e) {
            return Sign::NonZero;
        }
        s
    }

    /// Does a condition `p != q` of the domain say `e != 0`: `e` is `p − q`
    /// or `q − p` as parsed (compared structurally, spans aside), or `p`
    /// itself when `q` is 0?
    fn nonzero_by_condition(&self, e: &Expr) -> bool {
        let any_ne = self
            .dom
            .other
            .iter()
            .any(|c| matches!(&c.kind, ExprKind::Compare(_, ops) if ops.contains(&RelOp::Ne)));
        if !any_ne {
            return false;
        }
        let shown = e.to_string();
        let neg = match &e.kind {
            ExprKind::Binary(BinOp::Sub, a, b) => Some(format!(
                "{}",
                Expr::binary(BinOp::Sub, (**b).clone(), (**a).clone())
            )),
            _ => None,
        };
        self.dom.other.iter().any(|c| {
            let ExprKind::Compare(items, ops) = &c.kind else {
                return false;
            };
            ops.iter().enumerate().any(|(i, op)| {
                if *op != RelOp::Ne {
                    return false;
                }
                let (p, q) = (&items[i], &items[i + 1]);
                let zero = |x: &Expr| fold_rational(x).is_some_and(|v| v.is_zero());
                let diff = Expr::binary(BinOp::Sub, p.clone(), q.clone()).to_string();
                (zero(q) && p.to_string() == shown)
                    || (zero(p) && q.to_string() == shown)
                    || diff == shown
                    || neg.as_ref() == Some(&diff)
            })
        })
    }

    fn structural_sign(&mut self, e: &Expr) -> Sign {
        match &e.kind {
            ExprKind::Number(q) => Sign::of(q),
            ExprKind::Name(x) => {
                if self.dom.kinds.contains_key(x) {
                    self.dom.symbol_sign(x)
                } else {
                    Sign::Unknown
                }
            }
            ExprKind::Neg(a) => self.sign_of(a).neg(),
            ExprKind::Binary(op, a, b) => {
                let sa = self.sign_of(a);
                match op {
                    BinOp::Add => sa.add(self.sign_of(b)),
                    BinOp::Sub => sa.add(self.sign_of(b).neg()),
                    BinOp::Mul => sa.mul(self.sign_of(b)),
                    BinOp::Div => {
                        // Where the quotient is defined the divisor is nonzero.
                        let sb = match self.sign_of(b) {
                            Sign::NonNeg => Sign::Pos,
                            Sign::NonPos => Sign::Neg,
                            other => other,
                        };
                        sa.mul(sb)
                    }
                    BinOp::Pow => match fold_rational(b) {
                        Some(k) if k.is_integer() => {
                            if k.is_zero() {
                                Sign::Pos
                            } else if k.to_integer().is_even() {
                                if sa.nonzero() {
                                    Sign::Pos
                                } else {
                                    Sign::NonNeg
                                }
                            } else {
                                sa
                            }
                        }
                        Some(r) => {
                            // A root: nonnegative for an even root (defined only
                            // for a nonnegative base); an odd root keeps the
                            // base's sign, unless the numerator is even.
                            if sa == Sign::Pos {
                                Sign::Pos
                            } else if sa.nonneg() || r.denom().is_even() || r.numer().is_even() {
                                Sign::NonNeg
                            } else {
                                sa
                            }
                        }
                        None => {
                            if sa == Sign::Pos {
                                Sign::Pos
                            } else {
                                Sign::Unknown
                            }
                        }
                    },
                }
            }
            ExprKind::Builtin { op, args, .. } => match op {
                Builtin::Sqrt => {
                    if self.sign_of(&args[0]) == Sign::Pos {
                        Sign::Pos
                    } else {
                        Sign::NonNeg
                    }
                }
                Builtin::Abs => {
                    if self.sign_of(&args[0]).nonzero() {
                        Sign::Pos
                    } else {
                        Sign::NonNeg
                    }
                }
                // `e`, `pi`, `sigmoid`, `softplus`, `cosh` are positive too.
                Builtin::Exp
                | Builtin::E
                | Builtin::Pi
                | Builtin::Sigmoid
                | Builtin::Softplus
                | Builtin::Cosh => Sign::Pos,
                Builtin::Step => Sign::NonNeg,
                Builtin::Sign => self.sign_of(&args[0]),
                Builtin::Floor => {
                    if self.sign_of(&args[0]).nonneg() {
                        Sign::NonNeg
                    } else {
                        Sign::Unknown
                    }
                }
                Builtin::Ceil => {
                    let s = self.sign_of(&args[0]);
                    if s == Sign::Pos {
                        Sign::Pos
                    } else if s.nonneg() {
                        Sign::NonNeg
                    } else {
                        Sign::Unknown
                    }
                }
                _ => Sign::Unknown,
            },
            _ => Sign::Unknown,
        }
    }

    /// Are the numerator and the denominator each of one strict sign
    /// (never zero on the domain)? Returns the quotient's sign if so.
    pub(crate) fn ratfun_strict_sign(&mut self, rf: &RatFun) -> Option<Sign> {
        let strict = |s: Sign| matches!(s, Sign::Pos | Sign::Neg);
        let one = Poly {
            terms: vec![Term {
                coeff: BigRational::one(),
                exps: vec![0; self.gens.len()],
            }],
        };
        let n = self.ratfun_sign(&RatFun {
            num: rf.num.clone(),
            den: one.clone(),
        });
        let d = self.ratfun_sign(&RatFun {
            num: rf.den.clone(),
            den: one,
        });
        (strict(n) && strict(d)).then(|| n.mul(d))
    }

    /// The sign of a rational function over the generators, trying the
    /// generators' own signs and then the domain's bounds as shifts. The
    /// denominator counts as nonzero: where the step's sides are defined it is.
    pub(crate) fn ratfun_sign(&mut self, rf: &RatFun) -> Sign {
        let signs = self.gen_signs();
        let direct = quotient_sign(poly_sign(&rf.num, &signs), poly_sign(&rf.den, &signs));
        if direct != Sign::Unknown && direct != Sign::NonNeg && direct != Sign::NonPos {
            return direct;
        }
        let shifted = match self.shifted_sign(rf, false) {
            Some(s) if s != Sign::Unknown => Some(s),
            _ => self.shifted_sign(rf, true),
        };
        let s = match shifted {
            Some(s) if s != Sign::Unknown => {
                if direct == Sign::Unknown || matches!(s, Sign::Pos | Sign::Neg | Sign::Zero) {
                    return s;
                }
                direct
            }
            _ => direct,
        };
        if s == Sign::Unknown {
            // A quadratic numerator that is a sum of squares (a positive
            // semidefinite form), over a denominator of known sign.
            let den = poly_sign(&rf.den, &signs);
            if den != Sign::Unknown {
                for (p, flip) in [(&rf.num, false), (&negated(&rf.num), true)] {
                    if quadratic_nonneg(p) {
                        self.rules.insert(Rule::SumOfSquares);
                        let n = if flip { Sign::NonPos } else { Sign::NonNeg };
                        return quotient_sign(n, den);
                    }
                }
            }
        }
        s
    }

    /// Substitutes `x = lo + s` (or `hi - s`, or `small + offset + s` for a
    /// linear fact) for symbol generators and tests the signs again with
    /// `s >= 0`.
    fn shifted_sign(&mut self, rf: &RatFun, prefer_upper: bool) -> Option<Sign> {
        let mut subst: BTreeMap<usize, Alg> = BTreeMap::new();
        let mut signs = self.gen_signs();
        let symbol_gen = |gens: &[Generator], name: &str| {
            gens.iter()
                .position(|g| g.kind == GenKind::Symbol(name.to_string()))
        };
        let mut shifted_any = false;
        for (i, g) in self.gens.clone().iter().enumerate() {
            let GenKind::Symbol(x) = &g.kind else {
                continue;
            };
            let integer = self.dom.kinds.get(x).is_some_and(|k| k.is_integer());
            let lower = self.dom.lower_bound(x);
            let upper = self.dom.upper_bound(x);
            let (lower, upper) = if prefer_upper && upper.is_some() {
                (None, upper)
            } else {
                (lower, upper)
            };
            if let Some(lo) = lower {
                subst.insert(i, Alg::Add(vec![num(lo.value.clone()), Alg::Var(i)]));
                signs[i] = if lo.strict && !integer {
                    Sign::Pos
                } else {
                    Sign::NonNeg
                };
                shifted_any = true;
            } else if let Some(hi) = upper {
                subst.insert(i, Alg::sub(num(hi.value.clone()), Alg::Var(i)));
                signs[i] = if hi.strict && !integer {
                    Sign::Pos
                } else {
                    Sign::NonNeg
                };
                shifted_any = true;
            }
        }
        // Linear facts big - small >= offset: big = small' + offset + s, where
        // small' is small's own substitution.
        let mut done = BTreeSet::new();
        for f in &self.dom.facts {
            let (Some(b), Some(s)) = (
                symbol_gen(&self.gens, &f.big),
                symbol_gen(&self.gens, &f.small),
            ) else {
                continue;
            };
            if done.contains(&b) || b == s {
                continue;
            }
            let small_expr = subst.get(&s).cloned().unwrap_or(Alg::Var(s));
            subst.insert(
                b,
                Alg::Add(vec![small_expr, num(f.offset.clone()), Alg::Var(b)]),
            );
            let integer = self.dom.kinds.get(&f.big).is_some_and(|k| k.is_integer());
            signs[b] = if f.strict && !integer {
                Sign::Pos
            } else {
                Sign::NonNeg
            };
            done.insert(b);
            shifted_any = true;
        }
        // A power of a base > 1 to a nonnegative exponent is at least 1:
        // substitute G = 1 + u with u >= 0. (The exponent's sign is read
        // from the generators' own signs, not the shifted offsets.)
        let original = self.gen_signs();
        for (i, g) in self.gens.clone().iter().enumerate() {
            let GenKind::Power(base, key) = &g.kind else {
                continue;
            };
            let base_above_one = base == "e" || base.parse::<u64>().is_ok_and(|b| b > 1);
            if !base_above_one || key.is_empty() {
                continue;
            }
            let exponent_nonneg = key.split('*').all(|f| {
                f.strip_prefix('g')
                    .and_then(|r| r.split('^').next())
                    .and_then(|j| j.parse::<usize>().ok())
                    .is_some_and(|j| original.get(j).is_some_and(|s| s.nonneg()))
            });
            if exponent_nonneg {
                subst.insert(i, Alg::Add(vec![num(int(1)), Alg::Var(i)]));
                signs[i] = Sign::NonNeg;
                shifted_any = true;
            }
        }
        if !shifted_any {
            return None;
        }
        let num_alg = poly_to_alg(&rf.num, &subst);
        let den_alg = poly_to_alg(&rf.den, &subst);
        let n = self.ratfun(&num_alg).ok()?;
        let d = self.ratfun(&den_alg).ok()?;
        let sn = quotient_sign(poly_sign(&n.num, &signs), poly_sign(&n.den, &signs));
        let sd = quotient_sign(poly_sign(&d.num, &signs), poly_sign(&d.den, &signs));
        Some(quotient_sign(sn, sd))
    }
}

/// The budget [`Budgets::trig_multiple`](crate::config::Budgets::trig_multiple).
const TRIG_MULTIPLE: u64 = crate::config::Budgets::DEFAULT.trig_multiple;
/// The budget [`Budgets::trig_terms`](crate::config::Budgets::trig_terms).
const TRIG_TERMS: usize = crate::config::Budgets::DEFAULT.trig_terms;

/// `(a + ib)(c + id)` as a pair (real part, imaginary part).
fn complex_mul(x: (Alg, Alg), y: (Alg, Alg)) -> (Alg, Alg) {
    let (a, b) = x;
    let (c, d) = y;
    (
        Alg::sub(
            mul(vec![a.clone(), c.clone()]),
            mul(vec![b.clone(), d.clone()]),
        ),
        Alg::Add(vec![mul(vec![a, d]), mul(vec![b, c])]),
    )
}

/// `(cos(pθ), sin(pθ))` from `s = sin θ`, `c = cos θ`: the real and
/// imaginary parts of `(c + i s)^p`.
fn multiple_angle(p: i64, s: usize, c: usize) -> (Alg, Alg) {
    let n = p.unsigned_abs();
    let (mut re, mut im) = (Vec::new(), Vec::new());
    let mut binom = BigInt::one();
    for j in 0..=n {
        let term = mul(vec![
            num(BigRational::from_integer(binom.clone())),
            pow(Alg::Var(c), (n - j) as i64),
            pow(Alg::Var(s), j as i64),
        ]);
        let sign = if (j / 2) % 2 == 0 { 1 } else { -1 };
        let signed = mul(vec![num(int(sign)), term]);
        if j % 2 == 0 {
            re.push(signed);
        } else {
            im.push(signed);
        }
        binom = binom * BigInt::from(n - j) / BigInt::from(j + 1);
    }
    let im = Alg::Add(im);
    (
        Alg::Add(re),
        if p < 0 {
            mul(vec![num(int(-1)), im])
        } else {
            im
        },
    )
}

/// A canonical text of a polynomial (terms sorted).
pub(crate) fn poly_key(p: &Poly) -> String {
    let mut terms: Vec<String> = p
        .terms
        .iter()
        .map(|t| {
            let mono: Vec<String> = t
                .exps
                .iter()
                .enumerate()
                .filter(|(_, e)| **e > 0)
                .map(|(i, e)| format!("g{i}^{e}"))
                .collect();
            format!("{}*{}", t.coeff, mono.join("*"))
        })
        .collect();
    terms.sort();
    terms.join("+")
}

/// A polynomial as an [`Alg`], with some generators replaced.
pub(crate) fn poly_to_alg(p: &Poly, subst: &BTreeMap<usize, Alg>) -> Alg {
    Alg::Add(
        p.terms
            .iter()
            .map(|t| {
                let mut f = vec![num(t.coeff.clone())];
                for (i, e) in t.exps.iter().enumerate() {
                    if *e > 0 {
                        let base = subst.get(&i).cloned().unwrap_or(Alg::Var(i));
                        f.push(pow(base, *e as i64));
                    }
                }
                mul(f)
            })
            .collect(),
    )
}

/// The sign of a polynomial whose generators have the given signs: every
/// term of one sign decides it.
pub(crate) fn poly_sign(p: &Poly, signs: &[Sign]) -> Sign {
    let mut acc = Sign::Zero;
    for t in &p.terms {
        let mut s = Sign::of(&t.coeff);
        for (i, e) in t.exps.iter().enumerate() {
            if *e == 0 {
                continue;
            }
            let g = signs.get(i).copied().unwrap_or(Sign::Unknown);
            let ge = if e % 2 == 0 {
                if g.nonzero() {
                    Sign::Pos
                } else {
                    Sign::NonNeg
                }
            } else {
                g
            };
            s = s.mul(ge);
        }
        acc = acc.add(s);
        if acc == Sign::Unknown {
            return Sign::Unknown;
        }
    }
    acc
}

/// `−p`.
fn negated(p: &Poly) -> Poly {
    Poly {
        terms: p
            .terms
            .iter()
            .map(|t| crate::symbolic::polynomial::Term {
                coeff: -t.coeff.clone(),
                exps: t.exps.clone(),
            })
            .collect(),
    }
}

/// Is `p`, of total degree at most 2, nonnegative for every real value of
/// its generators? Exactly when its symmetric matrix over the monomials
/// `(1, g₁, …, gₖ)` is positive semidefinite, which symmetric elimination
/// with exact rationals decides (a negative pivot, or a zero pivot with a
/// nonzero row, means it is not). `2 x y <= x² + y²` and `a/b + b/a >= 2`
/// (numerator `a² − 2ab + b²`) are proved this way.
pub(crate) fn quadratic_nonneg(p: &Poly) -> bool {
    let degree = |t: &crate::symbolic::polynomial::Term| t.exps.iter().sum::<u32>();
    if p.terms.is_empty() || p.terms.iter().any(|t| degree(t) > 2) || p.terms.len() > 64 {
        return false;
    }
    // The generators that occur, numbered 1.. (0 is the constant monomial).
    let mut used: Vec<usize> = Vec::new();
    for t in &p.terms {
        for (i, e) in t.exps.iter().enumerate() {
            if *e > 0 && !used.contains(&i) {
                used.push(i);
            }
        }
    }
    used.sort_unstable();
    let n = used.len() + 1;
    if n > 12 {
        return false;
    }
    let at = |g: usize| used.iter().position(|&u| u == g).map(|k| k + 1);
    let half = BigRational::new(1.into(), 2.into());
    let mut q = vec![vec![BigRational::zero(); n]; n];
    for t in &p.terms {
        let gens: Vec<(usize, u32)> = t
            .exps
            .iter()
            .enumerate()
            .filter(|(_, e)| **e > 0)
            .map(|(i, e)| (i, *e))
            .collect();
        let (i, j) = match gens.as_slice() {
            [] => (0, 0),
            [(g, 1)] => (0, at(*g).expect("a used generator")),
            [(g, 2)] => {
                let k = at(*g).expect("a used generator");
                (k, k)
            }
            [(g, 1), (h, 1)] => (
                at(*g).expect("a used generator"),
                at(*h).expect("a used generator"),
            ),
            _ => return false,
        };
        if i == j {
            q[i][i] += &t.coeff;
        } else {
            let c = &t.coeff * &half;
            q[i][j] += &c;
            q[j][i] += &c;
        }
    }
    for k in 0..n {
        let row_k = q[k].clone();
        let pivot = &row_k[k];
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if row_k[k + 1..].iter().any(|x| !x.is_zero()) {
                return false;
            }
            continue;
        }
        for row in q.iter_mut().skip(k + 1) {
            if row[k].is_zero() {
                continue;
            }
            let f = &row[k] / pivot;
            for (x, y) in row.iter_mut().zip(&row_k).skip(k + 1) {
                *x -= &f * y;
            }
        }
    }
    true
}

/// The sign of a quotient whose denominator is nonzero where it is defined.
pub(crate) fn quotient_sign(n: Sign, d: Sign) -> Sign {
    let d = match d {
        Sign::NonNeg => Sign::Pos,
        Sign::NonPos => Sign::Neg,
        Sign::Zero => return Sign::Unknown,
        other => other,
    };
    n.mul(d)
}

/// What the calculus asks of the normal form (signs, conditions, zero
/// tests), handed to it so that `calculus.rs` does not import this module.
pub(crate) const JUDGE: crate::symbolic::calculus::Judge = crate::symbolic::calculus::Judge {
    sign: |dom, e| Normalizer::new(dom).sign_of(e),
    decide: |dom, c| Normalizer::new(dom).decide(c),
    is_zero: |dom, e| {
        let mut n = Normalizer::new(dom);
        n.alg(e)
            .and_then(|a| n.ratfun(&a))
            .map(|rf| rf.num.is_zero())
            .unwrap_or(false)
    },
};

/// The budget of terms when a sum's body is split linearly.
const SUM_SPLIT_TERMS: usize = 512;

/// Does `e` mention the name `k` (as a name or a called name)?
fn mentions_name(e: &Expr, k: &str) -> bool {
    let mut found = false;
    e.walk(&mut |n| match &n.kind {
        ExprKind::Name(x) | ExprKind::Call { name: x, .. } if x == k => found = true,
        _ => {}
    });
    found
}

/// Is `e` a `sum(i, lo, hi, body)` with an index name and a bound that is
/// not a number?
fn is_symbolic_range_sum(e: &Expr) -> bool {
    matches!(e.as_builtin(), Some((Builtin::Sum, a)) if a.len() == 4
        && matches!(a[0].kind, ExprKind::Name(_))
        && (fold_rational(&a[1]).is_none() || fold_rational(&a[2]).is_none()))
}

/// The sum of terms (0 for none).
fn sum_of(terms: Vec<Expr>) -> Expr {
    terms
        .into_iter()
        .reduce(|a, b| Expr::binary(BinOp::Add, a, b))
        .unwrap_or_else(|| Expr::int(0))
}

/// The number of terms `hi − lo + 1` of a sum from `lo` to `hi`.
fn count_of(lo: &Expr, hi: &Expr) -> Expr {
    Expr::binary(
        BinOp::Add,
        Expr::binary(BinOp::Sub, hi.clone(), lo.clone()),
        Expr::int(1),
    )
}

/// The product of factors (1 for none).
fn product_of(factors: Vec<Expr>) -> Expr {
    factors
        .into_iter()
        .reduce(|a, b| Expr::binary(BinOp::Mul, a, b))
        .unwrap_or_else(|| Expr::int(1))
}

/// One term of [`expand_terms`]: a rational coefficient times factors.
type ExprTerm = (BigRational, Vec<Expr>);

/// `e` as a sum of terms, each a rational coefficient times factors:
/// products distributed over sums, powers of sums up to the 6th
/// expanded, `a/b` as `a · (1/b)`. At most `limit` terms.
fn expand_terms(e: &Expr, limit: usize) -> N<Vec<ExprTerm>> {
    let over = || {
        NormError::Budget(format!(
            "a sum's body has more than {limit} terms when multiplied out"
        ))
    };
    if let Some(q) = fold_rational(e) {
        return Ok(vec![(q, Vec::new())]);
    }
    let times = |a: Vec<ExprTerm>, b: Vec<ExprTerm>| {
        if a.len().saturating_mul(b.len()) > limit {
            return Err(over());
        }
        let mut out = Vec::new();
        for (ca, fa) in &a {
            for (cb, fb) in &b {
                let mut f = fa.clone();
                f.extend(fb.iter().cloned());
                out.push((ca * cb, f));
            }
        }
        Ok(out)
    };
    Ok(match &e.kind {
        ExprKind::Neg(a) => expand_terms(a, limit)?
            .into_iter()
            .map(|(c, f)| (-c, f))
            .collect(),
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let mut out = expand_terms(a, limit)?;
            for (c, f) in expand_terms(b, limit)? {
                out.push((if *op == BinOp::Sub { -c } else { c }, f));
            }
            if out.len() > limit {
                return Err(over());
            }
            out
        }
        ExprKind::Binary(BinOp::Mul, a, b) => {
            times(expand_terms(a, limit)?, expand_terms(b, limit)?)?
        }
        ExprKind::Binary(BinOp::Div, a, b) => match fold_rational(b) {
            Some(q) if !q.is_zero() => expand_terms(a, limit)?
                .into_iter()
                .map(|(c, f)| (c / &q, f))
                .collect(),
            _ => times(
                expand_terms(a, limit)?,
                vec![(
                    BigRational::one(),
                    vec![Expr::binary(BinOp::Div, Expr::int(1), (**b).clone())],
                )],
            )?,
        },
        ExprKind::Binary(BinOp::Pow, a, b) => {
            let inner = expand_terms(a, limit)?;
            match fold_rational(b).and_then(|q| small_exponent(&q)) {
                Some(n) if (2..=6).contains(&n) && inner.len() > 1 => {
                    let mut acc = inner.clone();
                    for _ in 1..n {
                        acc = times(acc, inner.clone())?;
                    }
                    acc
                }
                _ => vec![(BigRational::one(), vec![e.clone()])],
            }
        }
        _ => vec![(BigRational::one(), vec![e.clone()])],
    })
}

/// Every sum over a symbolic range inside `e` split linearly at the level
/// of expressions, innermost first: `sum(j, lo, hi, a + b·f(j))` becomes
/// `(hi − lo + 1)·a + b·sum(j, lo, hi, f(j))` when `known(hi − lo + 1)` says
/// the count is >= 0 (otherwise the sum is left whole), so that an outer
/// sum sees which factors depend on its own index.
fn linearize_sums(e: &Expr, known: &mut dyn FnMut(&Expr) -> bool) -> N<Expr> {
    let mut failed = None;
    let kind =
        crate::resolve::expand::map_children(&e.kind, &mut |c| match linearize_sums(c, known) {
            Ok(x) => x,
            Err(err) => {
                failed = Some(err);
                c.clone()
            }
        });
    if let Some(err) = failed {
        return Err(err);
    }
    let e = Expr::new(kind, e.span);
    let Some((Builtin::Sum, args)) = e.as_builtin() else {
        return Ok(e);
    };
    let [index, lo, hi, body] = args else {
        return Ok(e);
    };
    let ExprKind::Name(k) = &index.kind else {
        return Ok(e);
    };
    if fold_rational(lo).is_some() && fold_rational(hi).is_some() {
        return Ok(e);
    }
    let count = count_of(lo, hi);
    let terms = expand_terms(body, SUM_SPLIT_TERMS)?;
    let mut parts = Vec::new();
    for (c, factors) in terms {
        let (dep, free): (Vec<Expr>, Vec<Expr>) =
            factors.into_iter().partition(|f| mentions_name(f, k));
        let mut t = vec![Expr::rational(c)];
        t.extend(free);
        if dep.is_empty() {
            if !known(&count) {
                return Ok(e);
            }
            t.push(count.clone());
        } else {
            t.push(Expr::builtin(
                Builtin::Sum,
                vec![index.clone(), lo.clone(), hi.clone(), product_of(dep)],
            ));
        }
        parts.push(product_of(t));
    }
    Ok(sum_of(parts))
}
