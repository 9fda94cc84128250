//! Reports: the results of a run and their two renderings, the human
//! report and the JSON report of FORMAT.md. Rendering is pure: the same
//! report renders to the same bytes.

pub mod snippet;

use crate::syntax::source::{Diagnostic, Location};
use snippet::Color;
use std::collections::BTreeMap;
use crate::verdict::{Counterexample, Verdict, VerdictKind};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// The results of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The spot-check seed used.
    pub seed: u64,
    /// One entry per file, in the order checked.
    pub files: Vec<FileReport>,
}

/// The results for one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The path as given.
    pub path: String,
    /// The title, if the file got that far.
    pub title: Option<String>,
    /// Why the file could not be checked at all.
    pub failure: Option<Diagnostic>,
    /// Problems with declarations and definitions (the claims that use them are errors).
    pub diagnostics: Vec<Diagnostic>,
    /// The claims, in file order.
    pub claims: Vec<ClaimReport>,
}

/// The result for one claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimReport {
    /// Its id.
    pub id: String,
    /// Where the claim starts.
    pub location: Location,
    /// Its prose.
    pub text: Option<String>,
    /// The worst verdict of its steps (or `error`).
    pub verdict: VerdictKind,
    /// The verdict the file expects, if any.
    pub expect: Option<VerdictKind>,
    /// For an `error` claim: where and what.
    pub error: Option<(Location, String)>,
    /// Its steps, in order.
    pub steps: Vec<StepReport>,
    /// Notes on how the claim was read (a sum index shadowing a declared name).
    pub notes: Vec<String>,
}

impl ClaimReport {
    /// Did the claim get what was expected of it?
    pub fn met_expectation(&self) -> bool {
        match self.expect {
            Some(e) => e == self.verdict,
            None => self.verdict.passes(),
        }
    }
}

/// One checked step: `lhs relation rhs` and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// The left side, fully parenthesized.
    pub lhs: String,
    /// The relation (`=`, `<=`, `=>`, ...).
    pub relation: String,
    /// The right side, fully parenthesized.
    pub rhs: String,
    /// What the check concluded.
    pub verdict: Verdict,
}

/// Counts of verdicts over a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Claims in all.
    pub claims: usize,
    /// Proved claims.
    pub proved: usize,
    /// Checked claims.
    pub checked: usize,
    /// Unsupported claims.
    pub unsupported: usize,
    /// Refuted claims.
    pub refuted: usize,
    /// Error claims.
    pub error: usize,
    /// Claims that did not meet their expectation.
    pub unmet_expectations: usize,
    /// Files that could not be checked at all.
    pub failed_files: usize,
}

impl Report {
    /// Counts the verdicts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.files {
            if f.failure.is_some() {
                s.failed_files += 1;
            }
            for c in &f.claims {
                s.claims += 1;
                match c.verdict {
                    VerdictKind::Proved => s.proved += 1,
                    VerdictKind::Checked => s.checked += 1,
                    VerdictKind::Unsupported => s.unsupported += 1,
                    VerdictKind::Refuted => s.refuted += 1,
                    VerdictKind::Error => s.error += 1,
                }
                if !c.met_expectation() {
                    s.unmet_expectations += 1;
                }
            }
        }
        s
    }

    /// The exit status of FORMAT.md: 2 when a file could not be checked,
    /// else 1 when a claim missed its expectation, else 0.
    pub fn exit_code(&self) -> i32 {
        let s = self.summary();
        if s.failed_files > 0 {
            2
        } else if s.unmet_expectations > 0 {
            1
        } else {
            0
        }
    }
}

fn counterexample_json(c: &Counterexample) -> Value {
    let mut m = Map::new();
    let values: Map<String, Value> = c
        .values
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    m.insert("values".into(), Value::Object(values));
    if let Some(first) = c.mismatches.first() {
        m.insert("entry".into(), json!([first.entry.0, first.entry.1]));
    }
    m.insert("lhs".into(), Value::String(c.lhs.clone()));
    m.insert("rhs".into(), Value::String(c.rhs.clone()));
    if !c.mismatches.is_empty() {
        m.insert("mismatch_count".into(), json!(c.mismatches.len()));
        let list: Vec<Value> = c
            .mismatches
            .iter()
            .map(|x| json!({"entry": [x.entry.0, x.entry.1], "lhs": x.lhs, "rhs": x.rhs}))
            .collect();
        m.insert("mismatches".into(), Value::Array(list));
    }
    Value::Object(m)
}

