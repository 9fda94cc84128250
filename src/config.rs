//! The resolved settings of a run: the seed, the claims selected, and the
//! work budgets, each with its documented default.
//!
//! Every limit of the engine is a field of [`Budgets`]: a budget of work
//! (points, terms, nodes, digits), never of seconds, so that the same files
//! and seed give the same report on any machine. Reaching one ends the
//! method that reached it with the reason, and the step goes on to the next
//! method or ends `unsupported`.

/// The default spot-check seed (printed in every report).
pub const DEFAULT_SEED: u64 = 1;

/// Stack size of the threads that check files and claims (our checks recurse
/// over expressions; the parser bounds their depth). Default: 256 MiB.
pub const CHECK_STACK: usize = 256 * 1024 * 1024;

/// The limits of work, one field each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// Admissible spot-check points wanted per step. Default: 40.
    pub samples: usize,
    /// Candidate points drawn per step at most. Default: 400.
    pub attempts: usize,
    /// Spot checks run to cross-check a step already proved. Default: 8.
    pub cross_checks: usize,
    /// Candidate points drawn at most to cross-check a proved matrix
    /// implication (points where the premise holds are rare). Default: 64.
    pub cross_check_attempts: usize,
    /// Largest finite integer domain checked exhaustively (a proof). Default: 10 000.
    pub exhaustive_limit: u128,
    /// Values scanned in order first when a step has one integer symbol
    /// bounded below (so a refutation names the smallest failing value). Default: 32.
    pub scan: usize,
    /// The fewest agreeing spot checks that make a step `checked`; fewer is
    /// `unsupported`. Default: 20.
    pub min_checks: usize,
    /// Random draws of `array(r, c)` symbols per step, spread over the points. Default: 60.
    pub array_draws: usize,
    /// Candidate points of a matrix implication, as a multiple of `attempts`. Default: 2.
    pub implication_attempts: usize,
    /// Entry-shrinking evaluations tried to make a matrix counterexample small. Default: 300.
    pub shrink_evaluations: usize,
    /// Deepest nesting of parentheses and operators in one expression. Default: 100.
    pub nesting: usize,
    /// Most expression nodes one expansion of definitions may produce. Default: 100 000.
    pub expanded_nodes: usize,
    /// Deepest nesting of definition expansions. Default: 64.
    pub expansion_depth: usize,
    /// Most expression nodes visited in one exact evaluation. Default: 2 000 000.
    pub eval_work: usize,
    /// Deepest nesting of definition calls in one evaluation. Default: 200.
    pub call_depth: usize,
    /// Most terms of a sum or product evaluated at a point. Default: 100 000.
    pub sum_terms: u64,
    /// Significant bits (relative precision) at which certified enclosures
    /// of irrational values are first computed at a point. Default: 128.
    pub precision_bits: u32,
    /// Most significant bits a spot check refines an undecided point to
    /// (doubling from `precision_bits`) before calling the point undecided. Default: 1 024.
    pub max_precision_bits: u32,
    /// Enclosures of the two sides that overlap and agree to a relative
    /// 2^-`agreement_bits` (or both lie within 2^-`agreement_bits` of 0)
    /// make an agreeing spot check: numerical agreement, counted towards
    /// `checked`, never a proof. Default: 100.
    pub agreement_bits: u32,
    /// Largest degree of the defining polynomial of an exact algebraic
    /// number (constant claims with radicals). Default: 64.
    pub algebraic_degree: usize,
    /// Largest numerator or denominator of an exact value, in bits. Default: 65 536.
    pub number_bits: u64,
    /// Largest expansion the CAS is asked to do, in estimated terms. Default: 200 000.
    pub cas_terms: u64,
    /// Largest total degree the CAS is asked to handle. Default: 4 096.
    pub cas_degree: u64,
    /// Deepest nesting the scalar normal form follows. Default: 400.
    pub normal_depth: usize,
    /// Largest degree of a radical made a generator (`x = t^L`). Default: 64.
    pub root_degree: u32,
    /// Most terms of a sum with numeric bounds written out by the normal form. Default: 1 000.
    pub expanded_sum_terms: u64,
    /// Largest integer factored into primes by the normal form. Default: 10^12.
    pub factor_limit: u64,
    /// Most terms of a moment expansion. Default: 20 000.
    pub moment_terms: usize,
    /// Most index-coincidence patterns of a moment. Default: 50 000.
    pub moment_patterns: usize,
    /// Largest power of a random variable expanded. Default: 64.
    pub moment_power: u32,
    /// Deepest nesting of a matrix expression. Default: 200.
    pub matrix_depth: usize,
    /// Largest literal power of a matrix expanded. Default: 12.
    pub matrix_power: u32,
    /// Largest exponent of a size polynomial. Default: 8.
    pub size_exponent: i64,
    /// Bisections of a spectral-norm root isolation. Default: 96.
    pub bisections: usize,
    /// Largest dimension of a sampled matrix. Default: 8.
    pub matrix_dim: usize,
    /// Largest entry of an exact matrix, in bits. Default: 4 096.
    pub matrix_entry_bits: u64,
    /// Most terms of a matrix normal form. Default: 4 096.
    pub matrix_terms: usize,
    /// Longest word of a matrix normal form. Default: 64.
    pub matrix_word: usize,
    /// Most rewrites of words by `given` rules. Default: 10 000.
    pub matrix_rewrites: usize,
    /// Most combinations of norm bounds (submultiplicativity, triangle
    /// inequality, Frobenius) tried to prove one matrix inequality. Default: 64.
    pub norm_bound_combinations: usize,
    /// Largest size (rows or columns) of an array built from a sampled size. Default: 512.
    pub array_size: usize,
    /// Most entries of one array value. Default: 4 194 304.
    pub array_entries: usize,
    /// Most multiply-adds of one layer evaluation. Default: 67 108 864.
    pub layer_work: usize,
    /// Most claim outcomes a session remembers. Default: 100 000.
    pub memo_entries: usize,
    /// Most expression nodes produced by symbolic differentiation and
    /// integration within one expression (a deep chain of `diff` stops
    /// here). Default: 200 000.
    pub derivative_nodes: usize,
    /// Largest integer multiple of a base angle written out by the
    /// multiple-angle formulas (`sin(k x)`). Default: 32.
    pub trig_multiple: u64,
    /// Most monomials of one `sin`/`cos` argument expanded by angle
    /// addition. Default: 6.
    pub trig_terms: usize,
}

