//! Grading: answer files checked against a key. A key file is a derivation
//! file plus `[[answer]]` tables (`id`, `result`, `points`, optional `rule`);
//! for each part the submission's claim with that id is found, its final
//! result is checked equal to the key's with the same engine, every step of
//! its chain is checked, and a score is computed by the part's rule.

use crate::config::Config;
use crate::report::{ClaimReport, FileReport, StepReport};
use crate::resolve;
use crate::syntax::expr::Statement;
use crate::syntax::load::{self, Located};
use crate::syntax::source::{Diagnostic, Location};
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
    /// The expected final result, as written.
    pub result: String,
    /// Its points.
    pub points: f64,
    /// Its scoring rule.
    pub rule: Rule,
    /// The key's names the result uses (through definitions too).
    pub names: Vec<String>,
}

/// A loaded key.
#[derive(Clone, Debug)]
pub struct Key {
    /// The key's path.
    pub path: String,
    /// Its title.
    pub title: String,
    /// Its `[symbols]`, merged into each final-result check.
    pub symbols: toml::Table,
    /// Its `[define]`, merged likewise.
    pub define: toml::Table,
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
    let ks = load::load_key(path, text.clone())?;
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
    let mut parts: Vec<Part> = Vec::new();
    for a in &ks.answers {
        if parts.iter().any(|p| p.id == a.id) {
            return Err(diag(path, a.location, format!("duplicate part `{}`", a.id)));
        }
        let rule = match &a.rule {
            None => default_rule,
            Some(l) => rule_of(l)?,
        };
        let parsed = match crate::syntax::parser::parse_expr(&a.result.text, &ctx, &[]) {
            Ok(e) => e,
            Err(e) => {
                let at = d.source.location(a.result.offset + e.span.start);
                let message = format!("in the result of `{}`: {}", a.id, e.message);
                return Err(diag(path, at, message));
            }
        };
        // The key's names the result uses, through definitions too.
        let mut names = Vec::new();
        resolve::names_in(&parsed, &mut names);
        let mut i = 0;
        while i < names.len() {
            if let Some(def) = ctx.definitions.get(&names[i]) {
                resolve::names_in(&def.body, &mut names);
            }
            i += 1;
        }
        names.retain(|n| ctx.symbols.contains_key(n) || ctx.definitions.contains_key(n));
        parts.push(Part {
            id: a.id.clone(),
            result: a.result.text.clone(),
            points: a.points,
            rule,
            names,
        });
    }
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| diag(path, Location { line: 1, column: 1 }, e.to_string()))?;
    let get = |k: &str| {
        table
            .get(k)
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default()
    };
    Ok(Key {
        path: path.to_string(),
        title: d.title.clone(),
        symbols: get("symbols"),
        define: get("define"),
        parts,
    })
}

/// The first step of a claim that is not valid, with its position (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidStep {
    /// Which step.
    pub index: usize,
    /// The step as checked.
    pub step: StepReport,
}

/// The grade of one part.
#[derive(Clone, Debug, PartialEq)]
pub struct PartGrade {
    /// The part's id.
    pub id: String,
    /// Points earned.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// The rule applied.
    pub rule: Rule,
    /// The final result's check against the key (absent when the part is missing).
    pub final_check: Option<StepReport>,
    /// Valid steps of the answer's chain.
    pub steps_valid: usize,
    /// All steps of the answer's chain.
    pub steps_total: usize,
    /// The first invalid step, if any.
    pub first_invalid: Option<InvalidStep>,
    /// A note for the student (missing part, unreadable claim...).
    pub note: String,
}

/// The grade of one submission.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionGrade {
    /// The submission's name (its path).
    pub name: String,
    /// One grade per key part, in key order.
    pub parts: Vec<PartGrade>,
    /// Problems with the submission's files.
    pub problems: Vec<String>,
}

impl SubmissionGrade {
    /// Points earned in all.
    pub fn score(&self) -> f64 {
        self.parts.iter().map(|p| p.score).sum()
    }

    /// Points possible in all.
    pub fn max_score(&self) -> f64 {
        self.parts.iter().map(|p| p.max_score).sum()
    }
}

