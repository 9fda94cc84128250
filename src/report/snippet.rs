//! Diagnostics like rustc's, rendered by `annotate-snippets`: the message,
//! the `--> file:line:column` header, the source line with the span
//! underlined, and a `help:` line where the fix is known.
//!
//! A [`Diagnostic`] holds a location and a message; the span's extent (the
//! name, number or command at the location) and the help are read here from
//! the source line and the message, so every producer of diagnostics stays
//! as it is and rendering happens in this one place.

use crate::syntax::source::{Diagnostic, Location};
use annotate_snippets::{Level, Renderer, Snippet};

/// Whether to colour diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// Plain text (files, pipes, snapshots, `NO_COLOR`).
    #[default]
    Never,
    /// ANSI colours (a terminal).
    Always,
}

/// The message split into what is wrong and the help that follows it.
fn split_help(message: &str) -> (String, Vec<String>) {
    let mut help = Vec::new();
    let mut main = message.to_string();
    // Only a suggestion that ends the message (not one quoted inside a
    // message about another declaration).
    if let Some((m, h)) = message
        .rsplit_once("; did you mean ")
        .filter(|(_, h)| h.ends_with('?') && !h.contains(')'))
    {
        main = m.to_string();
        let h = h.trim_end_matches('?');
        help.push(format!("did you mean {h}?"));
        if let Some(split) = h.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
            if split.contains(' ') {
                help.push(format!(
                    "letters written together are one name: write `{split}` for a product"
                ));
            }
        }
    }
    if let Some((m, h)) = main.clone().split_once("; TOML's escape") {
        main = m.to_string();
        help.push(format!("TOML's escape{h}"));
    }
    if let Some(name) = main
        .strip_prefix("unknown name `")
        .and_then(|r| r.split('`').next())
    {
        help.push(format!(
            "declare it in [symbols] (`{name} = \"real\"`) or define it in [define]"
        ));
    }
    if main.contains("invalid escape") || main.contains("invalid unicode escape") {
        help.push(
            "write LaTeX in a literal string '…' (single quotes): TOML reads backslashes in \"…\" as escapes"
                .to_string(),
        );
    }
    if main.starts_with("expected `)`") || main.starts_with("expected `,` or `)`") {
        help.push("close the `(` opened before this point".to_string());
    }
    if main.contains("is never closed") {
        help.push("close the bracket opened here".to_string());
    }
    if main.contains("unknown LaTeX command") || main.contains("unexpected character `\\`") {
        help.push("see README's LaTeX section for the commands that are read".to_string());
    }
    (main, help)
}

/// The byte extent, within `line`, of the piece at 1-based `column`: the
/// name, number or LaTeX command there, or one character.
fn piece(line: &str, column: usize) -> std::ops::Range<usize> {
    let start = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut chars = rest.chars();
    let len = match chars.next() {
        None => 0,
        Some('\\') => {
            1 + rest[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .map(char::len_utf8)
                .sum::<usize>()
                .max(rest[1..].chars().next().map_or(0, char::len_utf8))
        }
        Some(c) if word(c) => rest
            .chars()
            .take_while(|c| word(*c))
            .map(char::len_utf8)
            .sum(),
        Some(c) => c.len_utf8(),
    };
    start..start + len
}

/// Renders a diagnostic about `file` (whose text is `source`, when known).
pub fn render(d: &Diagnostic, source: Option<&str>, color: Color) -> String {
    render_at(&d.file, d.location, &d.message, source, color)
}

/// Renders a message at a location of `file`.
pub fn render_at(
    file: &str,
    location: Location,
    message: &str,
    source: Option<&str>,
    color: Color,
) -> String {
    let (main, help) = split_help(message);
    let renderer = match color {
        Color::Never => Renderer::plain(),
        Color::Always => Renderer::styled(),
    };
    let line_text = source.and_then(|s| s.lines().nth(location.line.saturating_sub(1)));
    let footers: Vec<String> = help;
    let mut msg = Level::Error.title(&main);
    let label = String::new();
    if let Some(line) = line_text {
        let range = piece(line, location.column);

        // A zero-width span (the end of a line) still gets a caret.
        let range = if range.is_empty() {
            let end = line.len();
            end.min(range.start)..end.min(range.start)
        } else {
            range
        };
        msg = msg.snippet(
            Snippet::source(line)
                .line_start(location.line)
                .origin(file)
                .annotation(Level::Error.span(range).label(&label)),
        );
    }
    for h in &footers {
        msg = msg.footer(Level::Help.title(h));
    }
    let mut text = renderer.render(msg).to_string();
    if line_text.is_none() {
        // No source line to show (a file that is not UTF-8, a missing
        // file): the location goes under the message, as rustc writes it.
        let at = format!("  --> {file}:{}:{}", location.line, location.column);
        text = match text.split_once('\n') {
            Some((first, rest)) => format!("{first}\n{at}\n{rest}"),
            None => format!("{text}\n{at}"),
        };
    }
    // The header must name the column even for a zero-width span.
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_underlines_the_name_and_helps() {
        let src = "title = \"t\"\n[[claim]]\nshow = \"WW = W^2\"\n";
        let d = Diagnostic {
            file: "a.toml".into(),
            location: Location { line: 3, column: 9 },
            message: "unknown name `WW`; did you mean `W W`?".into(),
        };
        let text = render(&d, Some(src), Color::Never);
        assert!(text.contains("error: unknown name `WW`"), "{text}");
        assert!(text.contains("--> a.toml:3:9"), "{text}");
        assert!(text.contains("show = \"WW = W^2\""), "{text}");
        assert!(text.contains("^^"), "{text}");
        assert!(text.contains("help: did you mean `W W`?"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour: {text}");
        assert!(render(&d, Some(src), Color::Always).contains('\u{1b}'));
    }

    #[test]
    fn commands_and_ends_of_lines_get_a_caret() {
        assert_eq!(piece("a \\frac{1}{2}", 3), 2..7);
        assert_eq!(piece("(x", 3), 2..2);
        assert_eq!(piece("σ_w + 1", 1), 0.."σ_w".len());
    }
}
