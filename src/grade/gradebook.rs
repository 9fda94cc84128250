//! Gradebook CSVs that import: one row per submission, a student identifier
//! taken from a chosen source, the identity columns and grade columns the
//! chosen LMS expects, and a feedback column where the LMS imports one.
//! Written with the csv crate.
//!
//! - **Canvas** (gradebook import): `Student`, `ID`, `SIS User ID`,
//!   `SIS Login ID`, `Section`, then one column per assignment, holding the
//!   total. Canvas makes a new assignment of every other column, so there
//!   is no per-part, total or feedback column.
//! - **Moodle** (CSV grade import, columns mapped on upload): the identity
//!   columns (the roster's, else `Username`), one grade column for the
//!   assignment and its `Feedback` column; Moodle computes course totals.
//! - **plain**: `student`, `submission`, the roster's columns, one column
//!   per part, `total`, `max` and `feedback`, for a spreadsheet.

use super::feedback::{summary, Audience};
use super::{points, Gradebook, SubmissionGrade};
use std::collections::BTreeMap;

/// The LMS a gradebook is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lms {
    /// A spreadsheet: every part, totals and feedback.
    Plain,
    /// Canvas gradebook import.
    Canvas,
    /// Moodle CSV grade import.
    Moodle,
}

/// Where a submission's student identifier comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StudentSource {
    /// The submission's folder name (a file's name without `.toml`). The default.
    Folder,
    /// The `student = "…"` field of the answer files.
    Field,
}

/// Canvas's identity columns, in the order of its gradebook export.
pub const CANVAS_IDENTITY: [&str; 5] = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"];

/// A roster: a CSV whose first column holds the student identifiers found
/// by [`StudentSource`] and whose other columns (by header) are the LMS
/// identity columns to fill in, e.g. a Canvas export's `Student`, `ID`,
/// `SIS User ID`, `SIS Login ID`, `Section`, or Moodle's `Email address`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// The headers after the first.
    pub columns: Vec<String>,
    /// Each identifier's values for those columns.
    pub rows: BTreeMap<String, Vec<String>>,
}

impl Roster {
    /// Reads a roster CSV (UTF-8, an optional BOM, a header row).
    pub fn parse(text: &str) -> Result<Roster, String> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| format!("the roster's header row: {e}"))?
            .clone();
        if headers.len() < 2 {
            return Err("the roster needs an identifier column and at least one more".into());
        }
        let columns: Vec<String> = headers
            .iter()
            .skip(1)
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = BTreeMap::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| format!("roster line {}: {e}", i + 2))?;
            let Some(id) = record.get(0).map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            let values = (1..headers.len())
                .map(|c| record.get(c).unwrap_or("").trim().to_string())
                .collect();
            if rows.insert(id.to_string(), values).is_some() {
                return Err(format!("roster line {}: `{id}` appears twice", i + 2));
            }
        }
        Ok(Roster { columns, rows })
    }

    /// The value of `column` (matched without regard to case) for `id`.
    fn get(&self, id: &str, column: &str) -> Option<&str> {
        let c = self
            .columns
            .iter()
            .position(|h| h.eq_ignore_ascii_case(column))?;
        self.rows.get(id).map(|r| r[c].as_str())
    }
}

/// Settings of a gradebook rendering.
#[derive(Clone, Debug)]
pub struct GradebookOptions<'a> {
    /// Which LMS's layout.
    pub lms: Lms,
    /// Where identifiers come from.
    pub student: StudentSource,
    /// The roster, if any.
    pub roster: Option<&'a Roster>,
    /// The assignment column's header (Canvas: `Name (id)` as in its export).
    pub assignment: String,
    /// Start with a UTF-8 byte-order mark (for spreadsheet programs).
    pub bom: bool,
}

