//! Exact real algebraic numbers, for constant claims built from rationals
//! with `+ − × ÷`, integer powers and real roots (`sqrt(7 + 4 sqrt(3))`,
//! `(26 + 15 sqrt(3))^(1/3)`, `2^(5/2)`). Our own code, no CAS.
//!
//! A value is a rational, or a root of a square-free integer polynomial
//! together with a rational isolating interval `[lo, hi]`: `P` has exactly
//! one root strictly inside, none at the endpoints, and the interval does
//! not contain 0 (0 is a rational). Operations build the new defining
//! polynomial by resultants (`α + β` is a root of `res_y(P(y), Q(x − y))`,
//! `α β` of `res_y(P(y), y^m Q(x/y))`, `α^k` of `res_y(P(y), x − y^k)`,
//! `α^(1/k)` of `P(x^k)`), take its square-free part, then narrow the
//! operands' intervals by bisection until interval arithmetic on them
//! encloses exactly one root (counted by a Sturm sequence). Resultants are
//! computed by evaluation at integer points (fraction-free Bareiss
//! determinants) and interpolation.
//!
//! Two values are equal exactly when the gcd of their polynomials has a
//! root in the intersection of their intervals; otherwise their intervals
//! are narrowed until disjoint. Degrees are bounded by
//! [`Budgets::algebraic_degree`](crate::config::Budgets::algebraic_degree);
//! past it the evaluation stops with [`AlgError::Budget`].

use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Why a constant expression has no exact algebraic value here.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AlgError {
    /// Not built from rationals, arithmetic, rational powers and roots.
    NotAlgebraic,
    /// Undefined: which sub-expression and why.
    Undefined(String),
    /// A degree or refinement budget ran out.
    Budget(String),
}

type R<T> = Result<T, AlgError>;

/// Bisections of one isolating interval at most, per operation or comparison.
const REFINEMENTS: usize = 600;

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

// ---------------------------------------------------------------- polynomials

/// An integer polynomial, coefficients from the constant term up, no
/// trailing zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Poly(Vec<BigInt>);

impl Poly {
    fn new(mut c: Vec<BigInt>) -> Poly {
        while c.last().is_some_and(|x| x.is_zero()) {
            c.pop();
        }
        Poly(c)
    }

    fn degree(&self) -> usize {
        self.0.len().saturating_sub(1)
    }

    /// `d x − n`: the rational `n/d`.
    fn linear(r: &BigRational) -> Poly {
        Poly::new(vec![-r.numer().clone(), r.denom().clone()])
    }

    /// Divided by the gcd of its coefficients, leading coefficient positive.
    fn primitive(&self) -> Poly {
        let g = self.0.iter().fold(BigInt::zero(), |g, c| g.gcd(c));
        if g.is_zero() {
            return self.clone();
        }
        let sign = if self.0.last().is_some_and(|c| c.is_negative()) {
            -BigInt::one()
        } else {
            BigInt::one()
        };
        Poly::new(self.0.iter().map(|c| c / &g * &sign).collect())
    }

    /// The sign of `P(r)`.
    fn sign_at(&self, r: &BigRational) -> Ordering {
        // d^deg P(n/d) = Σ c_i n^i d^(deg − i), an integer with P(r)'s sign.
        let (n, d) = (r.numer(), r.denom());
        let deg = self.degree();
        let mut sum = BigInt::zero();
        let mut npow = BigInt::one();
        let mut dpows = Vec::with_capacity(deg + 1);
        let mut dp = BigInt::one();
        for _ in 0..=deg {
            dpows.push(dp.clone());
            dp *= d;
        }
        for (i, c) in self.0.iter().enumerate() {
            sum += c * &npow * &dpows[deg - i];
            npow *= n;
        }
        sum.cmp(&BigInt::zero())
    }

    /// `P(−x)`.
    fn negate_x(&self) -> Poly {
        Poly::new(
            self.0
                .iter()
                .enumerate()
                .map(|(i, c)| if i % 2 == 1 { -c } else { c.clone() })
                .collect(),
        )
        .primitive()
    }

    /// `x^deg P(1/x)`.
    fn reversed(&self) -> Poly {
        let mut c = self.0.clone();
        c.reverse();
        Poly::new(c).primitive()
    }

