//! The final-result claim of one part: the answer's final term `=` the
//! key's expected result, built from parsed values (never from text). The
//! key's declarations are merged into the answer's context, and the claim
//! keeps only the answer's `where`/`given` that cannot narrow the key's
//! domain, so that a result right only under an assumption the key does not
//! make is never credited.

use super::key::{Key, Part};
use crate::resolve::expand::map_children;
use crate::resolve::{self, Claim, ClaimBody, Context, Definition, Kind, Symbol};
use crate::syntax::expr::{Chain, Expr, ExprKind, RelOp, Span, Statement};
use crate::syntax::load::Located;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A final-result claim ready to check, with what the merge decided.
#[derive(Clone, Debug)]
pub struct FinalClaim {
    /// The claim `final = result`.
    pub claim: Claim,
    /// The merged context it is checked in.
    pub context: Arc<Context>,
    /// The answer's `where`/`given` conditions left out because the key does
    /// not assume them, as printed.
    pub dropped: Vec<String>,
    /// Notes for the grader (a declaration of the answer overridden by the key's).
    pub notes: Vec<String>,
}

/// The last term of a statement: of its chain, or of an implication's
/// last conclusion.
pub fn final_term(statement: &Statement) -> Option<&Expr> {
    let chain = match statement {
        Statement::Chain(c) => c,
        Statement::Logic { conclusion, .. } => conclusion.last()?,
    };
    chain.terms.last()
}

/// Renames names (not bound indices, not a definition's parameters) in an expression.
fn rename(e: &Expr, map: &BTreeMap<String, String>) -> Expr {
    if map.is_empty() {
        return e.clone();
    }
    let kind = match &e.kind {
        ExprKind::Name(n) => ExprKind::Name(map.get(n).cloned().unwrap_or_else(|| n.clone())),
        ExprKind::Call { name, args } => ExprKind::Call {
            name: map.get(name).cloned().unwrap_or_else(|| name.clone()),
            args: args.iter().map(|a| rename(a, map)).collect(),
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
                    rename(&args[1], map),
                    rename(&args[2], map),
                    rename(&args[3], &inner),
                ],
                options: options.clone(),
            }
        }
        other => map_children(other, &mut |c| rename(c, map)),
    };
    Expr::new(kind, e.span)
}

fn rename_kind(kind: &Kind, map: &BTreeMap<String, String>) -> Kind {
    match kind {
        Kind::Matrix(r, c) => Kind::Matrix(rename(r, map), rename(c, map)),
        Kind::Array(r, c) => Kind::Array(rename(r, map), rename(c, map)),
        Kind::Random {
            family,
            normal,
            mean,
            var,
        } => Kind::Random {
            family: *family,
            normal: *normal,
            mean: rename(mean, map),
            var: rename(var, map),
        },
        other => other.clone(),
    }
}

/// The expression with every span moved by `by` bytes (to the claim's show text).
fn shift(e: &Expr, by: isize) -> Expr {
    let at = |x: usize| x.saturating_add_signed(by);
    Expr::new(
        map_children(&e.kind, &mut |c| shift(c, by)),
        Span {
            start: at(e.span.start),
            end: at(e.span.end),
        },
    )
}

/// The expression with every span emptied, so that two parses compare by content.
fn unspanned(e: &Expr) -> Expr {
    Expr::new(map_children(&e.kind, &mut unspanned), Span::default())
}

/// The declared symbols an expression depends on (through definitions and kinds).
fn symbols_of(ctx: &Context, e: &Expr) -> BTreeSet<String> {
    let none = Statement::Chain(Chain {
        terms: Vec::new(),
        ops: Vec::new(),
    });
    resolve::dependencies(ctx, &none, std::slice::from_ref(e))
        .into_iter()
        .filter(|n| ctx.symbols.contains_key(n))
        .collect()
}

fn fresh_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = format!("{base}_key");
    while taken(&name) {
        name.push_str("_key");
    }
    name
}

