//! End-to-end tests of the real binary, run from a temporary folder through
//! one helper. This test binary never calls Symbolica itself (the binary it
//! starts does, and takes the per-user lock), so the runs cannot collide.

use std::path::Path;
use std::process::Command;

struct Run {
    status: i32,
    stderr: String,
    report: String,
}

/// Copies the folder `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Runs `derive-check ARGS --output report` in `dir` and returns the status, stderr and report.
fn run(dir: &Path, args: &[&str]) -> Run {
    let out_path = dir.join("report.out");
    let _ = std::fs::remove_file(&out_path);
    let output = Command::new(env!("CARGO_BIN_EXE_derive-check"))
        .current_dir(dir)
        .args(args)
        .arg("--output")
        .arg(&out_path)
        .output()
        .expect("the binary runs");
    Run {
        status: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        report: std::fs::read_to_string(&out_path).unwrap_or_default(),
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const GOOD: &str = r#"title = "good"
[symbols]
x = "real"
[[claim]]
id = "square"
show = "(x + 1)^2 = x^2 + 2x + 1"
[[claim]]
id = "wrong"
show = "(x + 1)^2 = x^2 + 1"
expect = "refuted"
"#;

#[test]
fn all_expectations_met_exits_zero_and_json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", GOOD);
    let r = run(dir.path(), &["--format", "json", "good.toml"]);
    assert_eq!(r.status, 0, "stderr: {}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.report).expect("valid JSON");
    assert_eq!(v["seed"], 1);
    let claims = &v["files"][0]["claims"];
    assert_eq!(claims[0]["id"], "square");
    assert_eq!(claims[0]["verdict"], "proved");
    assert_eq!(claims[0]["expect"], serde_json::Value::Null);
    assert_eq!(claims[1]["verdict"], "refuted");
    assert_eq!(claims[1]["met_expectation"], true);
    let ce = &claims[1]["steps"][0]["counterexample"];
    assert!(ce["values"]["x"].is_string());
    assert_ne!(ce["lhs"], ce["rhs"]);
    assert_eq!(v["summary"]["claims"], 2);
    assert_eq!(v["summary"]["unmet_expectations"], 0);
}

#[test]
fn an_unmet_expectation_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.toml",
        &GOOD.replace("expect = \"refuted\"\n", ""),
    );
    let r = run(dir.path(), &["bad.toml"]);
    assert_eq!(r.status, 1);
    assert!(r.report.contains("[refuted] wrong"), "{}", r.report);
}

#[test]
fn a_file_that_cannot_be_checked_exits_two_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", GOOD);
    write(
        dir.path(),
        "broken.toml",
        "title = \"t\"\n[symbols\nx = \"real\"\n",
    );
    let r = run(dir.path(), &["good.toml", "broken.toml"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("broken.toml:2:"), "stderr: {}", r.stderr);
    // The good file is still checked and reported.
    assert!(r.report.contains("[proved] square"), "{}", r.report);
}

#[test]
fn folders_are_searched_for_toml_files_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    write(&dir.path().join("d"), "b.toml", GOOD);
    write(&dir.path().join("d"), "a.toml", GOOD);
    write(&dir.path().join("d"), "notes.txt", "not a derivation");
    let r = run(dir.path(), &["d"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let a = r.report.find("d/a.toml").expect("a.toml reported");
    let b = r.report.find("d/b.toml").expect("b.toml reported");
    assert!(a < b);
    assert!(!r.report.contains("notes.txt"));
}

#[test]
fn only_selects_claims_and_an_unknown_id_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", GOOD);
    let r = run(dir.path(), &["--only", "square", "good.toml"]);
    assert_eq!(r.status, 0);
    assert!(
        r.report.contains("square") && !r.report.contains("wrong"),
        "{}",
        r.report
    );
    let r = run(dir.path(), &["--only", "nope", "good.toml"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("`nope`"), "{}", r.stderr);
}

#[test]
fn the_seed_is_printed_and_reports_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", GOOD);
    let a = run(dir.path(), &["--seed", "42", "good.toml"]);
    let b = run(dir.path(), &["--seed", "42", "good.toml"]);
    assert!(
        a.report.starts_with("derive-check report (seed 42)"),
        "{}",
        a.report
    );
    assert_eq!(a.report, b.report);
}

#[test]
fn non_utf8_and_missing_files_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin.toml"), b"title = \"\xff\xfe\"\n").unwrap();
    let r = run(dir.path(), &["bin.toml"]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr
            .contains("bin.toml:1:10: the file is not valid UTF-8"),
        "{}",
        r.stderr
    );
    let r = run(dir.path(), &["missing.toml"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("missing.toml"), "{}", r.stderr);
}

#[test]
fn bad_claims_are_located_errors_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let text = "title = \"t\"\n[symbols]\nW = \"real\"\n[[claim]]\nid = \"a\"\nshow = \"WW = 1\"\n[[claim]]\nid = \"b\"\nshow = \"W + W = 2 W\"\n";
    write(dir.path(), "e.toml", text);
    let r = run(dir.path(), &["--format", "json", "e.toml"]);
    assert_eq!(r.status, 1);
    let v: serde_json::Value = serde_json::from_str(&r.report).unwrap();
    let a = &v["files"][0]["claims"][0];
    assert_eq!(a["verdict"], "error");
    assert_eq!(
        (a["line"].as_u64(), a["column"].as_u64()),
        (Some(6), Some(9))
    );
    assert!(a["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `W W`?"));
    assert_eq!(v["files"][0]["claims"][1]["verdict"], "proved");
}

#[test]
fn concurrent_runs_wait_for_each_other_instead_of_aborting() {
    // Symbolica's restricted mode aborts a second process that uses it at the
    // same time; the per-user lock makes the second one wait instead.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", GOOD);
    let spawn = |out: &str| {
        Command::new(env!("CARGO_BIN_EXE_derive-check"))
            .current_dir(dir.path())
            .args(["good.toml", "--output", out])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|i| spawn(&format!("r{i}.txt"))).collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = std::fs::read_to_string(dir.path().join(format!("r{i}.txt"))).unwrap();
        assert!(report.contains("[proved] square"));
    }
}

#[test]
fn grade_exit_statuses_and_formats() {
    // A copy of the grading fixtures: the test writes its reports beside them.
    let copy = tempfile::tempdir().unwrap();
    let data = copy.path().to_path_buf();
    copy_tree(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/grade"),
        &data,
    );
    let key = data.join("key.toml");
    let key = key.to_str().unwrap();
    let alice = data.join("batch/alice.toml");
    let r = run(
        &data,
        &[
            "grade",
            "--key",
            key,
            alice.to_str().unwrap(),
            "--format",
            "gradescope",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.report).unwrap();
    assert_eq!(v["score"], 5.0);
    assert_eq!(v["tests"][0]["name"], "2d");
    let r = run(
        &data,
        &["grade", "--key", key, "--batch", "batch", "--format", "csv"],
    );
    assert_eq!(r.status, 1, "some submissions lost points: {}", r.stderr);
    assert!(
        r.report
            .starts_with("submission,2d,square,final-only,array,total,max\n"),
        "{}",
        r.report
    );
    assert_eq!(r.report.lines().count(), 5);
    assert!(
        !r.stderr.contains("grading 1/"),
        "no progress bar when stderr is not a terminal"
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "k.toml",
        "title = \"k\"\n[[answer]]\nid = \"a\"\n",
    );
    let r = run(dir.path(), &["grade", "--key", "k.toml", "x.toml"]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("k.toml:2:1: the answer has no `result`"),
        "{}",
        r.stderr
    );
}
