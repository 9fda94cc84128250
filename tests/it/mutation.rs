//! The mutation test: every claim under `derivations/` and `tests/data/`
//! that the engine accepts (proved or checked) is perturbed, and no
//! perturbed claim may be accepted.
//!
//! Two kinds of perturbation:
//! - certain ones, false wherever the original holds: the last term of a
//!   chain moved by one (`=`, `≈`), or pushed past the relation (`<=`,
//!   `>=`), the conclusion of an implication moved by one. Asserted strictly.
//! - single changes (a constant + 1, an exponent + 1, `+` ↔ `-`, `Var` ↔
//!   `E`, a symbol swapped for another of its kind, a product's factors
//!   swapped, a transpose or an inverse dropped). Some of these can be equivalent to
//!   the original, so each is first run with symbolic proofs off (exact
//!   evaluation and spot checks only, an independent path); when that
//!   refutes the mutant, the full engine must not accept it.

use crate::common;

use derive_check::config::Config;
use derive_check::resolve::{resolve_context, Kind};
use derive_check::syntax::expr::{BinOp, Builtin, Chain, Expr, ExprKind, RelOp, Statement};
use derive_check::syntax::load;
use derive_check::syntax::parser::parse_statement;
use derive_check::verdict::VerdictKind;

fn with_show(original: &str, claim_index: usize, show: &str) -> String {
    let mut doc: toml::Table = toml::from_str(original).expect("the original parses");
    let claims = doc
        .get_mut("claim")
        .and_then(|c| c.as_array_mut())
        .expect("claims");
    let mut claim = claims[claim_index].as_table().unwrap().clone();
    claim.insert("show".into(), toml::Value::String(show.to_string()));
    claim.remove("expect");
    claim.insert("id".into(), toml::Value::String("mutant".into()));
    *claims = vec![toml::Value::Table(claim)];
    toml::to_string(&doc).expect("serializes")
}

fn chain_text(c: &Chain) -> String {
    let mut s = c.terms[0].to_string();
    for (i, (op, _)) in c.ops.iter().enumerate() {
        s = format!("{s} {} {}", op.symbol(), c.terms[i + 1]);
    }
    s
}

