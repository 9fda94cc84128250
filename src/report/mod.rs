//! Reports: the results of a run and their two renderings, the human
//! report and the JSON report of FORMAT.md. Rendering is pure: the same
//! report renders to the same bytes.

pub mod snippet;

use crate::syntax::source::{Diagnostic, Location};
use crate::verdict::{Counterexample, Verdict, VerdictKind};
use serde::Serialize;
use snippet::Color;
use std::collections::BTreeMap;
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

/// The JSON report of FORMAT.md, field by field in its order; optional
/// fields are left out when empty, as the contract shows them.
#[derive(Serialize)]
struct JsonReport<'a> {
    seed: u64,
    files: Vec<JsonFile<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<JsonDiagnostic<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    diagnostics: Vec<JsonDiagnostic<'a>>,
    claims: Vec<JsonClaim<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonClaim<'a> {
    id: &'a str,
    /// The claim's line, or its error's.
    line: usize,
    verdict: &'static str,
    expect: Option<&'static str>,
    met_expectation: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    /// How the claim was read (a summation index shadowing a declared name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: &'a Vec<String>,
    steps: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    lhs: &'a str,
    relation: &'a str,
    rhs: &'a str,
    verdict: &'static str,
    method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterexample: Option<JsonCounterexample<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<usize>,
    detail: String,
}

#[derive(Serialize)]
struct JsonCounterexample<'a> {
    values: &'a std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<[usize; 2]>,
    lhs: &'a str,
    rhs: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatch_count: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mismatches: Vec<JsonMismatch<'a>>,
}

#[derive(Serialize)]
struct JsonMismatch<'a> {
    entry: [usize; 2],
    lhs: &'a str,
    rhs: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    claims: usize,
    proved: usize,
    checked: usize,
    unsupported: usize,
    refuted: usize,
    error: usize,
    unmet_expectations: usize,
}

fn counterexample_json(c: &Counterexample) -> JsonCounterexample<'_> {
    JsonCounterexample {
        values: &c.values,
        entry: c.mismatches.first().map(|m| [m.entry.0, m.entry.1]),
        lhs: &c.lhs,
        rhs: &c.rhs,
        mismatch_count: (!c.mismatches.is_empty()).then_some(c.mismatches.len()),
        mismatches: c
            .mismatches
            .iter()
            .map(|x| JsonMismatch {
                entry: [x.entry.0, x.entry.1],
                lhs: &x.lhs,
                rhs: &x.rhs,
            })
            .collect(),
    }
}

fn diagnostic_json(d: &Diagnostic) -> JsonDiagnostic<'_> {
    JsonDiagnostic {
        line: d.location.line,
        column: d.location.column,
        message: &d.message,
    }
}

/// Renders the JSON report of FORMAT.md (pretty-printed, with a final newline).
pub fn render_json(report: &Report) -> String {
    let files = report
        .files
        .iter()
        .map(|f| JsonFile {
            path: &f.path,
            title: f.title.as_deref(),
            error: f.failure.as_ref().map(diagnostic_json),
            diagnostics: f.diagnostics.iter().map(diagnostic_json).collect(),
            claims: f
                .claims
                .iter()
                .map(|c| JsonClaim {
                    id: &c.id,
                    line: c.error.as_ref().map_or(c.location.line, |(l, _)| l.line),
                    verdict: c.verdict.as_str(),
                    expect: c.expect.map(|e| e.as_str()),
                    met_expectation: c.met_expectation(),
                    column: c.error.as_ref().map(|(l, _)| l.column),
                    message: c.error.as_ref().map(|(_, m)| m.as_str()),
                    text: c.text.as_deref(),
                    notes: &c.notes,
                    steps: c
                        .steps
                        .iter()
                        .map(|s| JsonStep {
                            lhs: &s.lhs,
                            relation: &s.relation,
                            rhs: &s.rhs,
                            verdict: s.verdict.kind().as_str(),
                            method: s.verdict.method_text(),
                            counterexample: s.verdict.counterexample().map(counterexample_json),
                            checks: (s.verdict.checks() > 0).then(|| s.verdict.checks()),
                            detail: s.verdict.detail(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let s = report.summary();
    let value = JsonReport {
        seed: report.seed,
        files,
        summary: JsonSummary {
            claims: s.claims,
            proved: s.proved,
            checked: s.checked,
            unsupported: s.unsupported,
            refuted: s.refuted,
            error: s.error,
            unmet_expectations: s.unmet_expectations,
        },
    };
    let mut out = serde_json::to_string_pretty(&value).expect("the report always serializes");
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
            located(
                &mut out,
                options,
                d,
                &format!("cannot check this file: {d}"),
                "   ",
            );
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
