//! Bad input: every malformed file or claim gets a located message and the
//! right verdict or exit status; nothing panics, overflows the stack or hangs.

use crate::common;

use derive_check::report::FileReport;
use derive_check::verdict::VerdictKind;

fn file_error(text: &str) -> (usize, usize, String) {
    let f = common::check_text("bad.toml", text);
    let d = f
        .failure
        .unwrap_or_else(|| panic!("expected a file error for {text:?}"));
    (d.location.line, d.location.column, d.message)
}

fn claim<'a>(f: &'a FileReport, id: &str) -> &'a derive_check::report::ClaimReport {
    f.claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no claim {id}"))
}

fn claim_error(f: &FileReport, id: &str) -> (usize, usize, String) {
    let c = claim(f, id);
    assert_eq!(c.verdict, VerdictKind::Error, "claim {id}: {c:?}");
    let (loc, msg) = c.error.clone().expect("an error message");
    (loc.line, loc.column, msg)
}

#[test]
fn files_that_cannot_be_checked() {
    let (l, c, m) = file_error("title = \"t\"\n[symbols\n");
    assert_eq!((l, c), (2, 9), "{m}");
    assert!(m.starts_with("invalid TOML"), "{m}");
    let (l, _, m) = file_error("");
    assert_eq!(l, 1);
    assert!(m.contains("missing `title`"), "{m}");
    let (l, c, m) = file_error("title = 3\n");
    assert_eq!((l, c), (1, 9));
    assert!(m.contains("`title` must be a string, found integer"), "{m}");
    let (l, c, m) = file_error("title = \"t\"\n\n[extra]\nx = 1\n");
    assert_eq!((l, c), (3, 2));
    assert!(m.contains("unknown top-level key `extra`"), "{m}");
    let (_, _, m) = file_error("title = \"t\"\nclaim = 3\n");
    assert!(m.contains("array of tables"), "{m}");
}

const HEAD: &str = "title = \"t\"\n[symbols]\nW = \"real\"\nx = \"real\"\nn = \"integer\"\n";

#[test]
fn bad_claims_are_located_and_the_rest_is_checked() {
    let text = format!(
        "{HEAD}[[claim]]\nid = \"syntax\"\nshow = \"x + * 2 = 1\"\n\
         [[claim]]\nid = \"split\"\nshow = \"WW = W^2\"\n\
         [[claim]]\nid = \"typo\"\nshwo = \"x = x\"\n\
         [[claim]]\nid = \"dup\"\nshow = \"x = x\"\n\
         [[claim]]\nid = \"dup\"\nshow = \"x = x\"\n\
         [[claim]]\nid = \"noshow\"\n\
         [[claim]]\nid = \"expect\"\nshow = \"x = x\"\nexpect = \"maybe\"\n\
         [[claim]]\nid = \"shadow\"\nshow = \"sum(x, 1, 3, x) = 6\"\n\
         [[claim]]\nid = \"ok\"\nshow = \"x + x = 2x\"\n"
    );
    let f = common::check_text("bad.toml", &text);
    assert!(f.failure.is_none());
    let (l, c, m) = claim_error(&f, "syntax");
    assert_eq!((l, c), (8, 13), "{m}");
    assert!(m.contains("expected an expression"), "{m}");
    let (l, c, m) = claim_error(&f, "split");
    assert_eq!((l, c), (11, 9));
    assert!(m.contains("did you mean `W W`?"), "{m}");
    let (l, c, m) = claim_error(&f, "typo");
    assert_eq!((l, c), (14, 1));
    assert!(m.contains("did you mean `show`?"), "{m}");
    assert_eq!(
        claim(&f, "dup").verdict,
        VerdictKind::Proved,
        "the first of two equal ids is checked"
    );
    assert!(f.claims.iter().filter(|c| c.id == "dup").any(|c| c
        .error
        .as_ref()
        .is_some_and(|e| e.1.contains("duplicate id"))));
    assert!(claim_error(&f, "noshow").2.contains("no `show`"));
    let (l, _, m) = claim_error(&f, "expect");
    assert_eq!(l, 26);
    assert!(m.contains("unknown `expect` value `maybe`"), "{m}");
    // A sum index may shadow a declared name (issue 17): read as a fresh name, with a note.
    assert_eq!(claim(&f, "shadow").verdict, VerdictKind::Proved);
    assert!(claim(&f, "shadow")
        .notes
        .iter()
        .any(|n| n.contains("shadows")));
    assert_eq!(claim(&f, "ok").verdict, VerdictKind::Proved);
}

