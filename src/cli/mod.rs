//! The command-line layer: raw arguments → a resolved [`Config`] and list of
//! files, then the one pipeline, then output. The only module that touches
//! the file system.
//!
//! - `derive-check PATH...` checks derivation files ([`run`]);
//! - `derive-check grade` grades answers against a key ([`grade`]);
//! - `derive-check completions SHELL` and `derive-check man [DIR]` write
//!   shell completions and man pages generated from these definitions.

pub mod extract;
pub mod grade;
pub mod inputs;

use crate::config::{Config, DEFAULT_SEED};
use crate::report::snippet::{self, Color};
use crate::report::{render_human_with, render_json, FileReport, HumanOptions, Report};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use inputs::{collect, Reader};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

pub use grade::GradeArgs;

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
    /// `grade`, `completions` or `man` (see `derive-check help`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Derivation files, folders of *.toml files (searched recursively), or `-` for standard input.
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
    /// The wall-clock guard per step, in seconds (0: off); a step that reaches it is unsupported. A last resort: the budgets of work bound every step first.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::config::DEFAULT_STEP_LIMIT.as_secs_f64(), value_parser = parse_step_limit)]
    pub step_limit: f64,
    /// Search only the folders given, not their subfolders.
    #[arg(long)]
    pub no_recurse: bool,
    /// Print nothing on stderr but errors that stop the run (and the notice of a wait for another derive-check).
    #[arg(short, long)]
    pub quiet: bool,
    /// Colour diagnostics: `auto` (on a terminal, unless NO_COLOR is set), `always` or `never`.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// When to colour diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the `NO_COLOR` environment variable is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// The colour for a stream that is (or is not) a terminal.
    pub fn resolve(self, terminal: bool) -> Color {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => Color::Always,
            ColorChoice::Never => Color::Never,
            ColorChoice::Auto if terminal && !no_color => Color::Always,
            ColorChoice::Auto => Color::Never,
        }
    }
}

/// Shells with completions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade answer files against a key: per-part scores, feedback, and outputs for Gradescope, gradebooks and CI.
    Grade(GradeArgs),
    /// Write shell completions to stdout (e.g. `derive-check completions bash > derive-check.bash`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Write the man pages (derive-check.1 and one per subcommand) into DIR, or the main page to stdout.
    Man {
        /// The folder to write the pages into.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write a derivation file skeleton from a Markdown, LaTeX or text answer (its display formulas as claims).
    Extract(extract::ExtractArgs),
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

/// Checks the paths under `config` and returns the report (folders searched
/// recursively).
pub fn check_paths(paths: &[PathBuf], config: &Config) -> Report {
    check_paths_with(paths, config, true)
}

/// [`check_paths`], with folders searched recursively only when `recurse` is true.
pub fn check_paths_with(paths: &[PathBuf], config: &Config, recurse: bool) -> Report {
    check_paths_and_sources(paths, config, recurse).0
}

/// [`check_paths_with`], also returning the text of every file read (by
/// the name it is reported under), for diagnostics with source lines.
pub fn check_paths_and_sources(
    paths: &[PathBuf],
    config: &Config,
    recurse: bool,
) -> (Report, BTreeMap<String, String>) {
    // Readable files are checked together (their claims in parallel); the
    // others get their failure report, each in its place.
    let mut files: Vec<Option<FileReport>> = Vec::new();
    let mut texts = Vec::new();
    let mut reader = Reader::new();
    for input in collect(paths, recurse) {
        match reader.read(&input) {
            Ok((name, text)) => {
                texts.push((name, text));
                files.push(None);
            }
            Err(d) => files.push(Some(FileReport {
                failure: Some(d.clone()),
                ..failed(d.file, String::new())
            })),
        }
    }
    let sources: BTreeMap<String, String> = texts.iter().cloned().collect();
    let mut checked = crate::check_sources(texts, config).into_iter();
    let report = Report {
        seed: config.seed,
        files: files
            .into_iter()
            .map(|f| {
                f.or_else(|| checked.next())
                    .expect("one report per readable file")
            })
            .collect(),
    };
    (report, sources)
}

/// Writes `text` to `path`, or to stdout without one; false (with a
/// message) when it cannot.
pub(crate) fn write_output(path: Option<&PathBuf>, text: &str) -> bool {
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

fn completions(shell: Shell) -> i32 {
    let mut cmd = Args::command();
    let mut out = std::io::stdout();
    match shell {
        Shell::Bash => clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut cmd,
            "derive-check",
            &mut out,
        ),
        Shell::Zsh => clap_complete::generate(
            clap_complete::Shell::Zsh,
            &mut cmd,
            "derive-check",
            &mut out,
        ),
        Shell::Fish => clap_complete::generate(
            clap_complete::Shell::Fish,
            &mut cmd,
            "derive-check",
            &mut out,
        ),
    }
    0
}

fn man(dir: Option<PathBuf>) -> i32 {
    let cmd = Args::command();
    match dir {
        Some(dir) => {
            if let Err(e) =
                std::fs::create_dir_all(&dir).and_then(|_| clap_mangen::generate_to(cmd, &dir))
            {
                eprintln!(
                    "derive-check: cannot write the man pages into {}: {e}",
                    dir.display()
                );
                return 2;
            }
        }
        None => {
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
                eprintln!("derive-check: cannot write the man page: {e}");
                return 2;
            }
        }
    }
    0
}

/// Runs the command line and returns the exit status.
pub fn run(args: Args) -> i32 {
    match args.command {
        Some(Command::Grade(g)) => return grade::run_grade(g),
        Some(Command::Completions { shell }) => return completions(shell),
        Some(Command::Man { dir }) => return man(dir),
        Some(Command::Extract(e)) => return extract::run_extract(e),
        None => {}
    }
    let config = Config {
        seed: args.seed,
        only: args.only.clone(),
        step_limit: step_limit(args.step_limit),
        ..Config::default()
    };
    let (report, sources) = check_paths_and_sources(&args.paths, &config, !args.no_recurse);
    let stdout_color = if args.output.is_some() {
        Color::Never
    } else {
        args.color.resolve(std::io::stdout().is_terminal())
    };
    let text = match args.format {
        Format::Human => render_human_with(
            &report,
            &HumanOptions {
                color: stdout_color,
                sources: sources.clone(),
            },
        ),
        Format::Json => render_json(&report),
    };
    if !write_output(args.output.as_ref(), &text) {
        return 2;
    }
    if !args.quiet {
        let color = args.color.resolve(std::io::stderr().is_terminal());
        for f in &report.files {
            if let Some(d) = &f.failure {
                let source = sources.get(&d.file).map(String::as_str);
                eprintln!("derive-check: {}", snippet::render(d, source, color));
            }
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

/// Parses `--step-limit`: a finite, nonnegative number of seconds.
pub(crate) fn parse_step_limit(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 86400 (0 turns the guard off)"
        )),
    }
}

/// The guard of `--step-limit SECONDS` (0: none).
pub(crate) fn step_limit(seconds: f64) -> Option<std::time::Duration> {
    (seconds > 0.0).then(|| std::time::Duration::from_secs_f64(seconds))
}
