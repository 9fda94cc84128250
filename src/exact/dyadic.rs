//! Dyadic numbers `m · 2^e` (a `BigInt` mantissa, an `i64` exponent) with
//! directed rounding: the endpoints of the certified intervals of
//! [`crate::exact::interval`]. Every rounded operation says which way it
//! rounds ([`Dir::Down`] towards −∞, [`Dir::Up`] towards +∞), so an interval
//! built from a lower endpoint rounded down and an upper endpoint rounded
//! up always contains the exact result. No floating point is involved.
//!
//! Exponents stay within ±[`EXP_LIMIT`]; an operation that would leave
//! that range reports `None`, and the caller gives up with a budget reason.

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Exponents beyond ±2^62 are refused (2^(2^62) is far beyond any value a
/// spot check needs, and the arithmetic on exponents cannot overflow).
pub(crate) const EXP_LIMIT: i64 = 1 << 62;

/// The direction of a rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Towards −∞.
    Down,
    /// Towards +∞.
    Up,
}

/// `m · 2^e`, normalized: `m` odd, or `m = 0` with `e = 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dyadic {
    m: BigInt,
    e: i64,
}

impl Dyadic {
    /// Zero.
    pub(crate) fn zero() -> Dyadic {
        Dyadic {
            m: BigInt::zero(),
            e: 0,
        }
    }

    /// `m · 2^e`, normalized (`None` when the exponent leaves the range).
    pub(crate) fn new(m: BigInt, e: i64) -> Option<Dyadic> {
        if m.is_zero() {
            return Some(Dyadic::zero());
        }
        let tz = m.trailing_zeros().unwrap_or(0) as i64;
        let e = e.checked_add(tz)?;
        let m = m >> tz as usize;
        let d = Dyadic { m, e };
        (d.e.abs() <= EXP_LIMIT && d.top().abs() <= EXP_LIMIT).then_some(d)
    }

    /// An integer.
    pub(crate) fn from_int(n: impl Into<BigInt>) -> Dyadic {
        Dyadic::new(n.into(), 0).expect("an integer's exponent is small")
    }

    /// The mantissa and exponent.
    pub(crate) fn parts(&self) -> (&BigInt, i64) {
        (&self.m, self.e)
    }

    /// Is it zero?
    pub(crate) fn is_zero(&self) -> bool {
        self.m.is_zero()
    }