/// A whole grading run.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradebook {
    /// The key's path.
    pub key: String,
    /// The seed.
    pub seed: u64,
    /// The part ids, in key order.
    pub part_ids: Vec<String>,
    /// One grade per submission.
    pub submissions: Vec<SubmissionGrade>,
}

/// Remembers reports of texts already checked (identical answers in a batch
/// are checked once). Determinism is kept: the same text gives the same report.
#[derive(Default)]
pub struct Memo {
    reports: BTreeMap<(String, String), FileReport>,
}

impl Memo {
    fn check(&mut self, path: &str, text: &str, cfg: &Config) -> FileReport {
        let key = (text.to_string(), cfg.seed.to_string());
        if let Some(r) = self.reports.get(&key) {
            let mut r = r.clone();
            r.path = path.to_string();
            return r;
        }
        let r = crate::check_source(path, text.to_string(), cfg);
        self.reports.insert(key, r.clone());
        r
    }
}

/// The text of the final term of a claim's `show`, as written.
fn final_term(show: &Located, statement: &Statement) -> Option<String> {
    let chain = match statement {
        Statement::Chain(c) => c,
        Statement::Logic { conclusion, .. } => conclusion.last()?,
    };
    let last = chain.terms.last()?;
    show.text
        .get(last.span.start..last.span.end)
        .map(|s| s.trim().to_string())
}

struct Found<'a> {
    path: String,
    text: &'a str,
    claim_index: usize,
    report: ClaimReport,
}

/// Grades one submission (its files: path and text) against the key.
pub fn grade_submission(
    key: &Key,
    name: &str,
    files: &[(String, String)],
    cfg: &Config,
    memo: &mut Memo,
) -> SubmissionGrade {
    let mut problems = Vec::new();
    let mut found: BTreeMap<String, Vec<Found<'_>>> = BTreeMap::new();
    for (path, text) in files {
        let report = memo.check(path, text, cfg);
        if let Some(d) = &report.failure {
            problems.push(format!("{d}"));
            continue;
        }
        for (i, c) in report.claims.iter().enumerate() {
            found.entry(c.id.clone()).or_default().push(Found {
                path: path.clone(),
                text,
                claim_index: i,
                report: c.clone(),
            });
        }
    }
    let parts = key
        .parts
        .iter()
        .map(|part| {
            grade_part(
                key,
                part,
                found.get(&part.id).map(|v| v.as_slice()).unwrap_or(&[]),
                cfg,
                memo,
            )
        })
        .collect();
    SubmissionGrade {
        name: name.to_string(),
        parts,
        problems,
    }
}

fn zero(part: &Part, note: String) -> PartGrade {
    PartGrade {
        id: part.id.clone(),
        score: 0.0,
        max_score: part.points,
        rule: part.rule,
        final_check: None,
        steps_valid: 0,
        steps_total: 0,
        first_invalid: None,
        note,
    }
}

