//! Certified reals for spot checks: a value is either an exact rational or a
//! rigorous enclosure `[lo, hi]` with rational endpoints that contains the
//! true value. Irrational values (roots of non-perfect powers, `exp`, `log`)
//! get enclosures of about 2^-256; a comparison is decided only when it is
//! certain (exact values, or disjoint enclosures). Floating point is never
//! used. Every operation that could blow up returns [`RealError::Budget`].

use num_bigint::{BigInt, Sign as BigSign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// The budget [`Budgets::precision_bits`](crate::config::Budgets::precision_bits).
pub(crate) const PRECISION_BITS: u32 = crate::config::Budgets::DEFAULT.precision_bits;
/// The budget [`Budgets::number_bits`](crate::config::Budgets::number_bits).
pub(crate) const NUMBER_BITS: u64 = crate::config::Budgets::DEFAULT.number_bits;

/// A certified real number.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Real {
    /// An exact rational.
    Exact(BigRational),
    /// The true value lies in `[lo, hi]`, `lo < hi`.
    Approx {
        /// Lower endpoint.
        lo: BigRational,
        /// Upper endpoint.
        hi: BigRational,
    },
}

/// Why an operation has no certified result.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RealError {
    /// Division by zero.
    DivisionByZero,
    /// Outside the function's domain (a root of a negative, log of a nonpositive).
    Domain(String),
    /// An enclosure too wide to decide (dividing by an interval around 0...).
    Undecided(String),
    /// A number would exceed [`NUMBER_BITS`].
    Budget(String),
}

type R = Result<Real, RealError>;

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn bits(x: &BigRational) -> u64 {
    x.numer().bits().max(x.denom().bits())
}

fn guard(x: BigRational) -> Result<BigRational, RealError> {
    if bits(&x) > NUMBER_BITS {
        return Err(RealError::Budget(format!(
            "a number of more than {NUMBER_BITS} bits"
        )));
    }
    Ok(x)
}

fn scale() -> BigInt {
    BigInt::one() << PRECISION_BITS
}

/// Rounds down to a multiple of 2^-PRECISION_BITS.
fn down(x: &BigRational) -> BigRational {
    if x.denom().bits() <= PRECISION_BITS as u64 + 1 {
        return x.clone();
    }
    let s = scale();
    BigRational::new(
        (x * BigRational::from_integer(s.clone()))
            .floor()
            .to_integer(),
        s,
    )
}

/// Rounds up to a multiple of 2^-PRECISION_BITS.
fn up(x: &BigRational) -> BigRational {
    if x.denom().bits() <= PRECISION_BITS as u64 + 1 {
        return x.clone();
    }
    let s = scale();
    BigRational::new(
        (x * BigRational::from_integer(s.clone()))
            .ceil()
            .to_integer(),
        s,
    )
}

/// The exact `q`-th root of an integer, if it is a perfect power.
pub(crate) fn integer_root_exact(n: &BigInt, k: u32) -> Option<BigInt> {
    if n.is_negative() {
        if k.is_multiple_of(2) {
            return None;
        }
        return integer_root_exact(&-n, k).map(|r| -r);
    }
    let r = n.nth_root(k);
    (num_traits::pow(r.clone(), k as usize) == *n).then_some(r)
}

fn exact_root(x: &BigRational, k: u32) -> Option<BigRational> {
    Some(BigRational::new(
        integer_root_exact(x.numer(), k)?,
        integer_root_exact(x.denom(), k)?,
    ))
}

/// Certified bounds `lo <= x^(1/k) <= hi` for `x >= 0`.
fn root_bounds(x: &BigRational, k: u32) -> (BigRational, BigRational) {
    // N = floor(x 2^(kP)); s = floor(N^(1/k)); then s/2^P <= x^(1/k) < (s+1)/2^P.
    let p = PRECISION_BITS as usize;
    let shifted = (x.numer() << (k as usize * p)) / x.denom();
    let s = shifted.nth_root(k);
    let den = BigInt::one() << p;
    (
        BigRational::new(s.clone(), den.clone()),
        BigRational::new(s + 1, den),
    )
}