#[test]
fn a_bad_declaration_is_reported_at_its_line_and_poisons_only_its_users() {
    let text = "title = \"t\"\n[symbols]\nx = \"positve\"\ny = \"real\"\n\
                [[claim]]\nid = \"uses-x\"\nshow = \"x = x\"\n\
                [[claim]]\nid = \"uses-y\"\nshow = \"y - y = 0\"\n";
    let f = common::check_text("bad.toml", text);
    assert_eq!(f.diagnostics.len(), 1);
    assert_eq!(
        (
            f.diagnostics[0].location.line,
            f.diagnostics[0].location.column
        ),
        (3, 6)
    );
    assert!(f.diagnostics[0].message.contains("unknown kind `positve`"));
    assert!(claim_error(&f, "uses-x").2.contains("line 3, column 6"));
    assert_eq!(claim(&f, "uses-y").verdict, VerdictKind::Proved);
    let f = common::check_text(
        "bad.toml",
        "title = \"t\"\n[symbols]\nv = \"random(mean = )\"\n",
    );
    assert_eq!(f.diagnostics[0].location.line, 3);
    assert!(
        f.diagnostics[0].message.contains("missing value"),
        "{:?}",
        f.diagnostics
    );
}

#[test]
fn limits_give_verdicts_not_crashes() {
    let deep = format!("{}x{}", "(".repeat(5000), ")".repeat(5000));
    let text = format!(
        "{HEAD}[define]\n\"f(n)\" = \"f(n - 1) + 1\"\nA0 = \"x\"\nA1 = \"A0 * A0 + A0\"\nA2 = \"A1 * A1 + A1\"\nA3 = \"A2 * A2 + A2\"\nA4 = \"A3 * A3 + A3\"\nA5 = \"A4 * A4 + A4\"\nA6 = \"A5 * A5 + A5\"\nA7 = \"A6 * A6 + A6\"\nA8 = \"A7 * A7 + A7\"\nA9 = \"A8 * A8 + A8\"\nA10 = \"A9 * A9 + A9\"\nA11 = \"A10 * A10 + A10\"\nA12 = \"A11 * A11 + A11\"\n\
         [[claim]]\nid = \"deep\"\nshow = \"{deep} = x\"\n\
         [[claim]]\nid = \"huge\"\nshow = \"(x + 1)^(10^9) = 0\"\n\
         [[claim]]\nid = \"tower\"\nshow = \"2^2^2^2^2^2 = 3\"\n\
         [[claim]]\nid = \"div0\"\nshow = \"1/0 = 1/0\"\n\
         [[claim]]\nid = \"norec\"\nshow = \"f(3) = 3\"\n\
         [[claim]]\nid = \"blowup\"\nshow = \"A12 = A12 + 0\"\n\
         [[claim]]\nid = \"empty\"\nshow = \"n = n\"\nwhere = \"n > 5 and n < 2\"\n"
    );
    let f = common::check_text("limits.toml", &text);
    assert!(claim_error(&f, "deep").2.contains("nested more than"));
    assert!(matches!(
        claim(&f, "huge").verdict,
        VerdictKind::Refuted | VerdictKind::Unsupported
    ));
    assert!(matches!(
        claim(&f, "tower").verdict,
        VerdictKind::Refuted | VerdictKind::Unsupported
    ));
    for id in ["div0", "norec"] {
        assert_eq!(
            claim(&f, id).verdict,
            VerdictKind::Unsupported,
            "{id}: {:?}",
            claim(&f, id)
        );
    }
    // A true claim whose expansion is over the node budget: never refuted, never an error.
    let blowup = claim(&f, "blowup").verdict;
    assert!(
        matches!(
            blowup,
            VerdictKind::Proved | VerdictKind::Checked | VerdictKind::Unsupported
        ),
        "{blowup:?}"
    );
    assert!(claim_error(&f, "empty").2.contains("domain is empty"));
}
