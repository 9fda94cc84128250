//! The CAS boundary: the only module that names Symbolica.
//!
//! Symbolica runs without a license key in restricted mode, which allows one
//! thread per user: a second thread or process that uses it while the first
//! is alive is aborted. So every Symbolica call in this process runs on one
//! long-lived engine thread ([`run`]), and before the first call the process
//! takes a per-user lock file, so that a second concurrent `derive-check`
//! waits (and says so on stderr) instead of aborting. Symbolica's own notice,
//! printed on stdout at first use, is left untouched: its license forbids
//! hiding it.

use crate::symbolic::polynomial::{Alg, Poly, RatFun, Term};
use num_bigint::BigInt;
use num_rational::BigRational;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::OnceLock;
use std::time::Instant;
use symbolica::atom::AtomCore;
use symbolica::domains::integer::Z;
use symbolica::domains::rational::Q;
use symbolica::domains::rational_polynomial::RationalPolynomial;

/// The budget [`Budgets::cas_terms`](crate::config::Budgets::cas_terms).
const TERM_BUDGET: f64 = crate::config::Budgets::DEFAULT.cas_terms as f64;
/// The budget [`Budgets::cas_degree`](crate::config::Budgets::cas_degree).
const DEGREE_BUDGET: f64 = crate::config::Budgets::DEFAULT.cas_degree as f64;
/// Stack size of the engine thread, which also runs our recursive checks.
const ENGINE_STACK: usize = crate::config::CHECK_STACK;

type Job = Box<dyn FnOnce() + Send>;

/// The engine's job queue (a `Sender` is shared by reference: no lock per call).
static ENGINE: OnceLock<Sender<Job>> = OnceLock::new();
static LOCK: OnceLock<Option<File>> = OnceLock::new();

thread_local! {
    static ON_ENGINE: Cell<bool> = const { Cell::new(false) };
    /// The engine's job queue, set on the engine thread only.
    static INBOX: RefCell<Option<Receiver<Job>>> = const { RefCell::new(None) };
}

/// Why the CAS did not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CasError {
    /// The expansion would exceed a work budget.
    #[error("{0}")]
    Budget(String),
    /// The CAS failed (a panic inside it, or a result we cannot read).
    #[error("the CAS failed: {0}")]
    Failed(String),
    /// The expression divides by zero.
    #[error("{0}")]
    Undefined(String),
}

/// The message of a caught panic.
pub(crate) fn panic_message(p: Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

fn engine() -> &'static Sender<Job> {
    ENGINE.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("derive-check-engine".into())
            .stack_size(ENGINE_STACK)
            .spawn(move || {
                ON_ENGINE.with(|c| c.set(true));
                INBOX.with(|i| *i.borrow_mut() = Some(rx));
                // The borrow ends before the job runs: a job may serve others.
                while let Some(Ok(job)) = INBOX.with(|i| i.borrow().as_ref().map(|rx| rx.recv())) {
                    job();
                }
            })
            .expect("cannot start the engine thread");
        tx
    })
}

/// Runs `f` on the engine thread and returns its result; called from the
/// engine thread itself it just runs `f`. A panic inside `f` is returned as
/// `Err` with its message, and the engine thread lives on.
pub(crate) fn run<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, String> {
    if ON_ENGINE.with(|c| c.get()) {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(panic_message);
    }
    let (tx, rx) = channel();
    let job: Job = Box::new(move || {
        let started = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(panic_message);
        let _ = tx.send((started, r));
    });
    let sent = Instant::now();
    engine()
        .send(job)
        .map_err(|_| "the engine thread has stopped".to_string())?;
    let (started, r) = rx
        .recv()
        .map_err(|_| "the engine thread has stopped".to_string())?;
    // The time the job waited in the engine's queue (behind other claims'
    // work) is not this thread's work: the wall-clock guard does not count it.
    crate::guard::exclude(started.saturating_duration_since(sent));
    r
}

/// Runs the jobs other threads have queued for the engine, if called on it.
fn serve_pending() {
    while let Some(job) = INBOX.with(|i| i.borrow().as_ref().and_then(|rx| rx.try_recv().ok())) {
        crate::guard::detached(job);
    }
}