fn approx(lo: BigRational, hi: BigRational) -> Real {
    if lo == hi {
        Real::Exact(lo)
    } else {
        Real::Approx {
            lo: down(&lo),
            hi: up(&hi),
        }
    }
}

fn factorial(n: u32) -> BigInt {
    (1..=n).fold(BigInt::one(), |a, b| a * b)
}

/// Lower and upper bounds of the Taylor polynomial of exp at `y` (|y| <= 1/2)
/// plus or minus its tail bound.
fn exp_taylor(y: &BigRational) -> (BigRational, BigRational) {
    let terms = 40u32;
    let mut sum = BigRational::zero();
    let mut pow = BigRational::one();
    for i in 0..terms {
        sum += &pow / BigRational::from_integer(factorial(i));
        pow *= y;
    }
    // The tail after `terms` terms is at most 2 |y|^terms / terms! for |y| <= 1/2.
    let tail = q(2) * num_traits::pow(y.abs(), terms as usize)
        / BigRational::from_integer(factorial(terms));
    (&sum - &tail, &sum + &tail)
}

/// exp(y) for |y| <= 1/2, as an enclosure. exp is increasing, so the
/// endpoints are taken at `y` rounded down and up to keep numbers small.
fn exp_small(y: &BigRational) -> (BigRational, BigRational) {
    let (lo, _) = exp_taylor(&down(y));
    let (_, hi) = exp_taylor(&up(y));
    (down(&lo), up(&hi))
}

/// An enclosure of exp(x) for rational x, or Budget when |x| is huge.
fn exp_bounds(x: &BigRational) -> Result<(BigRational, BigRational), RealError> {
    let mut m = 0u32;
    let mut y = x.clone();
    while y.abs() > BigRational::new(BigInt::one(), BigInt::from(2)) {
        y /= q(2);
        m += 1;
        if m > 40 {
            return Err(RealError::Budget("exp of a number larger than 2^39".into()));
        }
    }
    let (mut lo, mut hi) = exp_small(&y);
    for _ in 0..m {
        lo = down(&(&lo * &lo));
        hi = up(&(&hi * &hi));
        if bits(&hi) > NUMBER_BITS {
            return Err(RealError::Budget("exp too large".into()));
        }
    }
    Ok((lo, hi))
}

/// Bounds of atanh(z) for |z| <= 1/3: the series and its tail bound.
fn atanh_series(z: &BigRational) -> (BigRational, BigRational) {
    let terms = 60usize;
    let z2 = z * z;
    let mut pow = z.clone();
    let mut sum = BigRational::zero();
    for i in 0..terms {
        sum += &pow / q(2 * i as i64 + 1);
        pow *= &z2;
    }
    // Tail: |z|^(2N+1) / ((2N+1)(1 - z^2)) <= |z|^(2N+1) · 9/8 / (2N+1).
    let tail = num_traits::pow(z.abs(), 2 * terms + 1) * BigRational::new(9.into(), 8.into())
        / q(2 * terms as i64 + 1);
    (&sum - &tail, &sum + &tail)
}

/// An enclosure of atanh(z) for |z| <= 1/3 (atanh is increasing).
fn atanh_bounds(z: &BigRational) -> (BigRational, BigRational) {
    let (lo, _) = atanh_series(&down(z));
    let (_, hi) = atanh_series(&up(z));
    (down(&lo), up(&hi))
}

/// An enclosure of log(x) for rational x > 0.
fn log_bounds(x: &BigRational) -> (BigRational, BigRational) {
    // x = 2^k m with m in [2/3, 4/3]; log x = k log 2 + 2 atanh((m-1)/(m+1)).
    let mut k: i64 = 0;
    let mut m = x.clone();
    let two = q(2);
    while m > BigRational::new(4.into(), 3.into()) {
        m /= &two;
        k += 1;
    }
    while m < BigRational::new(2.into(), 3.into()) {
        m *= &two;
        k -= 1;
    }
    let (l2lo, l2hi) = atanh_bounds(&BigRational::new(1.into(), 3.into()));
    let (alo, ahi) = atanh_bounds(&((&m - q(1)) / (&m + q(1))));
    let kq = q(k);
    let (klo, khi) = if k >= 0 {
        (&kq * &l2lo * q(2), &kq * &l2hi * q(2))
    } else {
        (&kq * &l2hi * q(2), &kq * &l2lo * q(2))
    };
    (down(&(klo + alo * q(2))), up(&(khi + ahi * q(2))))
}

