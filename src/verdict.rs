//! Verdicts: what a check concluded about one step, with its evidence.
//! A false step is a result ([`Verdict::Refuted`] with its
//! [`Counterexample`]), never an error. Each variant carries what it needs
//! and nothing else; the methods, rules and reasons are enums, rendered to
//! the report's words here and nowhere else.

use crate::syntax::expr::Span;
use std::collections::BTreeMap;
use std::fmt;

/// The five verdicts of FORMAT.md, ordered best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerdictKind {
    /// Holds for every admissible value, by a named sound method.
    Proved,
    /// No proof, but every spot check agreed.
    Checked,
    /// The engine cannot judge this step.
    Unsupported,
    /// A certified counterexample.
    Refuted,
    /// The claim is malformed.
    Error,
}

impl VerdictKind {
    /// The verdict's name in reports and files.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Proved => "proved",
            VerdictKind::Checked => "checked",
            VerdictKind::Unsupported => "unsupported",
            VerdictKind::Refuted => "refuted",
            VerdictKind::Error => "error",
        }
    }

    /// Reads a verdict name as written in `expect`.
    pub fn parse(s: &str) -> Option<VerdictKind> {
        Some(match s {
            "proved" => VerdictKind::Proved,
            "checked" => VerdictKind::Checked,
            "unsupported" => VerdictKind::Unsupported,
            "refuted" => VerdictKind::Refuted,
            "error" => VerdictKind::Error,
            _ => return None,
        })
    }

    /// Does a claim with this verdict pass without an `expect`?
    pub fn passes(self) -> bool {
        matches!(self, VerdictKind::Proved | VerdictKind::Checked)
    }
}

/// One mismatching entry of an array comparison (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMismatch {
    /// Row and column, 1-based.
    pub entry: (usize, usize),
    /// The left side's exact value there.
    pub lhs: String,
    /// The right side's exact value there.
    pub rhs: String,
}

/// Admissible values at which a step fails, with both sides' values.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Counterexample {
    /// The point: each free symbol's exact value.
    pub values: BTreeMap<String, String>,
    /// The left side's value (of the first mismatching entry, for arrays).
    pub lhs: String,
    /// The right side's value.
    pub rhs: String,
    /// For arrays: every mismatching entry.
    pub mismatches: Vec<EntryMismatch>,
}

/// How the values of a counterexample were certified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// Exact rational values.
    Exact,
    /// Disjoint rigorous enclosures (an irrational value).
    Enclosures,
    /// Exact rational matrices.
    Matrices,
    /// Exact rational matrices, entry by entry.
    MatrixEntries,
}

