//! Checking files together (their claims in parallel, repeats checked once)
//! gives the same reports as checking each file alone.

mod common;

use derive_check::config::Config;
use derive_check::report::{render_json, FileReport, Report};

fn json(files: Vec<FileReport>) -> String {
    render_json(&Report { seed: 1, files })
}

fn inputs() -> Vec<(String, String)> {
    let root = common::root();
    let mut paths: Vec<_> = ["q3", "q4", "q7"]
        .iter()
        .map(|q| root.join(format!("derivations/{q}.toml")))
        .collect();
    paths.extend(common::toml_files(&root.join("tests/data")));
    paths
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

#[test]
fn a_batch_reports_what_single_files_report() {
    let config = Config {
        memo: false,
        ..Config::default()
    };
    let inputs = inputs();
    assert!(inputs.len() > 5);
    let alone: Vec<FileReport> = inputs
        .iter()
        .map(|(p, t)| derive_check::check_source(p, t.clone(), &config))
        .collect();
    let together = derive_check::check_sources(inputs, &config);
    assert_eq!(json(together), json(alone));
}

#[test]
fn repeated_claims_in_a_batch_are_reported_at_their_own_lines() {
    // The same answer twice, the second copy two lines lower: with the memo
    // the repeats are checked once, and every report equals the memo-free one.
    let (path, text) = inputs()
        .into_iter()
        .find(|(p, _)| p.ends_with("q7.toml"))
        .unwrap();
    let shifted = format!("# a copy\n# of q7\n{text}");
    let batch = vec![(path.clone(), text), ("copy/q7.toml".to_string(), shifted)];
    let with_memo = derive_check::check_sources(batch.clone(), &Config::default());
    let without = derive_check::check_sources(
        batch,
        &Config {
            memo: false,
            ..Config::default()
        },
    );
    assert_eq!(json(with_memo.clone()), json(without));
    let (a, b) = (&with_memo[0], &with_memo[1]);
    assert!(!a.claims.is_empty());
    assert_eq!(a.claims.len(), b.claims.len());
    for (x, y) in a.claims.iter().zip(&b.claims) {
        assert_eq!(y.location.line, x.location.line + 2, "{}", x.id);
        assert_eq!(x.verdict, y.verdict, "{}", x.id);
    }
}