impl Real {
    /// An exact value.
    pub(crate) fn exact(x: BigRational) -> Real {
        Real::Exact(x)
    }

    /// The exact value, if the value is exact.
    pub(crate) fn as_exact(&self) -> Option<&BigRational> {
        match self {
            Real::Exact(x) => Some(x),
            Real::Approx { .. } => None,
        }
    }

    /// The enclosure (equal endpoints for an exact value).
    pub(crate) fn bounds(&self) -> (BigRational, BigRational) {
        match self {
            Real::Exact(x) => (x.clone(), x.clone()),
            Real::Approx { lo, hi } => (lo.clone(), hi.clone()),
        }
    }

    /// `self + o`.
    pub(crate) fn add(&self, o: &Real) -> R {
        match (self, o) {
            // Integers add without the gcd that reducing a fraction needs.
            (Real::Exact(a), Real::Exact(b)) if a.is_integer() && b.is_integer() => Ok(
                Real::Exact(guard(BigRational::from_integer(a.numer() + b.numer()))?),
            ),
            (Real::Exact(a), Real::Exact(b)) => Ok(Real::Exact(guard(a + b)?)),
            _ => {
                let ((a, b), (c, d)) = (self.bounds(), o.bounds());
                Ok(approx(a + c, b + d))
            }
        }
    }

    /// `self - o`.
    pub(crate) fn sub(&self, o: &Real) -> R {
        self.add(&o.neg())
    }

    /// `self · o`.
    pub(crate) fn mul(&self, o: &Real) -> R {
        match (self, o) {
            (Real::Exact(a), Real::Exact(b)) if a.is_integer() && b.is_integer() => Ok(
                Real::Exact(guard(BigRational::from_integer(a.numer() * b.numer()))?),
            ),
            (Real::Exact(a), Real::Exact(b)) => Ok(Real::Exact(guard(a * b)?)),
            _ => {
                let ((a, b), (c, d)) = (self.bounds(), o.bounds());
                let p = [&a * &c, &a * &d, &b * &c, &b * &d];
                let lo = p.iter().min().cloned().expect("four products");
                let hi = p.iter().max().cloned().expect("four products");
                Ok(approx(lo, hi))
            }
        }
    }

