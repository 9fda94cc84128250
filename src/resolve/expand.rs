//! Expansion: definitions from `[define]` and `given` substitutions
//! written into an expression, under a work budget, so that the symbolic
//! engine sees only declared symbols and built-ins.

use crate::resolve::Context;
use crate::syntax::expr::{Builtin, Expr, ExprKind};
use std::collections::BTreeMap;

/// The budget [`Budgets::expanded_nodes`](crate::config::Budgets::expanded_nodes).
pub const EXPANDED_NODES: usize = crate::config::Budgets::DEFAULT.expanded_nodes;
/// The budget [`Budgets::expansion_depth`](crate::config::Budgets::expansion_depth).
pub const EXPANSION_DEPTH: usize = crate::config::Budgets::DEFAULT.expansion_depth;

/// Replaces free occurrences of names by expressions (bound sum indices are respected).
pub fn substitute(e: &Expr, map: &BTreeMap<String, Expr>) -> Expr {
    if map.is_empty() {
        return e.clone();
    }
    let kind = match &e.kind {
        ExprKind::Name(n) => match map.get(n) {
            Some(r) => return r.clone(),
            None => ExprKind::Name(n.clone()),
        },
        ExprKind::Builtin { op, args, options } if op.binds_index() && args.len() == 4 => {
            let mut inner = map.clone();
            if let ExprKind::Name(k) = &args[0].kind {
                inner.remove(k);
            }
            ExprKind::Builtin {
                op: *op,
                args: vec![
                    args[0].clone(),
                    substitute(&args[1], map),
                    substitute(&args[2], map),
                    substitute(&args[3], &inner),
                ],
                options: options.clone(),
            }
        }
        other => map_children(other, &mut |c| substitute(c, map)),
    };
    Expr::new(kind, e.span)
}

/// Rebuilds a node with `f` applied to each child.
pub fn map_children(kind: &ExprKind, f: &mut dyn FnMut(&Expr) -> Expr) -> ExprKind {
    match kind {
        ExprKind::Number(_) | ExprKind::Name(_) | ExprKind::Str(_) => kind.clone(),
        ExprKind::Neg(a) => ExprKind::Neg(Box::new(f(a))),
        ExprKind::Transpose(a) => ExprKind::Transpose(Box::new(f(a))),
        ExprKind::Expect(a) => ExprKind::Expect(Box::new(f(a))),
        ExprKind::Binary(op, a, b) => ExprKind::Binary(*op, Box::new(f(a)), Box::new(f(b))),
        ExprKind::Builtin { op, args, options } => ExprKind::Builtin {
            op: *op,
            args: args.iter().map(&mut *f).collect(),
            options: options.iter().map(|(k, v)| (k.clone(), f(v))).collect(),
        },
        ExprKind::Call { name, args } => ExprKind::Call {
            name: name.clone(),
            args: args.iter().map(&mut *f).collect(),
        },
        ExprKind::Matrix(rows) => ExprKind::Matrix(
            rows.iter()
                .map(|r| r.iter().map(&mut *f).collect())
                .collect(),
        ),
        ExprKind::Compare(items, ops) => {
            ExprKind::Compare(items.iter().map(&mut *f).collect(), ops.clone())
        }
        ExprKind::And(items) => ExprKind::And(items.iter().map(&mut *f).collect()),
    }
}

/// Rebuilds a node with the fallible `f` applied to each child; the first
/// error stops the rebuild.
pub fn try_map_children<E>(
    kind: &ExprKind,
    f: &mut dyn FnMut(&Expr) -> Result<Expr, E>,
) -> Result<ExprKind, E> {
    let mut err = None;
    let kind = map_children(kind, &mut |c| {
        if err.is_some() {
            return c.clone();
        }
        match f(c) {
            Ok(x) => x,
            Err(m) => {
                err = Some(m);
                c.clone()
            }
        }
    });
    match err {
        Some(m) => Err(m),
        None => Ok(kind),
    }
}

/// Does `e` mention any name that is not bound inside it and is in `free`?
pub fn is_closed(e: &Expr, ctx: &Context) -> bool {
    let mut names = Vec::new();
    crate::resolve::names_in(e, &mut names);
    names.iter().all(|n| !ctx.symbols.contains_key(n))
}

struct Expander<'a> {
    ctx: &'a Context,
    nodes: usize,
}

impl Expander<'_> {
    fn expand(&mut self, e: &Expr, depth: usize) -> Result<Expr, String> {
        self.nodes += 1;
        if self.nodes > EXPANDED_NODES {
            return Err(format!(
                "expanding definitions produced more than {EXPANDED_NODES} nodes (limit)"
            ));
        }
        if depth > EXPANSION_DEPTH {
            return Err(format!(
                "definitions nest more than {EXPANSION_DEPTH} levels deep when expanded symbolically \
                 (a recursion that needs a concrete argument?)"
            ));
        }
        match &e.kind {
            ExprKind::Name(n) => {
                if let Some(def) = self.ctx.definitions.get(n) {
                    if def.params.is_empty() {
                        return self.expand(&def.body, depth + 1);
                    }
                }
                Ok(e.clone())
            }
            ExprKind::Call { name, args, .. } if self.ctx.definitions.contains_key(name) => {
                let def = &self.ctx.definitions[name];
                if def.params.len() != args.len() {
                    return Err(format!(
                        "`{name}` takes {} argument{}, found {}",
                        def.params.len(),
                        if def.params.len() == 1 { "" } else { "s" },
                        args.len()
                    ));
                }
                let mut map = BTreeMap::new();
                for (p, a) in def.params.iter().zip(args) {
                    map.insert(p.clone(), self.expand(a, depth)?);
                }
                let body = substitute(&def.body, &map);
                self.expand(&body, depth + 1)
            }
            ExprKind::Builtin {
                op: Builtin::If,
                args,
                ..
            } if args.len() == 3 => {
                // Decide a closed condition now, so that recursive definitions
                // with concrete arguments terminate.
                let cond = self.expand(&args[0], depth)?;
                if is_closed(&cond, self.ctx) {
                    if let Some(truth) = crate::exact::fold::fold_condition(&cond) {
                        return self.expand(if truth { &args[1] } else { &args[2] }, depth);
                    }
                }
                let a = self.expand(&args[1], depth)?;
                let b = self.expand(&args[2], depth)?;
                Ok(Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::If,
                        args: vec![cond, a, b],
                        options: Vec::new(),
                    },
                    e.span,
                ))
            }
            other => {
                let mut err = None;
                let kind = map_children(other, &mut |c| match self.expand(c, depth) {
                    Ok(x) => x,
                    Err(m) => {
                        err.get_or_insert(m);
                        c.clone()
                    }
                });
                match err {
                    Some(m) => Err(m),
                    None => Ok(Expr::new(kind, e.span)),
                }
            }
        }
    }
}

/// Writes every definition into `e`, then applies `subs`.
pub fn expand(e: &Expr, ctx: &Context, subs: &BTreeMap<String, Expr>) -> Result<Expr, String> {
    let expanded = expand_definitions(e, ctx)?;
    Ok(substitute(&expanded, subs))
}

/// Writes every definition into `e`.
pub fn expand_definitions(e: &Expr, ctx: &Context) -> Result<Expr, String> {
    Expander { ctx, nodes: 0 }.expand(e, 0)
}