/// The method that decided a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// Both sides' difference is zero as a rational function.
    NormalForm,
    /// Every term of the difference has one sign under the domain.
    SignOfDifference,
    /// Induction on an integer symbol from its lower bound.
    Induction {
        /// The symbol.
        symbol: String,
        /// Its first value.
        from: String,
    },
    /// No free symbols: both sides evaluated exactly.
    ExactEvaluation,
    /// No free symbols: array sides evaluated exactly, entry by entry.
    ExactEntries,
    /// No free symbols: array sides of different shapes.
    ExactShapes,
    /// No free symbols: matrix sides evaluated with exact rational matrices.
    ExactMatrices,
    /// A value with no free symbols whose enclosures are disjoint.
    Enclosures,
    /// No free symbols: both sides as exact real algebraic numbers
    /// (defining polynomials and isolating intervals).
    AlgebraicNumbers,
    /// Every admissible point of a finite domain.
    Exhaustive {
        /// The points that agreed.
        points: usize,
        /// Array sides, compared entry by entry.
        entries: bool,
    },
    /// Seeded spot checks with exact arithmetic.
    SpotChecks,
    /// Seeded spot checks of array sides, entry by entry.
    SpotChecksEntries,
    /// Seeded spot checks with random exact arrays for these symbols.
    SpotChecksRandomArrays(Vec<String>),
    /// Seeded spot checks of an implication at points where the premise holds.
    SpotChecksPremise,
    /// Spot checks with exact rational matrices.
    MatrixSpotChecks,
    /// Spot checks of a matrix implication at points where the premise holds.
    MatrixSpotChecksPremise,
    /// The noncommutative normal form of matrix expressions.
    MatrixNormalForm,
    /// The matrix normal form, then the scalar normal form.
    MatrixScalarNormalForm,
    /// Literal matrices: every entry of both sides a scalar step.
    MatrixEntries,
    /// The premise's difference is the conclusion's times a factor of fixed sign.
    RatioTest,
    /// The premise solved for a symbol and substituted into the conclusion.
    PremiseSubstituted,
    /// A certified counterexample at a point.
    Counterexample(Certificate),
    /// Moments replaced by their exact values, then another method.
    Moments(Box<Method>),
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::NormalForm => write!(f, "exact symbolic normal form (rational function)"),
            Method::SignOfDifference => write!(
                f,
                "sign of the difference under the domain (every term of one sign)"
            ),
            Method::Induction { symbol: n, from } => write!(
                f,
                "induction on {n} from {from}: the base case {n} = {from} and the step from {n} - 1 to {n} hold in exact symbolic normal form"
            ),
            Method::ExactEvaluation => write!(f, "exact evaluation"),
            Method::ExactEntries => write!(f, "exact evaluation, entry by entry"),
            Method::ExactShapes => write!(f, "exact evaluation (the shapes differ)"),
            Method::ExactMatrices => write!(f, "exact evaluation (exact rational matrices)"),
            Method::Enclosures => write!(f, "evaluation with certified enclosures (disjoint)"),
            Method::AlgebraicNumbers => write!(
                f,
                "exact algebraic numbers (defining polynomials and isolating intervals)"
            ),
            Method::Exhaustive { points, entries } => write!(
                f,
                "exhaustive check of all {points} admissible points{}",
                if *entries { ", entry by entry" } else { "" }
            ),
            Method::SpotChecks => write!(
                f,
                "spot checks with exact arithmetic (no proof method applied)"
            ),
            Method::SpotChecksEntries => {
                write!(f, "spot checks with exact arithmetic, entry by entry")
            }
            Method::SpotChecksRandomArrays(names) => write!(
                f,
                "spot checks with exact arithmetic on random integer arrays for {}",
                names.join(", ")
            ),
            Method::SpotChecksPremise => write!(
                f,
                "spot checks with exact arithmetic at points where the premise holds"
            ),
            Method::MatrixSpotChecks => write!(
                f,
                "spot checks with exact rational matrices (no proof for every size)"
            ),
            Method::MatrixSpotChecksPremise => write!(
                f,
                "spot checks with exact rational matrices at points where the premise holds"
            ),
            Method::MatrixNormalForm => write!(
                f,
                "normal form of matrix expressions (noncommutative words, exact scalar coefficients), for every admissible size"
            ),
            Method::MatrixScalarNormalForm => write!(
                f,
                "normal form of matrix expressions, then the exact scalar normal form, for every admissible size"
            ),
            Method::MatrixEntries => write!(
                f,
                "entry by entry: both sides as matrices of scalar expressions, each entry decided as a scalar step"
            ),
            Method::RatioTest => write!(
                f,
                "the premise's difference is the conclusion's times a factor of fixed sign"
            ),
            Method::PremiseSubstituted => write!(
                f,
                "the premise solved for a symbol and substituted into the conclusion, then exact symbolic normal form"
            ),
            Method::Counterexample(c) => write!(
                f,
                "certified counterexample ({})",
                match c {
                    Certificate::Exact => "exact evaluation",
                    Certificate::Enclosures => "disjoint certified enclosures",
                    Certificate::Matrices => "exact rational matrices",
                    Certificate::MatrixEntries => "exact rational matrices, entry by entry",
                }
            ),
            Method::Moments(inner) => write!(
                f,
                "moment calculus (linearity, independence, index coincidences), then {inner}"
            ),
        }
    }
}

