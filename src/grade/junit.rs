//! JUnit XML for CI servers, valid against the common junit-10 schema: a
//! `<testsuite>` per submission (its `classname` the submission's name,
//! never a path), a `<testcase>` per part, a `<failure>` for a part that
//! lost points and an `<error>` where a file of the submission could not
//! be read. `time` attributes are seconds when timings were measured, else
//! 0 (so that the same inputs give the same bytes). The feedback is the
//! students' (CI logs are often shown to them). Written with quick-xml.

use super::feedback::{feedback, Audience};
use super::{points, Gradebook, SubmissionGrade};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io;

/// Text safe for XML 1.0: control characters other than tab, newline and
/// carriage return cannot be written at all, even escaped.
fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn seconds(t: Option<f64>) -> String {
    format!("{:.3}", t.unwrap_or(0.0))
}

/// Counts of one suite: tests, failures, errors.
fn counts(s: &SubmissionGrade) -> (usize, usize, usize) {
    let mut failures = 0;
    let mut errors = 0;
    for p in &s.parts {
        if p.score >= p.max_score {
            continue;
        }
        // A part missing from a submission whose files could not all be read
        // is not known to be wrong: the file may hold it.
        if p.missing && s.has_errors() {
            errors += 1;
        } else {
            failures += 1;
        }
    }
    let extra = usize::from(s.has_errors() && !s.parts.iter().any(|p| p.missing));
    (s.parts.len() + extra, failures, errors + extra)
}

fn suite(w: &mut Writer<Vec<u8>>, s: &SubmissionGrade) -> io::Result<()> {
    let (tests, failures, errors) = counts(s);
    let name = xml_text(&s.name);
    let read_errors = xml_text(&s.errors.join("\n"));
    w.create_element("testsuite")
        .with_attribute(("name", name.as_str()))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("skipped", "0"))
        .with_attribute(("time", seconds(s.seconds).as_str()))
        .write_inner_content(|w| {
            for p in &s.parts {
                let case = w
                    .create_element("testcase")
                    .with_attribute(("name", xml_text(&p.id).as_str()))
                    .with_attribute(("classname", name.as_str()))
                    .with_attribute(("time", seconds(p.seconds).as_str()));
                if p.score >= p.max_score {
                    case.write_empty()?;
                    continue;
                }
                let message = format!("{} of {} points", points(p.score), points(p.max_score));
                let body = xml_text(&feedback(p, Audience::Student));
                case.write_inner_content(|w| {
                    if p.missing && s.has_errors() {
                        w.create_element("error")
                            .with_attribute((
                                "message",
                                "a file of the submission could not be read",
                            ))
                            .with_attribute(("type", "unreadable"))
                            .write_text_content(BytesText::new(&format!(
                                "{body}\n{read_errors}"
                            )))?;
                    } else {
                        w.create_element("failure")
                            .with_attribute(("message", message.as_str()))
                            .with_attribute(("type", "points lost"))
                            .write_text_content(BytesText::new(&body))?;
                    }
                    Ok(())
                })?;
            }
            if s.has_errors() && !s.parts.iter().any(|p| p.missing) {
                w.create_element("testcase")
                    .with_attribute(("name", "files"))
                    .with_attribute(("classname", name.as_str()))
                    .with_attribute(("time", "0.000"))
                    .write_inner_content(|w| {
                        w.create_element("error")
                            .with_attribute((
                                "message",
                                "a file of the submission could not be read",
                            ))
                            .with_attribute(("type", "unreadable"))
                            .write_text_content(BytesText::new(&read_errors))?;
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write(book: &Gradebook) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for s in &book.submissions {
        let (t, f, e) = counts(s);
        tests += t;
        failures += f;
        errors += e;
    }
    let total: Option<f64> = book.submissions.iter().map(|s| s.seconds).sum();
    w.create_element("testsuites")
        .with_attribute(("name", "derive-check grade"))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("time", seconds(total).as_str()))
        .write_inner_content(|w| {
            for s in &book.submissions {
                suite(w, s)?;
            }
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// The JUnit XML of a grading run.
pub fn render_junit(book: &Gradebook) -> String {
    let bytes = write(book).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("quick-xml writes the UTF-8 it is given")
}
