//! Loading: the TOML text of a derivation file → a [`Derivation`] whose
//! every string remembers where it was written.
//!
//! Only problems that make the whole file uncheckable are `Err` here (bad
//! TOML, no `title`, an unknown top-level key, a wrong type at the top
//! level). A bad claim becomes a [`ClaimSource`] carrying its problem, so
//! that the other claims are still checked.

use crate::syntax::source::{Diagnostic, Location, SourceText};
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A string value from the file and where its content starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The decoded string.
    pub text: String,
    /// Byte offset of the content's first character in the file (after the quote).
    pub offset: usize,
    /// Location of the value in the file.
    pub location: Location,
}

/// One `[symbols]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolSource {
    /// The declared name.
    pub name: String,
    /// Where the name was written.
    pub name_location: Location,
    /// The kind text, e.g. `positive integer`.
    pub kind: Located,
}

/// One `[define]` entry: `"h(n)" = "(1/2)^n * step(n)"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionSource {
    /// The left side as written (`h(n)`).
    pub head: Located,
    /// The body.
    pub body: Located,
}

/// The fields of one `[[claim]]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClaimSource {
    /// Its `id`, if it has a usable one.
    pub id: Option<String>,
    /// Where the claim table starts.
    pub location: Location,
    /// `text`: the answer's prose.
    pub text: Option<String>,
    /// `show`: the relations to check.
    pub show: Option<Located>,
    /// `where`: a domain restriction.
    pub where_: Option<Located>,
    /// `given`: hypotheses.
    pub given: Vec<Located>,
    /// `expect`: the verdict this claim is known to get, as written.
    pub expect: Option<Located>,
    /// Problems found while loading (unknown key, wrong type, duplicate id...).
    pub problems: Vec<(Location, String)>,
    /// Where the `id` value is written.
    pub id_location: Option<Location>,
    /// Byte offset of the claim's `[[claim]]` header in the file.
    pub offset: usize,
    /// `syntax`: `auto`, `plain` or `latex` for this claim's expressions.
    pub syntax: Option<Located>,
}

/// A loaded derivation file.
#[derive(Clone, Debug)]
pub struct Derivation {
    /// The path as given.
    pub path: String,
    /// The file's text with its line index.
    pub source: SourceText,
    /// `title`.
    pub title: String,
    /// `source`: free text.
    pub source_note: Option<String>,
    /// `student`: who wrote the answer (an identifier for gradebooks), if given.
    pub student: Option<String>,
    /// `[symbols]` in file order.
    pub symbols: Vec<SymbolSource>,
    /// `[define]` in file order.
    pub definitions: Vec<DefinitionSource>,
    /// `[[claim]]` in file order.
    pub claims: Vec<ClaimSource>,
    /// Problems with declarations or definitions found while loading.
    pub problems: Vec<Diagnostic>,
    /// `syntax`: `auto`, `plain` or `latex` for every expression of the file.
    pub syntax: Option<Located>,
}

const TOP_KEYS: &[&str] = &[
    "title", "source", "student", "syntax", "symbols", "define", "claim",
];
const CLAIM_KEYS: &[&str] = &["id", "text", "show", "given", "where", "expect", "syntax"];

struct Loader<'a> {
    path: &'a str,
    source: &'a SourceText,
}

impl Loader<'_> {
    fn at(&self, offset: usize) -> Location {
        self.source.location(offset)
    }

    fn diag(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.path.to_string(),
            location: self.at(offset),
            message: message.into(),
        }
    }

    /// Where a string value's content starts: after `"`, `'`, `"""` or `'''`
    /// (and the newline TOML trims right after a triple quote).
    fn content_offset(&self, span: &Range<usize>) -> usize {
        let raw = self.source.text().get(span.clone()).unwrap_or("");
        let mut skip = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            3
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            1
        } else {
            0
        };
        if skip == 3 {
            let rest = &raw[3..];
            if rest.starts_with("\r\n") {
                skip += 2;
            } else if rest.starts_with('\n') {
                skip += 1;
            }
        }
        span.start + skip
    }

    fn located(&self, value: &Spanned<DeValue<'_>>) -> Option<Located> {
        match value.get_ref() {
            DeValue::String(s) => {
                let offset = self.content_offset(&value.span());
                Some(Located {
                    text: s.to_string(),
                    offset,
                    location: self.at(value.span().start),
                })
            }
            _ => None,
        }
    }
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    v.type_str()
}

