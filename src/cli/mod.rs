//! The command-line layer: raw arguments → a resolved [`Config`] and list of
//! files, then the one pipeline, then output. The only module that touches
//! the file system.

use crate::config::{Config, DEFAULT_SEED};
use crate::report::{render_human, render_json, FileReport, Report};
use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
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
#[command(
    name = "derive-check",
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Args {
    /// `grade`: grade answers against a key (see `derive-check grade --help`).
    #[command(subcommand)]
    pub command: Option<Command>,
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

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade answer files against a key: per-part scores, feedback and CI outputs.
    Grade(GradeArgs),
}

/// Grading formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GradeFormat {
    /// The human report.
    Human,
    /// JSON.
    Json,
    /// Gradescope's autograder results.json.
    Gradescope,
    /// JUnit XML.
    Junit,
    /// A CSV gradebook, one row per submission.
    Csv,
}

/// Options of `derive-check grade`.
#[derive(Debug, ClapArgs)]
pub struct GradeArgs {
    /// The key file: the derivation format plus `[[answer]]` tables.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Grade each entry (file or folder) of DIR as a submission of its own.
    #[arg(long, value_name = "DIR")]
    pub batch: Option<PathBuf>,
    /// The answer files and folders of one submission.
    #[arg(value_name = "ANSWER")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: GradeFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Spot-check seed.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
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
        failure: Some(crate::syntax::source::Diagnostic {
            file: path,
            location: crate::syntax::source::Location { line: 1, column: 1 },
            message,
        }),
        diagnostics: Vec::new(),
        claims: Vec::new(),
    }
}

/// Checks the paths under `config` and returns the report.
pub fn check_paths(paths: &[PathBuf], config: &Config) -> Report {
    // Readable files are checked together (their claims in parallel); the
    // others get their failure report, each in its place.
    let mut files: Vec<Option<FileReport>> = Vec::new();
    let mut texts = Vec::new();
    for input in collect(paths) {
        match input {
            Input::Unreadable(p, m) => files.push(Some(failed(display_path(&p), m))),
            Input::File(p) => {
                let name = display_path(&p);
                match std::fs::read(&p) {
                    Err(e) => files.push(Some(failed(name, format!("cannot read the file: {e}")))),
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Err(e) => {
                            let at = e.utf8_error().valid_up_to();
                            let text = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
                            let loc = crate::syntax::source::SourceText::new(text).location(at);
                            files.push(Some(FileReport {
                                failure: Some(crate::syntax::source::Diagnostic {
                                    file: name.clone(),
                                    location: loc,
                                    message: "the file is not valid UTF-8".into(),
                                }),
                                ..failed(name, String::new())
                            }));
                        }
                        Ok(text) => {
                            texts.push((name, text));
                            files.push(None);
                        }
                    },
                }
            }
        }
    }
    let mut checked = crate::check_sources(texts, config).into_iter();
    Report {
        seed: config.seed,
        files: files
            .into_iter()
            .map(|f| {
                f.or_else(|| checked.next())
                    .expect("one report per readable file")
            })
            .collect(),
    }
}

fn read_text(p: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(p).map_err(|e| format!("{}: cannot read the file: {e}", display_path(p)))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let loc = crate::syntax::source::SourceText::new(text).location(at);
        format!(
            "{}:{}:{}: the file is not valid UTF-8",
            display_path(p),
            loc.line,
            loc.column
        )
    })
}

fn write_output(path: Option<&PathBuf>, text: &str) -> bool {
    match path {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("derive-check: cannot write {}: {e}", path.display());
                return false;
            }
        }
        None => print!("{text}"),
    }
    true
}

/// Runs `derive-check grade` and returns the exit status: 0 full marks
/// everywhere, 1 some points lost, 2 the key or the inputs are unusable.
pub fn run_grade(args: GradeArgs) -> i32 {
    use crate::grade;
    let key_name = display_path(&args.key);
    let key = match read_text(&args.key)
        .and_then(|t| grade::load_key(&key_name, t).map_err(|d| d.to_string()))
    {
        Ok(k) => k,
        Err(m) => {
            eprintln!("derive-check: bad key: {m}");
            return 2;
        }
    };
    // Each submission: a name and its input paths.
    let mut submissions: Vec<(String, Vec<PathBuf>)> = Vec::new();
    if let Some(dir) = &args.batch {
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                let mut v: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "toml"))
                    .collect();
                v.sort();
                submissions.extend(v.into_iter().map(|p| (display_path(&p), vec![p])));
            }
            Err(e) => {
                eprintln!(
                    "derive-check: cannot read the batch folder {}: {e}",
                    dir.display()
                );
                return 2;
            }
        }
    }
    if !args.paths.is_empty() {
        let name = args
            .paths
            .iter()
            .map(|p| display_path(p))
            .collect::<Vec<_>>()
            .join(" ");
        submissions.push((name, args.paths.clone()));
    }
    if submissions.is_empty() {
        eprintln!("derive-check: nothing to grade: give answer files, or --batch DIR");
        return 2;
    }
    let config = Config {
        seed: args.seed,
        ..Config::default()
    };
    let mut memo = grade::Memo::default();
    let progress = submissions.len() > 1 && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let total = submissions.len();
    let mut graded = Vec::new();
    for (i, (name, paths)) in submissions.iter().enumerate() {
        if progress {
            eprint!("\rgrading {}/{total}: {name}\x1b[K", i + 1);
        }
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for input in collect(paths) {
            match input {
                Input::Unreadable(p, m) => problems.push(format!("{}: {m}", display_path(&p))),
                Input::File(p) => match read_text(&p) {
                    Ok(t) => files.push((display_path(&p), t)),
                    Err(m) => problems.push(m),
                },
            }
        }
        let mut g = grade::grade_submission(&key, name, &files, &config, &mut memo);
        problems.append(&mut g.problems);
        g.problems = problems;
        graded.push(g);
    }
    if progress {
        eprintln!("\rgraded {total} submissions\x1b[K");
    }
    let book = grade::Gradebook {
        key: key_name,
        seed: args.seed,
        part_ids: key.parts.iter().map(|p| p.id.clone()).collect(),
        submissions: graded,
    };
    let text = match args.format {
        GradeFormat::Human => grade::render_human(&book),
        GradeFormat::Json => grade::render_json(&book),
        GradeFormat::Gradescope => grade::render_gradescope(&book),
        GradeFormat::Junit => grade::render_junit(&book),
        GradeFormat::Csv => grade::render_csv(&book),
    };
    if !write_output(args.output.as_ref(), &text) {
        return 2;
    }
    if book.submissions.iter().all(|s| s.score() >= s.max_score()) {
        0
    } else {
        1
    }
}

/// Runs the command line and returns the exit status.
pub fn run(args: Args) -> i32 {
    if let Some(Command::Grade(g)) = args.command {
        return run_grade(g);
    }
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