    /// `P(x^k)`.
    fn compose_power(&self, k: usize) -> Poly {
        let mut c = vec![BigInt::zero(); self.degree() * k + 1];
        for (i, x) in self.0.iter().enumerate() {
            c[i * k] = x.clone();
        }
        Poly::new(c)
    }

    /// Without factors of `x` (for a nonzero root).
    fn without_zero_root(&self) -> Poly {
        let tz = self.0.iter().take_while(|c| c.is_zero()).count();
        Poly::new(self.0[tz..].to_vec())
    }

    fn derivative(&self) -> Poly {
        Poly::new(
            self.0
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, c)| c * BigInt::from(i))
                .collect(),
        )
    }

    fn to_rat(&self) -> Vec<BigRational> {
        self.0
            .iter()
            .map(|c| BigRational::from_integer(c.clone()))
            .collect()
    }

    fn from_rat(c: &[BigRational]) -> Poly {
        let l = c.iter().fold(BigInt::one(), |l, x| l.lcm(x.denom()));
        Poly::new(
            c.iter()
                .map(|x| (x * BigRational::from_integer(l.clone())).to_integer())
                .collect(),
        )
        .primitive()
    }

    /// The gcd (primitive).
    fn gcd(&self, o: &Poly) -> Poly {
        let (mut a, mut b) = (self.to_rat(), o.to_rat());
        trim(&mut a);
        trim(&mut b);
        while !b.is_empty() {
            let r = rem(&a, &b);
            a = b;
            b = r;
        }
        Poly::from_rat(&a)
    }

    /// `P / gcd(P, P')`.
    fn square_free(&self) -> Poly {
        let g = self.gcd(&self.derivative());
        if g.degree() == 0 {
            return self.primitive();
        }
        let (quot, _) = divmod(&self.to_rat(), &g.to_rat());
        Poly::from_rat(&quot)
    }
}

fn trim(a: &mut Vec<BigRational>) {
    while a.last().is_some_and(|x| x.is_zero()) {
        a.pop();
    }
}

fn divmod(a: &[BigRational], b: &[BigRational]) -> (Vec<BigRational>, Vec<BigRational>) {
    let mut r = a.to_vec();
    trim(&mut r);
    let db = b.len() - 1;
    if r.len() < b.len() {
        return (Vec::new(), r);
    }
    let mut quot = vec![BigRational::zero(); r.len() - db];
    let lb = b[db].clone();
    while r.len() >= b.len() {
        let shift = r.len() - b.len();
        let f = r.last().expect("nonempty") / &lb;
        for (i, c) in b.iter().enumerate() {
            r[shift + i] -= &f * c;
        }
        quot[shift] = f;
        r.pop();
        trim(&mut r);
    }
    (quot, r)
}

fn rem(a: &[BigRational], b: &[BigRational]) -> Vec<BigRational> {
    divmod(a, b).1
}

/// A Sturm sequence of a square-free polynomial.
struct Sturm(Vec<Vec<BigRational>>);

impl Sturm {
    fn new(p: &Poly) -> Sturm {
        let mut seq = vec![p.to_rat(), p.derivative().to_rat()];
        loop {
            let n = seq.len();
            if seq[n - 1].is_empty() {
                seq.pop();
                break;
            }
            let r: Vec<BigRational> = rem(&seq[n - 2], &seq[n - 1])
                .into_iter()
                .map(|x| -x)
                .collect();
            if r.is_empty() {
                break;
            }
            // Scale to keep numbers small (positive factors keep signs).
            let scaled = Poly::from_rat(&r);
            let sign_ok = r.last().is_some_and(|c| c.is_positive());
            let mut s = scaled.to_rat();
            if !sign_ok {
                s = s.into_iter().map(|x| -x).collect();
            }
            seq.push(s);
        }
        Sturm(seq)
    }

    fn variations(&self, x: &BigRational) -> usize {
        let mut count = 0;
        let mut prev = 0i32;
        for p in &self.0 {
            let mut v = BigRational::zero();
            for c in p.iter().rev() {
                v = v * x + c;
            }
            let s = if v.is_positive() {
                1
            } else if v.is_negative() {
                -1
            } else {
                0
            };
            if s != 0 {
                if prev != 0 && s != prev {
                    count += 1;
                }
                prev = s;
            }
        }
        count
    }

