//! The brace tree of LaTeX math → the parser's tokens.
//!
//! Each construct becomes the tokens of its plain form: `\frac{a}{b}` is
//! `((a) / (b))`, `\sum_{i=1}^{n} body` is `sum(i, 1, n, body)` (the body
//! runs to the next `+`, `-` or relation outside brackets, as in written
//! mathematics), `\frac{\partial f}{\partial x}` is `diff(f, x)`,
//! `\nabla_x f` is `grad(f, x)`, `\int_a^b f \,dx` is `integral(f, x, a, b)`.
//! Synthetic tokens carry the span of the command that produced them.

use super::lexer::{LKind, LTok, Node};
use crate::syntax::expr::{RelOp, Span};
use crate::syntax::lexer::{self, is_builtin, NameClass, Names, ParseError, Tok, NESTING};
use num_traits::ToPrimitive;

type TResult<T> = Result<T, ParseError>;

/// Greek letters: command, Unicode.
const GREEK: &[(&str, &str)] = &[
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("epsilon", "ε"),
    ("varepsilon", "ε"),
    ("zeta", "ζ"),
    ("eta", "η"),
    ("theta", "θ"),
    ("vartheta", "θ"),
    ("iota", "ι"),
    ("kappa", "κ"),
    ("lambda", "λ"),
    ("mu", "μ"),
    ("nu", "ν"),
    ("xi", "ξ"),
    ("pi", "π"),
    ("rho", "ρ"),
    ("varrho", "ρ"),
    ("sigma", "σ"),
    ("tau", "τ"),
    ("upsilon", "υ"),
    ("phi", "φ"),
    ("varphi", "φ"),
    ("chi", "χ"),
    ("psi", "ψ"),
    ("omega", "ω"),
    ("Gamma", "Γ"),
    ("Delta", "Δ"),
    ("Theta", "Θ"),
    ("Lambda", "Λ"),
    ("Xi", "Ξ"),
    ("Pi", "Π"),
    ("Sigma", "Σ"),
    ("Phi", "Φ"),
    ("Psi", "Ψ"),
    ("Omega", "Ω"),
];

/// Commands read as the name of a function of the plain syntax.
const FUNCTIONS: &[(&str, &str)] = &[
    ("log", "log"),
    ("ln", "log"),
    ("exp", "exp"),
    ("sin", "sin"),
    ("cos", "cos"),
    ("tan", "tan"),
    ("sinh", "sinh"),
    ("cosh", "cosh"),
    ("tanh", "tanh"),
    ("max", "max"),
    ("min", "min"),
    ("det", "det"),
    ("tr", "trace"),
    ("trace", "trace"),
    ("Tr", "trace"),
    ("sgn", "sign"),
    ("sign", "sign"),
    ("rank", "rank"),
    ("diag", "diag"),
    ("Var", "Var"),
    ("var", "Var"),
    ("Cov", "Cov"),
    ("cov", "Cov"),
    ("Std", "Std"),
    ("E", "E"),
    ("softplus", "softplus"),
    ("sigmoid", "sigmoid"),
    ("relu", "relu"),
    ("ReLU", "relu"),
    ("inv", "inv"),
];

/// Commands that are only spacing or layout.
const IGNORED: &[&str] = &[
    ",",
    ";",
    ":",
    "!",
    " ",
    "quad",
    "qquad",
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "limits",
    "nolimits",
    "nonumber",
    "notag",
    "\\",
    "cr",
    "hfill",
    "enspace",
    "thinspace",
    "medspace",
    "thickspace",
    "allowbreak",
];

/// Font and decoration commands whose argument is the name.
const FONTS: &[&str] = &[
    "mathbf",
    "boldsymbol",
    "bm",
    "mathbfit",
    "vec",
    "mathcal",
    "mathsf",
    "mathscr",
    "mathfrak",
    "pmb",
    "mathit",
    "mathnormal",
    "textbf",
    "textit",
    "mathtt",
];

/// Commands that read their argument as one word: `\mathrm{Var}`, `\text{and}`.
const WORDS: &[&str] = &[
    "mathrm",
    "operatorname",
    "text",
    "textrm",
    "mbox",
    "textnormal",
    "mathrm*",
    "operatorname*",
];

/// Accents: `\hat{y}` is the name `y_hat`.
const ACCENTS: &[(&str, &str)] = &[
    ("hat", "hat"),
    ("widehat", "hat"),
    ("tilde", "tilde"),
    ("widetilde", "tilde"),
    ("bar", "bar"),
    ("overline", "bar"),
    ("dot", "dot"),
    ("ddot", "ddot"),
    ("check", "check"),
];

const RELATIONS: &[(&str, Tok)] = &[
    ("le", Tok::Rel(RelOp::Le)),
    ("leq", Tok::Rel(RelOp::Le)),
    ("leqslant", Tok::Rel(RelOp::Le)),
    ("ge", Tok::Rel(RelOp::Ge)),
    ("geq", Tok::Rel(RelOp::Ge)),
    ("geqslant", Tok::Rel(RelOp::Ge)),
    ("ne", Tok::Rel(RelOp::Ne)),
    ("neq", Tok::Rel(RelOp::Ne)),
    ("lt", Tok::Rel(RelOp::Lt)),
    ("gt", Tok::Rel(RelOp::Gt)),
    ("approx", Tok::Rel(RelOp::Approx)),
    ("Rightarrow", Tok::Implies),
    ("implies", Tok::Implies),
    ("Longrightarrow", Tok::Implies),
    ("iff", Tok::Iff),
    ("Leftrightarrow", Tok::Iff),
    ("Longleftrightarrow", Tok::Iff),
];

/// Delimiter sizing commands (`\left(`, `\bigl[`): the delimiter follows.
const SIZERS: &[&str] = &[
    "left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr",
];

/// Commands with a plain message: what they mean is not checked.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "cdots",
        "an ellipsis cannot be checked: write the sum with `\\sum`",
    ),
    (
        "ldots",
        "an ellipsis cannot be checked: write the sum with `\\sum`",
    ),
    (
        "dots",
        "an ellipsis cannot be checked: write the sum with `\\sum`",
    ),
    ("vdots", "an ellipsis cannot be checked"),
    (
        "in",
        "`\\in` is not an expression: declare the set as a kind in [symbols]",
    ),
    (
        "forall",
        "`\\forall` is not an expression: state the domain with `where`",
    ),
    ("exists", "`\\exists` cannot be checked"),
    ("to", "limits (`\\to`) are not supported"),
    (
        "rightarrow",
        "limits (`\\rightarrow`) are not supported; `\\Rightarrow` is an implication",
    ),
    ("mapsto", "`\\mapsto` is not an expression"),
    (
        "sim",
        "`\\sim` is not an expression: declare the distribution as a kind (`normal(m, v)`)",
    ),
    ("propto", "`\\propto` cannot be checked: write the constant"),
    ("pm", "`\\pm` stands for two claims: write each"),
    ("mp", "`\\mp` stands for two claims: write each"),
    ("odot", "the elementwise product `\\odot` is not supported"),
    ("circ", "`\\circ` is not supported"),
    (
        "otimes",
        "the Kronecker product `\\otimes` is not supported",
    ),
    ("oplus", "`\\oplus` is not supported"),
    ("equiv", "`\\equiv` is not supported: write `=`"),
    (
        "langle",
        "inner products `\\langle a, b \\rangle` are not supported: write `a^\\top b`",
    ),
    (
        "rangle",
        "inner products `\\langle a, b \\rangle` are not supported: write `a^\\top b`",
    ),
    ("binom", "`\\binom` is not supported"),
    ("choose", "`\\choose` is not supported"),
    ("lim", "limits are not supported"),
    ("arg", "`\\arg` is not supported"),
    ("argmin", "`\\argmin` is not supported"),
    ("argmax", "`\\argmax` is not supported"),
    ("Pr", "probabilities `\\Pr` are not supported"),
    ("mathbb", "`\\mathbb` is read only as `\\mathbb{E}`"),
];

