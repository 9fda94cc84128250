//! The domain of one claim: each free symbol's kind, the bounds and linear
//! facts that `where` and `given` add, and what they imply about signs.

use crate::resolve::ScalarKind;
use crate::syntax::expr::{BinOp, Expr, ExprKind, RelOp};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use std::collections::BTreeMap;

/// What is known about the sign of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// > 0
    Pos,
    /// >= 0
    NonNeg,
    /// < 0
    Neg,
    /// <= 0
    NonPos,
    /// = 0
    Zero,
    /// != 0
    NonZero,
    /// Nothing known.
    Unknown,
}

impl Sign {
    /// The sign of a rational.
    pub fn of(q: &BigRational) -> Sign {
        if q.is_zero() {
            Sign::Zero
        } else if q.is_positive() {
            Sign::Pos
        } else {
            Sign::Neg
        }
    }

    /// Is the value certainly >= 0?
    pub fn nonneg(self) -> bool {
        matches!(self, Sign::Pos | Sign::NonNeg | Sign::Zero)
    }

    /// Is the value certainly <= 0?
    pub fn nonpos(self) -> bool {
        matches!(self, Sign::Neg | Sign::NonPos | Sign::Zero)
    }

    /// Is the value certainly nonzero?
    pub fn nonzero(self) -> bool {
        matches!(self, Sign::Pos | Sign::Neg | Sign::NonZero)
    }

    /// The sign of minus the value.
    pub fn neg(self) -> Sign {
        match self {
            Sign::Pos => Sign::Neg,
            Sign::NonNeg => Sign::NonPos,
            Sign::Neg => Sign::Pos,
            Sign::NonPos => Sign::NonNeg,
            other => other,
        }
    }

    /// The sign of a product.
    pub fn mul(self, o: Sign) -> Sign {
        if self == Sign::Zero || o == Sign::Zero {
            return Sign::Zero;
        }
        let flip = |s: Sign| if s.nonpos() { s.neg() } else { s };
        let neg = self.nonpos() != o.nonpos();
        let (a, b) = (flip(self), flip(o));
        let base = match (a, b) {
            (Sign::Pos, Sign::Pos) => Sign::Pos,
            (Sign::Pos | Sign::NonNeg, Sign::Pos | Sign::NonNeg) => Sign::NonNeg,
            (Sign::NonZero | Sign::Pos, Sign::NonZero | Sign::Pos) => return Sign::NonZero,
            _ => return Sign::Unknown,
        };
        if neg {
            base.neg()
        } else {
            base
        }
    }

    /// The sign of a sum.
    pub fn add(self, o: Sign) -> Sign {
        match (self, o) {
            (Sign::Zero, x) | (x, Sign::Zero) => x,
            (a, b) if a.nonneg() && b.nonneg() => {
                if a == Sign::Pos || b == Sign::Pos {
                    Sign::Pos
                } else {
                    Sign::NonNeg
                }
            }
            (a, b) if a.nonpos() && b.nonpos() => {
                if a == Sign::Neg || b == Sign::Neg {
                    Sign::Neg
                } else {
                    Sign::NonPos
                }
            }
            _ => Sign::Unknown,
        }
    }

    /// The sign of a kind's values.
    pub fn of_kind(k: ScalarKind) -> Sign {
        match k {
            ScalarKind::Positive | ScalarKind::PositiveInteger => Sign::Pos,
            ScalarKind::Nonnegative | ScalarKind::NonnegativeInteger => Sign::NonNeg,
            ScalarKind::Nonzero => Sign::NonZero,
            ScalarKind::Real | ScalarKind::Integer => Sign::Unknown,
        }
    }
}

/// A bound `x >= value` (or `>` when strict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The bound's value.
    pub value: BigRational,
    /// Strict (`>` / `<`)?
    pub strict: bool,
}

/// A linear fact `big - small >= offset` (or `>`), from `where = "k <= n"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinearFact {
    /// The larger symbol.
    pub big: String,
    /// The smaller symbol.
    pub small: String,
    /// The least difference.
    pub offset: BigRational,
    /// Strict?
    pub strict: bool,
}

/// Everything a claim may assume.
#[derive(Clone, Debug, Default)]
pub struct Domain {
    /// Free scalar symbols and their kinds.
    pub kinds: BTreeMap<String, ScalarKind>,
    /// Lower bounds from conditions.
    pub lower: BTreeMap<String, Bound>,
    /// Upper bounds from conditions.
    pub upper: BTreeMap<String, Bound>,
    /// Symbol-to-symbol facts.
    pub facts: Vec<LinearFact>,
    /// Conditions that are none of the above (checked when sampling only).
    pub other: Vec<Expr>,
}

fn as_symbol(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Name(n) => Some(n),
        _ => None,
    }
}

