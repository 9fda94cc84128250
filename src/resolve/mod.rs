//! Resolution: declarations, definitions and claims of a loaded derivation
//! parsed into typed form ([`Kind`], [`Definition`], [`Claim`]), each
//! problem located at its own line and column.

pub mod domain;
pub mod expand;
pub mod family;

use crate::syntax::expr::{Builtin, Expr, ExprKind, RelOp, Span, Statement};
use crate::syntax::load::{Derivation, Located};
use crate::syntax::parser::{self, NameClass, Names, ParseError, Syntax};
use crate::syntax::source::{Diagnostic, Location};
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;

/// The sign and integrality a scalar declaration promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// `real`
    Real,
    /// `positive`
    Positive,
    /// `nonnegative`
    Nonnegative,
    /// `nonzero`
    Nonzero,
    /// `integer`
    Integer,
    /// `positive integer`
    PositiveInteger,
    /// `nonnegative integer`
    NonnegativeInteger,
}

impl ScalarKind {
    /// Is every value an integer?
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            ScalarKind::Integer | ScalarKind::PositiveInteger | ScalarKind::NonnegativeInteger
        )
    }

    /// Is every value > 0?
    pub fn is_positive(self) -> bool {
        matches!(self, ScalarKind::Positive | ScalarKind::PositiveInteger)
    }

    /// Is every value >= 0?
    pub fn is_nonnegative(self) -> bool {
        self.is_positive()
            || matches!(
                self,
                ScalarKind::Nonnegative | ScalarKind::NonnegativeInteger
            )
    }

    /// The kind's name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            ScalarKind::Real => "real",
            ScalarKind::Positive => "positive",
            ScalarKind::Nonnegative => "nonnegative",
            ScalarKind::Nonzero => "nonzero",
            ScalarKind::Integer => "integer",
            ScalarKind::PositiveInteger => "positive integer",
            ScalarKind::NonnegativeInteger => "nonnegative integer",
        }
    }
}

/// A declared symbol's kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A scalar.
    Scalar(ScalarKind),
    /// `matrix(r, c)` (a `vector(n)` is `matrix(n, 1)`).
    Matrix(Expr, Expr),
    /// `identity`.
    Identity,
    /// `array(r, c)`: entries `x(i, j)`.
    Array(Expr, Expr),
    /// `random(...)`, `normal(...)`, and their families.
    Random {
        /// A family `x(i, ...)` of independent variables.
        family: bool,
        /// Gaussian (every moment known).
        normal: bool,
        /// The mean.
        mean: Expr,
        /// The variance.
        var: Expr,
    },
}

/// A resolved `[define]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// Its name.
    pub name: String,
    /// Formal parameters (empty for a constant).
    pub params: Vec<String>,
    /// The body.
    pub body: Expr,
}

/// One declared symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// The structure of a square matrix kind (`symmetric matrix(n)`, ...).
    pub structure: Structure,
}

/// The structure a square matrix kind declares; its facts are rewrite rules
/// of the matrix normal form and its samples are exact members of the class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Structure {
    /// No structure (`matrix(r, c)`, `vector(n)`, scalars, ...).
    #[default]
    General,
    /// `symmetric matrix(n)`: `Aᵀ = A`.
    Symmetric,
    /// `orthogonal matrix(n)`: `Qᵀ Q = Q Qᵀ = I`.
    Orthogonal,
    /// `invertible matrix(n)`: `A⁻¹` exists.
    Invertible,
    /// `positive definite matrix(n)`: symmetric, invertible, `xᵀ A x > 0`.
    PositiveDefinite,
    /// `diagonal matrix(n)`: `Aᵀ = A`, entries off the diagonal zero.
    Diagonal,
}

impl Structure {
    /// The kind's words as written.
    pub fn words(self) -> &'static str {
        match self {
            Structure::General => "matrix",
            Structure::Symmetric => "symmetric matrix",
            Structure::Orthogonal => "orthogonal matrix",
            Structure::Invertible => "invertible matrix",
            Structure::PositiveDefinite => "positive definite matrix",
            Structure::Diagonal => "diagonal matrix",
        }
    }

    /// Is `Aᵀ = A`?
    pub fn symmetric(self) -> bool {
        matches!(
            self,
            Structure::Symmetric | Structure::PositiveDefinite | Structure::Diagonal
        )
    }

    /// Is the inverse declared to exist?
    pub fn invertible(self) -> bool {
        matches!(
            self,
            Structure::Orthogonal | Structure::Invertible | Structure::PositiveDefinite
        )
    }
}

