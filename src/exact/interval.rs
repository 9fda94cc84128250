//! Certified intervals `[lo, hi]` with dyadic endpoints, rounded outward:
//! every operation's result contains the exact result of the operation on
//! every pair of values of its operands. `p` is the working precision in
//! significant bits (relative, like a floating-point mantissa, so huge
//! and tiny values cost the same: `exp(10^6)` is a mantissa and an
//! exponent, never a number with a million digits).
//!
//! The elementary functions (`exp`, `log`, `sin`, `cos`, `tan`, `atan`)
//! reduce their argument (by multiples of `ln 2` or `π/2`, by halving),
//! then sum a Taylor series in fixed-point integer arithmetic with an
//! explicit bound on the truncation errors and on the tail; monotone
//! functions are evaluated at both endpoints, the others at the midpoint
//! plus the radius times a bound on the derivative. `π` and `ln 2` are
//! Machin's formula and `2 atanh(1/3)`, cached per precision on each
//! thread. No floating point decides anything: `f64` only picks a
//! reduction (any choice is correct, a good one is fast).

use crate::exact::dyadic::{Dir, Dyadic};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::cell::RefCell;
use std::cmp::Ordering;

/// Why an interval operation has no result.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum IvError {
    /// Outside the function's domain for every value of the interval.
    Domain(String),
    /// The interval straddles a point where the operation is undefined
    /// (a pole, 0 under a logarithm); more precision may decide it.
    Undecided(String),
    /// An exponent beyond the dyadic range (a value beyond about 10^(10^18)).
    Range(String),
}

type Iv = Result<Interval, IvError>;

fn range() -> IvError {
    IvError::Range("a value beyond about 10^(10^18)".into())
}

/// A closed interval with `lo <= hi`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Interval {
    lo: Dyadic,
    hi: Dyadic,
}

fn ok(x: Option<Dyadic>) -> Result<Dyadic, IvError> {
    x.ok_or_else(range)
}

impl Interval {
    /// `[lo, hi]` (swapped if given the wrong way round).
    pub(crate) fn new(lo: Dyadic, hi: Dyadic) -> Interval {
        if lo <= hi {
            Interval { lo, hi }
        } else {
            Interval { lo: hi, hi: lo }
        }
    }

    /// A single dyadic point.
    pub(crate) fn point(x: Dyadic) -> Interval {
        Interval {
            lo: x.clone(),
            hi: x,
        }
    }

    /// An integer.
    pub(crate) fn int(n: i64) -> Interval {
        Interval::point(Dyadic::from_int(n))
    }

    /// A rational, rounded outward to `p` bits.
    pub(crate) fn from_rational(x: &BigRational, p: u32) -> Iv {
        Ok(Interval {
            lo: ok(Dyadic::from_rational(x, p, Dir::Down))?,
            hi: ok(Dyadic::from_rational(x, p, Dir::Up))?,
        })
    }

    /// The lower endpoint.
    pub(crate) fn lo(&self) -> &Dyadic {
        &self.lo
    }

    /// The upper endpoint.
    pub(crate) fn hi(&self) -> &Dyadic {
        &self.hi
    }

    /// Is it a single point?
    pub(crate) fn is_point(&self) -> bool {
        self.lo == self.hi
    }

    /// Does it contain 0?
    pub(crate) fn contains_zero(&self) -> bool {
        self.lo.signum() <= 0 && self.hi.signum() >= 0
    }

    /// The largest magnitude of its values.
    pub(crate) fn mag(&self) -> Dyadic {
        let (a, b) = (self.lo.abs(), self.hi.abs());
        if a > b {
            a
        } else {
            b
        }
    }

    /// The smallest magnitude of its values (0 if it contains 0).
    pub(crate) fn mig(&self) -> Dyadic {
        if self.contains_zero() {
            return Dyadic::zero();
        }
        let (a, b) = (self.lo.abs(), self.hi.abs());
        if a < b {
            a
        } else {
            b
        }
    }

    /// The width `hi − lo`, rounded up.
    pub(crate) fn width(&self, p: u32) -> Result<Dyadic, IvError> {
        ok(self.hi.sub(&self.lo, p, Dir::Up))
    }

    /// `Less` when every value is below every value of `o`, `Greater` the
    /// other way, `Equal` when both are the same point; `None` when they overlap.
    pub(crate) fn cmp_certain(&self, o: &Interval) -> Option<Ordering> {
        if self.is_point() && o.is_point() && self.lo == o.lo {
            return Some(Ordering::Equal);
        }
        if self.hi < o.lo {
            Some(Ordering::Less)
        } else if self.lo > o.hi {
            Some(Ordering::Greater)
        } else {
            None
        }
    }