fn location_json(m: &mut Map<String, Value>, l: Location) {
    m.insert("line".into(), json!(l.line));
    m.insert("column".into(), json!(l.column));
}

/// Renders the JSON report of FORMAT.md (pretty-printed, with a final newline).
pub fn render_json(report: &Report) -> String {
    let mut files = Vec::new();
    for f in &report.files {
        let mut fm = Map::new();
        fm.insert("path".into(), json!(f.path));
        fm.insert("title".into(), json!(f.title));
        if let Some(d) = &f.failure {
            let mut e = Map::new();
            location_json(&mut e, d.location);
            e.insert("message".into(), json!(d.message));
            fm.insert("error".into(), Value::Object(e));
        }
        if !f.diagnostics.is_empty() {
            let ds: Vec<Value> = f
                .diagnostics
                .iter()
                .map(|d| json!({"line": d.location.line, "column": d.location.column, "message": d.message}))
                .collect();
            fm.insert("diagnostics".into(), Value::Array(ds));
        }
        let mut claims = Vec::new();
        for c in &f.claims {
            let mut cm = Map::new();
            cm.insert("id".into(), json!(c.id));
            cm.insert("line".into(), json!(c.location.line));
            cm.insert("verdict".into(), json!(c.verdict.as_str()));
            cm.insert("expect".into(), json!(c.expect.map(|e| e.as_str())));
            cm.insert("met_expectation".into(), json!(c.met_expectation()));
            if let Some((loc, msg)) = &c.error {
                cm.insert("line".into(), json!(loc.line));
                cm.insert("column".into(), json!(loc.column));
                cm.insert("message".into(), json!(msg));
            }
            if let Some(t) = &c.text {
                cm.insert("text".into(), json!(t));
            }
            if !c.notes.is_empty() {
                cm.insert("notes".into(), json!(c.notes));
            }
            let steps: Vec<Value> = c
                .steps
                .iter()
                .map(|s| {
                    let mut sm = Map::new();
                    sm.insert("lhs".into(), json!(s.lhs));
                    sm.insert("relation".into(), json!(s.relation));
                    sm.insert("rhs".into(), json!(s.rhs));
                    sm.insert("verdict".into(), json!(s.verdict.kind().as_str()));
                    sm.insert("method".into(), json!(s.verdict.method_text()));
                    if let Some(ce) = s.verdict.counterexample() {
                        sm.insert("counterexample".into(), counterexample_json(ce));
                    }
                    if s.verdict.checks() > 0 {
                        sm.insert("checks".into(), json!(s.verdict.checks()));
                    }
                    sm.insert("detail".into(), json!(s.verdict.detail()));
                    Value::Object(sm)
                })
                .collect();
            cm.insert("steps".into(), Value::Array(steps));
            claims.push(Value::Object(cm));
        }
        fm.insert("claims".into(), Value::Array(claims));
        files.push(Value::Object(fm));
    }
    let s = report.summary();
    let value = json!({
        "seed": report.seed,
        "files": files,
        "summary": {
            "claims": s.claims, "proved": s.proved, "checked": s.checked,
            "unsupported": s.unsupported, "refuted": s.refuted, "error": s.error,
            "unmet_expectations": s.unmet_expectations,
        }
    });
    let mut out = serde_json::to_string_pretty(&value).expect("a JSON value always serializes");
    out.push('\n');
    out
}

fn indent_lines(out: &mut String, text: &str, prefix: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{prefix}{line}");
    }
}

/// How the human report renders diagnostics.
#[derive(Clone, Debug, Default)]
pub struct HumanOptions {
    /// Colour for diagnostics (never by default).
    pub color: Color,
    /// The text of each file by path: with it, a diagnostic shows the
    /// source line with the span underlined (else one line).
    pub sources: BTreeMap<String, String>,
}

/// Renders the human report (one-line diagnostics, no colour).
pub fn render_human(report: &Report) -> String {
    render_human_with(report, &HumanOptions::default())
}

/// A located message: a snippet when the file's text is known, else one line.
fn located(out: &mut String, options: &HumanOptions, d: &Diagnostic, one_line: &str, indent: &str) {
    match options.sources.get(&d.file) {
        Some(text) => {
            let rendered = snippet::render(d, Some(text), options.color);
            indent_lines(out, &rendered, indent);
        }
        None => {
            let _ = writeln!(out, "{indent}{one_line}");
        }
    }
}