    /// Roots in `(a, b]`.
    fn count(&self, a: &BigRational, b: &BigRational) -> usize {
        self.variations(a).saturating_sub(self.variations(b))
    }
}

/// The determinant of an integer matrix (fraction-free Bareiss elimination).
fn determinant(mut m: Vec<Vec<BigInt>>) -> BigInt {
    let n = m.len();
    if n == 0 {
        return BigInt::one();
    }
    let mut sign = BigInt::one();
    let mut prev = BigInt::one();
    for k in 0..n - 1 {
        if m[k][k].is_zero() {
            let Some(swap) = (k + 1..n).find(|&i| !m[i][k].is_zero()) else {
                return BigInt::zero();
            };
            m.swap(k, swap);
            sign = -sign;
        }
        for i in k + 1..n {
            for j in k + 1..n {
                let v = (&m[i][j] * &m[k][k] - &m[i][k] * &m[k][j]) / &prev;
                m[i][j] = v;
            }
        }
        prev = m[k][k].clone();
    }
    sign * &m[n - 1][n - 1]
}

/// The Sylvester resultant of `a` and `b` (integer coefficients, formal
/// degrees `a.len() − 1` and `b.len() − 1`).
fn resultant(a: &[BigInt], b: &[BigInt]) -> BigInt {
    let (n, m) = (a.len() - 1, b.len() - 1);
    let size = n + m;
    let mut rows = Vec::with_capacity(size);
    for i in 0..m {
        let mut row = vec![BigInt::zero(); size];
        for (j, c) in a.iter().rev().enumerate() {
            row[i + j] = c.clone();
        }
        rows.push(row);
    }
    for i in 0..n {
        let mut row = vec![BigInt::zero(); size];
        for (j, c) in b.iter().rev().enumerate() {
            row[i + j] = c.clone();
        }
        rows.push(row);
    }
    determinant(rows)
}

/// `res_y(P(y), B(x, y))` as a polynomial in x of degree at most `bound`,
/// where `b_at(x)` gives `B(x, y)`'s coefficients in y (formal degree fixed).
fn resultant_in_x(p: &Poly, bound: usize, b_at: &dyn Fn(&BigInt) -> Vec<BigInt>) -> Poly {
    // Values at x = 0, 1, ..., bound; Newton interpolation.
    let xs: Vec<BigInt> = (0..=bound as i64).map(BigInt::from).collect();
    let ys: Vec<BigRational> = xs
        .iter()
        .map(|x| BigRational::from_integer(resultant(&p.0, &b_at(x))))
        .collect();
    let n = xs.len();
    let mut coef = ys.clone();
    for j in 1..n {
        for i in (j..n).rev() {
            coef[i] = (&coef[i] - &coef[i - 1]) / BigRational::from_integer(&xs[i] - &xs[i - j]);
        }
    }
    // Newton form to monomials.
    let mut poly = vec![BigRational::zero(); n];
    for i in (0..n).rev() {
        // poly = poly * (x − xs[i]) + coef[i]
        let mut next = vec![BigRational::zero(); n];
        for k in 0..n {
            if poly[k].is_zero() {
                continue;
            }
            if k + 1 < n {
                next[k + 1] += &poly[k];
            }
            next[k] -= &poly[k] * BigRational::from_integer(xs[i].clone());
        }
        next[0] += &coef[i];
        poly = next;
    }
    Poly::from_rat(&poly)
}

/// `Q(x − y)` (or with `x + y`) as coefficients in y, at integer x: Σ q_j (x − y)^j.
fn shifted(qp: &Poly, x: &BigInt, minus: bool) -> Vec<BigInt> {
    let m = qp.degree();
    let mut out = vec![BigInt::zero(); m + 1];
    // (x + s y)^j by the binomial theorem, s = −1 or 1.
    for (j, c) in qp.0.iter().enumerate() {
        let mut binom = BigInt::one();
        for (i, slot) in out.iter_mut().enumerate().take(j + 1) {
            // term: C(j, i) x^(j − i) (s y)^i
            let s = if minus && i % 2 == 1 {
                -BigInt::one()
            } else {
                BigInt::one()
            };
            *slot += c * &binom * num_traits::pow(x.clone(), j - i) * s;
            binom = binom * BigInt::from(j - i) / BigInt::from(i + 1);
        }
    }
    out
}

// ---------------------------------------------------------------- numbers

