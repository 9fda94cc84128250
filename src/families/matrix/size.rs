//! Sizes of matrices: polynomials with integer coefficients in the declared
//! integer symbols (`d_out`, `2n + 1`), compared exactly, and the shapes of
//! matrix expressions, where the identity `I` carries size variables that
//! unification fixes from its context.

use crate::symbolic::polynomial::small_exponent;
use crate::syntax::expr::{BinOp, Expr, ExprKind};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};
use std::collections::BTreeMap;
use std::fmt;

/// The budget [`Budgets::size_exponent`](crate::config::Budgets::size_exponent).
pub(crate) const SIZE_EXPONENT: i64 = crate::config::Budgets::DEFAULT.size_exponent;

/// A size: an exact polynomial in size symbols. Each key is a sorted list of
/// symbol names (a monomial, repeated names for powers).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct SizePoly {
    /// Monomial → nonzero coefficient.
    pub(crate) terms: BTreeMap<Vec<String>, BigRational>,
}

impl SizePoly {
    /// The constant `n`.
    pub(crate) fn constant(n: BigRational) -> SizePoly {
        let mut terms = BTreeMap::new();
        if !n.is_zero() {
            terms.insert(Vec::new(), n);
        }
        SizePoly { terms }
    }

    /// The constant one.
    pub(crate) fn one() -> SizePoly {
        SizePoly::constant(BigRational::one())
    }

    /// The symbol `x`.
    pub(crate) fn symbol(x: &str) -> SizePoly {
        let mut terms = BTreeMap::new();
        terms.insert(vec![x.to_string()], BigRational::one());
        SizePoly { terms }
    }

    /// The constant value, if the size is a number.
    pub(crate) fn as_constant(&self) -> Option<BigRational> {
        match self.terms.len() {
            0 => Some(BigRational::zero()),
            1 => self.terms.get(&Vec::new()).cloned(),
            _ => None,
        }
    }

    /// Is the size the number one?
    pub(crate) fn is_one(&self) -> bool {
        self.as_constant().is_some_and(|c| c.is_one())
    }

    /// `self + o`.
    pub(crate) fn add(&self, o: &SizePoly) -> SizePoly {
        let mut terms = self.terms.clone();
        for (m, c) in &o.terms {
            let e = terms.entry(m.clone()).or_insert_with(BigRational::zero);
            *e += c;
            if e.is_zero() {
                terms.remove(m);
            }
        }
        SizePoly { terms }
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> SizePoly {
        SizePoly {
            terms: self.terms.iter().map(|(m, c)| (m.clone(), -c)).collect(),
        }
    }

    /// `self · o`.
    pub(crate) fn mul(&self, o: &SizePoly) -> SizePoly {
        let mut out = SizePoly::default();
        for (m1, c1) in &self.terms {
            for (m2, c2) in &o.terms {
                let mut m = m1.clone();
                m.extend(m2.iter().cloned());
                m.sort();
                let mut one = BTreeMap::new();
                one.insert(m, c1 * c2);
                out = out.add(&SizePoly { terms: one });
            }
        }
        out
    }

    /// The symbols it mentions.
    pub(crate) fn symbols(&self) -> Vec<String> {
        let mut out: Vec<String> = self.terms.keys().flatten().cloned().collect();
        out.sort();
        out.dedup();
        out
    }

    /// Reads a size expression; `None` when it is not a polynomial in names.
    pub(crate) fn from_expr(e: &Expr) -> Option<SizePoly> {
        match &e.kind {
            ExprKind::Number(q) => Some(SizePoly::constant(q.clone())),
            ExprKind::Name(n) => Some(SizePoly::symbol(n)),
            ExprKind::Neg(a) => Some(SizePoly::from_expr(a)?.neg()),
            ExprKind::Binary(op, a, b) => {
                let x = SizePoly::from_expr(a)?;
                match op {
                    BinOp::Add => Some(x.add(&SizePoly::from_expr(b)?)),
                    BinOp::Sub => Some(x.add(&SizePoly::from_expr(b)?.neg())),
                    BinOp::Mul => Some(x.mul(&SizePoly::from_expr(b)?)),
                    BinOp::Pow => {
                        let k = small_exponent(b.as_number()?)?;
                        if !(0..=SIZE_EXPONENT).contains(&k) {
                            return None;
                        }
                        let mut out = SizePoly::one();
                        for _ in 0..k {
                            out = out.mul(&x);
                        }
                        Some(out)
                    }
                    BinOp::Div => None,
                }
            }
            _ => None,
        }
    }

    /// The size as an expression (for costs and traces).
    pub(crate) fn to_expr(&self) -> Expr {
        let mut sum: Option<Expr> = None;
        for (m, c) in &self.terms {
            let mut t = Expr::rational(c.clone());
            for x in m {
                t = Expr::binary(BinOp::Mul, t, Expr::name(x));
            }
            sum = Some(match sum {
                None => t,
                Some(s) => Expr::binary(BinOp::Add, s, t),
            });
        }
        sum.unwrap_or_else(|| Expr::int(0))
    }

    /// The value at integer values of its symbols.
    pub(crate) fn eval(&self, values: &BTreeMap<String, BigRational>) -> Option<BigRational> {
        let mut total = BigRational::zero();
        for (m, c) in &self.terms {
            let mut t = c.clone();
            for x in m {
                t *= values.get(x)?;
            }
            total += t;
        }
        Some(total)
    }

    /// The value as a count (a positive integer of at most `limit`).
    pub(crate) fn count(
        &self,
        values: &BTreeMap<String, BigRational>,
        limit: usize,
    ) -> Option<usize> {
        let v = self.eval(values)?;
        if !v.is_integer() {
            return None;
        }
        let n = v.to_integer();
        if n < BigInt::one() {
            return None;
        }
        n.to_usize().filter(|n| *n <= limit)
    }
}

impl fmt::Display for SizePoly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return write!(f, "0");
        }
        let mut first = true;
        for (m, c) in &self.terms {
            let neg = c < &BigRational::zero();
            let a = if neg { -c.clone() } else { c.clone() };
            if first {
                if neg {
                    write!(f, "-")?;
                }
            } else {
                write!(f, " {} ", if neg { "-" } else { "+" })?;
            }
            first = false;
            let mut parts = Vec::new();
            if !a.is_one() || m.is_empty() {
                parts.push(crate::syntax::expr::format_rational(&a));
            }
            let mut i = 0;
            while i < m.len() {
                let mut k = 1;
                while i + k < m.len() && m[i + k] == m[i] {
                    k += 1;
                }
                parts.push(if k == 1 {
                    m[i].clone()
                } else {
                    format!("{}^{k}", m[i])
                });
                i += k;
            }
            write!(f, "{}", parts.join(" "))?;
        }
        Ok(())
    }
}