/// A literal number, possibly negated.
pub fn as_literal(e: &Expr) -> Option<BigRational> {
    match &e.kind {
        ExprKind::Number(q) => Some(q.clone()),
        ExprKind::Neg(a) => as_literal(a).map(|q| -q),
        ExprKind::Binary(BinOp::Div, a, b) => {
            let (a, b) = (as_literal(a)?, as_literal(b)?);
            (!b.is_zero()).then(|| a / b)
        }
        _ => None,
    }
}

/// `symbol + c` or `symbol - c` or `symbol`.
fn as_shifted_symbol(e: &Expr) -> Option<(&str, BigRational)> {
    match &e.kind {
        ExprKind::Name(n) => Some((n, BigRational::zero())),
        ExprKind::Binary(BinOp::Add, a, b) => Some((as_symbol(a)?, as_literal(b)?)),
        ExprKind::Binary(BinOp::Sub, a, b) => Some((as_symbol(a)?, -as_literal(b)?)),
        _ => None,
    }
}

impl Domain {
    /// Records `a op b` (one link of a condition chain).
    pub fn add_relation(&mut self, a: &Expr, op: RelOp, b: &Expr, whole: &Expr) {
        let (a, op, b) = match op {
            RelOp::Ge | RelOp::Gt => (b, op.flipped(), a),
            _ => (a, op, b),
        };
        // Now op is one of <=, <, =, !=.
        match op {
            RelOp::Le | RelOp::Lt => {
                let strict = op == RelOp::Lt;
                if let (Some(x), Some(v)) = (as_symbol(a), as_literal(b)) {
                    self.tighten_upper(x, v, strict);
                    return;
                }
                if let (Some(v), Some(x)) = (as_literal(a), as_symbol(b)) {
                    self.tighten_lower(x, v, strict);
                    return;
                }
                if let (Some((small, c1)), Some((big, c2))) =
                    (as_shifted_symbol(a), as_shifted_symbol(b))
                {
                    // small + c1 <= big + c2  =>  big - small >= c1 - c2
                    self.facts.push(LinearFact {
                        big: big.to_string(),
                        small: small.to_string(),
                        offset: c1 - c2,
                        strict,
                    });
                    return;
                }
                self.other.push(whole.clone());
            }
            RelOp::Eq => {
                let pinned = match (as_symbol(a), as_literal(b), as_symbol(b), as_literal(a)) {
                    (Some(x), Some(v), _, _) | (_, _, Some(x), Some(v)) => Some((x, v)),
                    _ => None,
                };
                if let Some((x, v)) = pinned {
                    self.tighten_lower(x, v.clone(), false);
                    self.tighten_upper(x, v, false);
                    return;
                }
                if let (Some((p, c1)), Some((q, c2))) = (as_shifted_symbol(a), as_shifted_symbol(b))
                {
                    // p + c1 = q + c2: two linear facts.
                    let d = c1 - c2;
                    self.facts.push(LinearFact {
                        big: q.to_string(),
                        small: p.to_string(),
                        offset: d.clone(),
                        strict: false,
                    });
                    self.facts.push(LinearFact {
                        big: p.to_string(),
                        small: q.to_string(),
                        offset: -d,
                        strict: false,
                    });
                    return;
                }
                self.other.push(whole.clone());
            }
            RelOp::Ne => {
                // `x != 0` refines the sign the kind gives `x`.
                let zero = |e: &Expr| as_literal(e).is_some_and(|v| v.is_zero());
                let x = match (as_symbol(a), as_symbol(b)) {
                    (Some(x), _) if zero(b) => Some(x),
                    (_, Some(x)) if zero(a) => Some(x),
                    _ => None,
                };
                if let Some(x) = x {
                    let refined = match self.kinds.get(x) {
                        Some(ScalarKind::Real) => Some(ScalarKind::Nonzero),
                        Some(ScalarKind::Nonnegative) => Some(ScalarKind::Positive),
                        Some(ScalarKind::NonnegativeInteger) => Some(ScalarKind::PositiveInteger),
                        _ => None,
                    };
                    if let Some(k) = refined {
                        self.kinds.insert(x.to_string(), k);
                    }
                }
                self.other.push(whole.clone());
            }
            _ => self.other.push(whole.clone()),
        }
    }

    fn tighten_lower(&mut self, x: &str, mut v: BigRational, mut strict: bool) {
        if self.kinds.get(x).is_some_and(|k| k.is_integer()) {
            // Integers: x > v means x >= floor(v) + 1; x >= v means x >= ceil(v).
            v = if strict {
                v.floor() + BigRational::from_integer(1.into())
            } else {
                v.ceil()
            };
            strict = false;
        }
        let replace = match self.lower.get(x) {
            None => true,
            Some(b) => v > b.value || (v == b.value && strict && !b.strict),
        };
        if replace {
            self.lower.insert(x.to_string(), Bound { value: v, strict });
        }
    }

