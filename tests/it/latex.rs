//! LaTeX input, forgiving input, diagnostics and `extract` (issue 17):
//! the LaTeX copy of Q2 gets the verdicts of the original, the done-when
//! identity is proved, forgiving forms are read, the bad-input fixtures'
//! messages are snapshots of the rustc-like rendering, extracted skeletons
//! are snapshots, and no LaTeX-like input panics, overflows or hangs.

use crate::common;
use derive_check::config::Config;
use derive_check::report::snippet::Color;
use derive_check::report::{render_human_with, HumanOptions, Report};
use derive_check::syntax::parser::{parse_statement, parse_statement_as, NameClass, Names, Syntax};
use derive_check::verdict::VerdictKind;
use proptest::prelude::*;

fn verdict(text: &str, id: &str) -> (VerdictKind, String) {
    let f = common::check_text("t.toml", text);
    let c = f
        .claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no claim {id}: {f:?}"));
    (c.verdict, format!("{c:?}"))
}

#[test]
fn q2_in_latex_gets_the_verdicts_of_q2() {
    let root = common::root();
    let plain = common::check_file(&root.join("derivations/q2.toml"), &Config::default());
    let latex = common::check_file(&root.join("tests/data/q2_latex.toml"), &Config::default());
    assert!(latex.failure.is_none(), "{:?}", latex.failure);
    let mut differences = Vec::new();
    for c in &plain.claims {
        match latex.claims.iter().find(|l| l.id == c.id) {
            Some(l) if l.verdict == c.verdict => {}
            Some(l) => differences.push(format!(
                "{}: {} in q2.toml, {} in LaTeX ({:?})",
                c.id,
                c.verdict.as_str(),
                l.verdict.as_str(),
                l.error
            )),
            None => differences.push(format!("{}: missing from the LaTeX copy", c.id)),
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

const NEWTON_SCHULZ: &str = "title = \"t\"\n[symbols]\nd_in = \"positive integer\"\nd_out = \"positive integer\"\nW = \"matrix(d_out, d_in)\"\nI = \"identity\"\n";

#[test]
fn the_newton_schulz_identity_in_latex_is_proved() {
    let text = format!(
        "{NEWTON_SCHULZ}[[claim]]\nid = \"ns\"\nshow = '\\frac{{1}}{{2}}(3I - WW^\\top)W = \\frac{{1}}{{2}}(3W - W(W^\\top W))'\n"
    );
    let (v, c) = verdict(&text, "ns");
    assert_eq!(v, VerdictKind::Proved, "{c}");
}

#[test]
fn declarations_come_in_any_order() {
    let text = "title = \"t\"\n[symbols]\nW = \"matrix(d_out, d_in)\"\nI = \"identity\"\nd_out = \"positive integer\"\nd_in = \"positive integer\"\n[[claim]]\nid = \"a\"\nshow = \"(W Wᵀ)ᵀ = W Wᵀ\"\n";
    let (v, c) = verdict(text, "a");
    assert_eq!(v, VerdictKind::Proved, "{c}");
    let cycle = "title = \"t\"\n[symbols]\na = \"matrix(b, 1)\"\nb = \"matrix(a, 1)\"\nx = \"real\"\n[[claim]]\nid = \"uses\"\nshow = \"a = a\"\n[[claim]]\nid = \"ok\"\nshow = \"x = x\"\n";
    let f = common::check_text("t.toml", cycle);
    assert!(
        f.diagnostics
            .iter()
            .any(|d| d.message.contains("depends on itself")),
        "{:?}",
        f.diagnostics
    );
    assert_eq!(verdict(cycle, "uses").0, VerdictKind::Error);
    assert_eq!(verdict(cycle, "ok").0, VerdictKind::Proved);
}

#[test]
fn scientific_notation_and_scaled_literals() {
    let head = "title = \"t\"\n[symbols]\nx = \"real\"\n";
    for (show, want) in [
        ("1e-3 = 1/1000", VerdictKind::Proved),
        ("2.5E4 = 25000", VerdictKind::Proved),
        ("1e-3 = 1/100", VerdictKind::Refuted),
        ("5 [1, 2] = [5, 10]", VerdictKind::Proved),
        (
            "(1/2) [[2, 4], [6, 8]] = [[1, 2], [3, 4]]",
            VerdictKind::Proved,
        ),
        ("(3/10) 0.6 = 0.18", VerdictKind::Proved),
        ("(3/10) 0.6 = 0.2", VerdictKind::Refuted),
    ] {
        let text = format!("{head}[[claim]]\nid = \"c\"\nshow = \"{show}\"\n");
        assert_eq!(verdict(&text, "c").0, want, "{show}");
    }
}

#[test]
fn a_sum_index_may_shadow_a_declared_name() {
    let text = "title = \"t\"\n[symbols]\ni = \"positive integer\"\nn = \"positive integer\"\n[[claim]]\nid = \"s\"\nshow = \"sum(i, 1, n, i) + i = n (n + 1)/2 + i\"\n[[claim]]\nid = \"bound\"\nshow = \"sum(i, 1, i, 1) = i\"\n[[claim]]\nid = \"wrong\"\nshow = \"sum(i, 1, n, i) = n i\"\n";
    let f = common::check_text("t.toml", text);
    let s = f.claims.iter().find(|c| c.id == "s").unwrap();
    assert_eq!(s.verdict, VerdictKind::Proved, "{s:?}");
    assert!(
        s.notes.iter().any(|n| n.contains("shadows")),
        "{:?}",
        s.notes
    );
    assert_eq!(verdict(text, "bound").0, VerdictKind::Proved);
    assert_ne!(verdict(text, "wrong").0, VerdictKind::Proved);
    let (human, _) = common::render(f, 1);
    assert!(
        human.contains("note: the index `i` of `sum` shadows"),
        "{human}"
    );
}

#[test]
fn a_toml_escape_inside_latex_is_named() {
    // `"\frac"` in a basic string: TOML turns `\f` into a form feed.
    let text = "title = \"t\"\n[symbols]\na = \"real\"\n[[claim]]\nid = \"ff\"\nshow = \"\\frac{a}{1} = a\"\n[[claim]]\nid = \"tab\"\nshow = \"a^\\top = a\"\n";
    let f = common::check_text("t.toml", text);
    for (id, escape) in [("ff", "\\f"), ("tab", "\\t")] {
        let c = f.claims.iter().find(|c| c.id == id).unwrap();
        let (_, msg) = c.error.clone().expect("an error");
        assert!(msg.contains(&format!("escape `{escape}`")), "{msg}");
        assert!(msg.contains("literal string"), "{msg}");
    }
}

struct Few;

impl Names for Few {
    fn class(&self, name: &str) -> Option<NameClass> {
        match name {
            "x" | "y" | "n" | "W" | "d_in" => Some(NameClass::Value),
            "w" => Some(NameClass::Function),
            _ => None,
        }
    }
    fn declared(&self) -> Vec<String> {
        ["x", "y", "n", "W", "d_in", "w"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

#[test]
fn deeply_nested_latex_is_an_error_not_a_crash() {
    let frac = format!("{}x{} = 1", "\\frac{1}{".repeat(3000), "}".repeat(3000));
    let e = parse_statement(&frac, &Few).unwrap_err();
    assert!(e.message.contains("nested more than"), "{}", e.message);
    let sums = format!("{}x = 1", "\\sum_{i=1}^{n} ".repeat(3000));
    assert!(parse_statement(&sums, &Few).is_err());
    let sqrt = format!("{}x = 1", "\\sqrt ".repeat(3000));
    assert!(parse_statement(&sqrt, &Few).is_err());
    let logs = format!("{}x = 1", "\\log ".repeat(3000));
    assert!(parse_statement(&logs, &Few).is_err());
    let braces = format!("{}x{} = 1", "{".repeat(5000), "}".repeat(5000));
    assert!(parse_statement(&braces, &Few).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, .. ProptestConfig::default() })]

    #[test]
    fn latex_never_panics(s in "(\\\\frac|\\\\sqrt|\\\\sum_|\\\\left|\\\\right|\\\\\\||\\\\top|\\\\partial|\\\\int|\\\\nabla|\\\\mathbb|\\\\operatorname|\\\\begin\\{pmatrix\\}|\\\\end\\{pmatrix\\}|\\\\\\\\|\\\\,|\\\\le|\\\\cdot|\\\\alpha|\\\\text|[{}()\\[\\]^_&|=<>+\\-*/,.']|[xynwWd0-9 ]){0,40}") {
        let _ = parse_statement_as(&s, &Few, Syntax::Latex);
        let _ = parse_statement_as(&s, &Few, Syntax::Auto);
    }

    #[test]
    fn any_text_read_as_latex_never_panics(s in "\\PC{0,60}") {
        let _ = parse_statement_as(&s, &Few, Syntax::Latex);
    }
}

/// The bad-input fixtures' messages in the rustc-like rendering (no colour).
#[test]
fn bad_fixtures_render_like_rustc() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for path in common::toml_files(&common::root().join("tests/data/bad")) {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            let (report, sources) = derive_check::cli::check_paths_and_sources(
                &[path.strip_prefix(common::root()).unwrap().to_path_buf()],
                &Config::default(),
                false,
            );
            let text = render_human_with(
                &Report {
                    seed: 1,
                    files: report.files,
                },
                &HumanOptions {
                    color: Color::Never,
                    sources,
                },
            );
            insta::assert_snapshot!(format!("bad-{stem}"), text);
        }
    });
}

/// The skeletons `extract` writes for the answers of `tests/answers/`.
#[test]
fn extracted_skeletons() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let dir = common::root().join("tests/answers");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let (mut total, mut parsed) = (0, 0);
    settings.bind(|| {
        for path in names
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
        {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(path).unwrap();
            let s = derive_check::extract::extract(&format!("{stem}.md"), &text);
            total += s.display;
            parsed += s.display_parsed;
            insta::assert_snapshot!(format!("extract-{stem}"), s.toml);
            // The skeleton is a derivation file: it loads, and its claims parse.
            let f = common::check_text(&format!("{stem}.toml"), &s.toml);
            assert!(f.failure.is_none(), "{stem}: {:?}", f.failure);
        }
    });
    assert!(total >= 30, "only {total} display formulas");
    assert!(
        parsed * 10 >= total * 9,
        "{parsed} of {total} display formulas parse"
    );
}
