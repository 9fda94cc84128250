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
    run_with_stdin(dir, args, None)
}

/// [`run`], with `stdin` as standard input (none: empty).
fn run_with_stdin(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write as _;
    let out_path = dir.join("report.out");
    let _ = std::fs::remove_file(&out_path);
    let mut child = Command::new(env!("CARGO_BIN_EXE_derive-check"))
        .current_dir(dir)
        .args(args)
        .arg("--output")
        .arg(&out_path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
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
            .contains("error: the file is not valid UTF-8\n  --> bin.toml:1:10"),
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
        // A run that waited says which process held the lock, and since
        // when (or, in the instant before a holder has written its pid,
        // that another process holds it).
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr
            .lines()
            .filter(|l| l.starts_with("derive-check: waiting"))
        {
            let named = line.starts_with("derive-check: waiting for process ")
                && line.contains(" (holding the lock since ")
                && line.contains(" UTC, ");
            let anonymous =
                line.starts_with("derive-check: waiting for another derive-check process");
            assert!(named || anonymous, "{line}");
        }
    }
}

/// A copy of the grading fixtures in a temp folder (tests write beside them).
fn grade_fixtures() -> (tempfile::TempDir, std::path::PathBuf) {
    let copy = tempfile::tempdir().unwrap();
    let data = copy.path().to_path_buf();
    copy_tree(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/grade"),
        &data,
    );
    (copy, data)
}

