//! Exact dense matrices over the rationals, for spot checks and
//! counterexamples: products, transposes, traces, ranks, entrywise signs,
//! and the spectral norm through the exact characteristic polynomial (see
//! [`super::spectral`]). No floating point anywhere.

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::fmt;

/// The budget [`Budgets::matrix_entry_bits`](crate::config::Budgets::matrix_entry_bits).
pub(crate) const MATRIX_ENTRY_BITS: u64 = crate::config::Budgets::DEFAULT.matrix_entry_bits;

/// An exact rows × cols matrix, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mat {
    /// Rows.
    pub(crate) rows: usize,
    /// Columns.
    pub(crate) cols: usize,
    /// Entries, row by row.
    pub(crate) data: Vec<BigRational>,
}

/// A size mismatch or an entry over budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DenseError(pub String);

type R<X> = Result<X, DenseError>;

fn bits(q: &BigRational) -> u64 {
    q.numer().bits().max(q.denom().bits())
}

impl Mat {
    /// The zero matrix.
    pub(crate) fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![BigRational::zero(); rows * cols],
        }
    }

    /// The identity.
    pub(crate) fn identity(n: usize) -> Mat {
        let mut m = Mat::zeros(n, n);
        for i in 0..n {
            m.data[i * n + i] = BigRational::one();
        }
        m
    }

    /// From integers, row by row.
    #[cfg(test)]
    pub(crate) fn from_ints(rows: usize, cols: usize, v: &[i64]) -> Mat {
        Mat {
            rows,
            cols,
            data: v
                .iter()
                .map(|x| BigRational::from_integer(num_bigint::BigInt::from(*x)))
                .collect(),
        }
    }

    /// Entry (i, j), 0-based.
    pub(crate) fn get(&self, i: usize, j: usize) -> &BigRational {
        &self.data[i * self.cols + j]
    }

    /// The transpose.
    pub(crate) fn t(&self) -> Mat {
        let mut out = Mat::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                out.data[j * self.rows + i] = self.get(i, j).clone();
            }
        }
        out
    }

    /// `self + s·o`.
    pub(crate) fn add_scaled(&self, o: &Mat, s: &BigRational) -> R<Mat> {
        if (self.rows, self.cols) != (o.rows, o.cols) {
            return Err(DenseError(format!(
                "adding a {} × {} and a {} × {} matrix",
                self.rows, self.cols, o.rows, o.cols
            )));
        }
        let data = self
            .data
            .iter()
            .zip(&o.data)
            .map(|(a, b)| a + b * s)
            .collect();
        Ok(Mat {
            rows: self.rows,
            cols: self.cols,
            data,
        })
    }

    /// `s·self`.
    pub(crate) fn scale(&self, s: &BigRational) -> Mat {
        Mat {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|a| a * s).collect(),
        }
    }

    /// The product.
    pub(crate) fn mul(&self, o: &Mat) -> R<Mat> {
        if self.cols != o.rows {
            return Err(DenseError(format!(
                "multiplying a {} × {} by a {} × {} matrix",
                self.rows, self.cols, o.rows, o.cols
            )));
        }
        let mut out = Mat::zeros(self.rows, o.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.get(i, k);
                if a.is_zero() {
                    continue;
                }
                for j in 0..o.cols {
                    let b = o.get(k, j);
                    if !b.is_zero() {
                        out.data[i * o.cols + j] += a * b;
                    }
                }
            }
        }
        if out.data.iter().any(|q| bits(q) > MATRIX_ENTRY_BITS) {
            return Err(DenseError(format!(
                "an entry of more than {MATRIX_ENTRY_BITS} bits"
            )));
        }
        Ok(out)
    }

    /// The trace of a square matrix.
    pub(crate) fn trace(&self) -> BigRational {
        (0..self.rows.min(self.cols))
            .map(|i| self.get(i, i).clone())
            .fold(BigRational::zero(), |a, b| a + b)
    }

    /// The sum of squared entries (the squared Frobenius norm).
    pub(crate) fn frobenius2(&self) -> BigRational {
        self.data.iter().fold(BigRational::zero(), |a, b| a + b * b)
    }

    /// Entrywise sign (−1, 0, 1).
    pub(crate) fn sign(&self) -> Mat {
        Mat {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .map(|q| BigRational::from_integer(q.numer().signum()))
                .collect(),
        }
    }

    /// The rank, by exact Gaussian elimination.
    pub(crate) fn rank(&self) -> usize {
        let mut m = self.clone();
        let mut rank = 0;
        for col in 0..m.cols {
            let Some(p) = (rank..m.rows).find(|&r| !m.get(r, col).is_zero()) else {
                continue;
            };
            for j in 0..m.cols {
                m.data.swap(rank * m.cols + j, p * m.cols + j);
            }
            let pivot = m.get(rank, col).clone();
            for r in 0..m.rows {
                if r != rank && !m.get(r, col).is_zero() {
                    let f = m.get(r, col) / &pivot;
                    for j in 0..m.cols {
                        let v = m.get(rank, j) * &f;
                        m.data[r * m.cols + j] -= v;
                    }
                }
            }
            rank += 1;
            if rank == m.rows {
                break;
            }
        }
        rank
    }

    /// The determinant of a square matrix, by exact Gaussian elimination.
    pub(crate) fn det(&self) -> R<BigRational> {
        if self.rows != self.cols {
            return Err(DenseError("the determinant of a non-square matrix".into()));
        }
        let n = self.rows;
        let mut m = self.clone();
        let mut det = BigRational::one();
        for col in 0..n {
            let Some(p) = (col..n).find(|&r| !m.get(r, col).is_zero()) else {
                return Ok(BigRational::zero());
            };
            if p != col {
                for j in 0..n {
                    m.data.swap(col * n + j, p * n + j);
                }
                det = -det;
            }
            let pivot = m.get(col, col).clone();
            det *= &pivot;
            for r in col + 1..n {
                if !m.get(r, col).is_zero() {
                    let f = m.get(r, col) / &pivot;
                    for j in col..n {
                        let v = m.get(col, j) * &f;
                        m.data[r * n + j] -= v;
                    }
                }
            }
        }
        Ok(det)
    }

    /// The exact inverse (Gauss–Jordan); `None` for a singular matrix.
    pub(crate) fn inverse(&self) -> Option<Mat> {
        if self.rows != self.cols {
            return None;
        }
        let n = self.rows;
        let mut m = self.clone();
        let mut inv = Mat::identity(n);
        for col in 0..n {
            let p = (col..n).find(|&r| !m.get(r, col).is_zero())?;
            for j in 0..n {
                m.data.swap(col * n + j, p * n + j);
                inv.data.swap(col * n + j, p * n + j);
            }
            let pivot = m.get(col, col).recip();
            for j in 0..n {
                m.data[col * n + j] *= &pivot;
                inv.data[col * n + j] *= &pivot;
            }
            for r in 0..n {
                if r != col && !m.get(r, col).is_zero() {
                    let f = m.get(r, col).clone();
                    for j in 0..n {
                        let a = m.get(col, j) * &f;
                        m.data[r * n + j] -= a;
                        let b = inv.get(col, j) * &f;
                        inv.data[r * n + j] -= b;
                    }
                }
            }
        }
        Some(inv)
    }

    /// `diag(v)` of a column (or row) vector.
    pub(crate) fn diag(&self) -> Mat {
        let n = self.data.len();
        let mut out = Mat::zeros(n, n);
        for (i, q) in self.data.iter().enumerate() {
            out.data[i * n + i] = q.clone();
        }
        out
    }
}

