//! Certified reals for spot checks: a value is either an exact rational or
//! a certified interval ([`Interval`], dyadic endpoints rounded outward)
//! that contains the true value. Irrational values (roots of non-perfect
//! powers, `exp`, `log`, `sin`, `π`...) get intervals at the working
//! precision of the current thread ([`precision`], set for a scope by
//! [`with_precision`]; relative, like a floating-point mantissa, so
//! `exp(10^6)` costs the same as `exp(1)`). A comparison is decided only
//! when it is certain (exact values, or disjoint intervals); floating point
//! never decides anything. Exact rationals stay exact while they are small;
//! a result beyond [`NUMBER_BITS`] becomes an interval instead of a huge
//! exact number (`2^559726564` is a mantissa and an exponent).

use crate::exact::dyadic::{Dir, Dyadic};
use crate::exact::interval::{self, Interval, IvError};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cell::Cell;
use std::cmp::Ordering;

/// The budget [`Budgets::precision_bits`](crate::config::Budgets::precision_bits).
pub(crate) const PRECISION_BITS: u32 = crate::config::Budgets::DEFAULT.precision_bits;
/// The budget [`Budgets::number_bits`](crate::config::Budgets::number_bits).
pub(crate) const NUMBER_BITS: u64 = crate::config::Budgets::DEFAULT.number_bits;

thread_local! {
    static PRECISION: Cell<u32> = const { Cell::new(PRECISION_BITS) };
}

/// The working precision of this thread's intervals, in significant bits.
pub(crate) fn precision() -> u32 {
    PRECISION.with(|p| p.get())
}

/// Runs `f` with intervals computed at `bits` of precision on this thread
/// (restored afterwards, also when `f` panics).
pub(crate) fn with_precision<T>(bits: u32, f: impl FnOnce() -> T) -> T {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            PRECISION.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(PRECISION.with(|p| p.replace(bits.max(16))));
    f()
}

/// A certified real number.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Real {
    /// An exact rational.
    Exact(BigRational),
    /// The true value lies in the interval.
    Approx(Interval),
}

/// Why an operation has no certified result.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum RealError {
    /// Division by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// Outside the function's domain (a root of a negative, log of a nonpositive).
    #[error("{0}")]
    Domain(String),
    /// An enclosure too wide to decide (dividing by an interval around 0...).
    #[error("{0}")]
    Undecided(String),
    /// A number beyond what the budgets allow.
    #[error("{0}")]
    Budget(String),
}

type R = Result<Real, RealError>;

impl From<IvError> for RealError {
    fn from(e: IvError) -> RealError {
        match e {
            IvError::Domain(s) => RealError::Domain(s),
            IvError::Undecided(s) => RealError::Undecided(s),
            IvError::Range(s) => RealError::Budget(format!(
                "{s} cannot be represented (try smaller values with `where`)"
            )),
        }
    }
}

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn bits(x: &BigRational) -> u64 {
    x.numer().bits().max(x.denom().bits())
}

/// The exact `k`-th root of an integer, if it is a perfect power.
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

/// An exact result, or its interval when it has grown beyond [`NUMBER_BITS`].
fn sized(x: BigRational) -> R {
    if bits(&x) > NUMBER_BITS {
        return Ok(Real::Approx(Interval::from_rational(&x, precision())?));
    }
    Ok(Real::Exact(x))
}

impl Real {
    /// An exact value.
    pub(crate) fn exact(x: BigRational) -> Real {
        Real::Exact(x)
    }

    /// A value known to lie between two rationals.
    pub(crate) fn between(lo: &BigRational, hi: &BigRational) -> R {
        if lo == hi {
            return Ok(Real::Exact(lo.clone()));
        }
        let p = precision();
        let a = Interval::from_rational(lo, p)?;
        let b = Interval::from_rational(hi, p)?;
        Ok(Real::Approx(a.hull(&b)))
    }

    /// The exact value, if the value is exact.
    pub(crate) fn as_exact(&self) -> Option<&BigRational> {
        match self {
            Real::Exact(x) => Some(x),
            Real::Approx(_) => None,
        }
    }

    /// The enclosure at the current precision (a point for dyadic exact values).
    pub(crate) fn interval(&self) -> Result<Interval, RealError> {
        match self {
            Real::Exact(x) => Ok(Interval::from_rational(x, precision() + 8)?),
            Real::Approx(i) => Ok(i.clone()),
        }
    }