/// One dimension of a shape: a known size, or a variable of an identity
/// whose size its context fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dim {
    /// A known size.
    Size(SizePoly),
    /// Unknown yet (numbered).
    Var(usize),
}

/// Rows and columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Rows.
    pub(crate) rows: Dim,
    /// Columns.
    pub(crate) cols: Dim,
}

/// The substitution found by unification.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sizes {
    bound: BTreeMap<usize, Dim>,
    next: usize,
}

impl Sizes {
    /// A fresh size variable.
    pub(crate) fn fresh(&mut self) -> Dim {
        self.next += 1;
        Dim::Var(self.next)
    }

    /// The dimension with every bound variable replaced.
    pub(crate) fn resolve(&self, d: &Dim) -> Dim {
        let mut cur = d.clone();
        for _ in 0..10_000 {
            match &cur {
                Dim::Var(v) => match self.bound.get(v) {
                    Some(next) => cur = next.clone(),
                    None => return cur,
                },
                Dim::Size(_) => return cur,
            }
        }
        cur
    }

    /// Makes two dimensions equal; false when they are different known sizes.
    pub(crate) fn unify(&mut self, a: &Dim, b: &Dim) -> bool {
        let (a, b) = (self.resolve(a), self.resolve(b));
        match (&a, &b) {
            (Dim::Size(x), Dim::Size(y)) => x == y,
            (Dim::Var(v), Dim::Var(w)) if v == w => true,
            (Dim::Var(v), _) => {
                self.bound.insert(*v, b.clone());
                true
            }
            (_, Dim::Var(w)) => {
                self.bound.insert(*w, a.clone());
                true
            }
        }
    }

    /// The size of a dimension, when known.
    pub(crate) fn known(&self, d: &Dim) -> Option<SizePoly> {
        match self.resolve(d) {
            Dim::Size(s) => Some(s),
            Dim::Var(_) => None,
        }
    }

    /// Text of a dimension for messages.
    pub(crate) fn show(&self, d: &Dim) -> String {
        match self.resolve(d) {
            Dim::Size(s) => s.to_string(),
            Dim::Var(_) => "any".into(),
        }
    }

    /// Text of a shape for messages: `d_out × d_in`.
    pub(crate) fn show_shape(&self, s: &Shape) -> String {
        format!("{} × {}", self.show(&s.rows), self.show(&s.cols))
    }

    /// Is the shape known to be 1 × 1?
    pub(crate) fn is_one_by_one(&self, s: &Shape) -> bool {
        self.known(&s.rows).is_some_and(|r| r.is_one())
            && self.known(&s.cols).is_some_and(|c| c.is_one())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> SizePoly {
        struct N;
        impl crate::syntax::parser::Names for N {
            fn class(&self, _: &str) -> Option<crate::syntax::parser::NameClass> {
                Some(crate::syntax::parser::NameClass::Value)
            }
            fn declared(&self) -> Vec<String> {
                vec!["n".into(), "m".into()]
            }
        }
        SizePoly::from_expr(&crate::syntax::parser::parse_expr(s, &N, &[]).unwrap()).unwrap()
    }

    #[test]
    fn sizes_compare_as_polynomials() {
        assert_eq!(parse("n m"), parse("m * n"));
        assert_eq!(parse("(n + 1)^2"), parse("n^2 + 2 n + 1"));
        assert_ne!(parse("n"), parse("m"));
        assert!(parse("n - n + 1").is_one());
    }

    #[test]
    fn identity_sizes_unify_with_their_context() {
        let mut s = Sizes::default();
        let v = s.fresh();
        assert!(s.unify(&v, &Dim::Size(SizePoly::symbol("n"))));
        assert_eq!(s.known(&v), Some(SizePoly::symbol("n")));
        assert!(!s.unify(&v, &Dim::Size(SizePoly::symbol("m"))));
    }
}