fn statement_text(s: &Statement) -> String {
    match s {
        Statement::Chain(c) => chain_text(c),
        Statement::Logic {
            premise,
            logic,
            conclusion,
            ..
        } => format!(
            "{} {} {}",
            premise
                .iter()
                .map(chain_text)
                .collect::<Vec<_>>()
                .join(" and "),
            if *logic == derive_check::syntax::expr::Logic::Implies {
                "=>"
            } else {
                "<=>"
            },
            conclusion
                .iter()
                .map(chain_text)
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}

fn statement_terms(s: &Statement) -> Vec<Expr> {
    match s {
        Statement::Chain(c) => c.terms.clone(),
        Statement::Logic {
            premise,
            conclusion,
            ..
        } => premise
            .iter()
            .chain(conclusion)
            .flat_map(|c| c.terms.clone())
            .collect(),
    }
}

fn plus_one(e: &Expr) -> Expr {
    Expr::binary(BinOp::Add, e.clone(), Expr::int(1))
}

/// Perturbations that make the claim false wherever the original holds.
fn certain_mutants(s: &Statement) -> Vec<Statement> {
    let mut out = Vec::new();
    match s {
        Statement::Chain(c) => {
            let mut m = c.clone();
            let last = m.terms.len() - 1;
            let (op, _) = m.ops[last - 1];
            let prev = m.terms[last - 1].clone();
            let t = m.terms[last].clone();
            let gap = Expr::binary(
                BinOp::Add,
                Expr::int(1),
                Expr::call("abs", vec![Expr::binary(BinOp::Sub, prev, t.clone())]),
            );
            m.terms[last] = match op {
                RelOp::Eq | RelOp::Approx => plus_one(&t),
                RelOp::Le | RelOp::Lt => Expr::binary(BinOp::Sub, t, gap),
                RelOp::Ge | RelOp::Gt => Expr::binary(BinOp::Add, t, gap),
                RelOp::Ne => return out,
            };
            out.push(Statement::Chain(m));
        }
        Statement::Logic {
            premise,
            logic,
            conclusion,
            span,
        } => {
            if conclusion.len() == 1
                && conclusion[0].ops.len() == 1
                && conclusion[0].ops[0].0 == RelOp::Eq
            {
                let mut c = conclusion[0].clone();
                c.terms[1] = plus_one(&c.terms[1]);
                out.push(Statement::Logic {
                    premise: premise.clone(),
                    logic: *logic,
                    conclusion: vec![c],
                    span: *span,
                });
            }
        }
    }
    out
}

/// Rewrites the `k`-th node (in walk order) that `f` changes; returns whether one was changed.
fn rewrite_nth(e: &Expr, k: &mut usize, f: &dyn Fn(&Expr) -> Option<Expr>) -> Expr {
    if let Some(new) = f(e) {
        if *k == 0 {
            *k = usize::MAX;
            return new;
        }
        if *k != usize::MAX {
            *k -= 1;
        }
    }
    let kind = derive_check::resolve::expand::map_children(&e.kind, &mut |c| rewrite_nth(c, k, f));
    Expr::new(kind, e.span)
}

fn map_terms(s: &Statement, f: &mut dyn FnMut(&Expr) -> Expr) -> Statement {
    let map_chain = |c: &Chain, f: &mut dyn FnMut(&Expr) -> Expr| Chain {
        terms: c.terms.iter().map(|t| f(t)).collect(),
        ops: c.ops.clone(),
    };
    match s {
        Statement::Chain(c) => Statement::Chain(map_chain(c, f)),
        Statement::Logic {
            premise,
            logic,
            conclusion,
            span,
        } => Statement::Logic {
            premise: premise.iter().map(|c| map_chain(c, f)).collect(),
            logic: *logic,
            conclusion: conclusion.iter().map(|c| map_chain(c, f)).collect(),
            span: *span,
        },
    }
}

/// Single changes: each produces one mutant per place it applies (at most 4 each).
fn single_mutants(s: &Statement, symbols: &[(String, String)]) -> Vec<Statement> {
    let number: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Number(q) => Some(Expr::rational(
            q + num_rational::BigRational::from_integer(1.into()),
        )),
        _ => None,
    };
    let sign: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Binary(BinOp::Add, a, b) => {
            Some(Expr::binary(BinOp::Sub, (**a).clone(), (**b).clone()))
        }
        ExprKind::Binary(BinOp::Sub, a, b) => {
            Some(Expr::binary(BinOp::Add, (**a).clone(), (**b).clone()))
        }
        _ => None,
    };
    let swap = |e: &Expr| -> Option<Expr> {
        let ExprKind::Name(n) = &e.kind else {
            return None;
        };
        let kind = symbols.iter().find(|(s, _)| s == n)?.1.clone();
        let other = symbols.iter().find(|(s, k)| s != n && *k == kind)?;
        Some(Expr::name(&other.0))
    };
    // A variance read as an expectation, and back.
    let moment: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Builtin {
            op: Builtin::Var,
            args,
            ..
        } if args.len() == 1 => Some(Expr::new(
            ExprKind::Expect(Box::new(args[0].clone())),
            e.span,
        )),
        ExprKind::Expect(a) => Some(Expr::builtin(Builtin::Var, vec![(**a).clone()])),
        _ => None,
    };
    // Matrix products do not commute and transposes matter: both changes
    // are equivalent for scalars (the oracle then skips them).
    let commute: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Binary(BinOp::Mul, a, b) => {
            Some(Expr::binary(BinOp::Mul, (**b).clone(), (**a).clone()))
        }
        _ => None,
    };
    let untranspose: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Transpose(a) => Some((**a).clone()),
        _ => None,
    };
    // An inverse dropped (`A⁻¹`, `A^-1`, `inv(A)` read as `A`).
    let uninvert: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Binary(BinOp::Pow, a, k) if matches!(&k.kind, ExprKind::Number(q) if *q == num_rational::BigRational::from_integer((-1).into())) => {
            Some((**a).clone())
        }
        ExprKind::Builtin {
            op: Builtin::Inv,
            args,
            ..
        } if args.len() == 1 => Some(args[0].clone()),
        _ => None,
    };
    let mut out = Vec::new();
    for f in [
        number,
        sign,
        moment,
        &swap as &dyn Fn(&Expr) -> Option<Expr>,
        commute,
        untranspose,
        uninvert,
    ] {
        for place in 0..4 {
            let mut changed = false;
            let m = map_terms(s, &mut |t| {
                if changed {
                    return t.clone();
                }
                let mut k = place;
                let r = rewrite_nth(t, &mut k, f);
                if k == usize::MAX {
                    changed = true;
                }
                r
            });
            if changed {
                out.push(m);
            }
        }
    }
    out
}