/// A rewriting rule a proof used, named in the report.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `(a·b)^r = a^r·b^r` for nonnegative `a, b`.
    PowerOfProduct,
    /// `(a/b)^r = a^r·b^(-r)` for nonnegative `a, b`.
    PowerOfQuotient,
    /// `(a^p)^q = a^(p·q)` for nonnegative `a`.
    PowerOfPowerNonneg,
    /// `(a^p)^q = a^(p·q)` for positive `a`.
    PowerOfPowerPos,
    /// `(a^(2k))^r = |a|^(2k·r)`.
    EvenPowerOfPower,
    /// `exp(a)^r = exp(r·a)`.
    PowerOfExp,
    /// Radicals of nonnegative symbols become generators.
    RadicalGenerators,
    /// `b^(x+y) = b^x·b^y` for positive `b`.
    SumExponent,
    /// `(a·b)^x = a^x·b^x` for positive `a, b`.
    SymbolicPowerOfProduct,
    /// `(a/b)^x = a^x·b^(-x)` for positive `a, b`.
    SymbolicPowerOfQuotient,
    /// `exp(x + y) = exp(x)·exp(y)`.
    ExpOfSum,
    /// `sigmoid`, `softplus`, `sinh`, `cosh`, `tanh` and `e` by their definitions through `exp`.
    ExpDefinition,
    /// An `if` decided by the domain.
    IfResolved,
    /// Sums with numeric bounds written out.
    SumsExpanded,
    /// `|x| = x` for nonnegative `x`.
    AbsOfNonneg,
    /// `|x| = -x` for nonpositive `x`.
    AbsOfNonpos,
    /// `|a·b| = |a|·|b|`.
    AbsOfProduct,
    /// `|a/b| = |a|/|b|`.
    AbsOfQuotient,
    /// A `sign` decided by the domain.
    SignResolved,
    /// `sign(a·b) = sign(a)·sign(b)`.
    SignOfProduct,
    /// `log(a·b) = log(a) + log(b)` for positive `a, b`.
    LogOfProduct,
    /// `log(a/b) = log(a) - log(b)` for positive `a, b`.
    LogOfQuotient,
    /// `log(a^k) = k·log(a)` for positive `a`.
    LogOfPower,
    /// `log(exp(x)) = x`.
    LogOfExp,
    /// Radicals of numbers split into prime powers.
    NumericRadicals,
    /// `b^(x+y) = b^x·b^y` with numeric bases split into prime powers.
    NumericBases,
    /// `floor` and `ceil` of an integer.
    FloorOfInteger,
    /// A `step` decided by the sign of its argument.
    StepResolved,
    /// `min` and `max` decided by the sign of a difference.
    MinMaxResolved,
    /// A sum whose body does not involve its index.
    ConstantSum,
    /// `(a + c)! = (a + 1)···(a + c)·a!` for an integer `a >= 0`.
    FactorialShift,
    /// Sums over symbolic ranges split linearly (factors free of the index
    /// pulled out, sums over one range fused, the index renamed).
    SumsLinear,
    /// `log` of a number split over its prime factors.
    LogOfNumber,
    /// A quadratic difference that is a sum of squares (its symmetric
    /// matrix positive semidefinite).
    SumOfSquares,
    /// A 1 × 1 factor of a matrix product is a scalar.
    OneByOneScalar,
    /// An equation of an implication's premise between matrices used as a
    /// rewrite rule (a word replaced where it occurs).
    PremiseRewrite {
        /// The word rewritten.
        word: String,
        /// What it becomes.
        by: String,
    },
    /// A `given` equation between words used as a rewrite rule.
    GivenRewrite {
        /// The word rewritten.
        word: String,
        /// What it becomes.
        by: String,
    },
    /// `sign(λ I) = sign(λ) I`.
    SignOfScaledIdentity,
    /// `sign(λ p qᵀ) = sign(λ) sign(p) sign(q)ᵀ`.
    SignOfOuterProduct,
    /// `sign(λ X) = sign(λ) sign(X)`.
    SignOfScaled,
    /// A trace through a dimension 1 splits.
    TraceSplits,
    /// `trace` is cyclic and `trace(Xᵀ) = trace(X)`.
    TraceCyclic,
    /// `norm2(I) = 1`.
    NormOfIdentity,
    /// The 2-norm of a vector is `sqrt(vᵀ v)`.
    VectorNorm,
    /// `norm2(p qᵀ) = norm2(p) norm2(q)`.
    NormOfOuterProduct,
    /// `norm2(Xᵀ) = norm2(X)`.
    NormOfTranspose,
    /// `norm2(λ X) = |λ| norm2(X)`.
    NormOfScaled,
    /// `normF(X)² = trace(Xᵀ X)`.
    FrobeniusTrace,
    /// `rms(v) = norm2(v) / sqrt(n)`.
    RmsNorm,
    /// The cost of products as written.
    Cost,
    /// `diff` computed symbolically (sum, product, quotient, power and chain rules).
    SymbolicDerivative,
    /// `d(a^b) = a^b (b' log a + b a'/a)` for a positive base `a`.
    PowerAsExp,
    /// `d w(i)/d w(k)` is 1 where the indices agree and 0 where they differ.
    KroneckerDelta,
    /// A sum of a Kronecker delta in its index is its one term.
    KroneckerCollapse,
    /// A sum differentiated term by term (its bounds constant).
    SumTermByTerm,
    /// The product rule for `prod`.
    ProductRuleOfProd,
    /// `abs`, `sign`, `step`, `min`, `max` differentiated away from their kinks, which the domain excludes.
    DerivativeAwayFromKinks,
    /// `integral(f, x, a, b) = F(b) − F(a)` for an antiderivative `F` continuous on the interval.
    FundamentalTheorem,
    /// `integral(f, x) = F` holds when `diff(F, x) = f`.
    Antiderivative,
    /// `exp(m·log(a)) = a^m` for positive `a`.
    ExpOfLog,
    /// `log` of a product of positive factors as the sum of their logs.
    LogOfFactors,
    /// Angle addition and multiple angles: `sin`/`cos` of a sum through the base angles.
    TrigExpansion,
    /// `sin² + cos² = 1`.
    PythagoreanIdentity,
    /// `sin` and `cos` of multiples of π/4 and π/6.
    TrigExactValues,
    /// `tan = sin/cos` where `cos ≠ 0`.
    TanAsQuotient,
    /// `norm2(U X) = norm2(X)` for `Uᵀ U = I`, `norm2(X V) = norm2(X)` for `V Vᵀ = I`.
    NormOrthonormalFactor,
    /// `norm2(A B) <= norm2(A) norm2(B)`.
    NormSubmultiplicative,
    /// `norm2(A + B) <= norm2(A) + norm2(B)`.
    NormTriangle,
    /// `norm2(A) <= normF(A)`.
    NormBelowFrobenius,
    /// A premise `a <= b` used as `a = b - s` with `s >= 0`.
    PremiseBound,
    /// A premise `a = b` used as a substitution.
    PremiseEquation,
    /// `Qᵀ Q = Q Qᵀ = I` for an orthogonal kind.
    OrthogonalKind,
    /// `(A⁻¹)⁻¹ = A`.
    InverseOfInverse,
    /// `(Aᵀ)⁻¹ = (A⁻¹)ᵀ`.
    InverseOfTranspose,
    /// `A A⁻¹ = A⁻¹ A = I`.
    InverseCancels,
    /// `(λA)⁻¹ = λ⁻¹ A⁻¹`.
    InverseOfScaled,
    /// `(A B)⁻¹ = B⁻¹ A⁻¹` for square invertible factors.
    InverseOfProduct,
    /// `K K⁻¹ = K⁻¹ K = I` for a sum `K`, used term by term.
    InverseOfSumCancels,
    /// Both sides multiplied by an invertible `K`.
    MultipliedOut,
    /// `det(A B) = det(A) det(B)` for square factors.
    DetMultiplicative,
    /// `det(Aᵀ) = det(A)`.
    DetOfTranspose,
    /// `det(λ A) = λⁿ det(A)`.
    DetOfScaled,
    /// `det(A⁻¹) = 1/det(A)`.
    DetOfInverse,
    /// `det(I) = 1`.
    DetOfIdentity,
    /// The determinant of a literal by cofactor expansion.
    DetOfLiteral,
    /// `grad`, `hessian`, `jacobian` by matrix-calculus rules.
    MatrixCalculus,
    /// `d log det(A) = trace(A⁻¹ dA)`, `d det(A) = det(A) trace(A⁻¹ dA)`.
    DerivativeOfDet,
    /// `d(A⁻¹) = −A⁻¹ dA A⁻¹`.
    DerivativeOfInverse,
    /// Matrix equations: the conclusion's difference a constant multiple of the premise's.
    MatrixPremiseMultiple,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Rule::PowerOfProduct => "(a·b)^r = a^r·b^r for a, b >= 0",
            Rule::PowerOfQuotient => "(a/b)^r = a^r·b^(-r) for a, b >= 0",
            Rule::PowerOfPowerNonneg => "(a^p)^q = a^(p·q) for a >= 0",
            Rule::PowerOfPowerPos => "(a^p)^q = a^(p·q) for a > 0",
            Rule::SumOfSquares => {
                "a quadratic numerator that is a sum of squares (positive semidefinite matrix, by exact elimination)"
            }
            Rule::EvenPowerOfPower => "(a^(2k))^r = |a|^(2k·r)",
            Rule::PowerOfExp => "exp(a)^r = exp(r·a)",
            Rule::RadicalGenerators => {
                "radicals of nonnegative symbols become generators (x = t^L)"
            }
            Rule::SumExponent => "b^(x+y) = b^x·b^y for b > 0",
            Rule::SymbolicPowerOfProduct => "(a·b)^x = a^x·b^x for a, b > 0",
            Rule::SymbolicPowerOfQuotient => "(a/b)^x = a^x·b^(-x) for a, b > 0",
            Rule::ExpOfSum => "exp(x + y) = exp(x)·exp(y)",
            Rule::ExpDefinition => {
                "sigmoid(x) = 1/(1 + exp(-x)), softplus(x) = log(1 + exp(x)), sinh, cosh, tanh and e through exp"
            }
            Rule::IfResolved => "if resolved by the domain",
            Rule::SumsExpanded => "sums with numeric bounds expanded",
            Rule::AbsOfNonneg => "|x| = x for x >= 0",
            Rule::AbsOfNonpos => "|x| = -x for x <= 0",
            Rule::AbsOfProduct => "|a·b| = |a|·|b|",
            Rule::AbsOfQuotient => "|a/b| = |a|/|b|",
            Rule::SignResolved => "sign resolved by the domain",
            Rule::SignOfProduct => "sign(a·b) = sign(a)·sign(b)",
            Rule::LogOfProduct => "log(a·b) = log(a) + log(b) for a, b > 0",
            Rule::LogOfQuotient => "log(a/b) = log(a) - log(b) for a, b > 0",
            Rule::LogOfPower => "log(a^k) = k·log(a) for a > 0",
            Rule::LogOfExp => "log(exp(x)) = x",
            Rule::NumericRadicals => "numeric radicals split into prime powers",
            Rule::NumericBases => "b^(x+y) = b^x·b^y; numeric bases split into prime powers",
            Rule::FloorOfInteger => "floor and ceil of an integer are the integer",
            Rule::StepResolved => "step resolved by the sign of its argument",
            Rule::MinMaxResolved => "min and max resolved by the sign of a difference",
            Rule::SumsLinear => {
                "sums over symbolic ranges split linearly: factors free of the index pulled out, sums over one range combined, the index's name immaterial"
            }
            Rule::FactorialShift => "(a + c)! = (a + 1)···(a + c)·a! for an integer a >= 0",
            Rule::ConstantSum => {
                "a sum whose body does not involve its index is the body times the number of terms"
            }
            Rule::LogOfNumber => "log of a number split over its prime factors",
            Rule::OneByOneScalar => "a 1 × 1 factor of a product is a scalar and commutes",
            Rule::GivenRewrite { word, by } => return write!(f, "given {word} = {by}"),
            Rule::PremiseRewrite { word, by } => {
                return write!(f, "the premise's {word} = {by}, rewritten where it occurs")
            }
            Rule::SignOfScaledIdentity => "sign(λ I) = sign(λ) I",
            Rule::SignOfOuterProduct => {
                "entrywise sign of an outer product: sign(λ p qᵀ) = sign(λ) sign(p) sign(q)ᵀ"
            }
            Rule::SignOfScaled => "sign(λ X) = sign(λ) sign(X)",
            Rule::TraceSplits => "a trace through a dimension 1 splits: trace(p qᵀ) = qᵀ p",
            Rule::TraceCyclic => "trace is cyclic and trace(Xᵀ) = trace(X)",
            Rule::NormOfIdentity => "norm2(I) = 1",
            Rule::VectorNorm => "the 2-norm of a vector is sqrt(vᵀ v)",
            Rule::NormOfOuterProduct => {
                "the spectral norm of an outer product is the product of the norms: norm2(p qᵀ) = norm2(p) norm2(q)"
            }
            Rule::NormOfTranspose => "norm2(Xᵀ) = norm2(X)",
            Rule::NormOfScaled => "norm2(λ X) = |λ| norm2(X)",
            Rule::FrobeniusTrace => "normF(X)² = trace(Xᵀ X)",
            Rule::RmsNorm => "rms(v) = norm2(v) / sqrt(n)",
            Rule::Cost => {
                "cost: an n×m by m×p product costs c·n·m·p, as written; defined names are inputs"
            }
            Rule::SymbolicDerivative => {
                "diff computed symbolically (sum, product, quotient, power and chain rules)"
            }
            Rule::PowerAsExp => "d(a^b) = a^b·(b'·log(a) + b·a'/a) for a > 0",
            Rule::KroneckerDelta => "d w(i)/d w(k) = 1 where i = k, else 0 (Kronecker delta)",
            Rule::KroneckerCollapse => {
                "sum(q, lo, hi, [q = k]·f(q)) = f(k) for lo <= k <= hi (Kronecker delta collapsed)"
            }
            Rule::SumTermByTerm => "a sum differentiated term by term (bounds constant)",
            Rule::ProductRuleOfProd => "the product rule for prod",
            Rule::DerivativeAwayFromKinks => {
                "abs, sign, step, min, max differentiated away from their kinks (excluded by the domain)"
            }
            Rule::FundamentalTheorem => {
                "integral(f, x, a, b) = F(b) - F(a), F an antiderivative (verified by diff) continuous on the interval"
            }
            Rule::Antiderivative => "integral(f, x) = F means diff(F, x) = f",
            Rule::ExpOfLog => "exp(m·log(a)) = a^m for a > 0",
            Rule::LogOfFactors => "log of a product of positive factors = the sum of their logs",
            Rule::TrigExpansion => {
                "sin and cos of sums and integer multiples written through the base angles (angle addition)"
            }
            Rule::PythagoreanIdentity => "sin(θ)^2 + cos(θ)^2 = 1",
            Rule::TrigExactValues => "sin and cos at multiples of π/4 and π/6",
            Rule::TanAsQuotient => "tan = sin/cos (where cos != 0)",
            Rule::NormOrthonormalFactor => {
                "a factor with orthonormal columns (rows) leaves the spectral norm unchanged: norm2(U X) = norm2(X) for Uᵀ U = I"
            }
            Rule::NormSubmultiplicative => "submultiplicativity: norm2(A B) <= norm2(A) norm2(B)",
            Rule::NormTriangle => "triangle inequality: norm2(A + B) <= norm2(A) + norm2(B)",
            Rule::NormBelowFrobenius => "norm2(A) <= normF(A) = sqrt(trace(Aᵀ A))",
            Rule::PremiseBound => {
                "a premise a <= b used as a = b - s with s >= 0 (monotone in the other factors' signs)"
            }
            Rule::PremiseEquation => "an equation of the premise used as a substitution",
            Rule::OrthogonalKind => "orthogonal kind: Qᵀ Q = Q Qᵀ = I, Q⁻¹ = Qᵀ",
            Rule::InverseOfInverse => "(A⁻¹)⁻¹ = A",
            Rule::InverseOfTranspose => "(Aᵀ)⁻¹ = (A⁻¹)ᵀ",
            Rule::InverseCancels => "A A⁻¹ = A⁻¹ A = I",
            Rule::InverseOfScaled => "(λ A)⁻¹ = λ⁻¹ A⁻¹",
            Rule::InverseOfProduct => "(A B)⁻¹ = B⁻¹ A⁻¹ for square invertible A, B",
            Rule::InverseOfSumCancels => "K K⁻¹ = K⁻¹ K = I for a sum K, term by term",
            Rule::MultipliedOut => {
                "both sides multiplied by K, invertible where K⁻¹ exists (K d = 0 exactly when d = 0)"
            }
            Rule::DetMultiplicative => "det(A B) = det(A) det(B) for square A, B",
            Rule::DetOfTranspose => "det(Aᵀ) = det(A)",
            Rule::DetOfScaled => "det(λ A) = λⁿ det(A) for n × n A",
            Rule::DetOfInverse => "det(A⁻¹) = 1/det(A)",
            Rule::DetOfIdentity => "det(I) = 1",
            Rule::DetOfLiteral => "determinant of a literal by cofactor expansion",
            Rule::MatrixCalculus => {
                "matrix calculus: the differential by the product rule through words (transposes kept), trace linear, norm2(v)² = vᵀ v, normF(X)² = trace(Xᵀ X), read off as trace(Gᵀ dX)"
            }
            Rule::DerivativeOfDet => "d log det(A) = trace(A⁻¹ dA), d det(A) = det(A) trace(A⁻¹ dA)",
            Rule::DerivativeOfInverse => "d(A⁻¹) = −A⁻¹ dA A⁻¹",
            Rule::MatrixPremiseMultiple => {
                "the conclusion's difference is a constant multiple of the premise's (so it vanishes where the premise holds)"
            }
        };
        f.write_str(text)
    }
}