/// The declarations and definitions of one file, resolved.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Declared symbols by name.
    pub symbols: BTreeMap<String, Symbol>,
    /// Definitions by name.
    pub definitions: BTreeMap<String, Definition>,
    /// Names whose declaration or definition is broken, with the diagnostic.
    pub broken: BTreeMap<String, Diagnostic>,
    /// Every name with a parameter list, for the parser.
    functions: BTreeMap<String, usize>,
    /// Every declared or defined name.
    known: Vec<String>,
}

impl Context {
    /// Declares a symbol, replacing whatever had its name: for a context
    /// merged from two files (grading merges a key's declarations into an
    /// answer's).
    pub fn declare(&mut self, symbol: Symbol) {
        let name = symbol.name.clone();
        self.definitions.remove(&name);
        self.broken.remove(&name);
        self.functions.remove(&name);
        if !self.known.contains(&name) {
            self.known.push(name.clone());
        }
        self.symbols.insert(name, symbol);
    }

    /// Adds a definition, replacing whatever had its name (see [`Context::declare`]).
    pub fn define(&mut self, definition: Definition) {
        let name = definition.name.clone();
        self.symbols.remove(&name);
        self.broken.remove(&name);
        if definition.params.is_empty() {
            self.functions.remove(&name);
        } else {
            self.functions.insert(name.clone(), definition.params.len());
        }
        if !self.known.contains(&name) {
            self.known.push(name.clone());
        }
        self.definitions.insert(name, definition);
    }
}

impl Names for Context {
    fn class(&self, name: &str) -> Option<NameClass> {
        if self.functions.contains_key(name) {
            return Some(NameClass::Function);
        }
        if let Some(s) = self.symbols.get(name) {
            return Some(match s.kind {
                Kind::Array(..) | Kind::Random { family: true, .. } => NameClass::Function,
                _ => NameClass::Value,
            });
        }
        if self.definitions.contains_key(name) || self.broken.contains_key(name) {
            return Some(NameClass::Value);
        }
        // While kinds are read, every declared name is known, whatever the
        // order of the declarations (`W = "matrix(d_out, d_in)"` above `d_out`).
        if self.known.iter().any(|k| k == name) {
            return Some(NameClass::Value);
        }
        None
    }

    fn declared(&self) -> Vec<String> {
        self.known.clone()
    }
}

/// What a claim's `expect` asks for.
pub type Expectation = VerdictKind;

/// A claim ready to check, or the reason it cannot be.
#[derive(Clone, Debug)]
pub struct Claim {
    /// Its id (or a placeholder when it has none).
    pub id: String,
    /// Where it starts.
    pub location: Location,
    /// The prose, if any.
    pub text: Option<String>,
    /// Its expectation.
    pub expect: Option<Expectation>,
    /// The statement and conditions, or a located error.
    pub body: Result<ClaimBody, (Location, String)>,
}

/// The parsed parts of a well-formed claim.
#[derive(Clone, Debug)]
pub struct ClaimBody {
    /// What is shown.
    pub statement: Statement,
    /// The `where` conditions (each a comparison).
    pub conditions: Vec<Expr>,
    /// The `given` hypotheses (each a comparison).
    pub given: Vec<Expr>,
    /// The text of `show`, for locating spans in reports.
    pub show: Located,
    /// Where the content of `show` starts (after its quote).
    pub show_start: Location,
    /// Every declared or defined name the claim depends on, sorted: the
    /// names it mentions, and through definitions, kinds (sizes, moments)
    /// and, for a claim about random variables, every random symbol (whose
    /// variances it assumes nonnegative). The check reads no other
    /// declaration, so these and the parsed claim key its memo entry.
    pub uses: Vec<String>,
    /// The family of each step of a chain, or of the implication (one).
    pub families: Vec<family::Family>,
    /// Notes on how the claim was read (a sum index shadowing a declared name).
    pub notes: Vec<String>,
}