/// A submission's student identifier, and a warning when its source lacks one.
pub fn student_id(s: &SubmissionGrade, source: StudentSource) -> (String, Option<String>) {
    let folder = || {
        let base = s
            .name
            .rsplit(['/', '\\'])
            .find(|p| !p.is_empty())
            .unwrap_or(&s.name);
        base.strip_suffix(".toml").unwrap_or(base).to_string()
    };
    match (source, &s.student) {
        (StudentSource::Field, Some(id)) if !id.trim().is_empty() => (id.trim().to_string(), None),
        (StudentSource::Field, _) => (
            folder(),
            Some(format!(
                "`{}` has no `student` field: its folder name is used",
                s.name
            )),
        ),
        (StudentSource::Folder, _) => (folder(), None),
    }
}

/// The gradebook CSV and the warnings for the grader (identifiers not in
/// the roster, ...).
pub fn render_gradebook(book: &Gradebook, opts: &GradebookOptions<'_>) -> (String, Vec<String>) {
    let mut warnings = Vec::new();
    let roster_columns: Vec<String> = opts.roster.map(|r| r.columns.clone()).unwrap_or_default();
    let mut header: Vec<String> = Vec::new();
    match opts.lms {
        Lms::Canvas => {
            header.extend(CANVAS_IDENTITY.iter().map(|s| s.to_string()));
            header.push(opts.assignment.clone());
            if opts.roster.is_none() {
                warnings.push(
                    "canvas: without --roster only the Student column is filled; Canvas matches rows more reliably by ID, SIS User ID or SIS Login ID"
                        .into(),
                );
            }
        }
        Lms::Moodle => {
            if roster_columns.is_empty() {
                header.push("Username".into());
            } else {
                header.extend(roster_columns.iter().cloned());
            }
            header.push(opts.assignment.clone());
            header.push("Feedback".into());
        }
        Lms::Plain => {
            header.push("student".into());
            header.push("submission".into());
            header.extend(roster_columns.iter().cloned());
            header.extend(book.part_ids.iter().cloned());
            header.extend(["total", "max", "feedback"].map(String::from));
        }
    }
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut write = |record: &[String], warnings: &mut Vec<String>| {
        if let Err(e) = w.write_record(record) {
            warnings.push(format!("csv: {e}"));
        }
    };
    write(&header, &mut warnings);
    for s in &book.submissions {
        let (id, warning) = student_id(s, opts.student);
        warnings.extend(warning);
        if let Some(r) = opts.roster {
            if !r.rows.contains_key(&id) {
                warnings.push(format!(
                    "roster: no row for `{id}` (submission `{}`)",
                    s.name
                ));
            }
        }
        let from_roster = |column: &str| {
            opts.roster
                .and_then(|r| r.get(&id, column))
                .unwrap_or("")
                .to_string()
        };
        let feedback = s
            .errors
            .iter()
            .map(|e| format!("cannot read: {e}"))
            .chain(s.messages.iter().cloned())
            .chain(s.parts.iter().map(|p| summary(p, Audience::Student)))
            .collect::<Vec<_>>()
            .join(" | ");
        let mut row: Vec<String> = Vec::new();
        match opts.lms {
            Lms::Canvas => {
                for column in CANVAS_IDENTITY {
                    let v = from_roster(column);
                    row.push(if column == "Student" && v.is_empty() {
                        id.clone()
                    } else {
                        v
                    });
                }
                row.push(points(s.score()));
            }
            Lms::Moodle => {
                if roster_columns.is_empty() {
                    row.push(id.clone());
                } else {
                    row.extend(roster_columns.iter().map(|c| from_roster(c)));
                }
                row.push(points(s.score()));
                row.push(feedback);
            }
            Lms::Plain => {
                row.push(id.clone());
                row.push(s.name.clone());
                row.extend(roster_columns.iter().map(|c| from_roster(c)));
                row.extend(s.parts.iter().map(|p| points(p.score)));
                row.push(points(s.score()));
                row.push(points(s.max_score()));
                row.push(feedback);
            }
        }
        write(&row, &mut warnings);
    }
    let bytes = w.into_inner().unwrap_or_default();
    let mut text = String::from_utf8(bytes).unwrap_or_default();
    if opts.bom {
        text.insert(0, '\u{FEFF}');
    }
    (text, warnings)
}