    /// −1, 0 or 1.
    pub(crate) fn signum(&self) -> i32 {
        match self.m.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }
    }

    /// The exponent just above the value: `|x| < 2^top` (0 for zero).
    pub(crate) fn top(&self) -> i64 {
        if self.m.is_zero() {
            0
        } else {
            self.e + self.m.bits() as i64
        }
    }

    /// `-x`.
    pub(crate) fn neg(&self) -> Dyadic {
        Dyadic {
            m: -&self.m,
            e: self.e,
        }
    }

    /// `|x|`.
    pub(crate) fn abs(&self) -> Dyadic {
        Dyadic {
            m: self.m.abs(),
            e: self.e,
        }
    }

    /// `x · 2^k` (`None` when the exponent leaves the range).
    pub(crate) fn shl(&self, k: i64) -> Option<Dyadic> {
        if self.is_zero() {
            return Some(Dyadic::zero());
        }
        Dyadic::new(self.m.clone(), self.e.checked_add(k)?)
    }

    /// The exact rational value (`None` when it would have more than `max_bits` bits).
    pub(crate) fn to_rational(&self, max_bits: u64) -> Option<BigRational> {
        let size = self.m.bits() + self.e.unsigned_abs();
        if size > max_bits {
            return None;
        }
        Some(if self.e >= 0 {
            BigRational::from_integer(&self.m << self.e as usize)
        } else {
            BigRational::new(self.m.clone(), BigInt::one() << (-self.e) as usize)
        })
    }

    /// A rough value for choosing reductions and digits (never to decide anything).
    pub(crate) fn approx_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let b = self.m.bits() as i64;
        let shift = (b - 60).max(0);
        let head = (&self.m >> shift as usize).to_f64().unwrap_or(0.0);
        let e = self.e + shift;
        if e > 2000 {
            return head.signum() * f64::INFINITY;
        }
        if e < -2000 {
            return 0.0;
        }
        head * (e as f64).exp2()
    }

    /// Rounds to at most `prec` significant bits in direction `dir`.
    pub(crate) fn round(&self, prec: u32, dir: Dir) -> Option<Dyadic> {
        let b = self.m.bits();
        if b <= prec as u64 {
            return Some(self.clone());
        }
        let shift = (b - prec as u64) as usize;
        let neg = self.m.is_negative();
        let mag = self.m.magnitude();
        let mut q = BigInt::from(mag >> shift);
        let inexact = mag.trailing_zeros().unwrap_or(0) < shift as u64;
        // Truncation moves towards 0: away from 0 is up for positives, down for negatives.
        if inexact && ((dir == Dir::Up) != neg) {
            q += 1;
        }
        if neg {
            q = -q;
        }
        Dyadic::new(q, self.e.checked_add(shift as i64)?)
    }

    /// `a + b` exactly, when the exponents are close enough that the
    /// result stays small; otherwise rounded to `prec` bits in `dir`.
    pub(crate) fn add(&self, o: &Dyadic, prec: u32, dir: Dir) -> Option<Dyadic> {
        if self.is_zero() {
            return o.round(prec, dir);
        }
        if o.is_zero() {
            return self.round(prec, dir);
        }
        let (big, small) = if self.top() >= o.top() {
            (self, o)
        } else {
            (o, self)
        };
        // Far below the last bit that matters: a sticky bit rounds the same.
        let floor_bit = big.e.min(big.top() - prec as i64 - 2);
        if small.top() < floor_bit {
            let sticky = Dyadic::new(BigInt::from(small.signum()), floor_bit - 1)?;
            return big.add_exact(&sticky)?.round(prec, dir);
        }
        self.add_exact(o)?.round(prec, dir)
    }

    fn add_exact(&self, o: &Dyadic) -> Option<Dyadic> {
        let e = self.e.min(o.e);
        let a = &self.m << (self.e - e) as usize;
        let b = &o.m << (o.e - e) as usize;
        Dyadic::new(a + b, e)
    }

    /// `a − b`, rounded as [`Dyadic::add`].
    pub(crate) fn sub(&self, o: &Dyadic, prec: u32, dir: Dir) -> Option<Dyadic> {
        self.add(&o.neg(), prec, dir)
    }

    /// `a · b`, rounded to `prec` bits in `dir`.
    pub(crate) fn mul(&self, o: &Dyadic, prec: u32, dir: Dir) -> Option<Dyadic> {
        Dyadic::new(&self.m * &o.m, self.e.checked_add(o.e)?)?.round(prec, dir)
    }

    /// `a / b` (`b ≠ 0`), rounded to `prec` bits in `dir`.
    pub(crate) fn div(&self, o: &Dyadic, prec: u32, dir: Dir) -> Option<Dyadic> {
        if o.is_zero() {
            return None;
        }
        if self.is_zero() {
            return Some(Dyadic::zero());
        }
        // Enough bits in the quotient: shift the numerator up.
        let s = (prec as i64 + 2 + o.m.bits() as i64 - self.m.bits() as i64).max(0);
        let num = &self.m << s as usize;
        let (q, r) = num.div_mod_floor(&o.m);
        let q = if !r.is_zero() && dir == Dir::Up {
            q + 1
        } else {
            q
        };
        Dyadic::new(q, self.e.checked_sub(o.e)?.checked_sub(s)?)?.round(prec, dir)
    }

    /// A rational rounded to `prec` bits in `dir`.
    pub(crate) fn from_rational(x: &BigRational, prec: u32, dir: Dir) -> Option<Dyadic> {
        Dyadic::from_int(x.numer().clone()).div(&Dyadic::from_int(x.denom().clone()), prec, dir)
    }

    /// The `k`-th root of `x ≥ 0`, rounded to `prec` bits in `dir`.
    pub(crate) fn root(&self, k: u32, prec: u32, dir: Dir) -> Option<Dyadic> {
        if self.m.is_negative() || k == 0 {
            return None;
        }
        if self.is_zero() {
            return Some(Dyadic::zero());
        }
        let k64 = k as i64;
        // m · 2^s with (e − s) divisible by k and k·(prec + 2) bits at least.
        let want = k64 * (prec as i64 + 2);
        let mut s = (want - self.m.bits() as i64).max(0);
        s += (self.e - s).rem_euclid(k64);
        let n = &self.m << s as usize;
        let r = n.nth_root(k);
        let exact = num_traits::pow(r.clone(), k as usize) == n;
        let r = if !exact && dir == Dir::Up { r + 1 } else { r };
        Dyadic::new(r, (self.e - s) / k64)?.round(prec, dir)
    }

    /// `x^k`, rounded to `prec` bits in `dir` (each squaring rounded the
    /// same way on magnitudes, so the bound holds; `x ≥ 0` only).
    pub(crate) fn pow_nonneg(&self, k: u64, prec: u32, dir: Dir) -> Option<Dyadic> {
        if self.m.is_negative() {
            return None;
        }
        let mut result = Dyadic::from_int(1);
        let mut base = self.clone();
        let mut k = k;
        let p = prec + 4;
        while k > 0 {
            if k & 1 == 1 {
                result = result.mul(&base, p, dir)?;
            }
            k >>= 1;
            if k > 0 {
                base = base.mul(&base, p, dir)?;
            }
        }
        result.round(prec, dir)
    }

    /// Floor to an integer (`None` when it would be huge).
    pub(crate) fn floor_int(&self) -> Option<BigInt> {
        if self.e >= 0 {
            if self.e > 1 << 20 {
                return None;
            }
            return Some(&self.m << self.e as usize);
        }
        let s = (-self.e) as u64;
        if s > self.m.bits() + 1 {
            return Some(if self.m.is_negative() {
                BigInt::from(-1)
            } else {
                BigInt::zero()
            });
        }
        Some(self.m.div_floor(&(BigInt::one() << s as usize)))
    }

    /// Ceiling to an integer.
    pub(crate) fn ceil_int(&self) -> Option<BigInt> {
        self.neg().floor_int().map(|x| -x)
    }
}

