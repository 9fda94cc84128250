//! Exact multivariate polynomials and the rational expressions handed to the
//! CAS. These are the project's own types: the CAS module turns an [`Alg`]
//! into a [`RatFun`] and nothing else in the crate sees the CAS's types.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;

/// A rational expression over numbered generators with integer powers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Alg {
    /// An exact number.
    Num(BigRational),
    /// Generator number `i`.
    Var(usize),
    /// A sum.
    Add(Vec<Alg>),
    /// A product.
    Mul(Vec<Alg>),
    /// An integer power (negative powers are reciprocals).
    Pow(Box<Alg>, i64),
}

impl Alg {
    /// The number `n`.
    pub(crate) fn int(n: i64) -> Alg {
        Alg::Num(BigRational::from_integer(BigInt::from(n)))
    }

    /// `a - b`.
    pub(crate) fn sub(a: Alg, b: Alg) -> Alg {
        Alg::Add(vec![a, Alg::Mul(vec![Alg::int(-1), b])])
    }

    /// A bound on the total degree after expansion, counting negative powers by size.
    pub(crate) fn degree_bound(&self) -> f64 {
        match self {
            Alg::Num(_) => 0.0,
            Alg::Var(_) => 1.0,
            Alg::Add(items) => items.iter().map(Alg::degree_bound).fold(0.0, f64::max),
            Alg::Mul(items) => items.iter().map(Alg::degree_bound).sum(),
            Alg::Pow(b, k) => b.degree_bound() * (*k as f64).abs(),
        }
    }

    /// A bound on the number of terms after expansion (a crude over-estimate).
    pub(crate) fn term_bound(&self) -> f64 {
        match self {
            Alg::Num(_) | Alg::Var(_) => 1.0,
            Alg::Add(items) => items.iter().map(Alg::term_bound).sum(),
            Alg::Mul(items) => items.iter().map(Alg::term_bound).product(),
            Alg::Pow(b, k) => {
                let t = b.term_bound();
                if t <= 1.0 {
                    1.0
                } else {
                    // A power of a sum of t terms in few variables has at most
                    // C(d + t - 1, t - 1) terms; bound it by (d + 1)^(t - 1).
                    let d = (*k as f64).abs();
                    t.powf(d).min((d + 1.0).powf(t - 1.0))
                }
            }
        }
    }
}

/// One term of a polynomial: a coefficient times a monomial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Term {
    /// The exact coefficient.
    pub(crate) coeff: BigRational,
    /// The exponent of each generator.
    pub(crate) exps: Vec<u32>,
}

/// A polynomial with exact rational coefficients over numbered generators.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct Poly {
    /// The terms, none with a zero coefficient.
    pub(crate) terms: Vec<Term>,
}

impl Poly {
    /// Is this the zero polynomial?
    pub(crate) fn is_zero(&self) -> bool {
        self.terms.iter().all(|t| t.coeff.is_zero())
    }

    /// The constant polynomial's value, if the polynomial is constant.
    pub(crate) fn as_constant(&self) -> Option<BigRational> {
        if self.is_zero() {
            return Some(BigRational::zero());
        }
        if self.terms.len() == 1 && self.terms[0].exps.iter().all(|e| *e == 0) {
            return Some(self.terms[0].coeff.clone());
        }
        None
    }

    /// Evaluates at exact values of the generators.
    #[cfg(test)]
    pub(crate) fn eval(&self, values: &[BigRational]) -> BigRational {
        let mut total = BigRational::zero();
        for t in &self.terms {
            let mut v = t.coeff.clone();
            for (i, e) in t.exps.iter().enumerate() {
                if *e > 0 {
                    v *= num_traits::pow(values[i].clone(), *e as usize);
                }
            }
            total += v;
        }
        total
    }
}

/// A quotient of polynomials: the CAS's canonical form of an [`Alg`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RatFun {
    /// The numerator.
    pub(crate) num: Poly,
    /// The denominator (never the zero polynomial).
    pub(crate) den: Poly,
}

pub(crate) use crate::exact::fold::small_exponent;
