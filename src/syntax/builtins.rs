//! The built-in functions: one table row each (name, arity, named options,
//! whether the first argument is a bound index, and which claim family a
//! call belongs to), so that every `match` over them is exhaustive and a
//! new built-in is one variant and one row.

/// A built-in function of the expression language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Builtin {
    /// `sqrt(x)`, also `√x`.
    Sqrt,
    /// `abs(x)`, also `|x|`.
    Abs,
    /// `sign(x)`, with `sign(0) = 0`; entrywise on a matrix.
    Sign,
    /// `floor(x)`, also `⌊x⌋`.
    Floor,
    /// `ceil(x)`, also `⌈x⌉`.
    Ceil,
    /// `factorial(n)`, also `n!`: `1·2···n` for a nonnegative integer `n`.
    Factorial,
    /// `min(a, b, ...)`.
    Min,
    /// `max(a, b, ...)`.
    Max,
    /// `exp(x)`.
    Exp,
    /// `log(x)`, the natural logarithm.
    Log,
    /// `step(n)`: 1 for n ≥ 0, else 0.
    Step,
    /// `if(condition, then, else)`.
    If,
    /// `sum(k, lo, hi, body)`.
    Sum,
    /// `prod(k, lo, hi, body)`.
    Prod,
    /// `diff(expr, v)`: the derivative by a scalar symbol or an array entry;
    /// `diff(expr, v, w, ...)` differentiates by each in turn.
    Diff,
    /// `trace(A)`.
    Trace,
    /// `norm2(A)`: the spectral norm (Euclidean for vectors), also `‖x‖`.
    Norm2,
    /// `normF(A)`: the Frobenius norm.
    NormF,
    /// `rms(v) = norm2(v)/sqrt(n)`.
    Rms,
    /// `rank(A)`.
    Rank,
    /// `cost(expr)`: the multiplication cost of a matrix expression as written.
    Cost,
    /// `inv(A)`, also `A⁻¹` and `A^-1`: the inverse of a square matrix.
    Inv,
    /// `det(A)`: the determinant of a square matrix.
    Det,
    /// `diag(v)`: the diagonal matrix of a vector's entries.
    Diag,
    /// `conv1d(x, h, pad = 0, stride = 1)`.
    Conv1d,
    /// `conv2d(x, h, pad = 0, stride = 1, mode = "circular")`.
    Conv2d,
    /// `correlate2d(x, h, pad = 0, stride = 1)`.
    Correlate2d,
    /// `flip(h)`: rotated by 180°.
    Flip,
    /// `maxpool2d(x, size, stride)`.
    Maxpool2d,
    /// `avgpool2d(x, size, stride)`.
    Avgpool2d,
    /// `relu(x)`, entrywise.
    Relu,
    /// `flatten(x)`: row by row into a column.
    Flatten,
    /// `gap(x)`: global average pooling.
    Gap,
    /// `roll(x, dr, dc)`: a circular shift.
    Roll,
    /// `rows(A)`.
    Rows,
    /// `cols(A)`.
    Cols,
    /// `numel(A)`.
    Numel,
    /// `ones(r, c)`.
    Ones,
    /// `zeros(r, c)`.
    Zeros,
    /// `Var(X)`.
    Var,
    /// `Cov(X, Y)`.
    Cov,
    /// `Std(X)`.
    Std,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `tan(x)`.
    Tan,
    /// `sinh(x)`.
    Sinh,
    /// `cosh(x)`.
    Cosh,
    /// `tanh(x)`.
    Tanh,
    /// `sigmoid(x) = 1/(1 + exp(-x))`, the logistic function.
    Sigmoid,
    /// `softplus(x) = log(1 + exp(x))`.
    Softplus,
    /// The constant π, written `pi` or `π` (unless declared).
    Pi,
    /// The constant e, written `e` (unless declared).
    E,
    /// `integral(f, x, a, b)`, a definite integral; `integral(f, x)`, an
    /// antiderivative (compared as a whole side).
    Integral,
    /// `grad(f, x)`: the gradient of a scalar by a vector or matrix symbol
    /// (the shape of `x`), by matrix-calculus rules.
    Grad,
    /// `hessian(f, x)`: the n × n Hessian of a scalar by a vector symbol.
    Hessian,
    /// `jacobian(F, x)`: the m × n Jacobian of a column vector by a vector symbol.
    Jacobian,
}

