//! Constant folding: a closed expression of numbers, `+ − × ÷` and integer
//! powers to the exact rational it equals, and closed comparisons to their
//! truth. Pure and budgeted; shared by the definition expander, the exact
//! evaluator and the symbolic engine.

use crate::syntax::expr::{BinOp, Expr, ExprKind};
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

/// Converts a small integer exponent, refusing anything huge.
pub(crate) fn small_exponent(q: &BigRational) -> Option<i64> {
    if !q.is_integer() {
        return None;
    }
    q.to_integer().to_i64().filter(|k| k.abs() <= 1_000_000)
}

/// Folds a closed numeric expression (numbers, + − × ÷, integer powers) to a rational.
pub(crate) fn fold_rational(e: &Expr) -> Option<BigRational> {
    match &e.kind {
        ExprKind::Number(q) => Some(q.clone()),
        ExprKind::Neg(a) => fold_rational(a).map(|q| -q),
        ExprKind::Binary(op, a, b) => {
            let x = fold_rational(a)?;
            let y = fold_rational(b)?;
            match op {
                BinOp::Add => Some(x + y),
                BinOp::Sub => Some(x - y),
                BinOp::Mul => Some(x * y),
                BinOp::Div => (!y.is_zero()).then(|| x / y),
                BinOp::Pow => {
                    let k = small_exponent(&y)?;
                    if k.abs() > 4096 || (x.is_zero() && k < 0) {
                        return None;
                    }
                    let bits = x.numer().bits().max(x.denom().bits());
                    if bits.saturating_mul(k.unsigned_abs()) > 1 << 16 {
                        return None;
                    }
                    let p = num_traits::pow(x, k.unsigned_abs() as usize);
                    Some(if k < 0 { p.recip() } else { p })
                }
            }
        }
        _ => None,
    }
}

/// The truth of a closed condition (comparisons of foldable numbers, joined
/// with `and`), or `None` when it does not fold.
pub(crate) fn fold_condition(e: &Expr) -> Option<bool> {
    use crate::syntax::expr::RelOp;
    match &e.kind {
        ExprKind::And(parts) => {
            let mut all = true;
            for p in parts {
                all &= fold_condition(p)?;
            }
            Some(all)
        }
        ExprKind::Compare(items, ops) => {
            let values: Option<Vec<BigRational>> = items.iter().map(fold_rational).collect();
            let values = values?;
            Some(ops.iter().enumerate().all(|(i, op)| {
                let (a, b) = (&values[i], &values[i + 1]);
                match op {
                    RelOp::Eq | RelOp::Approx => a == b,
                    RelOp::Ne => a != b,
                    RelOp::Le => a <= b,
                    RelOp::Lt => a < b,
                    RelOp::Ge => a >= b,
                    RelOp::Gt => a > b,
                }
            }))
        }
        _ => None,
    }
}