#[test]
fn grade_exit_statuses_and_formats() {
    let (_copy, data) = grade_fixtures();
    let r = run(
        &data,
        &[
            "grade",
            "--key",
            "key.toml",
            "batch/alice.toml",
            "--format",
            "gradescope",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.report).unwrap();
    assert_eq!(v["score"], 6.0);
    assert_eq!(v["tests"][0]["name"], "2d");
    assert_eq!(v["tests"][0]["status"], "passed");
    // A batch with an unreadable submission exits 2, and still reports every row.
    let r = run(
        &data,
        &[
            "grade", "--key", "key.toml", "--batch", "batch", "--format", "csv",
        ],
    );
    assert_eq!(r.status, 2, "dave.toml does not parse: {}", r.stderr);
    assert!(
        r.report.starts_with(
            "student,submission,2d,square,final-only,array,trace,total,max,feedback\n"
        ),
        "{}",
        r.report
    );
    assert_eq!(r.report.lines().count(), 8, "{}", r.report);
    assert!(
        r.stderr.contains("dave.toml: cannot read: "),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("grading 1/"),
        "no progress bar when stderr is not a terminal"
    );
    // Without the broken one, points lost exit 1.
    std::fs::remove_file(data.join("batch/dave.toml")).unwrap();
    let r = run(
        &data,
        &[
            "grade", "--key", "key.toml", "--batch", "batch", "--format", "junit",
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.report.contains("classname=\"carol\""), "{}", r.report);
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

#[test]
fn a_broken_submission_is_a_junit_error_and_exit_two() {
    let (_copy, data) = grade_fixtures();
    let r = run(
        &data,
        &[
            "grade",
            "--key",
            "key.toml",
            "batch/dave.toml",
            "--format",
            "junit",
        ],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.report
            .contains("<error message=\"a file of the submission could not be read\""),
        "{}",
        r.report
    );
    assert!(!r.report.contains("<failure"), "{}", r.report);
    assert!(
        r.report.contains("classname=\"batch/dave.toml\""),
        "{}",
        r.report
    );
}

#[test]
fn gradescope_batches_write_one_results_file_per_submission_or_refuse() {
    let (_copy, data) = grade_fixtures();
    let r = run(
        &data,
        &[
            "grade",
            "--key",
            "key.toml",
            "--batch",
            "batch",
            "--format",
            "gradescope",
        ],
    );
    // `run` passes `--output report.out`: a file name that is made a folder.
    assert_eq!(r.status, 2, "dave.toml does not parse: {}", r.stderr);
    let out = data.join("report.out");
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["alice", "bob", "carol", "dave", "erin", "gina", "hank"]
    );
    for w in &written {
        let text = std::fs::read_to_string(out.join(w).join("results.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["score"].is_number() && v["tests"].is_array(),
            "{w}: {text}"
        );
    }
    // Without --output there is no single results.json to write: refused.
    let output = Command::new(env!("CARGO_BIN_EXE_derive-check"))
        .current_dir(&data)
        .args([
            "grade",
            "--key",
            "key.toml",
            "--batch",
            "batch",
            "--format",
            "gradescope",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("give --output DIR"));
}

#[test]
fn submissions_are_found_in_nested_folders_unless_no_recurse() {
    let (_copy, data) = grade_fixtures();
    let r = run(
        &data,
        &[
            "grade",
            "--key",
            "key.toml",
            "batch/erin",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.report).unwrap();
    assert_eq!(
        v["submissions"][0]["parts"][0]["score"], 2.0,
        "{}",
        r.report
    );
    assert_eq!(
        v["submissions"][0]["errors"],
        serde_json::json!([]),
        "__MACOSX is skipped"
    );
    let r = run(
        &data,
        &[
            "grade",
            "--key",
            "key.toml",
            "batch/erin",
            "--no-recurse",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.report).unwrap();
    let message = v["submissions"][0]["messages"][0].as_str().unwrap();
    assert!(
        message.contains("no derivation file with the key's ids"),
        "{message}"
    );
    // Checking: folders are searched recursively too.
    let r = run(&data, &["batch/erin"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.report.contains("q2/answers.toml"), "{}", r.report);
    let r = run(&data, &["--no-recurse", "batch/erin"]);
    assert_eq!(
        r.status, 2,
        "an empty folder cannot be checked: {}",
        r.report
    );
}

#[test]
fn subfolders_are_checked_unless_no_recurse() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("d/sub")).unwrap();
    write(&dir.path().join("d"), "a.toml", GOOD);
    write(&dir.path().join("d/sub"), "c.toml", GOOD);
    let r = run(dir.path(), &["d"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.report.contains("d/a.toml"), "{}", r.report);
    assert!(r.report.contains("d/sub/c.toml"), "{}", r.report);
    let r = run(dir.path(), &["--no-recurse", "d"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.report.contains("d/a.toml"), "{}", r.report);
    assert!(!r.report.contains("c.toml"), "{}", r.report);
}

#[test]
fn a_dash_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_with_stdin(dir.path(), &["-"], Some(GOOD));
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.report.contains("== <stdin>: good"), "{}", r.report);
    let (_copy, data) = grade_fixtures();
    let alice = std::fs::read_to_string(data.join("batch/alice.toml")).unwrap();
    let r = run_with_stdin(
        &data,
        &["grade", "--key", "key.toml", "-", "--format", "csv"],
        Some(&alice),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.report.contains("\n<stdin>,<stdin>,2,1,1,1,1,6,6,"),
        "{}",
        r.report
    );
}

#[test]
fn gradebooks_for_canvas_and_moodle_and_quiet() {
    let (_copy, data) = grade_fixtures();
    let args = [
        "grade",
        "--key",
        "key.toml",
        "--batch",
        "batch",
        "--format",
        "csv",
        "--lms",
        "canvas",
        "--roster",
        "roster.csv",
        "--assignment",
        "HW4 (1234)",
        "--bom",
    ];
    let r = run(&data, &args);
    assert_eq!(r.status, 2, "dave.toml: {}", r.stderr);
    assert!(
        r.report
            .starts_with("\u{feff}Student,ID,SIS User ID,SIS Login ID,Section,HW4 (1234)\n"),
        "{}",
        r.report
    );
    assert!(
        r.report
            .contains("\"Liddell, Alice\",1001,S1001,aliddell,Section 1,6\n"),
        "{}",
        r.report
    );
    assert!(
        r.stderr.contains("roster: no row for `dave`"),
        "{}",
        r.stderr
    );
    let mut quiet = args.to_vec();
    quiet.push("--quiet");
    let r = run(&data, &quiet);
    assert_eq!(r.status, 2);
    // Only the lock's wait notice may remain (a concurrent test run holds it).
    let rest: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| !l.starts_with("derive-check: waiting for "))
        .collect();
    assert!(rest.is_empty(), "--quiet prints no warnings: {}", r.stderr);
    let r = run(
        &data,
        &[
            "grade", "--key", "key.toml", "--batch", "batch", "--format", "csv", "--lms", "moodle",
        ],
    );
    assert!(
        r.report.starts_with("Username,Grading test key,Feedback\n"),
        "{}",
        r.report
    );
}

/// Every long flag and subcommand of the clap definition, by command path.
fn flags() -> Vec<(String, Vec<String>)> {
    use clap::CommandFactory;
    let top = derive_check::cli::Args::command();
    let mut out = Vec::new();
    let mut visit = |name: String, cmd: &clap::Command| {
        let longs = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .chain(cmd.get_subcommands().map(|s| s.get_name().to_string()))
            .collect();
        out.push((name, longs));
    };
    visit("derive-check".into(), &top);
    for s in top.get_subcommands() {
        visit(format!("derive-check-{}", s.get_name()), s);
    }
    out
}

#[test]
fn completions_and_man_pages_cover_every_subcommand_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_derive-check"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        for (_, longs) in flags() {
            for f in longs {
                // fish lists long flags without their dashes (`-l format`).
                let bare = f.trim_start_matches('-');
                assert!(
                    text.contains(&f)
                        || (shell == "fish" && text.contains(&format!("-l {bare}")))
                        || text.contains(bare),
                    "{shell} completions lack {f}"
                );
            }
        }
    }
    let status = Command::new(env!("CARGO_BIN_EXE_derive-check"))
        .args(["man"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    for (page, longs) in flags() {
        let path = dir.path().join(format!("{page}.1"));
        let roff =
            std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no man page {page}.1"));
        let text = roff.replace("\\-", "-");
        assert!(text.contains(".TH"), "{page}.1 is a man page");
        for f in longs {
            assert!(text.contains(&f), "{page}.1 lacks {f}");
        }
    }
}

#[test]
fn run_autograder_grades_a_nested_submission_in_a_fake_autograder_tree() {
    let root = tempfile::tempdir().unwrap();
    let ag = root.path();
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(ag.join("source")).unwrap();
    std::fs::copy(
        repo.join("tests/data/grade/key.toml"),
        ag.join("source/key.toml"),
    )
    .unwrap();
    let nested = ag.join("submission/hw/q2");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(
        repo.join("tests/data/grade/batch/alice.toml"),
        nested.join("answers.toml"),
    )
    .unwrap();
    let out = Command::new("bash")
        .arg(repo.join("gradescope/run_autograder"))
        .env("AUTOGRADER_ROOT", ag)
        .env("DERIVE_CHECK", env!("CARGO_BIN_EXE_derive-check"))
        .current_dir(ag)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results =
        std::fs::read_to_string(ag.join("results/results.json")).expect("results.json written");
    let v: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(v["score"], 6.0, "{results}");
    assert_eq!(v["tests"][0]["status"], "passed");
    // A bad key still leaves a results.json for the student.
    std::fs::write(ag.join("source/key.toml"), "title = \"k\"\n").unwrap();
    let out = Command::new("bash")
        .arg(repo.join("gradescope/run_autograder"))
        .env("AUTOGRADER_ROOT", ag)
        .env("DERIVE_CHECK", env!("CARGO_BIN_EXE_derive-check"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ag.join("results/results.json")).unwrap())
            .unwrap();
    assert_eq!(v["score"], 0.0);
}