/// How many positional arguments a built-in takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// At least one.
    AtLeastOne,
    /// One of these counts (`integral` takes 2 or 4).
    OneOf(&'static [usize]),
}

/// The claim family a call of a built-in belongs to, whatever its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Belongs {
    /// A scalar function: the family is that of its arguments.
    Arguments,
    /// A scalar of matrices (traces, norms, costs): a matrix step.
    Matrix,
    /// An array or a shape of arrays: an array step.
    Array,
    /// A moment of random variables.
    Moment,
}

/// One row of the table.
struct Row {
    builtin: Builtin,
    name: &'static str,
    arity: Arity,
    options: &'static [&'static str],
    binds_index: bool,
    belongs: Belongs,
}

const fn row(builtin: Builtin, name: &'static str, arity: Arity, belongs: Belongs) -> Row {
    Row {
        builtin,
        name,
        arity,
        options: &[],
        binds_index: false,
        belongs,
    }
}

use Arity::{AtLeastOne, Exactly, OneOf};
use Belongs::{Arguments, Array, Matrix, Moment};

const LAYER_OPTIONS: &[&str] = &["pad", "stride", "mode"];
const CONV1D_OPTIONS: &[&str] = &["pad", "stride"];
const POOL_OPTIONS: &[&str] = &["size", "stride"];

/// The table, in the order of [`Builtin`].
const TABLE: &[Row] = &[
    row(Builtin::Sqrt, "sqrt", Exactly(1), Arguments),
    row(Builtin::Abs, "abs", Exactly(1), Arguments),
    row(Builtin::Sign, "sign", Exactly(1), Arguments),
    row(Builtin::Floor, "floor", Exactly(1), Arguments),
    row(Builtin::Ceil, "ceil", Exactly(1), Arguments),
    row(Builtin::Factorial, "factorial", Exactly(1), Arguments),
    row(Builtin::Min, "min", AtLeastOne, Arguments),
    row(Builtin::Max, "max", AtLeastOne, Arguments),
    row(Builtin::Exp, "exp", Exactly(1), Arguments),
    row(Builtin::Log, "log", Exactly(1), Arguments),
    row(Builtin::Step, "step", Exactly(1), Arguments),
    row(Builtin::If, "if", Exactly(3), Arguments),
    Row {
        binds_index: true,
        ..row(Builtin::Sum, "sum", Exactly(4), Arguments)
    },
    Row {
        binds_index: true,
        ..row(Builtin::Prod, "prod", Exactly(4), Arguments)
    },
    row(
        Builtin::Diff,
        "diff",
        OneOf(&[2, 3, 4, 5, 6, 7, 8]),
        Arguments,
    ),
    row(Builtin::Trace, "trace", Exactly(1), Matrix),
    row(Builtin::Norm2, "norm2", Exactly(1), Matrix),
    row(Builtin::NormF, "normF", Exactly(1), Matrix),
    row(Builtin::Rms, "rms", Exactly(1), Matrix),
    row(Builtin::Rank, "rank", Exactly(1), Matrix),
    row(Builtin::Cost, "cost", Exactly(1), Matrix),
    row(Builtin::Inv, "inv", Exactly(1), Matrix),
    row(Builtin::Det, "det", Exactly(1), Matrix),
    row(Builtin::Diag, "diag", Exactly(1), Matrix),
    Row {
        options: CONV1D_OPTIONS,
        ..row(Builtin::Conv1d, "conv1d", Exactly(2), Array)
    },
    Row {
        options: LAYER_OPTIONS,
        ..row(Builtin::Conv2d, "conv2d", Exactly(2), Array)
    },
    Row {
        options: LAYER_OPTIONS,
        ..row(Builtin::Correlate2d, "correlate2d", Exactly(2), Array)
    },
    row(Builtin::Flip, "flip", Exactly(1), Array),
    Row {
        options: POOL_OPTIONS,
        ..row(Builtin::Maxpool2d, "maxpool2d", Exactly(3), Array)
    },
    Row {
        options: POOL_OPTIONS,
        ..row(Builtin::Avgpool2d, "avgpool2d", Exactly(3), Array)
    },
    row(Builtin::Relu, "relu", Exactly(1), Array),
    row(Builtin::Flatten, "flatten", Exactly(1), Array),
    row(Builtin::Gap, "gap", Exactly(1), Array),
    row(Builtin::Roll, "roll", Exactly(3), Array),
    row(Builtin::Rows, "rows", Exactly(1), Array),
    row(Builtin::Cols, "cols", Exactly(1), Array),
    row(Builtin::Numel, "numel", Exactly(1), Array),
    row(Builtin::Ones, "ones", Exactly(2), Array),
    row(Builtin::Zeros, "zeros", Exactly(2), Array),
    row(Builtin::Var, "Var", Exactly(1), Moment),
    row(Builtin::Cov, "Cov", Exactly(2), Moment),
    row(Builtin::Std, "Std", Exactly(1), Moment),
    row(Builtin::Sin, "sin", Exactly(1), Arguments),
    row(Builtin::Cos, "cos", Exactly(1), Arguments),
    row(Builtin::Tan, "tan", Exactly(1), Arguments),
    row(Builtin::Sinh, "sinh", Exactly(1), Arguments),
    row(Builtin::Cosh, "cosh", Exactly(1), Arguments),
    row(Builtin::Tanh, "tanh", Exactly(1), Arguments),
    row(Builtin::Sigmoid, "sigmoid", Exactly(1), Arguments),
    row(Builtin::Softplus, "softplus", Exactly(1), Arguments),
    row(Builtin::Pi, "pi", Exactly(0), Arguments),
    row(Builtin::E, "e", Exactly(0), Arguments),
    row(Builtin::Integral, "integral", OneOf(&[2, 4]), Arguments),
    row(Builtin::Grad, "grad", Exactly(2), Matrix),
    row(Builtin::Hessian, "hessian", Exactly(2), Matrix),
    row(Builtin::Jacobian, "jacobian", Exactly(2), Matrix),
];