/// On the engine thread: runs queued jobs until `done()`. Elsewhere: nothing.
fn serve_until(done: impl Fn() -> bool) {
    while !done() {
        let next = INBOX.with(|i| {
            i.borrow()
                .as_ref()
                .map(|rx| rx.recv_timeout(std::time::Duration::from_millis(20)))
        });
        match next {
            Some(Ok(job)) => crate::guard::detached(job),
            Some(Err(RecvTimeoutError::Timeout)) => {}
            Some(Err(RecvTimeoutError::Disconnected)) | None => return,
        }
    }
}

/// Counts a helper of [`parallel_map`] out when it ends, and wakes the engine
/// if it is waiting for the helpers.
struct HelperDone<'a> {
    running: &'a AtomicUsize,
    on_engine: bool,
}

impl Drop for HelperDone<'_> {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        if self.on_engine {
            let _ = engine().send(Box::new(|| {}));
        }
    }
}

/// Applies `f` to every item on up to `threads` threads: the caller's and
/// helpers with the engine's stack size; result `i` is `f(&items[i])`
/// (`None` only if `f` panicked on it), whatever the timing.
///
/// The helpers may call [`rational_function`]. Called on the engine thread
/// with more than one thread and item, this function only serves: `threads`
/// helpers take every item and the engine runs their Symbolica calls as
/// they come, so a helper's call never waits for a claim of the engine's
/// own. Otherwise the caller works too, and on the engine thread it serves
/// the helpers' Symbolica work between its own items and while it waits
/// for them (the engine is never blocked waiting on a thread that waits on
/// the engine); since a helper's Symbolica call then waits for the engine,
/// helpers take only the items `cas_free` marks as (probably) not needing
/// the CAS, and the caller takes the others first, then helps with those.
/// The mark only schedules work: a wrong one costs time, never correctness.
pub(crate) fn parallel_map<I: Sync, T: Send>(
    items: &[I],
    threads: usize,
    cas_free: impl Fn(&I) -> bool,
    f: impl Fn(&I) -> T + Sync,
) -> Vec<Option<T>> {
    let on_engine = ON_ENGINE.with(|c| c.get());
    let serve_only = on_engine && threads > 1 && items.len() > 1;
    let (free, other): (Vec<usize>, Vec<usize>) =
        (0..items.len()).partition(|&i| serve_only || !on_engine || cas_free(&items[i]));
    let threads = if serve_only {
        // The caller serves; one more helper takes its share of the items.
        (threads + 1).min(items.len() + 1)
    } else {
        threads.clamp(1, free.len().max(1))
    };
    let (next_free, next_other) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let running = AtomicUsize::new(0);
    let work = |helper: bool| {
        let mut done = Vec::new();
        loop {
            if !helper && on_engine {
                serve_pending();
            }
            let mut i = None;
            if !helper {
                i = other.get(next_other.fetch_add(1, Ordering::Relaxed));
            }
            if i.is_none() {
                i = free.get(next_free.fetch_add(1, Ordering::Relaxed));
            }
            let Some(&i) = i else { break };
            // A panic must not unwind out of here: on the engine thread it
            // would leave helpers waiting for the engine forever.
            if let Ok(t) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&items[i]))) {
                done.push((i, t));
            }
        }
        done
    };
    let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|s| {
        let mut helpers = Vec::new();
        for _ in 1..threads {
            running.fetch_add(1, Ordering::SeqCst);
            let (work, running) = (&work, &running);
            let spawned = std::thread::Builder::new()
                .name("derive-check-helper".into())
                .stack_size(ENGINE_STACK)
                .spawn_scoped(s, move || {
                    // Counts this helper out even if it unwinds, so the
                    // engine's wait below always ends.
                    let _out = HelperDone { running, on_engine };
                    work(true)
                });
            match spawned {
                Ok(h) => helpers.push(h),
                Err(_) => {
                    running.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
        if serve_only {
            serve_until(|| running.load(Ordering::SeqCst) == 0);
        }
        // Serving, the caller takes only what no helper took (none unless
        // a helper could not be started).
        for (i, t) in work(false) {
            out[i] = Some(t);
        }
        if on_engine && !serve_only {
            serve_until(|| running.load(Ordering::SeqCst) == 0);
        }
        for h in helpers {
            if let Ok(done) = h.join() {
                for (i, t) in done {
                    out[i] = Some(t);
                }
            }
        }
    });
    out
}

fn user_id() -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return m.uid().to_string();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "user".into())
}

