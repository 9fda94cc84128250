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
//!   refutes the mutant, the full engine must not accept it. For what the
//!   exact path cannot evaluate yet (`sin`, `cos`, `tan`, repeated `diff`),
//!   a floating-point witness stands in (test code only; the engine never
//!   decides anything by floats): a gap far above rounding at a point of the
//!   domain shows the mutant is false. `sin` ↔ `cos`, a sign flipped inside
//!   `sin`/`cos`/`tan`, and a `diff`'s variable changed are single changes too.
//!   Two entries of a literal matrix swapped is one as well; the float
//!   witness evaluates literal matrices (sums, products, transposes,
//!   scalar multiples, the identity) entry by entry.

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
            // `integral(f, x) = F + C` holds for every constant shift of
            // `F`: its certain change adds the variable instead of 1.
            let mut indefinite = None;
            for term in &c.terms {
                term.walk(&mut |e| {
                    if let Some((Builtin::Integral, args)) = e.as_builtin() {
                        if args.len() == 2 {
                            indefinite = Some(args[1].clone());
                        }
                    }
                });
            }
            m.terms[last] = match op {
                RelOp::Eq | RelOp::Approx if indefinite.is_some() => {
                    Expr::binary(BinOp::Add, t, indefinite.unwrap())
                }
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
        terms: c.terms.iter().map(&mut *f).collect(),
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
    // An elementary function read as its neighbour: sin ↔ cos, tan → sin,
    // exp ↔ log, sigmoid ↔ tanh, sqrt and factorial → their argument.
    let function: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Builtin { op, args, options } if options.is_empty() && args.len() == 1 => {
            let other = match op {
                Builtin::Sin => Builtin::Cos,
                Builtin::Cos | Builtin::Tan => Builtin::Sin,
                Builtin::Exp => Builtin::Log,
                Builtin::Log => Builtin::Exp,
                Builtin::Sigmoid => Builtin::Tanh,
                Builtin::Tanh => Builtin::Sigmoid,
                Builtin::Sqrt | Builtin::Factorial => return Some(args[0].clone()),
                _ => return None,
            };
            Some(Expr::builtin(other, args.clone()))
        }
        _ => None,
    };
    // A sign flipped inside sin/tan, or in front of cos.
    let trig_sign: &dyn Fn(&Expr) -> Option<Expr> = &|e| match e.as_builtin() {
        Some((op @ (Builtin::Sin | Builtin::Tan), args)) => Some(Expr::builtin(
            op,
            vec![Expr::new(
                ExprKind::Neg(Box::new(args[0].clone())),
                args[0].span,
            )],
        )),
        Some((Builtin::Cos, args)) => Some(Expr::new(
            ExprKind::Neg(Box::new(Expr::builtin(Builtin::Cos, args.to_vec()))),
            e.span,
        )),
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
    // Two entries of a literal matrix swapped (the first row's first two,
    // or a column's first two), when they differ.
    let entries: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Matrix(rows) => {
            let mut rows = rows.clone();
            if rows[0].len() >= 2 && rows[0][0].to_string() != rows[0][1].to_string() {
                rows[0].swap(0, 1);
            } else if rows.len() >= 2
                && rows[0].len() == 1
                && rows[0][0].to_string() != rows[1][0].to_string()
            {
                let first = rows[0][0].clone();
                rows[0][0] = rows[1][0].clone();
                rows[1][0] = first;
            } else {
                return None;
            }
            Some(Expr::new(ExprKind::Matrix(rows), e.span))
        }
        _ => None,
    };
    let mut out = Vec::new();
    for f in [
        number,
        entries,
        sign,
        function,
        moment,
        &swap as &dyn Fn(&Expr) -> Option<Expr>,
        commute,
        untranspose,
        trig_sign,
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

fn is_derivative(op: Builtin) -> bool {
    matches!(op, Builtin::Grad | Builtin::Hessian | Builtin::Jacobian)
}

/// Does the statement take a matrix derivative (`grad`, `hessian`, `jacobian`)?
fn takes_gradients(s: &Statement) -> bool {
    let mut found = false;
    for t in statement_terms(s) {
        t.walk(&mut |e| {
            if matches!(e.as_builtin(), Some((op, _)) if is_derivative(op)) {
                found = true;
            }
        });
    }
    found
}

/// `e` with a transpose put on the first square matrix symbol (in walk
/// order) that is not already transposed; `None` if there is none.
fn transpose_first(e: &Expr, square: &dyn Fn(&str) -> bool) -> Option<Expr> {
    match &e.kind {
        ExprKind::Name(n) if square(n) => {
            return Some(Expr::new(ExprKind::Transpose(Box::new(e.clone())), e.span))
        }
        ExprKind::Transpose(a) if matches!(a.kind, ExprKind::Name(_)) => return None,
        _ => {}
    }
    let mut done = false;
    let kind = derive_check::resolve::expand::map_children(&e.kind, &mut |c| {
        if done {
            return c.clone();
        }
        match transpose_first(c, square) {
            Some(x) => {
                done = true;
                x
            }
            None => c.clone(),
        }
    });
    done.then(|| Expr::new(kind, e.span))
}

/// Single changes aimed at matrix derivatives, kept whatever the cap on a
/// claim's single changes: the factor 2 of a gradient's result dropped
/// (`2 S x` read as `S x`), a transpose dropped inside `grad` (also among
/// the general changes) and one inserted there (`xᵀ A x` read as `xᵀ Aᵀ x`).
fn gradient_mutants(s: &Statement, symbols: &[(String, String)]) -> Vec<Statement> {
    if !takes_gradients(s) {
        return Vec::new();
    }
    let square = |n: &str| {
        symbols.iter().any(|(name, kind)| {
            name == n
                && kind
                    .strip_prefix("matrix(")
                    .and_then(|k| k.strip_suffix(')'))
                    .and_then(|k| k.split_once(", "))
                    .is_some_and(|(r, c)| r == c)
        })
    };
    let drop_two: &dyn Fn(&Expr) -> Option<Expr> = &|e| match &e.kind {
        ExprKind::Binary(BinOp::Mul, a, b) if matches!(&a.kind, ExprKind::Number(q) if *q == num_rational::BigRational::from_integer(2.into())) => {
            Some((**b).clone())
        }
        _ => None,
    };
    let untranspose_inside: &dyn Fn(&Expr) -> Option<Expr> = &|e| match e.as_builtin() {
        Some((op, args)) if is_derivative(op) => {
            let mut k = 0;
            let f = |x: &Expr| match &x.kind {
                ExprKind::Transpose(a) => Some((**a).clone()),
                _ => None,
            };
            let inner = rewrite_nth(&args[0], &mut k, &f);
            (k == usize::MAX).then(|| {
                let mut args = args.to_vec();
                args[0] = inner;
                Expr::builtin(op, args)
            })
        }
        _ => None,
    };
    let transpose_inside: &dyn Fn(&Expr) -> Option<Expr> = &|e| match e.as_builtin() {
        Some((op, args)) if is_derivative(op) => {
            let inner = transpose_first(&args[0], &square)?;
            let mut args = args.to_vec();
            args[0] = inner;
            Some(Expr::builtin(op, args))
        }
        _ => None,
    };
    let mut out = Vec::new();
    for f in [drop_two, untranspose_inside, transpose_inside] {
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

/// The verdicts and human reports of many one-claim mutant files, checked
/// as one batch (claims in parallel, as the CLI checks a folder).
fn verdicts_of(texts: &[String], config: &Config) -> Vec<(VerdictKind, String)> {
    let inputs = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("mutant{i}.toml"), t.clone()))
        .collect();
    derive_check::check_sources(inputs, config)
        .into_iter()
        .map(|file| {
            let v = file
                .claims
                .first()
                .map_or(VerdictKind::Error, |c| c.verdict);
            let (human, _) = common::render(file, config.seed);
            (v, human)
        })
        .collect()
}

/// At most this many single-change mutants per matrix claim (their checks
/// sample matrices, about a second apiece): chosen evenly over the list, so
/// that every kind of change (product swapped, transpose dropped, matrix
/// exchanged, number perturbed) stays represented.
const MATRIX_SINGLES: usize = 12;

/// Every `len / cap`-th item (all of them when `len <= cap`).
fn spread<T>(items: Vec<T>, cap: usize) -> Vec<T> {
    let len = items.len();
    if len <= cap {
        return items;
    }
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i * cap / len != (i + 1) * cap / len)
        .map(|(_, x)| x)
        .collect()
}

