//! Exact derivatives: `diff(expr, v)` evaluated at a point by forward-mode
//! dual numbers over exact values, with respect to a scalar symbol or an
//! array entry `w(h, l)`. Non-smooth built-ins (`abs`, `max`, `min`, `step`,
//! `floor`, ...) are differentiated only away from their kinks; at a kink the
//! point is undecided, never guessed.

use crate::exact::eval::{compare, EvalError, Evaluator};
use crate::exact::real::Real;
use crate::syntax::expr::{BinOp, Builtin, Expr, ExprKind};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::collections::BTreeMap;

type R<T> = Result<T, EvalError>;

/// A value and its derivative.
#[derive(Clone, Debug)]
struct Dual {
    v: Real,
    d: Real,
}

fn zero() -> Real {
    Real::exact(BigRational::zero())
}

fn constant(v: Real) -> Dual {
    Dual { v, d: zero() }
}

fn is_zero(r: &Real) -> bool {
    r.as_exact().is_some_and(|q| q.is_zero())
}

/// The derivative `x' y + x y'` of a product, without the multiplications
/// whose derivative factor is exactly zero (most terms of a sum over entries).
fn product_rule(x: &Dual, y: &Dual) -> R<Real> {
    Ok(match (is_zero(&x.d), is_zero(&y.d)) {
        (true, true) => zero(),
        (true, false) => x.v.mul(&y.d)?,
        (false, true) => x.d.mul(&y.v)?,
        (false, false) => x.d.mul(&y.v)?.add(&x.v.mul(&y.d)?)?,
    })
}

/// What `diff` differentiates by.
enum Target {
    Symbol(String),
    Entry(String, Vec<BigInt>),
}

struct Differ<'e, 'a> {
    ev: &'e Evaluator<'a>,
    target: Target,
    work: usize,
}

fn int_value(v: &Real) -> R<BigInt> {
    match v.as_exact() {
        Some(q) if q.is_integer() => Ok(q.numer().clone()),
        _ => Err(EvalError::Unsupported("an index must be an integer".into())),
    }
}

