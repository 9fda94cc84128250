//! Data-driven verdict tests: every claim of every file under `tests/data/`
//! carries the verdict it must get in `expect`; a claim that misses it fails
//! the test with its rendered report.

use crate::common;

use derive_check::config::Config;
use derive_check::report::render_human;
use derive_check::verdict::VerdictKind;

/// Every claim of the fixture meets its expectation (its `expect`, or
/// `proved`/`checked` without one); a claim of `tests/data/` must say what it
/// expects.
pub fn fixture(path: &std::path::Path) {
    let file = common::check_file(path, &Config::default());
    assert!(
        file.failure.is_none(),
        "{}: {:?}",
        path.display(),
        file.failure
    );
    assert!(
        !file.claims.is_empty(),
        "{} holds no claims",
        path.display()
    );
    let data = path.starts_with(common::root().join("tests/data"));
    let mut failures = Vec::new();
    for claim in &file.claims {
        assert!(
            !data || claim.expect.is_some(),
            "{}: claim {} has no `expect`",
            path.display(),
            claim.id
        );
        for step in &claim.steps {
            assert!(
                !matches!(
                    step.verdict,
                    derive_check::verdict::Verdict::Unsupported(
                        derive_check::verdict::StopReason::GuardReached { .. }
                    )
                ),
                "{}: claim {} reached the wall-clock guard: a budget of work is missing on its path",
                path.display(),
                claim.id
            );
        }
        if !claim.met_expectation() {
            let report = derive_check::report::Report {
                seed: 1,
                files: vec![derive_check::report::FileReport {
                    claims: vec![claim.clone()],
                    ..file.clone()
                }],
            };
            failures.push(render_human(&report));
        }
    }
    assert!(
        failures.is_empty(),
        "claims that missed their expectation:\n{}",
        failures.join("\n")
    );
}

#[test]
fn refutations_carry_certified_values() {
    let file = common::check_file(
        &common::root().join("tests/data/scalar.toml"),
        &Config::default(),
    );
    for claim in file
        .claims
        .iter()
        .filter(|c| c.verdict == VerdictKind::Refuted)
    {
        let step = claim
            .steps
            .iter()
            .find(|s| s.verdict.kind() == VerdictKind::Refuted)
            .expect("a refuted step");
        let ce = step
            .verdict
            .counterexample()
            .unwrap_or_else(|| panic!("{}: no counterexample", claim.id));
        // A strict inequality is refuted where both sides are equal.
        if step.relation != "<" && step.relation != ">" {
            assert_ne!(
                ce.lhs, ce.rhs,
                "{}: a counterexample must show differing values",
                claim.id
            );
        }
    }
}

#[test]
fn same_seed_same_bytes_other_seed_same_verdicts() {
    // Two independent checks (no memo, so the second is not a copy of the
    // first) of every file give the same bytes.
    let fresh = Config {
        memo: false,
        ..Config::default()
    };
    for path in common::toml_files(&common::root().join("tests/data")) {
        let a = common::render(common::check_file(&path, &fresh), 1);
        let b = common::render(common::check_file(&path, &fresh), 1);
        assert_eq!(
            a,
            b,
            "two runs with the same seed differ on {}",
            path.display()
        );
    }
    let path = common::root().join("tests/data/scalar.toml");
    let other = Config {
        seed: 987_654_321,
        ..Config::default()
    };
    let c = common::check_file(&path, &other);
    let d = common::check_file(&path, &Config::default());
    let verdicts = |f: &derive_check::report::FileReport| {
        f.claims.iter().map(|c| c.verdict).collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&c), verdicts(&d), "verdicts depend on the seed");
}