/// Takes the per-user lock and makes a first, trivial Symbolica call now
/// rather than in the middle of the work: a caller about to draw a progress
/// line calls this first, so that the message of a wait and Symbolica's own
/// notice (printed, untouched, at its first use) come before the line
/// instead of running into it.
pub(crate) fn start_now() {
    ensure_lock();
    let _ = rational_function(&Alg::Num(BigRational::from_integer(BigInt::from(1))), 0);
}

/// Takes the per-user lock before the first Symbolica call of this process.
fn ensure_lock() {
    LOCK.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("derive-check-symbolica-{}.lock", user_id()));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ok()?;
        match file.try_lock() {
            Ok(()) => {}
            Err(_) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| describe_holder(&t, now_unix()))
                    .unwrap_or_else(|| "another derive-check process of this user".to_string());
                eprintln!(
                    "derive-check: waiting for {holder} to finish \
                     (Symbolica's restricted mode allows one at a time; lock file {})",
                    path.display()
                );
                file.lock().ok()?;
            }
        }
        // Say who holds the lock, for the message of the next process that waits.
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = std::io::Write::write_all(
            &mut f,
            format!("pid {} since {}\n", std::process::id(), now_unix()).as_bytes(),
        );
        let _ = std::io::Write::flush(&mut f);
        Some(file)
    });
}

/// Seconds since 1970 (0 if the clock is before it).
fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// "process 1234 (holding the lock since 2026-12-02 04:50:01 UTC, 35 s ago)"
/// from the lock file's text `pid 1234 since 1796186...`.
fn describe_holder(text: &str, now: u64) -> Option<String> {
    let mut words = text.split_whitespace();
    let (Some("pid"), Some(pid), Some("since"), Some(since)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return None;
    };
    let pid: u32 = pid.parse().ok()?;
    let since: u64 = since.parse().ok()?;
    Some(format!(
        "process {pid} (holding the lock since {}, {} s ago)",
        utc_text(since),
        now.saturating_sub(since)
    ))
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since 1970 (the civil calendar).
fn utc_text(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn divides_by_literal_zero(a: &Alg) -> bool {
    match a {
        Alg::Num(_) | Alg::Var(_) => false,
        Alg::Add(items) | Alg::Mul(items) => items.iter().any(divides_by_literal_zero),
        Alg::Pow(b, k) => {
            (*k < 0 && matches!(&**b, Alg::Num(q) if q.numer().sign() == num_bigint::Sign::NoSign))
                || divides_by_literal_zero(b)
        }
    }
}

fn to_symbolica_text(a: &Alg, out: &mut String) {
    match a {
        Alg::Num(q) => {
            let _ = write!(out, "({}/{})", q.numer(), q.denom());
        }
        Alg::Var(i) => {
            let _ = write!(out, "dcv{i}");
        }
        Alg::Add(items) | Alg::Mul(items) => {
            if items.is_empty() {
                out.push_str(if matches!(a, Alg::Add(_)) { "0" } else { "1" });
                return;
            }
            let sep = if matches!(a, Alg::Add(_)) { "+" } else { "*" };
            out.push('(');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                to_symbolica_text(x, out);
            }
            out.push(')');
        }
        Alg::Pow(b, k) => {
            out.push('(');
            to_symbolica_text(b, out);
            let _ = write!(out, ")^({k})");
        }
    }
}

fn read_poly(
    p: &symbolica::poly::polynomial::MultivariatePolynomial<
        symbolica::domains::integer::IntegerRing,
        u32,
    >,
    nvars: usize,
) -> Result<Poly, CasError> {
    let vars = p.get_vars_ref();
    let mut index = Vec::with_capacity(vars.len());
    for v in vars {
        let name = v.to_string();
        let i = name
            .rsplit("dcv")
            .next()
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|i| *i < nvars)
            .ok_or_else(|| CasError::Failed(format!("unexpected variable `{name}`")))?;
        index.push(i);
    }
    let width = vars.len();
    let mut terms = Vec::with_capacity(p.coefficients.len());
    for (t, c) in p.coefficients.iter().enumerate() {
        let coeff: BigInt = c
            .to_string()
            .parse()
            .map_err(|_| CasError::Failed(format!("unreadable coefficient {c}")))?;
        let mut exps = vec![0u32; nvars];
        for (k, &var) in index.iter().enumerate() {
            exps[var] = p.exponents[t * width + k];
        }
        terms.push(Term {
            coeff: BigRational::from_integer(coeff),
            exps,
        });
    }
    Ok(Poly { terms })
}

