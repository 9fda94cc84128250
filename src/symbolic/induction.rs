//! Proof by induction on an integer symbol `n >= n0`, for steps whose one
//! side is a sum with upper bound `n + c` (its body free of `n`) or a call
//! of a recursive definition with `n` as an argument. The base case `n = n0`
//! and the step (`n >= n0 + 1`, the claim assumed for smaller arguments) are
//! each proved by the exact symbolic normal form.

use crate::resolve::domain::{Bound, Domain, Sign};
use crate::resolve::expand::substitute;
use crate::resolve::Context;
use crate::symbolic::normal::Normalizer;
use crate::symbolic::polynomial::Alg;
use crate::symbolic::sums::expand_cut as expand;
use crate::symbolic::sums::linear_in;
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind};
use crate::verdict::Method;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::collections::BTreeMap;

fn mentions(e: &Expr, name: &str) -> bool {
    let mut found = false;
    e.walk(&mut |n| match &n.kind {
        ExprKind::Name(x) | ExprKind::Call { name: x, .. } if x == name => found = true,
        _ => {}
    });
    found
}

fn at(e: &Expr, n: &str, value: Expr) -> Expr {
    let mut map = BTreeMap::new();
    map.insert(n.to_string(), value);
    substitute(e, &map)
}

fn minus_one(n: &str) -> Expr {
    Expr::binary(BinOp::Sub, Expr::name(n), Expr::int(1))
}

/// Is `a = b` an identity under `dom` (definitions expanded)?
fn identity(ctx: &Context, dom: &Domain, a: &Expr, b: &Expr) -> bool {
    let (Ok(a), Ok(b)) = (
        expand(a, ctx, &BTreeMap::new()),
        expand(b, ctx, &BTreeMap::new()),
    ) else {
        return false;
    };
    let mut norm = Normalizer::new(dom);
    norm.prescan(&a);
    norm.prescan(&b);
    let r = (|| {
        let x = norm.alg(&a)?;
        let y = norm.alg(&b)?;
        norm.ratfun(&Alg::sub(x, y))
    })();
    matches!(r, Ok(rf) if rf.num.is_zero())
}

fn sign_under(dom: &Domain, e: &Expr) -> Sign {
    Normalizer::new(dom).sign_of(e)
}

/// For a sum (product) with upper bound `n + c`, lower bound and body free
/// of `n`, not empty for the step's `n`: the operation and its last term
/// `body(n + c)`, by which it grows from `n − 1` to `n`.
fn last_term(dom: &Domain, e: &Expr, n: &str) -> Option<(Builtin, Expr)> {
    let (op @ (Builtin::Sum | Builtin::Prod), args) = e.as_builtin()? else {
        return None;
    };
    let [index, lo, hi, body] = args else {
        return None;
    };
    let ExprKind::Name(k) = &index.kind else {
        return None;
    };
    let (coeff, _) = linear_in(hi, n)?;
    if coeff != BigRational::one() || mentions(lo, n) || mentions(body, n) {
        return None;
    }
    // The sum (product) at n is not empty for n >= n0 + 1.
    let gap = Expr::binary(BinOp::Sub, hi.clone(), lo.clone());
    if !sign_under(dom, &gap).nonneg() {
        return None;
    }
    Some((op, at(body, k, hi.clone())))
}

/// The side unfolded once at `n`, with the claim for smaller arguments
/// (`side(a) = other(a)`) used where it appears; `None` if the side has no
/// such shape.
fn unfold(ctx: &Context, dom: &Domain, side: &Expr, other: &Expr, n: &str) -> Option<Expr> {
    // A sum with upper bound n + c, fixed lower bound and body free of n.
    if let Ok(x) = expand(side, ctx, &BTreeMap::new()) {
        let (op, last) = last_term(dom, &x, n)?;
        let combine = if op == Builtin::Sum {
            BinOp::Add
        } else {
            BinOp::Mul
        };
        let previous = at(other, n, minus_one(n));
        return Some(Expr::binary(combine, previous, last));
    }
    // A call of a recursive definition with n as one argument.
    let ExprKind::Call { name, args, .. } = &side.kind else {
        return None;
    };
    let def = ctx.definitions.get(name)?;
    let position = args
        .iter()
        .position(|a| matches!(&a.kind, ExprKind::Name(x) if x == n))?;
    if args
        .iter()
        .enumerate()
        .any(|(i, a)| i != position && mentions(a, n))
    {
        return None;
    }
    let mut map = BTreeMap::new();
    for (p, a) in def.params.iter().zip(args) {
        map.insert(p.clone(), a.clone());
    }
    let body = substitute(&def.body, &map);
    let mut norm = Normalizer::new(dom);
    let mut failed = false;
    let unfolded = replace_calls(
        &body,
        name,
        args,
        position,
        n,
        other,
        dom,
        &mut norm,
        &mut failed,
    );
    (!failed).then_some(unfolded)
}