    /// The smallest interval containing both.
    pub(crate) fn hull(&self, o: &Interval) -> Interval {
        Interval {
            lo: self.lo.clone().min(o.lo.clone()),
            hi: self.hi.clone().max(o.hi.clone()),
        }
    }

    /// `-x`.
    pub(crate) fn neg(&self) -> Interval {
        Interval {
            lo: self.hi.neg(),
            hi: self.lo.neg(),
        }
    }

    /// `x + y`.
    pub(crate) fn add(&self, o: &Interval, p: u32) -> Iv {
        Ok(Interval {
            lo: ok(self.lo.add(&o.lo, p, Dir::Down))?,
            hi: ok(self.hi.add(&o.hi, p, Dir::Up))?,
        })
    }

    /// `x − y`.
    pub(crate) fn sub(&self, o: &Interval, p: u32) -> Iv {
        self.add(&o.neg(), p)
    }

    /// `x · y`.
    pub(crate) fn mul(&self, o: &Interval, p: u32) -> Iv {
        let (a, b, c, d) = (&self.lo, &self.hi, &o.lo, &o.hi);
        if a.signum() >= 0 && c.signum() >= 0 {
            return Ok(Interval {
                lo: ok(a.mul(c, p, Dir::Down))?,
                hi: ok(b.mul(d, p, Dir::Up))?,
            });
        }
        let lows = [
            ok(a.mul(c, p, Dir::Down))?,
            ok(a.mul(d, p, Dir::Down))?,
            ok(b.mul(c, p, Dir::Down))?,
            ok(b.mul(d, p, Dir::Down))?,
        ];
        let highs = [
            ok(a.mul(c, p, Dir::Up))?,
            ok(a.mul(d, p, Dir::Up))?,
            ok(b.mul(c, p, Dir::Up))?,
            ok(b.mul(d, p, Dir::Up))?,
        ];
        Ok(Interval {
            lo: lows.into_iter().min().expect("four products"),
            hi: highs.into_iter().max().expect("four products"),
        })
    }

    /// `1 / x`; `Undecided` when the interval contains 0.
    pub(crate) fn recip(&self, p: u32) -> Iv {
        if self.contains_zero() {
            return Err(IvError::Undecided(
                "dividing by a value that may be 0".into(),
            ));
        }
        let one = Dyadic::from_int(1);
        Ok(Interval {
            lo: ok(one.div(&self.hi, p, Dir::Down))?,
            hi: ok(one.div(&self.lo, p, Dir::Up))?,
        })
    }

    /// `x / y`.
    pub(crate) fn div(&self, o: &Interval, p: u32) -> Iv {
        if o.is_point() {
            // One rounding instead of two.
            let d = &o.lo;
            if d.is_zero() {
                return Err(IvError::Domain("division by zero".into()));
            }
            let (x, y) = if d.signum() > 0 {
                (&self.lo, &self.hi)
            } else {
                (&self.hi, &self.lo)
            };
            return Ok(Interval {
                lo: ok(x.div(d, p, Dir::Down))?,
                hi: ok(y.div(d, p, Dir::Up))?,
            });
        }
        self.mul(&o.recip(p)?, p)
    }

    /// `x · 2^k`.
    pub(crate) fn shl(&self, k: i64) -> Iv {
        Ok(Interval {
            lo: ok(self.lo.shl(k))?,
            hi: ok(self.hi.shl(k))?,
        })
    }

    /// `x^k` for an integer `k` (negative powers through `1/x`).
    pub(crate) fn powi(&self, k: &BigInt, p: u32) -> Iv {
        if k.is_zero() {
            return Ok(Interval::int(1));
        }
        if k.is_negative() {
            return self.powi(&-k, p + 4)?.recip(p);
        }
        let Some(kk) = num_traits::ToPrimitive::to_u64(k) else {
            return Err(range());
        };
        let odd = kk % 2 == 1;
        let q = p + 8;
        let pw = |x: &Dyadic, dir: Dir| ok(x.abs().pow_nonneg(kk, q, dir));
        let out = if self.lo.signum() >= 0 {
            Interval {
                lo: pw(&self.lo, Dir::Down)?,
                hi: pw(&self.hi, Dir::Up)?,
            }
        } else if self.hi.signum() <= 0 {
            // x ≤ 0: |x| runs from |hi| to |lo|.
            let (small, big) = (pw(&self.hi, Dir::Down)?, pw(&self.lo, Dir::Up)?);
            if odd {
                Interval {
                    lo: big.neg(),
                    hi: small.neg(),
                }
            } else {
                Interval { lo: small, hi: big }
            }
        } else {
            let (l, h) = (pw(&self.lo, Dir::Up)?, pw(&self.hi, Dir::Up)?);
            if odd {
                Interval { lo: l.neg(), hi: h }
            } else {
                Interval {
                    lo: Dyadic::zero(),
                    hi: l.max(h),
                }
            }
        };
        out.rounded(p)
    }