    fn tighten_upper(&mut self, x: &str, mut v: BigRational, mut strict: bool) {
        if self.kinds.get(x).is_some_and(|k| k.is_integer()) {
            v = if strict {
                v.ceil() - BigRational::from_integer(1.into())
            } else {
                v.floor()
            };
            strict = false;
        }
        let replace = match self.upper.get(x) {
            None => true,
            Some(b) => v < b.value || (v == b.value && strict && !b.strict),
        };
        if replace {
            self.upper.insert(x.to_string(), Bound { value: v, strict });
        }
    }

    /// Adds every link of a condition (a comparison chain).
    pub fn add_condition(&mut self, cond: &Expr) {
        if let ExprKind::Compare(items, ops) = &cond.kind {
            for (i, op) in ops.iter().enumerate() {
                self.add_relation(&items[i], *op, &items[i + 1], cond);
            }
        } else {
            self.other.push(cond.clone());
        }
    }

    /// Tightens bounds through the linear facts (`h <= k` and `k <= 6` give
    /// `h <= 6`), a few rounds.
    pub fn propagate(&mut self) {
        for _ in 0..4 {
            for f in self.facts.clone() {
                // big - small >= offset
                if let Some(u) = self.upper_bound(&f.big) {
                    self.tighten_upper(&f.small, u.value - &f.offset, u.strict || f.strict);
                }
                if let Some(l) = self.lower_bound(&f.small) {
                    self.tighten_lower(&f.big, l.value + &f.offset, l.strict || f.strict);
                }
            }
        }
    }

    /// The effective lower bound of a symbol (kind and conditions together).
    pub fn lower_bound(&self, x: &str) -> Option<Bound> {
        let from_kind = self.kinds.get(x).and_then(|k| match k {
            ScalarKind::PositiveInteger => Some(Bound {
                value: BigRational::from_integer(1.into()),
                strict: false,
            }),
            ScalarKind::Positive => Some(Bound {
                value: BigRational::zero(),
                strict: true,
            }),
            ScalarKind::Nonnegative | ScalarKind::NonnegativeInteger => Some(Bound {
                value: BigRational::zero(),
                strict: false,
            }),
            _ => None,
        });
        match (from_kind, self.lower.get(x).cloned()) {
            (Some(a), Some(b)) => Some(if b.value > a.value || (b.value == a.value && b.strict) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        }
    }

    /// The upper bound of a symbol from conditions.
    pub fn upper_bound(&self, x: &str) -> Option<Bound> {
        self.upper.get(x).cloned()
    }

    /// What the kind and bounds say about a symbol's sign.
    pub fn symbol_sign(&self, x: &str) -> Sign {
        let kind = self
            .kinds
            .get(x)
            .map_or(Sign::Unknown, |k| Sign::of_kind(*k));
        let lower = self.lower_bound(x);
        let upper = self.upper_bound(x);
        if let Some(l) = &lower {
            if l.value.is_positive() || (l.value.is_zero() && l.strict) {
                return Sign::Pos;
            }
        }
        if let Some(u) = &upper {
            if u.value.is_negative() || (u.value.is_zero() && u.strict) {
                return Sign::Neg;
            }
        }
        let nonneg = lower.as_ref().is_some_and(|l| !l.value.is_negative());
        let nonpos = upper.as_ref().is_some_and(|u| !u.value.is_positive());
        match (nonneg, nonpos) {
            (true, true) => Sign::Zero,
            (true, false) => {
                if kind == Sign::NonZero {
                    Sign::Pos
                } else {
                    Sign::NonNeg
                }
            }
            (false, true) => {
                if kind == Sign::NonZero {
                    Sign::Neg
                } else {
                    Sign::NonPos
                }
            }
            _ => kind,
        }
    }

    /// Is the integer range of every integer symbol finite, and how many points in all?
    pub fn finite_points(&self, symbols: &[String]) -> Option<u128> {
        let mut total: u128 = 1;
        for s in symbols {
            let k = self.kinds.get(s)?;
            if self.pinned(s).is_some() {
                continue;
            }
            if !k.is_integer() {
                return None;
            }
            let lo = self.lower_bound(s)?.value.to_integer();
            let hi = self.upper_bound(s)?.value.to_integer();
            if hi < lo {
                return Some(0);
            }
            let n: u128 = num_traits::ToPrimitive::to_u128(&(hi - lo + 1u32))?;
            total = total.checked_mul(n)?;
        }
        Some(total)
    }

    /// The one value a symbol may take, when its bounds pin it (`x = 1/2`,
    /// or `1 <= x <= 1`) and its kind allows that value.
    pub fn pinned(&self, s: &str) -> Option<BigRational> {
        let (lo, hi) = (self.lower_bound(s)?, self.upper_bound(s)?);
        let kind = self.kinds.get(s)?;
        (lo.value == hi.value
            && !lo.strict
            && !hi.strict
            && (!kind.is_integer() || lo.value.is_integer()))
        .then_some(lo.value)
    }
}
