//! Shared helpers of the integration tests: check a file through the
//! library (all Symbolica work runs on the engine thread) and render it.

#![allow(dead_code)]

use derive_check::config::Config;
use derive_check::report::{render_human, render_json, FileReport, Report};
use std::path::{Path, PathBuf};

/// The crate's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Checks one file, naming it by its path relative to the crate root.
pub fn check_file(path: &Path, config: &Config) -> FileReport {
    let text = std::fs::read_to_string(path).expect("test data is UTF-8");
    let rel = path
        .strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    derive_check::check_source(&rel, text, config)
}

/// Checks a file's text under a name.
pub fn check_text(name: &str, text: &str) -> FileReport {
    derive_check::check_source(name, text.to_string(), &Config::default())
}

/// The human and JSON renderings of one file's report.
pub fn render(file: FileReport, seed: u64) -> (String, String) {
    let report = Report {
        seed,
        files: vec![file],
    };
    (render_human(&report), render_json(&report))
}

/// The `*.toml` files of a folder, sorted.
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
