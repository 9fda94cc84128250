//! `derive-check extract ANSWER.md`: reads an answer (Markdown, `.tex` or
//! text), writes the derivation skeleton ([`crate::extract`]) to stdout or
//! `--output`, and says on stderr how many display formulas became claims
//! that parse.

use clap::Args as ClapArgs;
use std::path::PathBuf;

/// Arguments of `derive-check extract`.
#[derive(Debug, ClapArgs)]
pub struct ExtractArgs {
    /// The answer: Markdown, LaTeX (.tex) or plain text with `$…$`.
    #[arg(value_name = "ANSWER")]
    pub answer: PathBuf,
    /// Write the skeleton to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `extract`; the exit status.
pub fn run_extract(args: ExtractArgs) -> i32 {
    let text = match std::fs::read(&args.answer) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                eprintln!("derive-check: {}: not UTF-8 text", args.answer.display());
                return 2;
            }
        },
        Err(e) => {
            eprintln!("derive-check: {}: cannot read: {e}", args.answer.display());
            return 2;
        }
    };
    let name = args
        .answer
        .file_name()
        .map_or_else(|| "answer".to_string(), |n| n.to_string_lossy().to_string());
    let skeleton = crate::extract::extract(&name, &text);
    if !super::write_output(args.output.as_ref(), &skeleton.toml) {
        return 2;
    }
    if !args.quiet {
        eprintln!(
            "derive-check: {name}: {} of {} display formulas became claims that parse; {} of {} inline relations",
            skeleton.display_parsed, skeleton.display, skeleton.inline.1, skeleton.inline.0
        );
    }
    0
}
