//! Property tests of the parser and the loader: no input makes them panic,
//! and the fully parenthesized form of a parsed expression reads back to
//! the same form.

use derive_check::syntax::parser::{parse_expr, parse_statement, NameClass, Names};
use proptest::prelude::*;

struct Few;

impl Names for Few {
    fn class(&self, name: &str) -> Option<NameClass> {
        match name {
            "x" | "y" | "n" | "W" => Some(NameClass::Value),
            "f" => Some(NameClass::Function),
            _ => None,
        }
    }
    fn declared(&self) -> Vec<String> {
        ["x", "y", "n", "W", "f"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

fn arb_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("n".to_string()),
        (0u32..100).prop_map(|n| n.to_string()),
        (0u32..100, 1u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
    ];
    leaf.prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) + ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} - {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}/({b})")),
            (inner.clone(), 0u32..5).prop_map(|(a, k)| format!("({a})^{k}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("sqrt({a})")),
            inner.clone().prop_map(|a| format!("|{a}|")),
            inner.clone().prop_map(|a| format!("f({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn the_parser_never_panics(s in "\\PC{0,80}") {
        let _ = parse_statement(&s, &Few);
        let _ = parse_expr(&s, &Few, &[]);
    }

    #[test]
    fn the_parser_never_panics_on_operator_soup(s in "[xyn0-9+*/^()\\[\\],.=<>≤≥≈|‖√²ᵀ' -]{0,60}") {
        let _ = parse_statement(&s, &Few);
    }

    #[test]
    fn the_loader_never_panics(s in "(title = \"t\"\n)?(\\[symbols\\]\n|\\[\\[claim\\]\\]\n|id = \"a\"\n|show = \"x = x\"\n|x = \"real\"\n|[a-z =\"\\[\\]\n0-9]{0,20}){0,12}") {
        let _ = derive_check::syntax::load::load("p.toml", s);
    }

    #[test]
    fn printing_then_reparsing_is_stable(s in arb_expr()) {
        if let Ok(e) = parse_expr(&s, &Few, &[]) {
            let printed = e.to_string();
            let again = parse_expr(&printed, &Few, &[]).expect("the printed form parses");
            prop_assert_eq!(again.to_string(), printed);
        }
    }
}