/// Rules are listed in the report in the order of their words.
impl Ord for Rule {
    fn cmp(&self, other: &Rule) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl PartialOrd for Rule {
    fn partial_cmp(&self, other: &Rule) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Why a method, or every method, stopped without a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Fewer agreeing points than a `checked` needs.
    TooFewPoints {
        /// The points that agreed.
        agreed: usize,
        /// The points that satisfied the domain.
        admissible: usize,
        /// The documented threshold.
        needed: usize,
        /// Why other points could not be used, if known.
        problem: Option<String>,
        /// What the other methods said.
        note: Option<String>,
    },
    /// No admissible point could be evaluated at all.
    NoPoints {
        /// Why, if known.
        problem: Option<String>,
        /// What the other methods said.
        note: Option<String>,
    },
    /// An implication whose premise held at no sampled point.
    PremiseNeverHolds {
        /// What the other methods said.
        note: String,
    },
    /// A proof exists but no point satisfies the domain, which may be empty.
    DomainMaybeEmpty,
    /// A construct or combination no method of the engine handles.
    NotHandled(String),
    /// The checker itself failed (a bug to report).
    Internal(String),
    /// The wall-clock guard of the step (`--step-limit`) was reached: a
    /// path the budgets of work did not bound.
    GuardReached {
        /// The guard, in milliseconds.
        millis: u128,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::TooFewPoints {
                agreed,
                admissible,
                needed,
                problem,
                note,
            } => {
                write!(
                    f,
                    "only {agreed} admissible point{} could be evaluated",
                    if *agreed == 1 { "" } else { "s" }
                )?;
                if admissible > agreed {
                    write!(f, " (of {admissible} admissible points tried)")?;
                }
                write!(f, ", fewer than the {needed} spot checks a `checked` needs")?;
                if let Some(p) = problem {
                    write!(f, ": {p}")?;
                }
                if let Some(n) = note {
                    write!(f, "\n{n}")?;
                }
                Ok(())
            }
            StopReason::NoPoints { problem, note } => {
                write!(f, "no admissible point could be evaluated")?;
                if let Some(p) = problem {
                    write!(f, ": {p}")?;
                }
                if let Some(n) = note {
                    write!(f, "\n{n}")?;
                }
                Ok(())
            }
            StopReason::PremiseNeverHolds { note } => write!(
                f,
                "no sampled point satisfies the premise, so nothing could be checked\n{note}"
            ),
            StopReason::DomainMaybeEmpty => write!(
                f,
                "proved symbolically, but no admissible point was found, so the domain may be empty"
            ),
            StopReason::NotHandled(reason) => write!(f, "{reason}"),
            StopReason::Internal(message) => write!(f, "internal error: {message}"),
            StopReason::GuardReached { millis } => write!(
                f,
                "the step ran into the wall-clock guard of {} s before any method decided it; the budgets of work should have stopped it first, so please report this claim (raise the guard with --step-limit, or split the step)",
                *millis as f64 / 1000.0
            ),
        }
    }
}