/// Interval arithmetic on the operands: a rational enclosure of the result.
type Enclose<'a> = dyn Fn(&[Algebraic]) -> Option<(BigRational, BigRational)> + 'a;

/// An exact real algebraic number.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Algebraic {
    /// A rational.
    Rational(BigRational),
    /// The one root of `poly` (square-free, primitive) strictly inside
    /// `(lo, hi)`, an interval not containing 0 whose endpoints are not roots.
    Root {
        /// The defining polynomial.
        poly: Poly,
        /// Lower end.
        lo: BigRational,
        /// Upper end.
        hi: BigRational,
    },
}

/// The algebraic evaluator of constant expressions, with its degree budget.
pub(crate) struct Algebraics {
    max_degree: usize,
}

fn budget(what: &str, max: usize) -> AlgError {
    AlgError::Budget(format!(
        "{what} would need a defining polynomial of degree above {max}"
    ))
}

impl Algebraic {
    /// The enclosing interval (a point for a rational).
    fn bounds(&self) -> (BigRational, BigRational) {
        match self {
            Algebraic::Rational(r) => (r.clone(), r.clone()),
            Algebraic::Root { lo, hi, .. } => (lo.clone(), hi.clone()),
        }
    }

    fn poly(&self) -> Poly {
        match self {
            Algebraic::Rational(r) => Poly::linear(r),
            Algebraic::Root { poly, .. } => poly.clone(),
        }
    }

    /// Halves the isolating interval (a rational stays as it is).
    fn bisect(&mut self) {
        if let Algebraic::Root { poly, lo, hi } = self {
            let mid = (&*lo + &*hi) / q(2);
            match poly.sign_at(&mid) {
                Ordering::Equal => {
                    *self = Algebraic::Rational(mid);
                }
                s if s == poly.sign_at(lo) => *lo = mid,
                _ => *hi = mid,
            }
        }
    }

    /// −1 or 1 (never 0 for a root; 0 is rational).
    fn sign(&self) -> Ordering {
        match self {
            Algebraic::Rational(r) => r.cmp(&BigRational::zero()),
            // The interval lies on one side of 0.
            Algebraic::Root { hi, .. } if !hi.is_positive() => Ordering::Less,
            Algebraic::Root { .. } => Ordering::Greater,
        }
    }

    fn width(&self) -> BigRational {
        let (a, b) = self.bounds();
        b - a
    }

    /// Narrows the interval below `w`.
    fn narrow(&mut self, w: &BigRational) {
        for _ in 0..REFINEMENTS {
            if &self.width() <= w {
                return;
            }
            self.bisect();
        }
    }

    /// A certified enclosure for reports (about 2^-60 wide).
    pub(crate) fn enclosure(&self) -> (BigRational, BigRational) {
        let mut x = self.clone();
        let (a, _) = x.bounds();
        let scale = a.abs().max(q(1));
        x.narrow(&(scale / BigRational::from_integer(BigInt::one() << 64usize)));
        x.bounds()
    }

    fn neg(&self) -> Algebraic {
        match self {
            Algebraic::Rational(r) => Algebraic::Rational(-r),
            Algebraic::Root { poly, lo, hi } => Algebraic::Root {
                poly: poly.negate_x(),
                lo: -hi,
                hi: -lo,
            },
        }
    }
}

/// Is `x` equal to `y`, or which is bigger?
pub(crate) fn compare(x: &Algebraic, y: &Algebraic) -> R<Ordering> {
    if let (Algebraic::Rational(a), Algebraic::Rational(b)) = (x, y) {
        return Ok(a.cmp(b));
    }
    let (mut x, mut y) = (x.clone(), y.clone());
    let g = x.poly().gcd(&y.poly());
    if g.degree() >= 1 {
        let (a1, b1) = x.bounds();
        let (a2, b2) = y.bounds();
        let (lo, hi) = (a1.clone().max(a2.clone()), b1.clone().min(b2.clone()));
        if lo <= hi {
            let common = if g.degree() == 1 {
                // The rational root of g.
                let r = BigRational::new(-g.0[0].clone(), g.0[1].clone());
                lo <= r && r <= hi
            } else {
                let s = Sturm::new(&g.square_free());
                // Closed intersection: endpoints of either interval are not
                // roots of g unless that side is rational and equal.
                s.count(&lo, &hi) > 0 || g.sign_at(&lo) == Ordering::Equal
            };
            if common {
                return Ok(Ordering::Equal);
            }
        }
    }
    // Different: narrow until the intervals are disjoint.
    for _ in 0..REFINEMENTS {
        let (a1, b1) = x.bounds();
        let (a2, b2) = y.bounds();
        if b1 < a2 {
            return Ok(Ordering::Less);
        }
        if b2 < a1 {
            return Ok(Ordering::Greater);
        }
        if let (Algebraic::Rational(a), Algebraic::Rational(b)) = (&x, &y) {
            return Ok(a.cmp(b));
        }
        x.bisect();
        y.bisect();
    }
    Err(AlgError::Budget(
        "two algebraic numbers too close to tell apart".into(),
    ))
}

