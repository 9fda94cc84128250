//! Exact derivatives of matrix expressions at a sample point, the spot
//! checks' independent path for `grad`, `hessian` and `jacobian`: the
//! expression as written is evaluated over truncated dual numbers ("jets")
//! `v + Σ vₛ εₛ` with `εᵢ² = 0`, one `ε` per coordinate direction, whose
//! components are exact rational matrices (or certified reals for scalars).
//! `∂f/∂X(i, j)` is the `ε` part of `f(X + ε E(i, j))`; a Hessian entry is
//! the `ε₁ε₂` part with two directions. Nothing here shares code with the
//! symbolic rules of the matrix calculus: products multiply
//! components, inverses and determinants expand exactly around the
//! sample's value, `log`, `exp` and `sqrt` by their finite Taylor
//! polynomials (exact, since the `ε` parts are nilpotent). A derivative
//! that is not rational, or a construct outside this list, leaves the point
//! undecided; floating point is never used.

use super::dense::Mat;
use super::typed::{TKind, T};
use crate::exact::real::Real;
use crate::syntax::expr::{Builtin, Expr};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

type R<X> = Result<X, String>;

/// What a sample point gives the jets: scalar values, matrix values,
/// literals and the sizes of identities.
pub(crate) trait Sample {
    /// The exact value of a scalar expression (no matrices in it).
    fn scalar(&self, e: &Expr) -> R<Real>;
    /// The value of a matrix symbol.
    fn matrix(&self, name: &str) -> Option<Mat>;
    /// The value of a matrix literal.
    fn literal(&self, rows: &[Vec<Expr>]) -> R<Mat>;
    /// The concrete size of a node.
    fn shape(&self, t: &T) -> R<(usize, usize)>;
}

/// A jet: components indexed by the subset (bit mask) of the `ε`s.
#[derive(Clone, Debug)]
enum Jet {
    S(Vec<Real>),
    M(Vec<Mat>),
}

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn re(e: crate::exact::real::RealError) -> String {
    format!("{e:?}")
}

fn exact(r: &Real) -> R<BigRational> {
    r.as_exact()
        .cloned()
        .ok_or_else(|| format!("a value is irrational here ({})", r.display()))
}

fn is_zero_real(r: &Real) -> bool {
    r.as_exact().is_some_and(|x| x.is_zero())
}

fn is_zero_mat(m: &Mat) -> bool {
    m.data.iter().all(|x| x.is_zero())
}

/// Evaluation over jets with `n` components (`n = 2^ε`).
struct Jets<'e> {
    env: &'e dyn Sample,
    x: String,
    /// The value of `x` as a jet.
    xj: Vec<Mat>,
    n: usize,
}

