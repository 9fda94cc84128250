//! # derive-check
//!
//! Checks derivation-style math answers. A derivation file (TOML, see
//! FORMAT.md) holds the claims of one answer; each claim's `show` is a chain
//! of relations, and every neighbouring pair is a step. Each step gets one
//! verdict: `proved` (a named sound method: exact symbolic normal form, sign
//! of a difference, exact evaluation, exhaustion of a finite domain),
//! `refuted` (a certified counterexample with both sides' exact values),
//! `checked` (only spot checks agreed), `unsupported` (with the reason) or
//! `error` (a located problem with the claim).
//!
//! The pipeline runs one way: [`syntax`] (TOML → spanned strings →
//! expressions), [`resolve`] (declarations, definitions, parsed claims and
//! the family each step belongs to), `check` (one dispatch from family to
//! method: the `families` use `symbolic` for proofs, with the CAS boundary
//! `symbolic::cas`, and `exact` for exact evaluation and spot checks; one
//! evidence rule turns points into verdicts), then [`report`] (verdicts →
//! human or JSON text) and [`grade`] (reports against a key). File IO lives
//! only in [`cli`]. ARCHITECTURE.md has the code map and the invariants.
//!
//! ```
//! // Parsing and rendering are pure; checking runs on the engine thread.
//! let config = derive_check::config::Config::default();
//! assert_eq!(config.budgets.samples, 40);
//! ```

#![warn(unreachable_pub)]
// Judgment calls kept on purpose: checkers return rich verdicts in `Err`
// (moved once per step, not in a hot loop), and `Real`-like helper types
// name their arithmetic `add`/`mul`/`neg` without the operator traits
// because those are fallible or rounding-directed.
#![allow(clippy::result_large_err, clippy::should_implement_trait)]

mod check;
pub mod cli;
pub mod config;
mod exact;
pub mod extract;
mod families;
pub mod grade;
mod guard;
pub mod report;
pub mod resolve;
mod symbolic;
pub mod syntax;
pub mod verdict;

use config::Config;
use report::{ClaimReport, FileReport};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use symbolic::cas;
use syntax::{load, source};

/// One run's settings and the outcomes of the claims it has checked.
///
/// A claim already checked in this session with the same parsed content,
/// the same declarations it uses and the same settings (a class of similar
/// answers) is not checked again: its outcome is reused and located at the
/// new claim (see `resolve::ClaimBody::memo_key`). The memo belongs to the
/// session the caller creates, never to the process.
#[derive(Clone, Debug)]
pub struct Session {
    config: Config,
    memo: Arc<Mutex<HashMap<String, check::ClaimOutcome>>>,
}