fn grade_part(
    key: &Key,
    part: &Part,
    found: &[Found<'_>],
    cfg: &Config,
    memo: &mut Memo,
) -> PartGrade {
    let f = match found {
        [] => {
            return zero(
                part,
                format!("missing: no claim with id `{}` in this submission", part.id),
            )
        }
        [f] => f,
        [a, b, ..] => {
            return zero(
                part,
                format!(
                    "claim id `{}` appears more than once (in {} and {})",
                    part.id, a.path, b.path
                ),
            )
        }
    };
    let claim = &f.report;
    if claim.verdict == VerdictKind::Error {
        let msg = claim
            .error
            .as_ref()
            .map(|(l, m)| format!("{}:{}:{}: {m}", f.path, l.line, l.column))
            .unwrap_or_default();
        return zero(part, format!("the claim could not be checked: {msg}"));
    }
    // The answer's final term, against the key's result.
    let Ok(d) = load::load(&f.path, f.text.to_string()) else {
        return zero(part, "the answer file could not be read".into());
    };
    let (ctx, _) = resolve::resolve_context(&d);
    let resolved = resolve::resolve_claim(&d, &ctx, f.claim_index);
    let (Ok(body), Some(src)) = (&resolved.body, d.claims.get(f.claim_index)) else {
        return zero(part, "the claim could not be read".into());
    };
    let Some(last) = final_term(&body.show, &body.statement) else {
        return zero(part, "the claim has no final term".into());
    };
    let final_check = check_final(key, part, f.text, src, &last, cfg, memo);
    let steps_total = claim.steps.len();
    let steps_valid = claim
        .steps
        .iter()
        .filter(|s| s.verdict.kind().passes())
        .count();
    let first_invalid = claim
        .steps
        .iter()
        .position(|s| !s.verdict.kind().passes())
        .map(|i| InvalidStep {
            index: i + 1,
            step: claim.steps[i].clone(),
        });
    let final_ok = final_check
        .as_ref()
        .is_some_and(|s| s.verdict.kind().passes());
    let score = match part.rule {
        Rule::Final => {
            if final_ok {
                part.points
            } else {
                0.0
            }
        }
        Rule::AllSteps => {
            if final_ok && first_invalid.is_none() {
                part.points
            } else {
                0.0
            }
        }
        Rule::PerStep => {
            part.points * (steps_valid + usize::from(final_ok)) as f64 / (steps_total + 1) as f64
        }
    };
    let note = match (&final_check, final_ok, &first_invalid) {
        (None, _, _) => "the final result could not be compared with the key".to_string(),
        (Some(_), true, None) => String::new(),
        (Some(_), true, Some(s)) => format!(
            "the final result is right, but step {} does not follow",
            s.index
        ),
        (Some(_), false, _) => "the final result does not match the key".to_string(),
    };
    PartGrade {
        id: part.id.clone(),
        score,
        max_score: part.points,
        rule: part.rule,
        final_check,
        steps_valid,
        steps_total,
        first_invalid,
        note,
    }
}

/// Checks `(last) = (result)` in the answer's own declarations, with the
/// key's symbols and definitions added where the answer lacks them, under
/// the answer claim's `where` and `given`.
fn check_final(
    key: &Key,
    part: &Part,
    text: &str,
    src: &load::ClaimSource,
    last: &str,
    cfg: &Config,
    memo: &mut Memo,
) -> Option<StepReport> {
    let mut table: toml::Table = toml::from_str(text).ok()?;
    // Add only the key's names that the result uses and the answer lacks,
    // so the answer's own declarations and definitions stay as they are.
    let head = |k: &str| k.split('(').next().map(str::trim).unwrap_or("").to_string();
    let declared = |t: &toml::Table, name: &str| {
        ["symbols", "define"].iter().any(|section| {
            t.get(*section)
                .and_then(|s| s.as_table())
                .is_some_and(|s| s.keys().any(|k| head(k) == name))
        })
    };
    let mut additions: Vec<(&str, String, toml::Value)> = Vec::new();
    for name in &part.names {
        if declared(&table, name) {
            continue;
        }
        if let Some(v) = key.symbols.get(name) {
            additions.push(("symbols", name.clone(), v.clone()));
        }
        for (k, v) in &key.define {
            if head(k) == *name {
                additions.push(("define", k.clone(), v.clone()));
            }
        }
    }
    for (section, k, v) in additions {
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        entry.as_table_mut()?.insert(k, v);
    }
    let mut claim = toml::Table::new();
    claim.insert(
        "id".into(),
        toml::Value::String(format!("{}.final", part.id)),
    );
    claim.insert(
        "show".into(),
        toml::Value::String(format!("({last}) = ({})", part.result)),
    );
    if let Some(w) = &src.where_ {
        claim.insert("where".into(), toml::Value::String(w.text.clone()));
    }
    if !src.given.is_empty() {
        claim.insert(
            "given".into(),
            toml::Value::Array(
                src.given
                    .iter()
                    .map(|g| toml::Value::String(g.text.clone()))
                    .collect(),
            ),
        );
    }
    table.insert(
        "claim".into(),
        toml::Value::Array(vec![toml::Value::Table(claim)]),
    );
    let synthetic = toml::to_string(&table).ok()?;
    let report = memo.check(
        &format!("{} (final result of {})", key.path, part.id),
        &synthetic,
        cfg,
    );
    let c = report.claims.first()?;
    if c.verdict == VerdictKind::Error {
        let mut step = c.steps.first().cloned().unwrap_or(StepReport {
            lhs: last.to_string(),
            relation: "=".into(),
            rhs: part.result.clone(),
            verdict: crate::verdict::Verdict::error("", None),
        });
        step.verdict = crate::verdict::Verdict::error(
            c.error.as_ref().map(|(_, m)| m.clone()).unwrap_or_default(),
            None,
        );
        return Some(step);
    }
    c.steps.first().cloned()
}

fn points(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn step_line(s: &StepReport) -> String {
    let mut out = format!(
        "{} {} {}: {}",
        s.lhs,
        s.relation,
        s.rhs,
        s.verdict.kind().as_str()
    );
    if let Some(method) = s.verdict.method() {
        let _ = write!(out, " ({method})");
    }
    if let Some(ce) = s.verdict.counterexample() {
        let point = ce
            .values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        if ce.mismatches.is_empty() {
            let _ = write!(
                out,
                "; counterexample {point}: lhs = {}, rhs = {}",
                ce.lhs, ce.rhs
            );
        } else {
            let entries = ce
                .mismatches
                .iter()
                .map(|m| format!("({}, {}): {} vs {}", m.entry.0, m.entry.1, m.lhs, m.rhs))
                .collect::<Vec<_>>()
                .join("; ");
            let _ = write!(
                out,
                "; {} mismatching entries: {entries}",
                ce.mismatches.len()
            );
        }
    } else if !s.verdict.detail().is_empty() && !s.verdict.kind().passes() {
        let _ = write!(out, "; {}", s.verdict.detail().lines().next().unwrap_or(""));
    }
    out
}

/// The feedback text of one part, as given to the student.
pub fn feedback(p: &PartGrade) -> String {
    let mut out = String::new();
    if let Some(f) = &p.final_check {
        let _ = writeln!(out, "final result: {}", step_line(f));
    }
    if p.steps_total > 0 {
        let _ = writeln!(out, "steps: {} of {} valid", p.steps_valid, p.steps_total);
    }
    if let Some(s) = &p.first_invalid {
        let _ = writeln!(
            out,
            "first invalid step {}: {}",
            s.index,
            step_line(&s.step)
        );
    }
    if !p.note.is_empty() {
        let _ = writeln!(out, "{}", p.note);
    }
    out.trim_end().to_string()
}

/// The most common first invalid step of each part over a batch.
pub fn common_mistakes(book: &Gradebook) -> BTreeMap<String, (String, usize)> {
    let mut out = BTreeMap::new();
    for id in &book.part_ids {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for s in &book.submissions {
            if let Some(p) = s.parts.iter().find(|p| &p.id == id) {
                if let Some(step) = &p.first_invalid {
                    *counts
                        .entry(format!(
                            "{} {} {}",
                            step.step.lhs, step.step.relation, step.step.rhs
                        ))
                        .or_default() += 1;
                }
            }
        }
        if let Some((step, n)) = counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        {
            out.insert(id.clone(), (step, n));
        }
    }
    out
}

/// The human report of a grading run.
pub fn render_human(book: &Gradebook) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "derive-check grade (key {}, seed {})",
        book.key, book.seed
    );
    for s in &book.submissions {
        let _ = writeln!(
            out,
            "\n== {}: {} / {}",
            s.name,
            points(s.score()),
            points(s.max_score())
        );
        for p in &s.problems {
            let _ = writeln!(out, "   problem: {p}");
        }
        for p in &s.parts {
            let _ = writeln!(
                out,
                "[{}/{}] {} ({})",
                points(p.score),
                points(p.max_score),
                p.id,
                p.rule.as_str()
            );
            for line in feedback(p).lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if book.submissions.len() > 1 {
        let mean =
            book.submissions.iter().map(|s| s.score()).sum::<f64>() / book.submissions.len() as f64;
        let max = book.submissions.first().map_or(0.0, |s| s.max_score());
        let _ = writeln!(
            out,
            "\nsummary: {} submissions, mean score {} / {}",
            book.submissions.len(),
            points(mean),
            points(max)
        );
        for (id, (step, n)) in common_mistakes(book) {
            let _ = writeln!(out, "  {id}: most common first invalid step ({n}×): {step}");
        }
    }
    out
}

fn part_json(p: &PartGrade) -> serde_json::Value {
    let step = |s: &StepReport| serde_json::json!({"lhs": s.lhs, "relation": s.relation, "rhs": s.rhs, "verdict": s.verdict.kind().as_str(), "method": s.verdict.method_text(), "detail": s.verdict.detail()});
    serde_json::json!({
        "id": p.id,
        "score": p.score,
        "max_score": p.max_score,
        "rule": p.rule.as_str(),
        "final": p.final_check.as_ref().map(step),
        "steps_valid": p.steps_valid,
        "steps_total": p.steps_total,
        "first_invalid_step": p.first_invalid.as_ref().map(|s| serde_json::json!({"index": s.index, "step": step(&s.step)})),
        "note": p.note,
        "feedback": feedback(p),
    })
}

/// The JSON report of a grading run.
pub fn render_json(book: &Gradebook) -> String {
    let subs: Vec<serde_json::Value> = book
        .submissions
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "score": s.score(),
                "max_score": s.max_score(),
                "problems": s.problems,
                "parts": s.parts.iter().map(part_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let n = book.submissions.len().max(1) as f64;
    let mistakes: serde_json::Map<String, serde_json::Value> = common_mistakes(book)
        .into_iter()
        .map(|(id, (step, count))| (id, serde_json::json!({"step": step, "count": count})))
        .collect();
    let v = serde_json::json!({
        "key": book.key,
        "seed": book.seed,
        "submissions": subs,
        "summary": {
            "submissions": book.submissions.len(),
            "mean_score": book.submissions.iter().map(|s| s.score()).sum::<f64>() / n,
            "most_common_first_invalid_step": mistakes,
        }
    });
    let mut s = serde_json::to_string_pretty(&v).expect("serializes");
    s.push('\n');
    s
}

fn gradescope_one(s: &SubmissionGrade) -> serde_json::Value {
    let mut output = String::new();
    for p in &s.problems {
        let _ = writeln!(output, "problem: {p}");
    }
    serde_json::json!({
        "score": s.score(),
        "output": output.trim_end(),
        "tests": s.parts.iter().map(|p| serde_json::json!({
            "name": p.id,
            "score": p.score,
            "max_score": p.max_score,
            "output": feedback(p),
        })).collect::<Vec<_>>(),
    })
}

/// Gradescope's autograder `results.json` (one submission), or an object of
/// them by submission name (a batch).
pub fn render_gradescope(book: &Gradebook) -> String {
    let v = if book.submissions.len() == 1 {
        gradescope_one(&book.submissions[0])
    } else {
        let m: serde_json::Map<String, serde_json::Value> = book
            .submissions
            .iter()
            .map(|s| (s.name.clone(), gradescope_one(s)))
            .collect();
        serde_json::Value::Object(m)
    };
    let mut s = serde_json::to_string_pretty(&v).expect("serializes");
    s.push('\n');
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test suite per submission, one test case per part; a part
/// that lost points is a failure carrying the feedback.
pub fn render_junit(book: &Gradebook) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"derive-check grade\">\n",
    );
    for s in &book.submissions {
        let failures = s.parts.iter().filter(|p| p.score < p.max_score).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
            xml(&s.name),
            s.parts.len()
        );
        for p in &s.parts {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\">",
                xml(&s.name),
                xml(&p.id)
            );
            if p.score < p.max_score {
                let _ = write!(
                    out,
                    "\n      <failure message=\"{} of {} points\">{}</failure>\n    ",
                    points(p.score),
                    points(p.max_score),
                    xml(&feedback(p))
                );
            }
            let _ = writeln!(out, "</testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A CSV gradebook: one row per submission, one column per part, then the total.
pub fn render_csv(book: &Gradebook) -> String {
    let mut out = String::from("submission");
    for id in &book.part_ids {
        let _ = write!(out, ",{}", csv(id));
    }
    out.push_str(",total,max\n");
    for s in &book.submissions {
        out.push_str(&csv(&s.name));
        for p in &s.parts {
            let _ = write!(out, ",{}", points(p.score));
        }
        let _ = writeln!(out, ",{},{}", points(s.score()), points(s.max_score()));
    }
    out
}
