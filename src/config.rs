//! The resolved settings of a run: the seed, the claims selected, and the
//! work budgets, each with its documented default.

/// The default spot-check seed (printed in every report).
pub const DEFAULT_SEED: u64 = 1;

/// Stack size of the threads that check files and claims (our checks recurse
/// over expressions; the parser bounds their depth). Default: 256 MiB.
pub const CHECK_STACK: usize = 256 * 1024 * 1024;

/// Settings for checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Spot-check seed. Default: [`DEFAULT_SEED`].
    pub seed: u64,
    /// Only these claim ids (empty: all).
    pub only: Vec<String>,
    /// Admissible spot-check points wanted per step. Default: 40.
    pub samples: usize,
    /// Candidate points drawn per step at most. Default: 400.
    pub attempts: usize,
    /// Spot checks run to cross-check a step already proved. Default: 8.
    pub cross_checks: usize,
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
    /// Reuse the report of a claim already checked with the same text,
    /// declarations and settings in this process. Default: true.
    pub memo: bool,
    /// Try symbolic proofs. Default: true. Off, steps are only evaluated at
    /// points (exact evaluation, exhaustion, spot checks): the independent
    /// path the mutation test uses as its oracle.
    pub symbolic: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: DEFAULT_SEED,
            only: Vec::new(),
            samples: 40,
            attempts: 400,
            cross_checks: 8,
            exhaustive_limit: 10_000,
            scan: 32,
            min_checks: 20,
            array_draws: 60,
            memo: true,
            symbolic: true,
        }
    }
}
