//! The JSON report of a grading run, for graders and scripts (key values
//! included), written through serde.

use super::feedback::{feedback, Audience};
use super::human::{common_mistakes, mean_score};
use super::step::view;
use super::{Gradebook, PartGrade, SubmissionGrade};
use crate::report::StepReport;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Report<'a> {
    key: &'a str,
    seed: u64,
    submissions: Vec<Submission<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    submissions: usize,
    mean_score: f64,
    unreadable_submissions: usize,
    most_common_first_invalid_step: BTreeMap<String, Mistake>,
}

#[derive(Serialize)]
struct Mistake {
    step: String,
    count: usize,
}

#[derive(Serialize)]
struct Submission<'a> {
    name: &'a str,
    student: Option<&'a str>,
    score: f64,
    max_score: f64,
    errors: &'a [String],
    messages: &'a [String],
    parts: Vec<Part<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    lhs: &'a str,
    relation: &'a str,
    rhs: &'a str,
    verdict: &'static str,
    method: String,
    detail: String,
}

#[derive(Serialize)]
struct Invalid<'a> {
    index: usize,
    step: Step<'a>,
}

#[derive(Serialize)]
struct Part<'a> {
    id: &'a str,
    score: f64,
    max_score: f64,
    rule: &'static str,
    passed: bool,
    expected: &'a str,
    show_expected: bool,
    #[serde(rename = "final")]
    final_check: Option<Step<'a>>,
    final_error: Option<&'a str>,
    final_ok: bool,
    steps_valid: usize,
    steps_total: usize,
    first_invalid_step: Option<Invalid<'a>>,
    dropped_conditions: &'a [String],
    missing: bool,
    note: &'a str,
    feedback: String,
    student_feedback: String,
}

fn step(s: &StepReport) -> Step<'_> {
    let v = view(s);
    Step {
        lhs: &s.lhs,
        relation: &s.relation,
        rhs: &s.rhs,
        verdict: v.kind.as_str(),
        method: v.method,
        detail: v.detail,
    }
}

fn part(p: &PartGrade) -> Part<'_> {
    Part {
        id: &p.id,
        score: p.score,
        max_score: p.max_score,
        rule: p.rule.as_str(),
        passed: p.passed(),
        expected: &p.expected,
        show_expected: p.show_expected,
        final_check: p.final_check.as_ref().map(step),
        final_error: p.final_error.as_deref(),
        final_ok: p.final_ok,
        steps_valid: p.steps_valid,
        steps_total: p.steps_total,
        first_invalid_step: p.first_invalid.as_ref().map(|s| Invalid {
            index: s.index,
            step: step(&s.step),
        }),
        dropped_conditions: &p.dropped,
        missing: p.missing,
        note: &p.note,
        feedback: feedback(p, Audience::Grader),
        student_feedback: feedback(p, Audience::Student),
    }
}

fn submission(s: &SubmissionGrade) -> Submission<'_> {
    Submission {
        name: &s.name,
        student: s.student.as_deref(),
        score: s.score(),
        max_score: s.max_score(),
        errors: &s.errors,
        messages: &s.messages,
        parts: s.parts.iter().map(part).collect(),
    }
}

/// The JSON report of a grading run (pretty-printed, with a final newline).
pub fn render_json(book: &Gradebook) -> String {
    let report = Report {
        key: &book.key,
        seed: book.seed,
        submissions: book.submissions.iter().map(submission).collect(),
        summary: Summary {
            submissions: book.submissions.len(),
            mean_score: mean_score(book),
            unreadable_submissions: book.submissions.iter().filter(|s| s.has_errors()).count(),
            most_common_first_invalid_step: common_mistakes(book)
                .into_iter()
                .map(|(id, (step, count))| (id, Mistake { step, count }))
                .collect(),
        },
    };
    let mut s = serde_json::to_string_pretty(&report).expect("a report always serializes");
    s.push('\n');
    s
}
