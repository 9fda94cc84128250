//! Printing an expression back in LaTeX (`--steps latex`): `(1/2) (3 I - W Wᵀ)`
//! is `\frac{1}{2} \left(3 I - W W^\top\right)`. Names with a subscript
//! part print as `d_{out}`, Greek letters as commands, every built-in as
//! its usual notation; parentheses only where precedence needs them.

use crate::syntax::expr::{format_decimal, BinOp, Builtin, Expr, ExprKind, RelOp};
use num_traits::Signed;

/// The LaTeX of an expression.
pub fn to_latex(e: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, e);
    out
}

/// The LaTeX of a relation symbol.
pub fn relation(op: RelOp) -> &'static str {
    match op {
        RelOp::Eq => "=",
        RelOp::Ne => "\\ne",
        RelOp::Le => "\\le",
        RelOp::Lt => "<",
        RelOp::Ge => "\\ge",
        RelOp::Gt => ">",
        RelOp::Approx => "\\approx",
    }
}

fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Compare(..) | ExprKind::And(_) => 0,
        ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) => 1,
        ExprKind::Binary(BinOp::Mul, ..) => 2,
        ExprKind::Neg(_) => 3,
        ExprKind::Number(q) if q.is_negative() => 3,
        ExprKind::Binary(BinOp::Pow, ..) | ExprKind::Transpose(_) => 4,
        _ => 5,
    }
}

const GREEK: &[(&str, &str)] = &[
    ("α", "alpha"),
    ("β", "beta"),
    ("γ", "gamma"),
    ("δ", "delta"),
    ("ε", "epsilon"),
    ("η", "eta"),
    ("θ", "theta"),
    ("λ", "lambda"),
    ("μ", "mu"),
    ("ν", "nu"),
    ("ρ", "rho"),
    ("σ", "sigma"),
    ("τ", "tau"),
    ("φ", "phi"),
    ("ψ", "psi"),
    ("ω", "omega"),
    ("Σ", "Sigma"),
    ("Δ", "Delta"),
];

fn name(out: &mut String, n: &str) {
    let (base, sub) = match n.split_once('_') {
        Some((b, s)) if !b.is_empty() && !s.is_empty() => (b, Some(s)),
        _ => (n, None),
    };
    let greek = GREEK
        .iter()
        .find(|(u, ascii)| *u == base || *ascii == base)
        .map(|(_, ascii)| *ascii);
    match greek {
        Some(g) => {
            out.push('\\');
            out.push_str(g);
            if sub.is_none() {
                out.push(' ');
            }
        }
        None if base.chars().count() > 1 => {
            out.push_str("\\mathrm{");
            out.push_str(base);
            out.push('}');
        }
        None => out.push_str(base),
    }
    if let Some(s) = sub {
        out.push_str("_{");
        out.push_str(&s.replace('_', "\\_"));
        out.push('}');
    }
}

fn grouped(out: &mut String, e: &Expr, min: u8) {
    if level(e) < min {
        out.push_str("\\left(");
        write(out, e);
        out.push_str("\\right)");
    } else {
        write(out, e);
    }
}

fn args(out: &mut String, args: &[Expr]) {
    out.push_str("\\left(");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(out, a);
    }
    out.push_str("\\right)");
}

