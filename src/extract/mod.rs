//! `derive-check extract`: an answer as written (Markdown with LaTeX, a
//! `.tex` file, or plain text with `$…$`) → a derivation file skeleton.
//!
//! Each displayed formula (`$$…$$`, `\[…\]`, `equation`/`align`
//! environments; an `aligned` block is one chain, a line that starts a new
//! left side starts a new claim) and each inline `$…$` holding a relation
//! becomes a `[[claim]]`: `id` from the nearest heading's numbering
//! (`2(b)` → `2b.1`, `2b.2`, …), `text` from the sentence before it, `show`
//! as written (LaTeX, in a literal string). Every free name is declared
//! in `[symbols]` with a guessed kind marked `# check this kind`; a formula
//! that does not parse is kept as a comment with the reason. Pure: text in,
//! text out.

use crate::syntax::expr::{Builtin, ExprKind};
use crate::syntax::parser::{parse_statement_as, NameClass, Names, Syntax};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One formula found in the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formula {
    /// The LaTeX of the chain, as one line.
    pub latex: String,
    /// 1-based line where it starts.
    pub line: usize,
    /// Displayed (not inline).
    pub display: bool,
    /// The heading label it falls under (`2b`), if any.
    pub label: Option<String>,
    /// The sentence before it.
    pub text: String,
}

/// The skeleton and the count of formulas that parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skeleton {
    /// The derivation file's text.
    pub toml: String,
    /// Display formulas found.
    pub display: usize,
    /// Display formulas that became claims that parse without edits.
    pub display_parsed: usize,
    /// Inline relations found (and parsed).
    pub inline: (usize, usize),
}

/// The numbering of a heading: `2(b)` → `2b`, `Problem 3` → `3`, `(c)` → the
/// parent's number and `c`.
fn heading_label(text: &str, parent: Option<&str>) -> Option<String> {
    let t = text.trim();
    let chars: Vec<char> = t.chars().collect();
    let mut number = String::new();
    let mut letter = None;
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && number.is_empty() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                number.push(chars[i]);
                i += 1;
            }
            // `2(b)`, `2b`, `2.b`, `2 (b)`
            let mut j = i;
            while j < chars.len() && matches!(chars[j], ' ' | '.') {
                j += 1;
            }
            if j + 2 < chars.len() + 1 && chars.get(j) == Some(&'(') {
                if let (Some(c), Some(')')) = (chars.get(j + 1), chars.get(j + 2)) {
                    if c.is_ascii_lowercase() {
                        letter = Some(*c);
                    }
                }
            } else if let Some(c) = chars.get(i) {
                if c.is_ascii_lowercase() && !chars.get(i + 1).is_some_and(|n| n.is_alphabetic()) {
                    letter = Some(*c);
                }
            }
            break;
        }
        if chars[i] == '('
            && i + 2 < chars.len()
            && chars[i + 2] == ')'
            && chars[i + 1].is_ascii_lowercase()
        {
            letter = Some(chars[i + 1]);
            break;
        }
        i += 1;
    }
    match (number.is_empty(), letter) {
        (false, Some(l)) => Some(format!("{number}{l}")),
        (false, None) => Some(number),
        (true, Some(l)) => {
            let base: String = parent
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            Some(format!("{base}{l}"))
        }
        (true, None) => None,
    }
}

/// Is this line a heading, and what does it say?
fn heading(line: &str) -> Option<String> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix('#') {
        return Some(rest.trim_start_matches('#').trim().to_string());
    }
    for cmd in [
        "\\section",
        "\\subsection",
        "\\subsubsection",
        "\\paragraph",
    ] {
        if let Some(rest) = t.strip_prefix(cmd) {
            let rest = rest.trim_start_matches('*');
            return Some(rest.trim_matches(|c| c == '{' || c == '}').to_string());
        }
    }
    // `**2(b)** ...` or `**Part (c).**` on a line of its own start.
    if let Some(rest) = t.strip_prefix("**") {
        if let Some(end) = rest.find("**") {
            let inner = &rest[..end];
            if heading_label(inner, None).is_some() && inner.len() < 60 {
                return Some(inner.to_string());
            }
        }
    }
    None
}

/// Does the LaTeX hold a relation (a claim, not a definition of notation)?
fn has_relation(latex: &str) -> bool {
    let rels = [
        "=",
        "\\le",
        "\\ge",
        "<",
        ">",
        "\\approx",
        "\\ne",
        "\\Rightarrow",
        "\\iff",
    ];
    rels.iter().any(|r| latex.contains(r))
}

