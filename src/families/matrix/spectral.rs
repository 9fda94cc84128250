//! The spectral norm, exactly: `norm2(M)²` is the largest root of the
//! characteristic polynomial of `MᵀM` (or `MMᵀ`, whichever is smaller),
//! computed with exact rationals (Faddeev–LeVerrier) and isolated by exact
//! Sturm sequences and bisection on rationals. A rational root is found
//! exactly (hit by bisection, or the simplest rational of a tiny isolating
//! interval, verified by exact evaluation); otherwise the result is a
//! certified enclosure.

use super::dense::Mat;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// The budget [`Budgets::bisections`](crate::config::Budgets::bisections).
pub(crate) const BISECTIONS: usize = crate::config::Budgets::DEFAULT.bisections;

/// A polynomial, coefficients from the constant term up.
pub(crate) type Poly = Vec<BigRational>;

fn trim(mut p: Poly) -> Poly {
    while p.last().is_some_and(|c| c.is_zero()) {
        p.pop();
    }
    p
}

fn eval(p: &Poly, x: &BigRational) -> BigRational {
    let mut acc = BigRational::zero();
    for c in p.iter().rev() {
        acc = acc * x + c;
    }
    acc
}

fn derivative(p: &Poly) -> Poly {
    trim(
        p.iter()
            .enumerate()
            .skip(1)
            .map(|(i, c)| c * BigRational::from_integer(BigInt::from(i)))
            .collect(),
    )
}

/// Quotient and remainder of polynomial division (`b` nonzero).
fn divmod(a: &Poly, b: &Poly) -> (Poly, Poly) {
    let b = trim(b.clone());
    let mut r = trim(a.clone());
    if b.is_empty() || r.len() < b.len() {
        return (Vec::new(), r);
    }
    let lead = b.last().unwrap().clone();
    let mut q = vec![BigRational::zero(); r.len() - b.len() + 1];
    while r.len() >= b.len() && !r.is_empty() {
        let shift = r.len() - b.len();
        let f = r.last().unwrap() / &lead;
        for (i, c) in b.iter().enumerate() {
            r[shift + i] -= &f * c;
        }
        q[shift] = f;
        r.pop();
        r = trim(r);
    }
    (trim(q), r)
}

fn gcd(a: &Poly, b: &Poly) -> Poly {
    let (mut x, mut y) = (trim(a.clone()), trim(b.clone()));
    while !y.is_empty() {
        let (_, r) = divmod(&x, &y);
        x = y;
        y = r;
    }
    x
}

/// The characteristic polynomial det(x I − G) of a square matrix.
pub(crate) fn characteristic(g: &Mat) -> Poly {
    let n = g.rows;
    let mut coeffs = vec![BigRational::zero(); n + 1];
    coeffs[n] = BigRational::one();
    let mut m = Mat::zeros(n, n);
    for k in 1..=n {
        // M_k = G M_{k-1} + c_{n-k+1} I; c_{n-k} = -trace(G M_k) / k.
        let gm = g.mul(&m).unwrap_or_else(|_| Mat::zeros(n, n));
        let mut next = gm;
        for i in 0..n {
            next.data[i * n + i] += &coeffs[n - k + 1];
        }
        m = next;
        let t = g.mul(&m).map(|x| x.trace()).unwrap_or_default();
        coeffs[n - k] = -t / BigRational::from_integer(BigInt::from(k as i64));
    }
    coeffs
}

fn sturm_chain(p: &Poly) -> Vec<Poly> {
    let mut chain = vec![p.clone(), derivative(p)];
    while let Some(last) = chain.last() {
        if last.is_empty() {
            chain.pop();
            break;
        }
        let prev = &chain[chain.len() - 2];
        let (_, r) = divmod(prev, last);
        if r.is_empty() {
            break;
        }
        chain.push(r.into_iter().map(|c| -c).collect());
    }
    chain
}

/// A polynomial scaled by a positive integer so that its coefficients are
/// integers (same signs everywhere), for evaluation without gcds.
type IntPoly = Vec<BigInt>;

fn integral(p: &Poly) -> IntPoly {
    let mut l = BigInt::one();
    for c in p {
        l = num_integer::Integer::lcm(&l, c.denom());
    }
    p.iter()
        .map(|c| (c * BigRational::from_integer(l.clone())).to_integer())
        .collect()
}

/// `den^deg · p(num/den)`, whose sign is the sign of `p(num/den)` (den > 0).
fn eval_int(p: &IntPoly, x: &BigRational) -> BigInt {
    let (num, den) = (x.numer(), x.denom());
    let Some(last) = p.last() else {
        return BigInt::zero();
    };
    let mut acc = last.clone();
    let mut dpow = den.clone();
    for c in p.iter().rev().skip(1) {
        acc = acc * num + c * &dpow;
        dpow *= den;
    }
    acc
}

fn sign_changes(chain: &[IntPoly], x: &BigRational) -> usize {
    let mut last = 0i8;
    let mut changes = 0;
    for p in chain {
        let v = eval_int(p, x);
        let s = if v.is_positive() {
            1
        } else if v.is_negative() {
            -1
        } else {
            0
        };
        if s != 0 {
            if last != 0 && s != last {
                changes += 1;
            }
            last = s;
        }
    }
    changes
}

