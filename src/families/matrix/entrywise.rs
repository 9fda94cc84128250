//! Matrix steps decided entry by entry: when both sides are built from
//! matrix literals (and identities of known size, inverses of literals up
//! to 3 × 3 as adjugate over determinant) with scalar entries, each
//! side becomes a matrix of scalar expressions, and every entry equation is
//! a scalar step for the scalar family (its normal form, radicals as exact
//! algebraic numbers, trigonometry, certified spot checks). The matrix step
//! is proved when every entry is, refuted at a certified counterexample of
//! one entry, checked when every entry is proved or checked.
//!
//! The entries are built symbolically (no evaluation), so `1/sqrt(2)` stays
//! exact: `[[1/sqrt(2), 1/sqrt(2)], [1/sqrt(2), -1/sqrt(2)]]` is orthogonal
//! by proof, and an SVD `U Σ Vᵀ = A` with radicals is decided exactly.

use super::size::Sizes;
use super::typed::{TKind, T};
use crate::symbolic::normal::fold_rational;
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, RelOp};
use crate::verdict::{EntryMismatch, Method, Rule, StopReason, Verdict};

/// At most this many entries in any intermediate matrix.
const MAX_ENTRIES: usize = 64;
/// At most this many expression nodes in any one entry.
const MAX_NODES: usize = 4000;

/// A side's symbolic value.
#[derive(Clone, Debug)]
enum SymVal {
    S(Expr),
    M(Vec<Vec<Expr>>),
}

fn size_of(e: &Expr) -> usize {
    let mut n = 0;
    e.walk(&mut |_| n += 1);
    n
}

fn neg(e: Expr) -> Expr {
    let span = e.span;
    Expr::new(ExprKind::Neg(Box::new(e)), span)
}

fn add(a: Expr, b: Expr) -> Expr {
    if fold_rational(&a).is_some_and(|q| num_traits::Zero::is_zero(&q)) {
        return b;
    }
    if fold_rational(&b).is_some_and(|q| num_traits::Zero::is_zero(&q)) {
        return a;
    }
    Expr::binary(BinOp::Add, a, b)
}

fn mul(a: Expr, b: Expr) -> Expr {
    let zero = |e: &Expr| fold_rational(e).is_some_and(|q| num_traits::Zero::is_zero(&q));
    let one = |e: &Expr| fold_rational(e).is_some_and(|q| num_traits::One::is_one(&q));
    if zero(&a) || zero(&b) {
        return Expr::int(0);
    }
    if one(&a) {
        return b;
    }
    if one(&b) {
        return a;
    }
    Expr::binary(BinOp::Mul, a, b)
}