fn verdict_of(text: &str, config: &Config) -> (VerdictKind, String) {
    let file = derive_check::check_source("mutant.toml", text.to_string(), config);
    let v = file
        .claims
        .first()
        .map_or(VerdictKind::Error, |c| c.verdict);
    let (human, _) = common::render(file, config.seed);
    (v, human)
}

/// No perturbation of an accepted claim of the fixture may be accepted.
pub fn fixture(path: &std::path::Path) {
    let files = vec![path.to_path_buf()];
    let oracle = Config {
        symbolic: false,
        budgets: derive_check::config::Budgets {
            samples: 60,
            ..derive_check::config::Budgets::DEFAULT
        },
        ..Config::default()
    };
    let (mut certain, mut single, mut skipped) = (0, 0, 0);
    let mut matrix_rejected = 0;
    let (mut accepted_claims, mut has_matrix_claims) = (0, false);
    let mut accepted = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let report = common::check_file(&path, &Config::default());
        let Ok(d) = load::load("x.toml", text.clone()) else {
            continue;
        };
        let (ctx, _) = resolve_context(&d);
        let symbols: Vec<(String, String)> = ctx
            .symbols
            .values()
            .filter_map(|s| match &s.kind {
                Kind::Scalar(k) => Some((s.name.clone(), k.name().to_string())),
                // Matrices of the same declared size are swapped too.
                Kind::Matrix(r, c) => Some((s.name.clone(), format!("matrix({r}, {c})"))),
                _ => None,
            })
            .collect();
        for (i, claim) in report.claims.iter().enumerate() {
            if !claim.verdict.passes() || claim.expect.is_some_and(|e| !e.passes()) {
                continue;
            }
            let Some(show) = d.claims.get(i).and_then(|c| c.show.as_ref()) else {
                continue;
            };
            let Ok(statement) = parse_statement(&show.text, &ctx) else {
                continue;
            };
            accepted_claims += 1;
            for m in certain_mutants(&statement) {
                certain += 1;
                let mutant = with_show(&text, i, &statement_text(&m));
                let (v, human) = verdict_of(&mutant, &Config::default());
                if v.passes() {
                    accepted.push(format!(
                        "{} claim {} (certain mutant):\n{human}",
                        path.display(),
                        claim.id
                    ));
                }
            }
            let is_matrix_claim = statement_terms(&statement)
                .iter()
                .any(|t| derive_check::resolve::family::involves_matrices(t, &ctx));
            has_matrix_claims |= is_matrix_claim;
            for m in single_mutants(&statement, &symbols) {
                let mutant = with_show(&text, i, &statement_text(&m));
                let (v, human) = verdict_of(&mutant, &Config::default());
                if !v.passes() {
                    single += 1;
                    // Only mutants the independent path refutes count as
                    // real rejections of a matrix claim.
                    if is_matrix_claim && verdict_of(&mutant, &oracle).0 == VerdictKind::Refuted {
                        matrix_rejected += 1;
                    }
                    continue;
                }
                // Accepted: is the mutant false by the independent path?
                let (w, _) = verdict_of(&mutant, &oracle);
                if w == VerdictKind::Refuted {
                    accepted.push(format!(
                        "{} claim {} (single change):\n{human}",
                        path.display(),
                        claim.id
                    ));
                } else {
                    skipped += 1;
                }
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "perturbed claims were accepted:\n{}",
        accepted.join("\n")
    );
    // The machinery must bite: a fixture with accepted claims gets certain
    // mutants, and one with matrix claims gets refuted matrix mutants.
    assert!(
        accepted_claims == 0 || certain > 0,
        "no certain mutant was generated for {}",
        path.display()
    );
    assert!(
        !has_matrix_claims || matrix_rejected > 0,
        "no mutant of a matrix claim of {} was refuted",
        path.display()
    );
    eprintln!("mutants: {certain} certain, {single} single changes rejected ({matrix_rejected} of matrix claims, refuted), {skipped} equivalent or undecided");
}
