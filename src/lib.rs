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
//! The pipeline runs one way: [`derivation::load`] (TOML → spanned strings),
//! [`resolve`] (strings → kinds, definitions, parsed claims), [`check`]
//! (claims → verdicts, using [`normal`] and the CAS boundary [`cas`] for
//! proofs and [`eval`] / [`spot`] for exact spot checks), then [`report`]
//! (verdicts → human or JSON text). File IO lives only in [`cli`].
//!
//! ```
//! // Parsing and rendering are pure; checking runs on the engine thread.
//! let config = derive_check::config::Config::default();
//! assert_eq!(config.samples, 40);
//! ```

pub mod arrays;
pub mod cas;
pub mod check;
pub mod cli;
pub mod config;
pub mod derivation;
pub mod diagnostic;
pub mod diff;
pub mod domain;
pub mod eval;
pub mod expand;
pub mod expr;
pub mod grade;
pub mod induction;
pub mod layers;
pub mod matrix;
pub mod moments;
pub mod normal;
pub mod parser;
pub mod polynomial;
pub mod real;
pub mod report;
pub mod resolve;
pub mod spot;
pub mod sums;
pub mod verdict;

use config::Config;
use report::{ClaimReport, FileReport};

/// Checks one derivation file given its path (for messages) and text.
/// The same as [`check_sources`] with one file.
pub fn check_source(path: &str, text: String, config: &Config) -> FileReport {
    check_sources(vec![(path.to_string(), text)], config)
        .pop()
        .expect("one report per file")
}

/// Checks derivation files given as (path, text) pairs; one report per file,
/// in order.
///
/// The files are read and resolved on the engine thread (see [`cas`]), which
/// has a large stack for our recursive checks; their claims, all files'
/// together, are checked in parallel by [`cas::parallel_map`]. Every report
/// is the same whatever the number of threads and the timing.
pub fn check_sources(inputs: Vec<(String, String)>, config: &Config) -> Vec<FileReport> {
    let paths: Vec<String> = inputs.iter().map(|(p, _)| p.clone()).collect();
    let config_owned = config.clone();
    match cas::run(move || check_files(inputs, &config_owned)) {
        Ok(r) => r,
        Err(panic) => paths
            .into_iter()
            .map(|path| FileReport {
                failure: Some(diagnostic::Diagnostic {
                    file: path.clone(),
                    location: diagnostic::Location { line: 1, column: 1 },
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

/// Most claim reports remembered per process. Default: 100 000.
const MEMO_LIMIT: usize = 100_000;

/// Claim reports already computed in this process, by key (see `check_files`).
static CLAIM_MEMO: std::sync::Mutex<Option<std::collections::HashMap<String, ClaimReport>>> =
    std::sync::Mutex::new(None);

fn memo_get(key: &str) -> Option<ClaimReport> {
    let m = CLAIM_MEMO.lock().unwrap_or_else(|e| e.into_inner());
    m.as_ref().and_then(|m| m.get(key).cloned())
}

fn memo_put(key: String, report: &ClaimReport) {
    let mut m = CLAIM_MEMO.lock().unwrap_or_else(|e| e.into_inner());
    let m = m.get_or_insert_with(Default::default);
    if m.len() < MEMO_LIMIT {
        m.insert(key, report.clone());
    }
}

/// A remembered claim report moved to the claim's line in another file.
fn shift_lines(mut r: ClaimReport, line: usize) -> ClaimReport {
    let delta = line as i64 - r.location.line as i64;
    let shift = |l: usize| (l as i64 + delta).max(1) as usize;
    r.location.line = shift(r.location.line);
    if let Some((loc, _)) = &mut r.error {
        loc.line = shift(loc.line);
    }
    r
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

fn check_files(inputs: Vec<(String, String)>, config: &Config) -> Vec<FileReport> {
    let mut files = Vec::new();
    let mut todo: Vec<Todo> = Vec::new();
    // Claims whose memo key an earlier claim of this batch has: (file, slot,
    // that claim's index in `todo`, this claim's line).
    let mut first_of_key: std::collections::HashMap<String, usize> = Default::default();
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
        let derivation = match derivation::load(&path, text) {
            Ok(d) => d,
            Err(d) => {
                work.report.failure = Some(d);
                files.push(work);
                continue;
            }
        };
        let (ctx, diagnostics) = resolve::resolve_context(&derivation);
        // Claims already checked in the same context (a batch of similar
        // answers) are reused: the report is a pure function of the
        // declarations, the claim's own text and the settings, so only its
        // lines are shifted.
        let context_key = (config.memo && diagnostics.is_empty())
            .then(|| format!("{config:?}|{}|", derivation.context_text()));
        for i in 0..derivation.claims.len() {
            let claim = resolve::resolve_claim(&derivation, &ctx, i);
            if !config.only.is_empty() && !config.only.contains(&claim.id) {
                continue;
            }
            let key = context_key
                .as_ref()
                .filter(|_| derivation.claims[i].problems.is_empty())
                .map(|k| format!("{k}{}", derivation.claim_text(i)));
            if let Some(cached) = key.as_deref().and_then(memo_get) {
                work.slots
                    .push(Some(shift_lines(cached, claim.location.line)));
                continue;
            }
            if let Some(&t) = key.as_ref().and_then(|k| first_of_key.get(k)) {
                repeats.push((f, work.slots.len(), t, claim.location.line));
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
    let internal_error = |claim: &resolve::Claim, message: String| ClaimReport {
        id: claim.id.clone(),
        location: claim.location,
        text: claim.text.clone(),
        verdict: verdict::VerdictKind::Unsupported,
        expect: claim.expect,
        error: None,
        steps: vec![report::StepReport {
            lhs: String::new(),
            relation: String::new(),
            rhs: String::new(),
            verdict: verdict::StepVerdict::unsupported(format!("internal error: {message}")),
        }],
    };
    let check_one = |(f, _, claim, key): &Todo| -> ClaimReport {
        // One claim's internal failure must not stop the others.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check::check_claim(claim, ctx_of(*f), config)
        }));
        let report = checked.unwrap_or_else(|p| internal_error(claim, cas::panic_message(p)));
        if let Some(k) = key {
            memo_put(k.clone(), &report);
        }
        report
    };
    // Claims are independent: check them in parallel, each result going to
    // its own slot, so the reports are the same whatever the timing.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = cas::parallel_map(
        &todo,
        threads,
        |(f, _, claim, _)| check::mostly_exact(claim, ctx_of(*f)),
        check_one,
    );
    let mut filled = Vec::with_capacity(todo.len());
    for ((f, slot, claim, _), report) in todo.iter().zip(results) {
        filled.push((
            *f,
            *slot,
            report.unwrap_or_else(|| {
                internal_error(claim, "its check stopped without a result".into())
            }),
        ));
    }
    let repeated: Vec<_> = repeats
        .into_iter()
        .map(|(f, slot, t, line)| (f, slot, shift_lines(filled[t].2.clone(), line)))
        .collect();
    for (f, slot, report) in filled.into_iter().chain(repeated) {
        files[f].slots[slot] = Some(report);
    }
    files
        .into_iter()
        .map(|mut w| {
            w.report.claims = w.slots.into_iter().flatten().collect();
            w.report
        })
        .collect()
}
