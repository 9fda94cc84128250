//! Matrix calculus: `grad(f, X)`, `hessian(f, x)` and `jacobian(F, x)`
//! computed symbolically into the [normal form](super::normal_form), so that
//! gradient identities are proved for every size.
//!
//! The method is the differential. The typed tree of `f`, exactly as
//! written, is differentiated in a direction `H` (a fresh matrix atom of
//! the shape of `X`, standing for `dX`) by our own rules: linearity, the
//! product rule through noncommutative words (each factor keeps its place
//! and its transpose), `d trace(A) = trace(dA)`, `norm2(v)² = vᵀ v` for a
//! vector, `normF(X)² = trace(Xᵀ X)`, `d(A⁻¹) = −A⁻¹ dA A⁻¹`, `d log det(A)
//! = trace(A⁻¹ dA)`, `d det(A) = det(A) trace(A⁻¹ dA)` (for `A` declared
//! invertible), `d log(s) = ds/s`, `d exp(s) = exp(s) ds`, `d sqrt(s) =
//! ds/(2 sqrt(s))` and integer powers. The normal form of the differential
//! is linear in the trace placeholders that contain `H`; each such
//! `trace(R H)` (or `trace(Hᵀ R)`) is `⟨Rᵀ, H⟩` (or `⟨R, H⟩`), so the
//! gradient is read off term by term. The linearity is checked on the
//! expression itself (a coefficient is taken only where the structure is
//! syntactically linear), never assumed. The Hessian is the bilinear
//! second differential `Hᵀ M K` in two directions, the Jacobian the
//! bilinear form `Uᵀ J H` with a fresh row direction `U`.
//!
//! The entries of `X` are independent variables: the gradient is that of
//! the expression as written (the unconstrained one), also when `X` is
//! declared symmetric; the declared structure and the `given` equations
//! are used only on the factors that do not contain `H`, which are
//! evaluated at the point (so rewriting them is exact there).
//! Anything outside these rules is `unsupported` naming the construct.

use super::normal_form::{
    coef_is_zero, transpose_word, MatPoly, NfError, Normalizer, PlaceDef, Word,
};
use super::size::{Dim, Shape, SizePoly};
use super::typed::{TKind, T};
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, Span};
use crate::verdict::Rule;
use std::collections::{BTreeMap, BTreeSet};

type R<X> = Result<X, NfError>;

fn unsupported<X>(m: impl Into<String>) -> R<X> {
    Err(NfError::Unsupported(m.into()))
}

fn mk(kind: TKind, shape: Option<Shape>, span: Span) -> T {
    T { kind, shape, span }
}

fn scalar_const(e: Expr, span: Span) -> T {
    mk(TKind::Scalar(e), None, span)
}

fn one_dim() -> Dim {
    Dim::Size(SizePoly::one())
}

/// `l + r` or `l − r` where either may be zero (`None`).
fn sum(l: Option<T>, r: Option<T>, negate: bool, shape: &Option<Shape>, span: Span) -> Option<T> {
    match (l, r) {
        (None, None) => None,
        (Some(l), None) => Some(l),
        (None, Some(r)) if negate => Some(mk(TKind::Neg(Box::new(r)), shape.clone(), span)),
        (None, Some(r)) => Some(r),
        (Some(l), Some(r)) => {
            let kind = if negate {
                TKind::Sub(Box::new(l), Box::new(r))
            } else {
                TKind::Add(Box::new(l), Box::new(r))
            };
            Some(mk(kind, shape.clone(), span))
        }
    }
}

/// The differential of a typed tree in one direction.
struct Differ<'n, 'a> {
    nf: &'n Normalizer<'a>,
    /// The variable.
    x: String,
    /// The direction `dX`: a symbol node of `X`'s shape.
    dir: T,
    /// Symbols declared invertible (kinds, `det(A) != 0`).
    invertible: BTreeSet<String>,
    /// Rules used.
    rules: Vec<Rule>,
}

