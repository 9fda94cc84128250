//! Grading: a key and a batch of answers under `tests/data/grade/`, graded
//! through the library (all Symbolica work on the engine thread), with each
//! output format snapshot-tested, the scores asserted, Gradescope's fields
//! checked against its specification, no key value in what students see,
//! and the JUnit output checked against the structure of the junit-10 schema.

use derive_check::cli::inputs::{collect, Reader};
use derive_check::config::Config;
use derive_check::grade::gradebook::{self, GradebookOptions, Lms, Roster, StudentSource};
use derive_check::grade::{self, gradescope, Audience, Gradebook, SubmissionGrade};
use derive_check::Session;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/grade")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Grades every entry of `tests/data/grade/batch` (folders searched
/// recursively, as the CLI does), naming files relative to the batch.
fn book() -> Gradebook {
    let key = grade::load_key("key.toml", read(&root().join("key.toml"))).expect("the key loads");
    let session = Session::new(Config::default());
    let batch = root().join("batch");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&batch)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut book = Gradebook::new(&key, 1);
    for e in entries {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        let mut files = Vec::new();
        for input in collect(std::slice::from_ref(&e), true) {
            let (path, text) = Reader::new().read(&input).expect("fixtures are readable");
            let rel = Path::new(&path)
                .strip_prefix(&batch)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or(path);
            files.push((rel, text));
        }
        book.submissions.push(grade::grade_submission(
            &key, &name, &files, &session, false,
        ));
    }
    book
}

fn sub<'a>(b: &'a Gradebook, who: &str) -> &'a SubmissionGrade {
    b.submissions.iter().find(|s| s.name == who).unwrap()
}

fn score(b: &Gradebook, who: &str, part: &str) -> f64 {
    sub(b, who)
        .parts
        .iter()
        .find(|p| p.id == part)
        .unwrap()
        .score
}