/// The last sentence of prose before a formula.
fn sentence(prose: &str) -> String {
    let cleaned: String = prose.replace("**", "").replace('`', "");
    let trimmed = cleaned.trim().trim_end_matches(':').trim();
    let start = trimmed.rfind(". ").map(|i| i + 2).unwrap_or(0);
    let s = trimmed[start..].trim();
    let s: String = s.chars().take(200).collect();
    s.replace('"', "'")
}

/// Removes alignment marks, labels and a final full stop; `\\` becomes a
/// line break (the caller splits chains there).
fn clean(latex: &str) -> String {
    let mut s = latex.to_string();
    for env in [
        "aligned",
        "align",
        "align*",
        "equation",
        "equation*",
        "split",
        "gathered",
        "gather",
        "gather*",
    ] {
        s = s.replace(&format!("\\begin{{{env}}}"), " ");
        s = s.replace(&format!("\\end{{{env}}}"), " ");
    }
    for cmd in ["\\nonumber", "\\notag", "\\displaystyle"] {
        s = s.replace(cmd, " ");
    }
    // Drop \label{...} and \tag{...}.
    for cmd in ["\\label{", "\\tag{"] {
        while let Some(at) = s.find(cmd) {
            let end = s[at..].find('}').map_or(s.len(), |e| at + e + 1);
            s.replace_range(at..end, " ");
        }
    }
    s
}

/// Splits a display block into chains: `a &= b \\ &= c` is one chain;
/// a line with its own left side starts another.
fn chains(block: &str) -> Vec<String> {
    let cleaned = clean(block);
    let lines: Vec<&str> = cleaned.split("\\\\").collect();
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let continues = t.starts_with('&')
            || t.starts_with('=')
            || t.starts_with("\\le")
            || t.starts_with("\\ge")
            || t.starts_with('<')
            || t.starts_with('>')
            || t.starts_with("\\approx");
        let piece = t.replace('&', " ");
        let piece = piece.split_whitespace().collect::<Vec<_>>().join(" ");
        match out.last_mut() {
            Some(last) if continues => {
                last.push(' ');
                last.push_str(&piece);
            }
            _ => out.push(piece),
        }
    }
    out.into_iter()
        .map(|c| {
            c.trim()
                .trim_end_matches(['.', ',', ';'])
                .trim()
                .to_string()
        })
        .filter(|c| !c.is_empty())
        .collect()
}

/// Finds the formulas of an answer, in order.
pub fn formulas(text: &str) -> Vec<Formula> {
    let mut out = Vec::new();
    let mut label: Option<String> = None;
    let mut prose = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let push = |out: &mut Vec<Formula>,
                block: &str,
                line: usize,
                display: bool,
                label: &Option<String>,
                prose: &str| {
        for c in chains(block) {
            out.push(Formula {
                latex: c,
                line,
                display,
                label: label.clone(),
                text: sentence(prose),
            });
        }
    };
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if let Some(h) = heading(line) {
            label = heading_label(&h, label.as_deref()).or(label);
            prose.clear();
            i += 1;
            continue;
        }
        // Display blocks: `$$`, `\[`, `\begin{equation|align}`.
        let opener = if t.starts_with("$$") {
            Some(("$$", "$$", 2))
        } else if t.starts_with("\\[") {
            Some(("\\[", "\\]", 2))
        } else if t.starts_with("\\begin{equation")
            || t.starts_with("\\begin{align")
            || t.starts_with("\\begin{gather")
        {
            Some(("", "\\end{", 0))
        } else {
            None
        };
        if let Some((_, close, skip)) = opener {
            let start = i;
            let mut block = String::new();
            let first = &t[skip..];
            let mut done = false;
            let env_end = ["\\end{equation", "\\end{align", "\\end{gather"]
                .iter()
                .filter_map(|e| first.find(e))
                .min();
            if let Some(end) = if skip > 0 { first.find(close) } else { env_end } {
                block.push_str(&first[..end]);
                done = true;
            } else {
                block.push_str(first);
            }
            while !done && i + 1 < lines.len() {
                i += 1;
                let l = lines[i];
                let end_at = if close == "\\end{" {
                    // The environment's own end.
                    ["\\end{equation", "\\end{align", "\\end{gather"]
                        .iter()
                        .filter_map(|e| l.find(e))
                        .min()
                } else {
                    l.find(close)
                };
                match end_at {
                    Some(e) => {
                        block.push('\n');
                        block.push_str(&l[..e]);
                        done = true;
                    }
                    None => {
                        block.push('\n');
                        block.push_str(l);
                    }
                }
            }
            push(&mut out, &block, start + 1, true, &label, &prose);
            prose.clear();
            i += 1;
            continue;
        }
        // Inline `$…$` with a relation.
        let mut rest = line;
        let mut text_before = String::new();
        while let Some(a) = rest.find('$') {
            text_before.push_str(&rest[..a]);
            let after = &rest[a + 1..];
            let Some(b) = after.find('$') else { break };
            let math = &after[..b];
            if has_relation(math) {
                let p = format!("{prose} {text_before}");
                push(&mut out, math, i + 1, false, &label, &p);
            }
            text_before.push_str(math);
            rest = &after[b + 1..];
        }
        if t.is_empty() {
            prose.clear();
        } else {
            prose.push(' ');
            prose.push_str(t);
        }
        i += 1;
    }
    out
}