/// Is `name` a command this translator reads (for control-character hints)?
/// Is `name` the name of a Greek letter's command (`eta` of `\eta`)?
pub(crate) fn is_greek(name: &str) -> bool {
    GREEK.iter().any(|(g, _)| *g == name)
}

pub(crate) fn known_command(name: &str) -> bool {
    let structural = [
        "frac", "dfrac", "tfrac", "cfrac", "sqrt", "sum", "prod", "nabla", "int", "partial", "top",
        "intercal", "prime", "cdot", "times", "ast", "div", "infty", "ell", "lfloor", "rfloor",
        "lceil", "rceil", "vert", "lvert", "rvert", "Vert", "lVert", "rVert", "begin", "end",
        "label", "tag", "mathbb", "T",
    ];
    structural.contains(&name)
        || GREEK.iter().any(|(g, _)| *g == name)
        || FUNCTIONS.iter().any(|(f, _)| *f == name)
        || IGNORED.contains(&name)
        || FONTS.contains(&name)
        || WORDS.contains(&name)
        || ACCENTS.iter().any(|(a, _)| *a == name)
        || RELATIONS.iter().any(|(r, _)| *r == name)
        || SIZERS.contains(&name)
        || UNSUPPORTED.iter().any(|(u, _)| *u == name)
}

/// Translates the brace tree of `text`.
pub(crate) fn translate(
    text: &str,
    nodes: &[Node],
    names: &dyn Names,
    bound: &[String],
) -> TResult<Vec<(Tok, Span)>> {
    let mut t = Translator {
        text,
        names,
        bound: bound.to_vec(),
        out: Vec::new(),
        norms: Vec::new(),
        last_norm: None,
        lefts: Vec::new(),
        depth: 0,
    };
    t.seq(nodes)?;
    Ok(t.out)
}

struct Translator<'a> {
    text: &'a str,
    names: &'a dyn Names,
    bound: Vec<String>,
    out: Vec<(Tok, Span)>,
    /// Indices in `out` of `‖` that opened a norm not yet closed.
    norms: Vec<usize>,
    /// The last norm closed: indices of its opening and closing `‖`.
    last_norm: Option<(usize, usize)>,
    /// What each open `\left` opened (`None` for `\left.` and norms).
    lefts: Vec<Option<Tok>>,
    depth: usize,
}

fn err<T>(message: impl Into<String>, span: Span) -> TResult<T> {
    Err(ParseError {
        message: message.into(),
        span,
    })
}

/// The span covering a slice of nodes (or `fallback` when it is empty).
fn span_of(nodes: &[Node], fallback: Span) -> Span {
    match (nodes.first(), nodes.last()) {
        (Some(a), Some(b)) => a.span().to(b.span()),
        _ => fallback,
    }
}

/// The contents of an argument node: a group's items, or the node itself.
fn contents(node: &Node) -> &[Node] {
    match node {
        Node::Group { items, .. } => items,
        Node::Tok(_) => std::slice::from_ref(node),
    }
}

/// The letters and digits of nodes, if they are nothing else: `out`, `ji`, `1`.
fn plain_word(nodes: &[Node]) -> Option<String> {
    let mut s = String::new();
    for n in nodes {
        match n.tok().map(|t| &t.kind) {
            Some(LKind::Letter(c)) => s.push(*c),
            Some(LKind::Num(q)) if q.is_integer() => s.push_str(&q.to_string()),
            _ => return None,
        }
    }
    (!s.is_empty()).then_some(s)
}

fn is_relation_node(n: &Node) -> bool {
    if let Some(LTok {
        kind: LKind::Plain(p),
        ..
    }) = n.tok()
    {
        return p.contains(['=', '<', '>', '≤', '≥', '≠', '≈', '⇒', '⇔']);
    }
    n.cmd()
        .is_some_and(|c| RELATIONS.iter().any(|(r, _)| *r == c))
}

/// Does this output token end an operand (so a `‖` after it closes a norm)?
fn ends_operand(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Num(_)
            | Tok::Ident(_)
            | Tok::RParen
            | Tok::RBrack
            | Tok::SupT
            | Tok::Prime
            | Tok::Sup(_)
            | Tok::SupInverse
            | Tok::Bang
            | Tok::RFloor
            | Tok::RCeil
            | Tok::Bar
            | Tok::Half
    )
}

