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
    /// The inverse of a (square) matrix expression.
    Inverse(MatPoly),
    /// `diag(v)` of a column vector.
    Diag(MatPoly),
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
    /// The determinant of a square matrix.
    Det(MatPoly),
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

pub(crate) type R<X> = Result<X, NfError>;

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
    /// Declarations and definitions.
    pub(crate) ctx: &'a Context,
    /// The sizes found by typing.
    pub(crate) sizes: &'a Sizes,
    /// Scalar `given` substitutions.
    pub(crate) subs: &'a BTreeMap<String, Expr>,
    /// The atoms met so far.
    pub(crate) atoms: BTreeMap<String, Atom>,
    /// Rewrite rules from `given` equations: word → replacement.
    pub(crate) rules: Vec<(Word, MatPoly)>,
    /// The rules that come from declarations and inverses, with their name.
    fact_rules: Vec<(Word, Rule)>,
    /// The placeholders met so far, by name.
    pub(crate) placeholders: BTreeMap<String, Placeholder>,
    /// Placeholders fixed by `given` hypotheses.
    pub(crate) place_subs: BTreeMap<String, Expr>,
    /// Rules used, for the report.
    pub(crate) used: Vec<Rule>,
    /// The declared name of the cost constant, if any.
    pub(crate) cost_constant: Option<String>,
    /// Atoms equal to their transpose (symmetric kinds, `diag`, inverses
    /// of symmetric forms): always written untransposed.
    symmetric: std::collections::BTreeSet<String>,
    /// Inverse atoms of sums, by key: `K⁻¹` with `K` the sum.
    sum_inverses: BTreeMap<String, MatPoly>,
    /// Matrix symbols known invertible (kinds, `det(A) != 0`).
    pub(crate) invertible: Vec<String>,
    /// The normal form of `grad`, `hessian` and `jacobian` (the matrix
    /// family's calculus, handed in so that this module does not depend on
    /// it); `None`: they are unsupported.
    pub(crate) derivative: Option<DerivativeRule>,
}