impl Differ<'_, '_> {
    fn note(&mut self, r: Rule) {
        if !self.rules.contains(&r) {
            self.rules.push(r);
        }
    }

    fn is_vector(&self, t: &T) -> bool {
        t.shape
            .as_ref()
            .and_then(|s| self.nf.sizes.known(&s.cols))
            .is_some_and(|c| c.is_one())
    }

    /// `d t`, `None` when it is zero.
    fn d(&mut self, t: &T, depth: usize) -> R<Option<T>> {
        if depth > super::typed::MATRIX_DEPTH {
            return unsupported("the expression under `grad` nests too deeply");
        }
        let dd = depth + 1;
        let (shape, span) = (&t.shape, t.span);
        Ok(match &t.kind {
            TKind::Scalar(e) => {
                // A scalar piece mentions no matrix, unless a `given`
                // substitution writes one into it.
                let mut names = Vec::new();
                crate::resolve::names_in(e, &mut names);
                if names.iter().any(|n| {
                    self.nf
                        .subs
                        .get(n)
                        .is_some_and(|v| super::typed::mentions_matrices(v, self.nf.ctx))
                }) {
                    return unsupported(
                        "a `given` substitution that depends on matrices inside `grad`",
                    );
                }
                None
            }
            TKind::Identity | TKind::Literal(_) => None,
            TKind::Symbol(n) => (*n == self.x).then(|| self.dir.clone()),
            TKind::Defined(_, body) => self.d(body, dd)?,
            TKind::AsScalar(m) => self
                .d(m, dd)?
                .map(|dm| mk(TKind::AsScalar(Box::new(dm)), None, span)),
            TKind::Neg(a) => self
                .d(a, dd)?
                .map(|x| mk(TKind::Neg(Box::new(x)), shape.clone(), span)),
            TKind::Add(a, b) => {
                let (x, y) = (self.d(a, dd)?, self.d(b, dd)?);
                sum(x, y, false, shape, span)
            }
            TKind::Sub(a, b) => {
                let (x, y) = (self.d(a, dd)?, self.d(b, dd)?);
                sum(x, y, true, shape, span)
            }
            TKind::Mul(a, b) => {
                // The product rule, each factor in its place.
                let (da, db) = (self.d(a, dd)?, self.d(b, dd)?);
                let l = da.map(|da| mk(TKind::Mul(Box::new(da), b.clone()), shape.clone(), span));
                let r = db.map(|db| mk(TKind::Mul(a.clone(), Box::new(db)), shape.clone(), span));
                sum(l, r, false, shape, span)
            }
            TKind::Div(a, s) => {
                // d(a/s) = da/s − a ds/s².
                let (da, ds) = (self.d(a, dd)?, self.d(s, dd)?);
                let l = da.map(|da| mk(TKind::Div(Box::new(da), s.clone()), shape.clone(), span));
                let r = ds.map(|ds| {
                    let num = mk(TKind::Mul(a.clone(), Box::new(ds)), a.shape.clone(), span);
                    let den = mk(
                        TKind::Pow(s.clone(), Box::new(scalar_const(Expr::int(2), span))),
                        None,
                        span,
                    );
                    mk(
                        TKind::Div(Box::new(num), Box::new(den)),
                        shape.clone(),
                        span,
                    )
                });
                sum(l, r, true, shape, span)
            }
            TKind::Pow(a, k) => self.power(t, a, k, dd)?,
            TKind::Transpose(a) => self
                .d(a, dd)?
                .map(|x| mk(TKind::Transpose(Box::new(x)), shape.clone(), span)),
            TKind::Call(op, args) => self.call(t, *op, args, dd)?,
        })
    }

