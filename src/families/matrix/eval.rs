//! Exact evaluation of typed matrix expressions at a sample point: scalar
//! symbols have exact values, matrix symbols exact rational matrices. This is
//! the spot checks' path, independent of the normal form: products,
//! transposes and sums entry by entry, `trace`, `rank`, entrywise `sign`,
//! `normF` and `rms` through exact sums of squares, `norm2` through the exact
//! spectral computation, `cost` from the concrete sizes; `grad`, `hessian`
//! and `jacobian` by the exact dual numbers of [`jet`](super::jet).

use super::dense::{DenseError, Mat};
use super::normal_form::{AtomDef, MatPoly, Normalizer, PlaceDef, Word};
use super::size::Sizes;
use super::spectral::{spectral_norm_squared, Root};
use super::typed::{TKind, T};
use crate::exact::eval::Evaluator;
use crate::exact::real::Real;
use crate::exact::spot::Point;
use crate::resolve::expand::substitute;
use crate::syntax::expr::{Builtin, Expr};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::collections::BTreeMap;

/// The budget [`Budgets::matrix_dim`](crate::config::Budgets::matrix_dim).
pub(crate) const MATRIX_DIM: usize = crate::config::Budgets::DEFAULT.matrix_dim;

/// A concrete value.
#[derive(Clone, Debug)]
pub(crate) enum V {
    /// A scalar.
    S(Real),
    /// An exact matrix.
    M(Mat),
}

/// One sample point: scalar values and matrices.
pub(crate) struct Env<'a> {
    /// Scalar evaluation.
    pub(crate) ev: &'a Evaluator<'a>,
    /// Sizes (identity sizes resolved).
    pub(crate) sizes: &'a Sizes,
    /// Scalar `given` substitutions.
    pub(crate) subs: &'a BTreeMap<String, Expr>,
    /// Scalar values (with substituted symbols' values added).
    pub(crate) point: Point,
    /// Matrix values.
    pub(crate) mats: BTreeMap<String, Mat>,
    /// The cost constant's name.
    pub(crate) cost_constant: Option<String>,
}

type R<X> = Result<X, String>;

fn dense(e: DenseError) -> String {
    e.0
}

fn exact(r: &Real, what: &str) -> R<BigRational> {
    r.as_exact()
        .cloned()
        .ok_or_else(|| format!("{what} is irrational here ({})", r.display()))
}

impl super::jet::Sample for Env<'_> {
    fn scalar(&self, e: &Expr) -> R<Real> {
        self.scalar_expr(e)
    }
    fn matrix(&self, name: &str) -> Option<Mat> {
        self.mats.get(name).cloned()
    }
    fn literal(&self, rows: &[Vec<Expr>]) -> R<Mat> {
        Env::literal(self, rows)
    }
    fn shape(&self, t: &T) -> R<(usize, usize)> {
        Env::shape(self, t)
    }
}

/// The real value of `norm2` from its exact square.
pub(crate) fn norm_from_square(root: &Root) -> R<Real> {
    let r = match root {
        Root::Exact(q) => Real::exact(q.clone()),
        Root::Between(lo, hi) => Real::between(lo, hi).map_err(|e| format!("{e:?}"))?,
    };
    r.sqrt().map_err(|e| format!("{e:?}"))
}