/// Computes the normal form of `op(f, x)` for a matrix derivative `op`.
pub(crate) type DerivativeRule = fn(&mut Normalizer<'_>, Builtin, &T, &T) -> R<MatPoly>;

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
            fact_rules: Vec::new(),
            placeholders: BTreeMap::new(),
            place_subs: BTreeMap::new(),
            used: Vec::new(),
            cost_constant: ctx
                .symbols
                .get("c")
                .filter(|s| matches!(s.kind, crate::resolve::Kind::Scalar(_)))
                .map(|_| "c".to_string()),
            symmetric: Default::default(),
            sum_inverses: BTreeMap::new(),
            invertible: Vec::new(),
            derivative: None,
        }
    }

    fn structure(&self, name: &str) -> crate::resolve::Structure {
        self.ctx
            .symbols
            .get(name)
            .map(|s| s.structure)
            .unwrap_or_default()
    }

    /// A word with symmetric atoms untransposed.
    fn canon(&self, mut w: Word) -> Word {
        for f in &mut w {
            if f.t && self.symmetric.contains(&f.key) {
                f.t = false;
            }
        }
        w
    }

    /// A normal form with every word canonical.
    fn canon_poly(&self, m: MatPoly) -> MatPoly {
        if self.symmetric.is_empty() {
            return m;
        }
        let mut out = MatPoly::zero(m.rows.clone(), m.cols.clone());
        for (w, c) in m.terms {
            out.add_term(self.canon(w), c);
        }
        out
    }

    /// Adds `lhs → rhs` (a fact of the declarations or of an inverse, not a
    /// `given`): rewriting words, reported as `rule`.
    fn add_fact_rule(&mut self, lhs: Word, rhs: MatPoly, rule: Rule) {
        if !self.rules.iter().any(|(w, _)| *w == lhs) {
            self.rules.push((lhs.clone(), rhs));
            self.fact_rules.push((lhs, rule));
        }
    }

    /// A symbol's atom, with the facts of its declared structure.
    fn symbol_atom(&mut self, n: &str, rows: SizePoly, cols: SizePoly) -> MatPoly {
        let st = self.structure(n);
        if st.symmetric() {
            self.symmetric.insert(n.to_string());
        }
        if st == crate::resolve::Structure::Orthogonal && !self.atoms.contains_key(n) {
            let f = |t| Factor {
                key: n.to_string(),
                t,
            };
            let id = MatPoly::word(Vec::new(), rows.clone(), rows.clone());
            self.add_fact_rule(vec![f(true), f(false)], id.clone(), Rule::OrthogonalKind);
            self.add_fact_rule(vec![f(false), f(true)], id, Rule::OrthogonalKind);
        }
        self.atom(n.to_string(), AtomDef::Symbol(n.to_string()), rows, cols)
    }

    /// Is this square factor invertible by the declarations (a kind, a
    /// hypothesis `det(A) != 0`, an inverse)?
    fn factor_invertible(&self, f: &Factor) -> bool {
        match self.atoms.get(&f.key).map(|a| &a.def) {
            Some(AtomDef::Symbol(n)) => {
                self.structure(n).invertible() || self.invertible.contains(n)
            }
            Some(AtomDef::Inverse(_)) => true,
            _ => false,
        }
    }

    /// The inverse of one factor: `(A⁻¹)⁻¹ = A`, `Q⁻¹ = Qᵀ` for an
    /// orthogonal `Q`, `(Aᵀ)⁻¹ = (A⁻¹)ᵀ`; else the atom `A⁻¹` with its
    /// defining equations `A A⁻¹ = A⁻¹ A = I` as rules.
    fn inverse_factor(&mut self, f: &Factor, size: &SizePoly) -> R<MatPoly> {
        let atom = self.atoms.get(&f.key).cloned();
        if let Some(Atom {
            def: AtomDef::Inverse(inner),
            ..
        }) = &atom
        {
            self.note(Rule::InverseOfInverse);
            return Ok(if f.t {
                inner.transposed()
            } else {
                inner.clone()
            });
        }
        if let Some(Atom {
            def: AtomDef::Symbol(n),
            ..
        }) = &atom
        {
            if self.structure(n) == crate::resolve::Structure::Orthogonal {
                self.note(Rule::OrthogonalKind);
                return Ok(MatPoly::word(
                    vec![Factor {
                        key: f.key.clone(),
                        t: !f.t,
                    }],
                    size.clone(),
                    size.clone(),
                ));
            }
        }
        let inner = MatPoly::word(
            vec![Factor {
                key: f.key.clone(),
                t: false,
            }],
            size.clone(),
            size.clone(),
        );
        let m = self.inverse_atom(&inner)?;
        if f.t {
            self.note(Rule::InverseOfTranspose);
        }
        Ok(if f.t { m.transposed() } else { m })
    }

    /// The atom `m⁻¹`, keyed by the smaller of `m` and `mᵀ`, with its rules.
    fn inverse_atom(&mut self, m: &MatPoly) -> R<MatPoly> {
        let mt = self.canon_poly(m.transposed());
        let (k, kt) = (m.text(), mt.text());
        if kt < k {
            let a = self.inverse_atom(&mt)?;
            return Ok(a.transposed());
        }
        let key = format!("inv({k})");
        let size = m.rows.clone();
        let fresh = !self.atoms.contains_key(&key);
        let atom = self.atom(
            key.clone(),
            AtomDef::Inverse(m.clone()),
            size.clone(),
            size.clone(),
        );
        if fresh {
            if k == kt {
                self.symmetric.insert(key.clone());
            }
            let me = Factor {
                key: key.clone(),
                t: false,
            };
            let id = MatPoly::word(Vec::new(), size.clone(), size.clone());
            match m.single_term() {
                Some((w, c)) if crate::syntax::expr::is_one_literal(&c) => {
                    let mut a = w.clone();
                    a.push(me.clone());
                    let mut b = vec![me.clone()];
                    b.extend(w.iter().cloned());
                    for lhs in [a, b] {
                        let lt = self.canon(transpose_word(&lhs));
                        self.add_fact_rule(lhs.clone(), id.clone(), Rule::InverseCancels);
                        if lt != lhs {
                            self.add_fact_rule(lt, id.clone(), Rule::InverseCancels);
                        }
                    }
                }
                _ => {
                    self.sum_inverses.insert(key.clone(), m.clone());
                }
            }
        }
        Ok(atom)
    }

    /// The inverse of a normal form: `(λ W)⁻¹ = λ⁻¹ W⁻¹`, `(A B)⁻¹ = B⁻¹ A⁻¹`
    /// for square invertible factors, the identity's is itself; anything
    /// else an inverse atom, read where it exists.
    pub(crate) fn inverse(&mut self, m: &MatPoly) -> R<MatPoly> {
        if m.terms.is_empty() {
            return unsupported("the inverse of the zero matrix");
        }
        let size = m.rows.clone();
        if let Some((w, c)) = m.single_term() {
            let ci = if crate::syntax::expr::is_one_literal(&c) {
                Expr::int(1)
            } else {
                self.note(Rule::InverseOfScaled);
                match crate::symbolic::normal::fold_rational(&c) {
                    Some(q) if !num_traits::Zero::is_zero(&q) => Expr::rational(q.recip()),
                    _ => Expr::binary(BinOp::Div, Expr::int(1), c.clone()),
                }
            };
            if w.is_empty() {
                return Ok(MatPoly::word(Vec::new(), size.clone(), size).scaled(&ci));
            }
            let square = w.iter().all(|f| {
                let (r, c) = self.factor_dims(f);
                r == c && r == size
            });
            if square && (w.len() == 1 || w.iter().all(|f| self.factor_invertible(f))) {
                if w.len() > 1 {
                    self.note(Rule::InverseOfProduct);
                }
                let mut acc = MatPoly::word(Vec::new(), size.clone(), size.clone());
                for f in w.iter().rev() {
                    let fi = self.inverse_factor(f, &size)?;
                    acc = self.product(&acc, &fi)?;
                }
                return Ok(acc.scaled(&ci));
            }
            let inner = MatPoly::word(w, size.clone(), size.clone());
            return Ok(self.inverse_atom(&inner)?.scaled(&ci));
        }
        self.inverse_atom(m)
    }

    /// The determinant: `det(λ W) = λⁿ det(W)`, multiplicative over square
    /// factors, `det(Aᵀ) = det(A)`, `det(A⁻¹) = 1/det(A)`, `det(I) = 1`,
    /// literals by cofactor expansion; anything else a placeholder.
    pub(crate) fn det(&mut self, m: &MatPoly) -> R<Expr> {
        if m.terms.is_empty() {
            return Ok(Expr::int(0));
        }
        let n = m.rows.clone();
        let Some((w, c)) = m.single_term() else {
            return Ok(self.det_placeholder(m));
        };
        let scale = if crate::syntax::expr::is_one_literal(&c) {
            Expr::int(1)
        } else {
            self.note(Rule::DetOfScaled);
            Expr::binary(BinOp::Pow, c.clone(), n.to_expr())
        };
        if w.is_empty() {
            self.note(Rule::DetOfIdentity);
            return Ok(scale);
        }
        let square = w.iter().all(|f| {
            let (r, c) = self.factor_dims(f);
            r == c && r == n
        });
        if !square {
            let inner = MatPoly::word(w, n.clone(), n);
            return Ok(mul_e(scale, self.det_placeholder(&inner)));
        }
        if w.len() > 1 {
            self.note(Rule::DetMultiplicative);
        }
        let mut acc = scale;
        for f in &w {
            if f.t {
                self.note(Rule::DetOfTranspose);
            }
            let atom = self.atoms.get(&f.key).cloned();
            let d = match atom.map(|a| a.def) {
                Some(AtomDef::Inverse(inner)) => {
                    self.note(Rule::DetOfInverse);
                    Expr::binary(BinOp::Div, Expr::int(1), self.det(&inner)?)
                }
                Some(AtomDef::Literal(rows)) if rows.len() <= 4 => {
                    self.note(Rule::DetOfLiteral);
                    cofactor_det(&rows)
                }
                _ => {
                    let one = MatPoly::word(
                        vec![Factor {
                            key: f.key.clone(),
                            t: false,
                        }],
                        n.clone(),
                        n.clone(),
                    );
                    self.det_placeholder(&one)
                }
            };
            acc = mul_e(acc, d);
        }
        Ok(acc)
    }

    fn det_placeholder(&mut self, m: &MatPoly) -> Expr {
        let mt = self.canon_poly(m.transposed());
        let (k, kt) = (m.text(), mt.text());
        let (key, def) = if kt < k { (kt, mt) } else { (k, m.clone()) };
        let kind = match def.single_term() {
            Some((w, _)) if w.len() == 1 => match self.atoms.get(&w[0].key).map(|a| &a.def) {
                Some(AtomDef::Symbol(n)) => match self.structure(n) {
                    crate::resolve::Structure::PositiveDefinite => ScalarKind::Positive,
                    st if st.invertible() || self.invertible.contains(n) => ScalarKind::Nonzero,
                    _ => ScalarKind::Real,
                },
                _ => ScalarKind::Real,
            },
            _ => ScalarKind::Real,
        };
        self.placeholder(format!("det({key})"), PlaceDef::Det(def), kind)
    }

    /// `diag(v)` of a column vector: an atom equal to its transpose.
    fn diag(&mut self, v: &MatPoly) -> MatPoly {
        let key = format!("diag({})", v.text());
        self.symmetric.insert(key.clone());
        self.atom(
            key,
            AtomDef::Diag(v.clone()),
            v.rows.clone(),
            v.rows.clone(),
        )
    }

    /// Absorbs `K K⁻¹` and `K⁻¹ K` for inverse atoms of sums `K`: a term
    /// `coef · m kᵢ K⁻¹ S` (`kᵢ` a word of `K`, coefficient `cᵢ`) is
    /// replaced by the exact identity `m kᵢ K⁻¹ S = (1/cᵢ)(m S − Σ_{j≠i} cⱼ m kⱼ K⁻¹ S)`,
    /// kept only where it shortens the normal form. Each step is an
    /// identity wherever `K⁻¹` exists.
    pub(crate) fn absorb_inverses(&mut self, mut m: MatPoly) -> R<MatPoly> {
        if self.sum_inverses.is_empty() {
            return Ok(m);
        }
        let prune = |m: &mut MatPoly| m.terms.retain(|_, c| !coef_is_zero(c));
        prune(&mut m);
        let mut rounds = 0;
        'outer: loop {
            rounds += 1;
            if rounds > 64 {
                break;
            }
            let keys: Vec<(String, MatPoly)> = self
                .sum_inverses
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (key, k) in &keys {
                for (w, coef) in m.terms.clone() {
                    for (pos, f) in w.iter().enumerate() {
                        if f.key != *key {
                            continue;
                        }
                        // K (or Kᵀ for a transposed factor) on the left of K⁻¹ ...
                        let kk = if f.t { k.transposed() } else { k.clone() };
                        let kk = self.canon_poly(kk);
                        for (ki, ci) in &kk.terms {
                            let Some(cq) = crate::symbolic::normal::fold_rational(ci) else {
                                continue;
                            };
                            if num_traits::Zero::is_zero(&cq) || ki.len() > pos {
                                continue;
                            }
                            if w[pos - ki.len()..pos] != ki[..] {
                                continue;
                            }
                            let prefix: Word = w[..pos - ki.len()].to_vec();
                            let suffix: Word = w[pos + 1..].to_vec();
                            let trial = self.replace_term(
                                true, &m, &w, &coef, &prefix, &suffix, f, &kk, ki, &cq,
                            )?;
                            let mut trial = trial;
                            prune(&mut trial);
                            if trial.terms.len() < m.terms.len() {
                                self.note(Rule::InverseOfSumCancels);
                                m = trial;
                                continue 'outer;
                            }
                        }
                        // ... and on the right.
                        for (ki, ci) in &kk.terms {
                            let Some(cq) = crate::symbolic::normal::fold_rational(ci) else {
                                continue;
                            };
                            if num_traits::Zero::is_zero(&cq) || pos + 1 + ki.len() > w.len() {
                                continue;
                            }
                            if w[pos + 1..pos + 1 + ki.len()] != ki[..] {
                                continue;
                            }
                            let prefix: Word = w[..pos].to_vec();
                            let suffix: Word = w[pos + 1 + ki.len()..].to_vec();
                            let trial = self.replace_term(
                                false, &m, &w, &coef, &prefix, &suffix, f, &kk, ki, &cq,
                            )?;
                            let mut trial = trial;
                            prune(&mut trial);
                            if trial.terms.len() < m.terms.len() {
                                self.note(Rule::InverseOfSumCancels);
                                m = trial;
                                continue 'outer;
                            }
                        }
                    }
                }
            }
            break;
        }
        Ok(m)
    }

    /// `coef · P kᵢ K⁻¹ S = (coef/cᵢ) (P S − Σ_{j≠i} cⱼ P kⱼ K⁻¹ S)` (the
    /// term `kᵢ` of `K` on the left of `K⁻¹`), or with `kᵢ` and `kⱼ` on its
    /// right when `left` is false.
    #[allow(clippy::too_many_arguments)]
    fn replace_term(
        &mut self,
        left: bool,
        m: &MatPoly,
        w: &Word,
        coef: &Expr,
        prefix: &Word,
        suffix: &Word,
        inv: &Factor,
        k: &MatPoly,
        ki: &Word,
        ci: &num_rational::BigRational,
    ) -> R<MatPoly> {
        let scale = mul_e(coef.clone(), Expr::rational(ci.recip()));
        let mut out = m.clone();
        out.terms.remove(w);
        let mut add = MatPoly::zero(m.rows.clone(), m.cols.clone());
        let mut ps = prefix.clone();
        ps.extend(suffix.iter().cloned());
        add.add_term(ps, Expr::int(1));
        for (kj, cj) in &k.terms {
            if kj == ki {
                continue;
            }
            let mut word = prefix.clone();
            if left {
                word.extend(kj.iter().cloned());
                word.push(inv.clone());
            } else {
                word.push(inv.clone());
                word.extend(kj.iter().cloned());
            }
            word.extend(suffix.iter().cloned());
            add.add_term(
                word,
                Expr::new(ExprKind::Neg(Box::new(cj.clone())), cj.span),
            );
        }
        let add = self.renormalize(&add)?;
        Ok(out.plus(&add.scaled(&scale), false))
    }

    /// `K d` and `d K` for each inverse of a sum `K⁻¹` met, absorbed: where
    /// `K` is invertible, `d = 0` exactly when `K d = 0` (or `d K = 0`).
    pub(crate) fn multiplied_out(&mut self, d: &MatPoly) -> R<Vec<MatPoly>> {
        let ks: Vec<MatPoly> = self.sum_inverses.values().cloned().collect();
        let mut out = Vec::new();
        for k in ks {
            if k.rows == d.rows {
                let x = self.product(&k, d)?;
                out.push(self.absorb_inverses(x)?);
            }
            if k.rows == d.cols {
                let x = self.product(d, &k)?;
                out.push(self.absorb_inverses(x)?);
            }
        }
        Ok(out)
    }

    /// Every word rewritten again (rules, 1 × 1 pieces), coefficients folded
    /// where numeric.
    pub(crate) fn renormalize(&mut self, m: &MatPoly) -> R<MatPoly> {
        let mut out = MatPoly::zero(m.rows.clone(), m.cols.clone());
        for (w, c) in &m.terms {
            let w = self.canon(w.clone());
            let rewritten = self.rewrite(w, m.rows.clone(), m.cols.clone())?;
            for (w, c3) in rewritten.terms {
                let (s, w) = self.extract_scalars(w, &m.rows);
                out.add_term(self.canon(w), mul_e(mul_e(c.clone(), c3), s));
            }
        }
        for c in out.terms.values_mut() {
            if let Some(q) = crate::symbolic::normal::fold_rational(c) {
                *c = Expr::rational(q);
            }
        }
        Ok(out)
    }

    pub(crate) fn note(&mut self, rule: Rule) {
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
            TKind::Symbol(n) => self.symbol_atom(n, rows.clone(), cols.clone()),
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
            TKind::Call(Builtin::Inv, args) if args.len() == 1 => {
                let inner = self.mat(&args[0])?;
                self.inverse(&inner)?
            }
            TKind::Call(Builtin::Diag, args) if args.len() == 1 => {
                let inner = self.mat(&args[0])?;
                self.diag(&inner)
            }
            TKind::Call(op @ (Builtin::Grad | Builtin::Hessian | Builtin::Jacobian), args)
                if args.len() == 2 =>
            {
                let Some(rule) = self.derivative else {
                    return unsupported(format!("`{op}` has no normal form here"));
                };
                rule(self, *op, &args[0], &args[1])?
            }
            _ => return unsupported("this matrix expression has no normal form"),
        };
        let out = self.canon_poly(out);
        let out = if self.sum_inverses.is_empty() {
            out
        } else {
            self.absorb_inverses(out)?
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
                let w = self.canon(w);
                if w.len() > MATRIX_WORD {
                    return unsupported(format!("a word longer than {MATRIX_WORD} factors"));
                }
                let c = mul_e(c1.clone(), c2.clone());
                let rewritten = self.rewrite(w, x.rows.clone(), y.cols.clone())?;
                for (w, c3) in rewritten.terms {
                    let (s, w) = self.extract_scalars(w, &x.rows);
                    out.add_term(self.canon(w), mul_e(mul_e(c.clone(), c3), s));
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
            match self.fact_rules.iter().find(|(w, _)| *w == lhs) {
                Some((_, r)) => {
                    let r = r.clone();
                    self.note(r);
                }
                None => self.note(Rule::GivenRewrite {
                    word: word_text(&lhs),
                    by: rhs.text(),
                }),
            }
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
        // `A B = B A`: two words with the same factors, rewritten from the
        // larger to the smaller in the order of words, which terminates
        // (each rewrite lowers a word among its finitely many orderings).
        let commute = || -> Option<(Word, MatPoly)> {
            let (w, c) = lhs.single_term()?;
            let (v, d) = rhs.single_term()?;
            let one = crate::syntax::expr::is_one_literal;
            let (mut sw, mut sv) = (w.clone(), v.clone());
            sw.sort();
            sv.sort();
            if !one(&c) || !one(&d) || w == v || sw != sv {
                return None;
            }
            Some(if w > v {
                (w, rhs.clone())
            } else {
                (v, lhs.clone())
            })
        };
        let Some((w, r)) = orient(lhs, rhs)
            .or_else(|| orient(rhs, lhs))
            .or_else(commute)
        else {
            return false;
        };
        let wt = transpose_word(&w);
        if wt != w {
            self.rules.push((wt, r.transposed()));
        }
        self.rules.push((w, r));
        true
    }

    /// Adds an equation `d = 0` of an implication's premise as a rewrite
    /// rule that terminates: a one-letter word whose symbol occurs in no
    /// other term is eliminated (`θ = (Xᵀ X)⁻¹ Xᵀ y` rewrites `θ`), else the
    /// longest word, when every other word is shorter and its coefficient
    /// is a nonzero rational (`2 Xᵀ X θ − 2 Xᵀ y = 0` rewrites `Xᵀ X θ` to
    /// `Xᵀ y`). Each rewrite replaces a word by an equal matrix wherever the
    /// premise holds. Returns whether a rule was added.
    pub(crate) fn add_premise_rule(&mut self, d: &MatPoly) -> bool {
        let rational = |c: &Expr| {
            crate::symbolic::normal::fold_rational(c).filter(|q| !num_traits::Zero::is_zero(q))
        };
        let eliminated = d.terms.iter().find(|(w, c)| {
            w.len() == 1
                && rational(c).is_some()
                && d.terms
                    .keys()
                    .filter(|v| *v != *w)
                    .all(|v| v.iter().all(|f| f.key != w[0].key))
        });
        let longest = || {
            let max = d.terms.keys().map(|w| w.len()).max()?;
            let mut top = d.terms.iter().filter(|(w, _)| w.len() == max);
            let (w, c) = top.next()?;
            (top.next().is_none() && max > 0).then_some((w, c))
        };
        let Some((w, c)) = eliminated.or_else(longest) else {
            return false;
        };
        let Some(q) = rational(c) else {
            return false;
        };
        let w = w.clone();
        let mut rest = d.clone();
        rest.terms.remove(&w);
        let scale = -q.recip();
        let mut by = MatPoly::zero(rest.rows.clone(), rest.cols.clone());
        for (v, c) in rest.terms {
            by.add_term(v, scaled_coefficient(&c, &scale));
        }
        let rule = |word: &Word, by: &MatPoly| Rule::PremiseRewrite {
            word: word_text(word),
            by: by.text(),
        };
        let wt = self.canon(transpose_word(&w));
        if wt != w {
            let bt = by.transposed();
            self.add_fact_rule(wt.clone(), bt.clone(), rule(&wt, &bt));
        }
        self.add_fact_rule(w.clone(), by.clone(), rule(&w, &by));
        true
    }

    /// The matrices whose inverses the normal forms so far have met.
    pub(crate) fn inverted(&self) -> Vec<MatPoly> {
        self.atoms
            .values()
            .filter_map(|a| match &a.def {
                AtomDef::Inverse(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
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
        let mt = self.canon_poly(m.transposed());
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
        for base in [self.canon(w.clone()), self.canon(transpose_word(w))] {
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

    /// A rotation of `w` that the rules rewrite (`trace(Qᵀ S Q) =
    /// trace(Q Qᵀ S) = trace(S)`): the rewritten form, if any.
    fn rotated_rewrite(&mut self, w: &Word) -> Option<MatPoly> {
        if self.rules.is_empty() || w.len() < 2 {
            return None;
        }
        let dims = self.inner_dims(w);
        for r in 1..w.len() {
            let rot: Word = w[r..].iter().chain(w[..r].iter()).cloned().collect();
            let size = dims[r - 1].clone();
            let Ok(m) = self.rewrite(rot.clone(), size.clone(), size) else {
                continue;
            };
            let unchanged = m.terms.len() == 1
                && m.terms
                    .get(&rot)
                    .is_some_and(crate::syntax::expr::is_one_literal);
            if !unchanged {
                return Some(m);
            }
        }
        None
    }

    /// `trace` of a normal form.
    pub(crate) fn trace(&mut self, m: &MatPoly) -> Expr {
        let mut sum: Option<Expr> = None;
        for (w, c) in m.terms.clone() {
            let t = match self.rotated_rewrite(&w) {
                Some(r) => {
                    self.note(Rule::TraceCyclic);
                    self.trace(&r)
                }
                None => self.trace_word(&w, &m.rows),
            };
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

    /// Does the word rewrite to the identity (coefficient one) under the
    /// `given` rules and the declared kinds?
    fn rewrites_to_identity(&mut self, w: Word, size: &SizePoly) -> bool {
        let saved = self.used.len();
        let ok = match self.rewrite(w, size.clone(), size.clone()) {
            Ok(m) => {
                m.terms.len() == 1
                    && m.terms.iter().all(|(w, c)| {
                        w.is_empty()
                            && crate::symbolic::normal::fold_rational(c)
                                .is_some_and(|q| q == crate::syntax::expr::rat(1))
                    })
            }
            Err(_) => false,
        };
        if !ok {
            self.used.truncate(saved);
        }
        ok
    }

    /// Strips factors with orthonormal columns on the left (`Uᵀ U = I`) and
    /// with orthonormal rows on the right (`V Vᵀ = I`): they leave the
    /// spectral norm unchanged (`‖U X‖₂² = λmax(Xᵀ Uᵀ U X) = λmax(Xᵀ X)`).
    /// Returns the rest with its size.
    fn strip_orthonormal(
        &mut self,
        w: &Word,
        rows: &SizePoly,
        cols: &SizePoly,
    ) -> (Word, SizePoly, SizePoly) {
        let (mut w, mut rows, mut cols) = (w.clone(), rows.clone(), cols.clone());
        while let Some(f) = w.first().cloned() {
            let inner = self.factor_dims(&f).1;
            let gram = vec![
                Factor {
                    key: f.key.clone(),
                    t: !f.t,
                },
                f.clone(),
            ];
            if !self.rewrites_to_identity(gram, &inner) {
                break;
            }
            self.note(Rule::NormOrthonormalFactor);
            w.remove(0);
            rows = inner;
        }
        while let Some(f) = w.last().cloned() {
            let inner = self.factor_dims(&f).0;
            let gram = vec![
                f.clone(),
                Factor {
                    key: f.key.clone(),
                    t: !f.t,
                },
            ];
            if !self.rewrites_to_identity(gram, &inner) {
                break;
            }
            self.note(Rule::NormOrthonormalFactor);
            w.pop();
            cols = inner;
        }
        (w, rows, cols)
    }

    /// The spectral norm of one word.
    fn norm2_word(&mut self, w: &Word, rows: &SizePoly, cols: &SizePoly) -> R<Expr> {
        if w.is_empty() {
            self.note(Rule::NormOfIdentity);
            return Ok(Expr::int(1));
        }
        let (w, rows, cols) = self.strip_orthonormal(w, rows, cols);
        let (w, rows, cols) = (&w, &rows, &cols);
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
        let mt = self.canon_poly(m.transposed());
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

    /// Upper bounds of the spectral-norm placeholder `name`, each with the
    /// rule that gives it: submultiplicativity at every cut of a word (and
    /// every factor apart), the triangle inequality over the terms of a sum,
    /// and the Frobenius norm. Empty for any other placeholder.
    pub(crate) fn norm2_upper_bounds(&mut self, name: &str) -> R<Vec<(Expr, Rule)>> {
        let m = match self.placeholders.get(name).map(|p| p.def.clone()) {
            Some(PlaceDef::Norm2(m)) => m,
            Some(PlaceDef::Trace(_)) => return Ok(Vec::new()),
            _ => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        if let Some((w, c)) = m.single_term() {
            let dims = self.inner_dims(&w);
            let mut row_dims = vec![m.rows.clone()];
            row_dims.extend(dims.iter().cloned());
            for cut in 1..w.len() {
                let mid = dims[cut - 1].clone();
                let a = self.norm2_word(&w[..cut].to_vec(), &m.rows, &mid)?;
                let b = self.norm2_word(&w[cut..].to_vec(), &mid, &m.cols)?;
                out.push((
                    mul_e(abs_of(c.clone()), mul_e(a, b)),
                    Rule::NormSubmultiplicative,
                ));
            }
            if w.len() > 2 {
                let mut prod = abs_of(c.clone());
                for (i, f) in w.iter().enumerate() {
                    let n = self.norm2_word(&vec![f.clone()], &row_dims[i], &dims[i])?;
                    prod = mul_e(prod, n);
                }
                out.push((prod, Rule::NormSubmultiplicative));
            }
        } else if m.terms.len() > 1 {
            let mut sum: Option<Expr> = None;
            for (w, c) in m.terms.clone() {
                let n = mul_e(abs_of(c), self.norm2_word(&w, &m.rows, &m.cols)?);
                sum = Some(match sum {
                    None => n,
                    Some(s) => add_e(s, n),
                });
            }
            if let Some(s) = sum {
                out.push((s, Rule::NormTriangle));
            }
        }
        let g = self.gram_trace(&m)?;
        out.push((call(Builtin::Sqrt, g), Rule::NormBelowFrobenius));
        Ok(out)
    }

    /// The word `u` of a trace placeholder `trace(uᵀ u)` (a squared
    /// Frobenius norm, for a vector `u` its squared 2-norm), if it is one.
    pub(crate) fn gram_half(&self, w: &Word) -> Option<Word> {
        let n = w.len();
        if n < 2 || n % 2 == 1 {
            return None;
        }
        (0..n).find_map(|r| {
            let rot: Word = w[r..].iter().chain(w[..r].iter()).cloned().collect();
            (self.canon(transpose_word(&rot[n / 2..])) == rot[..n / 2])
                .then(|| rot[n / 2..].to_vec())
        })
    }

    /// Upper bounds of `sqrt(trace(uᵀ u)) = normF(u)` (for a vector `u` its
    /// 2-norm) for a word `u = P R`: `normF(P R) <= norm2(P) normF(R)` at
    /// every cut.
    pub(crate) fn gram_trace_bounds(&mut self, w: &Word) -> R<Vec<(Expr, Rule)>> {
        let Some(half) = self.gram_half(w) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        // normF(u) = normF(uᵀ): cut either.
        for u in [self.canon(transpose_word(&half)), half] {
            let rows = self.factor_dims(&u[0]).0;
            let dims = self.inner_dims(&u);
            let cols = dims[u.len() - 1].clone();
            for cut in 1..u.len() {
                let mid = dims[cut - 1].clone();
                let p = self.norm2_word(&u[..cut].to_vec(), &rows, &mid)?;
                let r = u[cut..].to_vec();
                let mut gram = transpose_word(&r);
                gram.extend(r.iter().cloned());
                let gram = self.canon(gram);
                let t = self.trace_word(&gram, &cols);
                out.push((
                    mul_e(p, call(Builtin::Sqrt, t)),
                    Rule::NormSubmultiplicative,
                ));
            }
        }
        Ok(out)
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
            // `norm2(v)² = vᵀ v` for a vector and `normF(X)² = trace(Xᵀ X)`
            // directly, without the square root: rewriting inside
            // `sqrt(vᵀ v)` (by a premise) may hide that it is >= 0.
            TKind::Pow(a, b)
                if matches!(&b.kind, TKind::Scalar(e) if crate::symbolic::normal::fold_rational(e)
                    .is_some_and(|q| q == crate::syntax::expr::rat(2))) =>
            {
                let squared = match &a.kind {
                    TKind::Call(Builtin::NormF, args) => {
                        Some((self.mat(&args[0])?, Rule::FrobeniusTrace))
                    }
                    TKind::Call(Builtin::Norm2, args) => {
                        let m = self.mat(&args[0])?;
                        Self::is_vector(&m).then_some((m, Rule::VectorNorm))
                    }
                    _ => None,
                };
                match squared {
                    Some((m, rule)) => {
                        self.note(rule);
                        self.gram_trace(&m)?
                    }
                    None => Expr::binary(BinOp::Pow, self.scalar(a)?, self.scalar(b)?),
                }
            }
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
                Builtin::Det => {
                    let m = self.mat(&args[0])?;
                    self.det(&m)?
                }
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

/// A coefficient as a linear combination of its non-numeric parts (keyed
/// by their text), for a cheap syntactic zero test.
fn linear_parts(
    e: &Expr,
    out: &mut BTreeMap<String, num_rational::BigRational>,
    k: &num_rational::BigRational,
    depth: usize,
) {
    if let Some(q) = crate::symbolic::normal::fold_rational(e) {
        *out.entry(String::new()).or_default() += q * k;
        return;
    }
    if depth > 64 {
        *out.entry(e.to_string()).or_default() += k;
        return;
    }
    match &e.kind {
        ExprKind::Neg(a) => linear_parts(a, out, &-k.clone(), depth + 1),
        ExprKind::Binary(BinOp::Add, a, b) => {
            linear_parts(a, out, k, depth + 1);
            linear_parts(b, out, k, depth + 1);
        }
        ExprKind::Binary(BinOp::Sub, a, b) => {
            linear_parts(a, out, k, depth + 1);
            linear_parts(b, out, &-k.clone(), depth + 1);
        }
        ExprKind::Binary(BinOp::Mul, a, b) => {
            match (
                crate::symbolic::normal::fold_rational(a),
                crate::symbolic::normal::fold_rational(b),
            ) {
                (Some(q), _) => linear_parts(b, out, &(q * k), depth + 1),
                (_, Some(q)) => linear_parts(a, out, &(q * k), depth + 1),
                _ => *out.entry(e.to_string()).or_default() += k,
            }
        }
        _ => *out.entry(e.to_string()).or_default() += k,
    }
}

/// Is a coefficient zero by syntax alone (`λ − λ`, `2 − 1 − 1`)? `false`
/// when undecided: only a cheap, sound test.
/// `q c`, folded where numeric, a double negation dropped.
fn scaled_coefficient(c: &Expr, q: &num_rational::BigRational) -> Expr {
    if let Some(x) = crate::symbolic::normal::fold_rational(c) {
        return Expr::rational(x * q);
    }
    if num_traits::One::is_one(q) {
        return c.clone();
    }
    if num_traits::One::is_one(&-q.clone()) {
        return match &c.kind {
            ExprKind::Neg(x) => (**x).clone(),
            _ => Expr::new(ExprKind::Neg(Box::new(c.clone())), c.span),
        };
    }
    mul_e(Expr::rational(q.clone()), c.clone())
}

pub(crate) fn coef_is_zero(e: &Expr) -> bool {
    let mut parts = BTreeMap::new();
    linear_parts(e, &mut parts, &crate::syntax::expr::rat(1), 0);
    parts.values().all(num_traits::Zero::is_zero)
}

/// `rows` without row `i` and column `j`.
pub(crate) fn minor(rows: &[Vec<Expr>], i: usize, j: usize) -> Vec<Vec<Expr>> {
    rows.iter()
        .enumerate()
        .filter(|(r, _)| *r != i)
        .map(|(_, row)| {
            row.iter()
                .enumerate()
                .filter(|(k, _)| *k != j)
                .map(|(_, e)| e.clone())
                .collect()
        })
        .collect()
}

/// The determinant of a square literal (at most 4 × 4) by cofactor
/// expansion along the first row: an exact polynomial in the entries.
pub(crate) fn cofactor_det(rows: &[Vec<Expr>]) -> Expr {
    let n = rows.len();
    if n == 1 {
        return rows[0][0].clone();
    }
    let mut sum: Option<Expr> = None;
    for j in 0..n {
        let term = mul_e(rows[0][j].clone(), cofactor_det(&minor(rows, 0, j)));
        sum = Some(match sum {
            None => term,
            Some(s) if j % 2 == 1 => Expr::binary(BinOp::Sub, s, term),
            Some(s) => add_e(s, term),
        });
    }
    sum.unwrap_or_else(|| Expr::int(0))
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
