//! Grading: answer files checked against a key, part by part, through the
//! same pipeline as `derive-check FILE`.
//!
//! A key ([`key`]) is a derivation file plus `[[answer]]` tables. For each
//! part, the submission's claim with that id is found; its steps are
//! checked as written, and its final term is checked equal to the key's
//! result by a claim built from parsed values ([`final_result`]): the key's
//! declarations merged into the answer's context, under the answer claim's
//! `where` and `given` where these cannot narrow the key's domain. All the
//! claims of one submission are checked together by
//! [`Session::check_claims`], in parallel and through the session's memo.
//! The part's rule turns the verdicts into points.
//!
//! The renderings are pure functions of the [`Gradebook`]: the human report
//! and JSON for graders ([`human`], [`json`]), Gradescope's `results.json`
//! ([`gradescope`]), JUnit XML ([`junit`]) and gradebook CSVs for Canvas,
//! Moodle or a spreadsheet ([`gradebook`]). What students see never holds a
//! key value (an expected result, or a counterexample built from it)
//! unless the key allows it with `show_expected = true` ([`feedback`]).

pub mod feedback;
pub mod final_result;
pub mod gradebook;
pub mod gradescope;
pub mod human;
pub mod json;
pub mod junit;
pub mod key;
pub mod step;

pub use feedback::{feedback, Audience};
pub use key::{load_key, Key, Part, Rule};

use crate::report::{ClaimReport, StepReport};
use crate::resolve::{self, Claim, Context};
use crate::syntax::load::{self, Derivation};
use crate::verdict::VerdictKind;
use crate::Session;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

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
    /// May students see the expected result (the key's `show_expected`)?
    pub show_expected: bool,
    /// The expected result as the key writes it (for graders).
    pub expected: String,
    /// The final result's check against the key (absent when it did not run).
    pub final_check: Option<StepReport>,
    /// Why the final result could not be compared with the key, if it could not.
    pub final_error: Option<String>,
    /// Does the final result match the key?
    pub final_ok: bool,
    /// Valid steps of the answer's chain.
    pub steps_valid: usize,
    /// All steps of the answer's chain.
    pub steps_total: usize,
    /// The first invalid step, if any.
    pub first_invalid: Option<InvalidStep>,
    /// The answer's `where`/`given` conditions the final result was
    /// compared without, because the key does not assume them.
    pub dropped: Vec<String>,
    /// Is the part's claim missing from the submission?
    pub missing: bool,
    /// A note for the student (missing part, unreadable claim...).
    pub note: String,
    /// Notes for graders only.
    pub grader_notes: Vec<String>,
    /// Wall-clock seconds spent checking this part, when timings were asked for.
    pub seconds: Option<f64>,
}

impl PartGrade {
    /// Gradescope's and JUnit's pass mark: the final result matches the key
    /// and some points were earned (partial credit for steps passes).
    pub fn passed(&self) -> bool {
        self.final_ok && self.score > 0.0
    }
}

/// The grade of one submission.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionGrade {
    /// The submission's name (a file or folder name, or the paths given).
    pub name: String,
    /// The `student` field of its answer files, if one has it.
    pub student: Option<String>,
    /// One grade per key part, in key order.
    pub parts: Vec<PartGrade>,
    /// Files that could not be read or loaded, each with file:line:column.
    pub errors: Vec<String>,
    /// Messages about the submission as a whole (no claim with a key id...).
    pub messages: Vec<String>,
    /// Wall-clock seconds spent on it, when timings were asked for.
    pub seconds: Option<f64>,
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

    /// A submission that could not be graded in full: one of its files could
    /// not be read (exit status 2, a JUnit `<error>`).
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// A whole grading run.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradebook {
    /// The key's path.
    pub key: String,
    /// The key's title.
    pub title: String,
    /// The seed.
    pub seed: u64,
    /// The part ids, in key order.
    pub part_ids: Vec<String>,
    /// One grade per submission.
    pub submissions: Vec<SubmissionGrade>,
}

impl Gradebook {
    /// An empty gradebook for this key and seed.
    pub fn new(key: &Key, seed: u64) -> Gradebook {
        Gradebook {
            key: key.path.clone(),
            title: key.title.clone(),
            seed,
            part_ids: key.parts.iter().map(|p| p.id.clone()).collect(),
            submissions: Vec::new(),
        }
    }
}