/// Spot checks that confirmed a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrossChecks {
    /// The points that agreed.
    pub points: usize,
    /// With exact rational matrices (matrix steps).
    pub matrices: bool,
}

/// The outcome of checking one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Holds for every admissible value.
    Proved {
        /// The sound method.
        method: Method,
        /// Explanations before the rules (how the step was rewritten).
        context: Vec<String>,
        /// The rewriting rules the method used.
        rules: Vec<Rule>,
        /// Remarks after the rules (excluded points, poles).
        remarks: Vec<String>,
        /// Spot checks that agreed with the proof.
        cross_checks: Option<CrossChecks>,
    },
    /// No proof, but every spot check agreed.
    Checked {
        /// How the points were chosen and compared.
        method: Method,
        /// The points that agreed (at least the documented threshold).
        checks: usize,
        /// Remarks (why no proof applied, sizes tried).
        notes: Vec<String>,
    },
    /// No method could decide the step.
    Unsupported(StopReason),
    /// A certified counterexample.
    Refuted {
        /// How the counterexample was certified.
        method: Method,
        /// The point and both sides' values there.
        counterexample: Counterexample,
        /// Remarks.
        notes: Vec<String>,
    },
    /// The step is malformed.
    Error {
        /// What is wrong.
        message: String,
        /// The piece of the `show` text at fault.
        span: Option<Span>,
    },
}

