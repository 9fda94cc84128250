//! The one evidence rule: how the points tried for a step (agreed,
//! excluded by the domain, undefined, undecided, unusable) become a
//! verdict. Every family — scalars, implications, arrays, matrices,
//! moments — records its points here, so a `checked` always rests on at
//! least [`crate::config::Config::min_checks`] agreeing admissible points.

use crate::verdict::{CrossChecks, Method, StopReason, Verdict};

/// What one candidate point showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PointOutcome {
    /// Admissible, and the step held there.
    Agreed,
    /// Admissible, and the certified enclosures of both sides overlap and
    /// agree to [`crate::config::Budgets::agreement_bits`]: numerical
    /// agreement, which counts towards `checked` but never proves.
    AgreedNumerically,
    /// Admissible, but a side is undefined there (a pole, a root of a
    /// negative number): such points are outside the step's meaning.
    Undefined(String),
    /// Admissible, but the comparison could not be decided with certainty.
    Undecided(String),
    /// Admissible, but the evaluator cannot handle something here.
    Unusable(String),
}

/// The points tried for one step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Evidence {
    /// Points that satisfied the domain.
    pub(crate) admissible: usize,
    /// Admissible points where the step held (exactly or numerically).
    pub(crate) agreed: usize,
    /// Of those, the points that agreed only numerically.
    pub(crate) numerical: usize,
    /// Admissible points where a side is undefined.
    pub(crate) undefined: usize,
    /// Admissible points where the comparison was not decided.
    pub(crate) undecided: usize,
    /// Admissible points the evaluator could not use (a construct it does
    /// not handle, a value beyond the budgets).
    pub(crate) unusable: usize,
    /// Why some point could not be used (the first reason, or the last
    /// reason the evaluator gave up on).
    pub(crate) problem: Option<String>,
    /// The points already tried, so that a repeated point counts once.
    seen: std::collections::BTreeSet<String>,
}

impl Evidence {
    /// Records an admissible point's outcome.
    pub(crate) fn record(&mut self, outcome: PointOutcome) {
        self.admissible += 1;
        match outcome {
            PointOutcome::Agreed => self.agreed += 1,
            PointOutcome::AgreedNumerically => {
                self.agreed += 1;
                self.numerical += 1;
            }
            PointOutcome::Undefined(m) => {
                self.undefined += 1;
                self.problem
                    .get_or_insert_with(|| format!("a side is undefined there ({m})"));
            }
            PointOutcome::Undecided(m) => {
                self.undecided += 1;
                self.problem.get_or_insert(m);
            }
            PointOutcome::Unusable(m) => {
                self.unusable += 1;
                self.problem = Some(m);
            }
        }
    }

    /// Is this the first time the point with this key is tried? A point
    /// drawn twice is evidence once.
    pub(crate) fn first_time(&mut self, key: String) -> bool {
        self.seen.insert(key)
    }

    /// Notes a problem that kept a candidate from being a usable point.
    pub(crate) fn note_problem(&mut self, problem: impl Into<String>) {
        self.problem.get_or_insert_with(|| problem.into());
    }

    /// Did every admissible point agree or fall outside the step's
    /// meaning, with at least one agreeing? (An exhaustive check is then a
    /// proof.)
    pub(crate) fn all_agreed(&self) -> bool {
        self.agreed > 0
            && self.numerical == 0
            && self.agreed + self.undefined == self.admissible
            && self.undecided == 0
    }

    /// The cross-checks of a proof, if any point agreed.
    pub(crate) fn cross_checks(&self, matrices: bool) -> Option<CrossChecks> {
        (self.agreed > 0).then_some(CrossChecks {
            points: self.agreed,
            matrices,
        })
    }

    /// The verdict of sampled points alone: `checked` by `method` when at
    /// least `threshold` agreed, otherwise `unsupported` saying how many
    /// did and why the others did not. `note` says what other methods
    /// found; it is kept on either verdict.
    pub(crate) fn sampled(
        &self,
        threshold: usize,
        method: Method,
        mut notes: Vec<String>,
        note: Option<String>,
    ) -> Verdict {
        if self.agreed >= threshold.max(1) {
            if self.numerical > 0 {
                notes.push(format!(
                    "{} of the {} agreeing points agree numerically, not exactly (irrational values \
                     whose certified enclosures overlap within a relative 2^-{})",
                    self.numerical,
                    self.agreed,
                    crate::config::Budgets::DEFAULT.agreement_bits
                ));
            }
            notes.extend(note);
            return Verdict::Checked {
                method,
                checks: self.agreed,
                notes,
            };
        }
        if self.agreed == 0 {
            return Verdict::Unsupported(StopReason::NoPoints {
                problem: self.problem.clone(),
                note,
            });
        }
        Verdict::Unsupported(StopReason::TooFewPoints {
            agreed: self.agreed,
            admissible: self.admissible,
            needed: threshold,
            problem: self.problem.clone(),
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checked_verdict_needs_the_threshold() {
        let mut e = Evidence::default();
        for _ in 0..19 {
            e.record(PointOutcome::Agreed);
        }
        let v = e.sampled(20, Method::SpotChecks, Vec::new(), None);
        assert!(matches!(
            v,
            Verdict::Unsupported(StopReason::TooFewPoints {
                agreed: 19,
                needed: 20,
                ..
            })
        ));
        e.record(PointOutcome::Agreed);
        assert!(matches!(
            e.sampled(20, Method::SpotChecks, Vec::new(), None),
            Verdict::Checked { checks: 20, .. }
        ));
    }

    #[test]
    fn no_agreeing_point_is_no_evidence() {
        let mut e = Evidence::default();
        e.record(PointOutcome::Undefined("division by zero".into()));
        let v = e.sampled(20, Method::SpotChecks, Vec::new(), None);
        assert_eq!(
            v.detail(),
            "no admissible point could be evaluated: a side is undefined there (division by zero)"
        );
        assert!(!e.all_agreed());
    }

    #[test]
    fn exhaustion_counts_undefined_points_as_outside_the_step() {
        let mut e = Evidence::default();
        e.record(PointOutcome::Agreed);
        e.record(PointOutcome::Undefined("division by zero".into()));
        assert!(e.all_agreed());
        e.record(PointOutcome::Undecided("too wide".into()));
        assert!(!e.all_agreed());
    }

    #[test]
    fn numerical_agreement_counts_for_checked_but_never_for_exhaustion() {
        let mut e = Evidence::default();
        e.record(PointOutcome::Agreed);
        e.record(PointOutcome::AgreedNumerically);
        assert!(!e.all_agreed());
        for _ in 0..18 {
            e.record(PointOutcome::AgreedNumerically);
        }
        let v = e.sampled(20, Method::SpotChecks, Vec::new(), None);
        assert!(
            matches!(&v, Verdict::Checked { checks: 20, notes, .. } if notes[0].contains("19 of the 20"))
        );
    }
}