/// Decides `if`s by the domain and replaces recursive calls `f(.., a, ..)`
/// with `n0 <= a <= n - 1` by the other side at `a`.
#[allow(clippy::too_many_arguments)]
fn replace_calls(
    e: &Expr,
    name: &str,
    args: &[Expr],
    position: usize,
    n: &str,
    other: &Expr,
    dom: &Domain,
    norm: &mut Normalizer<'_>,
    failed: &mut bool,
) -> Expr {
    match &e.kind {
        ExprKind::Builtin {
            op: Builtin::If,
            args: a,
            ..
        } if a.len() == 3 => match norm.decide(&a[0]) {
            Some(true) => replace_calls(&a[1], name, args, position, n, other, dom, norm, failed),
            Some(false) => replace_calls(&a[2], name, args, position, n, other, dom, norm, failed),
            None => {
                *failed = true;
                e.clone()
            }
        },
        ExprKind::Call { name: f, args: a } if f == name && a.len() == args.len() => {
            let same_rest = a
                .iter()
                .zip(args)
                .enumerate()
                .all(|(i, (x, y))| i == position || x.to_string() == y.to_string());
            let arg = &a[position];
            let below = Expr::binary(BinOp::Sub, Expr::name(n), arg.clone());
            let floor = dom.lower_bound(n).map(|b| {
                Expr::binary(
                    BinOp::Sub,
                    arg.clone(),
                    Expr::rational(b.value - BigRational::one()),
                )
            });
            let in_range = sign_under(dom, &below) == Sign::Pos
                && floor.is_some_and(|f| sign_under(dom, &f).nonneg());
            if !same_rest || !in_range {
                *failed = true;
                return e.clone();
            }
            at(other, n, arg.clone())
        }
        other_kind => {
            let kind = crate::resolve::expand::map_children(other_kind, &mut |c| {
                replace_calls(c, name, args, position, n, other, dom, norm, failed)
            });
            Expr::new(kind, e.span)
        }
    }
}

/// Tries to prove `lhs = rhs` by induction; returns the method's description.
pub(crate) fn prove(ctx: &Context, dom: &Domain, lhs: &Expr, rhs: &Expr) -> Option<Method> {
    let candidates: Vec<String> = dom
        .kinds
        .iter()
        .filter(|(_, k)| k.is_integer())
        .map(|(n, _)| n.clone())
        .collect();
    for n in candidates {
        if !(mentions(lhs, &n) || mentions(rhs, &n)) {
            continue;
        }
        let Some(start) = dom.lower_bound(&n) else {
            continue;
        };
        let n0 = start.value.clone();
        if !n0.is_integer() {
            continue;
        }
        let mut base_dom = dom.clone();
        base_dom.lower.insert(
            n.clone(),
            Bound {
                value: n0.clone(),
                strict: false,
            },
        );
        let mut step_dom = dom.clone();
        step_dom.lower.insert(
            n.clone(),
            Bound {
                value: &n0 + BigRational::one(),
                strict: false,
            },
        );
        if step_dom.upper_bound(&n).is_some_and(|u| {
            u.value
                < step_dom
                    .lower_bound(&n)
                    .map_or(BigRational::zero(), |b| b.value)
        }) {
            continue;
        }
        if let Some(method) = by_differences(ctx, &base_dom, &step_dom, lhs, rhs, &n, &n0) {
            return Some(method);
        }
        for (side, other) in [(lhs, rhs), (rhs, lhs)] {
            let Some(unfolded) = unfold(ctx, &step_dom, side, other, &n) else {
                continue;
            };
            let n0_expr = Expr::rational(n0.clone());
            if !identity(
                ctx,
                &base_dom,
                &at(side, &n, n0_expr.clone()),
                &at(other, &n, n0_expr),
            ) {
                return None;
            }
            if identity(ctx, &step_dom, &unfolded, other) {
                return Some(Method::Induction {
                    symbol: n.clone(),
                    from: n0.to_string(),
                });
            }
        }
    }
    None
}

