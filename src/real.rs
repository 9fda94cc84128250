//! TEMPORARY stub of certified reals (exact rationals only); replaced by the full module.
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Precision target of enclosures.
pub const PRECISION_BITS: u32 = 200;
/// Largest size of a number allowed.
pub const MAX_BITS: u64 = 1 << 16;

/// A certified real.
#[derive(Clone, Debug, PartialEq)]
pub enum Real {
    /// Exact.
    Exact(BigRational),
    /// Enclosure.
    Approx {
        /// Lower bound.
        lo: BigRational,
        /// Upper bound.
        hi: BigRational,
    },
}

/// Why an operation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum RealError {
    /// Division by zero.
    DivisionByZero,
    /// Outside the function's domain.
    Domain(String),
    /// Cannot decide.
    Undecided(String),
    /// Too big.
    Budget(String),
}

fn bits(q: &BigRational) -> u64 {
    q.numer().bits().max(q.denom().bits())
}

/// Exact integer root.
pub fn integer_root_exact(n: &BigInt, q: u32) -> Option<BigInt> {
    if n.is_negative() {
        if q % 2 == 0 {
            return None;
        }
        return integer_root_exact(&-n, q).map(|r| -r);
    }
    let r = n.nth_root(q);
    if num_traits::pow(r.clone(), q as usize) == *n {
        Some(r)
    } else {
        None
    }
}

impl Real {
    /// Exact value.
    pub fn exact(q: BigRational) -> Real {
        Real::Exact(q)
    }
    /// The exact value if any.
    pub fn as_exact(&self) -> Option<&BigRational> {
        match self {
            Real::Exact(q) => Some(q),
            _ => None,
        }
    }
    fn ex(&self) -> Result<&BigRational, RealError> {
        self.as_exact()
            .ok_or_else(|| RealError::Undecided("irrational".into()))
    }
    /// a + b
    pub fn add(&self, o: &Real) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()? + o.ex()?))
    }
    /// a - b
    pub fn sub(&self, o: &Real) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()? - o.ex()?))
    }
    /// a * b
    pub fn mul(&self, o: &Real) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()? * o.ex()?))
    }
    /// a / b
    pub fn div(&self, o: &Real) -> Result<Real, RealError> {
        let b = o.ex()?;
        if b.is_zero() {
            return Err(RealError::DivisionByZero);
        }
        Ok(Real::Exact(self.ex()? / b))
    }
    /// -a
    pub fn neg(&self) -> Real {
        match self {
            Real::Exact(q) => Real::Exact(-q),
            Real::Approx { lo, hi } => Real::Approx { lo: -hi, hi: -lo },
        }
    }
    /// a^k
    pub fn powi(&self, k: &BigInt) -> Result<Real, RealError> {
        let a = self.ex()?;
        if a.is_zero() {
            if k.is_negative() {
                return Err(RealError::Domain("0 to a negative power".into()));
            }
            return Ok(Real::Exact(if k.is_zero() {
                BigRational::one()
            } else {
                BigRational::zero()
            }));
        }
        if a.abs().is_one() {
            let odd = (k % 2u32) != BigInt::zero();
            return Ok(Real::Exact(if a.is_negative() && odd {
                -BigRational::one()
            } else {
                BigRational::one()
            }));
        }
        let kk = k
            .abs()
            .to_u64()
            .filter(|kk| bits(a).saturating_mul(*kk) <= MAX_BITS);
        let Some(kk) = kk else {
            return Err(RealError::Budget("power too large".into()));
        };
        let p = num_traits::pow(a.clone(), kk as usize);
        Ok(Real::Exact(if k.is_negative() { p.recip() } else { p }))
    }
    /// q-th root.
    pub fn root(&self, q: u32) -> Result<Real, RealError> {
        let a = self.ex()?;
        if a.is_negative() && q % 2 == 0 {
            return Err(RealError::Domain("even root of a negative number".into()));
        }
        match (
            integer_root_exact(a.numer(), q),
            integer_root_exact(a.denom(), q),
        ) {
            (Some(n), Some(d)) => Ok(Real::Exact(BigRational::new(n, d))),
            _ => Err(RealError::Undecided("irrational root".into())),
        }
    }
    /// sqrt
    pub fn sqrt(&self) -> Result<Real, RealError> {
        self.root(2)
    }
    /// a^e
    pub fn pow(&self, e: &Real) -> Result<Real, RealError> {
        let e = e.ex()?;
        let p = self.powi(e.numer())?;
        let q = e
            .denom()
            .to_u32()
            .ok_or_else(|| RealError::Budget("root too large".into()))?;
        if q == 1 {
            return Ok(p);
        }
        p.root(q)
    }
    /// exp
    pub fn exp(&self) -> Result<Real, RealError> {
        if self.ex()?.is_zero() {
            return Ok(Real::Exact(BigRational::one()));
        }
        Err(RealError::Undecided("exp".into()))
    }
    /// log
    pub fn log(&self) -> Result<Real, RealError> {
        let a = self.ex()?;
        if !a.is_positive() {
            return Err(RealError::Domain("log of a nonpositive number".into()));
        }
        if a.is_one() {
            return Ok(Real::Exact(BigRational::zero()));
        }
        Err(RealError::Undecided("log".into()))
    }
    /// |a|
    pub fn abs(&self) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()?.abs()))
    }
    /// floor
    pub fn floor(&self) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()?.floor()))
    }
    /// ceil
    pub fn ceil(&self) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()?.ceil()))
    }
    /// sign
    pub fn sign(&self) -> Result<Real, RealError> {
        Ok(Real::Exact(self.ex()?.signum()))
    }
    /// min
    pub fn min(&self, o: &Real) -> Result<Real, RealError> {
        match self.cmp_certain(o) {
            Some(Ordering::Greater) => Ok(o.clone()),
            Some(_) => Ok(self.clone()),
            None => Err(RealError::Undecided("min".into())),
        }
    }
    /// max
    pub fn max(&self, o: &Real) -> Result<Real, RealError> {
        match self.cmp_certain(o) {
            Some(Ordering::Less) => Ok(o.clone()),
            Some(_) => Ok(self.clone()),
            None => Err(RealError::Undecided("max".into())),
        }
    }
    /// Certain comparison.
    pub fn cmp_certain(&self, o: &Real) -> Option<Ordering> {
        match (self, o) {
            (Real::Exact(a), Real::Exact(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
    /// Certainly different.
    pub fn certainly_ne(&self, o: &Real) -> bool {
        matches!(
            self.cmp_certain(o),
            Some(Ordering::Less | Ordering::Greater)
        )
    }
    /// May be equal.
    pub fn may_equal(&self, o: &Real) -> bool {
        !self.certainly_ne(o)
    }
    /// Display.
    pub fn display(&self) -> String {
        match self {
            Real::Exact(q) => crate::expr::format_rational(q),
            Real::Approx { lo, hi } => format!("[{lo}, {hi}]"),
        }
    }
}