impl Session {
    /// A session with these settings and an empty memo.
    pub fn new(config: Config) -> Session {
        Session {
            config,
            memo: Arc::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Checks one derivation file given its path (for messages) and text.
    /// The same as [`Session::check_sources`] with one file.
    pub fn check_source(&self, path: &str, text: String) -> FileReport {
        self.check_sources(vec![(path.to_string(), text)])
            .pop()
            .expect("one report per file")
    }

    /// Checks derivation files given as (path, text) pairs; one report per
    /// file, in order.
    ///
    /// The files are read and resolved on the engine thread (see [`cas`]),
    /// which has a large stack for our recursive checks; their claims, all
    /// files' together, are checked in parallel by [`cas::parallel_map`].
    /// Every report is the same whatever the number of threads and the timing.
    pub fn check_sources(&self, inputs: Vec<(String, String)>) -> Vec<FileReport> {
        let paths: Vec<String> = inputs.iter().map(|(p, _)| p.clone()).collect();
        let session = self.clone();
        match cas::run(move || check_files(inputs, &session)) {
            Ok(r) => r,
            Err(panic) => paths
                .into_iter()
                .map(|path| FileReport {
                    failure: Some(source::Diagnostic {
                        file: path.clone(),
                        location: source::Location { line: 1, column: 1 },
                        message: format!("internal error while checking this file: {panic}"),
                    }),
                    path,
                    title: None,
                    diagnostics: Vec::new(),
                    claims: Vec::new(),
                })
                .collect(),
        }
    }

    /// Checks claims resolved by the caller, each in its own context (for
    /// grading: an answer's claims, and final results built from a key and
    /// an answer); one report per claim, in order. The claims are checked
    /// in parallel on the engine thread like a file's, through this
    /// session's memo. A claim whose check fails internally gets an `error`
    /// report, which never counts as a pass.
    pub fn check_claims(
        &self,
        claims: Vec<(resolve::Claim, Arc<resolve::Context>)>,
    ) -> Vec<ClaimReport> {
        let failed = |claim: &resolve::Claim, message: String| ClaimReport {
            id: claim.id.clone(),
            location: claim.location,
            text: claim.text.clone(),
            verdict: verdict::VerdictKind::Error,
            expect: claim.expect,
            error: Some((claim.location, format!("internal error: {message}"))),
            steps: Vec::new(),
            notes: Vec::new(),
        };
        let heads: Vec<resolve::Claim> = claims.iter().map(|(c, _)| c.clone()).collect();
        let session = self.clone();
        let run = cas::run(move || {
            let settings = format!("{:?}", session.config);
            let check_one = |(claim, ctx): &(resolve::Claim, Arc<resolve::Context>)| {
                let Ok(body) = &claim.body else {
                    return check::check_claim(claim, ctx, &session.config);
                };
                let key = session
                    .config
                    .memo
                    .then(|| body.memo_key(&claim.id, ctx, &settings));
                if let Some(outcome) = key.as_deref().and_then(|k| session.remembered(k)) {
                    return outcome.locate(claim);
                }
                let outcome = check::check_body(&claim.id, body, ctx, &session.config);
                if let Some(k) = key {
                    session.remember(k, &outcome);
                }
                outcome.locate(claim)
            };
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            cas::parallel_map(
                &claims,
                threads,
                |(claim, _)| check::mostly_exact(claim),
                check_one,
            )
        });
        match run {
            Ok(reports) => reports
                .into_iter()
                .zip(&heads)
                .map(|(r, claim)| {
                    r.unwrap_or_else(|| failed(claim, "its check stopped without a result".into()))
                })
                .collect(),
            Err(panic) => heads.iter().map(|c| failed(c, panic.clone())).collect(),
        }
    }

    fn remembered(&self, key: &str) -> Option<check::ClaimOutcome> {
        let memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.get(key).cloned()
    }

    fn remember(&self, key: String, outcome: &check::ClaimOutcome) {
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        if memo.len() < self.config.budgets.memo_entries {
            memo.insert(key, outcome.clone());
        }
    }
}

/// Checks one derivation file in a fresh [`Session`] with these settings.
pub fn check_source(path: &str, text: String, config: &Config) -> FileReport {
    Session::new(config.clone()).check_source(path, text)
}

/// Checks derivation files in a fresh [`Session`] with these settings.
pub fn check_sources(inputs: Vec<(String, String)>, config: &Config) -> Vec<FileReport> {
    Session::new(config.clone()).check_sources(inputs)
}

/// One file on its way through [`check_files`].
struct FileWork {
    ctx: Option<resolve::Context>,
    report: FileReport,
    /// One per selected claim, in file order; filled by the memo or a check.
    slots: Vec<Option<ClaimReport>>,
}

/// A claim to check: its file, its slot there, the claim and its memo key.
type Todo = (usize, usize, resolve::Claim, Option<String>);

fn check_files(inputs: Vec<(String, String)>, session: &Session) -> Vec<FileReport> {
    let config = &session.config;
    let settings = format!("{config:?}");
    let mut files = Vec::new();
    let mut todo: Vec<Todo> = Vec::new();
    // Claims whose memo key an earlier claim of this batch has: (file, slot,
    // that claim's index in `todo`, the claim).
    let mut first_of_key: HashMap<String, usize> = HashMap::new();
    let mut repeats = Vec::new();
    for (f, (path, text)) in inputs.into_iter().enumerate() {
        let mut work = FileWork {
            report: FileReport {
                path: path.clone(),
                title: None,
                failure: None,
                diagnostics: Vec::new(),
                claims: Vec::new(),
            },
            ctx: None,
            slots: Vec::new(),
        };
        let derivation = match load::load(&path, text) {
            Ok(d) => d,
            Err(d) => {
                work.report.failure = Some(d);
                files.push(work);
                continue;
            }
        };
        let (ctx, diagnostics) = resolve::resolve_context(&derivation);
        for i in 0..derivation.claims.len() {
            let claim = resolve::resolve_claim(&derivation, &ctx, i);
            if !config.only.is_empty() && !config.only.contains(&claim.id) {
                continue;
            }
            // A malformed claim's report is its located error: nothing to check.
            let Ok(body) = &claim.body else {
                work.slots
                    .push(Some(check::check_claim(&claim, &ctx, config)));
                continue;
            };
            let key = config
                .memo
                .then(|| body.memo_key(&claim.id, &ctx, &settings));
            if let Some(outcome) = key.as_deref().and_then(|k| session.remembered(k)) {
                work.slots.push(Some(outcome.locate(&claim)));
                continue;
            }
            if let Some(&t) = key.as_ref().and_then(|k| first_of_key.get(k)) {
                repeats.push((f, work.slots.len(), t, claim));
                work.slots.push(None);
                continue;
            }
            if let Some(k) = &key {
                first_of_key.insert(k.clone(), todo.len());
            }
            todo.push((f, work.slots.len(), claim, key));
            work.slots.push(None);
        }
        work.report.title = Some(derivation.title.clone());
        work.report.diagnostics = diagnostics;
        work.ctx = Some(ctx);
        files.push(work);
    }
    let ctx_of = |f: usize| files[f].ctx.as_ref().expect("a loaded file has a context");
    let internal_error = |message: String| check::ClaimOutcome {
        verdict: verdict::VerdictKind::Unsupported,
        error: None,
        steps: vec![report::StepReport {
            lhs: String::new(),
            relation: String::new(),
            rhs: String::new(),
            verdict: verdict::Verdict::Unsupported(verdict::StopReason::Internal(message)),
        }],
        notes: Vec::new(),
    };
    let check_one = |(f, _, claim, key): &Todo| -> check::ClaimOutcome {
        let Ok(body) = &claim.body else {
            return internal_error("a malformed claim was queued for checking".into());
        };
        // One claim's internal failure must not stop the others.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check::check_body(&claim.id, body, ctx_of(*f), config)
        }));
        let outcome = checked.unwrap_or_else(|p| internal_error(cas::panic_message(p)));
        if let Some(k) = key {
            session.remember(k.clone(), &outcome);
        }
        outcome
    };
    // Claims are independent: check them in parallel, each result going to
    // its own slot, so the reports are the same whatever the timing.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = cas::parallel_map(
        &todo,
        threads,
        |(_, _, claim, _)| check::mostly_exact(claim),
        check_one,
    );
    let outcomes: Vec<check::ClaimOutcome> = results
        .into_iter()
        .map(|o| o.unwrap_or_else(|| internal_error("its check stopped without a result".into())))
        .collect();
    for ((f, slot, claim, _), outcome) in todo.iter().zip(&outcomes) {
        files[*f].slots[*slot] = Some(outcome.clone().locate(claim));
    }
    for (f, slot, t, claim) in repeats {
        files[f].slots[slot] = Some(outcomes[t].clone().locate(&claim));
    }
    files
        .into_iter()
        .map(|mut w| {
            w.report.claims = w.slots.into_iter().flatten().collect();
            w.report
        })
        .collect()
}