/// Renders the human report with diagnostics as `options` asks.
pub fn render_human_with(report: &Report, options: &HumanOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "derive-check report (seed {})", report.seed);
    for f in &report.files {
        out.push('\n');
        match &f.title {
            Some(t) => {
                let _ = writeln!(out, "== {}: {}", f.path, t);
            }
            None => {
                let _ = writeln!(out, "== {}", f.path);
            }
        }
        if let Some(d) = &f.failure {
            if options.sources.contains_key(&d.file) {
                let _ = writeln!(out, "   cannot check this file:");
            }
            located(&mut out, options, d, &format!("cannot check this file: {d}"), "   ");
            continue;
        }
        for d in &f.diagnostics {
            located(&mut out, options, d, &format!("problem: {d}"), "   ");
        }
        for c in &f.claims {
            let expectation = match (c.expect, c.met_expectation()) {
                (Some(e), true) => format!(" (expected {}: met)", e.as_str()),
                (Some(e), false) => format!(" (expected {}: NOT MET)", e.as_str()),
                (None, true) => String::new(),
                (None, false) => " (NOT MET)".to_string(),
            };
            let _ = writeln!(
                out,
                "[{}] {} (line {}){}",
                c.verdict.as_str(),
                c.id,
                c.location.line,
                expectation
            );
            if let Some(t) = &c.text {
                let _ = writeln!(out, "    \"{t}\"");
            }
            if let Some((loc, msg)) = &c.error {
                let d = Diagnostic {
                    file: f.path.clone(),
                    location: *loc,
                    message: msg.clone(),
                };
                let one_line = format!("error at {}:{}:{}: {}", f.path, loc.line, loc.column, msg);
                located(&mut out, options, &d, &one_line, "    ");
            }
            for n in &c.notes {
                let _ = writeln!(out, "    note: {n}");
            }
            let first_bad = c.steps.iter().position(|s| !s.verdict.kind().passes());
            for (i, s) in c.steps.iter().enumerate() {
                let marker = if Some(i) == first_bad && c.steps.len() > 1 {
                    "  <-- first step that does not follow"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "    {}. {} {} {}{}",
                    i + 1,
                    s.lhs,
                    s.relation,
                    s.rhs,
                    marker
                );
                let v = &s.verdict;
                let checks = if v.checks() > 0 {
                    format!(" ({} spot checks agreed)", v.checks())
                } else {
                    String::new()
                };
                match v.method() {
                    None => {
                        let _ = writeln!(out, "       {}{}", v.kind().as_str(), checks);
                    }
                    Some(method) => {
                        let _ = writeln!(out, "       {}: {method}{checks}", v.kind().as_str());
                    }
                }
                let detail = v.detail();
                if !detail.is_empty() {
                    indent_lines(&mut out, &detail, "       ");
                }
                if let Some(ce) = v.counterexample() {
                    let point = if ce.values.is_empty() {
                        "no free symbols".to_string()
                    } else {
                        ce.values
                            .iter()
                            .map(|(k, v)| format!("{k} = {v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    if ce.mismatches.is_empty() {
                        let _ = writeln!(
                            out,
                            "       counterexample: {point}: lhs = {}, rhs = {}",
                            ce.lhs, ce.rhs
                        );
                    } else {
                        let _ = writeln!(
                            out,
                            "       counterexample ({point}): {} mismatching entries (row, column: lhs vs rhs):",
                            ce.mismatches.len()
                        );
                        for m in &ce.mismatches {
                            let _ = writeln!(
                                out,
                                "         ({}, {}): {} vs {}",
                                m.entry.0, m.entry.1, m.lhs, m.rhs
                            );
                        }
                    }
                }
            }
        }
    }
    let s = report.summary();
    let _ = writeln!(
        out,
        "\nsummary: {} claims: {} proved, {} checked, {} unsupported, {} refuted, {} error; {} unmet expectations{}",
        s.claims,
        s.proved,
        s.checked,
        s.unsupported,
        s.refuted,
        s.error,
        s.unmet_expectations,
        if s.failed_files > 0 { format!("; {} files could not be checked", s.failed_files) } else { String::new() }
    );
    out
}
