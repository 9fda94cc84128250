//! Sums and sequences: the finite range of a sum written over all integers
//! (`sum(k, -inf, inf, x(k) h(n - k))`), found from the `step` and `if`
//! factors that make its body vanish; and proofs by induction of closed
//! forms of sums with a symbolic upper bound and of recursive definitions.

use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind, RelOp};
use num_rational::BigRational;
use num_traits::{One, Zero};

/// `e = a·k + rest` with `a` a number and `rest` free of `k`, if `e` is affine in `k`.
pub(crate) fn linear_in(e: &Expr, k: &str) -> Option<(BigRational, Expr)> {
    let zero = || Expr::int(0);
    match &e.kind {
        ExprKind::Name(n) if n == k => Some((BigRational::one(), zero())),
        ExprKind::Number(_) | ExprKind::Name(_) => Some((BigRational::zero(), e.clone())),
        ExprKind::Neg(a) => {
            let (c, r) = linear_in(a, k)?;
            Some((-c, Expr::new(ExprKind::Neg(Box::new(r)), e.span)))
        }
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let (ca, ra) = linear_in(a, k)?;
            let (cb, rb) = linear_in(b, k)?;
            let c = if *op == BinOp::Add { ca + cb } else { ca - cb };
            Some((c, Expr::binary(*op, ra, rb)))
        }
        ExprKind::Binary(BinOp::Mul, a, b) => {
            let (ca, ra) = linear_in(a, k)?;
            let (cb, rb) = linear_in(b, k)?;
            match (ca.is_zero(), cb.is_zero()) {
                (true, true) => Some((BigRational::zero(), e.clone())),
                (false, true) => Some((
                    ca * crate::exact::fold::fold_rational(&rb)?,
                    Expr::binary(BinOp::Mul, ra, rb),
                )),
                (true, false) => Some((
                    cb * crate::exact::fold::fold_rational(&ra)?,
                    Expr::binary(BinOp::Mul, ra, rb),
                )),
                _ => None,
            }
        }
        _ => {
            let mut mentions = false;
            e.walk(&mut |n| {
                if matches!(&n.kind, ExprKind::Name(x) if x == k) {
                    mentions = true;
                }
            });
            (!mentions).then(|| (BigRational::zero(), e.clone()))
        }
    }
}

/// Bounds on `k` implied by `lhs op rhs` (for `if` conditions).
fn bounds_from_comparison(
    a: &Expr,
    op: RelOp,
    b: &Expr,
    k: &str,
    lower: &mut Vec<Expr>,
    upper: &mut Vec<Expr>,
) {
    // a op b  <=>  (a - b) op 0 with a - b = c·k + r.
    let diff = Expr::binary(BinOp::Sub, a.clone(), b.clone());
    let Some((c, r)) = linear_in(&diff, k) else {
        return;
    };
    if !is_unit(&c) {
        return;
    }
    // c = ±1: k op' ∓r.
    let minus_r = Expr::new(ExprKind::Neg(Box::new(r.clone())), r.span);
    let positive = c.is_one();
    let bound = if positive { minus_r } else { r };
    let strict_shift = |e: Expr, up: bool| -> Expr {
        // Integers: k < b means k <= b - 1; k > b means k >= b + 1.
        Expr::binary(if up { BinOp::Sub } else { BinOp::Add }, e, Expr::int(1))
    };
    let op = if positive { op } else { op.flipped() };
    match op {
        RelOp::Le => upper.push(bound),
        RelOp::Lt => upper.push(strict_shift(bound, true)),
        RelOp::Ge => lower.push(bound),
        RelOp::Gt => lower.push(strict_shift(bound, false)),
        RelOp::Eq => {
            lower.push(bound.clone());
            upper.push(bound);
        }
        _ => {}
    }
}

/// Is the coefficient +1 or -1?
fn is_unit(c: &BigRational) -> bool {
    c.is_one() || (-c.clone()).is_one()
}