/// One mutant to check, and what it came from.
struct Mutant {
    claim: String,
    text: String,
    certain: bool,
    matrix: bool,
}

/// No perturbation of an accepted claim of the fixture may be accepted.
pub fn fixture(path: &std::path::Path) {
    let oracle = Config {
        symbolic: false,
        budgets: derive_check::config::Budgets {
            samples: 60,
            ..derive_check::config::Budgets::DEFAULT
        },
        ..Config::default()
    };
    let text = std::fs::read_to_string(path).unwrap();
    let report = common::check_file(path, &Config::default());
    let Ok(d) = load::load("x.toml", text.clone()) else {
        return;
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
    let (mut accepted_claims, mut has_matrix_claims) = (0, false);
    let mut mutants = Vec::new();
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
        let matrix = statement_terms(&statement)
            .iter()
            .any(|t| derive_check::resolve::family::involves_matrices(t, &ctx));
        has_matrix_claims |= matrix;
        for m in certain_mutants(&statement) {
            mutants.push(Mutant {
                claim: claim.id.clone(),
                text: with_show(&text, i, &statement_text(&m)),
                certain: true,
                matrix,
            });
        }
        let singles = single_mutants(&statement, &symbols);
        let mut singles = if matrix {
            spread(singles, MATRIX_SINGLES)
        } else {
            singles
        };
        singles.extend(gradient_mutants(&statement, &symbols));
        for m in singles {
            mutants.push(Mutant {
                claim: claim.id.clone(),
                text: with_show(&text, i, &statement_text(&m)),
                certain: false,
                matrix,
            });
        }
    }
    let texts: Vec<String> = mutants.iter().map(|m| m.text.clone()).collect();
    let verdicts = verdicts_of(&texts, &Config::default());
    let mut accepted = Vec::new();
    let (mut certain, mut single) = (0, 0);
    // Second pass, by the independent path: accepted single changes (are
    // they false?) and a few rejected matrix mutants (is one refuted?).
    let mut to_oracle = Vec::new();
    let mut matrix_candidates = 0;
    for (k, (m, (v, human))) in mutants.iter().zip(&verdicts).enumerate() {
        if m.certain {
            certain += 1;
            if v.passes() {
                accepted.push(format!(
                    "{} claim {} (certain mutant):\n{human}",
                    path.display(),
                    m.claim
                ));
            }
        } else if v.passes() {
            to_oracle.push(k);
        } else {
            single += 1;
            if m.matrix && matrix_candidates < 6 {
                matrix_candidates += 1;
                to_oracle.push(k);
            }
        }
    }
    let oracle_texts: Vec<String> = to_oracle.iter().map(|&k| mutants[k].text.clone()).collect();
    let oracle_verdicts = verdicts_of(&oracle_texts, &oracle);
    let (mut matrix_rejected, mut skipped) = (0, 0);
    for (&k, (w, _)) in to_oracle.iter().zip(&oracle_verdicts) {
        let m = &mutants[k];
        let (v, human) = &verdicts[k];
        if v.passes() {
            if *w == VerdictKind::Refuted || float_refutes(&m.text) {
                accepted.push(format!(
                    "{} claim {} (single change):\n{human}",
                    path.display(),
                    m.claim
                ));
            } else {
                skipped += 1;
                // `MUTANT_DEBUG=1` lists the accepted mutants that the
                // independent path could not show false (to review by hand).
                if std::env::var_os("MUTANT_DEBUG").is_some() {
                    let step = human.lines().find(|l| l.contains("1. ")).unwrap_or("");
                    eprintln!("accepted, not shown false: {} {step}", m.claim);
                }
            }
        } else if *w == VerdictKind::Refuted {
            matrix_rejected += 1;
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
    eprintln!("mutants: {certain} certain, {single} single changes rejected ({matrix_rejected} of matrix claims refuted by the independent path), {skipped} equivalent or undecided");
}

/// A floating-point witness that the mutant's (single) claim is false: some
/// step `a = b` whose sides differ at a point that meets every `where`
/// condition, by far more than rounding (relative gap over 1e-4; `diff` by
/// central differences). Test code only, for the constructs the exact
/// oracle cannot evaluate; `false` whenever anything is not evaluable.
fn float_refutes(text: &str) -> bool {
    use std::collections::BTreeMap;
    let Ok(d) = load::load("mutant.toml", text.to_string()) else {
        return false;
    };
    let (ctx, _) = resolve_context(&d);
    let claim = derive_check::resolve::resolve_claim(&d, &ctx, 0);
    let Ok(body) = &claim.body else { return false };
    let Statement::Chain(chain) = &body.statement else {
        return false;
    };
    if !body.given.is_empty() {
        return false;
    }
    let expand = |e: &Expr| derive_check::resolve::expand::expand_definitions(e, &ctx).ok();
    let symbols: Vec<(String, String)> = ctx
        .symbols
        .values()
        .filter_map(|s| match &s.kind {
            Kind::Scalar(k) => Some((s.name.clone(), k.name().to_string())),
            _ => None,
        })
        .collect();
    let conditions: Vec<Expr> = body.conditions.iter().filter_map(expand).collect();
    for round in 0..12u32 {
        let mut env = BTreeMap::new();
        for (i, (name, kind)) in symbols.iter().enumerate() {
            let t = ((round as f64 + 1.0) * 0.618_034 + i as f64 * 0.414_214).fract();
            let v = match kind.as_str() {
                "positive" | "nonnegative" => 0.05 + 2.5 * t,
                k if k.contains("integer") => (1.0 + (t * 5.0).floor()).max(1.0),
                _ => 4.0 * t - 2.0,
            };
            env.insert(name.clone(), v);
        }
        if !conditions
            .iter()
            .all(|c| float_holds(c, &env) == Some(true))
        {
            continue;
        }
        for (i, (op, _)) in chain.ops.iter().enumerate() {
            if *op != RelOp::Eq {
                continue;
            }
            let (Some(a), Some(b)) = (expand(&chain.terms[i]), expand(&chain.terms[i + 1])) else {
                continue;
            };
            if let (Some(x), Some(y)) = (float_value(&a, &env), float_value(&b, &env)) {
                if x.is_finite()
                    && y.is_finite()
                    && (x - y).abs() > 1e-4 * (1.0 + x.abs() + y.abs())
                {
                    return true;
                }
            }
            // Literal matrices, entry by entry.
            if let (Some(x), Some(y)) = (float_mat(&a, &env, &ctx), float_mat(&b, &env, &ctx)) {
                if float_mats_differ(&x, &y) {
                    return true;
                }
            }
        }
    }
    false
}

fn float_holds(c: &Expr, env: &std::collections::BTreeMap<String, f64>) -> Option<bool> {
    match &c.kind {
        ExprKind::And(parts) => {
            let mut all = true;
            for p in parts {
                all &= float_holds(p, env)?;
            }
            Some(all)
        }
        ExprKind::Compare(items, ops) => {
            let mut ok = true;
            for (i, op) in ops.iter().enumerate() {
                let (a, b) = (
                    float_value(&items[i], env)?,
                    float_value(&items[i + 1], env)?,
                );
                ok &= match op {
                    RelOp::Lt => a < b,
                    RelOp::Le => a <= b,
                    RelOp::Gt => a > b,
                    RelOp::Ge => a >= b,
                    RelOp::Eq => a == b,
                    RelOp::Ne => a != b,
                    RelOp::Approx => return None,
                };
            }
            Some(ok)
        }
        _ => None,
    }
}

fn float_value(e: &Expr, env: &std::collections::BTreeMap<String, f64>) -> Option<f64> {
    use num_traits::ToPrimitive;
    let v = |x: &Expr| float_value(x, env);
    Some(match &e.kind {
        ExprKind::Number(q) => q.to_f64()?,
        ExprKind::Name(n) => *env.get(n)?,
        ExprKind::Neg(a) => -v(a)?,
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (v(a)?, v(b)?);
            match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Pow => x.powf(y),
            }
        }
        ExprKind::Builtin { op, args, .. } => {
            if *op == Builtin::Diff {
                // diff(f, v, w, ...) = diff(diff(f, v), w, ...), by central differences.
                let ExprKind::Name(var) = &args[args.len() - 1].kind else {
                    return None;
                };
                let inner = if args.len() == 2 {
                    args[0].clone()
                } else {
                    Expr::builtin(Builtin::Diff, args[..args.len() - 1].to_vec())
                };
                // Central differences with one Richardson step (error
                // O(h^4)), the step scaled to the point (σ = 0.05 needs a
                // step far below 10^-3).
                let x0 = *env.get(var)?;
                let central = |h: f64| -> Option<f64> {
                    let mut at = env.clone();
                    at.insert(var.clone(), x0 + h);
                    let up = float_value(&inner, &at)?;
                    at.insert(var.clone(), x0 - h);
                    let down = float_value(&inner, &at)?;
                    Some((up - down) / (2.0 * h))
                };
                let h = 1e-3 * x0.abs().max(0.05);
                let (coarse, fine) = (central(h)?, central(h / 2.0)?);
                return Some((4.0 * fine - coarse) / 3.0);
            }
            let x = || v(&args[0]);
            match op {
                Builtin::Pi => std::f64::consts::PI,
                Builtin::E => std::f64::consts::E,
                Builtin::Sqrt => x()?.sqrt(),
                Builtin::Abs => x()?.abs(),
                Builtin::Exp => x()?.exp(),
                Builtin::Log => x()?.ln(),
                Builtin::Sin => x()?.sin(),
                Builtin::Cos => x()?.cos(),
                Builtin::Tan => x()?.tan(),
                Builtin::Sinh => x()?.sinh(),
                Builtin::Cosh => x()?.cosh(),
                Builtin::Tanh => x()?.tanh(),
                Builtin::Sigmoid => 1.0 / (1.0 + (-x()?).exp()),
                Builtin::Softplus => (1.0 + x()?.exp()).ln(),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// A floating-point value of a step's side built from matrix literals: a
/// scalar, a matrix, or the identity of whatever size it meets (test code
/// only, for the float witness).
#[derive(Clone, Debug)]
enum FloatMat {
    S(f64),
    M(Vec<Vec<f64>>),
    I,
}

fn identity_like(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..m.len())
        .map(|i| {
            (0..m[0].len())
                .map(|j| f64::from(u8::from(i == j)))
                .collect()
        })
        .collect()
}

fn float_mat(
    e: &Expr,
    env: &std::collections::BTreeMap<String, f64>,
    ctx: &derive_check::resolve::Context,
) -> Option<FloatMat> {
    use FloatMat::{I, M, S};
    let v = |x: &Expr| float_mat(x, env, ctx);
    let zip =
        |a: &[Vec<f64>], b: &[Vec<f64>], f: &dyn Fn(f64, f64) -> f64| -> Option<Vec<Vec<f64>>> {
            (a.len() == b.len() && a[0].len() == b[0].len()).then(|| {
                a.iter()
                    .zip(b)
                    .map(|(r, s)| r.iter().zip(s).map(|(x, y)| f(*x, *y)).collect())
                    .collect()
            })
        };
    Some(match &e.kind {
        ExprKind::Matrix(rows) => M(rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|x| float_value(x, env))
                    .collect::<Option<Vec<f64>>>()
            })
            .collect::<Option<_>>()?),
        ExprKind::Name(n)
            if matches!(ctx.symbols.get(n).map(|s| &s.kind), Some(Kind::Identity)) =>
        {
            I
        }
        ExprKind::Transpose(a) => match v(a)? {
            M(m) => M((0..m[0].len())
                .map(|j| m.iter().map(|r| r[j]).collect())
                .collect()),
            other => other,
        },
        ExprKind::Neg(a) => match v(a)? {
            S(x) => S(-x),
            M(m) => M(m
                .into_iter()
                .map(|r| r.into_iter().map(|x| -x).collect())
                .collect()),
            I => return None,
        },
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (v(a)?, v(b)?);
            match (op, x, y) {
                (_, S(p), S(q)) => S(match op {
                    BinOp::Add => p + q,
                    BinOp::Sub => p - q,
                    BinOp::Mul => p * q,
                    BinOp::Div => p / q,
                    BinOp::Pow => p.powf(q),
                }),
                (BinOp::Add, M(p), M(q)) => M(zip(&p, &q, &|x, y| x + y)?),
                (BinOp::Sub, M(p), M(q)) => M(zip(&p, &q, &|x, y| x - y)?),
                (BinOp::Add, M(p), I) | (BinOp::Add, I, M(p)) => {
                    M(zip(&p, &identity_like(&p), &|x, y| x + y)?)
                }
                (BinOp::Sub, M(p), I) => M(zip(&p, &identity_like(&p), &|x, y| x - y)?),
                (BinOp::Sub, I, M(p)) => M(zip(&identity_like(&p), &p, &|x, y| x - y)?),
                (BinOp::Mul, S(k), M(m)) | (BinOp::Mul, M(m), S(k)) => M(m
                    .into_iter()
                    .map(|r| r.into_iter().map(|x| k * x).collect())
                    .collect()),
                (BinOp::Div, M(m), S(k)) => M(m
                    .into_iter()
                    .map(|r| r.into_iter().map(|x| x / k).collect())
                    .collect()),
                (BinOp::Mul, M(p), I) | (BinOp::Mul, I, M(p)) => M(p),
                (BinOp::Mul, I, I) => I,
                (BinOp::Mul, M(p), M(q)) => {
                    if p[0].len() != q.len() {
                        return None;
                    }
                    M(p.iter()
                        .map(|r| {
                            (0..q[0].len())
                                .map(|j| r.iter().zip(&q).map(|(x, row)| x * row[j]).sum())
                                .collect()
                        })
                        .collect())
                }
                _ => return None,
            }
        }
        _ => S(float_value(e, env)?),
    })
}

/// Do two float values of matrix sides differ far beyond rounding?
fn float_mats_differ(a: &FloatMat, b: &FloatMat) -> bool {
    let (p, q) = match (a, b) {
        (FloatMat::M(p), FloatMat::M(q)) => (p.clone(), q.clone()),
        (FloatMat::M(p), FloatMat::I) => (p.clone(), identity_like(p)),
        (FloatMat::I, FloatMat::M(q)) => (identity_like(q), q.clone()),
        _ => return false,
    };
    if p.len() != q.len() || p[0].len() != q[0].len() {
        return false;
    }
    p.iter().flatten().zip(q.iter().flatten()).any(|(x, y)| {
        x.is_finite() && y.is_finite() && (x - y).abs() > 1e-4 * (1.0 + x.abs() + y.abs())
    })
}