impl ClaimBody {
    /// The file location of a span of the `show` text.
    pub fn locate(&self, span: Span) -> Location {
        let before = self.show.text.get(..span.start).unwrap_or("");
        match before.rfind('\n') {
            None => Location {
                line: self.show_start.line,
                column: self.show_start.column + before.chars().count(),
            },
            Some(nl) => Location {
                line: self.show_start.line + before.matches('\n').count(),
                column: before[nl + 1..].chars().count() + 1,
            },
        }
    }
}

fn locate(d: &Derivation, l: &Located, span: Span) -> Location {
    d.source.location(l.offset + span.start)
}

fn parse_error(d: &Derivation, l: &Located, e: ParseError) -> (Location, String) {
    (locate(d, l, e.span), e.message)
}

/// Splits `f(a, b)` into `f` and its top-level arguments.
fn split_call(text: &str) -> Option<(&str, Vec<(usize, &str)>)> {
    let open = text.find('(')?;
    if !text.trim_end().ends_with(')') {
        return None;
    }
    let close = text.rfind(')')?;
    let head = text[..open].trim();
    let inner_start = open + 1;
    let inner = &text[inner_start..close];
    let mut args = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                args.push((inner_start + start, &inner[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push((inner_start + start, &inner[start..]));
    Some((head, args))
}

fn scalar_kind(text: &str) -> Option<ScalarKind> {
    let words: Vec<&str> = text.split_whitespace().collect();
    Some(match words.as_slice() {
        ["real"] => ScalarKind::Real,
        ["positive"] | ["positive", "real"] => ScalarKind::Positive,
        ["nonnegative"] | ["nonnegative", "real"] => ScalarKind::Nonnegative,
        ["nonzero"] | ["nonzero", "real"] => ScalarKind::Nonzero,
        ["integer"] => ScalarKind::Integer,
        ["positive", "integer"] => ScalarKind::PositiveInteger,
        ["nonnegative", "integer"] => ScalarKind::NonnegativeInteger,
        _ => return None,
    })
}

const KINDS_HELP: &str = "real, positive, nonnegative, nonzero, integer, positive integer, nonnegative integer, \
matrix(r, c), vector(n), symmetric matrix(n), orthogonal matrix(n), invertible matrix(n), \
positive definite matrix(n), diagonal matrix(n), identity, array(r, c), random(mean = m, var = v), normal(m, v), random family(...), normal family(...)";

/// The kind words a misspelt kind is compared with (the part before `(`).
const KIND_WORDS: &[&str] = &[
    "real",
    "positive",
    "nonnegative",
    "nonzero",
    "integer",
    "positive integer",
    "nonnegative integer",
    "identity",
    "matrix",
    "vector",
    "array",
    "random",
    "normal",
    "random family",
    "normal family",
    "symmetric matrix",
    "orthogonal matrix",
    "invertible matrix",
    "positive definite matrix",
    "diagonal matrix",
];

/// The kind word nearest to a misspelt kind (`positve` → `positive`), by
/// edit distance (at most 2, or 3 for long words), with its parenthesis.
fn closest_kind(text: &str) -> Option<String> {
    let (head, tail) = match text.find('(') {
        Some(i) => (text[..i].trim_end(), &text[i..]),
        None => (text, ""),
    };
    let (distance, word) = KIND_WORDS
        .iter()
        .map(|k| (strsim::levenshtein(k, head), *k))
        .min()?;
    let allowed = if head.chars().count() > 8 { 3 } else { 2 };
    (distance > 0 && distance <= allowed).then(|| format!("{word}{tail}"))
}

/// Parses a kind text; size and moment expressions are read with `names`.
fn parse_kind(
    text: &str,
    names: &dyn Names,
    syntax: Syntax,
) -> Result<(Kind, Structure), (Span, String)> {
    let trimmed = text.trim();
    for st in [
        Structure::Symmetric,
        Structure::Orthogonal,
        Structure::Invertible,
        Structure::PositiveDefinite,
        Structure::Diagonal,
    ] {
        let Some(rest) = trimmed.strip_prefix(st.words()) else {
            continue;
        };
        let lead = text.len() - text.trim_start().len() + st.words().len();
        let inner = rest.trim_start();
        let lead = lead + (rest.len() - inner.len());
        let whole = Span {
            start: lead,
            end: lead + inner.len(),
        };
        let Some(args) = inner.strip_prefix('(').and_then(|x| x.strip_suffix(')')) else {
            return Err((
                whole,
                format!(
                    "write `{}(n)` with one size (the matrix is n × n)",
                    st.words()
                ),
            ));
        };
        if args.contains(',') {
            return Err((
                whole,
                format!(
                    "`{}` is square and takes one size: `{}(n)`",
                    st.words(),
                    st.words()
                ),
            ));
        }
        if args.trim().is_empty() {
            return Err((whole, "missing size".to_string()));
        }
        let n = parser::parse_expr_as(args, names, &[], syntax).map_err(|e| {
            (
                Span {
                    start: lead + 1 + e.span.start,
                    end: lead + 1 + e.span.end,
                },
                e.message,
            )
        })?;
        return Ok((Kind::Matrix(n.clone(), n), st));
    }
    parse_plain_kind(text, names, syntax).map(|k| (k, Structure::General))
}

/// Parses a kind without structure.
fn parse_plain_kind(text: &str, names: &dyn Names, syntax: Syntax) -> Result<Kind, (Span, String)> {
    let trimmed = text.trim();
    let lead = text.len() - text.trim_start().len();
    if let Some(k) = scalar_kind(trimmed) {
        return Ok(Kind::Scalar(k));
    }
    if trimmed == "identity" {
        return Ok(Kind::Identity);
    }
    let whole = Span {
        start: lead,
        end: lead + trimmed.len(),
    };
    let unknown = || {
        let suggestion = closest_kind(trimmed)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        (
            whole,
            format!("unknown kind `{trimmed}` (known kinds: {KINDS_HELP}){suggestion}"),
        )
    };
    let Some((head, args)) = split_call(trimmed) else {
        return Err(unknown());
    };
    let parse_arg = |(at, a): (usize, &str)| -> Result<Expr, (Span, String)> {
        if a.trim().is_empty() {
            return Err((
                Span {
                    start: lead + at,
                    end: lead + at + a.len(),
                },
                "missing value".to_string(),
            ));
        }
        parser::parse_expr_as(a, names, &[], syntax).map_err(|e| {
            (
                Span {
                    start: lead + at + e.span.start,
                    end: lead + at + e.span.end,
                },
                e.message,
            )
        })
    };
    let head_words: Vec<&str> = head.split_whitespace().collect();
    match head_words.as_slice() {
        ["matrix"] | ["array"] => {
            if args.len() != 2 {
                return Err((
                    whole,
                    format!("`{head}` takes two sizes: `{head}(rows, columns)`"),
                ));
            }
            let r = parse_arg(args[0])?;
            let c = parse_arg(args[1])?;
            Ok(if head == "matrix" {
                Kind::Matrix(r, c)
            } else {
                Kind::Array(r, c)
            })
        }
        ["vector"] => {
            if args.len() != 1 {
                return Err((whole, "`vector` takes one size: `vector(n)`".to_string()));
            }
            Ok(Kind::Matrix(parse_arg(args[0])?, Expr::int(1)))
        }
        ["random"] | ["random", "family"] | ["normal"] | ["normal", "family"] => {
            let family = head_words.len() == 2;
            let normal = head_words[0] == "normal";
            let mut mean = None;
            let mut var = None;
            for (i, (at, a)) in args.iter().enumerate() {
                let (key, value_at, value) = match a.split_once('=') {
                    Some((k, v)) => (k.trim(), at + k.len() + 1, v),
                    None if normal => (if i == 0 { "mean" } else { "var" }, *at, *a),
                    None => {
                        return Err((
                            Span {
                                start: lead + at,
                                end: lead + at + a.len(),
                            },
                            "write the moments as `mean = m, var = v`".to_string(),
                        ))
                    }
                };
                let e = parse_arg((value_at, value))?;
                match key {
                    "mean" if mean.is_none() => mean = Some(e),
                    "var" if var.is_none() => var = Some(e),
                    _ => {
                        return Err((
                            Span {
                                start: lead + at,
                                end: lead + at + a.len(),
                            },
                            format!(
                                "unknown or repeated moment `{key}` (expected `mean` and `var`)"
                            ),
                        ))
                    }
                }
            }
            match (mean, var) {
                (Some(mean), Some(var)) => Ok(Kind::Random {
                    family,
                    normal,
                    mean,
                    var,
                }),
                _ => Err((whole, format!("`{head}` needs both a mean and a variance"))),
            }
        }
        _ => Err(unknown()),
    }
}

/// The syntax a file's expressions are read in (`syntax = ...` at the top).
fn file_syntax(d: &Derivation) -> Syntax {
    d.syntax
        .as_ref()
        .and_then(|l| Syntax::parse(&l.text))
        .unwrap_or_default()
}

/// Resolves the declarations and definitions of a derivation.
pub fn resolve_context(d: &Derivation) -> (Context, Vec<Diagnostic>) {
    let syntax = file_syntax(d);
    let mut ctx = Context::default();
    let mut diagnostics = d.problems.clone();
    let diag = |location: Location, message: String| Diagnostic {
        file: d.path.clone(),
        location,
        message,
    };
    // Heads first, so that every name is known before any body is parsed.
    let mut heads = Vec::new();
    for def in &d.definitions {
        match parser::parse_definition_head(&def.head.text) {
            Ok((name, params)) => {
                if d.symbols.iter().any(|s| s.name == name) {
                    let dg = diag(
                        def.head.location,
                        format!("`{name}` is both declared in [symbols] and defined in [define]"),
                    );
                    diagnostics.push(dg.clone());
                    ctx.broken.insert(name.clone(), dg);
                    continue;
                }
                if !params.is_empty() {
                    ctx.functions.insert(name.clone(), params.len());
                }
                ctx.known.push(name.clone());
                heads.push((def, name, params));
            }
            Err(e) => {
                let (loc, msg) = parse_error(d, &def.head, e);
                diagnostics.push(diag(loc, msg));
            }
        }
    }
    for s in &d.symbols {
        ctx.known.push(s.name.clone());
    }
    // Kinds may mention other declared names (sizes, moments); parse with all names known.
    let mut pending = Vec::new();
    for s in &d.symbols {
        let valid_name = s
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && s.name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid_name || parser::is_builtin(&s.name) || s.name == "and" {
            let dg = diag(
                s.name_location,
                format!("`{}` cannot be declared as a symbol name", s.name),
            );
            diagnostics.push(dg.clone());
            ctx.broken.insert(s.name.clone(), dg);
            continue;
        }
        // Families and arrays are called like functions; mark them before parsing kinds.
        let head = s.kind.text.trim();
        if head.starts_with("array") || head.contains("family") {
            ctx.functions.insert(s.name.clone(), 0);
        }
        pending.push(s);
    }
    for s in pending {
        match parse_kind(&s.kind.text, &ctx, syntax) {
            Ok((kind, structure)) => {
                ctx.symbols.insert(
                    s.name.clone(),
                    Symbol {
                        name: s.name.clone(),
                        kind,
                        structure,
                    },
                );
                ctx.functions
                    .retain(|n, arity| !(n == &s.name && *arity == 0));
            }
            Err((span, msg)) => {
                let dg = diag(
                    locate(d, &s.kind, span),
                    format!("bad kind for `{}`: {msg}", s.name),
                );
                diagnostics.push(dg.clone());
                ctx.broken.insert(s.name.clone(), dg);
                ctx.functions.remove(&s.name);
            }
        }
    }
    // A kind that depends on itself through other kinds is an error at its declaration.
    for (name, dg) in kind_cycles(d, &ctx) {
        diagnostics.push(dg.clone());
        ctx.broken.insert(name.clone(), dg);
        ctx.symbols.remove(&name);
    }
    for (def, name, params) in heads {
        match parser::parse_expr_as(&def.body.text, &ctx, &params, syntax) {
            Ok(body) => {
                ctx.definitions
                    .insert(name.clone(), Definition { name, params, body });
            }
            Err(e) => {
                let (loc, msg) = parse_error(d, &def.body, e);
                let dg = diag(loc, format!("in the definition of `{name}`: {msg}"));
                diagnostics.push(dg.clone());
                ctx.broken.insert(name, dg);
            }
        }
    }
    (ctx, diagnostics)
}

/// Declarations whose kind depends on itself (`a = "matrix(b, 1)"`,
/// `b = "random(mean = a, var = 1)"`), one diagnostic per symbol on a cycle,
/// with the symbol's name.
fn kind_cycles(d: &Derivation, ctx: &Context) -> Vec<(String, Diagnostic)> {
    let deps = |name: &str| -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = ctx.symbols.get(name) {
            kind_names(&s.kind, &mut out);
        }
        out.retain(|n| ctx.symbols.contains_key(n));
        out
    };
    let mut found = Vec::new();
    for s in &d.symbols {
        // A path from the symbol back to itself, by a bounded search.
        let mut stack: Vec<(String, Vec<String>)> = vec![(s.name.clone(), vec![s.name.clone()])];
        let mut seen: Vec<String> = Vec::new();
        let mut cycle = None;
        while let Some((at, path)) = stack.pop() {
            for next in deps(&at) {
                if next == s.name {
                    cycle = Some(path.clone());
                    break;
                }
                if !seen.contains(&next) {
                    seen.push(next.clone());
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next, p));
                }
            }
            if cycle.is_some() {
                break;
            }
        }
        if let Some(mut path) = cycle {
            path.push(s.name.clone());
            found.push((
                s.name.clone(),
                Diagnostic {
                    file: d.path.clone(),
                    location: s.kind.location,
                    message: format!(
                        "the kind of `{}` depends on itself: {}",
                        s.name,
                        path.iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(" → ")
                    ),
                },
            ));
        }
    }
    found
}

