//! Claim families: which part of the engine a step belongs to, decided once
//! from the names a step uses (their kinds, through definitions) and the
//! built-ins it calls (their row of the built-in table). `check` then has
//! one `match` over the family.

use crate::resolve::{Context, Kind};
use crate::syntax::builtins::Belongs;
use crate::syntax::expr::{Expr, ExprKind, Statement};

/// The family of a step or an implication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// Scalars: the symbolic normal form, sums and induction, exact points.
    Scalar,
    /// Arrays and layers, evaluated exactly entry by entry.
    Arrays,
    /// Moments of random variables, replaced by their exact values.
    Moments,
    /// Matrices: the noncommutative normal form and exact matrix samples.
    Matrix,
}

impl Family {
    /// The family of a step between `sides` under the claim's `conditions`:
    /// matrices anywhere (conditions included) make a matrix step; then
    /// moments or random variables on a side; then arrays on a side.
    pub fn of_step(sides: &[&Expr], conditions: &[Expr], ctx: &Context) -> Family {
        if sides
            .iter()
            .copied()
            .chain(conditions)
            .any(|e| involves_matrices(e, ctx))
        {
            Family::Matrix
        } else if sides
            .iter()
            .any(|e| involves_moments(e) || involves_random(e, ctx))
        {
            Family::Moments
        } else if sides.iter().any(|e| involves_arrays(e, ctx)) {
            Family::Arrays
        } else {
            Family::Scalar
        }
    }
}

impl Family {
    /// The family of each step of a chain, or of an implication (one),
    /// under the claim's `where` conditions and `given` hypotheses.
    pub fn of_statement(
        statement: &Statement,
        conditions: &[Expr],
        given: &[Expr],
        ctx: &Context,
    ) -> Vec<Family> {
        let hypotheses: Vec<Expr> = conditions.iter().chain(given).cloned().collect();
        match statement {
            Statement::Chain(ch) => ch
                .terms
                .windows(2)
                .map(|w| Family::of_step(&[&w[0], &w[1]], &hypotheses, ctx))
                .collect(),
            Statement::Logic {
                premise,
                conclusion,
                ..
            } => {
                let sides: Vec<&Expr> = premise
                    .iter()
                    .chain(conclusion)
                    .flat_map(|c| &c.terms)
                    .collect();
                vec![Family::of_step(&sides, &hypotheses, ctx)]
            }
        }
    }
}

/// Visits `e` and the bodies of the definitions it uses, each once.
fn walk_through_definitions(e: &Expr, ctx: &Context, f: &mut dyn FnMut(&Expr) -> bool) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        let mut found = false;
        x.walk(&mut |n| {
            found = found || f(n);
            if let ExprKind::Name(name) | ExprKind::Call { name, .. } = &n.kind {
                if let Some((key, d)) = ctx.definitions.get_key_value(name) {
                    if !seen.contains(&key.as_str()) {
                        seen.push(key.as_str());
                        stack.push(&d.body);
                    }
                }
            }
        });
        if found {
            return true;
        }
    }
    false
}

/// Does `e` (or a definition it uses) mention a declared matrix, the
/// identity or a matrix built-in? Expressions of array literals alone are
/// left to the array evaluator.
pub fn involves_matrices(e: &Expr, ctx: &Context) -> bool {
    walk_through_definitions(e, ctx, &mut |n| match &n.kind {
        ExprKind::Builtin { op, .. } => op.belongs() == Belongs::Matrix,
        ExprKind::Name(name) | ExprKind::Call { name, .. } => matches!(
            ctx.symbols.get(name).map(|s| &s.kind),
            Some(Kind::Matrix(..)) | Some(Kind::Identity)
        ),
        // The inverse of a literal, `[[2, 1], [1, 1]]⁻¹`, is matrix algebra.
        ExprKind::Binary(crate::syntax::expr::BinOp::Pow, a, k) => {
            matches!(a.kind, ExprKind::Matrix(_))
                && crate::symbolic::normal::fold_rational(k)
                    .is_some_and(|q| q == crate::syntax::expr::rat(-1))
        }
        _ => false,
    })
}

/// Does `e` (or a definition it uses) produce an array: a literal, an
/// array symbol or an array built-in?
pub fn involves_arrays(e: &Expr, ctx: &Context) -> bool {
    walk_through_definitions(e, ctx, &mut |n| match &n.kind {
        ExprKind::Matrix(_) => true,
        ExprKind::Builtin { op, .. } => op.belongs() == Belongs::Array,
        ExprKind::Name(name) | ExprKind::Call { name, .. } => matches!(
            ctx.symbols.get(name).map(|s| &s.kind),
            Some(Kind::Array(..))
        ),
        _ => false,
    })
}

/// Does `e` mention a random symbol or family?
pub fn involves_random(e: &Expr, ctx: &Context) -> bool {
    let mut found = false;
    e.walk(&mut |n| {
        if let ExprKind::Name(name) | ExprKind::Call { name, .. } = &n.kind {
            found |= matches!(
                ctx.symbols.get(name).map(|s| &s.kind),
                Some(Kind::Random { .. })
            );
        }
    });
    found
}

/// Does `e` use `E[...]`, `Var`, `Cov` or `Std`?
pub fn involves_moments(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |n| match &n.kind {
        ExprKind::Expect(_) => found = true,
        ExprKind::Builtin { op, .. } => found |= op.belongs() == Belongs::Moment,
        _ => {}
    });
    found
}