impl Verdict {
    /// A proof by `method` with nothing more to say.
    pub fn proved(method: Method) -> Verdict {
        Verdict::Proved {
            method,
            context: Vec::new(),
            rules: Vec::new(),
            remarks: Vec::new(),
            cross_checks: None,
        }
    }

    /// A proof with the rules it used.
    pub fn proved_by_rules(method: Method, rules: Vec<Rule>) -> Verdict {
        Verdict::Proved {
            method,
            context: Vec::new(),
            rules,
            remarks: Vec::new(),
            cross_checks: None,
        }
    }

    /// `unsupported` because no method handles the construct.
    pub fn unsupported(reason: impl Into<String>) -> Verdict {
        Verdict::Unsupported(StopReason::NotHandled(reason.into()))
    }

    /// A certified refutation.
    pub fn refuted(method: Method, counterexample: Counterexample) -> Verdict {
        Verdict::Refuted {
            method,
            counterexample,
            notes: Vec::new(),
        }
    }

    /// An `error` at a piece of the `show` text (or the whole step).
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Verdict {
        Verdict::Error {
            message: message.into(),
            span,
        }
    }

    /// Which of the five verdicts this is.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::Proved { .. } => VerdictKind::Proved,
            Verdict::Checked { .. } => VerdictKind::Checked,
            Verdict::Unsupported(_) => VerdictKind::Unsupported,
            Verdict::Refuted { .. } => VerdictKind::Refuted,
            Verdict::Error { .. } => VerdictKind::Error,
        }
    }

    /// The method, if one decided the step.
    pub fn method(&self) -> Option<&Method> {
        match self {
            Verdict::Proved { method, .. }
            | Verdict::Checked { method, .. }
            | Verdict::Refuted { method, .. } => Some(method),
            Verdict::Unsupported(_) | Verdict::Error { .. } => None,
        }
    }

    /// The counterexample of a refutation.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match self {
            Verdict::Refuted { counterexample, .. } => Some(counterexample),
            _ => None,
        }
    }

    /// How many spot checks agreed, for `checked`.
    pub fn checks(&self) -> usize {
        match self {
            Verdict::Checked { checks, .. } => *checks,
            _ => 0,
        }
    }

    /// The method as the report words it (`none` when no method decided).
    pub fn method_text(&self) -> String {
        self.method()
            .map_or_else(|| "none".to_string(), |m| m.to_string())
    }

    /// The explanation lines of the report: rules, remarks, reasons.
    pub fn detail(&self) -> String {
        let lines: Vec<String> = match self {
            Verdict::Proved {
                context,
                rules,
                remarks,
                cross_checks,
                ..
            } => {
                let mut lines = context.clone();
                if !rules.is_empty() {
                    let names: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
                    lines.push(format!("rules used: {}", names.join("; ")));
                }
                lines.extend(remarks.iter().cloned());
                if let Some(c) = cross_checks {
                    lines.push(if c.matrices {
                        format!(
                            "cross-checked with exact rational matrices at {} point{}",
                            c.points,
                            if c.points == 1 { "" } else { "s" }
                        )
                    } else {
                        format!(
                            "cross-checked at {} point{}",
                            c.points,
                            if c.points == 1 { "" } else { "s" }
                        )
                    });
                }
                lines
            }
            Verdict::Checked { notes, .. } | Verdict::Refuted { notes, .. } => notes.clone(),
            Verdict::Unsupported(reason) => vec![reason.to_string()],
            Verdict::Error { message, .. } => vec![message.clone()],
        };
        lines
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The same verdict with `line` put before its explanation (for a
    /// method that rewrote the step and handed it on, such as the moment
    /// calculus). An `error` keeps its message.
    pub fn in_context(mut self, line: String) -> Verdict {
        match &mut self {
            Verdict::Proved { context, .. } => context.insert(0, line),
            Verdict::Checked { notes, .. } | Verdict::Refuted { notes, .. } => {
                notes.insert(0, line)
            }
            Verdict::Unsupported(reason) => {
                *reason = StopReason::NotHandled(format!("{line}\n{reason}"));
            }
            Verdict::Error { .. } => {}
        }
        self
    }
}