impl Translator<'_> {
    fn push(&mut self, tok: Tok, span: Span) {
        self.out.push((tok, span));
    }

    fn class_of(&self, name: &str) -> Option<NameClass> {
        if self.bound.iter().any(|b| b == name) {
            return Some(NameClass::Value);
        }
        if let Some(c) = self.names.class(name) {
            return Some(c);
        }
        if is_builtin(name) || name == "π" || name == "and" || name == "E" || name == "inf" {
            return Some(NameClass::Function);
        }
        None
    }

    fn known(&self, name: &str) -> bool {
        self.class_of(name).is_some()
    }

    fn enter(&mut self, span: Span) -> TResult<()> {
        self.depth += 1;
        if self.depth > NESTING {
            return err(
                format!("the expression is nested more than {NESTING} levels deep"),
                span,
            );
        }
        Ok(())
    }

    /// Translates a sequence of nodes.
    fn seq(&mut self, nodes: &[Node]) -> TResult<()> {
        self.enter(span_of(nodes, Span::default()))?;
        let mut i = 0;
        while i < nodes.len() {
            i = self.item(nodes, i)?;
        }
        self.depth -= 1;
        Ok(())
    }

    /// Translates `nodes` between synthetic parentheses.
    fn paren_seq(&mut self, nodes: &[Node], span: Span) -> TResult<()> {
        self.push(Tok::LParen, span);
        self.seq(nodes)?;
        self.push(Tok::RParen, span);
        Ok(())
    }

    /// Translates the node at `i`; returns the index of the next one.
    fn item(&mut self, nodes: &[Node], i: usize) -> TResult<usize> {
        let node = &nodes[i];
        match node {
            Node::Group { span, items } => {
                self.paren_seq(items, *span)?;
                Ok(i + 1)
            }
            Node::Tok(t) => match &t.kind {
                LKind::Letter(_) => self.letters(nodes, i),
                LKind::Num(q) => {
                    self.push(Tok::Num(q.clone()), t.span);
                    Ok(i + 1)
                }
                LKind::Plain(p) => self.plain(p, t.span, nodes, i),
                LKind::Cmd(c) => self.command(c, t.span, nodes, i),
                LKind::Open | LKind::Close => err("unexpected brace", t.span),
            },
        }
    }

    /// A piece the plain lexer reads; `^` and `_` are handled here.
    fn plain(&mut self, p: &str, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        match p {
            "^" => self.superscript(nodes, i),
            "_" => self.stray_subscript(nodes, i),
            "&" | "~" => Ok(i + 1),
            "[" if !matches!(self.out.last(), Some((Tok::Ident(e), _)) if e == "E") => {
                // Square brackets group, as parentheses do, unless they hold
                // a list (`[1, 2]`, a literal array).
                match close_bracket(nodes, i) {
                    Some(close) if !nodes[i + 1..close].iter().any(|n| n.is_plain(",")) => {
                        self.push(Tok::LParen, span);
                        self.seq(&nodes[i + 1..close])?;
                        self.push(Tok::RParen, nodes[close].span());
                        Ok(close + 1)
                    }
                    _ => {
                        self.push(Tok::LBrack, span);
                        Ok(i + 1)
                    }
                }
            }
            _ => {
                let toks = lexer::lex(p).map_err(|e| ParseError {
                    message: e.message,
                    span,
                })?;
                for (tok, _) in toks {
                    self.push(tok, span);
                }
                Ok(i + 1)
            }
        }
    }

    /// The argument of `^` or `_` at `j`: a group or one node.
    fn arg<'n>(&self, nodes: &'n [Node], j: usize, after: Span, what: &str) -> TResult<&'n Node> {
        match nodes.get(j) {
            Some(n) => Ok(n),
            None => err(format!("{what} needs an argument"), after),
        }
    }

    /// Is this argument a transpose mark (`\top`, `T`, `\intercal`, `\mathsf{T}`)?
    fn transpose_mark(&self, arg: &Node) -> bool {
        let items = contents(arg);
        match items {
            [n] if n.is_cmd("top") || n.is_cmd("intercal") || n.is_cmd("T") => true,
            [n] if matches!(n.tok().map(|t| &t.kind), Some(LKind::Letter('T'))) => !self.known("T"),
            [f, inner]
                if f.cmd()
                    .is_some_and(|c| FONTS.contains(&c) || WORDS.contains(&c)) =>
            {
                plain_word(contents(inner)).is_some_and(|w| w == "T") && !self.known("T")
            }
            _ => false,
        }
    }

    fn superscript(&mut self, nodes: &[Node], i: usize) -> TResult<usize> {
        let caret = nodes[i].span();
        let arg = self.arg(nodes, i + 1, caret, "`^`")?;
        if self.transpose_mark(arg) {
            self.push(Tok::SupT, caret.to(arg.span()));
            return Ok(i + 2);
        }
        if contents(arg).len() == 1
            && (contents(arg)[0].is_cmd("prime") || contents(arg)[0].is_plain("'"))
        {
            self.push(Tok::Prime, caret.to(arg.span()));
            return Ok(i + 2);
        }
        self.push(Tok::Caret, caret);
        match arg {
            Node::Group { span, items } => self.paren_seq(items, *span)?,
            Node::Tok(_) => {
                // `x^\frac12`: a command argument with its own arguments.
                let end = self.atom_end(nodes, i + 1)?;
                self.paren_seq(&nodes[i + 1..end], arg.span())?;
                return Ok(end);
            }
        }
        Ok(i + 2)
    }

    /// A subscript that follows no name: `\|x\|_2`, `\|A\|_F`.
    fn stray_subscript(&mut self, nodes: &[Node], i: usize) -> TResult<usize> {
        let under = nodes[i].span();
        let arg = self.arg(nodes, i + 1, under, "`_`")?;
        let word = plain_word(contents(arg));
        let closed_norm = self
            .last_norm
            .filter(|(_, close)| *close + 1 == self.out.len());
        match (closed_norm, word.as_deref()) {
            (Some(_), Some("2")) => Ok(i + 2),
            (Some((open, close)), Some("F")) => {
                let open_span = self.out[open].1;
                let close_span = self.out[close].1;
                self.out[close] = (Tok::RParen, close_span.to(arg.span()));
                self.out[open] = (Tok::Ident("normF".into()), open_span);
                self.out.insert(open + 1, (Tok::LParen, open_span));
                self.last_norm = None;
                Ok(i + 2)
            }
            (Some(_), _) => err(
                "only the 2-norm `\\|x\\|_2` and the Frobenius norm `\\|A\\|_F` are supported",
                under.to(arg.span()),
            ),
            (None, _) => err(
                "a subscript here is not understood: subscripts belong to names (`d_{out}`, `w_{ji}`)",
                under.to(arg.span()),
            ),
        }
    }

    fn double_bar(&mut self, span: Span) {
        let closes =
            !self.norms.is_empty() && self.out.last().is_some_and(|(t, _)| ends_operand(t));
        self.push(Tok::DoubleBar, span);
        if closes {
            let open = self.norms.pop().expect("an open norm");
            self.last_norm = Some((open, self.out.len() - 1));
        } else {
            self.norms.push(self.out.len() - 1);
        }
    }

    /// The end of one factor starting at `j` (the argument of `\log x`):
    /// a name with its subscript, a number, a group, or a command with its
    /// arguments, then any `^`/`_` arguments.
    fn atom_end(&self, nodes: &[Node], j: usize) -> TResult<usize> {
        let Some(first) = nodes.get(j) else {
            return err(
                "expected an argument here",
                nodes.last().map_or(Span::default(), Node::span),
            );
        };
        let mut k = j + 1;
        match first {
            Node::Tok(LTok {
                kind: LKind::Letter(_),
                ..
            }) => {
                while let Some(Node::Tok(LTok {
                    kind: LKind::Letter(_),
                    space_before: false,
                    ..
                })) = nodes.get(k)
                {
                    k += 1;
                }
            }
            Node::Tok(LTok {
                kind: LKind::Cmd(c),
                ..
            }) => {
                let args = match c.as_str() {
                    "frac" | "dfrac" | "tfrac" | "cfrac" => 2,
                    "sqrt" => {
                        if nodes.get(k).is_some_and(|n| n.is_plain("[")) {
                            k = close_bracket(nodes, k).map_or(nodes.len(), |c| c + 1);
                        }
                        1
                    }
                    c if FONTS.contains(&c)
                        || WORDS.contains(&c)
                        || ACCENTS.iter().any(|(a, _)| *a == c) =>
                    {
                        1
                    }
                    _ => 0,
                };
                k = (k + args).min(nodes.len());
            }
            _ => {}
        }
        while nodes
            .get(k)
            .is_some_and(|n| n.is_plain("^") || n.is_plain("_"))
        {
            k = (k + 2).min(nodes.len());
        }
        // `\log \sigma(z)`, `\log f(x)`: a function's own parentheses belong to it.
        let word: String = nodes[j..k]
            .iter()
            .filter_map(|n| match n.tok().map(|t| &t.kind) {
                Some(LKind::Letter(c)) => Some(*c),
                _ => None,
            })
            .collect();
        let function_like = first.cmd().is_some_and(|c| {
            FUNCTIONS.iter().any(|(f, _)| *f == c)
                || (c == "sigma" && !self.known("sigma") && !self.known("σ"))
        }) || (!word.is_empty()
            && self.class_of(&word) == Some(NameClass::Function));
        if function_like && nodes.get(k).is_some_and(|n| n.is_plain("(")) {
            let mut depth = 0usize;
            for (m, n) in nodes.iter().enumerate().skip(k) {
                if n.is_plain("(") {
                    depth += 1;
                } else if n.is_plain(")") {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(m + 1);
                    }
                }
            }
        }
        Ok(k)
    }

    /// The end of a term starting at `j`: the next `+`, `-`, relation,
    /// comma or alignment mark outside brackets (the body of `\sum`).
    fn term_end(&self, nodes: &[Node], j: usize) -> usize {
        let mut depth = 0usize;
        let mut bars = false;
        let mut norms = false;
        let mut k = j;
        while k < nodes.len() {
            let n = &nodes[k];
            if let Some(c) = n.cmd() {
                if SIZERS.contains(&c) {
                    let opens = matches!(c, "left" | "bigl" | "Bigl" | "biggl" | "Biggl")
                        || nodes
                            .get(k + 1)
                            .is_some_and(|d| d.is_plain("(") || d.is_plain("[") || d.is_cmd("{"));
                    let closes = matches!(c, "right" | "bigr" | "Bigr" | "biggr" | "Biggr")
                        || nodes
                            .get(k + 1)
                            .is_some_and(|d| d.is_plain(")") || d.is_plain("]") || d.is_cmd("}"));
                    if opens && c != "right" {
                        depth += 1;
                    } else if closes {
                        if depth == 0 {
                            return k;
                        }
                        depth -= 1;
                    }
                    k += 2;
                    continue;
                }
                if matches!(c, "|" | "Vert" | "lVert" | "rVert") {
                    norms = !norms;
                }
                if matches!(c, "lfloor" | "lceil") {
                    depth += 1;
                }
                if matches!(c, "rfloor" | "rceil") {
                    if depth == 0 {
                        return k;
                    }
                    depth -= 1;
                }
                if depth == 0
                    && !bars
                    && !norms
                    && (c == "\\" || c == "pm" || c == "quad" || c == "qquad")
                {
                    return k;
                }
            }
            if n.is_plain("(") || n.is_plain("[") {
                depth += 1;
            } else if n.is_plain(")") || n.is_plain("]") {
                if depth == 0 {
                    return k;
                }
                depth -= 1;
            } else if n.is_plain("|") {
                bars = !bars;
            }
            let at_top = depth == 0 && !bars && !norms;
            if at_top
                && k > j
                && (n.is_plain("+")
                    || n.is_plain("-")
                    || n.is_plain("−")
                    || n.is_plain(",")
                    || n.is_plain("&")
                    || is_relation_node(n))
            {
                return k;
            }
            if at_top && k == j && (is_relation_node(n) || n.is_plain(",")) {
                return k;
            }
            k += 1;
        }
        nodes.len()
    }

    /// A run of letters, with the subscript attached to its end.
    fn letters(&mut self, nodes: &[Node], i: usize) -> TResult<usize> {
        let mut k = i;
        let mut run: Vec<(char, Span)> = Vec::new();
        while let Some(Node::Tok(t)) = nodes.get(k) {
            match t.kind {
                LKind::Letter(c) if k == i || !t.space_before => {
                    run.push((c, t.span));
                    k += 1;
                }
                _ => break,
            }
        }
        // `norm2`, `conv2d`: digits that belong to a known name.
        if let Some(Node::Tok(LTok {
            kind: LKind::Num(q),
            space_before: false,
            span,
        })) = nodes.get(k)
        {
            let word: String = run.iter().map(|c| c.0).collect();
            if q.is_integer() && self.known(&format!("{word}{q}")) {
                self.push(Tok::Ident(format!("{word}{q}")), run[0].1.to(*span));
                return Ok(k + 1);
            }
        }
        let sub = if nodes.get(k).is_some_and(|n| n.is_plain("_")) {
            let arg = self.arg(nodes, k + 1, nodes[k].span(), "`_`")?;
            Some(arg)
        } else {
            None
        };
        let Some(sub) = sub else {
            self.run(&run);
            return Ok(k);
        };
        let word: String = run.iter().map(|c| c.0).collect();
        let span = run[0].1.to(run[run.len() - 1].1);
        if run.len() > 1 {
            let sub_word = plain_word(contents(sub));
            let whole_known = sub_word
                .as_ref()
                .is_some_and(|s| self.known(&format!("{word}_{s}")));
            if !whole_known && self.class_of(&word) != Some(NameClass::Function) {
                // `Wx_i`: the subscript belongs to the last letter.
                self.run(&run[..run.len() - 1]);
                let last = run[run.len() - 1];
                self.base(&[last.0.to_string()], last.1, Some(sub))?;
                return Ok(k + 2);
            }
        }
        self.base(&[word], span, Some(sub))?;
        Ok(k + 2)
    }

    /// Letters without a subscript: one known name, or split into known
    /// names (`WW` is `W W`), or left whole for the parser to report.
    fn run(&mut self, run: &[(char, Span)]) {
        if run.is_empty() {
            return;
        }
        let word: String = run.iter().map(|c| c.0).collect();
        let whole = run[0].1.to(run[run.len() - 1].1);
        if self.known(&word) {
            self.push(Tok::Ident(word), whole);
            return;
        }
        // best[i]: the fewest known names that spell run[..i] (a long run
        // is left whole: the search is quadratic in its length).
        let n = run.len();
        if n > 64 {
            self.push(Tok::Ident(word), whole);
            return;
        }
        let mut best: Vec<Option<Vec<(usize, usize)>>> = vec![None; n + 1];
        best[0] = Some(Vec::new());
        for a in 0..n {
            let Some(prefix) = best[a].clone() else {
                continue;
            };
            for b in a + 1..=n {
                let piece: String = run[a..b].iter().map(|c| c.0).collect();
                if self.known(&piece) {
                    let mut parts = prefix.clone();
                    parts.push((a, b));
                    if best[b].as_ref().is_none_or(|p| p.len() > parts.len()) {
                        best[b] = Some(parts);
                    }
                }
            }
        }
        match best[n].take() {
            Some(parts) => {
                for (a, b) in parts {
                    let piece: String = run[a..b].iter().map(|c| c.0).collect();
                    self.push(Tok::Ident(piece), run[a].1.to(run[b - 1].1));
                }
            }
            None => self.push(Tok::Ident(word), whole),
        }
    }

    /// A name (spelled one of `candidates`) with an optional subscript:
    /// `d_{out}` is the name `d_out`; `w_{ji}` is `w(j, i)` when `w` is a
    /// family, an array or a defined function.
    fn base(&mut self, candidates: &[String], span: Span, sub: Option<&Node>) -> TResult<()> {
        let Some(sub) = sub else {
            let name = candidates
                .iter()
                .find(|c| self.known(c))
                .unwrap_or(&candidates[0])
                .clone();
            self.push(Tok::Ident(name), span);
            return Ok(());
        };
        let full = span.to(sub.span());
        let items = contents(sub);
        let word = plain_word(items);
        if let Some(w) = &word {
            for c in candidates {
                let name = format!("{c}_{w}");
                if self.known(&name) {
                    self.push(Tok::Ident(name), full);
                    return Ok(());
                }
            }
        }
        if let Some(c) = candidates
            .iter()
            .find(|c| self.class_of(c) == Some(NameClass::Function) && !is_builtin(c))
        {
            self.push(Tok::Ident(c.clone()), span);
            self.push(Tok::LParen, sub.span());
            self.subscript_args(items, sub.span())?;
            self.push(Tok::RParen, sub.span());
            return Ok(());
        }
        match word {
            Some(w) => {
                self.push(Tok::Ident(format!("{}_{w}", candidates[0])), full);
                Ok(())
            }
            None => err(
                format!(
                    "a subscript such as this one needs `{}` declared as a family or an array (`random family(...)`, `array(r, c)`) or defined with parameters",
                    candidates[0]
                ),
                full,
            ),
        }
    }

    /// The arguments a subscript stands for: `ji` is `j, i`; `j,i` and
    /// `i+1` are read as written.
    fn subscript_args(&mut self, items: &[Node], span: Span) -> TResult<()> {
        let has_comma = items.iter().any(|n| n.is_plain(","));
        if has_comma {
            return self.seq(items);
        }
        // `ji` is `j, i`; `q1` is `q, 1`: letters and numbers, one index each.
        let simple = items.len() > 1
            && items.iter().all(|n| {
                matches!(n.tok().map(|t| &t.kind), Some(LKind::Letter(_)))
                    || matches!(n.tok().map(|t| &t.kind), Some(LKind::Num(q)) if q.is_integer())
            });
        if !simple {
            return self.seq(items);
        }
        if let Some(word) = plain_word(items).filter(|w| self.known(w)) {
            self.push(Tok::Ident(word), span);
            return Ok(());
        }
        for (k, n) in items.iter().enumerate() {
            if k > 0 {
                self.push(Tok::Comma, n.span());
            }
            match n.tok().map(|t| &t.kind) {
                Some(LKind::Letter(c)) => self.push(Tok::Ident(c.to_string()), n.span()),
                Some(LKind::Num(q)) => self.push(Tok::Num(q.clone()), n.span()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The argument of `\text{…}` or `\mathrm{…}` as one word.
    fn word_arg(nodes: &[Node], j: usize) -> Option<String> {
        let items = contents(nodes.get(j)?);
        let mut s = String::new();
        for n in items {
            match n.tok().map(|t| &t.kind) {
                Some(LKind::Letter(c)) => s.push(*c),
                Some(LKind::Num(q)) if q.is_integer() => s.push_str(&q.to_string()),
                Some(LKind::Plain(p)) if p == "_" => s.push('_'),
                _ => return None,
            }
        }
        Some(s)
    }

    fn command(&mut self, c: &str, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        if IGNORED.contains(&c) {
            return Ok(i + 1);
        }
        if let Some((_, tok)) = RELATIONS.iter().find(|(r, _)| *r == c) {
            self.push(tok.clone(), span);
            return Ok(i + 1);
        }
        if let Some((_, message)) = UNSUPPORTED.iter().find(|(u, _)| *u == c) {
            if c == "mathbb" {
                return self.blackboard(span, nodes, i);
            }
            return err(*message, span);
        }
        if SIZERS.contains(&c) {
            return self.delimiter(c, span, nodes, i);
        }
        if let Some((_, f)) = FUNCTIONS.iter().find(|(n, _)| *n == c) {
            return self.function(f, span, nodes, i + 1);
        }
        if let Some((g, u)) = GREEK.iter().find(|(n, _)| *n == c) {
            return self.greek(g, u, span, nodes, i);
        }
        if FONTS.contains(&c) {
            let arg = self.arg(nodes, i + 1, span, &format!("`\\{c}`"))?;
            let items = contents(arg);
            // `\mathbf{x}_i`: the subscript after the group belongs to the name.
            if let Some(word) = plain_word(items).filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
            {
                return self.named(&[word], span.to(arg.span()), nodes, i + 2);
            }
            if let [n] = items {
                if let Some((g, u)) = n
                    .cmd()
                    .and_then(|g| GREEK.iter().find(|(name, _)| *name == g))
                {
                    return self.named(
                        &[g.to_string(), u.to_string()],
                        span.to(arg.span()),
                        nodes,
                        i + 2,
                    );
                }
            }
            self.paren_seq(items, arg.span())?;
            return Ok(i + 2);
        }
        if let Some((_, accent)) = ACCENTS.iter().find(|(a, _)| *a == c) {
            let arg = self.arg(nodes, i + 1, span, &format!("`\\{c}`"))?;
            let inner = match contents(arg) {
                [n] if n.cmd().is_some() => n
                    .cmd()
                    .and_then(|g| GREEK.iter().find(|(name, _)| *name == g))
                    .map(|(g, _)| g.to_string()),
                items => plain_word(items),
            };
            let Some(inner) = inner else {
                return err(
                    format!("`\\{c}` is read on a name only (`\\{c}{{y}}` is `y_{accent}`)"),
                    span,
                );
            };
            let candidates = [
                format!("{inner}_{accent}"),
                format!("{accent}_{inner}"),
                format!("{inner}{accent}"),
            ];
            return self.named(&candidates, span.to(arg.span()), nodes, i + 2);
        }
        if WORDS.contains(&c) {
            let Some(arg) = nodes.get(i + 1) else {
                return err(format!("`\\{c}` needs an argument"), span);
            };
            let word = Self::word_arg(nodes, i + 1);
            let full = span.to(arg.span());
            let is_text = c.starts_with("text") || c == "mbox";
            match word {
                Some(w) if w.is_empty() => return Ok(i + 2),
                Some(w) if is_text && w == "and" => {
                    self.push(Tok::Ident("and".into()), full);
                    return Ok(i + 2);
                }
                Some(w) => {
                    if let Some((_, f)) = FUNCTIONS.iter().find(|(n, _)| *n == w) {
                        if !self.known(&w) || *f == w {
                            return self.function(f, full, nodes, i + 2);
                        }
                    }
                    if w == "d" {
                        return err("a differential `d` belongs after an integral `\\int … \\,dx` or in a derivative `\\frac{d f}{d x}`", full);
                    }
                    if self.known(&w) || !is_text {
                        return self.named(&[w], full, nodes, i + 2);
                    }
                    // Prose inside `\text{…}` is ignored.
                    return Ok(i + 2);
                }
                None if is_text => {
                    // Prose with spaces: `\text{for all } i`.
                    let raw = arg.span();
                    let inner = self
                        .text
                        .get(raw.start + 1..raw.end.saturating_sub(1))
                        .unwrap_or("");
                    if inner.trim() == "and" {
                        self.push(Tok::Ident("and".into()), full);
                    }
                    return Ok(i + 2);
                }
                None => {
                    self.paren_seq(contents(arg), arg.span())?;
                    return Ok(i + 2);
                }
            }
        }
        match c {
            "frac" | "dfrac" | "tfrac" | "cfrac" => self.fraction(span, nodes, i),
            "sqrt" => self.root(span, nodes, i),
            "sum" | "prod" => self.big_operator(c, span, nodes, i),
            "nabla" => self.nabla(span, nodes, i),
            "int" => self.integral(span, nodes, i),
            "cdot" | "times" | "ast" | "cdotp" => {
                self.push(Tok::Star, span);
                Ok(i + 1)
            }
            "div" => {
                self.push(Tok::Slash, span);
                Ok(i + 1)
            }
            "infty" => {
                self.push(Tok::Ident("inf".into()), span);
                Ok(i + 1)
            }
            "ell" => self.named(&["ell".into(), "ℓ".into(), "l".into()], span, nodes, i + 1),
            "|" | "Vert" | "lVert" | "rVert" => {
                self.double_bar(span);
                Ok(i + 1)
            }
            "vert" | "lvert" | "rvert" | "mid" => {
                self.push(Tok::Bar, span);
                Ok(i + 1)
            }
            "lfloor" => {
                self.push(Tok::LFloor, span);
                Ok(i + 1)
            }
            "rfloor" => {
                self.push(Tok::RFloor, span);
                Ok(i + 1)
            }
            "lceil" => {
                self.push(Tok::LCeil, span);
                Ok(i + 1)
            }
            "rceil" => {
                self.push(Tok::RCeil, span);
                Ok(i + 1)
            }
            "{" => {
                self.push(Tok::LParen, span);
                Ok(i + 1)
            }
            "}" => {
                self.push(Tok::RParen, span);
                Ok(i + 1)
            }
            "prime" => {
                self.push(Tok::Prime, span);
                Ok(i + 1)
            }
            "top" | "intercal" => err(
                "`\\top` marks a transpose as a superscript: `W^\\top`",
                span,
            ),
            "partial" => err(
                "`\\partial` is read inside a derivative: `\\frac{\\partial f}{\\partial x}`",
                span,
            ),
            "label" | "tag" => Ok((i + 2).min(nodes.len())),
            "begin" | "end" => self.environment(c, span, nodes, i),
            _ => err(format!("unknown LaTeX command `\\{c}`"), span),
        }
    }

    /// A name written by a command (Greek, fonts, accents), then its subscript.
    fn named(
        &mut self,
        candidates: &[String],
        span: Span,
        nodes: &[Node],
        next: usize,
    ) -> TResult<usize> {
        if nodes.get(next).is_some_and(|n| n.is_plain("_")) {
            let arg = self.arg(nodes, next + 1, nodes[next].span(), "`_`")?;
            self.base(candidates, span, Some(arg))?;
            return Ok(next + 2);
        }
        self.base(candidates, span, None)?;
        Ok(next)
    }

    fn greek(&mut self, g: &str, u: &str, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let candidates = [g.to_string(), u.to_string()];
        // `\sigma(z)` with no σ declared is the logistic function.
        if g == "sigma"
            && !self.known("sigma")
            && !self.known("σ")
            && nodes
                .get(i + 1)
                .is_some_and(|n| n.is_plain("(") || n.is_cmd("left"))
        {
            self.push(Tok::Ident("sigmoid".into()), span);
            return Ok(i + 1);
        }
        // `\Delta W` is the name `ΔW` when that is declared.
        let mut k = i + 1;
        let mut word = String::new();
        while let Some(LTok {
            kind: LKind::Letter(c),
            space_before,
            ..
        }) = nodes.get(k).and_then(Node::tok)
        {
            if k > i + 1 && *space_before {
                break;
            }
            word.push(*c);
            k += 1;
        }
        if !word.is_empty() {
            for base in [u, g] {
                let merged = format!("{base}{word}");
                if self.known(&merged) {
                    let full = span.to(nodes[k - 1].span());
                    return self.named(&[merged], full, nodes, k);
                }
            }
        }
        self.named(&candidates, span, nodes, i + 1)
    }

    /// `\mathbb{E}` (an expectation; its subscript is ignored) or `\mathbb{V}`.
    fn blackboard(&mut self, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let word = Self::word_arg(nodes, i + 1);
        let full = span.to(nodes.get(i + 1).map_or(span, Node::span));
        match word.as_deref() {
            Some("E") => self.function("E", full, nodes, i + 2),
            Some("V") => self.function("Var", full, nodes, i + 2),
            Some("R" | "N" | "Z") => err(
                "a set such as `\\mathbb{R}` is not an expression: declare the kind in [symbols]",
                full,
            ),
            _ => err(
                "`\\mathbb` is read only as `\\mathbb{E}` (an expectation)",
                full,
            ),
        }
    }

    /// A function name and its argument: `\log(x)`, `\log x`, `\log_2 x`,
    /// `\mathrm{Var}[X]`, `\mathbb{E}[X]`.
    fn function(&mut self, f: &str, span: Span, nodes: &[Node], mut j: usize) -> TResult<usize> {
        let mut base: Option<&Node> = None;
        if nodes.get(j).is_some_and(|n| n.is_plain("_")) {
            let arg = self.arg(nodes, j + 1, span, "`_`")?;
            if f == "log" {
                base = Some(arg);
            } else if f != "E" && f != "Var" && f != "Cov" {
                return err(
                    format!("a subscript on `{f}` is not understood"),
                    span.to(arg.span()),
                );
            }
            // `\mathbb{E}_{x}[…]`: the subscript names the distribution; ignored.
            j += 2;
        }
        if nodes.get(j).is_some_and(|n| n.is_plain("^")) {
            return err(
                format!("write the power after the argument: `({f}(x))^2`, not `{f}^2 x`"),
                span,
            );
        }
        let log_base = |t: &mut Self, close: Span| -> TResult<()> {
            if let Some(b) = base {
                t.push(Tok::Slash, close);
                t.push(Tok::Ident("log".into()), b.span());
                t.paren_seq(contents(b), b.span())?;
                t.push(Tok::RParen, close);
            }
            Ok(())
        };
        if base.is_some() {
            self.push(Tok::LParen, span);
        }
        let next = nodes.get(j);
        if f == "E" {
            // The parser reads `E[…]`; `E(…)` is kept for the parser to refuse.
            self.push(Tok::Ident("E".into()), span);
            return Ok(j);
        }
        let result = if next.is_some_and(|n| {
            n.is_plain("(") || n.is_cmd("left") || SIZERS.contains(&n.cmd().unwrap_or(""))
        }) {
            self.push(Tok::Ident(f.into()), span);
            // The call's parentheses are translated as they come; a log base
            // needs the argument's extent.
            if base.is_some() {
                let end = self.term_end(nodes, j).max(j + 1);
                self.seq(&nodes[j..end])?;
                log_base(self, span)?;
                return Ok(end);
            }
            Ok(j)
        } else if next.is_some_and(|n| n.is_plain("[")) {
            let close = close_bracket(nodes, j).ok_or_else(|| ParseError {
                message: "this `[` is never closed".into(),
                span: nodes[j].span(),
            })?;
            self.push(Tok::Ident(f.into()), span);
            self.push(Tok::LParen, nodes[j].span());
            self.seq(&nodes[j + 1..close])?;
            self.push(Tok::RParen, nodes[close].span());
            Ok(close + 1)
        } else if next.is_some() {
            let end = self.atom_end(nodes, j)?;
            self.push(Tok::Ident(f.into()), span);
            self.paren_seq(&nodes[j..end], span_of(&nodes[j..end], span))?;
            Ok(end)
        } else {
            self.push(Tok::Ident(f.into()), span);
            Ok(j)
        };
        let end = result?;
        log_base(self, span)?;
        Ok(end)
    }

    /// `\left(`, `\right)`, `\bigl[` …: the delimiter itself.
    fn delimiter(&mut self, c: &str, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let Some(d) = nodes.get(i + 1) else {
            return err(format!("`\\{c}` needs a delimiter"), span);
        };
        let full = span.to(d.span());
        let opening = match c {
            "left" | "bigl" | "Bigl" | "biggl" | "Biggl" => true,
            "right" | "bigr" | "Bigr" | "biggr" | "Biggr" | "middle" => false,
            _ => {
                d.is_plain("(")
                    || d.is_plain("[")
                    || d.is_cmd("{")
                    || d.is_cmd("lfloor")
                    || d.is_cmd("lceil")
            }
        };
        let tok = match (d.tok().map(|t| &t.kind), d.cmd()) {
            (Some(LKind::Plain(p)), _) => match p.as_str() {
                "(" | "[" if opening => {
                    let after_e = matches!(self.out.last(), Some((Tok::Ident(e), _)) if e == "E");
                    if p == "[" && after_e {
                        Some(Tok::LBrack)
                    } else {
                        Some(Tok::LParen)
                    }
                }
                ")" | "]" if !opening => match self.lefts.last() {
                    Some(Some(Tok::LBrack)) => Some(Tok::RBrack),
                    _ => Some(Tok::RParen),
                },
                "|" => Some(Tok::Bar),
                "." => None,
                _ => return err(format!("unexpected delimiter after `\\{c}`"), full),
            },
            (_, Some("{")) => Some(Tok::LParen),
            (_, Some("}")) => Some(Tok::RParen),
            (_, Some("|" | "Vert" | "lVert" | "rVert")) => {
                self.double_bar(full);
                if opening {
                    self.lefts.push(None)
                } else {
                    self.lefts.pop();
                }
                return Ok(i + 2);
            }
            (_, Some("vert" | "lvert" | "rvert")) => Some(Tok::Bar),
            (_, Some("lfloor")) => Some(Tok::LFloor),
            (_, Some("rfloor")) => Some(Tok::RFloor),
            (_, Some("lceil")) => Some(Tok::LCeil),
            (_, Some("rceil")) => Some(Tok::RCeil),
            (_, Some("langle" | "rangle")) => {
                return err(
                    "inner products `\\langle a, b \\rangle` are not supported: write `a^\\top b`",
                    full,
                )
            }
            _ => return err(format!("unknown delimiter after `\\{c}`"), full),
        };
        if opening {
            self.lefts.push(tok.clone());
        } else if c != "middle" {
            self.lefts.pop();
        }
        if let Some(tok) = tok {
            self.push(tok, full);
        }
        Ok(i + 2)
    }

    /// `\frac{a}{b}`, and derivatives `\frac{\partial f}{\partial x}`, `\frac{d}{dx} f`.
    fn fraction(&mut self, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let num = self.arg(nodes, i + 1, span, "`\\frac`")?;
        let den = self.arg(nodes, i + 2, span, "`\\frac`")?;
        let full = span.to(den.span());
        if let Some((f, vars)) = derivative(contents(num), contents(den)) {
            let (body, next): (&[Node], usize) = if f.is_empty() {
                let end = self.term_end(nodes, i + 3);
                if end == i + 3 {
                    return err(
                        "a derivative operator needs what it differentiates after it",
                        full,
                    );
                }
                (&nodes[i + 3..end], end)
            } else {
                (f, i + 3)
            };
            for _ in &vars {
                self.push(Tok::Ident("diff".into()), span);
                self.push(Tok::LParen, span);
            }
            self.seq(body)?;
            for v in &vars {
                self.push(Tok::Comma, full);
                self.seq(v)?;
                self.push(Tok::RParen, full);
            }
            return Ok(next);
        }
        self.push(Tok::LParen, span);
        self.paren_seq(contents(num), num.span())?;
        self.push(Tok::Slash, span);
        self.paren_seq(contents(den), den.span())?;
        self.push(Tok::RParen, full);
        Ok(i + 3)
    }

    /// `\sqrt{x}`, `\sqrt[n]{x}` (read as `x^(1/n)`).
    fn root(&mut self, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        if nodes.get(i + 1).is_some_and(|n| n.is_plain("[")) {
            let close = close_bracket(nodes, i + 1).ok_or_else(|| ParseError {
                message: "the `[` of `\\sqrt[n]` is never closed".into(),
                span: nodes[i + 1].span(),
            })?;
            let arg = self.arg(nodes, close + 1, span, "`\\sqrt`")?;
            let full = span.to(arg.span());
            self.push(Tok::LParen, span);
            self.paren_seq(contents(arg), arg.span())?;
            self.push(Tok::Caret, span);
            self.push(Tok::LParen, span);
            self.push(
                Tok::Num(num_rational::BigRational::from_integer(1.into())),
                span,
            );
            self.push(Tok::Slash, span);
            self.paren_seq(&nodes[i + 2..close], nodes[i + 1].span())?;
            self.push(Tok::RParen, span);
            self.push(Tok::RParen, full);
            return Ok(close + 2);
        }
        let arg = self.arg(nodes, i + 1, span, "`\\sqrt`")?;
        self.push(Tok::Ident("sqrt".into()), span);
        self.paren_seq(contents(arg), arg.span())?;
        Ok(i + 2)
    }

    /// The `_` and `^` arguments after a big operator, in either order.
    fn limits<'n>(
        &self,
        nodes: &'n [Node],
        mut j: usize,
    ) -> (Option<&'n Node>, Option<&'n Node>, usize) {
        let (mut lower, mut upper) = (None, None);
        loop {
            if nodes
                .get(j)
                .is_some_and(|n| n.is_cmd("limits") || n.is_cmd("nolimits"))
            {
                j += 1;
                continue;
            }
            match nodes.get(j) {
                Some(n) if n.is_plain("_") && lower.is_none() && j + 1 < nodes.len() => {
                    lower = nodes.get(j + 1);
                    j += 2;
                }
                Some(n) if n.is_plain("^") && upper.is_none() && j + 1 < nodes.len() => {
                    upper = nodes.get(j + 1);
                    j += 2;
                }
                _ => return (lower, upper, j),
            }
        }
    }

    /// `\sum_{i=1}^{n} body` → `sum(i, 1, n, body)`; `\prod` likewise.
    fn big_operator(&mut self, c: &str, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let (lower, upper, j) = self.limits(nodes, i + 1);
        let (Some(lower), Some(upper)) = (lower, upper) else {
            return err(
                format!(
                    "write the range of the {}: `\\{c}_{{i=1}}^{{n}}`",
                    if c == "sum" { "sum" } else { "product" }
                ),
                span,
            );
        };
        let low = contents(lower);
        let Some(eq) = low.iter().position(|n| n.is_plain("=")) else {
            return err(
                format!("write the index and its first value: `\\{c}_{{i=1}}^{{n}}`"),
                lower.span(),
            );
        };
        let index = match &low[..eq] {
            [n] => match (n.tok().map(|t| &t.kind), n.cmd()) {
                (Some(LKind::Letter(ch)), _) => ch.to_string(),
                (_, Some(g)) => match GREEK.iter().find(|(name, _)| *name == g) {
                    Some((_, u)) => u.to_string(),
                    None => return err("the index of a sum is a name", n.span()),
                },
                _ => return err("the index of a sum is a name", n.span()),
            },
            [first, ..] if plain_word(&low[..eq]).is_some() => {
                let w = plain_word(&low[..eq]).expect("a word");
                if w.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    return err("the index of a sum is a name", first.span());
                }
                w
            }
            _ => return err("the index of a sum is a name", lower.span()),
        };
        let end = self.term_end(nodes, j);
        self.push(Tok::Ident(c.into()), span);
        self.push(Tok::LParen, span);
        self.push(Tok::Ident(index.clone()), span_of(&low[..eq], lower.span()));
        self.push(Tok::Comma, lower.span());
        self.paren_seq(&low[eq + 1..], lower.span())?;
        self.push(Tok::Comma, upper.span());
        self.paren_seq(contents(upper), upper.span())?;
        self.push(Tok::Comma, upper.span());
        self.bound.push(index);
        let body = self.seq(&nodes[j..end]);
        self.bound.pop();
        body?;
        self.push(Tok::RParen, span_of(&nodes[j..end], span));
        Ok(end)
    }

    /// `\nabla_x f` → `grad(f, x)`; `\nabla^2_x f` → `hessian(f, x)`.
    fn nabla(&mut self, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let (lower, upper, j) = self.limits(nodes, i + 1);
        let Some(lower) = lower else {
            return err("write the variable of the gradient: `\\nabla_x f`", span);
        };
        let op = match upper.map(contents) {
            None => "grad",
            Some(items) if small_integer(items) == Some(2) => "hessian",
            Some(_) => return err("only `\\nabla_x` and `\\nabla^2_x` are read", span),
        };
        let end = self.term_end(nodes, j);
        if end == j {
            return err(
                "a gradient needs what it differentiates after it",
                span.to(lower.span()),
            );
        }
        self.push(Tok::Ident(op.into()), span);
        self.push(Tok::LParen, span);
        self.seq(&nodes[j..end])?;
        self.push(Tok::Comma, lower.span());
        self.seq(contents(lower))?;
        self.push(Tok::RParen, span_of(&nodes[j..end], span));
        Ok(end)
    }

    /// `\int_a^b f \,dx` → `integral(f, x, a, b)`; `\int f \,dx` → `integral(f, x)`.
    fn integral(&mut self, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let (lower, upper, j) = self.limits(nodes, i + 1);
        let mut k = j + 1;
        let mut depth = 0usize;
        let found = loop {
            let Some(n) = nodes.get(k) else { break None };
            if n.is_plain("(") || n.is_plain("[") || n.is_cmd("left") {
                depth += 1;
            } else if n.is_plain(")") || n.is_plain("]") || n.is_cmd("right") {
                depth = depth.saturating_sub(1);
            }
            let is_d = matches!(n.tok().map(|t| &t.kind), Some(LKind::Letter('d')))
                || (n
                    .cmd()
                    .is_some_and(|c| c == "mathrm" || c == "text" || c == "operatorname")
                    && Self::word_arg(nodes, k + 1).as_deref() == Some("d"));
            if depth == 0 && is_d {
                let var_at = if n.cmd().is_some() { k + 2 } else { k + 1 };
                let var =
                    nodes
                        .get(var_at)
                        .and_then(|v| match (v.tok().map(|t| &t.kind), v.cmd()) {
                            (Some(LKind::Letter(c)), _) => Some(c.to_string()),
                            (_, Some(g)) => {
                                GREEK.iter().find(|(name, _)| *name == g).map(|(g, u)| {
                                    if self.known(g) {
                                        g.to_string()
                                    } else {
                                        u.to_string()
                                    }
                                })
                            }
                            _ => None,
                        });
                if let Some(var) = var {
                    break Some((k, var, nodes[var_at].span(), var_at + 1));
                }
            }
            k += 1;
        };
        let Some((d_at, var, var_span, next)) = found else {
            return err(
                "write the variable of integration at the end: `\\int_0^1 f(x) \\,dx`",
                span,
            );
        };
        self.push(Tok::Ident("integral".into()), span);
        self.push(Tok::LParen, span);
        self.seq(&nodes[j..d_at])?;
        self.push(Tok::Comma, var_span);
        self.push(Tok::Ident(var), var_span);
        match (lower, upper) {
            (Some(a), Some(b)) => {
                self.push(Tok::Comma, a.span());
                self.paren_seq(contents(a), a.span())?;
                self.push(Tok::Comma, b.span());
                self.paren_seq(contents(b), b.span())?;
            }
            (None, None) => {}
            _ => return err("an integral needs both bounds, or neither", span),
        }
        self.push(Tok::RParen, var_span);
        Ok(next)
    }

    /// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` is a matrix literal;
    /// `aligned`, `align`, `equation`, `split` and `gathered` are layout only.
    fn environment(&mut self, c: &str, span: Span, nodes: &[Node], i: usize) -> TResult<usize> {
        let name = Self::word_arg(nodes, i + 1).unwrap_or_default();
        let name = name.trim_end_matches('*').to_string();
        let layout = [
            "aligned",
            "align",
            "equation",
            "split",
            "gathered",
            "gather",
            "alignat",
            "alignedat",
            "eqnarray",
        ];
        if layout.contains(&name.as_str()) {
            return Ok((i + 2).min(nodes.len()));
        }
        let matrices = ["pmatrix", "bmatrix", "matrix", "Bmatrix", "smallmatrix"];
        if c == "end" || !matrices.contains(&name.as_str()) {
            return err(format!("the environment `{name}` is not read"), span);
        }
        let start = i + 2;
        let Some(end) = (start..nodes.len()).find(|&k| nodes[k].is_cmd("end")) else {
            return err(
                format!("`\\begin{{{name}}}` has no `\\end{{{name}}}`"),
                span,
            );
        };
        let body = &nodes[start..end];
        let rows: Vec<&[Node]> = body
            .split(|n| n.is_cmd("\\"))
            .filter(|r| !r.is_empty())
            .collect();
        let cells: Vec<Vec<&[Node]>> = rows
            .iter()
            .map(|r| r.split(|n| n.is_plain("&")).collect())
            .collect();
        let column = cells.iter().all(|r| r.len() == 1);
        let full = span.to(nodes.get(end + 1).map_or(nodes[end].span(), Node::span));
        self.push(Tok::LBrack, span);
        for (r, row) in cells.iter().enumerate() {
            if r > 0 {
                self.push(Tok::Comma, full);
            }
            if !column {
                self.push(Tok::LBrack, full);
            }
            for (k, cell) in row.iter().enumerate() {
                if k > 0 {
                    self.push(Tok::Comma, full);
                }
                self.seq(cell)?;
            }
            if !column {
                self.push(Tok::RBrack, full);
            }
        }
        self.push(Tok::RBrack, full);
        Ok((end + 2).min(nodes.len()))
    }
}

/// A derivative's parts: `\partial^k f` over `\partial x \partial y` (or
/// `d f` over `d x`). Returns the function (empty for an operator
/// `\frac{\partial}{\partial x}`) and the variables, one per order.
fn derivative<'n>(num: &'n [Node], den: &'n [Node]) -> Option<(&'n [Node], Vec<&'n [Node]>)> {
    let is_d = |n: &Node| matches!(n.tok().map(|t| &t.kind), Some(LKind::Letter('d')));
    let partial = num.first()?.is_cmd("partial");
    if !partial && !num.first().is_some_and(is_d) {
        return None;
    }
    let mut rest = &num[1..];
    let mut order = 1usize;
    if rest.first().is_some_and(|n| n.is_plain("^")) {
        order = small_integer(contents(rest.get(1)?))?;
        rest = &rest[2..];
    }
    // The denominator: `\partial x`, `\partial x^2`, `\partial x \partial y`, `dx`.
    let mut vars: Vec<&[Node]> = Vec::new();
    let mut k = 0;
    while k < den.len() {
        let marker = if partial {
            den[k].is_cmd("partial")
        } else {
            is_d(&den[k])
        };
        if !marker {
            return None;
        }
        k += 1;
        let start = k;
        if partial {
            while k < den.len() && !den[k].is_cmd("partial") && !den[k].is_plain("^") {
                k += 1;
            }
        } else if k < den.len() {
            k += 1;
        }
        if k == start {
            return None;
        }
        let var = &den[start..k];
        let mut times = 1;
        if den.get(k).is_some_and(|n| n.is_plain("^")) {
            times = small_integer(contents(den.get(k + 1)?))?;
            k += 2;
        }
        for _ in 0..times {
            vars.push(var);
        }
    }
    if vars.len() != order || vars.is_empty() {
        return None;
    }
    Some((rest, vars))
}

/// The index of the `]` closing the `[` at `j`, at the same level.
fn close_bracket(nodes: &[Node], j: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, n) in nodes.iter().enumerate().skip(j) {
        if n.is_plain("[") {
            depth += 1;
        } else if n.is_plain("]") {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// An integer literal's value, if the nodes are one small integer.
fn small_integer(nodes: &[Node]) -> Option<usize> {
    match nodes {
        [n] => match n.tok().map(|t| &t.kind) {
            Some(LKind::Num(q)) if q.is_integer() => q.to_integer().to_usize().filter(|k| *k <= 12),
            _ => None,
        },
        _ => None,
    }
}
