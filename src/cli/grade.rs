//! `derive-check grade`: arguments → the key, the submissions and their
//! files; the grading pipeline; then the chosen output. Exit status: 0 when
//! every submission has full marks, 1 when points were lost, 2 when the key,
//! an input or a submission's file could not be read, or the output written.

use super::inputs::{collect, display_path, Input, Reader};
use super::write_output;
use crate::config::{Config, DEFAULT_SEED};
use crate::grade::gradebook::{render_gradebook, GradebookOptions, Lms, Roster, StudentSource};
use crate::grade::{self, gradescope, Gradebook, Key};
use clap::{Args as ClapArgs, ValueEnum};
use std::path::{Path, PathBuf};

/// Grading formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GradeFormat {
    /// The human report (for graders).
    Human,
    /// JSON (for graders and scripts).
    Json,
    /// Gradescope's autograder results.json (one per submission).
    Gradescope,
    /// JUnit XML (for CI servers).
    Junit,
    /// A gradebook CSV, one row per submission (see --lms).
    Csv,
}

/// Gradebook layouts for `--format csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LmsArg {
    /// Every part, total, max and feedback, for a spreadsheet.
    Plain,
    /// Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, the assignment.
    Canvas,
    /// Moodle CSV grade import: identity columns, the assignment and its feedback.
    Moodle,
}

/// Where student identifiers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StudentArg {
    /// The submission's folder name (a file's name without .toml).
    Folder,
    /// The `student = "…"` field of the answer files.
    Field,
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
    /// The answer files and folders of one submission (`-` for standard input).
    #[arg(value_name = "ANSWER")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: GradeFormat,
    /// Write the report to FILE instead of stdout (with --batch and --format gradescope: a folder, one NAME/results.json per submission).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Spot-check seed.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// The wall-clock guard per step, in seconds (0: off); a step that reaches it is unsupported.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::config::DEFAULT_STEP_LIMIT.as_secs_f64(), value_parser = super::parse_step_limit)]
    pub step_limit: f64,
    /// The gradebook layout of --format csv.
    #[arg(long, value_enum, default_value = "plain")]
    pub lms: LmsArg,
    /// Where each submission's student identifier comes from.
    #[arg(long, value_enum, default_value = "folder")]
    pub student_id: StudentArg,
    /// A roster CSV: identifiers in the first column, LMS identity columns after it (by header).
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// The assignment's column header in the gradebook (default: the key's title).
    #[arg(long, value_name = "NAME")]
    pub assignment: Option<String>,
    /// Start the CSV with a UTF-8 byte-order mark (for spreadsheet programs).
    #[arg(long)]
    pub bom: bool,
    /// Measure wall-clock times for JUnit's `time` attributes (otherwise 0, so outputs stay byte-identical).
    #[arg(long)]
    pub timings: bool,
    /// Search only the folders given, not their subfolders.
    #[arg(long)]
    pub no_recurse: bool,
    /// Print nothing on stderr but errors that stop the run and the notice of a wait for another derive-check (no progress bar, no warnings).
    #[arg(short, long)]
    pub quiet: bool,
}

/// Is this entry of a batch folder a submission? Hidden entries and macOS
/// archive folders are not; nor are files other than `*.toml`.
fn is_submission(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with('.') || name == "__MACOSX" {
        return false;
    }
    p.is_dir() || p.extension().is_some_and(|x| x == "toml")
}

/// The submissions: a name and the paths of its files and folders.
fn submissions(args: &GradeArgs) -> Result<Vec<(String, Vec<PathBuf>)>, String> {
    let mut out = Vec::new();
    if let Some(dir) = &args.batch {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the batch folder {}: {e}", dir.display()))?;
        let mut v: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_submission(p))
            .collect();
        v.sort();
        for p in v {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| display_path(&p));
            out.push((name, vec![p]));
        }
    }
    if !args.paths.is_empty() {
        let name = args
            .paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    super::inputs::STDIN_NAME.to_string()
                } else {
                    display_path(p)
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        out.push((name, args.paths.clone()));
    }
    if out.is_empty() {
        return Err("nothing to grade: give answer files, or --batch DIR".into());
    }
    Ok(out)
}

fn load_key(path: &Path) -> Result<Key, String> {
    let name = display_path(path);
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot read the file: {e}"))?;
    let text = super::inputs::utf8(&name, bytes).map_err(|d| d.to_string())?;
    grade::load_key(&name, text).map_err(|d| d.to_string())
}

/// Where the Gradescope results of each submission go in a batch, checked
/// before any grading: distinct folders under DIR.
fn gradescope_targets(
    args: &GradeArgs,
    subs: &[(String, Vec<PathBuf>)],
) -> Result<Option<Vec<PathBuf>>, String> {
    if args.format != GradeFormat::Gradescope || args.batch.is_none() {
        return Ok(None);
    }
    let Some(dir) = &args.output else {
        return Err(
            "--format gradescope writes one results.json per submission (Gradescope grades one submission per run): with --batch, give --output DIR".into(),
        );
    };
    let mut targets: Vec<PathBuf> = Vec::new();
    for (name, _) in subs {
        let t = dir.join(gradescope::folder_name(name)).join("results.json");
        if targets.contains(&t) {
            return Err(format!(
                "two submissions would write {}: rename one of them",
                t.display()
            ));
        }
        targets.push(t);
    }
    Ok(Some(targets))
}