    fn lift(
        &self,
        o: &Real,
        f: impl Fn(&Interval, &Interval, u32) -> Result<Interval, IvError>,
    ) -> R {
        let (a, b) = (self.interval()?, o.interval()?);
        Ok(Real::Approx(f(&a, &b, precision())?))
    }

    fn lift1(&self, f: impl Fn(&Interval, u32) -> Result<Interval, IvError>) -> R {
        Ok(Real::Approx(f(&self.interval()?, precision())?))
    }

    /// `self + o`.
    pub(crate) fn add(&self, o: &Real) -> R {
        match (self, o) {
            // Integers add without the gcd that reducing a fraction needs.
            (Real::Exact(a), Real::Exact(b)) if a.is_integer() && b.is_integer() => {
                sized(BigRational::from_integer(a.numer() + b.numer()))
            }
            (Real::Exact(a), Real::Exact(b)) => sized(a + b),
            _ => self.lift(o, |a, b, p| a.add(b, p)),
        }
    }

    /// `self - o`.
    pub(crate) fn sub(&self, o: &Real) -> R {
        self.add(&o.neg())
    }

    /// `self · o`.
    pub(crate) fn mul(&self, o: &Real) -> R {
        match (self, o) {
            (Real::Exact(a), Real::Exact(b)) if a.is_integer() && b.is_integer() => {
                sized(BigRational::from_integer(a.numer() * b.numer()))
            }
            (Real::Exact(a), Real::Exact(b)) => sized(a * b),
            // An exact zero annihilates any enclosure.
            (Real::Exact(a), _) | (_, Real::Exact(a)) if a.is_zero() => Ok(Real::Exact(q(0))),
            _ => self.lift(o, |a, b, p| a.mul(b, p)),
        }
    }