impl PartialOrd for Dyadic {
    fn partial_cmp(&self, o: &Dyadic) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Dyadic {
    fn cmp(&self, o: &Dyadic) -> Ordering {
        let (sa, sb) = (self.signum(), o.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        if sa == 0 {
            return Ordering::Equal;
        }
        // Same sign: compare magnitudes, then flip for negatives.
        let mag = if self.top() != o.top() {
            self.top().cmp(&o.top())
        } else {
            let e = self.e.min(o.e);
            let a = self.m.abs() << (self.e - e) as usize;
            let b = o.m.abs() << (o.e - e) as usize;
            a.cmp(&b)
        };
        if sa > 0 {
            mag
        } else {
            mag.reverse()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: i64, e: i64) -> Dyadic {
        Dyadic::new(BigInt::from(m), e).unwrap()
    }

    fn rat(x: &Dyadic) -> BigRational {
        x.to_rational(1 << 20).unwrap()
    }

    #[test]
    fn rounding_goes_the_way_it_says() {
        let x = d(0b1011_0111, 0);
        assert_eq!(x.round(4, Dir::Down).unwrap(), d(0b1011, 4));
        assert_eq!(x.round(4, Dir::Up).unwrap(), d(0b1100, 4));
        assert_eq!(x.neg().round(4, Dir::Down).unwrap(), d(-0b1100, 4));
        assert_eq!(x.neg().round(4, Dir::Up).unwrap(), d(-0b1011, 4));
        // Exact values stay.
        assert_eq!(d(0b1011, 4).round(4, Dir::Up).unwrap(), d(0b1011, 4));
    }

    #[test]
    fn division_and_roots_bracket_the_truth() {
        let third = BigRational::new(1.into(), 3.into());
        let lo = Dyadic::from_rational(&third, 64, Dir::Down).unwrap();
        let hi = Dyadic::from_rational(&third, 64, Dir::Up).unwrap();
        assert!(rat(&lo) < third && third < rat(&hi));
        assert!(rat(&hi) - rat(&lo) < BigRational::new(1.into(), BigInt::one() << 63));
        let two = Dyadic::from_int(2);
        let (lo, hi) = (
            two.root(2, 80, Dir::Down).unwrap(),
            two.root(2, 80, Dir::Up).unwrap(),
        );
        let t = BigRational::from_integer(2.into());
        assert!(rat(&lo) * rat(&lo) < t && t < rat(&hi) * rat(&hi));
        assert_eq!(d(9, 0).root(2, 10, Dir::Up).unwrap(), d(3, 0));
        assert_eq!(d(27, 3).root(3, 10, Dir::Down).unwrap(), d(3, 1));
    }

    #[test]
    fn far_apart_sums_round_like_the_exact_sum() {
        let big = d(1, 1 << 40);
        let tiny = d(1, -(1 << 40));
        let up = big.add(&tiny, 53, Dir::Up).unwrap();
        let down = big.add(&tiny, 53, Dir::Down).unwrap();
        assert_eq!(down, big);
        assert!(up > big);
        let down2 = big.sub(&tiny, 53, Dir::Down).unwrap();
        assert!(down2 < big);
        assert_eq!(big.sub(&tiny, 53, Dir::Up).unwrap(), big);
    }

    #[test]
    fn order_is_the_order_of_the_values() {
        let xs = [d(-5, 3), d(-1, 0), d(0, 0), d(3, -2), d(1, 0), d(7, 10)];
        for (i, a) in xs.iter().enumerate() {
            for (j, b) in xs.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j));
                assert_eq!(a.cmp(b), rat(a).cmp(&rat(b)));
            }
        }
        assert_eq!(d(7, -1).floor_int().unwrap(), BigInt::from(3));
        assert_eq!(d(-7, -1).floor_int().unwrap(), BigInt::from(-4));
        assert_eq!(d(-7, -1).ceil_int().unwrap(), BigInt::from(-3));
    }
}