/// One `[[answer]]` of a key file: the expected final result of a part.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerSource {
    /// The part's id (the answer's claim id).
    pub id: String,
    /// Where the table starts.
    pub location: Location,
    /// The expected final result.
    pub result: Located,
    /// The part's points.
    pub points: f64,
    /// The scoring rule, if the part names one.
    pub rule: Option<Located>,
    /// `where`: the question's restriction of the domain for this part.
    pub where_: Option<Located>,
    /// `given`: the question's hypotheses for this part.
    pub given: Vec<Located>,
    /// `show_expected`: may students see the expected result and
    /// counterexamples built from it?
    pub show_expected: Option<bool>,
}

/// A loaded key file: a derivation (symbols and definitions for the
/// results) plus its answers and default rule.
#[derive(Clone, Debug)]
pub struct KeySource {
    /// The derivation part of the key.
    pub derivation: Derivation,
    /// The `[[answer]]` tables.
    pub answers: Vec<AnswerSource>,
    /// The top-level `rule`, if any.
    pub rule: Option<Located>,
    /// The top-level `show_expected`, if any.
    pub show_expected: Option<bool>,
}

/// Loads a derivation from its text; `Err` when the file cannot be checked at all.
pub fn load(path: &str, text: String) -> Result<Derivation, Diagnostic> {
    load_with(path, text, false).map(|k| k.derivation)
}

/// Loads a key file: the derivation format plus `[[answer]]` and `rule`.
pub fn load_key(path: &str, text: String) -> Result<KeySource, Diagnostic> {
    load_with(path, text, true)
}

