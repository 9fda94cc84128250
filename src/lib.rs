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
/// All symbolic work runs on the engine thread (see [`cas`]).
pub fn check_source(path: &str, text: String, config: &Config) -> FileReport {
    let path_owned = path.to_string();
    let config_owned = config.clone();
    match cas::run(move || check_on_engine(&path_owned, text, &config_owned)) {
        Ok(r) => r,
        Err(panic) => FileReport {
            path: path.to_string(),
            title: None,
            failure: Some(diagnostic::Diagnostic {
                file: path.to_string(),
                location: diagnostic::Location { line: 1, column: 1 },
                message: format!("internal error while checking this file: {panic}"),
            }),
            diagnostics: Vec::new(),
            claims: Vec::new(),
        },
    }
}

/// Most claim reports remembered per process. Default: 100 000.
const MEMO_LIMIT: usize = 100_000;

thread_local! {
    static CLAIM_MEMO: std::cell::RefCell<std::collections::HashMap<String, ClaimReport>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
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

fn check_on_engine(path: &str, text: String, config: &Config) -> FileReport {
    let derivation = match derivation::load(path, text) {
        Ok(d) => d,
        Err(d) => {
            return FileReport {
                path: path.to_string(),
                title: None,
                failure: Some(d),
                diagnostics: Vec::new(),
                claims: Vec::new(),
            }
        }
    };
    let (ctx, diagnostics) = resolve::resolve_context(&derivation);
    // Claims already checked in the same context (a batch of similar answers)
    // are reused: the report is a pure function of the declarations, the
    // claim's own text and the settings, so only its lines are shifted.
    let context_key = (config.memo && diagnostics.is_empty())
        .then(|| format!("{config:?}|{}|", derivation.context_text()));
    let mut claims = Vec::new();
    for i in 0..derivation.claims.len() {
        let claim = resolve::resolve_claim(&derivation, &ctx, i);
        if !config.only.is_empty() && !config.only.contains(&claim.id) {
            continue;
        }
        let key = context_key
            .as_ref()
            .filter(|_| derivation.claims[i].problems.is_empty())
            .map(|k| format!("{k}{}", derivation.claim_text(i)));
        if let Some(cached) = key
            .as_ref()
            .and_then(|k| CLAIM_MEMO.with(|m| m.borrow().get(k).cloned()))
        {
            claims.push(shift_lines(cached, claim.location.line));
            continue;
        }
        // One claim's internal failure must not stop the others.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check::check_claim(&claim, &ctx, config)
        }));
        let report = checked.unwrap_or_else(|p| {
            let message = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            ClaimReport {
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
                    verdict: verdict::StepVerdict::unsupported(format!(
                        "internal error: {message}"
                    )),
                }],
            }
        });
        if let Some(k) = key {
            CLAIM_MEMO.with(|m| {
                let mut m = m.borrow_mut();
                if m.len() < MEMO_LIMIT {
                    m.insert(k, report.clone());
                }
            });
        }
        claims.push(report);
    }
    FileReport {
        path: path.to_string(),
        title: Some(derivation.title.clone()),
        failure: None,
        diagnostics,
        claims,
    }
}
