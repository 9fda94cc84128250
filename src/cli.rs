//! The command-line layer: raw arguments → a resolved [`Config`] and list of
//! files, then the one pipeline, then output. The only module that touches
//! the file system.

use crate::config::{Config, DEFAULT_SEED};
use crate::report::{render_human, render_json, FileReport, Report};
use clap::{Parser, ValueEnum};
use std::path::{Path, PathBuf};

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The human report.
    Human,
    /// The JSON report of FORMAT.md.
    Json,
}

/// Checks derivation-style math answers: proves, refutes or spot-checks each step.
#[derive(Debug, Parser)]
#[command(name = "derive-check", version, about)]
pub struct Args {
    /// Derivation files, or folders of *.toml files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Spot-check seed (printed in the report).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Check only the claim with this id (repeatable).
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
}

/// A file to check, or a path that could not be turned into files.
enum Input {
    File(PathBuf),
    Unreadable(PathBuf, String),
}

fn collect(paths: &[PathBuf]) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut files: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "toml"))
                        .collect();
                    files.sort();
                    if files.is_empty() {
                        out.push(Input::Unreadable(
                            p.clone(),
                            "the folder holds no *.toml files".into(),
                        ));
                    }
                    out.extend(files.into_iter().map(Input::File));
                }
                Err(e) => out.push(Input::Unreadable(
                    p.clone(),
                    format!("cannot read the folder: {e}"),
                )),
            }
        } else {
            out.push(Input::File(p.clone()));
        }
    }
    out
}

fn display_path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn failed(path: String, message: String) -> FileReport {
    FileReport {
        path: path.clone(),
        title: None,
        failure: Some(crate::diagnostic::Diagnostic {
            file: path,
            location: crate::diagnostic::Location { line: 1, column: 1 },
            message,
        }),
        diagnostics: Vec::new(),
        claims: Vec::new(),
    }
}

/// Checks the paths under `config` and returns the report.
pub fn check_paths(paths: &[PathBuf], config: &Config) -> Report {
    let mut files = Vec::new();
    for input in collect(paths) {
        match input {
            Input::Unreadable(p, m) => files.push(failed(display_path(&p), m)),
            Input::File(p) => {
                let name = display_path(&p);
                match std::fs::read(&p) {
                    Err(e) => files.push(failed(name, format!("cannot read the file: {e}"))),
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Err(e) => {
                            let at = e.utf8_error().valid_up_to();
                            let text = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
                            let loc = crate::diagnostic::SourceText::new(text).location(at);
                            files.push(FileReport {
                                failure: Some(crate::diagnostic::Diagnostic {
                                    file: name.clone(),
                                    location: loc,
                                    message: "the file is not valid UTF-8".into(),
                                }),
                                ..failed(name, String::new())
                            });
                        }
                        Ok(text) => files.push(crate::check_source(&name, text, config)),
                    },
                }
            }
        }
    }
    Report {
        seed: config.seed,
        files,
    }
}

/// Runs the command line and returns the exit status.
pub fn run(args: Args) -> i32 {
    let config = Config {
        seed: args.seed,
        only: args.only.clone(),
        ..Config::default()
    };
    let report = check_paths(&args.paths, &config);
    let text = match args.format {
        Format::Human => render_human(&report),
        Format::Json => render_json(&report),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("derive-check: cannot write {}: {e}", path.display());
                return 2;
            }
        }
        None => print!("{text}"),
    }
    for f in &report.files {
        if let Some(d) = &f.failure {
            eprintln!("derive-check: {d}");
        }
    }
    if !config.only.is_empty() {
        let found: Vec<&String> = report
            .files
            .iter()
            .flat_map(|f| f.claims.iter().map(|c| &c.id))
            .collect();
        let missing: Vec<&String> = config
            .only
            .iter()
            .filter(|id| !found.contains(id))
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "derive-check: --only: no claim with id {}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return 2;
        }
    }
    report.exit_code()
}