impl Algebraics {
    /// An evaluator whose defining polynomials stay below `max_degree`.
    pub(crate) fn new(max_degree: usize) -> Algebraics {
        Algebraics { max_degree }
    }

    /// Isolates the root of `poly` that `enclose` (interval arithmetic on
    /// the operands) contains, narrowing the operands as needed.
    fn isolate(&self, poly: Poly, ops: &mut [Algebraic], enclose: &Enclose<'_>) -> R<Algebraic> {
        let poly = poly.square_free().primitive();
        if poly.degree() > self.max_degree {
            return Err(budget("this value", self.max_degree));
        }
        if poly.degree() == 0 {
            return Err(AlgError::Budget("a degenerate defining polynomial".into()));
        }
        let sturm = Sturm::new(&poly);
        for _ in 0..REFINEMENTS {
            if let Some((lo, hi)) = enclose(ops) {
                let (slo, shi) = (poly.sign_at(&lo), poly.sign_at(&hi));
                if lo == hi {
                    return Ok(Algebraic::Rational(lo));
                }
                if slo != Ordering::Equal && shi != Ordering::Equal && sturm.count(&lo, &hi) == 1 {
                    let v = Algebraic::Root {
                        poly: poly.clone(),
                        lo: lo.clone(),
                        hi: hi.clone(),
                    };
                    return Ok(self.settle(v));
                }
            }
            for o in ops.iter_mut() {
                o.bisect();
            }
        }
        Err(AlgError::Budget(
            "an algebraic value could not be isolated".into(),
        ))
    }

    /// A root whose interval contains 0 is narrowed until it does not, or
    /// becomes the rational 0; a linear polynomial becomes its rational.
    fn settle(&self, v: Algebraic) -> Algebraic {
        let Algebraic::Root { poly, lo, hi } = &v else {
            return v;
        };
        if poly.degree() == 1 {
            return Algebraic::Rational(BigRational::new(-poly.0[0].clone(), poly.0[1].clone()));
        }
        if !lo.is_positive() && !hi.is_negative() {
            if lo.is_negative() && hi.is_positive() && poly.0[0].is_zero() {
                // The only root inside is 0.
                return Algebraic::Rational(BigRational::zero());
            }
            // A nonzero root: narrow until the interval keeps off 0.
            let mut v = v.clone();
            for _ in 0..REFINEMENTS {
                if !matches!(&v, Algebraic::Root { lo, hi, .. } if !lo.is_positive() && !hi.is_negative())
                {
                    break;
                }
                v.bisect();
            }
            return match v {
                Algebraic::Root { poly, lo, hi } => Algebraic::Root {
                    poly: poly.without_zero_root(),
                    lo,
                    hi,
                },
                r => r,
            };
        }
        Algebraic::Root {
            poly: poly.without_zero_root(),
            lo: lo.clone(),
            hi: hi.clone(),
        }
    }

    fn add(&self, a: &Algebraic, b: &Algebraic) -> R<Algebraic> {
        if let (Algebraic::Rational(x), Algebraic::Rational(y)) = (a, b) {
            return Ok(Algebraic::Rational(x + y));
        }
        let (pa, pb) = (a.poly(), b.poly());
        if pa.degree() * pb.degree() > self.max_degree {
            return Err(budget("a sum", self.max_degree));
        }
        let bound = pa.degree() * pb.degree();
        let poly = resultant_in_x(&pa, bound, &|x| shifted(&pb, x, true));
        let mut ops = [a.clone(), b.clone()];
        self.isolate(poly, &mut ops, &|o| {
            let ((a1, b1), (a2, b2)) = (o[0].bounds(), o[1].bounds());
            Some((a1 + a2, b1 + b2))
        })
    }