fn load_with(path: &str, text: String, key: bool) -> Result<KeySource, Diagnostic> {
    let source = SourceText::new(text);
    let loader = Loader {
        path,
        source: &source,
    };
    let root = match DeTable::parse(source.text()) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let message = format!("invalid TOML: {}", e.message().trim());
            return Err(loader.diag(offset, message));
        }
    };
    let table = root.get_ref();
    for (name, _) in table.iter() {
        let n = name.get_ref().as_ref();
        let allowed =
            TOP_KEYS.contains(&n) || (key && matches!(n, "answer" | "rule" | "show_expected"));
        if !allowed {
            let expected = if key {
                "title, source, syntax, rule, show_expected, [symbols], [define], [[claim]], [[answer]]"
            } else {
                "title, source, student, syntax, [symbols], [define], [[claim]]"
            };
            return Err(loader.diag(
                name.span().start,
                format!("unknown top-level key `{n}` (expected one of: {expected})"),
            ));
        }
    }
    let get = |name: &str| {
        table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == name)
            .map(|(_, v)| v)
    };

    let title = match get("title") {
        None => return Err(loader.diag(0, "missing `title`: every derivation file needs a title")),
        Some(v) => match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            other => {
                return Err(loader.diag(
                    v.span().start,
                    format!("`title` must be a string, found {}", type_name(other)),
                ))
            }
        },
    };
    let source_note = match get("source") {
        None => None,
        Some(v) => match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                return Err(loader.diag(
                    v.span().start,
                    format!("`source` must be a string, found {}", type_name(other)),
                ))
            }
        },
    };
    let student = match get("student") {
        None => None,
        Some(v) => match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                return Err(loader.diag(
                    v.span().start,
                    format!("`student` must be a string, found {}", type_name(other)),
                ))
            }
        },
    };

    let syntax = match get("syntax") {
        None => None,
        Some(v) => match loader.located(v) {
            Some(l) if crate::syntax::latex::Syntax::parse(&l.text).is_some() => Some(l),
            _ => {
                return Err(loader.diag(
                    v.span().start,
                    "`syntax` must be \"auto\", \"plain\" or \"latex\"",
                ))
            }
        },
    };
    let mut problems = Vec::new();
    let mut symbols = Vec::new();
    if let Some(v) = get("symbols") {
        let DeValue::Table(t) = v.get_ref() else {
            return Err(loader.diag(
                v.span().start,
                format!(
                    "`symbols` must be a table, found {}",
                    type_name(v.get_ref())
                ),
            ));
        };
        for (k, val) in t.iter() {
            match loader.located(val) {
                Some(kind) => symbols.push(SymbolSource {
                    name: k.get_ref().to_string(),
                    name_location: loader.at(k.span().start),
                    kind,
                }),
                None => problems.push(loader.diag(
                    val.span().start,
                    format!(
                        "the kind of `{}` must be a string such as \"real\", found {}",
                        k.get_ref(),
                        type_name(val.get_ref())
                    ),
                )),
            }
        }
    }
    let mut definitions = Vec::new();
    if let Some(v) = get("define") {
        let DeValue::Table(t) = v.get_ref() else {
            return Err(loader.diag(
                v.span().start,
                format!("`define` must be a table, found {}", type_name(v.get_ref())),
            ));
        };
        for (k, val) in t.iter() {
            let head = Located {
                text: k.get_ref().to_string(),
                offset: loader.content_offset(&k.span()),
                location: loader.at(k.span().start),
            };
            match loader.located(val) {
                Some(body) => definitions.push(DefinitionSource { head, body }),
                None => problems.push(loader.diag(
                    val.span().start,
                    format!(
                        "the definition of `{}` must be a string, found {}",
                        k.get_ref(),
                        type_name(val.get_ref())
                    ),
                )),
            }
        }
    }
    let mut claims = Vec::new();
    if let Some(v) = get("claim") {
        let DeValue::Array(items) = v.get_ref() else {
            return Err(loader.diag(
                v.span().start,
                format!(
                    "`claim` must be an array of tables (`[[claim]]`), found {}",
                    type_name(v.get_ref())
                ),
            ));
        };
        for item in items.iter() {
            claims.push(load_claim(&loader, item));
        }
    }
    // Duplicate ids: the second and later claims with an id get a problem.
    for i in 0..claims.len() {
        if let Some(id) = claims[i].id.clone() {
            if let Some(first) = claims[..i].iter().find(|c| c.id.as_deref() == Some(&id)) {
                let loc = first.id_location.unwrap_or(first.location);
                let here = claims[i].id_location.unwrap_or(claims[i].location);
                claims[i].problems.push((
                    here,
                    format!(
                        "duplicate id `{id}` (first used at line {}, column {})",
                        loc.line, loc.column
                    ),
                ));
            }
        }
    }
    let mut answers = Vec::new();
    let mut rule = None;
    let mut show_expected = None;
    if key {
        if let Some(v) = get("show_expected") {
            show_expected = Some(boolean(&loader, v, "show_expected")?);
        }
        if let Some(v) = get("rule") {
            rule = Some(
                loader
                    .located(v)
                    .ok_or_else(|| loader.diag(v.span().start, "`rule` must be a string"))?,
            );
        }
        if let Some(v) = get("answer") {
            let DeValue::Array(items) = v.get_ref() else {
                return Err(loader.diag(
                    v.span().start,
                    "`answer` must be an array of tables (`[[answer]]`)",
                ));
            };
            for item in items.iter() {
                answers.push(load_answer(&loader, item)?);
            }
        }
    }
    Ok(KeySource {
        derivation: Derivation {
            path: path.to_string(),
            title,
            source_note,
            student,
            symbols,
            definitions,
            claims,
            problems,
            source,
            syntax,
        },
        answers,
        rule,
        show_expected,
    })
}

