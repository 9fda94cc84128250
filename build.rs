//! Generates one test module per fixture file (every derivation under
//! `derivations/` and `tests/data/`, every bad-input file under
//! `tests/data/bad/`), so that a failure names its fixture and one fixture
//! runs alone (`cargo test --release --test it data_scalar`). The library
//! itself does not use the output.

use std::fmt::Write as _;
use std::path::Path;

fn toml_files(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn ident(prefix: &str, path: &str) -> String {
    let stem = Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut name = format!("{prefix}{stem}");
    name = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name
}

fn main() {
    for dir in ["derivations", "tests/data", "tests/data/bad"] {
        println!("cargo:rerun-if-changed={dir}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let mut out = String::new();
    for path in toml_files("derivations") {
        let _ = writeln!(out, "fixture!({}, \"{path}\", \"\");", ident("", &path));
    }
    for path in toml_files("tests/data") {
        let _ = writeln!(
            out,
            "fixture!({}, \"{path}\", \"data-\");",
            ident("data_", &path)
        );
    }
    for path in toml_files("tests/data/bad") {
        let _ = writeln!(out, "bad_fixture!({}, \"{path}\");", ident("bad_", &path));
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("fixtures.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