    /// `self / o`.
    pub(crate) fn div(&self, o: &Real) -> R {
        match o {
            Real::Exact(b) if b.is_zero() => Err(RealError::DivisionByZero),
            Real::Exact(b) => match self {
                Real::Exact(a) => Ok(Real::Exact(guard(a / b)?)),
                _ => self.mul(&Real::Exact(b.recip())),
            },
            Real::Approx { lo, hi } => {
                if !lo.is_positive() && !hi.is_negative() {
                    return Err(RealError::Undecided(
                        "dividing by an enclosure that contains 0".into(),
                    ));
                }
                let recip = approx(hi.recip(), lo.recip());
                self.mul(&recip)
            }
        }
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> Real {
        match self {
            Real::Exact(x) => Real::Exact(-x),
            Real::Approx { lo, hi } => Real::Approx { lo: -hi, hi: -lo },
        }
    }

    /// `self^k` for an integer `k`.
    pub(crate) fn powi(&self, k: &BigInt) -> R {
        let (lo, hi) = self.bounds();
        let magnitude = lo.abs().max(hi.abs());
        // 0, 1 and -1 are cheap to any power.
        if let Real::Exact(a) = self {
            if a.is_zero() {
                if k.is_negative() {
                    return Err(RealError::Domain("0 to a negative power".into()));
                }
                return Ok(Real::Exact(if k.is_zero() { q(1) } else { q(0) }));
            }
            if a.abs().is_one() {
                let odd = k.is_odd();
                return Ok(Real::Exact(if a.is_negative() && odd {
                    q(-1)
                } else {
                    q(1)
                }));
            }
        }
        let kk = k
            .abs()
            .to_u64()
            .filter(|kk| bits(&magnitude).max(bits(&lo)).saturating_mul(*kk) <= NUMBER_BITS);
        let Some(kk) = kk else {
            return Err(RealError::Budget(format!(
                "a power with exponent {k} is too large"
            )));
        };
        let kk = kk as usize;
        let p = match self {
            Real::Exact(a) => Real::Exact(num_traits::pow(a.clone(), kk)),
            Real::Approx { lo, hi } => {
                let (a, b) = (
                    num_traits::pow(lo.clone(), kk),
                    num_traits::pow(hi.clone(), kk),
                );
                if kk % 2 == 1 || lo.is_positive() {
                    approx(a, b)
                } else if hi.is_negative() {
                    approx(b, a)
                } else {
                    approx(q(0), a.max(b))
                }
            }
        };
        if k.is_negative() {
            Real::Exact(q(1)).div(&p)
        } else {
            Ok(p)
        }
    }

    /// The real `k`-th root (odd roots of negatives allowed).
    pub(crate) fn root(&self, k: u32) -> R {
        if k == 0 {
            return Err(RealError::Domain("a 0th root".into()));
        }
        let (lo, hi) = self.bounds();
        if lo.is_negative() {
            if k.is_multiple_of(2) {
                if hi.is_negative() || self.as_exact().is_some() {
                    return Err(RealError::Domain(
                        "an even root of a negative number".into(),
                    ));
                }
                return Err(RealError::Undecided(
                    "an even root of an enclosure around 0".into(),
                ));
            }
            return Ok(self.neg().root(k)?.neg());
        }
        if let Real::Exact(a) = self {
            if let Some(r) = exact_root(a, k) {
                return Ok(Real::Exact(r));
            }
        }
        let (l, _) = root_bounds(&lo, k);
        let (_, h) = root_bounds(&hi, k);
        Ok(approx(l, h))
    }

    /// The square root.
    pub(crate) fn sqrt(&self) -> R {
        self.root(2)
    }

    /// `self^e`: rational exponents by roots and powers; others by exp(e·log(self)).
    pub(crate) fn pow(&self, e: &Real) -> R {
        match e {
            Real::Exact(r) => {
                let d = r
                    .denom()
                    .to_u32()
                    .filter(|d| *d <= 1 << 16)
                    .ok_or_else(|| RealError::Budget("a root of huge degree".into()))?;
                if d == 1 {
                    return self.powi(r.numer());
                }
                // (x^(1/d))^p keeps the sign rules of real odd roots.
                self.root(d)?.powi(r.numer())
            }
            Real::Approx { .. } => {
                let (lo, _) = self.bounds();
                if !lo.is_positive() {
                    return Err(RealError::Undecided(
                        "an irrational power of a base that is not positive".into(),
                    ));
                }
                e.mul(&self.log()?)?.exp()
            }
        }
    }

    /// The exponential.
    pub(crate) fn exp(&self) -> R {
        let (lo, hi) = self.bounds();
        if let Real::Exact(a) = self {
            if a.is_zero() {
                return Ok(Real::Exact(q(1)));
            }
        }
        let (l, _) = exp_bounds(&lo)?;
        let (_, h) = exp_bounds(&hi)?;
        Ok(approx(l, h))
    }

    /// The natural logarithm.
    pub(crate) fn log(&self) -> R {
        let (lo, hi) = self.bounds();
        if !lo.is_positive() {
            if self.as_exact().is_some() || !hi.is_positive() {
                return Err(RealError::Domain("log of a nonpositive number".into()));
            }
            return Err(RealError::Undecided("log of an enclosure around 0".into()));
        }
        if let Real::Exact(a) = self {
            if a.is_one() {
                return Ok(Real::Exact(q(0)));
            }
        }
        let (l, _) = log_bounds(&lo);
        let (_, h) = log_bounds(&hi);
        Ok(approx(l, h))
    }

    /// The absolute value.
    pub(crate) fn abs(&self) -> R {
        let (lo, hi) = self.bounds();
        Ok(match self {
            Real::Exact(a) => Real::Exact(a.abs()),
            _ if !lo.is_negative() => self.clone(),
            _ if !hi.is_positive() => self.neg(),
            _ => approx(q(0), lo.abs().max(hi.abs())),
        })
    }

    fn decided<F: Fn(&BigRational) -> BigRational>(&self, f: F, what: &str) -> R {
        let (lo, hi) = self.bounds();
        let (a, b) = (f(&lo), f(&hi));
        if a == b {
            Ok(Real::Exact(a))
        } else {
            Err(RealError::Undecided(format!(
                "{what} of an enclosure that straddles a jump"
            )))
        }
    }

    /// The floor.
    pub(crate) fn floor(&self) -> R {
        self.decided(|x| x.floor(), "floor")
    }

    /// The ceiling.
    pub(crate) fn ceil(&self) -> R {
        self.decided(|x| x.ceil(), "ceil")
    }

    /// The sign (−1, 0 or 1).
    pub(crate) fn sign(&self) -> R {
        self.decided(|x| x.signum(), "sign")
    }

    /// The smaller of two values.
    pub(crate) fn min(&self, o: &Real) -> R {
        match self.cmp_certain(o) {
            Some(Ordering::Greater) => Ok(o.clone()),
            Some(_) => Ok(self.clone()),
            None => Err(RealError::Undecided("min of overlapping enclosures".into())),
        }
    }

    /// The larger of two values.
    pub(crate) fn max(&self, o: &Real) -> R {
        match self.cmp_certain(o) {
            Some(Ordering::Less) => Ok(o.clone()),
            Some(_) => Ok(self.clone()),
            None => Err(RealError::Undecided("max of overlapping enclosures".into())),
        }
    }

    /// The order of two values when it is certain.
    pub(crate) fn cmp_certain(&self, o: &Real) -> Option<Ordering> {
        if let (Real::Exact(a), Real::Exact(b)) = (self, o) {
            return Some(a.cmp(b));
        }
        let ((a, b), (c, d)) = (self.bounds(), o.bounds());
        if b < c {
            Some(Ordering::Less)
        } else if a > d {
            Some(Ordering::Greater)
        } else {
            None
        }
    }

    /// Are the two values certainly different?
    pub(crate) fn certainly_ne(&self, o: &Real) -> bool {
        matches!(
            self.cmp_certain(o),
            Some(Ordering::Less | Ordering::Greater)
        )
    }

    /// The value for reports: exact as `p/q`; an enclosure as the decimal
    /// digits it certainly has, followed by `…`.
    pub(crate) fn display(&self) -> String {
        match self {
            Real::Exact(x) => crate::syntax::expr::format_rational(x),
            Real::Approx { lo, hi } => {
                let mut best = None;
                for d in 0..=30usize {
                    let s = BigRational::from_integer(num_traits::pow(BigInt::from(10), d));
                    let (a, b) = ((lo * &s).trunc(), (hi * &s).trunc());
                    if a == b && lo.signum() == hi.signum() {
                        best = Some((d, a.to_integer()));
                    } else {
                        break;
                    }
                }
                match best {
                    Some((d, n)) => {
                        let neg = n.sign() == BigSign::Minus || (n.is_zero() && lo.is_negative());
                        let digits = format!("{:0>w$}", n.abs().to_string(), w = d + 1);
                        let (i, f) = digits.split_at(digits.len() - d);
                        let sign = if neg { "-" } else { "" };
                        if d == 0 {
                            format!("{sign}{i}…")
                        } else {
                            format!("{sign}{i}.{f}…")
                        }
                    }
                    None => format!(
                        "between {} and {}",
                        crate::syntax::expr::format_decimal(&down(lo))
                            .unwrap_or_else(|| lo.to_string()),
                        crate::syntax::expr::format_decimal(&up(hi))
                            .unwrap_or_else(|| hi.to_string())
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> Real {
        Real::exact(BigRational::new(n.into(), d.into()))
    }

    fn dec(s: &str) -> BigRational {
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let n: BigInt = format!("{i}{f}").parse().unwrap();
        BigRational::new(n, num_traits::pow(BigInt::from(10), f.len()))
    }

    fn contains(x: &Real, v: &BigRational) -> bool {
        let (lo, hi) = x.bounds();
        &lo <= v && v <= &hi
    }

    #[test]
    fn roots_are_exact_when_they_can_be() {
        assert_eq!(r(9, 4).sqrt().unwrap(), r(3, 2));
        assert_eq!(r(8, 1).pow(&r(2, 3)).unwrap(), r(4, 1));
        assert_eq!(r(-8, 1).root(3).unwrap(), r(-2, 1));
        assert!(matches!(r(-1, 1).sqrt(), Err(RealError::Domain(_))));
    }

    #[test]
    fn enclosures_contain_the_truth_and_are_narrow() {
        let s2 = r(2, 1).sqrt().unwrap();
        let sq = s2.mul(&s2).unwrap();
        assert!(contains(&sq, &dec("2")));
        assert!(!contains(
            &sq,
            &(dec("2") + BigRational::new(1.into(), num_traits::pow(BigInt::from(10), 50)))
        ));
        let (lo, hi) = s2.bounds();
        assert!(
            lo < dec("1.4142135623730950488016887242097")
                && dec("1.4142135623730950488016887242096") < hi
        );
        assert!(&hi - &lo < BigRational::new(1.into(), num_traits::pow(BigInt::from(10), 60)));
        let e = r(1, 1).exp().unwrap();
        let (lo, hi) = e.bounds();
        assert!(
            lo < dec("2.7182818284590452353602874713527")
                && dec("2.7182818284590452353602874713526") < hi
        );
        assert!(&hi - &lo < BigRational::new(1.into(), num_traits::pow(BigInt::from(10), 40)));
        let l2 = r(2, 1).log().unwrap();
        let (lo, hi) = l2.bounds();
        assert!(
            lo < dec("0.69314718055994530941723212145818")
                && dec("0.69314718055994530941723212145817") < hi
        );
        let back = r(3, 1).log().unwrap().exp().unwrap();
        assert!(contains(&back, &dec("3")));
    }

    #[test]
    fn comparisons_are_decided_only_when_certain() {
        let s2 = r(2, 1).sqrt().unwrap();
        assert_eq!(s2.cmp_certain(&r(14142, 10000)), Some(Ordering::Greater));
        assert_eq!(s2.cmp_certain(&r(2, 1).sqrt().unwrap()), None);
        let sum = r(2, 1)
            .sqrt()
            .unwrap()
            .add(&r(3, 1).sqrt().unwrap())
            .unwrap();
        assert!(sum.certainly_ne(&r(5, 1).sqrt().unwrap()));
        assert!(matches!(
            Real::Approx {
                lo: dec("2.9"),
                hi: dec("3.1")
            }
            .floor(),
            Err(RealError::Undecided(_))
        ));
        assert_eq!(r(7, 2).floor().unwrap(), r(3, 1));
    }

    #[test]
    fn limits_are_errors_not_hangs() {
        assert!(matches!(
            r(2, 1).powi(&BigInt::from(1_000_000_000u64)),
            Err(RealError::Budget(_))
        ));
        assert_eq!(
            r(1, 1).powi(&BigInt::from(1_000_000_000u64)).unwrap(),
            r(1, 1)
        );
        assert_eq!(
            r(-1, 1).powi(&BigInt::from(1_000_000_001u64)).unwrap(),
            r(-1, 1)
        );
        assert!(matches!(
            r(1, 1).div(&r(0, 1)),
            Err(RealError::DivisionByZero)
        ));
        assert!(matches!(r(1i64 << 50, 1).exp(), Err(RealError::Budget(_))));
    }

    #[test]
    fn display_shows_certain_digits() {
        assert_eq!(r(-127, 128).display(), "-127/128");
        assert!(r(2, 1)
            .sqrt()
            .unwrap()
            .display()
            .starts_with("1.41421356237309504880"));
    }
}