    /// The endpoints rounded outward to `p` bits.
    pub(crate) fn rounded(&self, p: u32) -> Iv {
        Ok(Interval {
            lo: ok(self.lo.round(p, Dir::Down))?,
            hi: ok(self.hi.round(p, Dir::Up))?,
        })
    }

    /// The real `k`-th root (odd roots of negatives allowed).
    pub(crate) fn root(&self, k: u32, p: u32) -> Iv {
        if k == 0 {
            return Err(IvError::Domain("a 0th root".into()));
        }
        if self.lo.signum() < 0 {
            if k % 2 == 1 {
                return Ok(self.neg().root(k, p)?.neg());
            }
            if self.hi.signum() < 0 {
                return Err(IvError::Domain("an even root of a negative number".into()));
            }
            return Err(IvError::Undecided(
                "an even root of a value that may be negative".into(),
            ));
        }
        Ok(Interval {
            lo: ok(self.lo.root(k, p, Dir::Down))?,
            hi: ok(self.hi.root(k, p, Dir::Up))?,
        })
    }

    /// The exponential.
    pub(crate) fn exp(&self, p: u32) -> Iv {
        let lo = exp_point(&self.lo, p)?;
        let hi = if self.is_point() {
            lo.clone()
        } else {
            exp_point(&self.hi, p)?
        };
        Ok(Interval {
            lo: lo.lo,
            hi: hi.hi,
        })
    }

    /// The natural logarithm.
    pub(crate) fn log(&self, p: u32) -> Iv {
        if self.hi.signum() <= 0 {
            return Err(IvError::Domain(
                "the logarithm of a number that is not positive".into(),
            ));
        }
        if self.lo.signum() <= 0 {
            return Err(IvError::Undecided(
                "the logarithm of a value that may be 0 or negative".into(),
            ));
        }
        let lo = log_point(&self.lo, p)?;
        let hi = if self.is_point() {
            lo.clone()
        } else {
            log_point(&self.hi, p)?
        };
        Ok(Interval {
            lo: lo.lo,
            hi: hi.hi,
        })
    }

    /// The sine.
    pub(crate) fn sin(&self, p: u32) -> Iv {
        sin_cos(self, p).map(|(s, _)| s)
    }

    /// The cosine.
    pub(crate) fn cos(&self, p: u32) -> Iv {
        sin_cos(self, p).map(|(_, c)| c)
    }

    /// The tangent; `Undecided` when the cosine may be 0.
    pub(crate) fn tan(&self, p: u32) -> Iv {
        let (s, c) = sin_cos(self, p + 8)?;
        if c.contains_zero() {
            return Err(IvError::Undecided(
                "the tangent at a value where the cosine may be 0".into(),
            ));
        }
        s.div(&c, p)
    }

    /// The arctangent (no built-in uses it yet; tested here).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn atan(&self, p: u32) -> Iv {
        let lo = atan_point(&self.lo, p)?;
        let hi = if self.is_point() {
            lo.clone()
        } else {
            atan_point(&self.hi, p)?
        };
        Ok(Interval {
            lo: lo.lo,
            hi: hi.hi,
        })
    }

    /// The midpoint (exact) and a radius (rounded up) with `self ⊆ mid ± rad`.
    fn ball(&self, p: u32) -> Result<(Dyadic, Dyadic), IvError> {
        if self.is_point() {
            return Ok((self.lo.clone(), Dyadic::zero()));
        }
        let sum = ok(self.lo.add(&self.hi, p + 8, Dir::Down))?;
        let mid = ok(sum.shl(-1))?;
        let r1 = ok(self.hi.sub(&mid, p, Dir::Up))?;
        let r2 = ok(mid.sub(&self.lo, p, Dir::Up))?;
        Ok((mid, r1.max(r2)))
    }

    /// `[lo − r, hi + r]`.
    fn widen(&self, r: &Dyadic, p: u32) -> Iv {
        Ok(Interval {
            lo: ok(self.lo.sub(r, p, Dir::Down))?,
            hi: ok(self.hi.add(r, p, Dir::Up))?,
        })
    }
}

// ---------------------------------------------------------------- constants

thread_local! {
    static PI_CACHE: RefCell<Vec<(u32, Interval)>> = const { RefCell::new(Vec::new()) };
    static LN2_CACHE: RefCell<Vec<(u32, Interval)>> = const { RefCell::new(Vec::new()) };
}