    fn power(&mut self, t: &T, a: &T, k: &T, dd: usize) -> R<Option<T>> {
        let span = t.span;
        if self.d(k, dd)?.is_some() {
            return unsupported("a power whose exponent depends on the variable of `grad`");
        }
        let kq = match &k.kind {
            TKind::Scalar(e) => crate::symbolic::normal::fold_rational(e),
            _ => None,
        };
        if a.shape.is_some() {
            // A literal matrix power: d(A^k) = Σ A^i dA A^(k−1−i).
            let Some(k) = kq
                .as_ref()
                .and_then(crate::symbolic::polynomial::small_exponent)
            else {
                return unsupported("a matrix power needs a literal exponent");
            };
            let Some(da) = self.d(a, dd)? else {
                return Ok(None);
            };
            let pow = |i: i64| {
                mk(
                    TKind::Pow(
                        Box::new(a.clone()),
                        Box::new(scalar_const(Expr::int(i), span)),
                    ),
                    a.shape.clone(),
                    span,
                )
            };
            let mut acc: Option<T> = None;
            for i in 0..k {
                let left = mk(
                    TKind::Mul(Box::new(pow(i)), Box::new(da.clone())),
                    a.shape.clone(),
                    span,
                );
                let term = mk(
                    TKind::Mul(Box::new(left), Box::new(pow(k - 1 - i))),
                    a.shape.clone(),
                    span,
                );
                acc = sum(acc, Some(term), false, &a.shape, span);
            }
            return Ok(acc);
        }
        let two = kq
            .as_ref()
            .is_some_and(|q| *q == crate::syntax::expr::rat(2));
        // Squared norms are quadratic forms: norm2(v)² = vᵀ v, normF(X)² = trace(Xᵀ X).
        if let (true, TKind::Call(op @ (Builtin::Norm2 | Builtin::NormF), args)) = (two, &a.kind) {
            let v = &args[0];
            let Some(vs) = v.shape.clone() else {
                return unsupported("the norm of a scalar under `grad`");
            };
            let vt = mk(
                TKind::Transpose(Box::new(v.clone())),
                Some(Shape {
                    rows: vs.cols.clone(),
                    cols: vs.rows.clone(),
                }),
                span,
            );
            let gram = mk(
                TKind::Mul(Box::new(vt), Box::new(v.clone())),
                Some(Shape {
                    rows: vs.cols.clone(),
                    cols: vs.cols.clone(),
                }),
                span,
            );
            let inner = if *op == Builtin::Norm2 {
                if !self.is_vector(v) {
                    return unsupported(
                        "the gradient of the squared spectral norm of a matrix (only vectors: norm2(v)² = vᵀ v)",
                    );
                }
                mk(TKind::AsScalar(Box::new(gram)), None, span)
            } else {
                mk(TKind::Call(Builtin::Trace, vec![gram]), None, span)
            };
            return self.d(&inner, dd);
        }
        let Some(da) = self.d(a, dd)? else {
            return Ok(None);
        };
        let Some(q) = kq.filter(|q| q.is_integer()) else {
            return unsupported("a power with a non-integer or symbolic exponent under `grad`");
        };
        if num_traits::Zero::is_zero(&q) {
            return Ok(None);
        }
        if q == crate::syntax::expr::rat(1) {
            return Ok(Some(da));
        }
        // d(s^k) = k s^(k−1) ds.
        let lower = mk(
            TKind::Pow(
                Box::new(a.clone()),
                Box::new(scalar_const(
                    Expr::rational(q.clone() - crate::syntax::expr::rat(1)),
                    span,
                )),
            ),
            None,
            span,
        );
        let scaled = mk(
            TKind::Mul(
                Box::new(scalar_const(Expr::rational(q), span)),
                Box::new(lower),
            ),
            None,
            span,
        );
        Ok(Some(mk(
            TKind::Mul(Box::new(scaled), Box::new(da)),
            None,
            span,
        )))
    }

    /// `trace(A⁻¹ dA)`.
    fn trace_inverse_times(&mut self, a: &T, da: T, span: Span) -> T {
        let inv = mk(
            TKind::Call(Builtin::Inv, vec![a.clone()]),
            a.shape.clone(),
            span,
        );
        let prod = mk(
            TKind::Mul(Box::new(inv), Box::new(da)),
            a.shape.clone(),
            span,
        );
        mk(TKind::Call(Builtin::Trace, vec![prod]), None, span)
    }

