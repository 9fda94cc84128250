//! Key files: a derivation file (its `[symbols]` and `[define]` read the
//! results) plus one `[[answer]]` per graded part, loaded into parsed
//! values: each part's expected result, `where` and `given` are
//! expressions of the key's own [`Context`].

use crate::resolve::{self, Context};
use crate::syntax::expr::{Expr, ExprKind, RelOp};
use crate::syntax::load::{self, Located};
use crate::syntax::parser;
use crate::syntax::source::{Diagnostic, Location};

/// How a part is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Full points when the final result is right.
    Final,
    /// Full points when the final result is right and every step is valid (the default).
    AllSteps,
    /// Points in proportion to the valid steps, the final result counting as one more step.
    PerStep,
}

impl Rule {
    /// Reads a rule name.
    pub fn parse(s: &str) -> Option<Rule> {
        Some(match s {
            "final" => Rule::Final,
            "all-steps" => Rule::AllSteps,
            "per-step" => Rule::PerStep,
            _ => return None,
        })
    }

    /// The rule's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Final => "final",
            Rule::AllSteps => "all-steps",
            Rule::PerStep => "per-step",
        }
    }
}

/// One graded part of a key.
#[derive(Clone, Debug)]
pub struct Part {
    /// The claim id it grades.
    pub id: String,
    /// The expected final result, as written (for reports to graders).
    pub result_text: String,
    /// The expected final result, parsed in the key's context.
    pub result: Expr,
    /// The question's `where` for this part (comparisons), parsed.
    pub conditions: Vec<Expr>,
    /// The question's `given` for this part, parsed.
    pub given: Vec<Expr>,
    /// Its points.
    pub points: f64,
    /// Its scoring rule.
    pub rule: Rule,
    /// May students see the expected result and counterexamples built from
    /// it? Default: false (the key's `show_expected`, else false).
    pub show_expected: bool,
}

/// A loaded key.
#[derive(Clone, Debug)]
pub struct Key {
    /// The key's path.
    pub path: String,
    /// Its title (the default assignment name in gradebooks).
    pub title: String,
    /// Its declarations and definitions, resolved.
    pub context: Context,
    /// The parts, in file order.
    pub parts: Vec<Part>,
}

fn diag(path: &str, location: Location, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: path.to_string(),
        location,
        message: message.into(),
    }
}

/// Loads and validates a key file: `Err` with file, line and column when it is unusable.
pub fn load_key(path: &str, text: String) -> Result<Key, Diagnostic> {
    let ks = load::load_key(path, text)?;
    let d = &ks.derivation;
    if let Some(p) = d.problems.first() {
        return Err(p.clone());
    }
    let (ctx, problems) = resolve::resolve_context(d);
    if let Some(p) = problems.first() {
        return Err(p.clone());
    }
    let rule_of = |l: &Located| {
        Rule::parse(l.text.trim()).ok_or_else(|| {
            let message = format!(
                "unknown rule `{}` (rules: final, all-steps, per-step)",
                l.text
            );
            diag(path, l.location, message)
        })
    };
    let default_rule = match &ks.rule {
        None => Rule::AllSteps,
        Some(l) => rule_of(l)?,
    };
    if ks.answers.is_empty() {
        return Err(diag(
            path,
            Location { line: 1, column: 1 },
            "the key has no `[[answer]]`",
        ));
    }
    // Every expression of a part is read with the key's names; a problem is
    // located inside its string.
    let located = |l: &Located, id: &str, what: &str, e: parser::ParseError| {
        let at = d.source.location(l.offset + e.span.start);
        diag(path, at, format!("in the {what} of `{id}`: {}", e.message))
    };
    let mut parts: Vec<Part> = Vec::new();
    for a in &ks.answers {
        if parts.iter().any(|p| p.id == a.id) {
            return Err(diag(path, a.location, format!("duplicate part `{}`", a.id)));
        }
        let rule = match &a.rule {
            None => default_rule,
            Some(l) => rule_of(l)?,
        };
        let result = parser::parse_expr(&a.result.text, &ctx, &[])
            .map_err(|e| located(&a.result, &a.id, "result", e))?;
        let conditions = match &a.where_ {
            None => Vec::new(),
            Some(w) => parser::parse_condition(&w.text, &ctx)
                .map_err(|e| located(w, &a.id, "`where`", e))?,
        };
        let mut given = Vec::new();
        for g in &a.given {
            let parsed = parser::parse_condition(&g.text, &ctx)
                .map_err(|e| located(g, &a.id, "`given`", e))?;
            if parsed.iter().any(is_approximate) {
                return Err(diag(path, g.location, "`≈` cannot be a hypothesis"));
            }
            given.extend(parsed);
        }
        parts.push(Part {
            id: a.id.clone(),
            result_text: a.result.text.clone(),
            result,
            conditions,
            given,
            points: a.points,
            rule,
            show_expected: a.show_expected.or(ks.show_expected).unwrap_or(false),
        });
    }
    Ok(Key {
        path: path.to_string(),
        title: d.title.clone(),
        context: ctx,
        parts,
    })
}

fn is_approximate(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Compare(_, ops) if ops.contains(&RelOp::Approx))
}