fn boolean(loader: &Loader<'_>, v: &Spanned<DeValue<'_>>, key: &str) -> Result<bool, Diagnostic> {
    match v.get_ref() {
        DeValue::Boolean(b) => Ok(*b),
        other => Err(loader.diag(
            v.span().start,
            format!("`{key}` must be true or false, found {}", type_name(other)),
        )),
    }
}

fn load_answer(
    loader: &Loader<'_>,
    item: &Spanned<DeValue<'_>>,
) -> Result<AnswerSource, Diagnostic> {
    let DeValue::Table(t) = item.get_ref() else {
        return Err(loader.diag(item.span().start, "an answer must be a table"));
    };
    let at = loader.at(item.span().start);
    let (mut id, mut result, mut points, mut rule) = (None, None, None, None);
    let (mut where_, mut given, mut show_expected) = (None, Vec::new(), None);
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        match key {
            "id" | "result" | "rule" | "where" => {
                let l = loader.located(v).ok_or_else(|| {
                    loader.diag(v.span().start, format!("`{key}` must be a string"))
                })?;
                match key {
                    "id" => id = Some(l.text),
                    "result" => result = Some(l),
                    "where" => where_ = Some(l),
                    _ => rule = Some(l),
                }
            }
            "given" => {
                let not_strings =
                    || loader.diag(v.span().start, "`given` must be a list of strings");
                match v.get_ref() {
                    DeValue::Array(items) => {
                        for g in items.iter() {
                            given.push(loader.located(g).ok_or_else(not_strings)?);
                        }
                    }
                    _ => given.push(loader.located(v).ok_or_else(not_strings)?),
                }
            }
            "show_expected" => show_expected = Some(boolean(loader, v, "show_expected")?),
            "points" => {
                points = Some(
                    match v.get_ref() {
                        DeValue::Integer(i) => i.as_str().parse::<f64>().ok(),
                        DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
                        _ => None,
                    }
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or_else(|| {
                        loader.diag(v.span().start, "`points` must be a nonnegative number")
                    })?,
                );
            }
            other => {
                return Err(loader.diag(
                    k.span().start,
                    format!("unknown answer key `{other}` (answer keys: id, result, points, rule, where, given, show_expected)"),
                ))
            }
        }
    }
    let missing =
        |what: &str| loader.diag(item.span().start, format!("the answer has no `{what}`"));
    Ok(AnswerSource {
        id: id.ok_or_else(|| missing("id"))?,
        location: at,
        result: result.ok_or_else(|| missing("result"))?,
        points: points.ok_or_else(|| missing("points"))?,
        rule,
        where_,
        given,
        show_expected,
    })
}