impl fmt::Display for Mat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for i in 0..self.rows {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "[")?;
            for j in 0..self.cols {
                if j > 0 {
                    write!(f, ", ")?;
                }
                write!(
                    f,
                    "{}",
                    crate::syntax::expr::format_rational(self.get(i, j))
                )?;
            }
            write!(f, "]")?;
        }
        write!(f, "]")
    }
}

/// An r × k matrix (k ≤ r) with exactly orthonormal columns: the first k
/// columns of a product of Householder reflections `I − 2 v vᵀ / (vᵀ v)`
/// with the given nonzero rational vectors `v` (each of length r).
pub(crate) fn orthonormal_columns(r: usize, k: usize, vs: &[Vec<BigRational>]) -> R<Mat> {
    if k > r {
        return Err(DenseError(format!(
            "{k} orthonormal columns do not fit in {r} rows"
        )));
    }
    let mut h = Mat::identity(r);
    for v in vs {
        let vv: BigRational = v.iter().fold(BigRational::zero(), |a, b| a + b * b);
        if vv.is_zero() || v.len() != r {
            continue;
        }
        let col = Mat {
            rows: r,
            cols: 1,
            data: v.clone(),
        };
        let outer = col.mul(&col.t())?;
        let refl =
            Mat::identity(r).add_scaled(&outer, &(-BigRational::from_integer(2.into()) / vv))?;
        h = h.mul(&refl)?;
    }
    let mut out = Mat::zeros(r, k);
    for i in 0..r {
        for j in 0..k {
            out.data[i * k + j] = h.get(i, j).clone();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> BigRational {
        BigRational::from_integer(num_bigint::BigInt::from(n))
    }

    #[test]
    fn products_transposes_and_traces() {
        let a = Mat::from_ints(2, 3, &[1, 2, 3, 4, 5, 6]);
        let b = Mat::from_ints(3, 2, &[1, 0, 0, 1, 1, 1]);
        let ab = a.mul(&b).unwrap();
        assert_eq!(ab, Mat::from_ints(2, 2, &[4, 5, 10, 11]));
        assert_eq!(ab.t(), b.t().mul(&a.t()).unwrap());
        assert_eq!(ab.trace(), q(15));
        assert!(a.mul(&a).is_err());
    }

    #[test]
    fn rank_and_sign() {
        let m = Mat::from_ints(3, 2, &[1, -2, -2, 4, 3, -6]);
        assert_eq!(m.rank(), 1);
        assert_eq!(m.sign(), Mat::from_ints(3, 2, &[1, -1, -1, 1, 1, -1]));
        assert_eq!(Mat::identity(3).rank(), 3);
        assert_eq!(Mat::zeros(2, 2).rank(), 0);
    }

    #[test]
    fn householder_columns_are_exactly_orthonormal() {
        let vs = vec![vec![q(1), q(2), q(-1), q(0)], vec![q(0), q(1), q(1), q(3)]];
        let u = orthonormal_columns(4, 2, &vs).unwrap();
        assert_eq!(u.t().mul(&u).unwrap(), Mat::identity(2));
        assert!(orthonormal_columns(2, 3, &vs).is_err());
    }
}