    /// `self / o`.
    pub(crate) fn div(&self, o: &Real) -> R {
        match (self, o) {
            (_, Real::Exact(b)) if b.is_zero() => Err(RealError::DivisionByZero),
            (Real::Exact(a), Real::Exact(b)) => sized(a / b),
            (Real::Exact(a), _) if a.is_zero() => {
                if o.interval()?.contains_zero() {
                    return Err(RealError::Undecided(
                        "dividing by a value that may be 0".into(),
                    ));
                }
                Ok(Real::Exact(q(0)))
            }
            _ => self.lift(o, |a, b, p| a.div(b, p)),
        }
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> Real {
        match self {
            Real::Exact(x) => Real::Exact(-x),
            Real::Approx(i) => Real::Approx(i.neg()),
        }
    }

    /// `self^k` for an integer `k`.
    pub(crate) fn powi(&self, k: &BigInt) -> R {
        if let Real::Exact(a) = self {
            // 0, 1 and -1 are cheap to any power.
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
            let small = k
                .abs()
                .to_u64()
                .filter(|kk| bits(a).saturating_mul(*kk) <= NUMBER_BITS);
            if let Some(kk) = small {
                let p = num_traits::pow(a.clone(), kk as usize);
                return Ok(Real::Exact(if k.is_negative() { p.recip() } else { p }));
            }
        }
        if k.abs().to_u64().is_none_or(|kk| kk > 1 << 62) {
            return Err(RealError::Budget(
                "a power whose exponent is beyond 10^18 cannot be evaluated (try smaller values with `where`)"
                    .into(),
            ));
        }
        self.lift1(|a, p| a.powi(k, p))
    }

    /// The real `k`-th root (odd roots of negatives allowed).
    pub(crate) fn root(&self, k: u32) -> R {
        if k == 0 {
            return Err(RealError::Domain("a 0th root".into()));
        }
        if let Real::Exact(a) = self {
            if a.is_negative() && k.is_multiple_of(2) {
                return Err(RealError::Domain(
                    "an even root of a negative number".into(),
                ));
            }
            if let Some(r) = exact_root(a, k) {
                return Ok(Real::Exact(r));
            }
        }
        self.lift1(|a, p| a.root(k, p))
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
                    .ok_or_else(|| {
                        RealError::Budget(
                            "a root of degree beyond 65536 cannot be evaluated".into(),
                        )
                    })?;
                if d == 1 {
                    return self.powi(r.numer());
                }
                // (x^(1/d))^p keeps the sign rules of real odd roots.
                self.root(d)?.powi(r.numer())
            }
            Real::Approx(i) => {
                if let Real::Exact(a) = self {
                    if a.is_zero() && i.lo().signum() > 0 {
                        return Ok(Real::Exact(q(0)));
                    }
                    if !a.is_positive() {
                        return Err(RealError::Domain(
                            "an irrational power of a number that is not positive".into(),
                        ));
                    }
                }
                let base = self.interval()?;
                if base.lo().signum() <= 0 {
                    return Err(RealError::Undecided(
                        "an irrational power of a base that may not be positive".into(),
                    ));
                }
                let p = precision();
                let l = base.log(p + 8)?;
                Ok(Real::Approx(i.mul(&l, p + 8)?.exp(p)?))
            }
        }
    }

    /// The exponential.
    pub(crate) fn exp(&self) -> R {
        if self.as_exact().is_some_and(|a| a.is_zero()) {
            return Ok(Real::Exact(q(1)));
        }
        self.lift1(|a, p| a.exp(p))
    }

    /// The natural logarithm.
    pub(crate) fn log(&self) -> R {
        if let Real::Exact(a) = self {
            if !a.is_positive() {
                return Err(RealError::Domain(
                    "the logarithm of a number that is not positive".into(),
                ));
            }
            if a.is_one() {
                return Ok(Real::Exact(q(0)));
            }
        }
        self.lift1(|a, p| a.log(p))
    }

    /// The sine.
    pub(crate) fn sin(&self) -> R {
        if self.as_exact().is_some_and(|a| a.is_zero()) {
            return Ok(Real::Exact(q(0)));
        }
        self.lift1(|a, p| a.sin(p))
    }

    /// The cosine.
    pub(crate) fn cos(&self) -> R {
        if self.as_exact().is_some_and(|a| a.is_zero()) {
            return Ok(Real::Exact(q(1)));
        }
        self.lift1(|a, p| a.cos(p))
    }

    /// The tangent.
    pub(crate) fn tan(&self) -> R {
        if self.as_exact().is_some_and(|a| a.is_zero()) {
            return Ok(Real::Exact(q(0)));
        }
        self.lift1(|a, p| a.tan(p))
    }

    /// π.
    pub(crate) fn pi() -> R {
        Ok(Real::Approx(interval::pi(precision())?))
    }

    /// The absolute value.
    pub(crate) fn abs(&self) -> R {
        Ok(match self {
            Real::Exact(a) => Real::Exact(a.abs()),
            Real::Approx(i) if i.lo().signum() >= 0 => self.clone(),
            Real::Approx(i) if i.hi().signum() <= 0 => self.neg(),
            Real::Approx(i) => Real::Approx(Interval::new(Dyadic::zero(), i.mag())),
        })
    }

    fn decided(
        &self,
        exact: impl Fn(&BigRational) -> BigRational,
        ends: impl Fn(&Dyadic) -> Option<BigInt>,
        what: &str,
    ) -> R {
        match self {
            Real::Exact(a) => Ok(Real::Exact(exact(a))),
            Real::Approx(i) => match (ends(i.lo()), ends(i.hi())) {
                (Some(a), Some(b)) if a == b => Ok(Real::Exact(BigRational::from_integer(a))),
                _ => Err(RealError::Undecided(format!(
                    "{what} of a value known only approximately, near a jump"
                ))),
            },
        }
    }

    /// The floor.
    pub(crate) fn floor(&self) -> R {
        self.decided(|x| x.floor(), |d| d.floor_int(), "the floor")
    }

    /// The ceiling.
    pub(crate) fn ceil(&self) -> R {
        self.decided(|x| x.ceil(), |d| d.ceil_int(), "the ceiling")
    }

    /// The sign (−1, 0 or 1).
    pub(crate) fn sign(&self) -> R {
        self.decided(
            |x| x.signum(),
            |d| Some(BigInt::from(d.signum())),
            "the sign",
        )
    }

    /// The smaller of two values.
    pub(crate) fn min(&self, o: &Real) -> R {
        match self.cmp_certain(o) {
            Some(Ordering::Greater) => Ok(o.clone()),
            Some(_) => Ok(self.clone()),
            None => Err(RealError::Undecided(
                "min of two values too close to tell apart".into(),
            )),
        }
    }

    /// The larger of two values.
    pub(crate) fn max(&self, o: &Real) -> R {
        match self.cmp_certain(o) {
            Some(Ordering::Less) => Ok(o.clone()),
            Some(_) => Ok(self.clone()),
            None => Err(RealError::Undecided(
                "max of two values too close to tell apart".into(),
            )),
        }
    }

    /// The order of two values when it is certain.
    pub(crate) fn cmp_certain(&self, o: &Real) -> Option<Ordering> {
        if let (Real::Exact(a), Real::Exact(b)) = (self, o) {
            return Some(a.cmp(b));
        }
        let (a, b) = (self.interval().ok()?, o.interval().ok()?);
        a.cmp_certain(&b)
    }

    /// Are the two values certainly different?
    pub(crate) fn certainly_ne(&self, o: &Real) -> bool {
        matches!(
            self.cmp_certain(o),
            Some(Ordering::Less | Ordering::Greater)
        )
    }

    /// Do the two enclosures overlap and are they narrow: within a relative
    /// 2^-`bits` of each other (or both within 2^-`bits` of 0)? This is
    /// numerical agreement, never a proof of equality.
    pub(crate) fn agrees_within(&self, o: &Real, bits: u32) -> bool {
        let (Ok(a), Ok(b)) = (self.interval(), o.interval()) else {
            return false;
        };
        if a.cmp_certain(&b).is_some_and(|c| c != Ordering::Equal) {
            return false;
        }
        let h = a.hull(&b);
        let p = precision() + 8;
        let Some(tol) = Dyadic::new(BigInt::one(), -(bits as i64)) else {
            return false;
        };
        if h.contains_zero() {
            return h.mag() <= tol;
        }
        let (Ok(w), Some(limit)) = (h.width(p), h.mig().mul(&tol, p, Dir::Down)) else {
            return false;
        };
        w <= limit
    }

    /// The value for reports: exact as `p/q` (long ones abbreviated to 12
    /// significant digits); an enclosure as the decimal digits it certainly
    /// has (at most 12), followed by `…`.
    pub(crate) fn display(&self) -> String {
        match self {
            Real::Exact(x) => {
                let s = crate::syntax::expr::format_rational(x);
                if s.len() <= 40 {
                    return s;
                }
                match Interval::from_rational(x, 64).ok().and_then(|i| digits(&i)) {
                    Some(d) => format!("{d} (exactly; {} digits in full)", s.len()),
                    None => s,
                }
            }
            Real::Approx(i) => digits(i).unwrap_or_else(|| between(i)),
        }
    }
}