fn load_claim(loader: &Loader<'_>, item: &Spanned<DeValue<'_>>) -> ClaimSource {
    let mut claim = ClaimSource {
        location: loader.at(item.span().start),
        ..ClaimSource::default()
    };
    let DeValue::Table(t) = item.get_ref() else {
        claim.problems.push((
            claim.location,
            format!(
                "a claim must be a table, found {}",
                type_name(item.get_ref())
            ),
        ));
        return claim;
    };
    // The claim starts at its `[[claim]]` header, whatever its spelling
    // (`[[ claim ]]` is the same header): the parser's span of the table.
    claim.offset = item.span().start;
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        let key_at = loader.at(k.span().start);
        let value_at = loader.at(v.span().start);
        let want_string = |claim: &mut ClaimSource| -> Option<Located> {
            let l = loader.located(v);
            if l.is_none() {
                claim.problems.push((
                    value_at,
                    format!("`{key}` must be a string, found {}", type_name(v.get_ref())),
                ));
            }
            l
        };
        match key {
            "id" => {
                claim.id_location = Some(value_at);
                if let Some(l) = want_string(&mut claim) {
                    if l.text.trim().is_empty() {
                        claim
                            .problems
                            .push((value_at, "`id` must not be empty".into()));
                    } else {
                        claim.id = Some(l.text);
                    }
                }
            }
            "text" => claim.text = want_string(&mut claim).map(|l| l.text),
            "show" => claim.show = want_string(&mut claim),
            "where" => claim.where_ = want_string(&mut claim),
            "expect" => claim.expect = want_string(&mut claim),
            "syntax" => {
                claim.syntax = want_string(&mut claim);
                if let Some(l) = &claim.syntax {
                    if crate::syntax::latex::Syntax::parse(&l.text).is_none() {
                        claim.problems.push((
                            value_at,
                            format!(
                                "unknown `syntax` value `{}` (expected auto, plain or latex)",
                                l.text
                            ),
                        ));
                    }
                }
            }
            "given" => match v.get_ref() {
                DeValue::Array(items) => {
                    for g in items.iter() {
                        match loader.located(g) {
                            Some(l) => claim.given.push(l),
                            None => claim.problems.push((
                                loader.at(g.span().start),
                                format!(
                                    "each `given` entry must be a string, found {}",
                                    type_name(g.get_ref())
                                ),
                            )),
                        }
                    }
                }
                DeValue::String(_) => {
                    if let Some(l) = loader.located(v) {
                        claim.given.push(l);
                    }
                }
                other => claim.problems.push((
                    value_at,
                    format!(
                        "`given` must be a list of strings, found {}",
                        type_name(other)
                    ),
                )),
            },
            _ => {
                let suggestion = CLAIM_KEYS
                    .iter()
                    .find(|c| edit_distance(c, key) <= 2)
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                claim.problems.push((
                    key_at,
                    format!(
                        "unknown claim key `{key}`{suggestion} (claim keys: id, text, show, given, where, expect, syntax)"
                    ),
                ));
            }
        }
    }
    if claim.id.is_none() && !claim.problems.iter().any(|(_, m)| m.contains("`id`")) {
        claim
            .problems
            .push((claim.location, "the claim has no `id`".into()));
    }
    if claim.show.is_none() && !claim.problems.iter().any(|(_, m)| m.contains("`show`")) {
        claim
            .problems
            .push((claim.location, "the claim has no `show`".into()));
    }
    claim
}

/// Levenshtein distance between short words (for key suggestions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<Derivation, Diagnostic> {
        load("t.toml", s.to_string())
    }

    #[test]
    fn file_level_errors_are_located() {
        let e = load_str("title = 3\n").unwrap_err();
        assert_eq!((e.location.line, e.location.column), (1, 9));
        assert!(e.message.contains("`title` must be a string"));
        let e = load_str("source = \"x\"\n").unwrap_err();
        assert!(e.message.contains("missing `title`"));
        let e = load_str("title = \"t\"\nfoo = 1\n").unwrap_err();
        assert_eq!(e.location.line, 2);
        assert!(e.message.contains("unknown top-level key `foo`"));
        let e = load_str("title = \"t\n").unwrap_err();
        assert!(e.message.starts_with("invalid TOML"));
    }

    #[test]
    fn claim_problems_do_not_stop_the_file() {
        let d = load_str(
            "title = \"t\"\n[[claim]]\nid = \"a\"\nshwo = \"1 = 1\"\n[[claim]]\nid = \"a\"\nshow = \"1 = 1\"\n",
        )
        .unwrap();
        assert_eq!(d.claims.len(), 2);
        assert!(d.claims[0]
            .problems
            .iter()
            .any(|(l, m)| l.line == 4 && m.contains("did you mean `show`")));
        assert!(d.claims[1]
            .problems
            .iter()
            .any(|(_, m)| m.contains("duplicate id `a`")));
    }

    #[test]
    fn string_offsets_point_inside_the_quotes() {
        let d = load_str("title = \"t\"\n[[claim]]\nid = \"a\"\nshow = \"x = 1\"\n").unwrap();
        let show = d.claims[0].show.as_ref().unwrap();
        assert_eq!(
            d.source.location(show.offset),
            Location { line: 4, column: 9 }
        );
    }
}