impl Env<'_> {
    fn exact_sizes(&self) -> BTreeMap<String, BigRational> {
        self.point
            .iter()
            .filter_map(|(k, v)| v.as_exact().map(|q| (k.clone(), q.clone())))
            .collect()
    }

    fn count(&self, d: &super::size::Dim) -> R<usize> {
        let s = self
            .sizes
            .known(d)
            .ok_or("the size of an identity is not determined")?;
        s.count(&self.exact_sizes(), MATRIX_DIM).ok_or_else(|| {
            format!("the size {s} is not a positive integer of at most {MATRIX_DIM} here")
        })
    }

    fn shape(&self, t: &T) -> R<(usize, usize)> {
        let s = t
            .shape
            .as_ref()
            .ok_or("a scalar where a matrix was expected")?;
        Ok((self.count(&s.rows)?, self.count(&s.cols)?))
    }

    fn scalar_expr(&self, e: &Expr) -> R<Real> {
        self.ev
            .eval(&substitute(e, self.subs), &self.point)
            .map_err(|e| e.to_string())
    }

    /// The value of a typed node.
    pub(crate) fn value(&self, t: &T) -> R<V> {
        self.value_at(t, 0)
    }

    fn value_at(&self, t: &T, depth: usize) -> R<V> {
        if depth > super::typed::MATRIX_DEPTH {
            return Err("the expression nests too deeply".into());
        }
        let d = depth + 1;
        Ok(match &t.kind {
            TKind::Scalar(e) => V::S(self.scalar_expr(e)?),
            TKind::Symbol(n) => V::M(
                self.mats
                    .get(n)
                    .cloned()
                    .ok_or_else(|| format!("no value for `{n}`"))?,
            ),
            TKind::Identity => {
                let (n, _) = self.shape(t)?;
                V::M(Mat::identity(n))
            }
            TKind::Literal(rows) => V::M(self.literal(rows)?),
            TKind::Defined(_, body) => self.value_at(body, d)?,
            TKind::AsScalar(m) => match self.value_at(m, d)? {
                V::M(m) if m.rows == 1 && m.cols == 1 => V::S(Real::exact(m.data[0].clone())),
                _ => return Err("a 1 × 1 matrix was expected".into()),
            },
            TKind::Neg(a) => match self.value_at(a, d)? {
                V::S(x) => V::S(x.neg()),
                V::M(m) => V::M(m.scale(&-BigRational::one())),
            },
            TKind::Add(a, b) | TKind::Sub(a, b) => {
                let sub = matches!(t.kind, TKind::Sub(..));
                match (self.value_at(a, d)?, self.value_at(b, d)?) {
                    (V::S(x), V::S(y)) => V::S(
                        if sub { x.sub(&y) } else { x.add(&y) }.map_err(|e| format!("{e:?}"))?,
                    ),
                    (V::M(x), V::M(y)) => {
                        let s = if sub {
                            -BigRational::one()
                        } else {
                            BigRational::one()
                        };
                        V::M(x.add_scaled(&y, &s).map_err(dense)?)
                    }
                    _ => return Err("a scalar added to a matrix".into()),
                }
            }
            TKind::Mul(a, b) => match (self.value_at(a, d)?, self.value_at(b, d)?) {
                (V::S(x), V::S(y)) => V::S(x.mul(&y).map_err(|e| format!("{e:?}"))?),
                (V::S(x), V::M(m)) | (V::M(m), V::S(x)) => {
                    V::M(m.scale(&exact(&x, "a scalar factor of a matrix")?))
                }
                (V::M(x), V::M(y)) => V::M(x.mul(&y).map_err(dense)?),
            },
            TKind::Div(a, b) => {
                let y = match self.value_at(b, d)? {
                    V::S(y) => y,
                    V::M(_) => return Err("division by a matrix".into()),
                };
                match self.value_at(a, d)? {
                    V::S(x) => V::S(x.div(&y).map_err(|e| format!("{e:?}"))?),
                    V::M(m) => {
                        let y = exact(&y, "a scalar divisor of a matrix")?;
                        if y.is_zero() {
                            return Err("division by zero".into());
                        }
                        V::M(m.scale(&y.recip()))
                    }
                }
            }
            TKind::Pow(a, k) => {
                let k = match self.value_at(k, d)? {
                    V::S(k) => k,
                    V::M(_) => return Err("a matrix exponent".into()),
                };
                match self.value_at(a, d)? {
                    V::S(x) => V::S(x.pow(&k).map_err(|e| format!("{e:?}"))?),
                    V::M(m) => {
                        let k = exact(&k, "a matrix power")?;
                        let k = crate::symbolic::polynomial::small_exponent(&k)
                            .filter(|k| (0..=64).contains(k))
                            .ok_or("a matrix power must be a small nonnegative integer")?;
                        let mut acc = Mat::identity(m.rows);
                        for _ in 0..k {
                            acc = acc.mul(&m).map_err(dense)?;
                        }
                        V::M(acc)
                    }
                }
            }
            TKind::Transpose(a) => match self.value_at(a, d)? {
                V::M(m) => V::M(m.t()),
                s => s,
            },
            TKind::Call(op, args) => self.call(*op, args, t, d)?,
        })
    }

    fn literal(&self, rows: &[Vec<Expr>]) -> R<Mat> {
        let r = rows.len();
        let c = rows.first().map_or(0, |x| x.len());
        let mut data = Vec::new();
        for e in rows.iter().flatten() {
            data.push(exact(&self.scalar_expr(e)?, "a matrix literal's entry")?);
        }
        Ok(Mat {
            rows: r,
            cols: c,
            data,
        })
    }

    fn matrix(&self, t: &T, d: usize) -> R<Mat> {
        match self.value_at(t, d)? {
            V::M(m) => Ok(m),
            V::S(_) => Err("a scalar where a matrix was expected".into()),
        }
    }

    fn call(&self, op: Builtin, args: &[T], t: &T, d: usize) -> R<V> {
        let q = |n: usize| BigRational::from_integer(BigInt::from(n));
        let name = op.name();
        Ok(match op {
            Builtin::Trace => V::S(Real::exact(self.matrix(&args[0], d)?.trace())),
            Builtin::Rank => V::S(Real::exact(q(self.matrix(&args[0], d)?.rank()))),
            Builtin::NormF => V::S(
                Real::exact(self.matrix(&args[0], d)?.frobenius2())
                    .sqrt()
                    .map_err(|e| format!("{e:?}"))?,
            ),
            Builtin::Norm2 => V::S(norm_from_square(&spectral_norm_squared(
                &self.matrix(&args[0], d)?,
            ))?),
            Builtin::Rms => {
                let m = self.matrix(&args[0], d)?;
                let n = Real::exact(q(m.rows))
                    .sqrt()
                    .map_err(|e| format!("{e:?}"))?;
                let norm = Real::exact(m.frobenius2())
                    .sqrt()
                    .map_err(|e| format!("{e:?}"))?;
                V::S(norm.div(&n).map_err(|e| format!("{e:?}"))?)
            }
            Builtin::Cost => V::S(self.cost(&args[0], d)?),
            Builtin::Inv => V::M(
                self.matrix(&args[0], d)?
                    .inverse()
                    .ok_or("a matrix that is not invertible here")?,
            ),
            Builtin::Det => V::S(Real::exact(self.matrix(&args[0], d)?.det().map_err(dense)?)),
            Builtin::Diag => V::M(self.matrix(&args[0], d)?.diag()),
            Builtin::Grad | Builtin::Hessian | Builtin::Jacobian => {
                V::M(super::jet::derivative(self, op, args)?)
            }
            Builtin::Sign if t.shape.is_some() => V::M(self.matrix(&args[0], d)?.sign()),
            _ => {
                let mut xs = Vec::new();
                for a in args {
                    match self.value_at(a, d)? {
                        V::S(x) => xs.push(x),
                        V::M(_) => return Err(format!("`{name}` of a matrix")),
                    }
                }
                let r = match (op, xs.as_slice()) {
                    (Builtin::Sqrt, [x]) => x.sqrt(),
                    (Builtin::Abs, [x]) => x.abs(),
                    (Builtin::Sign, [x]) => x.sign(),
                    (Builtin::Floor, [x]) => x.floor(),
                    (Builtin::Ceil, [x]) => x.ceil(),
                    (Builtin::Exp, [x]) => x.exp(),
                    (Builtin::Log, [x]) => x.log(),
                    (Builtin::Min, [x, y]) => x.min(y),
                    (Builtin::Max, [x, y]) => x.max(y),
                    _ => return Err(format!("`{name}` with {} arguments", xs.len())),
                };
                V::S(r.map_err(|e| format!("{e:?}"))?)
            }
        })
    }

    /// The multiplication cost of `t` as written, at the point's sizes.
    fn cost(&self, t: &T, d: usize) -> R<Real> {
        let c = self
            .cost_constant
            .as_ref()
            .ok_or("`cost` needs a declared scalar `c`")?;
        let c = self.point.get(c).cloned().ok_or("no value for `c`")?;
        let mut count = BigRational::zero();
        self.cost_count(t, &mut count, d)?;
        c.mul(&Real::exact(count)).map_err(|e| format!("{e:?}"))
    }

    fn cost_count(&self, t: &T, acc: &mut BigRational, d: usize) -> R<()> {
        if d > super::typed::MATRIX_DEPTH {
            return Err("the expression nests too deeply".into());
        }
        let q = |n: usize| BigRational::from_integer(BigInt::from(n));
        match &t.kind {
            TKind::Scalar(_)
            | TKind::Symbol(_)
            | TKind::Identity
            | TKind::Literal(_)
            | TKind::Defined(..) => {}
            TKind::Mul(a, b) => {
                self.cost_count(a, acc, d + 1)?;
                self.cost_count(b, acc, d + 1)?;
                if a.shape.is_some() && b.shape.is_some() {
                    let (n, m) = self.shape(a)?;
                    let (_, p) = self.shape(b)?;
                    *acc += q(n * m * p);
                }
            }
            TKind::Pow(a, k) => {
                self.cost_count(a, acc, d + 1)?;
                if a.shape.is_some() {
                    let (n, _) = self.shape(a)?;
                    let k = match self.value_at(k, d + 1)? {
                        V::S(k) => exact(&k, "a matrix power")?,
                        V::M(_) => return Err("a matrix exponent".into()),
                    };
                    if k > BigRational::one() {
                        *acc += (k - BigRational::one()) * q(n * n * n);
                    }
                }
            }
            TKind::AsScalar(a) | TKind::Neg(a) | TKind::Transpose(a) => {
                self.cost_count(a, acc, d + 1)?
            }
            TKind::Add(a, b) | TKind::Sub(a, b) | TKind::Div(a, b) => {
                self.cost_count(a, acc, d + 1)?;
                self.cost_count(b, acc, d + 1)?;
            }
            TKind::Call(_, args) => {
                for a in args {
                    self.cost_count(a, acc, d + 1)?;
                }
            }
        }
        Ok(())
    }

    fn word_value(&self, nf: &Normalizer<'_>, w: &Word, n: usize, d: usize) -> R<Mat> {
        let mut acc: Option<Mat> = None;
        for f in w {
            let atom = nf.atoms.get(&f.key).ok_or("an unknown atom")?;
            let m = match &atom.def {
                AtomDef::Symbol(s) => self
                    .mats
                    .get(s)
                    .cloned()
                    .ok_or_else(|| format!("no value for `{s}`"))?,
                AtomDef::Literal(rows) => self.literal(rows)?,
                AtomDef::Sign(inner) => self.poly_value(nf, inner, d + 1)?.sign(),
                AtomDef::Inverse(inner) => self
                    .poly_value(nf, inner, d + 1)?
                    .inverse()
                    .ok_or("a matrix that is not invertible here")?,
                AtomDef::Diag(inner) => self.poly_value(nf, inner, d + 1)?.diag(),
            };
            let m = if f.t { m.t() } else { m };
            acc = Some(match acc {
                None => m,
                Some(a) => a.mul(&m).map_err(dense)?,
            });
        }
        Ok(acc.unwrap_or_else(|| Mat::identity(n)))
    }

    fn poly_value(&self, nf: &Normalizer<'_>, m: &MatPoly, d: usize) -> R<Mat> {
        if d > 20 {
            return Err("atoms nest too deeply".into());
        }
        let sizes = self.exact_sizes();
        let r = m
            .rows
            .count(&sizes, MATRIX_DIM)
            .ok_or("a size out of range")?;
        let c = m
            .cols
            .count(&sizes, MATRIX_DIM)
            .ok_or("a size out of range")?;
        let mut acc = Mat::zeros(r, c);
        for (w, coeff) in &m.terms {
            let k = exact(
                &self
                    .ev
                    .eval(coeff, &self.point)
                    .map_err(|e| e.to_string())?,
                "a coefficient",
            )?;
            acc = acc
                .add_scaled(&self.word_value(nf, w, r, d)?, &k)
                .map_err(dense)?;
        }
        Ok(acc)
    }

    /// Closed forms of the normal form's placeholders here (`None` for one
    /// without a closed form, such as an irrational spectral norm).
    pub(crate) fn placeholder_values(&self, nf: &Normalizer<'_>) -> BTreeMap<String, Option<Expr>> {
        let mut out = BTreeMap::new();
        for (name, p) in &nf.placeholders {
            let v =
                match &p.def {
                    PlaceDef::Trace(w) => self
                        .word_value(nf, w, 1, 0)
                        .ok()
                        .filter(|m| m.rows == m.cols)
                        .map(|m| Expr::rational(m.trace())),
                    PlaceDef::Rank(m) => self
                        .poly_value(nf, m, 0)
                        .ok()
                        .map(|m| Expr::int(m.rank() as i64)),
                    PlaceDef::Det(m) => self
                        .poly_value(nf, m, 0)
                        .ok()
                        .and_then(|m| m.det().ok())
                        .map(Expr::rational),
                    PlaceDef::Norm2(m) => self.poly_value(nf, m, 0).ok().and_then(|m| {
                        match spectral_norm_squared(&m) {
                            Root::Exact(q) => {
                                Some(Expr::builtin(Builtin::Sqrt, vec![Expr::rational(q)]))
                            }
                            Root::Between(..) => None,
                        }
                    }),
                };
            out.insert(name.clone(), v);
        }
        out
    }
}