fn cached(
    cache: &'static std::thread::LocalKey<RefCell<Vec<(u32, Interval)>>>,
    p: u32,
    compute: fn(u32) -> Iv,
) -> Iv {
    // Precisions are rounded up to a multiple of 64 so a few entries serve all.
    let p = p.div_ceil(64) * 64;
    if let Some(v) = cache.with(|c| {
        c.borrow()
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, v)| v.clone())
    }) {
        return Ok(v);
    }
    let v = compute(p)?;
    cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 16 {
            c.remove(0);
        }
        c.push((p, v.clone()));
    });
    Ok(v)
}

/// π.
pub(crate) fn pi(p: u32) -> Iv {
    cached(&PI_CACHE, p, |p| {
        // π = 16 atan(1/5) − 4 atan(1/239).
        let w = p + 16;
        let a = atan_recip(5, w);
        let b = atan_recip(239, w);
        let lo = fixed_to_dyadic(&(BigInt::from(16) * &a.0 - BigInt::from(4) * &b.1), w)?;
        let hi = fixed_to_dyadic(&(BigInt::from(16) * &a.1 - BigInt::from(4) * &b.0), w)?;
        Interval { lo, hi }.rounded(p)
    })
}

/// ln 2.
pub(crate) fn ln2(p: u32) -> Iv {
    cached(&LN2_CACHE, p, |p| {
        let w = p + 16;
        let one = BigInt::one() << w as usize;
        let z_lo = &one / BigInt::from(3);
        let z_hi = &z_lo + 1;
        let (lo, _) = atanh_fixed(&z_lo, w);
        let (_, hi) = atanh_fixed(&z_hi, w);
        Interval {
            lo: fixed_to_dyadic(&(lo * 2), w)?,
            hi: fixed_to_dyadic(&(hi * 2), w)?,
        }
        .rounded(p)
    })
}

/// `X · 2^-w`.
fn fixed_to_dyadic(x: &BigInt, w: u32) -> Result<Dyadic, IvError> {
    ok(Dyadic::new(x.clone(), -(w as i64)))
}

/// `floor(x · 2^w)` and `ceil(x · 2^w)`.
fn to_fixed(x: &Dyadic, w: u32) -> (BigInt, BigInt) {
    let (m, e) = x.parts();
    let shift = e + w as i64;
    if shift >= 0 {
        let v = m << shift as usize;
        (v.clone(), v)
    } else {
        let s = (-shift) as usize;
        let d = BigInt::one() << s;
        let f = num_integer::Integer::div_floor(m, &d);
        let c = if &f * &d == *m { f.clone() } else { &f + 1 };
        (f, c)
    }
}

/// Bounds (in units of 2^-w) of atan(1/n) for an integer n ≥ 2.
fn atan_recip(n: i64, w: u32) -> (BigInt, BigInt) {
    // Σ (-1)^k / ((2k+1) n^(2k+1)), each term truncated (error < 1 unit),
    // alternating and decreasing, so the tail is below the first omitted term.
    let one = BigInt::one() << w as usize;
    let n2 = BigInt::from(n * n);
    let mut pow = &one / BigInt::from(n); // 1/n^(2k+1), truncated
    let mut sum = BigInt::zero();
    let mut k: i64 = 0;
    let mut terms: i64 = 0;
    while !pow.is_zero() {
        let t = &pow / BigInt::from(2 * k + 1);
        if k % 2 == 0 {
            sum += t;
        } else {
            sum -= t;
        }
        pow /= &n2;
        k += 1;
        terms += 1;
    }
    // Each pow carries < 1 unit of error, so each term < 2 units; tail < 1 unit.
    let err = BigInt::from(2 * terms + 2);
    (&sum - &err, sum + err)
}

/// Bounds (in units of 2^-w) of atanh(z) for `z = Z·2^-w`, |z| ≤ 1/3.
fn atanh_fixed(z: &BigInt, w: u32) -> (BigInt, BigInt) {
    let z2 = (z * z) >> w as usize;
    let mut pow = z.clone();
    let mut sum = BigInt::zero();
    let mut k: i64 = 0;
    while !pow.is_zero() {
        sum += &pow / BigInt::from(2 * k + 1);
        pow = &pow * &z2;
        pow = trunc_shift(&pow, w);
        k += 1;
    }
    // pow's error stays below 3 units (z² ≤ 1/9 damps it), each term's
    // below 4; the tail after pow reaches 0 is below 2 units.
    let err = BigInt::from(4 * k + 8);
    (&sum - &err, sum + err)
}

/// `x >> w`, truncated towards 0.
fn trunc_shift(x: &BigInt, w: u32) -> BigInt {
    if x.is_negative() {
        -((-x) >> w as usize)
    } else {
        x >> w as usize
    }
}

// ---------------------------------------------------------------- exp, log

