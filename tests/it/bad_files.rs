//! The bad-input fixtures under `tests/data/bad/`: each file's first line
//! says what must happen (`# expect: exit N; file error at L:C ...` or
//! `claim "id" error at L:C ...`, and whether the other claims are still
//! checked). Each is read and checked through the CLI layer's file reading.

use derive_check::config::Config;
use derive_check::verdict::VerdictKind;
use std::path::Path;

fn expectation(first_line: &str) -> (i32, Option<(String, usize, usize)>, bool) {
    let exit = first_line
        .split("exit ")
        .nth(1)
        .and_then(|r| r[..1].parse().ok())
        .expect("an exit status");
    // `file error at L:C` or `claim "id" ... error at L:C`
    let target = if let Some(rest) = first_line.split("file error at ").nth(1) {
        let lc: Vec<usize> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(2)
            .map(|s| s.parse().unwrap())
            .collect();
        Some(("<file>".to_string(), lc[0], lc[1]))
    } else if let Some(rest) = first_line.split("claim \"").nth(1) {
        let id = rest.split('"').next().unwrap().to_string();
        rest.split("error at ").nth(1).map(|r| {
            let lc: Vec<usize> = r
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .take(2)
                .map(|s| s.parse().unwrap())
                .collect();
            (id, lc[0], lc[1])
        })
    } else {
        None
    };
    (exit, target, first_line.contains("\"ok\" proved"))
}

/// Checks one bad-input fixture against the expectation on its first line.
pub fn fixture(path: &Path) {
    let mut failures = Vec::new();
    {
        let bytes = std::fs::read(path).unwrap();
        let first =
            String::from_utf8_lossy(bytes.split(|b| *b == b'\n').next().unwrap()).to_string();
        let (exit, target, ok_proved) = expectation(&first);
        let report = derive_check::cli::check_paths(&[path.to_path_buf()], &Config::default());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if report.exit_code() != exit {
            failures.push(format!(
                "{name}: exit {} instead of {exit}",
                report.exit_code()
            ));
        }
        let file = &report.files[0];
        match &target {
            Some((id, line, col)) if id == "<file>" => match &file.failure {
                Some(d) if (d.location.line, d.location.column) == (*line, *col) => {}
                other => failures.push(format!(
                    "{name}: file error {other:?}, expected at {line}:{col}"
                )),
            },
            Some((id, line, col)) => {
                let found = file
                    .claims
                    .iter()
                    .filter(|c| &c.id == id)
                    .find_map(|c| c.error.clone())
                    .or_else(|| {
                        file.diagnostics
                            .first()
                            .map(|d| (d.location, d.message.clone()))
                    });
                match found {
                    Some((loc, _)) if (loc.line, loc.column) == (*line, *col) => {}
                    other => failures.push(format!(
                        "{name}: claim {id}: {other:?}, expected an error at {line}:{col}"
                    )),
                }
            }
            None => {}
        }
        if ok_proved
            && !file
                .claims
                .iter()
                .any(|c| c.id == "ok" && c.verdict == VerdictKind::Proved)
        {
            failures.push(format!("{name}: the good claim `ok` was not proved"));
        }
        for c in &file.claims {
            if c.id != "ok" && c.verdict.passes() {
                failures.push(format!(
                    "{name}: the bad claim `{}` passed as {}",
                    c.id,
                    c.verdict.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
