//! Gradescope's autograder `results.json` for one submission, to its
//! published specification (gradescope-autograders.readthedocs.io, "Autograder
//! Specifications"): top-level `score`, `output`, `output_format`,
//! `visibility`, `stdout_visibility` and `tests`; each test with `name`,
//! `number`, `score`, `max_score`, `status`, `output`, `output_format` and
//! `visibility`.
//!
//! One visible test per part carries the score and feedback students may
//! see at once (never a key value: a student who may resubmit could
//! otherwise learn the key from a wrong submission). What is built from the
//! key (the expected result, counterexamples against it) goes into a second
//! test per part without points: `hidden` (instructors only) by default, or
//! `after_published` when the key sets `show_expected = true`, so that
//! students see it once grades are published.

use super::feedback::{feedback_lines, final_result_lines, Audience};
use super::{PartGrade, SubmissionGrade};
use serde::Serialize;

/// Gradescope's visibility settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Never shown to students.
    Hidden,
    /// Shown after the due date.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
    /// Always shown.
    Visible,
}

/// A test's status: it sets the colour Gradescope shows, whatever the points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Shown as passing.
    Passed,
    /// Shown as failing.
    Failed,
}

/// The output formats used (Gradescope's value for Markdown is `md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OutputFormat {
    /// Markdown.
    #[serde(rename = "md")]
    Markdown,
}

/// One test case of `results.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Test {
    /// The part's id.
    pub name: String,
    /// Its number (`"1"`; `"1.1"` for the key's details of part 1).
    pub number: String,
    /// Points earned (absent for a test that carries no points).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Points possible (absent likewise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
    /// Passed or failed.
    pub status: Status,
    /// The feedback, in Markdown.
    pub output: String,
    /// `md`.
    pub output_format: OutputFormat,
    /// Who may see it, and when.
    pub visibility: Visibility,
}

/// A whole `results.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// The submission's score (it overrides the sum of the tests).
    pub score: f64,
    /// Messages about the whole submission, in Markdown.
    pub output: String,
    /// `md`.
    pub output_format: OutputFormat,
    /// `visible`: each test sets its own visibility.
    pub visibility: Visibility,
    /// `hidden`: stdout holds the CAS's license notice and build logs.
    pub stdout_visibility: Visibility,
    /// The tests.
    pub tests: Vec<Test>,
}

/// Markdown text of feedback lines: a list, continuation lines nested.
fn markdown(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| match l.strip_prefix("    ") {
            Some(rest) => format!("    - {rest}"),
            None => format!("- {l}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn status(ok: bool) -> Status {
    if ok {
        Status::Passed
    } else {
        Status::Failed
    }
}

/// The key's side of a part, for the details test (graders' view), if the
/// part has any: the expected result and the comparison with it.
fn details(p: &PartGrade) -> Option<String> {
    if p.missing && p.final_check.is_none() {
        return None;
    }
    let mut lines = vec![format!("expected result: `{}`", p.expected)];
    lines.extend(final_result_lines(p, Audience::Grader));
    Some(markdown(&lines))
}

/// The results of one submission.
pub fn results(s: &SubmissionGrade) -> Results {
    let mut output = Vec::new();
    output.extend(s.errors.iter().map(|e| format!("cannot read: {e}")));
    output.extend(s.messages.iter().cloned());
    let mut tests = Vec::new();
    for (i, p) in s.parts.iter().enumerate() {
        let n = i + 1;
        tests.push(Test {
            name: p.id.clone(),
            number: n.to_string(),
            score: Some(p.score),
            max_score: Some(p.max_score),
            status: status(p.passed()),
            output: markdown(&feedback_lines(p, Audience::Live)),
            output_format: OutputFormat::Markdown,
            visibility: Visibility::Visible,
        });
        if let Some(text) = details(p) {
            tests.push(Test {
                name: format!("{}: comparison with the key", p.id),
                number: format!("{n}.1"),
                score: None,
                max_score: None,
                status: status(p.final_ok),
                output: text,
                output_format: OutputFormat::Markdown,
                visibility: if p.show_expected {
                    Visibility::AfterPublished
                } else {
                    Visibility::Hidden
                },
            });
        }
    }
    Results {
        score: s.score(),
        output: markdown(&output),
        output_format: OutputFormat::Markdown,
        visibility: Visibility::Visible,
        stdout_visibility: Visibility::Hidden,
        tests,
    }
}

/// The `results.json` text of one submission (pretty-printed, final newline).
pub fn render_gradescope(s: &SubmissionGrade) -> String {
    let mut text = serde_json::to_string_pretty(&results(s)).expect("results always serialize");
    text.push('\n');
    text
}

/// A file name for a submission's folder in a batch: its name without a
/// `.toml` extension, with path separators and other awkward characters
/// replaced by `_`.
pub fn folder_name(submission: &str) -> String {
    let stem = submission.strip_suffix(".toml").unwrap_or(submission);
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '\'' | ',') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.trim_matches('.') {
        "" => "_".to_string(),
        s => s.to_string(),
    }
}
