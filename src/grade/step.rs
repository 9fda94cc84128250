//! The one place grading reads a step's verdict: what feedback and the
//! gradebooks need of it, in their own terms.

use crate::report::StepReport;
use crate::verdict::{Counterexample, VerdictKind};

/// What grading needs of a checked step's verdict.
#[derive(Clone, Debug)]
pub struct StepView<'a> {
    /// The verdict.
    pub kind: VerdictKind,
    /// The method that decided it (`"none"` when none did).
    pub method: String,
    /// The explanation.
    pub detail: String,
    /// The counterexample of a refuted step.
    pub counterexample: Option<&'a Counterexample>,
    /// How many spot checks agreed.
    pub checks: usize,
}

/// The verdict of a step, seen through [`StepView`].
pub fn view(step: &StepReport) -> StepView<'_> {
    let v = &step.verdict;
    StepView {
        kind: v.kind(),
        method: v.method_text(),
        detail: v.detail(),
        counterexample: v.counterexample(),
        checks: v.checks(),
    }
}