/// `10^n` as an interval (exact for moderate `n`).
fn ten_pow(n: i64, p: u32) -> Option<Interval> {
    Interval::int(10).powi(&BigInt::from(n), p).ok()
}

/// The decimal exponent of the leading digit of `|x|` (an estimate, off by
/// at most one, which only shifts how many digits are shown).
fn decimal_exponent(x: &Dyadic) -> i64 {
    let (m, e) = x.parts();
    let b = m.bits() as i64;
    let head = (m.abs() >> (b - 53).max(0) as usize)
        .to_f64()
        .unwrap_or(1.0);
    let log2 = head.log2() + (e + (b - 53).max(0)) as f64;
    (log2 * std::f64::consts::LOG10_2).floor() as i64
}

/// The certain leading digits of an interval that does not contain 0.
fn digits(i: &Interval) -> Option<String> {
    if i.contains_zero() {
        return None;
    }
    let j = decimal_exponent(&i.mag());
    // Scale so that 12 significant digits are the integer part.
    let scaled = i.mul(&ten_pow(11 - j, 96)?, 96).ok()?;
    let lo = scaled.lo().abs().floor_int()?;
    let hi = scaled.hi().abs().floor_int()?;
    let (a, b) = (lo.to_string(), hi.to_string());
    if a.len() != b.len() {
        return None;
    }
    let common: String = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    if common.is_empty() {
        return None;
    }
    // The leading digit's exponent, corrected if the estimate was off.
    let lead = j + (a.len() as i64 - 12);
    let sign = if i.lo().signum() < 0 { "-" } else { "" };
    Some(format!("{sign}{}", place(&common, lead, "…")))
}

/// Digits `d1 d2 ...` with the first at decimal exponent `lead`, `more`
/// after the digits.
fn place(ds: &str, lead: i64, more: &str) -> String {
    if (0..12).contains(&lead) {
        let int_len = lead as usize + 1;
        if ds.len() < int_len {
            // Certain only to the left of the point.
            format!("{ds}{more}{}", "0".repeat(int_len - ds.len()))
        } else if ds.len() == int_len {
            format!("{ds}{more}")
        } else {
            format!("{}.{}{more}", &ds[..int_len], &ds[int_len..])
        }
    } else if (-5..0).contains(&lead) {
        format!("0.{}{ds}{more}", "0".repeat((-lead - 1) as usize))
    } else {
        let (first, rest) = ds.split_at(1);
        let sep = if rest.is_empty() { "" } else { "." };
        format!("{first}{sep}{rest}{more}e{lead}")
    }
}