/// Names guessed while reading the formulas, with what they seem to be.
#[derive(Default)]
struct Guess {
    names: BTreeMap<String, NameClass>,
    /// The last name the parser met and did not know.
    unknown: std::cell::RefCell<Option<String>>,
}

impl Names for Guess {
    fn class(&self, name: &str) -> Option<NameClass> {
        self.names.get(name).copied()
    }
    fn declared(&self) -> Vec<String> {
        self.names.keys().cloned().collect()
    }
    fn unknown(&self, name: &str) {
        *self.unknown.borrow_mut() = Some(name.to_string());
    }
}

/// The index names bound by the formula's sums and products
/// (`\sum_{i=1}^{n}` binds `i`), read from the parsed statement.
fn bound_indices(statement: &crate::syntax::expr::Statement) -> Vec<String> {
    let mut out = Vec::new();
    statement.walk_exprs(&mut |e| {
        e.walk(&mut |x| {
            if let Some((Builtin::Sum | Builtin::Prod, args)) = x.as_builtin() {
                if let Some(ExprKind::Name(i)) = args.first().map(|a| &a.kind) {
                    if !out.contains(i) {
                        out.push(i.clone());
                    }
                }
            }
        })
    });
    out
}

/// Reads a formula, declaring every unknown name the parser meets (letters
/// run together are single-letter names, as in LaTeX), at most 40 times.
/// A name `x_i` whose subscript is an index bound by a sum of the formula
/// makes `x` a family (an array), read again as `x(i)`.
fn learn(latex: &str, guess: &mut Guess) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..40 {
        *guess.unknown.borrow_mut() = None;
        let e = match parse_statement_as(latex, guess, Syntax::Latex) {
            Ok((statement, _)) => {
                // `x_i` read as a plain name although `i` is a sum index.
                let indices = bound_indices(&statement);
                let mut changed = false;
                let mut subscripted = Vec::new();
                statement.walk_exprs(&mut |e| {
                    e.walk(&mut |x| {
                        if let ExprKind::Name(n) = &x.kind {
                            subscripted.push(n.clone());
                        }
                    })
                });
                for n in subscripted {
                    if let Some((base, sub)) = n.split_once('_') {
                        if !base.is_empty()
                            && indices.iter().any(|i| i == sub)
                            && guess.names.get(base) != Some(&NameClass::Function)
                        {
                            guess.names.remove(&n);
                            guess.names.insert(base.to_string(), NameClass::Function);
                            changed = true;
                        }
                    }
                }
                if !changed {
                    return Ok(());
                }
                continue;
            }
            Err(e) => e,
        };
        last = e.message.clone();
        let Some(name) = guess.unknown.borrow_mut().take() else {
            return Err(e.message);
        };
        let letters: Vec<char> = name.chars().collect();
        if !name.contains('_')
            && letters.len() > 1
            && letters.iter().all(|c| c.is_alphabetic())
            && !crate::syntax::latex::is_command_name(&name)
        {
            for c in letters {
                guess.names.insert(c.to_string(), NameClass::Value);
            }
        } else {
            guess.names.insert(name.to_string(), NameClass::Value);
        }
    }
    Err(format!("too many unknown names (the last: {last})"))
}

/// The kind guessed for a name, and whether it needs checking.
fn guess_kind(name: &str, class: NameClass, uses: &Uses) -> &'static str {
    if class == NameClass::Function {
        return "array(?, 1)";
    }
    if name == "I" {
        return "identity";
    }
    let sizes = ["n", "m", "d", "k", "N", "K", "T", "L", "p", "r"];
    let upper =
        name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && name.chars().count() == 1;
    if uses.transposed.contains(name) || (upper && !uses.bounds.contains(name)) {
        return "matrix(?, ?)";
    }
    if uses.bounds.contains(name)
        || sizes.contains(&name)
        || name.starts_with("d_")
        || name.starts_with("n_")
    {
        return "positive integer";
    }
    "real"
}

/// How names are used in the parsed formulas: transposed (`W^\top`), or
/// as a bound of a sum or product (`\sum_{i=1}^{n}`).
#[derive(Default)]
struct Uses {
    transposed: std::collections::BTreeSet<String>,
    bounds: std::collections::BTreeSet<String>,
}