impl Builtin {
    fn row(self) -> &'static Row {
        let row = &TABLE[self as usize];
        debug_assert_eq!(row.builtin, self, "the table is in the order of the enum");
        row
    }

    /// Every built-in, in table order.
    pub fn all() -> impl Iterator<Item = Builtin> {
        TABLE.iter().map(|r| r.builtin)
    }

    /// The built-in called `name`, if any.
    pub fn from_name(name: &str) -> Option<Builtin> {
        TABLE.iter().find(|r| r.name == name).map(|r| r.builtin)
    }

    /// Its name as written.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// How many positional arguments it takes.
    pub fn arity(self) -> Arity {
        self.row().arity
    }

    /// The named options it takes (`pad = 1`).
    pub fn options(self) -> &'static [&'static str] {
        self.row().options
    }

    /// Is its first argument a fresh index bound in the last (`sum`, `prod`)?
    pub fn binds_index(self) -> bool {
        self.row().binds_index
    }

    /// Is it a constant (`pi`, `e`), written without parentheses?
    pub fn is_constant(self) -> bool {
        self.row().arity == Exactly(0)
    }

    /// The claim family a call belongs to.
    pub fn belongs(self) -> Belongs {
        self.row().belongs
    }
}

impl std::fmt::Display for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_enum_order_and_names_are_unique() {
        for (i, r) in TABLE.iter().enumerate() {
            assert_eq!(r.builtin as usize, i, "{}", r.name);
            assert_eq!(Builtin::from_name(r.name), Some(r.builtin));
        }
        let mut names: Vec<&str> = TABLE.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }

    #[test]
    fn binders_and_options() {
        assert!(Builtin::Sum.binds_index() && Builtin::Prod.binds_index());
        assert!(!Builtin::Diff.binds_index());
        assert_eq!(Builtin::Conv1d.options(), &["pad", "stride"]);
        assert!(Builtin::Sqrt.options().is_empty());
        assert_eq!(Builtin::Min.arity(), Arity::AtLeastOne);
        assert_eq!(Builtin::from_name("nope"), None);
    }
}
