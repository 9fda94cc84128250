//! The one place grading reads a step's verdict, so that a change of the
//! verdict type (a struct today, an enum with accessors tomorrow) touches
//! this file only.

use crate::report::StepReport;
use crate::verdict::{Counterexample, VerdictKind};

/// What grading needs of a checked step's verdict.
#[derive(Clone, Copy, Debug)]
pub struct StepView<'a> {
    /// The verdict.
    pub kind: VerdictKind,
    /// The method that decided it (`"none"` when none did).
    pub method: &'a str,
    /// The explanation.
    pub detail: &'a str,
    /// The counterexample of a refuted step.
    pub counterexample: Option<&'a Counterexample>,
    /// How many spot checks agreed.
    pub checks: usize,
}

/// The verdict of a step, seen through [`StepView`].
pub fn view(step: &StepReport) -> StepView<'_> {
    let v = &step.verdict;
    StepView {
        kind: v.kind,
        method: &v.method,
        detail: &v.detail,
        counterexample: v.counterexample.as_ref(),
        checks: v.checks,
    }
}