/// Builds the final-result claim of `part` for the answer claim `answer`
/// (its id `id`, resolved in `answer_ctx`). `Err` with a message for the
/// student when the two files cannot be read together (a name the key
/// declares as a symbol is defined by the answer).
pub fn final_claim(
    key: &Key,
    part: &Part,
    answer_ctx: &Context,
    answer: &Claim,
    body: &ClaimBody,
) -> Result<FinalClaim, String> {
    let last = final_term(&body.statement).ok_or("the claim has no final term")?;
    let kctx = &key.context;
    let none = Statement::Chain(Chain {
        terms: vec![part.result.clone()],
        ops: Vec::new(),
    });
    let key_exprs: Vec<Expr> = part.conditions.iter().chain(&part.given).cloned().collect();
    let needed = resolve::dependencies(kctx, &none, &key_exprs);
    // A key definition whose name the answer uses for something else is
    // renamed: the key's `X` and the answer's `X` are different values.
    let taken = |n: &str| {
        answer_ctx.symbols.contains_key(n)
            || answer_ctx.definitions.contains_key(n)
            || answer_ctx.broken.contains_key(n)
            || kctx.symbols.contains_key(n)
            || kctx.definitions.contains_key(n)
    };
    let mut renames = BTreeMap::new();
    for name in &needed {
        let Some(def) = kctx.definitions.get(name) else {
            continue;
        };
        let same = answer_ctx.definitions.get(name) == Some(def);
        let clash = answer_ctx.symbols.contains_key(name)
            || answer_ctx.definitions.contains_key(name)
            || answer_ctx.broken.contains_key(name);
        if clash && !same {
            renames.insert(name.clone(), fresh_name(name, taken));
        }
    }
    let mut merged = answer_ctx.clone();
    let mut notes = Vec::new();
    for name in &needed {
        if let Some(sym) = kctx.symbols.get(name) {
            if answer_ctx.definitions.contains_key(name) {
                return Err(format!(
                    "`{name}` is a symbol of the question, but your answer defines it in [define]; \
                     the final result cannot be compared"
                ));
            }
            let kind = rename_kind(&sym.kind, &renames);
            if let Some(mine) = answer_ctx.symbols.get(name) {
                if mine.kind != kind {
                    notes.push(format!(
                        "`{name}` is declared differently in the answer; the key's declaration is used"
                    ));
                }
            }
            merged.declare(Symbol {
                name: name.clone(),
                kind,
                structure: kctx
                    .symbols
                    .get(name)
                    .map(|s| s.structure)
                    .unwrap_or_default(),
            });
        } else if let Some(def) = kctx.definitions.get(name) {
            let new_name = renames.get(name).cloned().unwrap_or_else(|| name.clone());
            if new_name == *name && answer_ctx.definitions.get(name) == Some(def) {
                continue;
            }
            // Parameters are local to the definition: never renamed inside it.
            let mut local = renames.clone();
            for p in &def.params {
                local.remove(p);
            }
            merged.define(Definition {
                name: new_name,
                params: def.params.clone(),
                body: rename(&def.body, &local),
            });
        }
    }
    let result = rename(&part.result, &renames);
    let key_conditions: Vec<Expr> = part
        .conditions
        .iter()
        .map(|c| rename(c, &renames))
        .collect();
    let key_given: Vec<Expr> = part.given.iter().map(|c| rename(c, &renames)).collect();

    // The claim's text: the answer's final term as written, ` = `, the key's
    // result as written; the expressions' spans are moved to match, so that
    // decimal literals keep their written precision.
    let last_text = body
        .show
        .text
        .get(last.span.start..last.span.end)
        .map(str::to_string)
        .unwrap_or_else(|| last.to_string());
    let show_text = format!("{last_text} = {}", part.result_text);
    let offset = last_text.len() + 3;
    let lhs = shift(last, -(last.span.start as isize));
    let rhs = shift(&result, offset as isize);
    let statement = Statement::Chain(Chain {
        terms: vec![lhs, rhs],
        ops: vec![(
            RelOp::Eq,
            Span {
                start: last_text.len() + 1,
                end: last_text.len() + 2,
            },
        )],
    });

    // The answer's own conditions are kept when the key assumes them too, or
    // when they share no symbol (even through other conditions) with the
    // compared expressions: those can only empty the domain, never make a
    // wrong result right. The others are left out, and the student told.
    let key_all: Vec<Expr> = key_conditions
        .iter()
        .chain(&key_given)
        .map(unspanned)
        .collect();
    let mut reach: BTreeSet<String> = symbols_of(&merged, &statement_terms(&statement)[0]);
    reach.extend(symbols_of(&merged, &statement_terms(&statement)[1]));
    let answer_all: Vec<(bool, &Expr)> = body
        .conditions
        .iter()
        .map(|c| (false, c))
        .chain(body.given.iter().map(|g| (true, g)))
        .collect();
    let symbols: Vec<BTreeSet<String>> = answer_all
        .iter()
        .map(|(_, e)| symbols_of(&merged, e))
        .collect();
    let mut connected = vec![false; answer_all.len()];
    loop {
        let mut grew = false;
        for (i, s) in symbols.iter().enumerate() {
            if !connected[i] && !s.is_disjoint(&reach) {
                connected[i] = true;
                reach.extend(s.iter().cloned());
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let mut conditions = key_conditions;
    let mut given = key_given;
    let mut dropped = Vec::new();
    for (i, (is_given, e)) in answer_all.iter().enumerate() {
        let assumed_by_key = key_all.contains(&unspanned(e));
        if assumed_by_key {
            continue; // already among the key's own
        }
        if connected[i] {
            dropped.push(e.to_string());
        } else if *is_given {
            given.push((*e).clone());
        } else {
            conditions.push((*e).clone());
        }
    }
    let others: Vec<Expr> = conditions.iter().chain(&given).cloned().collect();
    let mut uses: Vec<String> = resolve::dependencies(&merged, &statement, &others)
        .into_iter()
        .filter(|n| merged.symbols.contains_key(n) || merged.definitions.contains_key(n))
        .collect();
    uses.sort();
    uses.dedup();
    let families =
        crate::resolve::family::Family::of_statement(&statement, &conditions, &given, &merged);
    let claim = Claim {
        id: format!("{}.final", part.id),
        location: answer.location,
        text: None,
        expect: None,
        body: Ok(ClaimBody {
            statement,
            conditions,
            given,
            show: Located {
                text: show_text,
                offset: 0,
                location: body.show.location,
            },
            show_start: body.show_start,
            uses,
            families,
            notes: Vec::new(),
        }),
    };
    Ok(FinalClaim {
        claim,
        context: Arc::new(merged),
        dropped,
        notes,
    })
}

fn statement_terms(s: &Statement) -> &[Expr] {
    match s {
        Statement::Chain(c) => &c.terms,
        Statement::Logic { .. } => &[],
    }
}