impl Jets<'_> {
    fn constant_s(&self, v: Real) -> Jet {
        let mut c = vec![Real::exact(BigRational::zero()); self.n];
        c[0] = v;
        Jet::S(c)
    }

    fn constant_m(&self, v: Mat) -> Jet {
        let mut c = vec![Mat::zeros(v.rows, v.cols); self.n];
        c[0] = v;
        Jet::M(c)
    }

    fn add(&self, a: &Jet, b: &Jet, negate: bool) -> R<Jet> {
        let k = if negate {
            -BigRational::one()
        } else {
            BigRational::one()
        };
        Ok(match (a, b) {
            (Jet::S(x), Jet::S(y)) => Jet::S(
                x.iter()
                    .zip(y)
                    .map(|(p, r)| if negate { p.sub(r) } else { p.add(r) })
                    .collect::<Result<_, _>>()
                    .map_err(re)?,
            ),
            (Jet::M(x), Jet::M(y)) => Jet::M(
                x.iter()
                    .zip(y)
                    .map(|(p, r)| p.add_scaled(r, &k).map_err(|e| e.0))
                    .collect::<R<_>>()?,
            ),
            _ => return Err("a matrix added to a scalar".into()),
        })
    }

    fn neg(&self, a: &Jet) -> Jet {
        match a {
            Jet::S(x) => Jet::S(x.iter().map(|v| v.neg()).collect()),
            Jet::M(x) => Jet::M(x.iter().map(|m| m.scale(&-BigRational::one())).collect()),
        }
    }

    /// The product: component `m` is `Σ a[s] b[m \ s]` over subsets `s` of `m`.
    fn mul(&self, a: &Jet, b: &Jet) -> R<Jet> {
        let n = self.n;
        Ok(match (a, b) {
            (Jet::S(x), Jet::S(y)) => {
                let mut out = vec![Real::exact(BigRational::zero()); n];
                for m in 0..n {
                    for s in 0..n {
                        if s & m != s || is_zero_real(&x[s]) || is_zero_real(&y[m ^ s]) {
                            continue;
                        }
                        out[m] = out[m].add(&x[s].mul(&y[m ^ s]).map_err(re)?).map_err(re)?;
                    }
                }
                Jet::S(out)
            }
            (Jet::S(x), Jet::M(y)) | (Jet::M(y), Jet::S(x)) => {
                let mut out = vec![Mat::zeros(y[0].rows, y[0].cols); n];
                for m in 0..n {
                    for s in 0..n {
                        if s & m != s || is_zero_real(&x[s]) {
                            continue;
                        }
                        let k = exact(&x[s])?;
                        out[m] = out[m].add_scaled(&y[m ^ s], &k).map_err(|e| e.0)?;
                    }
                }
                Jet::M(out)
            }
            (Jet::M(x), Jet::M(y)) => {
                let mut out = vec![Mat::zeros(x[0].rows, y[0].cols); n];
                for m in 0..n {
                    for s in 0..n {
                        if s & m != s || is_zero_mat(&x[s]) || is_zero_mat(&y[m ^ s]) {
                            continue;
                        }
                        let p = x[s].mul(&y[m ^ s]).map_err(|e| e.0)?;
                        out[m] = out[m]
                            .add_scaled(&p, &BigRational::one())
                            .map_err(|e| e.0)?;
                    }
                }
                Jet::M(out)
            }
        })
    }

    fn map_m(&self, a: &Jet, f: &dyn Fn(&Mat) -> Mat) -> R<Jet> {
        match a {
            Jet::M(x) => Ok(Jet::M(x.iter().map(f).collect())),
            Jet::S(_) => Err("a scalar where a matrix was expected".into()),
        }
    }

    fn trace(&self, a: &Jet) -> R<Jet> {
        match a {
            Jet::M(x) => Ok(Jet::S(x.iter().map(|m| Real::exact(m.trace())).collect())),
            Jet::S(_) => Err("`trace` of a scalar".into()),
        }
    }

    /// `a` without its value part (nilpotent).
    fn nilpotent(&self, a: &Jet) -> Jet {
        let mut b = a.clone();
        match &mut b {
            Jet::S(x) => x[0] = Real::exact(BigRational::zero()),
            Jet::M(x) => x[0] = Mat::zeros(x[0].rows, x[0].cols),
        }
        b
    }

    /// `Σ cₖ Nᵏ` for a scalar jet `s = s₀ + N`, `cₖ` from `s₀`: the exact
    /// Taylor polynomial (`Nᵏ = 0` beyond the number of `ε`s).
    fn series(&self, s: &Jet, coef: &dyn Fn(&Real, usize) -> R<Real>) -> R<Jet> {
        let Jet::S(x) = s else {
            return Err("a matrix where a scalar was expected".into());
        };
        let s0 = x[0].clone();
        let nil = self.nilpotent(s);
        let mut power = self.constant_s(Real::exact(BigRational::one()));
        let mut acc = self.constant_s(coef(&s0, 0)?);
        let order = self.n.trailing_zeros() as usize;
        for k in 1..=order {
            power = self.mul(&power, &nil)?;
            let term = self.mul(&power, &self.constant_s(coef(&s0, k)?))?;
            acc = self.add(&acc, &term, false)?;
        }
        Ok(acc)
    }

    fn recip(&self, s: &Jet) -> R<Jet> {
        self.series(s, &|s0, k| {
            if s0.cmp_certain(&Real::exact(BigRational::zero())) == Some(std::cmp::Ordering::Equal)
                || !s0.certainly_ne(&Real::exact(BigRational::zero()))
            {
                return Err("a division by zero here".into());
            }
            // (−1)ᵏ / s₀ᵏ⁺¹
            let p = s0.powi(&BigInt::from(k as i64 + 1)).map_err(re)?;
            let sign = if k % 2 == 0 { q(1) } else { q(-1) };
            Real::exact(sign).div(&p).map_err(re)
        })
    }

    fn positive(s0: &Real) -> R<()> {
        match s0.cmp_certain(&Real::exact(BigRational::zero())) {
            Some(std::cmp::Ordering::Greater) => Ok(()),
            _ => Err("a logarithm or root of a value not certainly positive".into()),
        }
    }

    fn inverse(&self, a: &Jet) -> R<Jet> {
        let Jet::M(x) = a else {
            return self.recip(a);
        };
        let b = x[0]
            .inverse()
            .ok_or("a matrix that is not invertible here")?;
        let bj = self.constant_m(b);
        let nil = self.nilpotent(a);
        let step = self.neg(&self.mul(&bj, &nil)?);
        let mut term = bj.clone();
        let mut acc = bj;
        for _ in 1..=self.n.trailing_zeros() {
            term = self.mul(&step, &term)?;
            acc = self.add(&acc, &term, false)?;
        }
        Ok(acc)
    }

    /// `det(A₀ + N) = det(A₀) det(I + M)`, `M = A₀⁻¹ N`, and with at most two
    /// `ε`s `det(I + M) = 1 + tr M + (tr(M)² − tr(M²))/2` exactly.
    fn det(&self, a: &Jet) -> R<Jet> {
        let Jet::M(x) = a else {
            return Err("`det` of a scalar".into());
        };
        let d0 = x[0].det().map_err(|e| e.0)?;
        if self.n == 1 {
            return Ok(self.constant_s(Real::exact(d0)));
        }
        if self.n > 4 {
            return Err("too many directions".into());
        }
        let b = x[0]
            .inverse()
            .ok_or("the derivative of `det` at a singular matrix is not evaluated")?;
        let m = self.mul(&self.constant_m(b), &self.nilpotent(a))?;
        let t1 = self.trace(&m)?;
        let t2 = self.trace(&self.mul(&m, &m)?)?;
        let half = self.constant_s(Real::exact(BigRational::new(1.into(), 2.into())));
        let sq = self.mul(&t1, &t1)?;
        let quad = self.mul(&self.add(&sq, &t2, true)?, &half)?;
        let one = self.constant_s(Real::exact(BigRational::one()));
        let inner = self.add(&self.add(&one, &t1, false)?, &quad, false)?;
        self.mul(&self.constant_s(Real::exact(d0)), &inner)
    }

    fn power(&self, a: &Jet, k: i64) -> R<Jet> {
        if k.unsigned_abs() > 64 {
            return Err("a power too large to evaluate".into());
        }
        let mut acc = match a {
            Jet::S(_) => self.constant_s(Real::exact(BigRational::one())),
            Jet::M(x) => self.constant_m(Mat::identity(x[0].rows)),
        };
        for _ in 0..k.unsigned_abs() {
            acc = self.mul(&acc, a)?;
        }
        if k < 0 {
            acc = self.inverse(&acc)?;
        }
        Ok(acc)
    }

    /// `vᵀ v` (a vector) or `trace(Xᵀ X)` as a scalar jet.
    fn gram(&self, a: &Jet, vector_only: bool) -> R<Jet> {
        let at = self.map_m(a, &|m| m.t())?;
        let Jet::M(x) = a else { unreachable!() };
        if vector_only && x[0].cols != 1 && x[0].rows != 1 {
            return Err("the spectral norm of a matrix is not differentiated at points".into());
        }
        self.trace(&self.mul(&at, a)?)
    }

    fn value(&self, t: &T, depth: usize) -> R<Jet> {
        if depth > super::typed::MATRIX_DEPTH {
            return Err("the expression nests too deeply".into());
        }
        let d = depth + 1;
        Ok(match &t.kind {
            TKind::Scalar(e) => self.constant_s(self.env.scalar(e)?),
            TKind::Symbol(n) if *n == self.x => Jet::M(self.xj.clone()),
            TKind::Symbol(n) => self.constant_m(
                self.env
                    .matrix(n)
                    .ok_or_else(|| format!("no value for `{n}`"))?,
            ),
            TKind::Identity => self.constant_m(Mat::identity(self.env.shape(t)?.0)),
            TKind::Literal(rows) => self.constant_m(self.env.literal(rows)?),
            TKind::Defined(_, body) => self.value(body, d)?,
            TKind::AsScalar(m) => match self.value(m, d)? {
                Jet::M(x) if x[0].rows == 1 && x[0].cols == 1 => {
                    Jet::S(x.iter().map(|m| Real::exact(m.data[0].clone())).collect())
                }
                _ => return Err("a 1 × 1 matrix was expected".into()),
            },
            TKind::Neg(a) => self.neg(&self.value(a, d)?),
            TKind::Add(a, b) => self.add(&self.value(a, d)?, &self.value(b, d)?, false)?,
            TKind::Sub(a, b) => self.add(&self.value(a, d)?, &self.value(b, d)?, true)?,
            TKind::Mul(a, b) => self.mul(&self.value(a, d)?, &self.value(b, d)?)?,
            TKind::Div(a, b) => self.mul(&self.value(a, d)?, &self.recip(&self.value(b, d)?)?)?,
            TKind::Transpose(a) => match self.value(a, d)? {
                s @ Jet::S(_) => s,
                m => self.map_m(&m, &|x| x.t())?,
            },
            TKind::Pow(a, k) => {
                let TKind::Scalar(ke) = &k.kind else {
                    return Err("an exponent that depends on matrices".into());
                };
                let kq = exact(&self.env.scalar(ke)?)?;
                if !kq.is_integer() {
                    return Err("a non-integer power is not differentiated at points".into());
                }
                let k: i64 =
                    num_traits::ToPrimitive::to_i64(kq.numer()).ok_or("an exponent too large")?;
                if let (2, TKind::Call(op @ (Builtin::Norm2 | Builtin::NormF), args)) = (k, &a.kind)
                {
                    let v = self.value(&args[0], d)?;
                    return self.gram(&v, *op == Builtin::Norm2);
                }
                self.power(&self.value(a, d)?, k)?
            }
            TKind::Call(op, args) => {
                let arg = |i: usize| -> R<Jet> {
                    args.get(i)
                        .ok_or_else(|| format!("`{op}` without its argument"))
                        .and_then(|a| self.value(a, d))
                };
                match op {
                    Builtin::Trace => self.trace(&arg(0)?)?,
                    Builtin::Inv => self.inverse(&arg(0)?)?,
                    Builtin::Det => self.det(&arg(0)?)?,
                    Builtin::Diag => self.map_m(&arg(0)?, &|m| m.diag())?,
                    Builtin::Norm2 | Builtin::NormF => {
                        let g = self.gram(&arg(0)?, *op == Builtin::Norm2)?;
                        self.series(&g, &|s0, k| sqrt_coefficient(s0, k))?
                    }
                    Builtin::Sqrt => self.series(&arg(0)?, &|s0, k| sqrt_coefficient(s0, k))?,
                    Builtin::Log => self.series(&arg(0)?, &|s0, k| {
                        Self::positive(s0)?;
                        if k == 0 {
                            return s0.log().map_err(re);
                        }
                        // (−1)ᵏ⁺¹ / (k s₀ᵏ)
                        let p = s0.powi(&BigInt::from(k as i64)).map_err(re)?;
                        let sign = if k % 2 == 1 { q(1) } else { q(-1) };
                        Real::exact(sign / q(k as i64)).div(&p).map_err(re)
                    })?,
                    Builtin::Exp => self.series(&arg(0)?, &|s0, k| {
                        let e = s0.exp().map_err(re)?;
                        let fact: i64 = (1..=k as i64).product();
                        e.div(&Real::exact(q(fact))).map_err(re)
                    })?,
                    _ => return Err(format!("`{op}` is not differentiated at points")),
                }
            }
        })
    }
}

