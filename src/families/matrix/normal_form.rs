//! The normal form of matrix expressions: a sum of scalar coefficients times
//! words of atoms (matrix symbols, literals and entrywise signs, each maybe
//! transposed). Products concatenate words (they associate, never commute),
//! transposes are pushed inward (`(AB)ᵀ = BᵀAᵀ`, `(Aᵀ)ᵀ = A`), the identity
//! is the empty word, and `given` equations such as `Uᵀ U = I` rewrite
//! words. Scalar functions of matrices become scalar placeholders: `trace`
//! of a word is keyed by its canonical rotation (cyclic, and
//! `trace(Xᵀ) = trace(X)`), split where the word passes through a
//! dimension 1 (`trace(a bᵀ b aᵀ) = (aᵀa)(bᵀb)`); norms of vectors are
//! `sqrt(trace(vᵀ v))`, `norm2(λ X) = |λ| norm2(X)`, and the spectral norm of
//! an outer product is the product of the norms. Coefficients stay scalar
//! expressions, decided later by the scalar normal form: equal coefficients
//! for every word prove an identity for every admissible size.

use super::size::{SizePoly, Sizes};
use super::typed::{TKind, T};
use crate::resolve::{Context, ScalarKind};
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind};
use crate::verdict::Rule;
use std::collections::BTreeMap;

/// The budget [`Budgets::matrix_terms`](crate::config::Budgets::matrix_terms).
pub(crate) const MATRIX_TERMS: usize = crate::config::Budgets::DEFAULT.matrix_terms;
/// The budget [`Budgets::matrix_word`](crate::config::Budgets::matrix_word).
pub(crate) const MATRIX_WORD: usize = crate::config::Budgets::DEFAULT.matrix_word;
/// The budget [`Budgets::matrix_rewrites`](crate::config::Budgets::matrix_rewrites).
pub(crate) const MATRIX_REWRITES: usize = crate::config::Budgets::DEFAULT.matrix_rewrites;

/// A factor of a word: an atom's key and whether it is transposed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Factor {
    /// The atom's key (a symbol's name, `sign(...)`, a literal's text).
    pub(crate) key: String,
    /// Transposed?
    pub(crate) t: bool,
}

/// A product of factors; the empty word is the identity.
pub(crate) type Word = Vec<Factor>;

/// What an atom is, for evaluation at sample points.
#[derive(Clone, Debug)]
pub(crate) enum AtomDef {
    /// A declared matrix.
    Symbol(String),
    /// A matrix literal.
    Literal(Vec<Vec<Expr>>),
    /// The entrywise sign of a matrix expression.
    Sign(MatPoly),
}

/// An atom: its definition and (untransposed) size.
#[derive(Clone, Debug)]
pub(crate) struct Atom {
    /// How to evaluate it.
    pub(crate) def: AtomDef,
    /// Rows.
    pub(crate) rows: SizePoly,
    /// Columns.
    pub(crate) cols: SizePoly,
}

/// A matrix in normal form: Σ coefficient · word, with its size.
#[derive(Clone, Debug)]
pub(crate) struct MatPoly {
    /// Rows.
    pub(crate) rows: SizePoly,
    /// Columns.
    pub(crate) cols: SizePoly,
    /// Word → scalar coefficient (an expression over scalars and placeholders).
    pub(crate) terms: BTreeMap<Word, Expr>,
}

/// What a scalar placeholder stands for.
#[derive(Clone, Debug)]
pub(crate) enum PlaceDef {
    /// `trace` of a word (its canonical rotation).
    Trace(Word),
    /// The spectral norm of a matrix.
    Norm2(MatPoly),
    /// The rank of a matrix.
    Rank(MatPoly),
}

/// A scalar placeholder: a name the scalar engine treats as a symbol.
#[derive(Clone, Debug)]
pub(crate) struct Placeholder {
    /// What it stands for.
    pub(crate) def: PlaceDef,
    /// What is known of its sign.
    pub(crate) kind: ScalarKind,
}

/// Why a normal form could not be built.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum NfError {
    /// Outside the matrix engine, or a budget ran out.
    Unsupported(String),
}

type R<X> = Result<X, NfError>;

fn unsupported<X>(m: impl Into<String>) -> R<X> {
    Err(NfError::Unsupported(m.into()))
}

fn add_e(a: Expr, b: Expr) -> Expr {
    Expr::binary(BinOp::Add, a, b)
}

fn mul_e(a: Expr, b: Expr) -> Expr {
    if crate::syntax::expr::is_one_literal(&a) {
        return b;
    }
    if crate::syntax::expr::is_one_literal(&b) {
        return a;
    }
    Expr::binary(BinOp::Mul, a, b)
}

fn call(op: Builtin, a: Expr) -> Expr {
    Expr::builtin(op, vec![a])
}

