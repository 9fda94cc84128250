//! Verdicts: what a check concluded about one step, with its evidence.
//! A false step is a result ([`VerdictKind::Refuted`] with a
//! [`Counterexample`]), never an error.

use std::collections::BTreeMap;

/// The five verdicts of FORMAT.md, ordered best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerdictKind {
    /// Holds for every admissible value, by a named sound method.
    Proved,
    /// No proof, but every spot check agreed.
    Checked,
    /// The engine cannot judge this step.
    Unsupported,
    /// A certified counterexample.
    Refuted,
    /// The claim is malformed.
    Error,
}

impl VerdictKind {
    /// The verdict's name in reports and files.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Proved => "proved",
            VerdictKind::Checked => "checked",
            VerdictKind::Unsupported => "unsupported",
            VerdictKind::Refuted => "refuted",
            VerdictKind::Error => "error",
        }
    }

    /// Reads a verdict name as written in `expect`.
    pub fn parse(s: &str) -> Option<VerdictKind> {
        Some(match s {
            "proved" => VerdictKind::Proved,
            "checked" => VerdictKind::Checked,
            "unsupported" => VerdictKind::Unsupported,
            "refuted" => VerdictKind::Refuted,
            "error" => VerdictKind::Error,
            _ => return None,
        })
    }

    /// Does a claim with this verdict pass without an `expect`?
    pub fn passes(self) -> bool {
        matches!(self, VerdictKind::Proved | VerdictKind::Checked)
    }
}

/// One mismatching entry of an array comparison (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMismatch {
    /// Row and column, 1-based.
    pub entry: (usize, usize),
    /// The left side's exact value there.
    pub lhs: String,
    /// The right side's exact value there.
    pub rhs: String,
}

/// Admissible values at which a step fails, with both sides' values.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Counterexample {
    /// The point: each free symbol's exact value.
    pub values: BTreeMap<String, String>,
    /// The left side's value (of the first mismatching entry, for arrays).
    pub lhs: String,
    /// The right side's value.
    pub rhs: String,
    /// For arrays: every mismatching entry.
    pub mismatches: Vec<EntryMismatch>,
}

/// The outcome of checking one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepVerdict {
    /// The verdict.
    pub kind: VerdictKind,
    /// The method that decided it, e.g. "exact symbolic normal form".
    pub method: String,
    /// Further explanation: rules used, excluded points, the reason for `unsupported`.
    pub detail: String,
    /// The certified counterexample of a refuted step.
    pub counterexample: Option<Counterexample>,
    /// How many spot checks agreed (for `checked`).
    pub checks: usize,
    /// For an `error`: the piece of the `show` text at fault.
    pub span: Option<crate::syntax::expr::Span>,
}

impl StepVerdict {
    /// A verdict with a method and detail and no evidence attached.
    pub fn new(
        kind: VerdictKind,
        method: impl Into<String>,
        detail: impl Into<String>,
    ) -> StepVerdict {
        StepVerdict {
            kind,
            method: method.into(),
            detail: detail.into(),
            counterexample: None,
            checks: 0,
            span: None,
        }
    }

    /// `unsupported` with a reason.
    pub fn unsupported(reason: impl Into<String>) -> StepVerdict {
        StepVerdict::new(VerdictKind::Unsupported, "none", reason)
    }
}