#[test]
fn scores_follow_the_rules() {
    let b = book();
    let report = grade::human::render_human(&b);
    let alice = sub(&b, "alice.toml");
    assert_eq!(alice.score(), alice.max_score(), "{report}");
    // Bob: wrong final result; right result after a wrong step (per-step: 1 of 2 steps + final = 2/3);
    // final-only rule ignores the wrong step; the array part is missing.
    assert_eq!(score(&b, "bob.toml", "2d"), 0.0);
    assert!((score(&b, "bob.toml", "square") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(score(&b, "bob.toml", "final-only"), 1.0);
    assert_eq!(score(&b, "bob.toml", "array"), 0.0);
    let bob = sub(&b, "bob.toml");
    let sq = bob.parts.iter().find(|p| p.id == "square").unwrap();
    let step = sq.first_invalid.as_ref().expect("the wrong step is named");
    assert_eq!(step.index, 2);
    assert!(step.step.verdict.counterexample().is_some());
    assert!(bob.parts.iter().find(|p| p.id == "array").unwrap().missing);
    // Carol: two files form one submission; her array has one wrong entry.
    assert_eq!(score(&b, "carol", "square"), 1.0);
    assert_eq!(score(&b, "carol", "array"), 0.0);
    let arr = sub(&b, "carol")
        .parts
        .iter()
        .find(|p| p.id == "array")
        .unwrap();
    let text = grade::feedback(arr, Audience::Grader);
    assert!(
        text.contains("entry (2, 2): your result 23, expected 22"),
        "{text}"
    );
    assert!(
        text.contains("entry (2, 2): left side 22, right side 23"),
        "{text}"
    );
    // Dave's file is not valid TOML: an error with its location, and the batch goes on.
    let dave = sub(&b, "dave.toml");
    assert_eq!(dave.score(), 0.0);
    assert!(
        dave.errors.iter().any(|p| p.contains("dave.toml:1:")),
        "{:?}",
        dave.errors
    );
    assert!(dave.messages[0].contains("no readable derivation file with the key's ids"));
    // Erin's answer is three folders down, beside a macOS archive folder.
    assert_eq!(score(&b, "erin", "2d"), 2.0, "{report}");
    assert!(!sub(&b, "erin").has_errors(), "{report}");
    assert_eq!(sub(&b, "erin").student.as_deref(), Some("erin@example.edu"));
}

#[test]
fn an_assumption_the_question_does_not_make_earns_nothing() {
    // Regression: `where = "x = 1"` made `(x - 1)(x + 1) = 0` a right final result.
    let b = book();
    let p = sub(&b, "gina.toml")
        .parts
        .iter()
        .find(|p| p.id == "final-only")
        .unwrap();
    assert_eq!(p.score, 0.0, "{}", grade::feedback(p, Audience::Grader));
    assert!(!p.final_ok);
    assert_eq!(p.dropped, ["x = 1"]);
    assert_eq!(
        p.steps_valid, 1,
        "the step itself holds under the claim's own `where`"
    );
}

#[test]
fn a_key_definition_the_answer_redefines_keeps_the_key_value() {
    // Regression: the answer's `X` must not stand for the key's `X` in the key's result.
    let b = book();
    let hank = sub(&b, "hank.toml");
    let p = hank.parts.iter().find(|p| p.id == "trace").unwrap();
    assert_eq!(p.steps_valid, 1, "trace of his own X is 6");
    assert_eq!(p.score, 0.0, "{}", grade::feedback(p, Audience::Grader));
    assert_eq!(score(&b, "alice.toml", "trace"), 1.0);
}

#[test]
fn every_format_is_snapshot_tested() {
    let b = book();
    let roster = Roster::parse(&read(&root().join("roster.csv"))).expect("the roster parses");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let csv = |lms, roster: Option<&Roster>| {
        let opts = GradebookOptions {
            lms,
            student: StudentSource::Folder,
            roster,
            assignment: "HW4 (1234)".into(),
            bom: false,
        };
        gradebook::render_gradebook(&b, &opts)
    };
    settings.bind(|| {
        insta::assert_snapshot!("grade.human", grade::human::render_human(&b));
        insta::assert_snapshot!("grade.json", grade::json::render_json(&b));
        insta::assert_snapshot!("grade.junit", grade::junit::render_junit(&b));
        insta::assert_snapshot!("grade.csv", csv(Lms::Plain, None).0);
        let (canvas, warnings) = csv(Lms::Canvas, Some(&roster));
        assert_eq!(
            warnings,
            ["roster: no row for `dave` (submission `dave.toml`)"]
        );
        insta::assert_snapshot!("grade.canvas.csv", canvas);
        insta::assert_snapshot!("grade.moodle.csv", csv(Lms::Moodle, Some(&roster)).0);
        for s in &b.submissions {
            let name = format!("grade.gradescope.{}", gradescope::folder_name(&s.name));
            insta::assert_snapshot!(name, gradescope::render_gradescope(s));
        }
    });
}

/// Every field a `results.json` may have at the top level and in a test
/// (Gradescope's autograder specification, "Output format").
const TOP_FIELDS: &[&str] = &[
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
];
const TEST_FIELDS: &[&str] = &[
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
];
const VISIBILITIES: &[&str] = &["hidden", "after_due_date", "after_published", "visible"];
const FORMATS: &[&str] = &["text", "html", "simple_format", "md", "ansi"];

#[test]
fn gradescope_results_follow_the_specification_and_hide_the_key() {
    let b = book();
    let key = grade::load_key("key.toml", read(&root().join("key.toml"))).unwrap();
    for s in &b.submissions {
        let v: serde_json::Value =
            serde_json::from_str(&gradescope::render_gradescope(s)).expect("valid JSON");
        let top = v.as_object().unwrap();
        for k in top.keys() {
            assert!(
                TOP_FIELDS.contains(&k.as_str()),
                "{}: unknown field {k}",
                s.name
            );
        }
        assert!((v["score"].as_f64().unwrap() - s.score()).abs() < 1e-9);
        assert!(v["output"].is_string());
        assert!(FORMATS.contains(&v["output_format"].as_str().unwrap()));
        assert!(VISIBILITIES.contains(&v["visibility"].as_str().unwrap()));
        assert!(VISIBILITIES.contains(&v["stdout_visibility"].as_str().unwrap()));
        assert_ne!(
            v["stdout_visibility"], "visible",
            "stdout holds the build and CAS notices"
        );
        let tests = v["tests"].as_array().unwrap();
        let mut scored = 0.0;
        for t in tests {
            for k in t.as_object().unwrap().keys() {
                assert!(TEST_FIELDS.contains(&k.as_str()), "unknown test field {k}");
            }
            assert!(t["name"].is_string() && t["number"].is_string() && t["output"].is_string());
            assert!(["passed", "failed"].contains(&t["status"].as_str().unwrap()));
            assert_eq!(t["output_format"], "md");
            let visibility = t["visibility"].as_str().unwrap();
            assert!(VISIBILITIES.contains(&visibility));
            if let Some(x) = t["score"].as_f64() {
                assert!(x <= t["max_score"].as_f64().unwrap() + 1e-9);
                scored += x;
                assert_eq!(visibility, "visible", "a test with points is visible");
            } else {
                assert!(t["max_score"].is_null());
                assert_ne!(
                    visibility, "visible",
                    "the key's details are never visible at once"
                );
            }
        }
        assert!((scored - s.score()).abs() < 1e-9);
        // No key value in what students see, unless the part allows it.
        let mut visible = vec![v["output"].as_str().unwrap().to_string()];
        for t in tests.iter().filter(|t| t["visibility"] == "visible") {
            visible.push(t["output"].as_str().unwrap().to_string());
        }
        let visible = visible.join("\n");
        for (p, kp) in s.parts.iter().zip(&key.parts) {
            let details = tests
                .iter()
                .find(|t| t["name"] == format!("{}: comparison with the key", p.id));
            if let Some(d) = details {
                let want = if kp.show_expected {
                    "after_published"
                } else {
                    "hidden"
                };
                assert_eq!(d["visibility"], want, "{}", p.id);
                assert!(d["output"].as_str().unwrap().contains(&kp.result_text));
            }
            // Even with `show_expected`, the visible test holds no key value: a
            // student who may resubmit would learn the key from a wrong answer.
            let own: Vec<String> = p
                .first_invalid
                .iter()
                .map(|s| format!("{} {}", s.step.lhs, s.step.rhs))
                .collect();
            let Some(f) = &p.final_check else { continue };
            let part_text = tests
                .iter()
                .find(|t| t["name"] == p.id.as_str())
                .and_then(|t| t["output"].as_str())
                .unwrap();
            assert!(
                !part_text.contains("expected"),
                "{}/{}: {part_text}",
                s.name,
                p.id
            );
            if !f.lhs.contains(&f.rhs) && !own.iter().any(|o| o.contains(&f.rhs)) {
                assert!(
                    !visible.contains(&f.rhs),
                    "{}/{}: key result shown",
                    s.name,
                    p.id
                );
            }
            if let Some(ce) = f.verdict.counterexample() {
                // The point of the comparison with the key, as feedback prints it.
                let at = ce
                    .values
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if !at.is_empty() {
                    assert!(
                        !part_text.contains(&at),
                        "{}/{}: key counterexample shown",
                        s.name,
                        p.id
                    );
                }
            }
        }
    }
}

/// A structural check of JUnit XML against the junit-10 schema (as used by
/// Jenkins' xUnit plugin): elements, their nesting, required and allowed
/// attributes, and the form of `time`.
fn check_junit_10(xml: &str) {
    use quick_xml::events::Event;
    let allowed = |element: &str| -> (&[&str], &[&str], &[&str]) {
        match element {
            "testsuites" => (
                &[],
                &["name", "time", "tests", "failures", "errors"],
                &["testsuite"],
            ),
            "testsuite" => (
                &["name", "tests", "failures", "errors"],
                &[
                    "name",
                    "tests",
                    "failures",
                    "errors",
                    "group",
                    "time",
                    "skipped",
                    "timestamp",
                    "hostname",
                    "id",
                    "package",
                    "file",
                    "log",
                    "url",
                ],
                &[
                    "testsuite",
                    "properties",
                    "testcase",
                    "system-out",
                    "system-err",
                ],
            ),
            "testcase" => (
                &["name"],
                &["name", "time", "classname", "group"],
                &["skipped", "error", "failure", "system-out", "system-err"],
            ),
            "failure" | "error" | "skipped" => (&[], &["type", "message"], &[]),
            "system-out" | "system-err" => (&[], &[], &[]),
            other => panic!("element <{other}> is not in the junit-10 schema"),
        }
    };
    let time_ok = |t: &str| {
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        !t.is_empty()
            && int.chars().all(|c| c.is_ascii_digit())
            && frac.chars().all(|c| c.is_ascii_digit())
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut root_seen = false;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(e) = start else { continue };
        let name = e.name().as_ref().to_string();
        match stack.last() {
            None => {
                assert!(
                    !root_seen && name == "testsuites",
                    "the root is one <testsuites>"
                );
                root_seen = true;
            }
            Some(parent) => assert!(
                allowed(parent).2.contains(&name.as_str()),
                "<{name}> inside <{parent}>"
            ),
        }
        let (required, permitted, _) = allowed(&name);
        let attrs: Vec<(String, String)> = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        for r in required {
            assert!(attrs.iter().any(|(k, _)| k == r), "<{name}> lacks `{r}`");
        }
        for (k, v) in &attrs {
            assert!(permitted.contains(&k.as_str()), "<{name}> has `{k}`");
            if k == "time" {
                assert!(time_ok(v), "time `{v}`");
            }
        }
        if !empty {
            stack.push(name);
        }
    }
    assert!(root_seen && stack.is_empty());
}

#[test]
fn junit_follows_the_junit_10_schema_with_errors_for_unreadable_submissions() {
    let b = book();
    let xml = grade::junit::render_junit(&b);
    check_junit_10(&xml);
    // Dave's file does not parse: errors, not failures, and a stable classname.
    let dave = xml
        .split("<testsuite ")
        .find(|s| s.starts_with("name=\"dave.toml\""))
        .unwrap();
    assert!(
        dave.contains("<error") && !dave.contains("<failure"),
        "{dave}"
    );
    assert!(
        !xml.contains(env!("CARGO_MANIFEST_DIR")),
        "no absolute paths"
    );
    // The checker itself rejects what the schema rejects.
    let bad = std::panic::catch_unwind(|| {
        check_junit_10("<testsuites><testcase name=\"a\"/></testsuites>")
    });
    assert!(bad.is_err());
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
    let e =
        bad("title = \"k\"\n[[answer]]\nid = \"a\"\nresult = \"1\"\npoints = 1\nwhere = \"y >\"\n");
    assert!(e.message.contains("in the `where` of `a`"), "{e}");
    let e = bad("title = \"k\"\nshow_expected = \"yes\"\n[[answer]]\nid = \"a\"\nresult = \"1\"\npoints = 1\n");
    assert!(e.message.contains("must be true or false"), "{e}");
}

#[test]
fn the_hw4_answer_gets_full_marks_except_3d() {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let key = grade::load_key("keys/hw4.toml", read(&base.join("keys/hw4.toml")))
        .expect("the HW4 key loads");
    let mut files = Vec::new();
    for input in collect(&[base.join("derivations")], true) {
        let (path, text) = Reader::new().read(&input).unwrap();
        let rel = Path::new(&path)
            .strip_prefix(&base)
            .unwrap()
            .to_string_lossy()
            .to_string();
        files.push((rel, text));
    }
    let session = Session::new(Config::default());
    let g = grade::grade_submission(&key, "derivations/", &files, &session, false);
    for p in &g.parts {
        let text = grade::feedback(p, Audience::Grader);
        if p.id.starts_with("3d.") {
            assert_eq!(p.score, 0.0, "{text}");
            let mismatches = p
                .final_check
                .as_ref()
                .and_then(|f| f.verdict.counterexample())
                .map(|c| c.mismatches.len());
            let want = if p.id == "3d.pad1" { 21 } else { 8 };
            assert_eq!(mismatches, Some(want), "{text}");
        } else {
            assert_eq!(p.score, p.max_score, "part {} lost points:\n{text}", p.id);
        }
    }
    assert!(g.parts.len() >= 20);
    let v: serde_json::Value = serde_json::from_str(&gradescope::render_gradescope(&g)).unwrap();
    let lost: Vec<&str> = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["score"].is_number() && t["score"] != t["max_score"])
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(lost, ["3d.pad1", "3d.stride2"]);
}

#[test]
fn grading_is_deterministic() {
    let a = grade::json::render_json(&book());
    let b = grade::json::render_json(&book());
    assert_eq!(a, b);
}