/// Runs `derive-check grade` and returns the exit status.
pub fn run_grade(args: GradeArgs) -> i32 {
    let fatal = |m: String| {
        eprintln!("derive-check: {m}");
        2
    };
    let key = match load_key(&args.key) {
        Ok(k) => k,
        Err(m) => return fatal(format!("bad key: {m}")),
    };
    let subs = match submissions(&args) {
        Ok(s) => s,
        Err(m) => return fatal(m),
    };
    if args.format == GradeFormat::Gradescope && args.batch.is_some() && !args.paths.is_empty() {
        return fatal(
            "--format gradescope: give either --batch DIR or the files of one submission, not both"
                .into(),
        );
    }
    let targets = match gradescope_targets(&args, &subs) {
        Ok(t) => t,
        Err(m) => return fatal(m),
    };
    let roster = match &args.roster {
        None => None,
        Some(p) => match std::fs::read(p)
            .map_err(|e| e.to_string())
            .and_then(|b| super::inputs::utf8(&display_path(p), b).map_err(|d| d.to_string()))
            .and_then(|t| Roster::parse(&t))
        {
            Ok(r) => Some(r),
            Err(m) => return fatal(format!("bad roster {}: {m}", p.display())),
        },
    };
    let config = Config {
        seed: args.seed,
        step_limit: super::step_limit(args.step_limit),
        ..Config::default()
    };
    let session = crate::Session::new(config);
    let recurse = !args.no_recurse;
    let progress =
        (subs.len() > 1 && !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then(|| {
                // The CAS first: a wait message and its notice then come before the bar.
                crate::symbolic::cas::start_now();
                let bar = indicatif::ProgressBar::new(subs.len() as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("grading {pos}/{len} {wide_msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            });
    let say = |m: String| {
        if args.quiet {
            return;
        }
        match &progress {
            Some(bar) => bar.println(format!("derive-check: {m}")),
            None => eprintln!("derive-check: {m}"),
        }
    };
    let mut book = Gradebook::new(&key, args.seed);
    let mut reader = Reader::new();
    for (name, paths) in &subs {
        if let Some(bar) = &progress {
            bar.set_message(name.clone());
        }
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for input in collect(paths, recurse) {
            if matches!(input, Input::Empty(_)) {
                continue; // reported as "no derivation file with the key's ids"
            }
            match reader.read(&input) {
                Ok(f) => files.push(f),
                Err(d) => errors.push(d.to_string()),
            }
        }
        let mut g = grade::grade_submission(&key, name, &files, &session, args.timings);
        errors.append(&mut g.errors);
        g.errors = errors;
        for e in &g.errors {
            say(format!("{name}: cannot read: {e}"));
        }
        book.submissions.push(g);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let written = match (args.format, targets) {
        (GradeFormat::Gradescope, Some(targets)) => {
            let mut ok = true;
            for (s, t) in book.submissions.iter().zip(&targets) {
                let dir = t.parent().unwrap_or(Path::new("."));
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("derive-check: cannot create {}: {e}", dir.display());
                    ok = false;
                    continue;
                }
                ok &= write_output(Some(t), &gradescope::render_gradescope(s));
            }
            ok
        }
        (format, _) => {
            let text = match format {
                GradeFormat::Human => grade::human::render_human(&book),
                GradeFormat::Json => grade::json::render_json(&book),
                GradeFormat::Junit => grade::junit::render_junit(&book),
                GradeFormat::Gradescope => match book.submissions.first() {
                    Some(s) => gradescope::render_gradescope(s),
                    None => String::new(),
                },
                GradeFormat::Csv => {
                    let opts = GradebookOptions {
                        lms: match args.lms {
                            LmsArg::Plain => Lms::Plain,
                            LmsArg::Canvas => Lms::Canvas,
                            LmsArg::Moodle => Lms::Moodle,
                        },
                        student: match args.student_id {
                            StudentArg::Folder => StudentSource::Folder,
                            StudentArg::Field => StudentSource::Field,
                        },
                        roster: roster.as_ref(),
                        assignment: args.assignment.clone().unwrap_or_else(|| key.title.clone()),
                        bom: args.bom,
                    };
                    let (text, warnings) = render_gradebook(&book, &opts);
                    for w in warnings {
                        say(w);
                    }
                    text
                }
            };
            write_output(args.output.as_ref(), &text)
        }
    };
    if !written || book.submissions.iter().any(|s| s.has_errors()) {
        2
    } else if book.submissions.iter().all(|s| s.score() >= s.max_score()) {
        0
    } else {
        1
    }
}