/// `|c|`, folded when `c` is a number.
fn abs_of(c: Expr) -> Expr {
    match crate::symbolic::normal::fold_rational(&c) {
        Some(q) => Expr::rational(num_traits::Signed::abs(&q)),
        None => call(Builtin::Abs, c),
    }
}

/// Text of a word: `U Vᵀ`.
pub(crate) fn word_text(w: &Word) -> String {
    if w.is_empty() {
        return "I".into();
    }
    w.iter()
        .map(|f| {
            if f.t {
                format!("{}ᵀ", f.key)
            } else {
                f.key.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The word of the transpose: reversed, each factor transposed.
pub(crate) fn transpose_word(w: &[Factor]) -> Word {
    w.iter()
        .rev()
        .map(|f| Factor {
            key: f.key.clone(),
            t: !f.t,
        })
        .collect()
}

impl MatPoly {
    /// The word and coefficient of a one-term normal form.
    pub(crate) fn single_term(&self) -> Option<(Word, Expr)> {
        if self.terms.len() != 1 {
            return None;
        }
        self.terms
            .iter()
            .next()
            .map(|(w, c)| (w.clone(), c.clone()))
    }

    /// The zero matrix of a size.
    pub(crate) fn zero(rows: SizePoly, cols: SizePoly) -> MatPoly {
        MatPoly {
            rows,
            cols,
            terms: BTreeMap::new(),
        }
    }

    /// A single word with coefficient one.
    pub(crate) fn word(w: Word, rows: SizePoly, cols: SizePoly) -> MatPoly {
        let mut terms = BTreeMap::new();
        terms.insert(w, Expr::int(1));
        MatPoly { rows, cols, terms }
    }

    /// Text for keys and messages: `2 * U Vᵀ + ...`, deterministic.
    pub(crate) fn text(&self) -> String {
        if self.terms.is_empty() {
            return "0".into();
        }
        self.terms
            .iter()
            .map(|(w, c)| {
                if crate::syntax::expr::is_one_literal(c) {
                    word_text(w)
                } else {
                    format!("({c}) {}", word_text(w))
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn add_term(&mut self, w: Word, c: Expr) {
        match self.terms.remove(&w) {
            Some(old) => {
                self.terms.insert(w, add_e(old, c));
            }
            None => {
                self.terms.insert(w, c);
            }
        }
    }

    /// `self + o` (`sign` -1 for a difference).
    pub(crate) fn plus(&self, o: &MatPoly, negate: bool) -> MatPoly {
        let mut out = self.clone();
        for (w, c) in &o.terms {
            let c = if negate {
                Expr::new(ExprKind::Neg(Box::new(c.clone())), c.span)
            } else {
                c.clone()
            };
            out.add_term(w.clone(), c);
        }
        out
    }

    /// Every coefficient times `s`.
    pub(crate) fn scaled(&self, s: &Expr) -> MatPoly {
        let mut out = self.clone();
        for c in out.terms.values_mut() {
            *c = mul_e(s.clone(), c.clone());
        }
        out
    }

    /// The transpose.
    pub(crate) fn transposed(&self) -> MatPoly {
        MatPoly {
            rows: self.cols.clone(),
            cols: self.rows.clone(),
            terms: self
                .terms
                .iter()
                .map(|(w, c)| (transpose_word(w), c.clone()))
                .collect(),
        }
    }
}

/// Builds normal forms for one step, sharing atoms, rules and placeholders.
pub(crate) struct Normalizer<'a> {
    ctx: &'a Context,
    sizes: &'a Sizes,
    /// Scalar `given` substitutions.
    subs: &'a BTreeMap<String, Expr>,
    /// The atoms met so far.
    pub(crate) atoms: BTreeMap<String, Atom>,
    /// Rewrite rules from `given` equations: word → replacement.
    pub(crate) rules: Vec<(Word, MatPoly)>,
    /// The placeholders met so far, by name.
    pub(crate) placeholders: BTreeMap<String, Placeholder>,
    /// Placeholders fixed by `given` hypotheses.
    pub(crate) place_subs: BTreeMap<String, Expr>,
    /// Rules used, for the report.
    pub(crate) used: Vec<Rule>,
    /// The declared name of the cost constant, if any.
    pub(crate) cost_constant: Option<String>,
}

impl<'a> Normalizer<'a> {
    /// A normalizer for one step.
    pub(crate) fn new(
        ctx: &'a Context,
        sizes: &'a Sizes,
        subs: &'a BTreeMap<String, Expr>,
    ) -> Self {
        Normalizer {
            ctx,
            sizes,
            subs,
            atoms: BTreeMap::new(),
            rules: Vec::new(),
            placeholders: BTreeMap::new(),
            place_subs: BTreeMap::new(),
            used: Vec::new(),
            cost_constant: ctx
                .symbols
                .get("c")
                .filter(|s| matches!(s.kind, crate::resolve::Kind::Scalar(_)))
                .map(|_| "c".to_string()),
        }
    }

    fn note(&mut self, rule: Rule) {
        if !self.used.contains(&rule) {
            self.used.push(rule);
        }
    }

    fn dims(&self, t: &T) -> R<(SizePoly, SizePoly)> {
        let Some(s) = &t.shape else {
            return unsupported("a scalar where a matrix was expected");
        };
        match (self.sizes.known(&s.rows), self.sizes.known(&s.cols)) {
            (Some(r), Some(c)) => Ok((r, c)),
            _ => unsupported(
                "the size of an identity `I` is not determined by its context; write it next to a matrix",
            ),
        }
    }

    /// The size of a word's factor (transposed as written).
    fn factor_dims(&self, f: &Factor) -> (SizePoly, SizePoly) {
        match self.atoms.get(&f.key) {
            Some(a) if f.t => (a.cols.clone(), a.rows.clone()),
            Some(a) => (a.rows.clone(), a.cols.clone()),
            None => (SizePoly::default(), SizePoly::default()),
        }
    }

    /// The sizes between factors: `dims[i]` is the number of columns of factor `i`.
    fn inner_dims(&self, w: &Word) -> Vec<SizePoly> {
        w.iter().map(|f| self.factor_dims(f).1).collect()
    }

    fn atom(&mut self, key: String, def: AtomDef, rows: SizePoly, cols: SizePoly) -> MatPoly {
        self.atoms.entry(key.clone()).or_insert(Atom {
            def,
            rows: rows.clone(),
            cols: cols.clone(),
        });
        MatPoly::word(vec![Factor { key, t: false }], rows, cols)
    }

    /// The normal form of a matrix-valued node.
    pub(crate) fn mat(&mut self, t: &T) -> R<MatPoly> {
        let (rows, cols) = self.dims(t)?;
        let out = match &t.kind {
            TKind::Symbol(n) => self.atom(
                n.clone(),
                AtomDef::Symbol(n.clone()),
                rows.clone(),
                cols.clone(),
            ),
            TKind::Identity => MatPoly::word(Vec::new(), rows.clone(), cols.clone()),
            TKind::Literal(entries) => {
                let key = Expr::new(ExprKind::Matrix(entries.clone()), t.span).to_string();
                self.atom(
                    key,
                    AtomDef::Literal(entries.clone()),
                    rows.clone(),
                    cols.clone(),
                )
            }
            TKind::Defined(_, body) => self.mat(body)?,
            TKind::Neg(a) => MatPoly::zero(rows.clone(), cols.clone()).plus(&self.mat(a)?, true),
            TKind::Add(a, b) => self.mat(a)?.plus(&self.mat(b)?, false),
            TKind::Sub(a, b) => self.mat(a)?.plus(&self.mat(b)?, true),
            TKind::Mul(a, b) => match (&a.shape, &b.shape) {
                (None, Some(_)) => {
                    let s = self.scalar(a)?;
                    self.mat(b)?.scaled(&s)
                }
                (Some(_), None) => {
                    let s = self.scalar(b)?;
                    self.mat(a)?.scaled(&s)
                }
                _ => {
                    let x = self.mat(a)?;
                    let y = self.mat(b)?;
                    self.product(&x, &y)?
                }
            },
            TKind::Div(a, b) => {
                let s = self.scalar(b)?;
                let inv = Expr::binary(BinOp::Div, Expr::int(1), s);
                self.mat(a)?.scaled(&inv)
            }
            TKind::Pow(a, k) => {
                let k = match &k.kind {
                    TKind::Scalar(k) => crate::symbolic::normal::fold_rational(k),
                    _ => None,
                };
                let Some(k) = k.and_then(|k| crate::symbolic::polynomial::small_exponent(&k))
                else {
                    return unsupported("a matrix power needs a literal exponent");
                };
                let base = self.mat(a)?;
                let mut acc = MatPoly::word(Vec::new(), rows.clone(), cols.clone());
                for _ in 0..k {
                    acc = self.product(&acc, &base)?;
                }
                acc
            }
            TKind::Transpose(a) => self.mat(a)?.transposed(),
            TKind::Call(Builtin::Sign, args) if args.len() == 1 => {
                let inner = self.mat(&args[0])?;
                self.sign(&inner)?
            }
            _ => return unsupported("this matrix expression has no normal form"),
        };
        if out.terms.len() > MATRIX_TERMS {
            return unsupported(format!(
                "the normal form has more than {MATRIX_TERMS} terms"
            ));
        }
        Ok(MatPoly { rows, cols, ..out })
    }

    /// The product of two normal forms, with the `given` rules applied.
    pub(crate) fn product(&mut self, x: &MatPoly, y: &MatPoly) -> R<MatPoly> {
        if x.terms.len().saturating_mul(y.terms.len()) > MATRIX_TERMS {
            return unsupported(format!("the product has more than {MATRIX_TERMS} terms"));
        }
        let mut out = MatPoly::zero(x.rows.clone(), y.cols.clone());
        for (w1, c1) in &x.terms {
            for (w2, c2) in &y.terms {
                let mut w = w1.clone();
                w.extend(w2.iter().cloned());
                if w.len() > MATRIX_WORD {
                    return unsupported(format!("a word longer than {MATRIX_WORD} factors"));
                }
                let c = mul_e(c1.clone(), c2.clone());
                let rewritten = self.rewrite(w, x.rows.clone(), y.cols.clone())?;
                for (w, c3) in rewritten.terms {
                    let (s, w) = self.extract_scalars(w, &x.rows);
                    out.add_term(w, mul_e(mul_e(c.clone(), c3), s));
                }
            }
        }
        Ok(out)
    }

    /// Pulls out every 1 × 1 piece of a word (between two dimensions of
    /// size 1) as a scalar factor: `x (xᵀ x) = (xᵀ x) x`. A word that is
    /// 1 × 1 as a whole becomes the 1 × 1 identity times its scalar.
    fn extract_scalars(&mut self, w: Word, rows: &SizePoly) -> (Expr, Word) {
        let mut dims = vec![rows.clone()];
        dims.extend(self.inner_dims(&w));
        let ones: Vec<usize> = (0..dims.len()).filter(|&i| dims[i].is_one()).collect();
        if ones.len() < 2 {
            return (Expr::int(1), w);
        }
        let (first, last) = (ones[0], ones[ones.len() - 1]);
        let mut scalar = Expr::int(1);
        for pair in ones.windows(2) {
            let piece = w[pair[0]..pair[1]].to_vec();
            let t = self.trace_word(&piece, &SizePoly::one());
            scalar = mul_e(scalar, t);
        }
        self.note(Rule::OneByOneScalar);
        let mut rest = w[..first].to_vec();
        rest.extend(w[last..].iter().cloned());
        (scalar, rest)
    }

    /// Applies the rewrite rules to one word until none applies.
    fn rewrite(&mut self, w: Word, rows: SizePoly, cols: SizePoly) -> R<MatPoly> {
        let mut done = MatPoly::zero(rows.clone(), cols.clone());
        let mut todo = vec![(w, Expr::int(1))];
        let mut steps = 0;
        while let Some((w, c)) = todo.pop() {
            let hit = self.rules.iter().enumerate().find_map(|(ri, (lhs, _))| {
                (lhs.len() <= w.len())
                    .then(|| {
                        (0..=w.len() - lhs.len()).find(|&i| &w[i..i + lhs.len()] == lhs.as_slice())
                    })
                    .flatten()
                    .map(|i| (ri, i))
            });
            let Some((ri, at)) = hit else {
                done.add_term(w, c);
                continue;
            };
            steps += 1;
            if steps > MATRIX_REWRITES || todo.len() > MATRIX_TERMS {
                return unsupported(
                    "rewriting with the `given` equations did not finish within its budget",
                );
            }
            let (lhs, rhs) = self.rules[ri].clone();
            self.note(Rule::GivenRewrite {
                word: word_text(&lhs),
                by: rhs.text(),
            });
            for (rw, rc) in &rhs.terms {
                let mut nw = w[..at].to_vec();
                nw.extend(rw.iter().cloned());
                nw.extend(w[at + lhs.len()..].iter().cloned());
                todo.push((nw, mul_e(c.clone(), rc.clone())));
            }
        }
        Ok(done)
    }

    /// Adds `lhs = rhs` (a `given` between matrices) as a rewrite rule when
    /// the left side is one word and every word on the right is shorter, so
    /// that rewriting terminates. Returns whether it was added.
    pub(crate) fn add_rule(&mut self, lhs: &MatPoly, rhs: &MatPoly) -> bool {
        let orient = |a: &MatPoly, b: &MatPoly| -> Option<(Word, MatPoly)> {
            let (w, c) = a.terms.iter().next()?;
            (a.terms.len() == 1
                && crate::syntax::expr::is_one_literal(c)
                && !w.is_empty()
                && b.terms.keys().all(|v| v.len() < w.len()))
            .then(|| (w.clone(), b.clone()))
        };
        let Some((w, r)) = orient(lhs, rhs).or_else(|| orient(rhs, lhs)) else {
            return false;
        };
        let wt = transpose_word(&w);
        if wt != w {
            self.rules.push((wt, r.transposed()));
        }
        self.rules.push((w, r));
        true
    }

    /// Entrywise sign of a normal form.
    fn sign(&mut self, m: &MatPoly) -> R<MatPoly> {
        let (rows, cols) = (m.rows.clone(), m.cols.clone());
        if m.terms.len() == 1 {
            let (w, c) = m.single_term().expect("one term");
            // A numeric coefficient's sign is known now; others stay `sign(λ)`.
            let sc = match crate::symbolic::normal::fold_rational(&c) {
                Some(q) => Expr::rational(num_traits::Signed::signum(&q)),
                None => call(Builtin::Sign, c),
            };
            if w.is_empty() {
                self.note(Rule::SignOfScaledIdentity);
                return Ok(MatPoly::word(Vec::new(), rows, cols).scaled(&sc));
            }
            // A column times a row: sign(λ p qᵀ) = sign(λ) sign(p) sign(q)ᵀ.
            let dims = self.inner_dims(&w);
            if let Some(cut) = (0..w.len() - 1).find(|&i| dims[i].is_one()) {
                let (p, q) = (w[..cut + 1].to_vec(), w[cut + 1..].to_vec());
                let one = SizePoly::one();
                let sp = self.sign_atom(&MatPoly::word(p, rows.clone(), one.clone()));
                let sq = self.sign_atom(&MatPoly::word(q, one, cols.clone()));
                self.note(Rule::SignOfOuterProduct);
                return Ok(self.product(&sp, &sq)?.scaled(&sc));
            }
            self.note(Rule::SignOfScaled);
            let inner = MatPoly::word(w, rows, cols);
            return Ok(self.sign_atom(&inner).scaled(&sc));
        }
        Ok(self.sign_atom(m))
    }

    /// The atom `sign(m)`, keyed by the smaller of `m` and `mᵀ`.
    fn sign_atom(&mut self, m: &MatPoly) -> MatPoly {
        let mt = m.transposed();
        let (k, kt) = (m.text(), mt.text());
        if kt < k {
            let a = self.atom(
                format!("sign({kt})"),
                AtomDef::Sign(mt.clone()),
                mt.rows.clone(),
                mt.cols.clone(),
            );
            return a.transposed();
        }
        self.atom(
            format!("sign({k})"),
            AtomDef::Sign(m.clone()),
            m.rows.clone(),
            m.cols.clone(),
        )
    }

    fn placeholder(&mut self, name: String, def: PlaceDef, kind: ScalarKind) -> Expr {
        self.placeholders
            .entry(name.clone())
            .or_insert(Placeholder { def, kind });
        Expr::name(&name)
    }

    /// `trace` of a word, split at dimension-1 cuts, each cyclic piece keyed
    /// by its canonical rotation.
    pub(crate) fn trace_word(&mut self, w: &Word, size: &SizePoly) -> Expr {
        if w.is_empty() {
            return size.to_expr();
        }
        let dims = self.inner_dims(w);
        let n = w.len();
        let cuts: Vec<usize> = (0..n).filter(|&i| dims[i].is_one()).collect();
        let pieces: Vec<Word> = if cuts.len() <= 1 {
            vec![w.clone()]
        } else {
            // Rotate to start after the first cut, then cut after each cut.
            let start = cuts[0] + 1;
            let rot: Word = w[start..]
                .iter()
                .chain(w[..start].iter())
                .cloned()
                .collect();
            let rdims: Vec<SizePoly> = self.inner_dims(&rot);
            let mut out = Vec::new();
            let mut cur = Vec::new();
            for (i, f) in rot.iter().enumerate() {
                cur.push(f.clone());
                if rdims[i].is_one() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            if !cur.is_empty() {
                out.push(cur);
            }
            if out.len() > 1 {
                self.note(Rule::TraceSplits);
            }
            out
        };
        let mut product: Option<Expr> = None;
        for p in pieces {
            let e = self.trace_cyclic(&p);
            product = Some(match product {
                None => e,
                Some(x) => mul_e(x, e),
            });
        }
        product.unwrap_or_else(|| Expr::int(1))
    }

    fn trace_cyclic(&mut self, w: &Word) -> Expr {
        let n = w.len();
        let mut best: Option<Word> = None;
        let mut nonneg = false;
        for base in [w.clone(), transpose_word(w)] {
            for r in 0..n {
                let rot: Word = base[r..].iter().chain(base[..r].iter()).cloned().collect();
                if n.is_multiple_of(2) && transpose_word(&rot[n / 2..]) == rot[..n / 2] {
                    nonneg = true;
                }
                if best.as_ref().is_none_or(|b| rot < *b) {
                    best = Some(rot);
                }
            }
        }
        let best = best.unwrap_or_default();
        if n > 1 {
            self.note(Rule::TraceCyclic);
        }
        let name = format!("trace({})", word_text(&best));
        let kind = if nonneg {
            ScalarKind::Nonnegative
        } else {
            ScalarKind::Real
        };
        self.placeholder(name, PlaceDef::Trace(best), kind)
    }

    /// `trace` of a normal form.
    pub(crate) fn trace(&mut self, m: &MatPoly) -> Expr {
        let mut sum: Option<Expr> = None;
        for (w, c) in m.terms.clone() {
            let t = self.trace_word(&w, &m.rows);
            let term = mul_e(c, t);
            sum = Some(match sum {
                None => term,
                Some(s) => add_e(s, term),
            });
        }
        sum.unwrap_or_else(|| Expr::int(0))
    }

    fn is_vector(m: &MatPoly) -> bool {
        m.cols.is_one() || m.rows.is_one()
    }

    /// `trace(mᵀ m)` (or `trace(m mᵀ)`): the squared Frobenius norm.
    fn gram_trace(&mut self, m: &MatPoly) -> R<Expr> {
        let g = self.product(&m.transposed(), m)?;
        Ok(self.trace(&g))
    }

    /// The spectral norm of one word.
    fn norm2_word(&mut self, w: &Word, rows: &SizePoly, cols: &SizePoly) -> R<Expr> {
        if w.is_empty() {
            self.note(Rule::NormOfIdentity);
            return Ok(Expr::int(1));
        }
        let m = MatPoly::word(w.clone(), rows.clone(), cols.clone());
        if Self::is_vector(&m) {
            self.note(Rule::VectorNorm);
            return Ok(call(Builtin::Sqrt, self.gram_trace(&m)?));
        }
        let dims = self.inner_dims(w);
        if let Some(cut) = (0..w.len() - 1).find(|&i| dims[i].is_one()) {
            self.note(Rule::NormOfOuterProduct);
            let one = SizePoly::one();
            let a = self.norm2_word(&w[..cut + 1].to_vec(), rows, &one)?;
            let b = self.norm2_word(&w[cut + 1..].to_vec(), &one, cols)?;
            return Ok(mul_e(a, b));
        }
        Ok(self.norm2_placeholder(&m))
    }

    fn norm2_placeholder(&mut self, m: &MatPoly) -> Expr {
        self.note(Rule::NormOfTranspose);
        let mt = m.transposed();
        let (k, kt) = (m.text(), mt.text());
        let (key, def) = if kt < k { (kt, mt) } else { (k, m.clone()) };
        self.placeholder(
            format!("norm2({key})"),
            PlaceDef::Norm2(def),
            ScalarKind::Nonnegative,
        )
    }

    /// The spectral norm (the 2-norm for vectors).
    pub(crate) fn norm2(&mut self, m: &MatPoly) -> R<Expr> {
        match m.terms.len() {
            0 => Ok(Expr::int(0)),
            1 => {
                let (w, c) = m.single_term().expect("one term");
                if !crate::syntax::expr::is_one_literal(&c) {
                    self.note(Rule::NormOfScaled);
                }
                let n = self.norm2_word(&w, &m.rows, &m.cols)?;
                Ok(mul_e(abs_of(c), n))
            }
            _ if Self::is_vector(m) => {
                self.note(Rule::VectorNorm);
                Ok(call(Builtin::Sqrt, self.gram_trace(m)?))
            }
            _ => Ok(self.norm2_placeholder(m)),
        }
    }

    /// The Frobenius norm: sqrt(trace(mᵀ m)).
    pub(crate) fn norm_f(&mut self, m: &MatPoly) -> R<Expr> {
        self.note(Rule::FrobeniusTrace);
        if m.terms.len() == 1 {
            let (w, c) = m.single_term().expect("one term");
            let single = MatPoly::word(w, m.rows.clone(), m.cols.clone());
            let g = self.gram_trace(&single)?;
            return Ok(mul_e(abs_of(c), call(Builtin::Sqrt, g)));
        }
        Ok(call(Builtin::Sqrt, self.gram_trace(m)?))
    }

    /// The scalar expression of a scalar-valued node, with placeholders for
    /// functions of matrices.
    pub(crate) fn scalar(&mut self, t: &T) -> R<Expr> {
        let span = t.span;
        let e = match &t.kind {
            TKind::Scalar(e) => match crate::symbolic::sums::expand_cut(e, self.ctx, self.subs) {
                Ok(x) => x,
                Err(m) => return unsupported(m),
            },
            TKind::AsScalar(m) => {
                let m = self.mat(m)?;
                self.trace(&m)
            }
            TKind::Defined(_, body) => self.scalar(body)?,
            TKind::Neg(a) => Expr::new(ExprKind::Neg(Box::new(self.scalar(a)?)), span),
            TKind::Add(a, b) => Expr::binary(BinOp::Add, self.scalar(a)?, self.scalar(b)?),
            TKind::Sub(a, b) => Expr::binary(BinOp::Sub, self.scalar(a)?, self.scalar(b)?),
            TKind::Mul(a, b) => Expr::binary(BinOp::Mul, self.scalar(a)?, self.scalar(b)?),
            TKind::Div(a, b) => Expr::binary(BinOp::Div, self.scalar(a)?, self.scalar(b)?),
            TKind::Pow(a, b) => Expr::binary(BinOp::Pow, self.scalar(a)?, self.scalar(b)?),
            TKind::Transpose(a) => self.scalar(a)?,
            TKind::Call(op, args) => match op {
                Builtin::Trace => {
                    let m = self.mat(&args[0])?;
                    self.trace(&m)
                }
                Builtin::Norm2 => {
                    let m = self.mat(&args[0])?;
                    self.norm2(&m)?
                }
                Builtin::NormF => {
                    let m = self.mat(&args[0])?;
                    self.norm_f(&m)?
                }
                Builtin::Rms => {
                    let m = self.mat(&args[0])?;
                    self.note(Rule::RmsNorm);
                    let n = m.rows.to_expr();
                    Expr::binary(BinOp::Div, self.norm2(&m)?, call(Builtin::Sqrt, n))
                }
                Builtin::Rank => {
                    let m = self.mat(&args[0])?;
                    let name = format!("rank({})", m.text());
                    self.placeholder(name, PlaceDef::Rank(m), ScalarKind::NonnegativeInteger)
                }
                Builtin::Cost => self.cost(&args[0])?,
                _ => {
                    let mut xs = Vec::new();
                    for a in args {
                        xs.push(self.scalar(a)?);
                    }
                    Expr::new(
                        ExprKind::Builtin {
                            op: *op,
                            args: xs,
                            options: Vec::new(),
                        },
                        span,
                    )
                }
            },
            _ => return unsupported("a matrix where a scalar was expected"),
        };
        Ok(crate::resolve::expand::substitute(&e, &self.place_subs))
    }

    /// The multiplication cost of evaluating `t` as written: an n×m by m×p
    /// product costs `c·n·m·p`; everything else is free, and a `[define]`
    /// name is an input already computed.
    pub(crate) fn cost(&mut self, t: &T) -> R<Expr> {
        let Some(c) = self.cost_constant.clone() else {
            return unsupported(
                "`cost(...)` needs a declared scalar `c` (the cost of one multiplication)",
            );
        };
        self.note(Rule::Cost);
        let mut total = Vec::new();
        self.cost_terms(t, &c, &mut total, 0)?;
        let mut sum: Option<Expr> = None;
        for x in total {
            sum = Some(match sum {
                None => x,
                Some(s) => add_e(s, x),
            });
        }
        Ok(sum.unwrap_or_else(|| Expr::int(0)))
    }

    fn cost_terms(&mut self, t: &T, c: &str, out: &mut Vec<Expr>, depth: usize) -> R<()> {
        if depth > super::typed::MATRIX_DEPTH {
            return unsupported("the expression nests too deeply");
        }
        let product = |n: SizePoly, m: SizePoly, p: SizePoly| {
            mul_e(
                mul_e(mul_e(Expr::name(c), n.to_expr()), m.to_expr()),
                p.to_expr(),
            )
        };
        match &t.kind {
            TKind::Scalar(_)
            | TKind::Symbol(_)
            | TKind::Identity
            | TKind::Literal(_)
            | TKind::Defined(..) => {}
            TKind::Mul(a, b) => {
                self.cost_terms(a, c, out, depth + 1)?;
                self.cost_terms(b, c, out, depth + 1)?;
                if a.shape.is_some() && b.shape.is_some() {
                    let (n, m) = self.dims(a)?;
                    let (_, p) = self.dims(b)?;
                    out.push(product(n, m, p));
                }
            }
            TKind::Pow(a, k) => {
                self.cost_terms(a, c, out, depth + 1)?;
                if a.shape.is_some() {
                    let k = match &k.kind {
                        TKind::Scalar(k) => crate::symbolic::normal::fold_rational(k)
                            .and_then(|k| crate::symbolic::polynomial::small_exponent(&k)),
                        _ => None,
                    };
                    let Some(k) = k else {
                        return unsupported("a matrix power needs a literal exponent");
                    };
                    let (n, _) = self.dims(a)?;
                    for _ in 1..k.max(1) {
                        out.push(product(n.clone(), n.clone(), n.clone()));
                    }
                }
            }
            TKind::AsScalar(a) | TKind::Neg(a) | TKind::Transpose(a) => {
                self.cost_terms(a, c, out, depth + 1)?
            }
            TKind::Add(a, b) | TKind::Sub(a, b) | TKind::Div(a, b) => {
                self.cost_terms(a, c, out, depth + 1)?;
                self.cost_terms(b, c, out, depth + 1)?;
            }
            TKind::Call(_, args) => {
                for a in args {
                    self.cost_terms(a, c, out, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// Turns a scalar `given` `lhs = rhs` about matrices into a placeholder
    /// substitution when the left side is a placeholder, its square root,
    /// or one divided by a scalar. Returns whether it did.
    pub(crate) fn add_scalar_fact(&mut self, lhs: &Expr, rhs: &Expr) -> bool {
        let mut l = lhs.clone();
        let mut r = rhs.clone();
        for _ in 0..8 {
            match &l.kind {
                ExprKind::Name(n) if self.placeholders.contains_key(n) => {
                    self.place_subs.insert(n.clone(), r);
                    return true;
                }
                ExprKind::Builtin {
                    op: Builtin::Sqrt,
                    args,
                    ..
                } if args.len() == 1 => {
                    r = Expr::binary(BinOp::Pow, r, Expr::int(2));
                    l = args[0].clone();
                }
                ExprKind::Binary(BinOp::Div, a, b) => {
                    r = Expr::binary(BinOp::Mul, r, (**b).clone());
                    l = (**a).clone();
                }
                // A nonzero numeric factor (`1 · x`, `abs(1) · x`).
                ExprKind::Binary(BinOp::Mul, a, b) => {
                    let k = match &a.kind {
                        ExprKind::Builtin {
                            op: Builtin::Abs,
                            args,
                            ..
                        } if args.len() == 1 => crate::symbolic::normal::fold_rational(&args[0])
                            .map(|q| num_traits::Signed::abs(&q)),
                        _ => crate::symbolic::normal::fold_rational(a),
                    };
                    match k {
                        Some(k) if !num_traits::Zero::is_zero(&k) => {
                            r = Expr::binary(BinOp::Div, r, Expr::rational(k));
                            l = (**b).clone();
                        }
                        _ => return false,
                    }
                }
                _ => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    //! Pure word algebra: no scalar normal form (and no CAS) is involved.
    use super::*;
    use crate::families::matrix::typed::Typer;

    const DECLS: &str = "title = \"t\"\n[symbols]\nn = \"positive integer\"\nr = \"positive integer\"\nA = \"matrix(n, n)\"\nB = \"matrix(n, n)\"\nC = \"matrix(n, n)\"\nU = \"matrix(n, r)\"\nx = \"vector(n)\"\nI = \"identity\"\n";

    fn context() -> Context {
        let d = crate::syntax::load::load("t.toml", DECLS.to_string()).unwrap();
        crate::resolve::resolve_context(&d).0
    }

    fn typed(ctx: &Context, typer: &mut Typer<'_>, text: &str) -> T {
        let e = crate::syntax::parser::parse_expr(text, ctx, &[]).unwrap();
        typer.typed(&e).unwrap()
    }

    /// The normal form's text of each expression, sharing one normalizer.
    fn forms(texts: &[&str], rules: &[(&str, &str)]) -> Vec<String> {
        let ctx = context();
        let mut typer = Typer::new(&ctx);
        let ts: Vec<T> = texts.iter().map(|t| typed(&ctx, &mut typer, t)).collect();
        let rs: Vec<(T, T)> = rules
            .iter()
            .map(|(a, b)| {
                let a = typed(&ctx, &mut typer, a);
                let b = typed(&ctx, &mut typer, b);
                let (sa, sb) = (a.shape.clone().unwrap(), b.shape.clone().unwrap());
                assert!(
                    typer.sizes.unify(&sa.rows, &sb.rows) && typer.sizes.unify(&sa.cols, &sb.cols)
                );
                (a, b)
            })
            .collect();
        let subs = BTreeMap::new();
        let mut nf = Normalizer::new(&ctx, &typer.sizes, &subs);
        for (a, b) in &rs {
            let (a, b) = (nf.mat(a).unwrap(), nf.mat(b).unwrap());
            assert!(nf.add_rule(&a, &b));
        }
        ts.iter()
            .map(|t| match &t.shape {
                Some(_) => nf.mat(t).unwrap().text(),
                None => nf.scalar(t).unwrap().to_string(),
            })
            .collect()
    }

    #[test]
    fn transposes_reverse_products() {
        let f = forms(&["(A B)ᵀ", "Bᵀ Aᵀ", "Aᵀ Bᵀ"], &[]);
        assert_eq!(f[0], f[1]);
        assert_ne!(f[0], f[2]);
    }

    #[test]
    fn products_do_not_commute_but_scalars_do() {
        let f = forms(
            &[
                "(A + B)(A + B)",
                "A A + A B + B A + B B",
                "A A + 2 A B + B B",
            ],
            &[],
        );
        assert_eq!(f[0].matches('+').count(), 3);
        assert!(f[0].contains("A B") && f[0].contains("B A"));
        assert!(!f[2].contains("B A"));
    }

    #[test]
    fn traces_are_keyed_by_canonical_rotation() {
        let f = forms(
            &[
                "trace(A B C)",
                "trace(B C A)",
                "trace(Cᵀ Bᵀ Aᵀ)",
                "trace(A C B)",
            ],
            &[],
        );
        assert_eq!(f[0], f[1]);
        assert_eq!(f[0], f[2]);
        assert_ne!(f[0], f[3]);
    }

    #[test]
    fn given_words_rewrite_and_identity_absorbs() {
        let f = forms(&["U Uᵀ U Uᵀ", "U I Uᵀ"], &[("Uᵀ U", "I")]);
        assert_eq!(f[0], "U Uᵀ");
        assert_eq!(f[1], "U Uᵀ");
    }

    #[test]
    fn one_by_one_pieces_become_scalars() {
        let f = forms(&["x (xᵀ x)", "(xᵀ x) x"], &[]);
        assert_eq!(f[0], f[1]);
    }
}