/// The k-th Taylor coefficient of `sqrt` at `s₀ > 0`: `binom(1/2, k) s₀^(1/2 − k)`.
fn sqrt_coefficient(s0: &Real, k: usize) -> R<Real> {
    Jets::positive(s0)?;
    let mut binom = BigRational::one();
    for i in 0..k {
        binom = binom * (BigRational::new(1.into(), 2.into()) - q(i as i64)) / q(i as i64 + 1);
    }
    let root = s0.sqrt().map_err(re)?;
    let p = s0.powi(&BigInt::from(k as i64)).map_err(re)?;
    Real::exact(binom)
        .mul(&root)
        .map_err(re)?
        .div(&p)
        .map_err(re)
}

/// The unit matrix `E(i, j)` of a size.
fn unit(rows: usize, cols: usize, i: usize, j: usize) -> Mat {
    let mut m = Mat::zeros(rows, cols);
    m.data[i * cols + j] = BigRational::one();
    m
}

/// The exact value at the sample of `grad(f, x)`, `hessian(f, x)` or
/// `jacobian(f, x)` (`args = [f, x]`), entry by entry.
pub(crate) fn derivative(env: &dyn Sample, op: Builtin, args: &[T]) -> R<Mat> {
    let [f, x] = args else {
        return Err(format!("`{op}` takes two arguments"));
    };
    let TKind::Symbol(xn) = &x.kind else {
        return Err(format!("`{op}` by something other than a symbol"));
    };
    let xv = env
        .matrix(xn)
        .ok_or_else(|| format!("no value for `{xn}`"))?;
    let (r, c) = (xv.rows, xv.cols);
    let jets = |dirs: Vec<Mat>| {
        let n = 1usize << dirs.len();
        let mut xj = vec![Mat::zeros(r, c); n];
        xj[0] = xv.clone();
        for (i, d) in dirs.into_iter().enumerate() {
            xj[1 << i] = d;
        }
        Jets {
            env,
            x: xn.clone(),
            xj,
            n,
        }
    };
    let scalar_part = |j: Jet, m: usize| -> R<BigRational> {
        match j {
            Jet::S(x) => exact(&x[m]),
            Jet::M(x) if x[0].rows == 1 && x[0].cols == 1 => Ok(x[m].data[0].clone()),
            Jet::M(_) => Err("a matrix where a scalar function was expected".into()),
        }
    };
    match op {
        Builtin::Grad => {
            let mut g = Mat::zeros(r, c);
            for i in 0..r {
                for j in 0..c {
                    let js = jets(vec![unit(r, c, i, j)]);
                    g.data[i * c + j] = scalar_part(js.value(f, 0)?, 1)?;
                }
            }
            Ok(g)
        }
        Builtin::Hessian => {
            let mut h = Mat::zeros(r, r);
            for i in 0..r {
                for j in 0..r {
                    let js = jets(vec![unit(r, 1, i, 0), unit(r, 1, j, 0)]);
                    h.data[i * r + j] = scalar_part(js.value(f, 0)?, 3)?;
                }
            }
            Ok(h)
        }
        Builtin::Jacobian => {
            let mut out: Option<Mat> = None;
            for j in 0..r {
                let js = jets(vec![unit(r, 1, j, 0)]);
                let Jet::M(v) = js.value(f, 0)? else {
                    return Err("`jacobian` of a scalar".into());
                };
                let col = &v[1];
                let m = out.get_or_insert_with(|| Mat::zeros(col.rows, r));
                for i in 0..col.rows {
                    m.data[i * r + j] = col.data[i].clone();
                }
            }
            out.ok_or_else(|| "`jacobian` by an empty vector".into())
        }
        _ => Err(format!("`{op}` is not a derivative")),
    }
}
