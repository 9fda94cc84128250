//! The wall-clock guard: the last resort against a path that the budgets of
//! work ([`crate::config::Budgets`]) do not bound.
//!
//! Every step is checked under [`run`], which sets a deadline for the
//! current thread (`--step-limit`, [`crate::config::DEFAULT_STEP_LIMIT`]).
//! The places where work grows (evaluation steps, the normal form's
//! recursion, sampling loops) poll [`expired`] and stop as if a budget were
//! reached; the step then becomes `unsupported` saying that the guard was
//! reached. The guard is not deterministic by nature, which is why it is
//! only a last resort: the test suite fails if it is ever reached on the
//! repository's own files.
//!
//! The guard measures the step's own work, not the time it spends waiting
//! for others: the deadline is kept on a per-thread clock that stands still
//! while the thread waits for its turn on the shared Symbolica engine
//! ([`exclude`], measured by `cas::run`), waits for the per-user lock
//! ([`excluding`]), or runs another caller's job on the engine thread
//! ([`detached`]).
//!
//! It uses no other module of the crate, so every layer may poll it.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

thread_local! {
    /// The deadline, on this thread's work clock ([`work_clock`]).
    static DEADLINE: Cell<Option<Duration>> = const { Cell::new(None) };
    static FIRED: Cell<bool> = const { Cell::new(false) };
    static POLLS: Cell<u32> = const { Cell::new(0) };
    /// The time this thread has spent waiting or working for others, which
    /// its work clock does not count.
    static EXCLUDED: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// The origin of every thread's work clock.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// How many polls pass between two readings of the clock.
const POLL_EVERY: u32 = 64;

/// This thread's work clock: the time since [`EPOCH`] less the time it
/// spent waiting or working for others.
fn work_clock() -> Duration {
    let epoch = *EPOCH.get_or_init(Instant::now);
    epoch.elapsed().saturating_sub(EXCLUDED.with(Cell::get))
}

/// What [`run`] observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The work finished within the limit.
    InTime,
    /// The deadline passed while the work ran (the result may be partial).
    Reached,
}

/// Runs `work` with a deadline `limit` from now on this thread (none when
/// `limit` is `None`), and says whether the deadline was reached. Nested
/// calls keep the outer, earlier deadline.
pub(crate) fn run<T>(limit: Option<Duration>, work: impl FnOnce() -> T) -> (T, Outcome) {
    let outer = DEADLINE.with(Cell::get);
    let outer_fired = FIRED.with(Cell::get);
    let mine = limit.and_then(|l| work_clock().checked_add(l));
    let deadline = match (outer, mine) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    DEADLINE.with(|d| d.set(deadline));
    FIRED.with(|f| f.set(false));
    let value = work();
    let fired = FIRED.with(Cell::get);
    DEADLINE.with(|d| d.set(outer));
    // The outer run has reached its deadline too only if it was this one.
    let outer_reached = fired && deadline.is_some() && deadline == outer;
    FIRED.with(|f| f.set(outer_fired || outer_reached));
    let outcome = if fired {
        Outcome::Reached
    } else {
        Outcome::InTime
    };
    (value, outcome)
}

/// Has the current deadline passed? Cheap: reads the clock once every
/// few calls, and once it has passed answers `true` until [`run`] ends.
pub(crate) fn expired() -> bool {
    if FIRED.with(Cell::get) {
        return true;
    }
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return false;
    };
    let n = POLLS.with(|p| {
        let n = p.get().wrapping_add(1);
        p.set(n);
        n
    });
    if !n.is_multiple_of(POLL_EVERY) {
        return false;
    }
    if work_clock() >= deadline {
        FIRED.with(|f| f.set(true));
        return true;
    }
    false
}

/// Does not count `waited` (a wait for others measured by the caller)
/// towards this thread's deadlines.
pub(crate) fn exclude(waited: Duration) {
    EXCLUDED.with(|e| e.set(e.get().saturating_add(waited)));
}