    fn call(&mut self, t: &T, op: Builtin, args: &[T], dd: usize) -> R<Option<T>> {
        let (shape, span) = (&t.shape, t.span);
        let peel = |mut a: &T| {
            while let TKind::Defined(_, b) = &a.kind {
                a = b;
            }
            a.clone()
        };
        Ok(match (op, args) {
            (Builtin::Trace, [a]) => self
                .d(a, dd)?
                .map(|x| mk(TKind::Call(Builtin::Trace, vec![x]), None, span)),
            (Builtin::Diag, [a]) => self
                .d(a, dd)?
                .map(|x| mk(TKind::Call(Builtin::Diag, vec![x]), shape.clone(), span)),
            (Builtin::Inv, [a]) => {
                let Some(da) = self.d(a, dd)? else {
                    return Ok(None);
                };
                self.note(Rule::DerivativeOfInverse);
                let left = mk(
                    TKind::Mul(Box::new(t.clone()), Box::new(da)),
                    shape.clone(),
                    span,
                );
                let prod = mk(
                    TKind::Mul(Box::new(left), Box::new(t.clone())),
                    shape.clone(),
                    span,
                );
                Some(mk(TKind::Neg(Box::new(prod)), shape.clone(), span))
            }
            (Builtin::Log, [s]) => {
                let s = peel(s);
                if let TKind::Call(Builtin::Det, inner) = &s.kind {
                    // log det(A) is defined only where det(A) > 0, so A is invertible there.
                    let a = &inner[0];
                    let Some(da) = self.d(a, dd)? else {
                        return Ok(None);
                    };
                    self.note(Rule::DerivativeOfDet);
                    return Ok(Some(self.trace_inverse_times(a, da, span)));
                }
                self.d(&s, dd)?
                    .map(|ds| mk(TKind::Div(Box::new(ds), Box::new(s.clone())), None, span))
            }
            (Builtin::Det, [a]) => {
                let Some(da) = self.d(a, dd)? else {
                    return Ok(None);
                };
                let mut base = peel(a);
                while let TKind::Transpose(x) = &base.kind {
                    base = peel(x);
                }
                let declared =
                    matches!(&base.kind, TKind::Symbol(n) if self.invertible.contains(n));
                if !declared {
                    return unsupported(
                        "the gradient of `det` of a matrix not declared invertible (declare it `invertible matrix(n)`, or use `log(det(X))`)",
                    );
                }
                self.note(Rule::DerivativeOfDet);
                let tr = self.trace_inverse_times(a, da, span);
                Some(mk(
                    TKind::Mul(Box::new(t.clone()), Box::new(tr)),
                    None,
                    span,
                ))
            }
            (Builtin::Exp, [s]) => self
                .d(s, dd)?
                .map(|ds| mk(TKind::Mul(Box::new(t.clone()), Box::new(ds)), None, span)),
            (Builtin::Sqrt, [s]) => self.d(s, dd)?.map(|ds| {
                let two_root = mk(
                    TKind::Mul(
                        Box::new(scalar_const(Expr::int(2), span)),
                        Box::new(t.clone()),
                    ),
                    None,
                    span,
                );
                mk(TKind::Div(Box::new(ds), Box::new(two_root)), None, span)
            }),
            (Builtin::Grad | Builtin::Hessian | Builtin::Jacobian, _) => {
                return unsupported(format!("`{op}` inside `grad`, `hessian` or `jacobian`"))
            }
            _ => {
                for a in args {
                    if self.d(a, dd)?.is_some() {
                        return unsupported(format!(
                            "`{op}` of an expression in the variable is outside the matrix-calculus rules{}",
                            match op {
                                Builtin::Norm2 | Builtin::NormF => " (write the squared norm: `norm2(v)^2`, `normF(X)^2`)",
                                _ => "",
                            }
                        ));
                    }
                }
                None
            }
        })
    }
}