impl Differ<'_, '_> {
    fn dual(
        &mut self,
        e: &Expr,
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Dual)>,
        depth: usize,
    ) -> R<Dual> {
        self.work += 1;
        if self.work > crate::exact::eval::EVAL_WORK || depth > crate::exact::eval::CALL_DEPTH {
            return Err(EvalError::Budget(
                "differentiation took too many steps".into(),
            ));
        }
        match &e.kind {
            ExprKind::Number(q) => Ok(constant(Real::exact(q.clone()))),
            ExprKind::Name(n) => {
                if let Some((_, v)) = locals.iter().rev().find(|(x, _)| x == n) {
                    return Ok(v.clone());
                }
                let ctx = self.ev.context();
                if let Some(def) = ctx.definitions.get(n) {
                    if def.params.is_empty() {
                        return self.dual(&def.body, point, &mut Vec::new(), depth + 1);
                    }
                }
                let v = point
                    .get(n)
                    .cloned()
                    .ok_or_else(|| EvalError::Unsupported(format!("no value for `{n}`")))?;
                let d = matches!(&self.target, Target::Symbol(s) if s == n);
                Ok(Dual {
                    v,
                    d: Real::exact(if d {
                        BigRational::one()
                    } else {
                        BigRational::zero()
                    }),
                })
            }
            ExprKind::Neg(a) => {
                let x = self.dual(a, point, locals, depth)?;
                Ok(Dual {
                    v: x.v.neg(),
                    d: x.d.neg(),
                })
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.dual(a, point, locals, depth)?;
                let y = self.dual(b, point, locals, depth)?;
                Ok(match op {
                    BinOp::Add => Dual {
                        v: x.v.add(&y.v)?,
                        d: x.d.add(&y.d)?,
                    },
                    BinOp::Sub => Dual {
                        v: x.v.sub(&y.v)?,
                        d: x.d.sub(&y.d)?,
                    },
                    BinOp::Mul => Dual {
                        v: x.v.mul(&y.v)?,
                        d: product_rule(&x, &y)?,
                    },
                    BinOp::Div => {
                        let v = x.v.div(&y.v)?;
                        let d = x.d.mul(&y.v)?.sub(&x.v.mul(&y.d)?)?.div(&y.v.mul(&y.v)?)?;
                        Dual { v, d }
                    }
                    BinOp::Pow => {
                        let k = y.v.as_exact().filter(|q| {
                            q.is_integer() && y.d.as_exact().is_some_and(|d| d.is_zero())
                        });
                        let Some(k) = k else {
                            let v = x.v.pow(&y.v)?;
                            if y.d.as_exact().is_some_and(|d| d.is_zero()) {
                                // A constant exponent r: r x^(r-1) x'.
                                let one = Real::exact(BigRational::one());
                                let d = y.v.mul(&x.v.pow(&y.v.sub(&one)?)?)?.mul(&x.d)?;
                                return Ok(Dual { v, d });
                            }
                            // x^y = exp(y log x): x^y (y' log x + y x'/x), for x > 0.
                            let d =
                                v.mul(&y.d.mul(&x.v.log()?)?.add(&y.v.mul(&x.d)?.div(&x.v)?)?)?;
                            return Ok(Dual { v, d });
                        };
                        let k = k.to_integer();
                        let v = x.v.powi(&k)?;
                        let d = if k.is_zero() {
                            zero()
                        } else {
                            Real::exact(BigRational::from_integer(k.clone()))
                                .mul(&x.v.powi(&(&k - 1))?)?
                                .mul(&x.d)?
                        };
                        Dual { v, d }
                    }
                })
            }
            ExprKind::Call { name, args } => self.call(name, args, point, locals, depth),
            ExprKind::Builtin { op, args, .. } => self.builtin(*op, args, point, locals, depth),
            _ => Err(EvalError::Unsupported(format!(
                "diff of `{e}` is not supported"
            ))),
        }
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Dual)>,
        depth: usize,
    ) -> R<Dual> {
        let ctx = self.ev.context();
        if let Some(def) = ctx.definitions.get(name) {
            let mut inner = Vec::new();
            for (p, a) in def.params.iter().zip(args) {
                inner.push((p.clone(), self.dual(a, point, locals, depth)?));
            }
            return self.dual(&def.body, point, &mut inner, depth + 1);
        }
        if self.ev.array(name).is_some() {
            let mut idx = Vec::new();
            let mut ints = Vec::new();
            for a in args {
                let v = self.dual(a, point, locals, depth)?.v;
                ints.push(int_value(&v)?);
                idx.push(v);
            }
            let v = self.ev.entry(name, &idx)?;
            let hit = matches!(&self.target, Target::Entry(t, at) if t == name && *at == ints);
            return Ok(Dual {
                v,
                d: Real::exact(if hit {
                    BigRational::one()
                } else {
                    BigRational::zero()
                }),
            });
        }
        Err(EvalError::Unsupported(format!(
            "diff through `{name}` is not supported"
        )))
    }

    fn builtin(
        &mut self,
        op: Builtin,
        args: &[Expr],
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Dual)>,
        depth: usize,
    ) -> R<Dual> {
        let name = op.name();
        let arg = |i: usize, me: &mut Self, locals: &mut Vec<(String, Dual)>| {
            me.dual(&args[i], point, locals, depth)
        };
        if let Some(defined) = crate::syntax::expr::exp_form(op, args) {
            return self.dual(&defined, point, locals, depth);
        }
        match op {
            Builtin::Sin => {
                let x = arg(0, self, locals)?;
                Ok(Dual {
                    v: x.v.sin()?,
                    d: x.v.cos()?.mul(&x.d)?,
                })
            }
            Builtin::Cos => {
                let x = arg(0, self, locals)?;
                Ok(Dual {
                    v: x.v.cos()?,
                    d: x.v.sin()?.neg().mul(&x.d)?,
                })
            }
            Builtin::Tan => {
                let x = arg(0, self, locals)?;
                let c = x.v.cos()?;
                Ok(Dual {
                    v: x.v.tan()?,
                    d: x.d.div(&c.mul(&c)?)?,
                })
            }
            Builtin::Pi => Ok(constant(Real::pi()?)),
            Builtin::Sigmoid
            | Builtin::Softplus
            | Builtin::Sinh
            | Builtin::Cosh
            | Builtin::Tanh
            | Builtin::E => Err(EvalError::Unsupported(format!(
                "`{name}` cannot be evaluated at a point yet"
            ))),
            Builtin::Sum | Builtin::Prod => {
                let ExprKind::Name(k) = &args[0].kind else {
                    return Err(EvalError::Unsupported("a sum needs an index".into()));
                };
                let lo = int_value(&arg(1, self, locals)?.v)?;
                let hi = int_value(&arg(2, self, locals)?.v)?;
                let mut acc = if op == Builtin::Sum {
                    constant(zero())
                } else {
                    constant(Real::exact(BigRational::one()))
                };
                if (&hi - &lo)
                    .to_u64()
                    .is_some_and(|n| n > crate::exact::eval::SUM_TERMS)
                {
                    return Err(EvalError::Budget(format!(
                        "a sum with more than {} terms",
                        crate::exact::eval::SUM_TERMS
                    )));
                }
                let mut i = lo;
                while i <= hi {
                    locals.push((
                        k.clone(),
                        constant(Real::exact(BigRational::from_integer(i.clone()))),
                    ));
                    let t = self.dual(&args[3], point, locals, depth);
                    locals.pop();
                    let t = t?;
                    acc = if op == Builtin::Sum {
                        Dual {
                            v: acc.v.add(&t.v)?,
                            d: acc.d.add(&t.d)?,
                        }
                    } else {
                        Dual {
                            v: acc.v.mul(&t.v)?,
                            d: product_rule(&acc, &t)?,
                        }
                    };
                    i += 1;
                }
                Ok(acc)
            }
            Builtin::Sqrt => {
                let x = arg(0, self, locals)?;
                let v = x.v.sqrt()?;
                let d =
                    x.d.div(&v.mul(&Real::exact(BigRational::from_integer(2.into())))?)?;
                Ok(Dual { v, d })
            }
            Builtin::Exp => {
                let x = arg(0, self, locals)?;
                let v = x.v.exp()?;
                Ok(Dual { d: v.mul(&x.d)?, v })
            }
            Builtin::Log => {
                let x = arg(0, self, locals)?;
                Ok(Dual {
                    v: x.v.log()?,
                    d: x.d.div(&x.v)?,
                })
            }
            Builtin::Abs => {
                let x = arg(0, self, locals)?;
                match x.v.cmp_certain(&zero()) {
                    Some(Ordering::Greater) => Ok(Dual { v: x.v, d: x.d }),
                    Some(Ordering::Less) => Ok(Dual {
                        v: x.v.neg(),
                        d: x.d.neg(),
                    }),
                    _ => Err(EvalError::Undecided(
                        "abs is not differentiable at 0".into(),
                    )),
                }
            }
            Builtin::Max | Builtin::Min => {
                let mut best = arg(0, self, locals)?;
                for i in 1..args.len() {
                    let y = arg(i, self, locals)?;
                    match y.v.cmp_certain(&best.v) {
                        Some(Ordering::Equal) | None => {
                            return Err(EvalError::Undecided(format!(
                                "{name} is not differentiable at a tie"
                            )))
                        }
                        Some(o) => {
                            if (o == Ordering::Greater) == (op == Builtin::Max) {
                                best = y;
                            }
                        }
                    }
                }
                Ok(best)
            }
            Builtin::Step | Builtin::Sign | Builtin::Floor | Builtin::Ceil | Builtin::Factorial => {
                // Piecewise constant: derivative 0 away from the jumps.
                let x = arg(0, self, locals)?;
                let v = self.ev.eval(
                    &Expr::builtin(
                        op,
                        vec![Expr::rational(x.v.as_exact().cloned().ok_or_else(
                            || EvalError::Undecided("an irrational argument".into()),
                        )?)],
                    ),
                    point,
                )?;
                let at_jump = match op {
                    Builtin::Step | Builtin::Sign => x.v.as_exact().is_some_and(|q| q.is_zero()),
                    _ => x.v.as_exact().is_some_and(|q| q.is_integer()),
                };
                if at_jump && !x.d.as_exact().is_some_and(|d| d.is_zero()) {
                    return Err(EvalError::Undecided(format!("{name} jumps here")));
                }
                Ok(constant(v))
            }
            Builtin::If => {
                let truth = self.condition(&args[0], point, locals, depth)?;
                arg(if truth { 1 } else { 2 }, self, locals)
            }
            Builtin::Diff => Err(EvalError::Unsupported(
                "nested diff is not evaluated at points (it is decided symbolically)".into(),
            )),
            Builtin::Integral => Err(EvalError::Unsupported(
                "diff of an integral is not evaluated at points".into(),
            )),
            Builtin::Trace
            | Builtin::Norm2
            | Builtin::NormF
            | Builtin::Rms
            | Builtin::Rank
            | Builtin::Cost
            | Builtin::Inv
            | Builtin::Det
            | Builtin::Diag
            | Builtin::Grad
            | Builtin::Hessian
            | Builtin::Jacobian
            | Builtin::Conv1d
            | Builtin::Conv2d
            | Builtin::Correlate2d
            | Builtin::Flip
            | Builtin::Maxpool2d
            | Builtin::Avgpool2d
            | Builtin::Relu
            | Builtin::Flatten
            | Builtin::Gap
            | Builtin::Roll
            | Builtin::Rows
            | Builtin::Cols
            | Builtin::Numel
            | Builtin::Ones
            | Builtin::Zeros
            | Builtin::Var
            | Builtin::Cov
            | Builtin::Std => Err(EvalError::Unsupported(format!(
                "diff through `{name}` is not supported"
            ))),
        }
    }

    fn condition(
        &mut self,
        e: &Expr,
        point: &BTreeMap<String, Real>,
        locals: &mut Vec<(String, Dual)>,
        depth: usize,
    ) -> R<bool> {
        match &e.kind {
            ExprKind::And(parts) => {
                for p in parts {
                    if !self.condition(p, point, locals, depth)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            ExprKind::Compare(items, ops) => {
                let mut prev = self.dual(&items[0], point, locals, depth)?.v;
                for (i, op) in ops.iter().enumerate() {
                    let next = self.dual(&items[i + 1], point, locals, depth)?.v;
                    if !compare(&prev, *op, &next)? {
                        return Ok(false);
                    }
                    prev = next;
                }
                Ok(true)
            }
            _ => Err(EvalError::Unsupported("not a condition".into())),
        }
    }
}

impl Evaluator<'_> {
    /// The exact derivative of `body` with respect to `var` (a scalar symbol or
    /// an array entry `w(h, l)`) at `point`.
    pub(crate) fn derivative(
        &self,
        body: &Expr,
        var: &Expr,
        point: &BTreeMap<String, Real>,
        locals: &[(String, Real)],
    ) -> R<Real> {
        let target =
            match &var.kind {
                ExprKind::Name(n) => Target::Symbol(n.clone()),
                ExprKind::Call { name, args, .. } if self.array(name).is_some() => {
                    let mut idx = Vec::new();
                    for a in args {
                        let v = self.eval_with_locals(a, point, locals)?;
                        idx.push(int_value(&v)?);
                    }
                    Target::Entry(name.clone(), idx)
                }
                _ => return Err(EvalError::Unsupported(
                    "diff differentiates by a scalar symbol or an array entry such as `w(h, l)`"
                        .into(),
                )),
            };
        let mut d = Differ {
            ev: self,
            target,
            work: 0,
        };
        let mut duals: Vec<(String, Dual)> = locals
            .iter()
            .map(|(n, v)| (n.clone(), constant(v.clone())))
            .collect();
        Ok(d.dual(body, point, &mut duals, 0)?.d)
    }
}