/// The names a kind's sizes or moments mention.
fn kind_names(kind: &Kind, out: &mut Vec<String>) {
    match kind {
        Kind::Matrix(r, c) | Kind::Array(r, c) => {
            names_in(r, out);
            names_in(c, out);
        }
        Kind::Random { mean, var, .. } => {
            names_in(mean, out);
            names_in(var, out);
        }
        Kind::Scalar(_) | Kind::Identity => {}
    }
}

impl ClaimBody {
    /// The key of this claim's outcome in a memo: the parsed claim (its
    /// `show` as decoded by TOML, which seeds the spot checks, and its
    /// parsed statement, conditions and hypotheses), the declarations and
    /// definitions it uses (parsed), the claim's id (which seeds the spot
    /// checks) and the settings. Two claims with the same key get the same
    /// outcome, wherever they are written.
    pub fn memo_key(&self, id: &str, ctx: &Context, settings: &str) -> String {
        use std::fmt::Write as _;
        let mut key = String::new();
        let _ = write!(
            key,
            "{settings}\u{1}{id}\u{1}{}\u{1}{:?}\u{1}{:?}\u{1}{:?}",
            self.show.text, self.statement, self.conditions, self.given
        );
        for name in &self.uses {
            if let Some(s) = ctx.symbols.get(name) {
                let _ = write!(key, "\u{1}symbol {name}: {:?}", s.kind);
            }
            if let Some(d) = ctx.definitions.get(name) {
                let _ = write!(key, "\u{1}define {name}: {:?}", d);
            }
        }
        key
    }
}