/// exp(x) at a dyadic point.
fn exp_point(x: &Dyadic, p: u32) -> Iv {
    if x.is_zero() {
        return Ok(Interval::int(1));
    }
    if x.top() > 61 {
        return Err(IvError::Range(
            "the exponential of a number beyond ±10^18".into(),
        ));
    }
    let w = p + 24;
    // x = k ln 2 + r with |r| about ln2 / 2 (any k is correct).
    let k = (x.approx_f64() / std::f64::consts::LN_2).round() as i64;
    let kbits = 64 - k.unsigned_abs().leading_zeros();
    let r = if k == 0 {
        Interval::point(x.clone())
    } else {
        let l = ln2(w + kbits + 8)?;
        Interval::point(x.clone()).sub(&l.mul(&Interval::int(k), w + kbits + 8)?, w + 8)?
    };
    // exp(r) = exp(r / 2^s)^(2^s) with |r / 2^s| ≤ 2^-10.
    let top = r.mag().top();
    let s = (top + 10).max(0) as u32;
    let wf = w + s + 8;
    let series = |y: &Dyadic, dir: Dir| -> Result<Dyadic, IvError> {
        let y = ok(y.shl(-(s as i64)))?;
        let (yf, yc) = to_fixed(&y, wf);
        let (lo, hi) = exp_fixed(if dir == Dir::Down { &yf } else { &yc }, wf);
        fixed_to_dyadic(if dir == Dir::Down { &lo } else { &hi }, wf)
    };
    let mut lo = series(&r.lo, Dir::Down)?;
    let mut hi = series(&r.hi, Dir::Up)?;
    for _ in 0..s {
        lo = ok(lo.mul(&lo, wf, Dir::Down))?;
        hi = ok(hi.mul(&hi, wf, Dir::Up))?;
    }
    Interval {
        lo: ok(lo.shl(k))?,
        hi: ok(hi.shl(k))?,
    }
    .rounded(p)
}