/// Does a name mention a variable of `vars` (placeholder names)?
fn mentions(e: &Expr, vars: &BTreeSet<String>) -> bool {
    let mut names = Vec::new();
    crate::resolve::names_in(e, &mut names);
    names.iter().any(|n| vars.contains(n))
}

fn mul_e(a: Expr, b: Expr) -> Expr {
    if crate::syntax::expr::is_one_literal(&a) {
        return b;
    }
    if crate::syntax::expr::is_one_literal(&b) {
        return a;
    }
    Expr::binary(BinOp::Mul, a, b)
}

/// `e` as `Σ c_v · v + c₀` over the names `vars`, read off its structure:
/// `None` where `e` is not syntactically linear in them (a product of two
/// of them, one under a function or in a denominator). Key `""` is `c₀`.
/// The decomposition is an identity of expressions, so nothing is assumed.
fn linear(e: &Expr, vars: &BTreeSet<String>, depth: usize) -> Option<BTreeMap<String, Expr>> {
    let mut out = BTreeMap::new();
    if !mentions(e, vars) {
        out.insert(String::new(), e.clone());
        return Some(out);
    }
    if depth > 200 {
        return None;
    }
    let map = |m: BTreeMap<String, Expr>, f: &dyn Fn(Expr) -> Expr| {
        m.into_iter()
            .map(|(k, c)| (k, f(c)))
            .collect::<BTreeMap<_, _>>()
    };
    let merge = |mut a: BTreeMap<String, Expr>, b: BTreeMap<String, Expr>| {
        for (k, c) in b {
            let v = match a.remove(&k) {
                Some(old) => Expr::binary(BinOp::Add, old, c),
                None => c,
            };
            a.insert(k, v);
        }
        a
    };
    let neg = |c: Expr| Expr::new(ExprKind::Neg(Box::new(c)), Span::default());
    match &e.kind {
        ExprKind::Name(n) if vars.contains(n) => {
            out.insert(n.clone(), Expr::int(1));
            Some(out)
        }
        ExprKind::Neg(a) => Some(map(linear(a, vars, depth + 1)?, &neg)),
        ExprKind::Binary(BinOp::Add, a, b) => Some(merge(
            linear(a, vars, depth + 1)?,
            linear(b, vars, depth + 1)?,
        )),
        ExprKind::Binary(BinOp::Sub, a, b) => Some(merge(
            linear(a, vars, depth + 1)?,
            map(linear(b, vars, depth + 1)?, &neg),
        )),
        ExprKind::Binary(BinOp::Mul, a, b) if !mentions(a, vars) => {
            let a = (**a).clone();
            Some(map(linear(b, vars, depth + 1)?, &|c| mul_e(a.clone(), c)))
        }
        ExprKind::Binary(BinOp::Mul, a, b) if !mentions(b, vars) => {
            let b = (**b).clone();
            Some(map(linear(a, vars, depth + 1)?, &|c| mul_e(c, b.clone())))
        }
        ExprKind::Binary(BinOp::Div, a, b) if !mentions(b, vars) => {
            let b = (**b).clone();
            Some(map(linear(a, vars, depth + 1)?, &|c| {
                Expr::binary(BinOp::Div, c, b.clone())
            }))
        }
        _ => None,
    }
}

/// The linear coefficients, with the constant part required to vanish.
fn linear_homogeneous(e: &Expr, vars: &BTreeSet<String>) -> R<BTreeMap<String, Expr>> {
    let Some(mut m) = linear(e, vars, 0) else {
        return unsupported("the differential is not linear in the direction (internal)");
    };
    if let Some(c0) = m.remove("") {
        if !coef_is_zero(&c0) {
            return unsupported("the differential has a part without the direction (internal)");
        }
    }
    Ok(m)
}