/// `e(n) − e(n − 1)` for an expression linear in its sums over `n`: a sum
/// (product excluded) with upper bound `n + c`, lower bound and body free of
/// `n` and nonempty from `n0 + 1` on contributes its last term; factors and
/// divisors free of `n` are kept; a part without sums or definitions of `n`
/// contributes `part − part(n − 1)`. `None` for any other shape.
fn difference(dom: &Domain, e: &Expr, n: &str) -> Option<Expr> {
    if !mentions(e, n) {
        return Some(Expr::int(0));
    }
    let has_sum = |x: &Expr| {
        let mut found = false;
        x.walk(&mut |y| {
            found |= matches!(&y.kind, ExprKind::Call { .. })
                || matches!(
                    y.as_builtin(),
                    Some((
                        Builtin::Sum | Builtin::Prod | Builtin::Diff | Builtin::Integral,
                        _
                    ))
                );
        });
        found
    };
    match &e.kind {
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => Some(Expr::binary(
            *op,
            difference(dom, a, n)?,
            difference(dom, b, n)?,
        )),
        ExprKind::Neg(a) => Some(Expr::new(
            ExprKind::Neg(Box::new(difference(dom, a, n)?)),
            e.span,
        )),
        ExprKind::Binary(BinOp::Mul, a, b) if has_sum(e) && !mentions(a, n) => Some(Expr::binary(
            BinOp::Mul,
            (**a).clone(),
            difference(dom, b, n)?,
        )),
        ExprKind::Binary(BinOp::Mul, a, b) if has_sum(e) && !mentions(b, n) => Some(Expr::binary(
            BinOp::Mul,
            difference(dom, a, n)?,
            (**b).clone(),
        )),
        ExprKind::Binary(BinOp::Div, a, b) if has_sum(e) && !mentions(b, n) => Some(Expr::binary(
            BinOp::Div,
            difference(dom, a, n)?,
            (**b).clone(),
        )),
        ExprKind::Builtin {
            op: Builtin::Sum, ..
        } => last_term(dom, e, n).map(|(_, last)| last),
        _ if has_sum(e) => None,
        _ => Some(Expr::binary(BinOp::Sub, e.clone(), at(e, n, minus_one(n)))),
    }
}

/// Induction by differences: `lhs(n0) = rhs(n0)` and `Δlhs = Δrhs` for
/// `n >= n0 + 1` (Δ of [`difference`]), so `lhs − rhs` is constant, 0, for
/// every `n >= n0`. Used only when nothing but bounds constrains `n` (a
/// fact tying `n` to another symbol could exclude `n − 1`).
fn by_differences(
    ctx: &Context,
    base_dom: &Domain,
    step_dom: &Domain,
    lhs: &Expr,
    rhs: &Expr,
    n: &str,
    n0: &BigRational,
) -> Option<Method> {
    if step_dom.facts.iter().any(|f| f.big == n || f.small == n)
        || step_dom.other.iter().any(|c| mentions(c, n))
    {
        return None;
    }
    let l = expand(lhs, ctx, &BTreeMap::new()).ok()?;
    let r = expand(rhs, ctx, &BTreeMap::new()).ok()?;
    let (dl, dr) = (difference(step_dom, &l, n)?, difference(step_dom, &r, n)?);
    let n0_expr = Expr::rational(n0.clone());
    (identity(
        ctx,
        base_dom,
        &at(&l, n, n0_expr.clone()),
        &at(&r, n, n0_expr),
    ) && identity(ctx, step_dom, &dl, &dr))
    .then(|| Method::Induction {
        symbol: n.to_string(),
        from: n0.to_string(),
    })
}
