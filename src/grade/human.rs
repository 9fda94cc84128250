//! The human report of a grading run, for graders (key values included).

use super::feedback::{feedback_lines, Audience};
use super::{points, Gradebook};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The most common first invalid step of each part over a batch, with its count.
pub fn common_mistakes(book: &Gradebook) -> BTreeMap<String, (String, usize)> {
    let mut out = BTreeMap::new();
    for id in &book.part_ids {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for s in &book.submissions {
            if let Some(step) = s
                .parts
                .iter()
                .find(|p| &p.id == id)
                .and_then(|p| p.first_invalid.as_ref())
            {
                *counts
                    .entry(format!(
                        "{} {} {}",
                        step.step.lhs, step.step.relation, step.step.rhs
                    ))
                    .or_default() += 1;
            }
        }
        // The most frequent; among equals, the first in sorted order.
        if let Some((step, n)) = counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        {
            out.insert(id.clone(), (step, n));
        }
    }
    out
}

/// The mean score over the submissions (0 for none).
pub fn mean_score(book: &Gradebook) -> f64 {
    let n = book.submissions.len().max(1) as f64;
    book.submissions.iter().map(|s| s.score()).sum::<f64>() / n
}

/// The human report of a grading run.
pub fn render_human(book: &Gradebook) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "derive-check grade (key {}, seed {})",
        book.key, book.seed
    );
    for s in &book.submissions {
        let _ = writeln!(
            out,
            "\n== {}: {} / {}",
            s.name,
            points(s.score()),
            points(s.max_score())
        );
        if let Some(student) = &s.student {
            let _ = writeln!(out, "   student: {student}");
        }
        for e in &s.errors {
            let _ = writeln!(out, "   cannot read: {e}");
        }
        for m in &s.messages {
            let _ = writeln!(out, "   {m}");
        }
        for p in &s.parts {
            let _ = writeln!(
                out,
                "[{}/{}] {} ({})",
                points(p.score),
                points(p.max_score),
                p.id,
                p.rule.as_str()
            );
            for line in feedback_lines(p, Audience::Grader) {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if book.submissions.len() > 1 {
        let max = book.submissions.first().map_or(0.0, |s| s.max_score());
        let _ = writeln!(
            out,
            "\nsummary: {} submissions, mean score {} / {}",
            book.submissions.len(),
            points(mean_score(book)),
            points(max)
        );
        let unreadable = book.submissions.iter().filter(|s| s.has_errors()).count();
        if unreadable > 0 {
            let _ = writeln!(
                out,
                "  submissions with files that could not be read: {unreadable}"
            );
        }
        for (id, (step, n)) in common_mistakes(book) {
            let _ = writeln!(
                out,
                "  {id}: most common first step that does not follow ({n}×): {step}"
            );
        }
    }
    out
}