/// Every name an expression mentions (calls included).
pub fn names_in(e: &Expr, out: &mut Vec<String>) {
    e.walk(&mut |n| match &n.kind {
        ExprKind::Name(s) | ExprKind::Call { name: s, .. } if !out.contains(s) => {
            out.push(s.clone());
        }
        _ => {}
    });
}

/// Every name a statement and other expressions (conditions, hypotheses)
/// depend on in `ctx`, in order of discovery: the names they mention, and
/// through definitions and kinds (sizes, moments) the names those mention;
/// for random variables, every random symbol; for `cost(...)`, the price
/// `c`. Names neither declared nor defined (bound indices) are included;
/// [`ClaimBody::uses`] is this list, filtered and sorted.
pub fn dependencies(ctx: &Context, statement: &Statement, others: &[Expr]) -> Vec<String> {
    let mut used = Vec::new();
    let mut collect = |e: &Expr| names_in(e, &mut used);
    match statement {
        Statement::Chain(ch) => ch.terms.iter().for_each(&mut collect),
        Statement::Logic {
            premise,
            conclusion,
            ..
        } => {
            for ch in premise.iter().chain(conclusion) {
                ch.terms.iter().for_each(&mut collect);
            }
        }
    }
    others.iter().for_each(&mut collect);
    // `cost(...)` prices a product with the declared constant `c`.
    let prices = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |n| found |= matches!(n.as_builtin(), Some((Builtin::Cost, _))));
        found
    };
    let mut priced = false;
    statement.walk_exprs(&mut |e| priced |= prices(e));
    // Names used through definitions and kinds count too.
    let mut i = 0;
    while i < used.len() {
        if let Some(def) = ctx.definitions.get(&used[i]) {
            names_in(&def.body, &mut used);
            priced |= prices(&def.body);
        }
        if priced && !used.iter().any(|n| n == "c") {
            used.push("c".into());
        }
        if let Some(sym) = ctx.symbols.get(&used[i]) {
            kind_names(&sym.kind, &mut used);
            if matches!(sym.kind, Kind::Random { .. }) {
                for (name, other) in &ctx.symbols {
                    if matches!(other.kind, Kind::Random { .. }) && !used.contains(name) {
                        used.push(name.clone());
                    }
                }
            }
        }
        i += 1;
    }
    used
}