/// Bounds on `k` outside which `body` is zero, from its `step` and `if` factors.
pub(crate) fn support(body: &Expr, k: &str, lower: &mut Vec<Expr>, upper: &mut Vec<Expr>) {
    match &body.kind {
        ExprKind::Binary(BinOp::Mul, a, b) => {
            support(a, k, lower, upper);
            support(b, k, lower, upper);
        }
        ExprKind::Binary(BinOp::Div, a, _) | ExprKind::Neg(a) => support(a, k, lower, upper),
        ExprKind::Builtin {
            op: Builtin::Step,
            args,
            ..
        } if args.len() == 1 => {
            bounds_from_comparison(&args[0], RelOp::Ge, &Expr::int(0), k, lower, upper);
        }
        ExprKind::Builtin {
            op: Builtin::If,
            args,
            ..
        } if args.len() == 3
            && crate::resolve::domain::as_literal(&args[2]).is_some_and(|v| v.is_zero()) =>
        {
            let mut conds = Vec::new();
            match &args[0].kind {
                ExprKind::And(parts) => conds.extend(parts.iter().cloned()),
                _ => conds.push(args[0].clone()),
            }
            for c in conds {
                if let ExprKind::Compare(items, ops) = &c.kind {
                    for (i, op) in ops.iter().enumerate() {
                        bounds_from_comparison(&items[i], *op, &items[i + 1], k, lower, upper);
                    }
                }
            }
        }
        _ => {}
    }
}

fn is_inf(e: &Expr) -> Option<bool> {
    match &e.kind {
        ExprKind::Name(n) if n == "inf" => Some(true),
        ExprKind::Neg(a) if matches!(&a.kind, ExprKind::Name(n) if n == "inf") => Some(false),
        _ => None,
    }
}

/// One bound out of the candidates: the body vanishes beyond each of them
/// on its own, so any one is valid; take the tightest numeric one, or else
/// the first.
fn pick(candidates: Vec<Expr>, upper: bool) -> Expr {
    let numeric = candidates
        .iter()
        .filter_map(|c| crate::exact::fold::fold_rational(c).map(|v| (v, c.clone())))
        .reduce(|a, b| if (b.0 < a.0) == upper { b } else { a });
    match numeric {
        Some((_, c)) => c,
        None => candidates
            .into_iter()
            .next()
            .expect("at least one candidate"),
    }
}

/// Replaces infinite bounds of `sum`/`prod` calls in an expression whose
/// definitions are already expanded by the finite range its body allows.
pub(crate) fn finite_bounds(e: &Expr) -> Result<Expr, String> {
    let kind = crate::resolve::expand::try_map_children(&e.kind, &mut finite_bounds)?;
    let e = Expr::new(kind, e.span);
    let ExprKind::Builtin { op, args, options } = &e.kind else {
        return Ok(e);
    };
    if !op.binds_index() || args.len() != 4 {
        return Ok(e);
    }
    let (lo_inf, hi_inf) = (is_inf(&args[1]), is_inf(&args[2]));
    if lo_inf.is_none() && hi_inf.is_none() {
        return Ok(e);
    }
    if lo_inf == Some(true) || hi_inf == Some(false) {
        return Err(format!(
            "`{e}` has its infinite bounds the wrong way round (write `-inf` below, `inf` above)"
        ));
    }
    if *op == Builtin::Prod {
        return Err("a product over infinitely many factors is not supported".into());
    }
    let ExprKind::Name(k) = &args[0].kind else {
        return Ok(e);
    };
    let (mut lower, mut upper) = (Vec::new(), Vec::new());
    support(&args[3], k, &mut lower, &mut upper);
    let mut new_args = args.clone();
    if lo_inf.is_some() {
        if lower.is_empty() {
            return Err(format!(
                "cannot find where the body of `{e}` vanishes below: write its lower bound, or a `step`/`if` factor"
            ));
        }
        new_args[1] = pick(lower, false);
    }
    if hi_inf.is_some() {
        if upper.is_empty() {
            return Err(format!(
                "cannot find where the body of `{e}` vanishes above: write its upper bound, or a `step`/`if` factor"
            ));
        }
        new_args[2] = pick(upper, true);
    }
    Ok(Expr::new(
        ExprKind::Builtin {
            op: *op,
            args: new_args,
            options: options.clone(),
        },
        e.span,
    ))
}

/// Writes every definition into `e`, cuts sums over all integers to the
/// finite range their bodies allow, then applies `subs`: the form the
/// symbolic methods work on.
pub(crate) fn expand_cut(
    e: &Expr,
    ctx: &crate::resolve::Context,
    subs: &std::collections::BTreeMap<String, Expr>,
) -> Result<Expr, String> {
    let expanded = crate::resolve::expand::expand_definitions(e, ctx)?;
    let finite = finite_bounds(&expanded)?;
    Ok(crate::resolve::expand::substitute(&finite, subs))
}