    fn mul(&self, a: &Algebraic, b: &Algebraic) -> R<Algebraic> {
        match (a, b) {
            (Algebraic::Rational(x), Algebraic::Rational(y)) => {
                return Ok(Algebraic::Rational(x * y))
            }
            (Algebraic::Rational(x), _) | (_, Algebraic::Rational(x)) if x.is_zero() => {
                return Ok(Algebraic::Rational(BigRational::zero()))
            }
            _ => {}
        }
        let (pa, pb) = (a.poly(), b.poly());
        if pa.degree() * pb.degree() > self.max_degree {
            return Err(budget("a product", self.max_degree));
        }
        let m = pb.degree();
        // y^m Q(x/y) = Σ q_j x^j y^(m − j); Q(0) ≠ 0, so the formal degree m is exact.
        let poly = resultant_in_x(&pa, pa.degree() * m, &|x| {
            let mut out = vec![BigInt::zero(); m + 1];
            for (j, c) in pb.0.iter().enumerate() {
                out[m - j] += c * num_traits::pow(x.clone(), j);
            }
            out
        });
        let mut ops = [a.clone(), b.clone()];
        self.isolate(poly, &mut ops, &|o| {
            let ((a1, b1), (a2, b2)) = (o[0].bounds(), o[1].bounds());
            let p = [&a1 * &a2, &a1 * &b2, &b1 * &a2, &b1 * &b2];
            Some((p.iter().min()?.clone(), p.iter().max()?.clone()))
        })
    }

    fn recip(&self, a: &Algebraic, whole: &Expr) -> R<Algebraic> {
        match a {
            Algebraic::Rational(x) if x.is_zero() => {
                Err(AlgError::Undefined(format!("`{whole}` divides by zero")))
            }
            Algebraic::Rational(x) => Ok(Algebraic::Rational(x.recip())),
            Algebraic::Root { poly, lo, hi } => Ok(Algebraic::Root {
                poly: poly.reversed(),
                lo: hi.recip(),
                hi: lo.recip(),
            }),
        }
    }

    fn powi(&self, a: &Algebraic, k: &BigInt, whole: &Expr) -> R<Algebraic> {
        if k.is_negative() {
            let p = self.powi(a, &-k, whole)?;
            return self.recip(&p, whole);
        }
        if let Algebraic::Rational(x) = a {
            let kk = k
                .to_usize()
                .filter(|kk| {
                    (x.numer().bits().max(x.denom().bits()) as usize).saturating_mul(*kk) <= 1 << 16
                })
                .ok_or_else(|| {
                    AlgError::Budget(format!("`{whole}` is too large to compute exactly"))
                })?;
            return Ok(Algebraic::Rational(num_traits::pow(x.clone(), kk)));
        }
        let kk = k
            .to_usize()
            .filter(|kk| *kk <= 4 * self.max_degree)
            .ok_or_else(|| {
                AlgError::Budget(format!(
                    "the power in `{whole}` is too large to compute exactly"
                ))
            })?;
        if kk == 0 {
            return Ok(Algebraic::Rational(q(1)));
        }
        let pa = a.poly();
        // α^k is a root of res_y(P(y), x − y^k), of degree deg P.
        let poly = resultant_in_x(&pa, pa.degree(), &|x| {
            let mut out = vec![BigInt::zero(); kk + 1];
            out[0] = x.clone();
            out[kk] = -BigInt::one();
            out
        });
        let mut ops = [a.clone()];
        self.isolate(poly, &mut ops, &|o| {
            let (lo, hi) = o[0].bounds();
            let (pl, ph) = (
                num_traits::pow(lo.clone(), kk),
                num_traits::pow(hi.clone(), kk),
            );
            Some(if kk % 2 == 1 || lo.is_positive() {
                (pl, ph)
            } else {
                // Negative interval, even power.
                (ph, pl)
            })
        })
    }