/// Resolves one claim: parses `show`, `where`, `given` and `expect`.
pub fn resolve_claim(d: &Derivation, ctx: &Context, index: usize) -> Claim {
    let c = &d.claims[index];
    let id = c.id.clone().unwrap_or_else(|| format!("#{}", index + 1));
    let expect = match &c.expect {
        None => Ok(None),
        Some(l) => match VerdictKind::parse(l.text.trim()) {
            Some(v) => Ok(Some(v)),
            None => Err((
                l.location,
                format!(
                    "unknown `expect` value `{}` (expected proved, checked, unsupported, refuted or error)",
                    l.text
                ),
            )),
        },
    };
    let mut claim = Claim {
        id,
        location: c.location,
        text: c.text.clone(),
        expect: expect.clone().ok().flatten(),
        body: Err((c.location, String::new())),
    };
    if let Some((loc, msg)) = c.problems.first() {
        claim.body = Err((*loc, msg.clone()));
        return claim;
    }
    if let Err(e) = expect {
        claim.body = Err(e);
        return claim;
    }
    let show = c.show.clone().expect("a claim without show has a problem");
    let syntax = c
        .syntax
        .as_ref()
        .and_then(|l| Syntax::parse(&l.text))
        .unwrap_or_else(|| file_syntax(d));
    let (statement, notes) = match parser::parse_statement_as(&show.text, ctx, syntax) {
        Ok(s) => s,
        Err(e) => {
            claim.body = Err(parse_error(d, &show, e));
            return claim;
        }
    };
    let conditions = match &c.where_ {
        None => Vec::new(),
        Some(w) => match parser::parse_condition_as(&w.text, ctx, syntax) {
            Ok(v) => v,
            Err(e) => {
                claim.body = Err(parse_error(d, w, e));
                return claim;
            }
        },
    };
    let mut given = Vec::new();
    for g in &c.given {
        match parser::parse_condition_as(&g.text, ctx, syntax) {
            Ok(v) => given.extend(v),
            Err(e) => {
                claim.body = Err(parse_error(d, g, e));
                return claim;
            }
        }
    }
    // A claim that uses a broken declaration or definition is an error pointing there.
    let others: Vec<Expr> = conditions.iter().chain(&given).cloned().collect();
    let used = dependencies(ctx, &statement, &others);
    for name in &used {
        if let Some(dg) = ctx.broken.get(name) {
            claim.body = Err((
                c.show.as_ref().map_or(c.location, |s| s.location),
                format!(
                    "uses `{name}`, whose declaration is broken (line {}, column {}: {})",
                    dg.location.line, dg.location.column, dg.message
                ),
            ));
            return claim;
        }
    }
    for cond in &given {
        if let ExprKind::Compare(_, ops) = &cond.kind {
            if ops.contains(&RelOp::Approx) {
                claim.body = Err((c.location, "`≈` cannot be a hypothesis".into()));
                return claim;
            }
        }
    }
    let show_start = d.source.location(show.offset);
    let mut uses: Vec<String> = used
        .into_iter()
        .filter(|n| ctx.symbols.contains_key(n) || ctx.definitions.contains_key(n))
        .collect();
    uses.sort();
    let families = family::Family::of_statement(&statement, &conditions, &given, ctx);
    claim.body = Ok(ClaimBody {
        statement,
        conditions,
        given,
        show,
        show_start,
        uses,
        families,
        notes,
    });
    claim
}