impl Uses {
    fn note(&mut self, statement: &crate::syntax::expr::Statement) {
        statement.walk_exprs(&mut |e| {
            e.walk(&mut |x| match &x.kind {
                ExprKind::Transpose(a) => {
                    if let ExprKind::Name(n) = &a.kind {
                        self.transposed.insert(n.clone());
                    }
                }
                _ => {
                    if let Some((Builtin::Sum | Builtin::Prod, args)) = x.as_builtin() {
                        for b in args.iter().skip(1).take(2) {
                            b.walk(&mut |y| {
                                if let ExprKind::Name(n) = &y.kind {
                                    self.bounds.insert(n.clone());
                                }
                            });
                        }
                    }
                }
            })
        });
    }
}

/// A TOML string for LaTeX: literal when it can be.
fn toml_literal(s: &str) -> String {
    if !s.contains('\'') && !s.contains('\n') {
        format!("'{s}'")
    } else if !s.contains("'''") {
        format!("'''{s}'''")
    } else {
        format!("{:?}", s)
    }
}

/// Extracts the skeleton of `text` (named `name` in the title).
pub fn extract(name: &str, text: &str) -> Skeleton {
    let found = formulas(text);
    let mut guess = Guess::default();
    // Names first, over every formula, so that the kinds are shared.
    let mut results = Vec::new();
    for f in &found {
        results.push(learn(&f.latex, &mut guess));
    }
    // Second pass: a formula read early may now split differently.
    let mut uses = Uses::default();
    let results: Vec<Result<(), String>> = found
        .iter()
        .zip(results)
        .map(|(f, r)| match r {
            Ok(()) => parse_statement_as(&f.latex, &guess, Syntax::Latex)
                .map(|(statement, _)| uses.note(&statement))
                .map_err(|e| e.message),
            Err(e) => Err(e),
        })
        .collect();
    let title = found
        .first()
        .map(|_| format!("Extracted from {name}"))
        .unwrap_or_else(|| format!("Extracted from {name} (no formulas found)"));
    let mut toml = String::new();
    let _ = writeln!(toml, "title = {:?}", title);
    let _ = writeln!(
        toml,
        "source = {:?}",
        format!("derive-check extract {name}: check every kind marked below, then run derive-check on this file")
    );
    let _ = writeln!(toml, "syntax = \"latex\"\n\n[symbols]");
    for (n, class) in &guess.names {
        if n == "and" {
            continue;
        }
        let kind = guess_kind(n, *class, &uses);
        let key = if n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            n.clone()
        } else {
            format!("{n:?}")
        };
        let _ = writeln!(toml, "{key} = \"{kind}\"    # check this kind");
    }
    let mut counters: BTreeMap<String, usize> = BTreeMap::new();
    let (mut display, mut display_parsed, mut inline, mut inline_parsed) = (0, 0, 0, 0);
    for (f, r) in found.iter().zip(&results) {
        let label = f.label.clone().unwrap_or_else(|| "c".into());
        let n = counters.entry(label.clone()).or_insert(0);
        *n += 1;
        let id = format!("{label}.{n}");
        if f.display {
            display += 1;
        } else {
            inline += 1;
        }
        toml.push('\n');
        match r {
            Ok(()) => {
                if f.display {
                    display_parsed += 1;
                } else {
                    inline_parsed += 1;
                }
                let _ = writeln!(toml, "[[claim]]\nid = \"{id}\"   # line {}", f.line);
                if !f.text.is_empty() {
                    let _ = writeln!(toml, "text = {:?}", f.text);
                }
                let _ = writeln!(toml, "show = {}", toml_literal(&f.latex));
            }
            Err(reason) => {
                let _ = writeln!(
                    toml,
                    "# not read (line {}): {}",
                    f.line,
                    reason.replace('\n', " ")
                );
                let _ = writeln!(toml, "# [[claim]]\n# id = \"{id}\"");
                let _ = writeln!(
                    toml,
                    "# show = {}",
                    toml_literal(&f.latex).replace('\n', " ")
                );
            }
        }
    }
    Skeleton {
        toml,
        display,
        display_parsed,
        inline: (inline, inline_parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_give_ids() {
        assert_eq!(
            heading_label("2(b) The variance", None).as_deref(),
            Some("2b")
        );
        assert_eq!(heading_label("Problem 3", None).as_deref(), Some("3"));
        assert_eq!(heading_label("Part (c)", Some("3")).as_deref(), Some("3c"));
        assert_eq!(heading_label("Intro", None), None);
    }

    #[test]
    fn aligned_blocks_are_one_chain() {
        let c = chains("\\begin{aligned} a &= b \\\\ &= c. \\end{aligned}");
        assert_eq!(c, vec!["a = b = c".to_string()]);
        let two = chains("a &= b \\\\ c &= d");
        assert_eq!(two.len(), 2);
    }
}