    fn root(&self, a: &Algebraic, k: u32, whole: &Expr) -> R<Algebraic> {
        if k == 0 {
            return Err(AlgError::Undefined(format!("`{whole}` is a 0th root")));
        }
        if a.sign() == Ordering::Less {
            if k.is_multiple_of(2) {
                let (lo, hi) = a.enclosure();
                let shown = crate::exact::real::Real::between(&lo, &hi)
                    .map(|r| r.display())
                    .unwrap_or_else(|_| "a negative number".into());
                return Err(AlgError::Undefined(format!(
                    "`{whole}` is undefined: an even root of a negative number ({shown})"
                )));
            }
            let r = self.root(&a.neg(), k, whole)?;
            return Ok(r.neg());
        }
        if let Algebraic::Rational(x) = a {
            if x.is_zero() {
                return Ok(Algebraic::Rational(BigRational::zero()));
            }
            let kk = k as usize;
            let (n, d) = (x.numer(), x.denom());
            let rn = n.nth_root(k);
            let rd = d.nth_root(k);
            if num_traits::pow(rn.clone(), kk) == *n && num_traits::pow(rd.clone(), kk) == *d {
                return Ok(Algebraic::Rational(BigRational::new(rn, rd)));
            }
        }
        let pa = a.poly();
        let kk = k as usize;
        if pa.degree().saturating_mul(kk) > self.max_degree {
            return Err(budget("a root", self.max_degree));
        }
        let poly = pa.compose_power(kk);
        let mut ops = [a.clone()];
        self.isolate(poly, &mut ops, &|o| {
            let (lo, hi) = o[0].bounds();
            Some((root_bound(&lo, k, false)?, root_bound(&hi, k, true)?))
        })
    }

    /// The exact value of a constant expression, or why it has none.
    pub(crate) fn eval(&self, e: &Expr) -> R<Algebraic> {
        self.value(e, 0)
    }

    fn value(&self, e: &Expr, depth: usize) -> R<Algebraic> {
        if depth > 200 {
            return Err(AlgError::Budget("an expression nested too deeply".into()));
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::Number(r) => Ok(Algebraic::Rational(r.clone())),
            ExprKind::Neg(a) => Ok(self.value(a, d)?.neg()),
            ExprKind::Binary(op, a, b) => {
                if *op == BinOp::Pow {
                    let base = self.value(a, d)?;
                    let Algebraic::Rational(r) = self.value(b, d)? else {
                        return Err(AlgError::NotAlgebraic);
                    };
                    let den = r
                        .denom()
                        .to_u32()
                        .filter(|x| (*x as usize) <= self.max_degree)
                        .ok_or_else(|| budget("a root", self.max_degree))?;
                    if base == Algebraic::Rational(BigRational::zero()) && !r.is_positive() {
                        return Err(AlgError::Undefined(format!(
                            "`{e}` is undefined: 0 to a power that is not positive"
                        )));
                    }
                    let rooted = if den == 1 {
                        base
                    } else {
                        self.root(&base, den, e)?
                    };
                    return self.powi(&rooted, r.numer(), e);
                }
                let x = self.value(a, d)?;
                let y = self.value(b, d)?;
                match op {
                    BinOp::Add => self.add(&x, &y),
                    BinOp::Sub => self.add(&x, &y.neg()),
                    BinOp::Mul => self.mul(&x, &y),
                    BinOp::Div => {
                        let inv = self.recip(&y, e)?;
                        self.mul(&x, &inv)
                    }
                    BinOp::Pow => Err(AlgError::NotAlgebraic),
                }
            }
            ExprKind::Builtin { op, args, options } if options.is_empty() => {
                match (op, args.as_slice()) {
                    (Builtin::Sqrt, [a]) => {
                        let x = self.value(a, d)?;
                        self.root(&x, 2, e)
                    }
                    (Builtin::Abs, [a]) => {
                        let x = self.value(a, d)?;
                        Ok(if x.sign() == Ordering::Less {
                            x.neg()
                        } else {
                            x
                        })
                    }
                    _ => Err(AlgError::NotAlgebraic),
                }
            }
            _ => Err(AlgError::NotAlgebraic),
        }
    }
}