/// Rounds points to two decimals for display: `2`, `0.67`.
pub fn points(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// How a part is to be graded, before any check has run.
enum Plan {
    /// Nothing to check: the grade is known.
    Known(PartGrade),
    /// The answer's claim, and its final-result claim (or why there is none).
    Check {
        path: String,
        answer: (Claim, Arc<Context>),
        last: Result<final_result::FinalClaim, String>,
    },
}

fn zero(part: &Part, missing: bool, note: String) -> PartGrade {
    PartGrade {
        id: part.id.clone(),
        score: 0.0,
        max_score: part.points,
        rule: part.rule,
        show_expected: part.show_expected,
        expected: part.result_text.clone(),
        final_check: None,
        final_error: None,
        final_ok: false,
        steps_valid: 0,
        steps_total: 0,
        first_invalid: None,
        dropped: Vec::new(),
        missing,
        note,
        grader_notes: Vec::new(),
        seconds: None,
    }
}

/// Grades one submission (its files: path and text) against the key, in
/// `session` (whose settings and memo are used). With `timings`, each part
/// is checked on its own and timed (for JUnit's `time`); otherwise all the
/// claims of the submission are checked together.
pub fn grade_submission(
    key: &Key,
    name: &str,
    files: &[(String, String)],
    session: &Session,
    timings: bool,
) -> SubmissionGrade {
    let start = Instant::now();
    let mut errors = Vec::new();
    let mut student = None;
    let mut loaded: Vec<(Derivation, Arc<Context>)> = Vec::new();
    for (path, text) in files {
        match load::load(path, text.clone()) {
            Err(d) => errors.push(d.to_string()),
            Ok(d) => {
                if student.is_none() {
                    student = d.student.clone();
                }
                let (ctx, _) = resolve::resolve_context(&d);
                loaded.push((d, Arc::new(ctx)));
            }
        }
    }
    let mut found: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (f, (d, _)) in loaded.iter().enumerate() {
        for (i, c) in d.claims.iter().enumerate() {
            if let Some(id) = &c.id {
                found.entry(id.as_str()).or_default().push((f, i));
            }
        }
    }
    let plans: Vec<Plan> = key
        .parts
        .iter()
        .map(|part| plan_part(key, part, &loaded, found.get(part.id.as_str())))
        .collect();
    let mut messages = Vec::new();
    if key.parts.iter().all(|p| !found.contains_key(p.id.as_str())) {
        let mut ids: Vec<String> = key
            .parts
            .iter()
            .take(5)
            .map(|p| format!("`{}`", p.id))
            .collect();
        if key.parts.len() > 5 {
            ids.push("…".into());
        }
        let readable = if errors.is_empty() { "" } else { "readable " };
        messages.push(format!(
            "no {readable}derivation file with the key's ids ({}) was found under `{name}`",
            ids.join(", ")
        ));
    }
    // The claims to check, all together (or part by part when timed).
    let mut parts = Vec::new();
    if timings {
        for (plan, part) in plans.into_iter().zip(&key.parts) {
            let t = Instant::now();
            let mut g = run_plans(vec![plan], std::slice::from_ref(part), session)
                .pop()
                .expect("one grade per plan");
            g.seconds = Some(t.elapsed().as_secs_f64());
            parts.push(g);
        }
    } else {
        parts = run_plans(plans, &key.parts, session);
    }
    SubmissionGrade {
        name: name.to_string(),
        student,
        parts,
        errors,
        messages,
        seconds: timings.then(|| start.elapsed().as_secs_f64()),
    }
}

fn plan_part(
    key: &Key,
    part: &Part,
    loaded: &[(Derivation, Arc<Context>)],
    found: Option<&Vec<(usize, usize)>>,
) -> Plan {
    let (f, i) = match found.map(Vec::as_slice).unwrap_or(&[]) {
        [] => {
            return Plan::Known(zero(
                part,
                true,
                format!("missing: no claim with id `{}` in this submission", part.id),
            ))
        }
        [one] => *one,
        [a, b, ..] => {
            return Plan::Known(zero(
                part,
                false,
                format!(
                    "claim id `{}` appears more than once (in {} and {})",
                    part.id, loaded[a.0].0.path, loaded[b.0].0.path
                ),
            ))
        }
    };
    let (d, ctx) = &loaded[f];
    let claim = resolve::resolve_claim(d, ctx, i);
    let body = match &claim.body {
        Ok(body) => body.clone(),
        Err((at, message)) => {
            return Plan::Known(zero(
                part,
                false,
                format!(
                    "your claim could not be checked: {}:{}:{}: {message}",
                    d.path, at.line, at.column
                ),
            ))
        }
    };
    let last = final_result::final_claim(key, part, ctx, &claim, &body);
    Plan::Check {
        path: d.path.clone(),
        answer: (claim, ctx.clone()),
        last,
    }
}

/// Checks the claims of the plans in one batch and scores each part.
fn run_plans(plans: Vec<Plan>, parts: &[Part], session: &Session) -> Vec<PartGrade> {
    let mut batch = Vec::new();
    for plan in &plans {
        if let Plan::Check { answer, last, .. } = plan {
            batch.push(answer.clone());
            if let Ok(fc) = last {
                batch.push((fc.claim.clone(), fc.context.clone()));
            }
        }
    }
    let mut reports = session.check_claims(batch).into_iter();
    plans
        .into_iter()
        .zip(parts)
        .map(|(plan, part)| match plan {
            Plan::Known(g) => g,
            Plan::Check { path, last, .. } => {
                let answer = reports.next().expect("one report per claim");
                let last = last.map(|fc| {
                    let report = reports.next().expect("one report per claim");
                    (fc, report)
                });
                score_part(part, &path, answer, last)
            }
        })
        .collect()
}

fn score_part(
    part: &Part,
    path: &str,
    answer: ClaimReport,
    last: Result<(final_result::FinalClaim, ClaimReport), String>,
) -> PartGrade {
    if answer.verdict == VerdictKind::Error {
        let message = answer
            .error
            .as_ref()
            .map(|(l, m)| format!("{path}:{}:{}: {m}", l.line, l.column))
            .unwrap_or_default();
        return zero(
            part,
            false,
            format!("your claim could not be checked: {message}"),
        );
    }
    let passes = |s: &StepReport| step::view(s).kind.passes();
    let steps_total = answer.steps.len();
    let steps_valid = answer.steps.iter().filter(|s| passes(s)).count();
    let first_invalid = answer
        .steps
        .iter()
        .position(|s| !passes(s))
        .map(|i| InvalidStep {
            index: i + 1,
            step: answer.steps[i].clone(),
        });
    let mut g = zero(part, false, String::new());
    g.steps_total = steps_total;
    g.steps_valid = steps_valid;
    g.first_invalid = first_invalid;
    match last {
        Err(message) => g.final_error = Some(message),
        Ok((fc, report)) => {
            g.dropped = fc.dropped;
            g.grader_notes = fc.notes;
            g.final_check = report.steps.first().cloned();
            if report.verdict == VerdictKind::Error {
                g.final_error = Some(
                    report
                        .error
                        .as_ref()
                        .map(|(_, m)| m.clone())
                        .unwrap_or_else(|| "the comparison is malformed".into()),
                );
            } else {
                // One step, `final = result`: the claim's verdict is the step's.
                g.final_ok = report.verdict.passes() && report.steps.len() == 1;
            }
        }
    }
    g.score = match part.rule {
        Rule::Final if g.final_ok => part.points,
        Rule::AllSteps if g.final_ok && g.first_invalid.is_none() => part.points,
        Rule::PerStep => {
            part.points * (steps_valid + usize::from(g.final_ok)) as f64 / (steps_total + 1) as f64
        }
        _ => 0.0,
    };
    g.note = match (g.final_ok, &g.first_invalid) {
        (true, Some(s)) if part.rule == Rule::AllSteps => format!(
            "the final result is right, but step {} does not follow; under the rule all-steps every step must follow",
            s.index
        ),
        (true, Some(s)) => format!(
            "the final result is right, but step {} does not follow",
            s.index
        ),
        _ => String::new(),
    };
    g
}
