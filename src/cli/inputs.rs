//! Inputs on the command line turned into files: folders searched
//! recursively in a deterministic order (sorted by name at every level;
//! `--no-recurse` keeps to the folder itself), `-` for standard input.
//! Hidden entries (`.name`) and macOS archive folders (`__MACOSX`) are
//! skipped inside folders, and symbolic links to folders are not followed
//! (so a link cannot make the search loop); a file named explicitly is
//! always read.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The name standard input is reported under.
pub const STDIN_NAME: &str = "<stdin>";

/// One input: a file to read, standard input, a folder with no
/// derivation files, or a path that could not be turned into files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A folder holding no `*.toml` file.
    Empty(PathBuf),
    /// A path that could not be searched, with the reason.
    Unreadable(PathBuf, String),
}

/// Is this entry of a folder skipped by the search?
fn skipped(name: &str) -> bool {
    name.starts_with('.') || name == "__MACOSX"
}

fn walk(dir: &Path, recurse: bool, out: &mut Vec<Input>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the folder: {e}"))?;
    let mut entries: Vec<std::fs::DirEntry> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        // A link to a folder is not followed; a link to a file is read.
        let is_file = kind.is_file() || (kind.is_symlink() && path.is_file());
        if kind.is_dir() {
            if recurse {
                // A subfolder that cannot be read is reported in its place.
                if let Err(m) = walk(&path, recurse, out) {
                    out.push(Input::Unreadable(path, m));
                }
            }
        } else if is_file && path.extension().is_some_and(|x| x == "toml") {
            out.push(Input::File(path));
        }
    }
    Ok(())
}

/// The inputs of these paths, in order; folders expanded.
pub fn collect(paths: &[PathBuf], recurse: bool) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else if p.is_dir() {
            let mut files = Vec::new();
            match walk(p, recurse, &mut files) {
                Err(m) => out.push(Input::Unreadable(p.clone(), m)),
                Ok(()) if files.is_empty() => out.push(Input::Empty(p.clone())),
                Ok(()) => out.extend(files),
            }
        } else {
            out.push(Input::File(p.clone()));
        }
    }
    out
}

/// A path as reports show it.
pub fn display_path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Bytes as UTF-8 text, or the located reason they are not.
pub fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, crate::syntax::source::Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        crate::syntax::source::Diagnostic {
            file: name.to_string(),
            location: crate::syntax::source::SourceText::new(text).location(at),
            message: "the file is not valid UTF-8".into(),
        }
    })
}

/// Reads inputs as (name, text); standard input is read at most once.
pub struct Reader {
    stdin_used: bool,
}

impl Reader {
    /// A reader that has not read standard input yet.
    pub fn new() -> Reader {
        Reader { stdin_used: false }
    }

    /// The name and text of a file or of standard input; `Err` with the
    /// name and a located message.
    pub fn read(
        &mut self,
        input: &Input,
    ) -> Result<(String, String), crate::syntax::source::Diagnostic> {
        let fail = |name: String, message: String| crate::syntax::source::Diagnostic {
            file: name,
            location: crate::syntax::source::Location { line: 1, column: 1 },
            message,
        };
        match input {
            Input::File(p) => {
                let name = display_path(p);
                let bytes = std::fs::read(p)
                    .map_err(|e| fail(name.clone(), format!("cannot read the file: {e}")))?;
                Ok((name.clone(), utf8(&name, bytes)?))
            }
            Input::Stdin => {
                let name = STDIN_NAME.to_string();
                if self.stdin_used {
                    return Err(fail(
                        name,
                        "standard input (`-`) can be read only once".into(),
                    ));
                }
                self.stdin_used = true;
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(|e| fail(name.clone(), format!("cannot read standard input: {e}")))?;
                Ok((name.clone(), utf8(&name, bytes)?))
            }
            Input::Empty(p) => Err(fail(
                display_path(p),
                "the folder holds no *.toml files".into(),
            )),
            Input::Unreadable(p, m) => Err(fail(display_path(p), m.clone())),
        }
    }
}

impl Default for Reader {
    fn default() -> Reader {
        Reader::new()
    }
}