/// A rational lower (or upper) bound of `x^(1/k)` for `x ≥ 0`, within about 2^-64 relative.
fn root_bound(x: &BigRational, k: u32, upper: bool) -> Option<BigRational> {
    use crate::exact::dyadic::{Dir, Dyadic};
    if x.is_zero() {
        return Some(BigRational::zero());
    }
    let dir = if upper { Dir::Up } else { Dir::Down };
    let d = Dyadic::from_rational(x, 96, dir)?.root(k, 80, dir)?;
    d.to_rational(1 << 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser::{parse_expr, NameClass, Names};

    struct NoNames;
    impl Names for NoNames {
        fn class(&self, name: &str) -> Option<NameClass> {
            (name == "x").then_some(NameClass::Value)
        }
        fn declared(&self) -> Vec<String> {
            vec!["x".into()]
        }
    }

    fn parse(s: &str) -> Expr {
        parse_expr(s, &NoNames, &[]).unwrap()
    }

    fn val(s: &str) -> R<Algebraic> {
        Algebraics::new(64).eval(&parse(s))
    }

    fn eq(a: &str, b: &str) -> Ordering {
        compare(&val(a).unwrap(), &val(b).unwrap()).unwrap()
    }

    #[test]
    fn nested_radicals_denest() {
        assert_eq!(eq("sqrt(7 + 4 sqrt(3))", "2 + sqrt(3)"), Ordering::Equal);
        assert_eq!(
            eq("(26 + 15 sqrt(3))^(1/3)", "2 + sqrt(3)"),
            Ordering::Equal
        );
        assert_eq!(eq("sqrt(11 + 6 sqrt(2))", "3 + sqrt(2)"), Ordering::Equal);
        assert_eq!(eq("sqrt(2) sqrt(3)", "sqrt(6)"), Ordering::Equal);
        assert_eq!(
            eq("1/(sqrt(3) - sqrt(2))", "sqrt(3) + sqrt(2)"),
            Ordering::Equal
        );
        assert_eq!(eq("2^(5/2)", "4 sqrt(2)"), Ordering::Equal);
        assert_eq!(
            eq("sqrt(5 - 2 sqrt(6))", "sqrt(3) - sqrt(2)"),
            Ordering::Equal
        );
        assert_eq!(
            eq("(sqrt(5) + 1)/2 - 1", "2/(sqrt(5) + 1)"),
            Ordering::Equal
        );
        assert_eq!(eq("sqrt(2) sqrt(2)", "2"), Ordering::Equal);
        assert_eq!(eq("sqrt(2) - sqrt(2)", "0"), Ordering::Equal);
        assert_eq!(eq("(-8)^(1/3)", "-2"), Ordering::Equal);
        assert_eq!(eq("((-2)^(1/3))^3", "-2"), Ordering::Equal);
    }

    #[test]
    fn different_values_are_ordered() {
        assert_eq!(eq("sqrt(7 + 4 sqrt(3))", "2 + sqrt(2)"), Ordering::Greater);
        assert_eq!(eq("sqrt(2) + sqrt(3)", "sqrt(10)"), Ordering::Less);
        assert_eq!(eq("sqrt(2) + sqrt(3)", "sqrt(5)"), Ordering::Greater);
        assert_eq!(eq("sqrt(2)", "1.4142135623730950488"), Ordering::Greater);
        assert_eq!(eq("-sqrt(2)", "-sqrt(3)"), Ordering::Greater);
        // Close values: (sqrt(2) + sqrt(3))^2 = 5 + 2 sqrt(6) ≈ 9.899 vs 9.9.
        assert_eq!(eq("(sqrt(2) + sqrt(3))^2", "99/10"), Ordering::Less);
    }

    #[test]
    fn undefined_values_say_which() {
        let Err(AlgError::Undefined(m)) = val("sqrt(1 - sqrt(3))") else {
            panic!()
        };
        assert!(
            m.contains("sqrt(1 - sqrt(3))") && m.contains("-0.732050807568"),
            "{m}"
        );
        assert!(matches!(
            val("1/(sqrt(2) - sqrt(2))"),
            Err(AlgError::Undefined(_))
        ));
        assert!(matches!(val("2^sqrt(2)"), Err(AlgError::NotAlgebraic)));
        assert!(matches!(val("x + 1"), Err(AlgError::NotAlgebraic)));
    }

    #[test]
    fn degrees_are_budgeted() {
        let e = parse("sqrt(2) + sqrt(3) + sqrt(5) + sqrt(7) + sqrt(11) + sqrt(13) + sqrt(17)");
        assert!(matches!(
            Algebraics::new(64).eval(&e),
            Err(AlgError::Budget(_))
        ));
    }
}
