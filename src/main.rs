//! The `derive-check` binary: parses arguments, runs the library, maps the
//! result to the exit status (0 all met, 1 a claim missed its expectation,
//! 2 a file could not be checked).

use clap::Parser;

fn main() {
    let args = derive_check::cli::Args::parse();
    std::process::exit(derive_check::cli::run(args));
}
