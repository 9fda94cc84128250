//! Why the symbolic normal form (or the calculus feeding it) stopped.

use crate::symbolic::cas::CasError;

/// Why normalization stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NormError {
    /// A construct outside the symbolic engine.
    #[error("{0}")]
    Unsupported(String),
    /// The expression is undefined everywhere (an even root of a negative constant).
    #[error("{0}")]
    Undefined(String),
    /// A work budget ran out.
    #[error("{0}")]
    Budget(String),
}

impl From<CasError> for NormError {
    fn from(e: CasError) -> NormError {
        match e {
            CasError::Budget(s) => NormError::Budget(s),
            CasError::Failed(s) => NormError::Unsupported(s),
            CasError::Undefined(s) => NormError::Undefined(s),
        }
    }
}