/// Runs `wait` (a wait for others, such as a lock) without counting its
/// time towards this thread's deadlines.
pub(crate) fn excluding<T>(wait: impl FnOnce() -> T) -> T {
    let before = EXCLUDED.with(Cell::get);
    let start = Instant::now();
    let value = wait();
    // Whatever `wait` excluded itself lies inside this interval.
    EXCLUDED.with(|e| e.set(before.saturating_add(start.elapsed())));
    value
}

/// Runs another caller's `job` on this thread (the engine thread serving a
/// queued job) outside this thread's deadline: the job sees no deadline
/// but its own, and its time does not count towards this thread's.
pub(crate) fn detached<T>(job: impl FnOnce() -> T) -> T {
    let deadline = DEADLINE.with(|d| d.replace(None));
    let fired = FIRED.with(|f| f.replace(false));
    let value = excluding(job);
    DEADLINE.with(|d| d.set(deadline));
    FIRED.with(|f| f.set(fired));
    value
}

/// The reason text used where a method stops because the guard fired.
pub(crate) const REACHED: &str = "the wall-clock guard of the step was reached";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deadline_never_expires() {
        let (n, outcome) = run(None, || (0..10_000).filter(|_| expired()).count());
        assert_eq!((n, outcome), (0, Outcome::InTime));
    }

    #[test]
    fn a_passed_deadline_is_seen_within_a_few_polls_and_reported() {
        let (polls, outcome) = run(Some(Duration::ZERO), || {
            (1..=1000).find(|_| expired()).unwrap_or(0)
        });
        assert!(polls >= 1 && polls <= POLL_EVERY as usize, "{polls}");
        assert_eq!(outcome, Outcome::Reached);
        // Outside `run` the deadline is gone.
        assert!(!expired());
    }

    #[test]
    fn a_long_deadline_is_not_reached() {
        let (_, outcome) = run(Some(Duration::from_secs(3600)), || {
            for _ in 0..1000 {
                assert!(!expired());
            }
        });
        assert_eq!(outcome, Outcome::InTime);
    }

    #[test]
    fn time_spent_waiting_for_others_does_not_count() {
        let wait = Duration::from_millis(400);
        let limit = Some(Duration::from_millis(250));
        let poll = || (0..1000).any(|_| expired());
        // Sleeping longer than the limit reaches it...
        let (fired, outcome) = run(limit, || {
            std::thread::sleep(wait);
            poll()
        });
        assert_eq!((fired, outcome), (true, Outcome::Reached));
        // ...but not while excluded, measured here or by the caller.
        let (fired, outcome) = run(limit, || {
            excluding(|| std::thread::sleep(wait));
            let start = Instant::now();
            std::thread::sleep(wait);
            exclude(start.elapsed());
            poll()
        });
        assert_eq!((fired, outcome), (false, Outcome::InTime));
    }

    #[test]
    fn a_detached_job_sees_no_outer_deadline_and_its_time_does_not_count() {
        let limit = Some(Duration::from_millis(250));
        let (inner, outer) = run(limit, || {
            let inner = detached(|| {
                std::thread::sleep(Duration::from_millis(400));
                // Its own deadline applies.
                let own = run(Some(Duration::ZERO), || (0..1000).any(|_| expired()));
                ((0..1000).any(|_| expired()), own)
            });
            assert!(!(0..1000).any(|_| expired()));
            inner
        });
        assert_eq!(inner, (false, (true, Outcome::Reached)));
        assert_eq!(outer, Outcome::InTime);
    }

    #[test]
    fn nested_runs_keep_the_earlier_deadline_and_report_upwards() {
        let ((_, inner), outer) = run(Some(Duration::ZERO), || {
            run(Some(Duration::from_secs(3600)), || {
                (1..=1000).any(|_| expired())
            })
        });
        assert_eq!(inner, Outcome::Reached);
        assert_eq!(outer, Outcome::Reached);
    }
}