/// The simplest rational (smallest denominator) in `[lo, hi]`, `0 <= lo <= hi`.
fn simplest_between(lo: &BigRational, hi: &BigRational) -> BigRational {
    let fl = lo.floor();
    if fl == *lo {
        return lo.clone();
    }
    if &(fl.clone() + BigRational::one()) <= hi {
        return fl + BigRational::one();
    }
    // Both in (fl, fl + 1): recurse on the reciprocals of the fractional parts.
    let a = lo - &fl;
    let b = hi - &fl;
    let inner = simplest_between(&b.recip(), &a.recip());
    fl + inner.recip()
}

/// The largest real root of a polynomial whose roots are all real and in
/// `[0, bound]` (an eigenvalue polynomial of a Gram matrix).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Root {
    /// The root, exactly.
    Exact(BigRational),
    /// The root lies strictly inside `(lo, hi)`.
    Between(BigRational, BigRational),
}

/// The largest eigenvalue of the symmetric positive semidefinite matrix `g`.
pub(crate) fn largest_eigenvalue(g: &Mat) -> Root {
    let p = characteristic(g);
    // Square-free part: the same roots, each simple.
    let d = derivative(&p);
    let common = gcd(&p, &d);
    let p = if common.len() > 1 {
        divmod(&p, &common).0
    } else {
        p
    };
    if p.len() <= 1 {
        return Root::Exact(BigRational::zero());
    }
    let chain: Vec<IntPoly> = sturm_chain(&p).iter().map(integral).collect();
    let pi = integral(&p);
    // Every eigenvalue lies in [0, trace]; start from a power of two above it.
    let mut hi = BigRational::one();
    while hi <= g.trace() {
        hi *= BigRational::from_integer(BigInt::from(2));
    }
    let mut lo = BigRational::zero();
    if eval_int(&pi, &lo).is_zero() && sign_changes(&chain, &lo) == sign_changes(&chain, &hi) {
        return Root::Exact(lo);
    }
    let at_top = sign_changes(&chain, &hi);
    let above = |x: &BigRational| sign_changes(&chain, x).saturating_sub(at_top);
    let two = BigRational::from_integer(BigInt::from(2));
    for _ in 0..BISECTIONS {
        let mid = (&lo + &hi) / &two;
        if eval_int(&pi, &mid).is_zero() && above(&mid) == 0 {
            return Root::Exact(mid);
        }
        if above(&mid) >= 1 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let q = simplest_between(&lo, &hi);
    if eval(&p, &q).is_zero() {
        return Root::Exact(q);
    }
    Root::Between(lo, hi)
}

/// `norm2(m)²`: the largest eigenvalue of `mᵀm` or `mmᵀ`.
pub(crate) fn spectral_norm_squared(m: &Mat) -> Root {
    if m.rows == 1 || m.cols == 1 {
        return Root::Exact(m.frobenius2());
    }
    let g = if m.cols <= m.rows {
        m.t().mul(m)
    } else {
        m.mul(&m.t())
    };
    match g {
        Ok(g) => largest_eigenvalue(&g),
        Err(_) => Root::Between(BigRational::zero(), m.frobenius2() + BigRational::one()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> BigRational {
        BigRational::from_integer(BigInt::from(n))
    }

    #[test]
    fn characteristic_polynomial_of_a_diagonal() {
        let g = Mat::from_ints(2, 2, &[2, 0, 0, 3]);
        assert_eq!(characteristic(&g), vec![q(6), q(-5), q(1)]);
    }

    #[test]
    fn rank_one_sign_matrix_has_norm_squared_six() {
        let m = Mat::from_ints(3, 2, &[1, -1, -1, 1, 1, -1]);
        assert_eq!(spectral_norm_squared(&m), Root::Exact(q(6)));
    }

    #[test]
    fn irrational_eigenvalue_is_enclosed() {
        // [[1, 1], [0, 1]]: norm² = (3 + √5) / 2 ≈ 2.618.
        let m = Mat::from_ints(2, 2, &[1, 1, 0, 1]);
        match spectral_norm_squared(&m) {
            Root::Between(lo, hi) => {
                assert!(lo < hi);
                assert!(BigRational::new(2617.into(), 1000.into()) < hi);
                assert!(hi < BigRational::new(2619.into(), 1000.into()));
            }
            other => panic!("expected an enclosure, got {other:?}"),
        }
    }

    #[test]
    fn rational_non_dyadic_eigenvalue_is_exact() {
        // diag(1/3, 1/5) squared: largest eigenvalue 1/9.
        let mut m = Mat::zeros(2, 2);
        m.data[0] = BigRational::new(1.into(), 3.into());
        m.data[3] = BigRational::new(1.into(), 5.into());
        assert_eq!(
            spectral_norm_squared(&m),
            Root::Exact(BigRational::new(1.into(), 9.into()))
        );
    }
}
