//! Checking files together (their claims in parallel, repeats checked once)
//! gives the same reports as checking each file alone.

use crate::common;

use derive_check::config::Config;
use derive_check::report::{render_json, FileReport, Report};
use derive_check::verdict::VerdictKind;

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
    // With the default wall-clock guard: the test binary's other tests
    // share the one Symbolica engine thread, but the guard counts only a
    // claim's own work, not its waits in the engine's queue.
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

/// The reproducer of the bug "a false claim is reported proved": two files
/// with the same claim ids, the second file's `one` false, claim headers
/// spelled in any way TOML allows.
fn two_files(header: &str) -> [(String, String); 2] {
    let file = |one: &str| {
        format!(
            "title = \"t\"\n[symbols]\nx = \"real\"\n{header}\nid = \"one\"\nshow = \"{one}\"\n{header}\nid = \"two\"\nshow = \"x = x\"\n"
        )
    };
    [
        ("a.toml".to_string(), file("(x + 1)^2 = x^2 + 2x + 1")),
        ("b.toml".to_string(), file("(x + 1)^2 = x^2 + 1")),
    ]
}

const HEADER_SPELLINGS: &[&str] = &[
    "[[claim]]",
    "[[ claim ]]",
    "[[\tclaim\t]]",
    "[[claim ]]",
    "[[ \"claim\" ]]",
    "[['claim']]",
    "[[claim]] # a comment",
    "\n  [[ claim ]]",
];

#[test]
fn false_claim_reported_proved_when_headers_have_spaces_is_refuted_in_both_orders() {
    for header in HEADER_SPELLINGS {
        let [a, b] = two_files(header);
        for memo in [true, false] {
            let config = Config {
                memo,
                ..Config::default()
            };
            for batch in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone()]] {
                let reports = derive_check::check_sources(batch, &config);
                for file in &reports {
                    let one = file.claims.iter().find(|c| c.id == "one").unwrap();
                    let want = if file.path == "b.toml" {
                        VerdictKind::Refuted
                    } else {
                        VerdictKind::Proved
                    };
                    assert_eq!(one.verdict, want, "{} with header {header:?}", file.path);
                    let two = file.claims.iter().find(|c| c.id == "two").unwrap();
                    assert_eq!(two.verdict, VerdictKind::Proved);
                    // Each claim is located at its own header.
                    assert!(two.location.line > one.location.line, "{header:?}");
                }
            }
        }
    }
}

#[test]
fn a_session_reuses_outcomes_only_for_the_same_parsed_claim() {
    // One session, the two files checked one after the other: the second
    // file's false claim shares the id and the header spelling, not the
    // parsed content, so it is checked anew and refuted.
    let session = derive_check::Session::new(Config::default());
    let [a, b] = two_files("[[ claim ]]");
    let first = session.check_source(&a.0, a.1.clone());
    assert!(first
        .claims
        .iter()
        .all(|c| c.verdict == VerdictKind::Proved));
    let second = session.check_source(&b.0, b.1.clone());
    assert_eq!(second.claims[0].verdict, VerdictKind::Refuted);
    // The same text under another name and two lines lower: reused, and
    // located at its own lines.
    let moved = session.check_source("c.toml", format!("# one\n# two\n{}", a.1));
    for (x, y) in first.claims.iter().zip(&moved.claims) {
        assert_eq!(y.location.line, x.location.line + 2);
        assert_eq!(x.steps, y.steps);
    }
}