/// Bounds (units of 2^-w) of exp(y) for `y = Y·2^-w`, |y| ≤ 2^-10.
fn exp_fixed(y: &BigInt, w: u32) -> (BigInt, BigInt) {
    let one = BigInt::one() << w as usize;
    let mut term = one.clone();
    let mut sum = one;
    let mut n: i64 = 1;
    loop {
        term = trunc_shift(&(&term * y), w) / BigInt::from(n);
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    // Each term carries under 2 units of error; the tail after the first
    // zero term is under 2 units.
    let err = BigInt::from(2 * n + 4);
    (&sum - &err, sum + err)
}

/// log(x) at a dyadic point x > 0.
fn log_point(x: &Dyadic, p: u32) -> Iv {
    let one = Dyadic::from_int(1);
    if *x == one {
        return Ok(Interval::int(0));
    }
    let w = p + 24;
    let (m, e) = x.parts();
    // x = f · 2^n with f in [1/2, 1), then f in [0.7, 1.42).
    let t = m.bits() as i64;
    let mut n = e + t;
    let mut f = ok(Dyadic::new(m.clone(), -t))?;
    if f.approx_f64() < std::f64::consts::FRAC_1_SQRT_2 {
        f = ok(f.shl(1))?;
        n -= 1;
    }
    // log f = 2 atanh((f − 1)/(f + 1)), |z| < 0.18; atanh is increasing.
    let num = ok(f.sub(&one, w + 8, Dir::Down))?;
    let num_hi = ok(f.sub(&one, w + 8, Dir::Up))?;
    let den = ok(f.add(&one, w + 8, Dir::Up))?;
    let den_lo = ok(f.add(&one, w + 8, Dir::Down))?;
    // z_lo ≤ z ≤ z_hi, choosing the denominators by the numerator's sign.
    let z_lo = ok(num.div(
        if num.signum() >= 0 { &den } else { &den_lo },
        w + 8,
        Dir::Down,
    ))?;
    let z_hi = ok(num_hi.div(
        if num_hi.signum() >= 0 { &den_lo } else { &den },
        w + 8,
        Dir::Up,
    ))?;
    let (zf, _) = to_fixed(&z_lo, w);
    let (_, zc) = to_fixed(&z_hi, w);
    let (a_lo, _) = atanh_fixed(&zf, w);
    let (_, a_hi) = atanh_fixed(&zc, w);
    let a = Interval {
        lo: fixed_to_dyadic(&(a_lo * 2), w)?,
        hi: fixed_to_dyadic(&(a_hi * 2), w)?,
    };
    if n == 0 {
        return a.rounded(p);
    }
    let nbits = 64 - n.unsigned_abs().leading_zeros();
    let l = ln2(w + nbits + 8)?.mul(&Interval::int(n), w + nbits + 8)?;
    l.add(&a, w)?.rounded(p)
}

// ---------------------------------------------------------------- trig

/// sin(x) and cos(x) for an interval.
fn sin_cos(x: &Interval, p: u32) -> Result<(Interval, Interval), IvError> {
    let unit = Interval {
        lo: Dyadic::from_int(-1),
        hi: Dyadic::from_int(1),
    };
    let (mid, rad) = x.ball(p + 8)?;
    if rad.top() > 1 {
        // Wider than about 4: all of [-1, 1].
        return Ok((unit.clone(), unit));
    }
    if mid.top() > 61 {
        return Err(IvError::Range(
            "the sine or cosine of a number beyond ±10^18".into(),
        ));
    }
    let w = p + 24;
    // mid = k π/2 + t with |t| ≤ π/4 + ε: k is the rounded quotient,
    // computed with enough bits that it is the nearest integer or next to it.
    let k: i64 = if mid.top() <= 0 {
        0
    } else {
        let bits = mid.top() as u32 + 16;
        let q = Interval::point(mid.clone()).div(&pi(bits)?.shl(-1)?, bits)?;
        let half = ok(Dyadic::new(BigInt::one(), -1))?;
        let r = ok(q.lo.add(&half, bits + 2, Dir::Down))?
            .floor_int()
            .ok_or_else(range)?;
        num_traits::ToPrimitive::to_i64(&r).ok_or_else(range)?
    };
    let kbits = 64 - k.unsigned_abs().leading_zeros();
    let t = if k == 0 {
        Interval::point(mid.clone())
    } else {
        let half_pi = pi(w + kbits + 8)?.shl(-1)?;
        Interval::point(mid.clone()).sub(&half_pi.mul(&Interval::int(k), w + kbits + 8)?, w + 8)?
    };
    if t.mag().top() > 0 {
        // |t| ≥ 1: the series bounds below assume |t| < 1 (never expected).
        return Err(IvError::Undecided(
            "the reduction of a sine argument".into(),
        ));
    }
    let (tm, tr) = t.ball(w)?;
    let (tf, _) = to_fixed(&tm, w);
    // tm is within one unit of tf; with t's radius and the input's, a
    // Lipschitz bound of 1 covers everything.
    let (s_lo, s_hi) = sin_fixed(&tf, w);
    let (c_lo, c_hi) = cos_fixed(&tf, w);
    let extra = ok(tr.add(&rad, w, Dir::Up))?;
    let extra = ok(extra.add(&ok(Dyadic::new(BigInt::one(), -(w as i64)))?, w, Dir::Up))?;
    let s = Interval {
        lo: fixed_to_dyadic(&s_lo, w)?,
        hi: fixed_to_dyadic(&s_hi, w)?,
    }
    .widen(&extra, w)?;
    let c = Interval {
        lo: fixed_to_dyadic(&c_lo, w)?,
        hi: fixed_to_dyadic(&c_hi, w)?,
    }
    .widen(&extra, w)?;
    let (s, c) = match k.rem_euclid(4) {
        0 => (s, c),
        1 => (c, s.neg()),
        2 => (s.neg(), c.neg()),
        _ => (c.neg(), s),
    };
    let clamp = |v: Interval| -> Iv {
        Interval {
            lo: v.lo.max(Dyadic::from_int(-1)),
            hi: v.hi.min(Dyadic::from_int(1)),
        }
        .rounded(p)
    };
    Ok((clamp(s)?, clamp(c)?))
}

/// Bounds (units of 2^-w) of sin(t) for `t = T·2^-w`, |t| ≤ 1.
fn sin_fixed(t: &BigInt, w: u32) -> (BigInt, BigInt) {
    let t2 = trunc_shift(&(t * t), w);
    let mut term = t.clone();
    let mut sum = t.clone();
    let mut n: i64 = 1;
    loop {
        term = -trunc_shift(&(&term * &t2), w) / BigInt::from((2 * n) * (2 * n + 1));
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    let err = BigInt::from(2 * n + 4);
    (&sum - &err, sum + err)
}

/// Bounds (units of 2^-w) of cos(t) for `t = T·2^-w`, |t| ≤ 1.
fn cos_fixed(t: &BigInt, w: u32) -> (BigInt, BigInt) {
    let t2 = trunc_shift(&(t * t), w);
    let mut term = BigInt::one() << w as usize;
    let mut sum = term.clone();
    let mut n: i64 = 1;
    loop {
        term = -trunc_shift(&(&term * &t2), w) / BigInt::from((2 * n - 1) * (2 * n));
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    let err = BigInt::from(2 * n + 4);
    (&sum - &err, sum + err)
}

/// atan(x) at a dyadic point.
#[cfg_attr(not(test), allow(dead_code))]
fn atan_point(x: &Dyadic, p: u32) -> Iv {
    if x.is_zero() {
        return Ok(Interval::int(0));
    }
    if x.signum() < 0 {
        return Ok(atan_point(&x.neg(), p)?.neg());
    }
    let w = p + 24;
    let one = Dyadic::from_int(1);
    if *x > one {
        // atan x = π/2 − atan(1/x).
        let inv = Interval::point(one.clone()).div(&Interval::point(x.clone()), w)?;
        let a = atan_small(&inv, w)?;
        return pi(w)?.shl(-1)?.sub(&a, w)?.rounded(p);
    }
    atan_small(&Interval::point(x.clone()), w)?.rounded(p)
}

/// atan on an interval inside [0, 1]: halve the angle three times
/// (atan x = 2 atan(x / (1 + √(1 + x²)))), then the series at the midpoint
/// with the radius (|atan'| ≤ 1).
#[cfg_attr(not(test), allow(dead_code))]
fn atan_small(x: &Interval, w: u32) -> Iv {
    let mut y = x.clone();
    let one = Interval::int(1);
    for _ in 0..3 {
        let s = one.add(&y.mul(&y, w)?, w)?.root(2, w)?;
        y = y.div(&one.add(&s, w)?, w)?;
    }
    let (m, r) = y.ball(w)?;
    let (mf, _) = to_fixed(&m, w);
    // Σ (-1)^k z^(2k+1)/(2k+1), |z| ≤ 0.1: errors as in atanh.
    let z2 = trunc_shift(&(&mf * &mf), w);
    let mut pow = mf.clone();
    let mut sum = BigInt::zero();
    let mut k: i64 = 0;
    while !pow.is_zero() {
        let t = &pow / BigInt::from(2 * k + 1);
        if k % 2 == 0 {
            sum += t;
        } else {
            sum -= t;
        }
        pow = trunc_shift(&(&pow * &z2), w);
        k += 1;
    }
    let err = BigInt::from(4 * k + 10);
    let a = Interval {
        lo: fixed_to_dyadic(&(&sum - &err), w)?,
        hi: fixed_to_dyadic(&(&sum + &err), w)?,
    }
    .widen(&r, w)?;
    a.shl(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> BigRational {
        let neg = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let n: BigInt = format!("{i}{f}").parse().unwrap();
        let v = BigRational::new(n, num_traits::pow(BigInt::from(10), f.len()));
        if neg {
            -v
        } else {
            v
        }
    }

    fn rat(d: &Dyadic) -> BigRational {
        d.to_rational(1 << 20).unwrap()
    }

    fn encloses(x: &Interval, digits: &str) {
        // The true value is `digits` (truncated): it lies within one unit of
        // the last digit of it, and the interval must meet that range and be
        // narrow.
        let v = dec(digits);
        let places = digits.split_once('.').map_or(0, |(_, f)| f.len());
        let unit = BigRational::new(1.into(), num_traits::pow(BigInt::from(10), places));
        assert!(
            rat(&x.lo) <= &v + &unit && &v - &unit <= rat(&x.hi),
            "{x:?} vs {digits}"
        );
        let width = rat(&x.hi) - rat(&x.lo);
        assert!(
            width < BigRational::new(1.into(), BigInt::one() << 120),
            "too wide: {x:?}"
        );
    }

    fn strictly_contains(x: &Interval, v: &BigRational) -> bool {
        &rat(&x.lo) <= v && v <= &rat(&x.hi)
    }

    const P: u32 = 128;

    #[test]
    fn constants_have_their_known_digits() {
        encloses(&pi(P).unwrap(), "3.14159265358979323846264338327950288");
        encloses(&ln2(P).unwrap(), "0.69314718055994530941723212145817656");
        encloses(
            &Interval::int(1).exp(P).unwrap(),
            "2.71828182845904523536028747135266249",
        );
    }

    #[test]
    fn functions_have_their_known_digits() {
        let one = Interval::int(1);
        encloses(
            &one.sin(P).unwrap(),
            "0.84147098480789650665250232163029899",
        );
        encloses(
            &one.cos(P).unwrap(),
            "0.54030230586813971740093660744297660",
        );
        encloses(
            &one.tan(P).unwrap(),
            "1.55740772465490223050697480745836017",
        );
        encloses(
            &one.atan(P).unwrap(),
            "0.78539816339744830961566084581987572",
        );
        encloses(
            &Interval::int(10).log(P).unwrap(),
            "2.30258509299404568401799145468436420",
        );
        encloses(
            &Interval::int(2).root(2, P).unwrap(),
            "1.41421356237309504880168872420969807",
        );
        encloses(
            &Interval::int(-3).exp(P).unwrap(),
            "0.04978706836786394297934241565006177",
        );
        encloses(
            &Interval::int(100).sin(P).unwrap(),
            "-0.50636564110975879365655761045978543",
        );
        encloses(
            &Interval::int(-7).cos(P).unwrap(),
            "0.75390225434330463814119752171918201",
        );
        encloses(
            &Interval::int(3).atan(P).unwrap(),
            "1.24904577239825442582991707728109012",
        );
    }

    #[test]
    fn huge_and_tiny_values_cost_a_mantissa() {
        let big = Interval::int(1_000_000).exp(P).unwrap();
        // exp(10^6) = 3.0332153968...e434294
        assert!(big.lo.top() > 1_400_000 && big.lo.top() < 1_500_000);
        let tiny = Interval::int(-1_000_000_000).exp(P).unwrap();
        assert!(tiny.lo.signum() > 0);
        let back = big.log(P).unwrap();
        assert!(strictly_contains(
            &back,
            &BigRational::from_integer(1_000_000.into())
        ));
        assert!(matches!(
            Interval::point(Dyadic::new(BigInt::one(), 70).unwrap()).exp(P),
            Err(IvError::Range(_))
        ));
    }

    #[test]
    fn identities_enclose_their_value() {
        let mut seed = 12345u64;
        for _ in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (seed >> 33) as i64 % 20000 - 10000;
            let d = ((seed >> 13) % 997 + 1) as i64;
            let q = BigRational::new(n.into(), d.into());
            let x = Interval::from_rational(&q, P).unwrap();
            // sin² + cos² = 1
            let s = x.sin(P).unwrap();
            let c = x.cos(P).unwrap();
            let one = s
                .mul(&s, P)
                .unwrap()
                .add(&c.mul(&c, P).unwrap(), P)
                .unwrap();
            assert!(strictly_contains(&one, &BigRational::one()), "{q}");
            // log(exp(x)) = x for moderate x
            let small =
                Interval::from_rational(&(&q / BigRational::from_integer(100.into())), P).unwrap();
            let back = small.exp(P).unwrap().log(P).unwrap();
            assert!(strictly_contains(
                &back,
                &(&q / BigRational::from_integer(100.into()))
            ));
            // exp(a + b) = exp(a) exp(b)
            let b = Interval::int(3);
            let lhs = small.add(&b, P).unwrap().exp(P).unwrap();
            let rhs = small.exp(P).unwrap().mul(&b.exp(P).unwrap(), P).unwrap();
            assert!(lhs.cmp_certain(&rhs).is_none());
            // tan(atan(x)) = x
            let t = x.atan(P).unwrap().tan(P).unwrap();
            assert!(strictly_contains(&t, &q), "{q}");
        }
    }

    #[test]
    fn exp_and_log_are_monotone_and_contain_exact_bounds() {
        // exp(q) for rationals q against the exact Taylor bounds
        // 1 + q ≤ exp(q) and, for q < 1, exp(q) ≤ 1/(1 − q).
        let mut prev: Option<Interval> = None;
        for i in -40..40 {
            let q = BigRational::new(i.into(), 41.into());
            let x = Interval::from_rational(&q, P).unwrap();
            let e = x.exp(P).unwrap();
            assert!(rat(&e.hi) >= BigRational::one() + &q);
            assert!(rat(&e.lo) <= BigRational::one() / (BigRational::one() - &q));
            if let Some(p) = prev {
                assert_eq!(p.cmp_certain(&e), Some(Ordering::Less));
            }
            prev = Some(e);
        }
        // log x ≤ x − 1 and log x ≥ 1 − 1/x.
        for i in 1..80 {
            let q = BigRational::new(i.into(), 17.into());
            let l = Interval::from_rational(&q, P).unwrap().log(P).unwrap();
            assert!(rat(&l.lo) <= &q - BigRational::one());
            assert!(rat(&l.hi) >= BigRational::one() - q.recip());
        }
    }

    #[test]
    fn domains_and_poles() {
        assert!(matches!(Interval::int(-1).log(P), Err(IvError::Domain(_))));
        assert!(matches!(
            Interval::int(-1).root(2, P),
            Err(IvError::Domain(_))
        ));
        let half_pi = pi(P).unwrap().shl(-1).unwrap();
        assert!(matches!(half_pi.tan(P), Err(IvError::Undecided(_))));
        let zero_ish = Interval::new(Dyadic::from_int(-1), Dyadic::from_int(1));
        assert!(matches!(zero_ish.recip(P), Err(IvError::Undecided(_))));
        assert_eq!(Interval::int(-8).root(3, P).unwrap(), Interval::int(-2));
    }
}