impl Budgets {
    /// The defaults documented on each field.
    pub const DEFAULT: Budgets = Budgets {
        samples: 40,
        attempts: 400,
        cross_checks: 8,
        cross_check_attempts: 64,
        exhaustive_limit: 10_000,
        scan: 32,
        min_checks: 20,
        array_draws: 60,
        implication_attempts: 2,
        shrink_evaluations: 300,
        nesting: 100,
        expanded_nodes: 100_000,
        expansion_depth: 64,
        eval_work: 2_000_000,
        call_depth: 200,
        sum_terms: 100_000,
        precision_bits: 128,
        max_precision_bits: 1024,
        agreement_bits: 100,
        algebraic_degree: 64,
        number_bits: 1 << 16,
        cas_terms: 200_000,
        cas_degree: 4096,
        normal_depth: 400,
        root_degree: 64,
        expanded_sum_terms: 1000,
        factor_limit: 1_000_000_000_000,
        moment_terms: 20_000,
        moment_patterns: 50_000,
        moment_power: 64,
        matrix_depth: 200,
        matrix_power: 12,
        size_exponent: 8,
        bisections: 96,
        matrix_dim: 8,
        matrix_entry_bits: 4096,
        matrix_terms: 4096,
        matrix_word: 64,
        matrix_rewrites: 10_000,
        norm_bound_combinations: 64,
        array_size: 512,
        array_entries: 1 << 22,
        layer_work: 1 << 26,
        memo_entries: 100_000,
        derivative_nodes: 200_000,
        trig_multiple: 32,
        trig_terms: 6,
    };
}

impl Default for Budgets {
    fn default() -> Budgets {
        Budgets::DEFAULT
    }
}

/// Settings for checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Spot-check seed. Default: [`DEFAULT_SEED`].
    pub seed: u64,
    /// Only these claim ids (empty: all).
    pub only: Vec<String>,
    /// The limits of work.
    pub budgets: Budgets,
    /// Reuse the outcome of a claim already checked with the same parsed
    /// content, declarations and settings in the session. Default: true.
    pub memo: bool,
    /// Try symbolic proofs. Default: true. Off, steps are only evaluated at
    /// points (exact evaluation, exhaustion, spot checks): the independent
    /// path the mutation test uses as its oracle.
    pub symbolic: bool,
    /// The wall-clock guard per step (`--step-limit`), a last resort against
    /// a path the budgets miss; `None` turns it off. Default:
    /// [`DEFAULT_STEP_LIMIT`].
    pub step_limit: Option<std::time::Duration>,
}

/// The default wall-clock guard per step: 5 seconds. Every step of the
/// repository's own files takes well under 100 ms; a step that reaches the
/// guard is `unsupported`, saying so.
pub const DEFAULT_STEP_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: DEFAULT_SEED,
            only: Vec::new(),
            budgets: Budgets::DEFAULT,
            memo: true,
            symbolic: true,
            step_limit: Some(DEFAULT_STEP_LIMIT),
        }
    }
}