/// Our own canonical order and sign, whatever variable order the CAS chose
/// (which may depend on the order of earlier calls): terms by decreasing
/// exponent vectors, the denominator's first term positive.
fn canonical(mut rf: RatFun) -> RatFun {
    rf.num.terms.sort_by(|a, b| b.exps.cmp(&a.exps));
    rf.den.terms.sort_by(|a, b| b.exps.cmp(&a.exps));
    if rf
        .den
        .terms
        .first()
        .is_some_and(|t| t.coeff < BigRational::from_integer(0.into()))
    {
        for t in rf.num.terms.iter_mut().chain(rf.den.terms.iter_mut()) {
            t.coeff = -t.coeff.clone();
        }
    }
    rf
}

/// The canonical rational function of `a`, a rational expression over
/// `nvars` generators: numerator and denominator with no common factor.
pub(crate) fn rational_function(a: &Alg, nvars: usize) -> Result<RatFun, CasError> {
    if crate::guard::expired() {
        return Err(CasError::Budget(crate::guard::REACHED.into()));
    }
    let terms = a.term_bound();
    let degree = a.degree_bound();
    if degree > DEGREE_BUDGET {
        return Err(CasError::Budget(format!(
            "the expansion would reach degree {degree:.0}, over the degree budget of {DEGREE_BUDGET}"
        )));
    }
    if terms > TERM_BUDGET {
        return Err(CasError::Budget(format!(
            "the expansion could reach {terms:.3e} terms, over the budget of {TERM_BUDGET} terms"
        )));
    }
    if divides_by_literal_zero(a) {
        return Err(CasError::Undefined("division by zero".into()));
    }
    // Waiting for another process's lock is not this step's work.
    crate::guard::excluding(ensure_lock);
    let mut text = String::new();
    to_symbolica_text(a, &mut text);
    let job = move || -> Result<RatFun, CasError> {
        ensure_lock();
        let atom = symbolica::try_parse!(&text).map_err(|e| CasError::Failed(e.to_string()))?;
        let rf: RationalPolynomial<_, u32> = atom
            .try_to_rational_polynomial(&Q, &Z, None)
            .map_err(|e| CasError::Failed(format!("{e:?}")))?;
        Ok(canonical(RatFun {
            num: read_poly(&rf.numerator, nvars)?,
            den: read_poly(&rf.denominator, nvars)?,
        }))
    };
    run(job).map_err(CasError::Failed)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Alg {
        Alg::int(n)
    }

    #[test]
    fn the_lock_holder_is_described_with_a_civil_date() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        // 2000-02-29 12:34:56 UTC, a leap day.
        assert_eq!(utc_text(951_827_696), "2000-02-29 12:34:56 UTC");
        assert_eq!(utc_text(1_796_186_096), "2026-12-02 04:34:56 UTC");
        assert_eq!(
            describe_holder("pid 42 since 951827696\n", 951_827_731).as_deref(),
            Some("process 42 (holding the lock since 2000-02-29 12:34:56 UTC, 35 s ago)")
        );
        assert_eq!(describe_holder("", 0), None);
        assert_eq!(describe_holder("pid x since 3", 0), None);
    }

    #[test]
    fn rational_identity_normalizes_to_zero() {
        // 1/x + 1/y - (x + y)/(x y) = 0
        let x = || Alg::Var(0);
        let y = || Alg::Var(1);
        let lhs = Alg::Add(vec![
            Alg::Pow(Box::new(x()), -1),
            Alg::Pow(Box::new(y()), -1),
        ]);
        let rhs = Alg::Mul(vec![
            Alg::Add(vec![x(), y()]),
            Alg::Pow(Box::new(Alg::Mul(vec![x(), y()])), -1),
        ]);
        let rf = rational_function(&Alg::sub(lhs, rhs), 2).unwrap();
        assert!(rf.num.is_zero());
    }

    #[test]
    fn cancellation_and_readback() {
        // (x^2 - 1)/(x - 1) = x + 1, read back as our own polynomial.
        let x = || Alg::Var(0);
        let e = Alg::Mul(vec![
            Alg::Add(vec![Alg::Pow(Box::new(x()), 2), q(-1)]),
            Alg::Pow(Box::new(Alg::Add(vec![x(), q(-1)])), -1),
        ]);
        let rf = rational_function(&e, 1).unwrap();
        assert_eq!(
            rf.den.as_constant(),
            Some(BigRational::from_integer(1.into()))
        );
        let at = |v: i64| rf.num.eval(&[BigRational::from_integer(v.into())]);
        assert_eq!(at(3), BigRational::from_integer(4.into()));
        assert_eq!(rf.num.terms.len(), 2);
    }

    #[test]
    fn parallel_map_keeps_the_order_of_the_items() {
        for n in [0usize, 1, 2, 7, 50] {
            let items: Vec<u64> = (0..n as u64).collect();
            for threads in [1, 2, 8] {
                let out = parallel_map(&items, threads, |i| i % 3 == 0, |i| i * i);
                let want: Vec<Option<u64>> = items.iter().map(|i| Some(i * i)).collect();
                assert_eq!(out, want, "{n} items on {threads} threads");
            }
        }
    }

    #[test]
    fn a_panicking_item_gives_none_and_the_others_their_results() {
        let out = run(|| {
            let items: Vec<u32> = (0..9).collect();
            parallel_map(
                &items,
                2,
                |_| true,
                |&i| {
                    assert!(i != 4, "item 4 fails");
                    i + 100
                },
            )
        })
        .unwrap();
        let want: Vec<Option<u32>> = (0..9).map(|i| (i != 4).then_some(i + 100)).collect();
        assert_eq!(out, want);
    }

    #[test]
    fn helpers_of_the_engine_can_use_the_cas() {
        // On the engine thread, helpers' Symbolica calls are served while the
        // engine waits: (x^2 - k^2)/(x - k) = x + k for every item.
        let out = run(|| {
            let items: Vec<i64> = (1..=12).collect();
            parallel_map(
                &items,
                3,
                |_| true,
                |&k| {
                    let x = || Alg::Var(0);
                    let e = Alg::Mul(vec![
                        Alg::Add(vec![Alg::Pow(Box::new(x()), 2), q(-k * k)]),
                        Alg::Pow(Box::new(Alg::Add(vec![x(), q(-k)])), -1),
                    ]);
                    let rf = rational_function(&e, 1).unwrap();
                    rf.num.eval(&[BigRational::from_integer(10.into())])
                },
            )
        })
        .unwrap();
        for (k, v) in (1..=12).zip(out) {
            assert_eq!(v, Some(BigRational::from_integer((10 + k).into())));
        }
    }

    #[test]
    fn a_wait_in_the_engines_queue_does_not_count_towards_the_guard() {
        use crate::guard::Outcome;
        use std::time::Duration;
        // Another caller's job keeps the engine busy for longer than this
        // thread's guard while this thread's CAS call waits in its queue.
        let (started_tx, started_rx) = channel();
        let busy = std::thread::spawn(move || {
            run(move || {
                let _ = started_tx.send(());
                std::thread::sleep(Duration::from_millis(400));
            })
        });
        started_rx.recv().unwrap();
        let outcome = crate::guard::run(Some(Duration::from_millis(250)), || {
            let e = Alg::Add(vec![Alg::Var(0), q(1)]);
            rational_function(&e, 1).is_ok() && !(0..1000).any(|_| crate::guard::expired())
        });
        busy.join().unwrap().unwrap();
        assert_eq!(outcome, (true, Outcome::InTime));
    }

    #[test]
    fn on_the_engine_helpers_take_every_item_and_get_their_cas_calls_served() {
        // Serving only, the engine thread checks no item itself.
        let out = run(|| {
            let engine = std::thread::current().id();
            let items: Vec<i64> = (1..=6).collect();
            parallel_map(
                &items,
                2,
                |_| false,
                |&k| {
                    let e = Alg::Add(vec![Alg::Var(0), q(k)]);
                    let rf = rational_function(&e, 1).unwrap();
                    (std::thread::current().id() != engine, rf.num.terms.len())
                },
            )
        })
        .unwrap();
        assert_eq!(out, vec![Some((true, 2)); 6]);
    }

    #[test]
    fn huge_powers_hit_the_budget() {
        let e = Alg::Pow(Box::new(Alg::Add(vec![Alg::Var(0), q(1)])), 1_000_000);
        assert!(matches!(rational_function(&e, 1), Err(CasError::Budget(_))));
    }
}