/// The trace placeholders whose word contains a factor keyed `key`; an
/// error if another kind of placeholder contains it.
fn placeholders_with(nf: &Normalizer<'_>, key: &str) -> R<BTreeMap<String, Word>> {
    let mut out = BTreeMap::new();
    for (name, p) in &nf.placeholders {
        let words: Vec<&Word> = match &p.def {
            PlaceDef::Trace(w) => vec![w],
            PlaceDef::Norm2(m) | PlaceDef::Rank(m) | PlaceDef::Det(m) => m.terms.keys().collect(),
        };
        let has = words.iter().any(|w| w.iter().any(|f| f.key == key));
        match (&p.def, has) {
            (PlaceDef::Trace(w), true) => {
                out.insert(name.clone(), w.clone());
            }
            (_, true) => {
                return unsupported("a direction inside a norm, rank or determinant (internal)")
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `G` with `trace(w) = ⟨G, D⟩` for the one factor `D` keyed `key` in the
/// cyclic word `w`: `trace(D R) = ⟨Rᵀ, D⟩`, `trace(Dᵀ R) = ⟨R, D⟩`.
fn grad_form(
    nf: &mut Normalizer<'_>,
    w: &Word,
    key: &str,
    rows: &SizePoly,
    cols: &SizePoly,
) -> R<MatPoly> {
    let pos: Vec<usize> = (0..w.len()).filter(|&i| w[i].key == key).collect();
    let [i] = pos.as_slice() else {
        return unsupported("a trace with the direction more than once (internal)");
    };
    let mut rest: Word = w[i + 1..].to_vec();
    rest.extend(w[..*i].iter().cloned());
    let g = if w[*i].t { rest } else { transpose_word(&rest) };
    if g.is_empty() && rows != cols {
        return unsupported("the trace of a non-square direction (internal)");
    }
    nf.renormalize(&MatPoly::word(g, rows.clone(), cols.clone()))
}

/// `M` with `trace(w) = aᵀ M b` for column directions `a` (m × 1) and `b`
/// (n × 1) that occur once each in the cyclic word `w`.
fn cross_form(
    nf: &mut Normalizer<'_>,
    w: &Word,
    a: &str,
    b: &str,
    m: &SizePoly,
    n: &SizePoly,
) -> R<MatPoly> {
    let at = |key: &str| {
        (0..w.len())
            .filter(|&i| w[i].key == key)
            .collect::<Vec<_>>()
    };
    let (pa, pb) = (at(a), at(b));
    let ([ia], [ib]) = (pa.as_slice(), pb.as_slice()) else {
        return unsupported("a direction more than once in a trace (internal)");
    };
    let rotated = |start: usize| -> Word {
        let mut r: Word = w[start..].to_vec();
        r.extend(w[..start].iter().cloned());
        r
    };
    let r = rotated(*ia);
    let last = r.len() - 1;
    if r[0].t && r[last].key == b && !r[last].t {
        let middle = r[1..last].to_vec();
        return nf.renormalize(&MatPoly::word(middle, m.clone(), n.clone()));
    }
    let r = rotated(*ib);
    if r[0].t && r[last].key == a && !r[last].t {
        let middle = transpose_word(&r[1..last]);
        return nf.renormalize(&MatPoly::word(middle, m.clone(), n.clone()));
    }
    unsupported("a second differential of an unexpected form (internal)")
}

/// `e = aᵀ M b`: `M` from the placeholders with `a` and `b` together and
/// from products of one with `a` and one with `b`.
fn bilinear(
    nf: &mut Normalizer<'_>,
    e: &Expr,
    a: &str,
    b: &str,
    m: &SizePoly,
    n: &SizePoly,
) -> R<MatPoly> {
    let with_a = placeholders_with(nf, a)?;
    let with_b = placeholders_with(nf, b)?;
    let a_vars: BTreeSet<String> = with_a.keys().cloned().collect();
    let b_only: BTreeSet<String> = with_b
        .keys()
        .filter(|k| !with_a.contains_key(*k))
        .cloned()
        .collect();
    let all_b: BTreeSet<String> = with_b.keys().cloned().collect();
    let mut out = MatPoly::zero(m.clone(), n.clone());
    for (p, c) in linear_homogeneous(e, &a_vars)? {
        let w = with_a[&p].clone();
        if with_b.contains_key(&p) {
            if mentions(&c, &all_b) {
                return unsupported("a second differential of an unexpected form (internal)");
            }
            let mp = cross_form(nf, &w, a, b, m, n)?;
            out = out.plus(&mp.scaled(&c), false);
        } else {
            let ga = grad_form(nf, &w, a, m, &SizePoly::one())?;
            for (q, c2) in linear_homogeneous(&c, &b_only)? {
                let gb = grad_form(nf, &with_b[&q], b, n, &SizePoly::one())?;
                let outer = nf.product(&ga, &gb.transposed())?;
                out = out.plus(&outer.scaled(&c2), false);
            }
        }
    }
    Ok(out)
}

/// Forgets the direction atoms and every placeholder that mentions them:
/// they stand for no value at a sample point.
fn forget(nf: &mut Normalizer<'_>, keys: &[String]) {
    for k in keys {
        if let Ok(ps) = placeholders_with(nf, k) {
            for p in ps.keys() {
                nf.placeholders.remove(p);
            }
        }
        nf.atoms.remove(k);
    }
}

/// A fresh direction: a symbol no declaration can name, of the given shape.
fn direction(tag: &str, of: &str, shape: Shape, span: Span) -> (String, T) {
    let key = format!("∂{tag}[{of}]");
    (key.clone(), mk(TKind::Symbol(key), Some(shape), span))
}

/// The normal form of `grad(f, x)`, `hessian(f, x)` or `jacobian(f, x)`.
pub(crate) fn derivative(nf: &mut Normalizer<'_>, op: Builtin, f: &T, x: &T) -> R<MatPoly> {
    let TKind::Symbol(xn) = &x.kind else {
        return unsupported(format!("`{op}` by something other than a symbol"));
    };
    let Some(xs) = x.shape.clone() else {
        return unsupported(format!("`{op}` by a scalar"));
    };
    let (xr, xc) = match (nf.sizes.known(&xs.rows), nf.sizes.known(&xs.cols)) {
        (Some(r), Some(c)) => (r, c),
        _ => return unsupported("the size of the variable is not known"),
    };
    let mut invertible: BTreeSet<String> = nf
        .ctx
        .symbols
        .iter()
        .filter(|(_, s)| s.structure.invertible())
        .map(|(n, _)| n.clone())
        .collect();
    invertible.extend(nf.invertible.iter().cloned());
    let span = x.span;
    let (hkey, h) = direction("", xn, xs.clone(), span);
    let mut rules = Vec::new();
    let result = {
        let mut differ = |t: &T, dir: T| -> R<Option<T>> {
            let mut d = Differ {
                nf: &*nf,
                x: xn.clone(),
                dir,
                invertible: invertible.clone(),
                rules: Vec::new(),
            };
            let out = d.d(t, 0)?;
            for r in d.rules {
                if !rules.contains(&r) {
                    rules.push(r);
                }
            }
            Ok(out)
        };
        match op {
            Builtin::Grad => {
                let df = differ(f, h)?;
                Ok::<_, NfError>((df, None, None))
            }
            Builtin::Hessian => {
                let (kkey, k) = direction("2", xn, xs.clone(), span);
                let d1 = differ(f, h)?;
                let d2 = match d1 {
                    Some(d1) => differ(&d1, k)?,
                    None => None,
                };
                Ok((d2, Some(kkey), None))
            }
            Builtin::Jacobian => {
                let Some(fs) = f.shape.clone() else {
                    return unsupported("`jacobian` of a scalar");
                };
                let (ukey, u) = direction("u", xn, fs.clone(), span);
                let df = differ(f, h)?;
                let s = df.map(|df| {
                    let ut = mk(
                        TKind::Transpose(Box::new(u)),
                        Some(Shape {
                            rows: one_dim(),
                            cols: fs.rows.clone(),
                        }),
                        span,
                    );
                    let prod = mk(
                        TKind::Mul(Box::new(ut), Box::new(df)),
                        Some(Shape {
                            rows: one_dim(),
                            cols: one_dim(),
                        }),
                        span,
                    );
                    mk(TKind::AsScalar(Box::new(prod)), None, span)
                });
                Ok((s, None, Some((ukey, fs))))
            }
            _ => unsupported(format!("`{op}` is not a derivative")),
        }
    };
    let (e, second, row_dir) = result?;
    nf.note(Rule::MatrixCalculus);
    for r in rules {
        nf.note(r);
    }
    let mut keys = vec![hkey.clone()];
    let out = match (op, e) {
        (Builtin::Grad, None) => Ok(MatPoly::zero(xr, xc)),
        (Builtin::Hessian, None) => Ok(MatPoly::zero(xr.clone(), xr)),
        (_, None) => {
            let (_, fs) = row_dir.clone().expect("a Jacobian has a row direction");
            match nf.sizes.known(&fs.rows) {
                Some(m) => Ok(MatPoly::zero(m, xr)),
                None => unsupported("the size of the function is not known"),
            }
        }
        (_, Some(e)) => (|| {
            let e = nf.scalar(&e)?;
            match op {
                Builtin::Grad => {
                    let with_h = placeholders_with(nf, &hkey)?;
                    let vars: BTreeSet<String> = with_h.keys().cloned().collect();
                    let mut g = MatPoly::zero(xr.clone(), xc.clone());
                    for (p, c) in linear_homogeneous(&e, &vars)? {
                        let gp = grad_form(nf, &with_h[&p], &hkey, &xr, &xc)?;
                        g = g.plus(&gp.scaled(&c), false);
                    }
                    Ok(g)
                }
                Builtin::Hessian => {
                    let kkey = second.clone().expect("two directions");
                    keys.push(kkey.clone());
                    bilinear(nf, &e, &hkey, &kkey, &xr, &xr)
                }
                _ => {
                    let (ukey, fs) = row_dir.clone().expect("a row direction");
                    keys.push(ukey.clone());
                    let Some(m) = nf.sizes.known(&fs.rows) else {
                        return unsupported("the size of the function is not known");
                    };
                    bilinear(nf, &e, &ukey, &hkey, &m, &xr)
                }
            }
        })(),
    };
    if let Some(k) = second {
        keys.push(k);
    }
    if let Some((k, _)) = row_dir {
        keys.push(k);
    }
    forget(nf, &keys);
    let out = out?;
    nf.renormalize(&out)
}

#[cfg(test)]
mod tests {
    //! The linear read-off is pure expression work (no CAS).
    use super::*;

    fn vars(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn linear_parts_are_read_off_and_nonlinear_ones_refused() {
        let (p, q, c) = (Expr::name("p"), Expr::name("q"), Expr::name("c"));
        // (c p + 2 q) / c
        let e = Expr::binary(
            BinOp::Div,
            Expr::binary(
                BinOp::Add,
                Expr::binary(BinOp::Mul, c.clone(), p.clone()),
                Expr::binary(BinOp::Mul, Expr::int(2), q.clone()),
            ),
            c.clone(),
        );
        let m = linear(&e, &vars(&["p", "q"]), 0).expect("linear");
        assert_eq!(m.len(), 2);
        assert!(m.contains_key("p") && m.contains_key("q"));
        // p q and 1/p are not linear in p, q.
        let pq = Expr::binary(BinOp::Mul, p.clone(), q.clone());
        assert!(linear(&pq, &vars(&["p", "q"]), 0).is_none());
        let inv = Expr::binary(BinOp::Div, Expr::int(1), p.clone());
        assert!(linear(&inv, &vars(&["p"]), 0).is_none());
        // A part without the variables is kept apart, and refused unless zero.
        let shifted = Expr::binary(BinOp::Add, p, c);
        assert!(linear_homogeneous(&shifted, &vars(&["p"])).is_err());
    }
}