fn product(a: &[Vec<Expr>], b: &[Vec<Expr>]) -> Option<Vec<Vec<Expr>>> {
    let (n, k, m) = (a.len(), b.len(), b.first()?.len());
    if a.first()?.len() != k || n * m > MAX_ENTRIES {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for row in a {
        let mut r = Vec::with_capacity(m);
        for j in 0..m {
            let mut acc = Expr::int(0);
            for (x, brow) in row.iter().zip(b) {
                acc = add(acc, mul(x.clone(), brow[j].clone()));
            }
            if size_of(&acc) > MAX_NODES {
                return None;
            }
            r.push(acc);
        }
        out.push(r);
    }
    Some(out)
}

fn map(m: Vec<Vec<Expr>>, f: &dyn Fn(Expr) -> Expr) -> Vec<Vec<Expr>> {
    m.into_iter()
        .map(|r| r.into_iter().map(f).collect())
        .collect()
}

fn transpose(m: &[Vec<Expr>]) -> Vec<Vec<Expr>> {
    let cols = m.first().map_or(0, |r| r.len());
    (0..cols)
        .map(|j| m.iter().map(|r| r[j].clone()).collect())
        .collect()
}

/// The determinant of a small square matrix of expressions, by cofactors.
fn det(m: &[Vec<Expr>]) -> Option<Expr> {
    let n = m.len();
    (n > 0 && n <= 4 && m.iter().all(|r| r.len() == n)).then(|| super::normal_form::cofactor_det(m))
}

/// `adj(m) / det(m)` for a square matrix of expressions up to 3 × 3.
fn inverse(m: &[Vec<Expr>]) -> Option<Vec<Vec<Expr>>> {
    let n = m.len();
    if n == 0 || n > 3 || m.iter().any(|r| r.len() != n) {
        return None;
    }
    let d = det(m)?;
    if fold_rational(&d).is_some_and(|q| num_traits::Zero::is_zero(&q)) {
        return None;
    }
    if n == 1 {
        return Some(vec![vec![Expr::binary(BinOp::Div, Expr::int(1), d)]]);
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut row = Vec::with_capacity(n);
        for j in 0..n {
            // The adjugate's (i, j) entry is the (j, i) cofactor.
            let c = det(&super::normal_form::minor(m, j, i))?;
            let c = if (i + j) % 2 == 0 { c } else { neg(c) };
            row.push(Expr::binary(BinOp::Div, c, d.clone()));
        }
        out.push(row);
    }
    Some(out)
}

fn sum_of_squares(m: &[Vec<Expr>]) -> Expr {
    let mut acc = Expr::int(0);
    for x in m.iter().flatten() {
        acc = add(acc, Expr::binary(BinOp::Pow, x.clone(), Expr::int(2)));
    }
    acc
}

/// The symbolic value of a typed side, when it is built from literals.
fn value(t: &T, sizes: &Sizes) -> Option<SymVal> {
    use SymVal::{M, S};
    Some(match &t.kind {
        TKind::Scalar(e) => S(e.clone()),
        TKind::Symbol(_) => return None,
        TKind::Identity => {
            let shape = t.shape.as_ref()?;
            let n = sizes.known(&shape.rows)?.as_constant()?;
            let n: usize = n.to_integer().try_into().ok()?;
            if n == 0 || n * n > MAX_ENTRIES {
                return None;
            }
            M((0..n)
                .map(|i| (0..n).map(|j| Expr::int((i == j) as i64)).collect())
                .collect())
        }
        TKind::Literal(rows) => {
            if rows.len() * rows.first().map_or(0, |r| r.len()) > MAX_ENTRIES {
                return None;
            }
            M(rows.clone())
        }
        TKind::Defined(_, b) => value(b, sizes)?,
        TKind::AsScalar(b) => match value(b, sizes)? {
            M(m) if m.len() == 1 && m[0].len() == 1 => S(m[0][0].clone()),
            _ => return None,
        },
        TKind::Neg(a) => match value(a, sizes)? {
            S(e) => S(neg(e)),
            M(m) => M(map(m, &neg)),
        },
        TKind::Add(a, b) | TKind::Sub(a, b) => {
            let minus = matches!(t.kind, TKind::Sub(..));
            let op = |x: Expr, y: Expr| {
                if minus {
                    Expr::binary(BinOp::Sub, x, y)
                } else {
                    add(x, y)
                }
            };
            match (value(a, sizes)?, value(b, sizes)?) {
                (S(x), S(y)) => S(op(x, y)),
                (M(x), M(y)) => {
                    if x.len() != y.len() || x.first()?.len() != y.first()?.len() {
                        return None;
                    }
                    M(x.into_iter()
                        .zip(y)
                        .map(|(r, s)| r.into_iter().zip(s).map(|(p, q)| op(p, q)).collect())
                        .collect())
                }
                _ => return None,
            }
        }
        TKind::Mul(a, b) => match (value(a, sizes)?, value(b, sizes)?) {
            (S(x), S(y)) => S(mul(x, y)),
            (S(s), M(m)) => M(map(m, &|e| mul(s.clone(), e))),
            (M(m), S(s)) => M(map(m, &|e| mul(e, s.clone()))),
            (M(x), M(y)) => M(product(&x, &y)?),
        },
        TKind::Div(a, b) => match (value(a, sizes)?, value(b, sizes)?) {
            (S(x), S(y)) => S(Expr::binary(BinOp::Div, x, y)),
            (M(m), S(s)) => M(map(m, &|e| Expr::binary(BinOp::Div, e, s.clone()))),
            _ => return None,
        },
        TKind::Pow(a, b) => match (value(a, sizes)?, value(b, sizes)?) {
            (S(x), S(y)) => S(Expr::binary(BinOp::Pow, x, y)),
            (M(m), S(k)) => {
                let k = fold_rational(&k)?;
                if !k.is_integer()
                    || k < crate::syntax::expr::rat(1)
                    || k > crate::syntax::expr::rat(8)
                {
                    return None;
                }
                let k: i64 = k.to_integer().try_into().ok()?;
                let mut acc = m.clone();
                for _ in 1..k {
                    acc = product(&acc, &m)?;
                }
                M(acc)
            }
            _ => return None,
        },
        TKind::Transpose(a) => match value(a, sizes)? {
            S(e) => S(e),
            M(m) => M(transpose(&m)),
        },
        TKind::Call(op, args) => {
            let vals: Vec<SymVal> = args
                .iter()
                .map(|a| value(a, sizes))
                .collect::<Option<_>>()?;
            match (op, vals.as_slice()) {
                (Builtin::Trace, [M(m)]) => {
                    if m.len() != m.first()?.len() {
                        return None;
                    }
                    let mut acc = Expr::int(0);
                    for (i, r) in m.iter().enumerate() {
                        acc = add(acc, r[i].clone());
                    }
                    S(acc)
                }
                (Builtin::Det, [M(m)]) => S(det(m)?),
                // The inverse of a small literal: its adjugate over its
                // determinant (read where the determinant is nonzero, as
                // every inverse is).
                (Builtin::Inv, [M(m)]) => M(inverse(m)?),
                (Builtin::NormF, [M(m)]) => {
                    S(Expr::builtin(Builtin::Sqrt, vec![sum_of_squares(m)]))
                }
                // The Euclidean norm of a vector only (a matrix's 2-norm is
                // a singular value).
                (Builtin::Norm2, [M(m)]) if m.len() == 1 || m.first()?.len() == 1 => {
                    S(Expr::builtin(Builtin::Sqrt, vec![sum_of_squares(m)]))
                }
                (Builtin::Diag, [M(m)]) if m.first()?.len() == 1 => {
                    let n = m.len();
                    if n * n > MAX_ENTRIES {
                        return None;
                    }
                    M((0..n)
                        .map(|i| {
                            (0..n)
                                .map(|j| {
                                    if i == j {
                                        m[i][0].clone()
                                    } else {
                                        Expr::int(0)
                                    }
                                })
                                .collect()
                        })
                        .collect())
                }
                (_, xs)
                    if xs.iter().all(|v| matches!(v, S(_)))
                        && super::typed::SCALAR_FUNCTIONS.contains(op) =>
                {
                    let xs = xs
                        .iter()
                        .map(|v| match v {
                            S(e) => e.clone(),
                            M(_) => unreachable!("checked above"),
                        })
                        .collect();
                    S(Expr::builtin(*op, xs))
                }
                _ => return None,
            }
        }
    })
}

/// Both sides as matrices of scalar expressions of one size, when some
/// entry is not a rational constant (rational literals are decided by the
/// exact matrices already).
pub(super) fn entries(lhs: &T, rhs: &T, sizes: &Sizes) -> Option<Vec<(Expr, Expr)>> {
    let (SymVal::M(a), SymVal::M(b)) = (value(lhs, sizes)?, value(rhs, sizes)?) else {
        return None;
    };
    if a.len() != b.len() || a.first()?.len() != b.first()?.len() {
        return None;
    }
    let pairs: Vec<(Expr, Expr)> = a
        .into_iter()
        .flatten()
        .zip(b.into_iter().flatten())
        .collect();
    if pairs
        .iter()
        .all(|(x, y)| fold_rational(x).is_some() && fold_rational(y).is_some())
    {
        return None;
    }
    Some(pairs)
}

/// Decides `lhs op rhs` entry by entry with the scalar family. `cols` is
/// the sides' number of columns (for the entries' positions). Returns
/// `None` when some entry is undecided (the caller goes on), with the
/// first entry's reason.
pub(super) fn decide(
    scope: &crate::check::Scope<'_>,
    index: usize,
    pairs: &[(Expr, Expr)],
    cols: usize,
    op: RelOp,
) -> Result<Verdict, String> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut methods: Vec<String> = Vec::new();
    let mut checked: Option<usize> = None;
    let mut only_checked: Vec<String> = Vec::new();
    let mut undecided: Option<String> = None;
    let mut cross: Option<usize> = Some(usize::MAX);
    for (k, (l, r)) in pairs.iter().enumerate() {
        let (i, j) = (k / cols + 1, k % cols + 1);
        let v = crate::families::scalar::check_step(scope, index, l, op, r);
        match v {
            Verdict::Error { message, span } => {
                return Ok(Verdict::Error {
                    message: format!("entry ({i}, {j}): {message}"),
                    span,
                })
            }
            Verdict::Refuted {
                method,
                mut counterexample,
                mut notes,
            } => {
                counterexample.mismatches = vec![EntryMismatch {
                    entry: (i, j),
                    lhs: counterexample.lhs.clone(),
                    rhs: counterexample.rhs.clone(),
                }];
                notes.insert(
                    0,
                    format!(
                        "entry ({i}, {j}) of the two sides, `{l}` against `{r}`, as a scalar step"
                    ),
                );
                return Ok(Verdict::Refuted {
                    method,
                    counterexample,
                    notes,
                });
            }
            Verdict::Unsupported(reason) => {
                if undecided.is_none() {
                    undecided = Some(format!("entry ({i}, {j}): {reason}"));
                }
            }
            Verdict::Checked { checks, .. } => {
                checked = Some(checked.map_or(checks, |c| c.min(checks)));
                only_checked.push(format!("({i}, {j})"));
                cross = None;
            }
            Verdict::Proved {
                method,
                rules: rs,
                cross_checks,
                ..
            } => {
                let m = method.to_string();
                if !methods.contains(&m) {
                    methods.push(m);
                }
                for x in rs {
                    if !rules.contains(&x) {
                        rules.push(x);
                    }
                }
                cross = match (cross, cross_checks) {
                    (Some(c), Some(x)) => Some(c.min(x.points)),
                    _ => None,
                };
            }
        }
    }
    if let Some(reason) = undecided {
        return Err(reason);
    }
    let n = pairs.len();
    if let Some(checks) = checked {
        return Ok(Verdict::Checked {
            method: Method::MatrixEntries,
            checks,
            notes: vec![format!(
                "entries {} only spot-checked (no proof for them); the other entries proved",
                only_checked.join(", ")
            )],
        });
    }
    Ok(Verdict::Proved {
        method: Method::MatrixEntries,
        context: vec![format!(
            "each of the {n} entries of the two sides is a scalar step, proved by: {}",
            methods.join("; ")
        )],
        rules,
        remarks: Vec::new(),
        cross_checks: cross.filter(|&c| c != usize::MAX && c > 0).map(|points| {
            crate::verdict::CrossChecks {
                points,
                matrices: false,
            }
        }),
    })
}

/// Why `≈` between matrices could not be decided entry by entry.
pub(super) fn approx_unsupported() -> Verdict {
    Verdict::Unsupported(StopReason::NotHandled(
        "`≈` between matrices is decided entry by entry, which needs both sides built from matrix literals (and identities of known size)"
            .into(),
    ))
}