fn write(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number(q) => match format_decimal(q) {
            Some(d) => out.push_str(&d),
            None => {
                let sign = if q.is_negative() { "-" } else { "" };
                out.push_str(&format!(
                    "{sign}\\frac{{{}}}{{{}}}",
                    q.numer().abs(),
                    q.denom()
                ));
            }
        },
        ExprKind::Name(n) => name(out, n),
        ExprKind::Str(s) => out.push_str(&format!("\\text{{{s}}}")),
        ExprKind::Neg(a) => {
            out.push('-');
            grouped(out, a, 3);
        }
        ExprKind::Binary(BinOp::Div, a, b) => {
            out.push_str("\\frac{");
            write(out, a);
            out.push_str("}{");
            write(out, b);
            out.push('}');
        }
        ExprKind::Binary(BinOp::Pow, a, b) => {
            grouped(out, a, 5);
            out.push_str("^{");
            write(out, b);
            out.push('}');
        }
        ExprKind::Binary(op, a, b) => {
            let (sym, left, right) = match op {
                BinOp::Add => (" + ", 1, 1),
                BinOp::Sub => (" - ", 1, 2),
                _ => (" ", 2, 3),
            };
            grouped(out, a, left);
            // A product of two numbers needs a visible dot.
            let both_numbers = matches!(op, BinOp::Mul)
                && matches!(b.kind, ExprKind::Number(_))
                && matches!(a.kind, ExprKind::Number(_) | ExprKind::Binary(..));
            out.push_str(if both_numbers { " \\cdot " } else { sym });
            grouped(out, b, right);
        }
        ExprKind::Transpose(a) => {
            grouped(out, a, 5);
            out.push_str("^\\top");
        }
        ExprKind::Expect(a) => {
            out.push_str("\\mathbb{E}\\left[");
            write(out, a);
            out.push_str("\\right]");
        }
        ExprKind::Call { name: n, args: a } => {
            name(out, n);
            args(out, a);
        }
        ExprKind::Builtin {
            op,
            args: a,
            options,
        } => builtin(out, *op, a, options),
        ExprKind::Matrix(rows) => {
            out.push_str("\\begin{bmatrix}");
            for (i, r) in rows.iter().enumerate() {
                if i > 0 {
                    out.push_str(" \\\\ ");
                }
                for (k, x) in r.iter().enumerate() {
                    if k > 0 {
                        out.push_str(" & ");
                    }
                    write(out, x);
                }
            }
            out.push_str("\\end{bmatrix}");
        }
        ExprKind::Compare(items, ops) => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                    out.push_str(relation(ops[i - 1]));
                    out.push(' ');
                }
                write(out, x);
            }
        }
        ExprKind::And(items) => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(" \\text{ and } ");
                }
                write(out, x);
            }
        }
    }
}

fn builtin(out: &mut String, op: Builtin, a: &[Expr], options: &[(String, Expr)]) {
    let one = |out: &mut String, open: &str, close: &str| {
        out.push_str(open);
        if let Some(x) = a.first() {
            write(out, x);
        }
        out.push_str(close);
    };
    match (op, a) {
        (Builtin::Pi, []) => out.push_str("\\pi "),
        (Builtin::E, []) => out.push('e'),
        (Builtin::Sqrt, [_]) => one(out, "\\sqrt{", "}"),
        (Builtin::Abs, [_]) => one(out, "\\left|", "\\right|"),
        (Builtin::Floor, [_]) => one(out, "\\left\\lfloor ", "\\right\\rfloor "),
        (Builtin::Ceil, [_]) => one(out, "\\left\\lceil ", "\\right\\rceil "),
        (Builtin::Norm2, [_]) => one(out, "\\left\\|", "\\right\\|_2"),
        (Builtin::NormF, [_]) => one(out, "\\left\\|", "\\right\\|_F"),
        (Builtin::Sum | Builtin::Prod, [i, lo, hi, body]) => {
            out.push_str(if op == Builtin::Sum {
                "\\sum_{"
            } else {
                "\\prod_{"
            });
            write(out, i);
            out.push('=');
            write(out, lo);
            out.push_str("}^{");
            write(out, hi);
            out.push_str("} ");
            grouped(out, body, 2);
        }
        (Builtin::Diff, [f, x]) => {
            out.push_str("\\frac{\\partial}{\\partial ");
            write(out, x);
            out.push_str("} ");
            grouped(out, f, 5);
        }
        _ => {
            let n = op.name();
            let known = [
                "log", "exp", "sin", "cos", "tan", "sinh", "cosh", "tanh", "max", "min", "det",
            ];
            if known.contains(&n) {
                out.push('\\');
                out.push_str(n);
            } else {
                out.push_str("\\operatorname{");
                out.push_str(n);
                out.push('}');
            }
            out.push_str("\\left(");
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, x);
            }
            for (k, v) in options {
                out.push_str(", \\text{");
                out.push_str(k);
                out.push_str("} = ");
                write(out, v);
            }
            out.push_str("\\right)");
        }
    }
}
