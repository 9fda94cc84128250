//! Grading: a key and a batch of answers under `tests/data/grade/`, graded
//! through the library (all Symbolica work on the engine thread), with each
//! output format snapshot-tested and the scores asserted.

use derive_check::config::Config;
use derive_check::grade::{self, Gradebook, Memo};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/grade")
}

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn book() -> Gradebook {
    let key = grade::load_key("key.toml", read(&root().join("key.toml"))).expect("the key loads");
    let mut memo = Memo::default();
    let mut subs = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join("batch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        let mut files = Vec::new();
        if e.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(&e)
                .unwrap()
                .map(|x| x.unwrap().path())
                .collect();
            inner.sort();
            for f in inner {
                files.push((
                    format!("{name}/{}", f.file_name().unwrap().to_string_lossy()),
                    read(&f),
                ));
            }
        } else {
            files.push((name.clone(), read(&e)));
        }
        subs.push(grade::grade_submission(
            &key,
            &name,
            &files,
            &Config::default(),
            &mut memo,
        ));
    }
    Gradebook {
        key: "key.toml".into(),
        seed: 1,
        part_ids: key.parts.iter().map(|p| p.id.clone()).collect(),
        submissions: subs,
    }
}

fn score(b: &Gradebook, who: &str, part: &str) -> f64 {
    let s = b.submissions.iter().find(|s| s.name == who).unwrap();
    s.parts.iter().find(|p| p.id == part).unwrap().score
}

#[test]
fn scores_follow_the_rules() {
    let b = book();
    let alice = b
        .submissions
        .iter()
        .find(|s| s.name == "alice.toml")
        .unwrap();
    assert_eq!(
        alice.score(),
        alice.max_score(),
        "{}",
        grade::render_human(&b)
    );
    // Bob: wrong final result; right result after a wrong step (per-step: 1 of 2 steps + final = 2/3);
    // final-only rule ignores the wrong step; the array part is missing.
    assert_eq!(score(&b, "bob.toml", "2d"), 0.0);
    assert!((score(&b, "bob.toml", "square") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(score(&b, "bob.toml", "final-only"), 1.0);
    assert_eq!(score(&b, "bob.toml", "array"), 0.0);
    let bob = b.submissions.iter().find(|s| s.name == "bob.toml").unwrap();
    let sq = bob.parts.iter().find(|p| p.id == "square").unwrap();
    let step = sq.first_invalid.as_ref().expect("the wrong step is named");
    assert_eq!(step.index, 2);
    assert!(step.step.verdict.counterexample().is_some());
    assert!(bob
        .parts
        .iter()
        .find(|p| p.id == "array")
        .unwrap()
        .note
        .contains("missing"));
    // Carol: two files form one submission; her array has one wrong entry.
    assert_eq!(score(&b, "carol", "square"), 1.0);
    assert_eq!(score(&b, "carol", "array"), 0.0);
    let carol = b.submissions.iter().find(|s| s.name == "carol").unwrap();
    let arr = carol.parts.iter().find(|p| p.id == "array").unwrap();
    assert!(
        grade::feedback(arr).contains("(2, 2): 22 vs 23"),
        "{}",
        grade::feedback(arr)
    );
    // Dave's file is not valid TOML: zero, with the problem named, and the batch goes on.
    let dave = b
        .submissions
        .iter()
        .find(|s| s.name == "dave.toml")
        .unwrap();
    assert_eq!(dave.score(), 0.0);
    assert!(
        dave.problems.iter().any(|p| p.contains("dave.toml:1:")),
        "{:?}",
        dave.problems
    );
}

#[test]
fn every_format_is_snapshot_tested() {
    let b = book();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!("grade.human", grade::render_human(&b));
        insta::assert_snapshot!("grade.json", grade::render_json(&b));
        insta::assert_snapshot!("grade.junit", grade::render_junit(&b));
        insta::assert_snapshot!("grade.csv", grade::render_csv(&b));
        let one = Gradebook {
            submissions: vec![b.submissions[0].clone()],
            ..b.clone()
        };
        insta::assert_snapshot!("grade.gradescope", grade::render_gradescope(&one));
    });
}

#[test]
fn bad_keys_are_located_errors() {
    let bad = |text: &str| grade::load_key("k.toml", text.to_string()).unwrap_err();
    let e = bad("title = \"k\"\n[[answer]]\nid = \"a\"\nresult = \"1\"\npoints = 1\n[[answer]]\nid = \"a\"\nresult = \"2\"\npoints = 1\n");
    assert!(e.message.contains("duplicate part `a`"), "{e}");
    assert_eq!(e.location.line, 6);
    let e = bad("title = \"k\"\n[[answer]]\nid = \"a\"\nresult = \"1 +\"\npoints = 1\n");
    assert!(e.message.contains("in the result of `a`"), "{e}");
    assert_eq!((e.location.line, e.location.column), (4, 14));
    let e = bad("title = \"k\"\n[[answer]]\nid = \"a\"\nresult = \"1\"\npoints = -2\n");
    assert!(e.message.contains("nonnegative number"), "{e}");
    let e = bad(
        "title = \"k\"\nrule = \"generous\"\n[[answer]]\nid = \"a\"\nresult = \"1\"\npoints = 1\n",
    );
    assert!(e.message.contains("unknown rule `generous`"), "{e}");
    let e = bad("title = \"k\"\n");
    assert!(e.message.contains("no `[[answer]]`"), "{e}");
    let e = bad("title = \"k\"\n[[answer]]\nid = \"a\"\nresult = \"1\"\npoints = 1\nbonus = 2\n");
    assert!(e.message.contains("unknown answer key `bonus`"), "{e}");
}

#[test]
fn the_hw4_answer_gets_full_marks_except_3d() {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let key = grade::load_key("keys/hw4.toml", read(&base.join("keys/hw4.toml")))
        .expect("the HW4 key loads");
    let mut files = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(base.join("derivations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
    {
        files.push((
            format!("derivations/{}", p.file_name().unwrap().to_string_lossy()),
            read(p),
        ));
    }
    let g = grade::grade_submission(
        &key,
        "derivations/",
        &files,
        &Config::default(),
        &mut Memo::default(),
    );
    for p in &g.parts {
        if p.id.starts_with("3d.") {
            assert_eq!(p.score, 0.0, "{}", grade::feedback(p));
            let mismatches = p
                .final_check
                .as_ref()
                .and_then(|f| f.verdict.counterexample())
                .map(|c| c.mismatches.len());
            let want = if p.id == "3d.pad1" { 21 } else { 8 };
            assert_eq!(mismatches, Some(want), "{}", grade::feedback(p));
        } else {
            assert_eq!(
                p.score,
                p.max_score,
                "part {} lost points:\n{}",
                p.id,
                grade::feedback(p)
            );
        }
    }
    assert!(g.parts.len() >= 20);
    let book = Gradebook {
        key: "keys/hw4.toml".into(),
        seed: 1,
        part_ids: key.parts.iter().map(|p| p.id.clone()).collect(),
        submissions: vec![g],
    };
    let v: serde_json::Value = serde_json::from_str(&grade::render_gradescope(&book)).unwrap();
    let lost: Vec<&str> = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["score"] != t["max_score"])
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(lost, ["3d.pad1", "3d.stride2"]);
}