/// "between a and b" with 6 significant digits each, rounded outward.
fn between(i: &Interval) -> String {
    let end = |d: &Dyadic, dir: Dir| -> Option<String> {
        if d.is_zero() {
            return Some("0".into());
        }
        let j = decimal_exponent(d);
        let scaled = Interval::point(d.clone())
            .mul(&ten_pow(5 - j, 96)?, 96)
            .ok()?;
        let v = match dir {
            Dir::Down => scaled.lo().floor_int()?,
            Dir::Up => scaled.hi().ceil_int()?,
        };
        let s = v.abs().to_string();
        let lead = j + (s.len() as i64 - 6);
        let s = s.trim_end_matches('0');
        let s = if s.is_empty() { "0" } else { s };
        let sign = if v.is_negative() { "-" } else { "" };
        Some(format!("{sign}{}", place(s, lead, "")))
    };
    match (end(i.lo(), Dir::Down), end(i.hi(), Dir::Up)) {
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        _ => "a value known only approximately".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> Real {
        Real::exact(BigRational::new(n.into(), d.into()))
    }

    #[test]
    fn roots_are_exact_when_they_can_be() {
        assert_eq!(r(9, 4).sqrt().unwrap(), r(3, 2));
        assert_eq!(r(8, 1).pow(&r(2, 3)).unwrap(), r(4, 1));
        assert_eq!(r(-8, 1).root(3).unwrap(), r(-2, 1));
        assert!(matches!(r(-1, 1).sqrt(), Err(RealError::Domain(_))));
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
        assert!(s2.agrees_within(&r(2, 1).sqrt().unwrap(), 100));
        assert!(!s2.agrees_within(&r(14142, 10000), 100));
        let wide = Real::between(
            &BigRational::new(29.into(), 10.into()),
            &BigRational::new(31.into(), 10.into()),
        )
        .unwrap();
        assert!(matches!(wide.floor(), Err(RealError::Undecided(_))));
        assert_eq!(r(7, 2).floor().unwrap(), r(3, 1));
    }

    #[test]
    fn huge_powers_become_enclosures_not_huge_numbers() {
        let big = r(2, 1).powi(&BigInt::from(559_726_564u64)).unwrap();
        assert!(big.as_exact().is_none());
        let big3 = r(3, 2).powi(&BigInt::from(1_000_000_000u64)).unwrap();
        assert!(big3.certainly_ne(&big));
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
        assert!(matches!(r(1i64 << 62, 1).exp(), Err(RealError::Budget(_))));
        // exp of a million is a mantissa and an exponent.
        let e = r(-1_000_000, 1).exp().unwrap();
        let s = r(1, 1).div(&r(1, 1).add(&e).unwrap()).unwrap();
        assert!(s.agrees_within(&r(1, 1), 100));
    }

    #[test]
    fn display_shows_at_most_twelve_certain_digits() {
        assert_eq!(r(-127, 128).display(), "-127/128");
        assert_eq!(r(2, 1).sqrt().unwrap().display(), "1.41421356237…");
        assert_eq!(Real::pi().unwrap().display(), "3.14159265358…");
        assert_eq!(
            r(1_000_000, 1).exp().unwrap().display(),
            "3.03321539680…e434294"
        );
        assert_eq!(r(-100, 1).exp().unwrap().display(), "3.72007597602…e-44");
        assert_eq!(r(1, 1000).sqrt().unwrap().display(), "0.0316227766016…");
        assert_eq!(
            r(5444, 1).add(&r(2, 1).sqrt().unwrap()).unwrap().display(),
            "5445.41421356…"
        );
        let big = r(3, 1).powi(&BigInt::from(1000)).unwrap();
        assert!(
            big.display().starts_with("1.32207081948…e477 (exactly"),
            "{}",
            big.display()
        );
        let near0 = r(1, 1)
            .sub(
                &r(2, 1)
                    .sqrt()
                    .unwrap()
                    .powi(&BigInt::from(2))
                    .unwrap()
                    .div(&r(2, 1))
                    .unwrap(),
            )
            .unwrap();
        assert!(
            near0.display().starts_with("between -"),
            "{}",
            near0.display()
        );
        assert!(near0.display().len() < 40, "{}", near0.display());
    }
}
