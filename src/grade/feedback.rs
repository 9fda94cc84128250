//! Feedback in the grader's words: "your result", "expected", "first step
//! that does not follow", with values always in the order of the relation
//! as written (your result first, the expected value second; a step's left
//! side first, its right side second). Two audiences: graders see
//! everything; students see a key value only where the part allows it
//! (`show_expected`).

use super::step::{view, StepView};
use super::PartGrade;
use crate::report::StepReport;
use crate::verdict::VerdictKind;

/// Who reads the feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Course staff: expected results and counterexamples built from them included.
    Grader,
    /// Students once grades are published (gradebooks, CI): no key value
    /// unless the part has `show_expected = true`.
    Student,
    /// Students while the assignment is open (Gradescope's visible tests):
    /// never a key value, since a wrong submission would reveal the key to
    /// anyone who can resubmit.
    Live,
}

impl Audience {
    /// May this audience see the key's values of part `p`?
    fn reveals(self, p: &PartGrade) -> bool {
        match self {
            Audience::Grader => true,
            Audience::Student => p.show_expected,
            Audience::Live => false,
        }
    }
}

/// Most mismatching entries of an array listed in one line. Default: 6.
const MAX_ENTRIES: usize = 6;

fn verdict_phrase(v: &StepView<'_>) -> String {
    let mut s = v.kind.as_str().to_string();
    if v.method != "none" && !v.method.is_empty() {
        s = format!("{s}: {}", v.method);
    }
    if v.kind == VerdictKind::Checked && v.checks > 0 {
        s = format!("{s}, {} spot checks agreed", v.checks);
    }
    s
}

/// `at x = 1: <a> = 5, <b> = 4`, or the mismatching entries of arrays.
fn evidence(v: &StepView<'_>, left: &str, right: &str) -> Option<String> {
    let ce = v.counterexample?;
    let point = ce
        .values
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let at = if point.is_empty() {
        String::new()
    } else {
        format!("at {point}: ")
    };
    if ce.mismatches.is_empty() {
        return Some(format!("{at}{left} = {}, {right} = {}", ce.lhs, ce.rhs));
    }
    let mut entries: Vec<String> = ce
        .mismatches
        .iter()
        .take(MAX_ENTRIES)
        .map(|m| {
            format!(
                "entry ({}, {}): {left} {}, {right} {}",
                m.entry.0, m.entry.1, m.lhs, m.rhs
            )
        })
        .collect();
    if ce.mismatches.len() > MAX_ENTRIES {
        entries.push(format!("and {} more", ce.mismatches.len() - MAX_ENTRIES));
    }
    let n = ce.mismatches.len();
    let noun = if n == 1 {
        "entry differs"
    } else {
        "entries differ"
    };
    Some(format!("{at}{n} {noun}: {}", entries.join("; ")))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn final_lines(p: &PartGrade, reveal: bool, out: &mut Vec<String>) {
    if let Some(message) = &p.final_error {
        out.push(if reveal {
            format!("final result: could not be compared with the key: {message}")
        } else {
            "final result: could not be compared with the key (ask your grader for details)"
                .to_string()
        });
        return;
    }
    let Some(f) = &p.final_check else {
        return;
    };
    let v = view(f);
    let yours = &f.lhs;
    let expected = &f.rhs;
    if p.final_ok {
        out.push(if reveal {
            format!(
                "final result: right: your result `{yours}` equals the expected `{expected}` ({})",
                verdict_phrase(&v)
            )
        } else {
            format!(
                "final result: right: your result `{yours}` matches the key ({})",
                verdict_phrase(&v)
            )
        });
        return;
    }
    let what = if v.kind == VerdictKind::Refuted {
        "wrong"
    } else {
        "not confirmed"
    };
    if !reveal {
        let why = if v.kind == VerdictKind::Refuted {
            "does not match the key"
        } else {
            "could not be confirmed to match the key"
        };
        out.push(format!(
            "final result: {what}: your result `{yours}` {why} ({})",
            v.kind.as_str()
        ));
        return;
    }
    out.push(format!(
        "final result: {what}: your result `{yours}`, expected `{expected}` ({})",
        verdict_phrase(&v)
    ));
    match evidence(&v, "your result", "expected") {
        Some(e) => out.push(format!("    {e}")),
        None if !v.detail.is_empty() => out.push(format!("    {}", first_line(&v.detail))),
        None => {}
    }
}

fn step_lines(index: usize, s: &StepReport, out: &mut Vec<String>) {
    let v = view(s);
    out.push(format!(
        "first step that does not follow: step {index}: `{}` {} `{}` ({})",
        s.lhs,
        s.relation,
        s.rhs,
        verdict_phrase(&v)
    ));
    match evidence(&v, "left side", "right side") {
        Some(e) => out.push(format!("    {e}")),
        None if !v.detail.is_empty() => out.push(format!("    {}", first_line(&v.detail))),
        None => {}
    }
}

/// The lines about the final result alone (for Gradescope's details test).
pub fn final_result_lines(p: &PartGrade, audience: Audience) -> Vec<String> {
    let mut out = Vec::new();
    final_lines(p, audience.reveals(p), &mut out);
    out
}

/// The feedback of one part, one line per item (continuation lines indented).
pub fn feedback_lines(p: &PartGrade, audience: Audience) -> Vec<String> {
    let reveal = audience.reveals(p);
    let mut out = Vec::new();
    final_lines(p, reveal, &mut out);
    if p.steps_total > 0 {
        out.push(format!(
            "steps: {} of {} follow",
            p.steps_valid, p.steps_total
        ));
    }
    if let Some(s) = &p.first_invalid {
        step_lines(s.index, &s.step, &mut out);
    }
    for c in &p.dropped {
        out.push(format!(
            "your claim assumes `{c}`, which the question does not: the final result was compared without it"
        ));
    }
    if !p.note.is_empty() {
        out.push(p.note.clone());
    }
    if audience == Audience::Grader {
        if p.final_check.is_none() && p.final_error.is_none() {
            out.push(format!("expected: `{}`", p.expected));
        }
        out.extend(p.grader_notes.iter().cloned());
    }
    out
}

/// The feedback of one part as text (see [`feedback_lines`]).
pub fn feedback(p: &PartGrade, audience: Audience) -> String {
    feedback_lines(p, audience).join("\n")
}

/// A one-line summary of a part for a gradebook cell: `2d 0/2: <first line>`.
pub fn summary(p: &PartGrade, audience: Audience) -> String {
    let head = format!(
        "{} {}/{}",
        p.id,
        super::points(p.score),
        super::points(p.max_score)
    );
    if p.score >= p.max_score {
        return head;
    }
    let lines = feedback_lines(p, audience);
    // The most useful line: what is wrong with the final result, else the step.
    let line = lines
        .iter()
        .find(|l| !l.starts_with("    ") && !l.starts_with("steps:"))
        .cloned()
        .unwrap_or_default();
    format!("{head}: {line}")
}
