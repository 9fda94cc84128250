//! Spot checks: seeded, reproducible sample points that respect each
//! symbol's kind and the domain's bounds, edge points first, then small and
//! large random values. Values are exact rationals; positive symbols under
//! radicals are sampled as perfect powers so that their roots stay exact.

use crate::exact::real::Real;
use crate::resolve::domain::{Bound, Domain};
use crate::resolve::ScalarKind;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;

/// A small deterministic generator (SplitMix64): the same seed gives the same points.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `[lo, hi]`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }
}

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn frac(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// A point: each free symbol's exact value.
pub(crate) type Point = BTreeMap<String, Real>;

/// Draws sample points for a set of free symbols.
pub(crate) struct Sampler {
    symbols: Vec<String>,
    roots: BTreeMap<String, u32>,
    rng: Rng,
    /// Candidates produced so far: the edge points come first, once.
    drawn: usize,
    /// Draw only moderate random values (small integers and fractions, no
    /// large ones): for steps whose values leave the representable range
    /// at large arguments (`exp(exp(x))`, towers of powers).
    moderate: bool,
    /// Per symbol (in the order of `symbols`): what the domain says about
    /// it, read once instead of at every point.
    info: Vec<SymbolInfo>,
}

/// A symbol's kind, bounds and edge values under the sampler's domain.
struct SymbolInfo {
    kind: ScalarKind,
    lo: Option<Bound>,
    hi: Option<Bound>,
    edges: Vec<BigRational>,
}

impl Sampler {
    /// A sampler for `symbols` under `dom`; `roots` gives, per symbol, the
    /// degree of the radicals applied to it (sampled values are perfect powers of it).
    pub(crate) fn new(
        dom: &Domain,
        symbols: Vec<String>,
        roots: BTreeMap<String, u32>,
        seed: u64,
    ) -> Sampler {
        let info = symbols
            .iter()
            .map(|x| {
                let kind = dom.kinds.get(x).copied().unwrap_or(ScalarKind::Real);
                let (lo, hi) = (dom.lower_bound(x), dom.upper_bound(x));
                let edges = edges(kind, lo.as_ref(), hi.as_ref());
                SymbolInfo {
                    kind,
                    lo,
                    hi,
                    edges,
                }
            })
            .collect();
        Sampler {
            symbols,
            roots,
            rng: Rng::new(seed),
            drawn: 0,
            moderate: false,
            info,
        }
    }

    /// From now on, draws only moderate values (see [`Sampler::points`]).
    pub(crate) fn moderate(&mut self) {
        self.moderate = true;
    }

    /// Does it draw only moderate values?
    pub(crate) fn is_moderate(&self) -> bool {
        self.moderate
    }

    fn random_value(&mut self, k: usize, large: bool) -> BigRational {
        let SymbolInfo { kind, lo, hi, .. } = &self.info[k];
        let kind = *kind;
        if let (Some(l), Some(h)) = (lo, hi) {
            // Uniform between the bounds.
            let t = frac(self.rng.range(0, 1000), 1000);
            let mut v = &l.value + (&h.value - &l.value) * t;
            if kind.is_integer() {
                v = v.round();
            }
            return v;
        }
        let magnitude = if self.moderate {
            if kind.is_integer() {
                q(self.rng.range(1, 6))
            } else {
                frac(self.rng.range(1, 24), self.rng.range(1, 8))
            }
        } else if large {
            q(self.rng.range(1_000, 1_000_000_000))
        } else if kind.is_integer() {
            q(self.rng.range(1, 60))
        } else {
            frac(self.rng.range(1, 200), self.rng.range(1, 60))
        };
        let negative = self.rng.next_u64().is_multiple_of(2);
        match (lo, hi) {
            (Some(l), None) => plus(&l.value, magnitude),
            (None, Some(h)) => plus(&h.value, -magnitude),
            _ => {
                if negative && !kind.is_nonnegative() {
                    -magnitude
                } else {
                    magnitude
                }
            }
        }
    }

    /// The next `count` candidate points (not yet filtered by conditions):
    /// successive calls continue one sequence, edge points first.
    pub(crate) fn points(&mut self, count: usize) -> Vec<Point> {
        let mut out = Vec::with_capacity(count);
        let start = self.drawn;
        self.drawn += count;
        for i in start..start + count {
            let mut p = Point::new();
            for k in 0..self.symbols.len() {
                let e = &self.info[k].edges;
                let mut v = if i < 12 && !e.is_empty() {
                    e[(i + k * (i / 3)) % e.len()].clone()
                } else {
                    let large = i % 4 == 3;
                    self.random_value(k, large)
                };
                let SymbolInfo {
                    kind,
                    lo,
                    hi,
                    edges,
                } = &self.info[k];
                let (kind, lo, hi) = (*kind, lo.as_ref(), hi.as_ref());
                if !fits(&v, lo, hi, kind) {
                    v = edges.first().cloned().unwrap_or_else(BigRational::one);
                }
                let s = &self.symbols[k];
                if let Some(l) = self.roots.get(s).copied().filter(|l| *l > 1) {
                    // Perfect powers keep radicals exact; keep within bounds if possible.
                    let powered = num_traits::pow(v.abs(), l as usize);
                    let powered = if v.is_negative() { -powered } else { powered };
                    if fits(&powered, lo, hi, kind) && powered.numer().bits() < 4096 {
                        v = powered;
                    }
                }
                p.insert(s.clone(), Real::exact(v));
            }
            out.push(p);
        }
        out
    }
}

/// The edge values of a symbol of kind `kind` within its bounds: the
/// bounds and values near them first, then small values of its kind.
fn edges(kind: ScalarKind, lo: Option<&Bound>, hi: Option<&Bound>) -> Vec<BigRational> {
    let base: Vec<BigRational> = if kind.is_integer() {
        vec![q(0), q(1), q(-1), q(2), q(3), q(-2), q(7), q(10), q(-5)]
    } else {
        vec![
            q(1),
            q(2),
            frac(1, 2),
            q(0),
            q(-1),
            q(3),
            frac(4, 9),
            q(-2),
            frac(-1, 3),
            q(10),
        ]
    };
    let mut out = Vec::new();
    let within = |v: &BigRational| fits(v, lo, hi, kind);
    if let Some(l) = lo {
        if !l.strict {
            out.push(l.value.clone());
        }
        for d in [q(1), q(2), frac(1, 2), q(3), q(5)] {
            let v = &l.value + d;
            if kind.is_integer() && !v.is_integer() {
                continue;
            }
            out.push(v);
        }
    }
    if let Some(h) = hi {
        if !h.strict {
            out.push(h.value.clone());
        }
        for d in [q(1), q(2), frac(1, 2)] {
            let v = &h.value - d;
            if kind.is_integer() && !v.is_integer() {
                continue;
            }
            out.push(v);
        }
    }
    out.extend(base);
    let mut seen = Vec::new();
    for v in out {
        if within(&v) && !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

/// `a + b`, without the reductions of a rational sum when both are integers.
fn plus(a: &BigRational, b: BigRational) -> BigRational {
    if a.is_integer() && b.is_integer() {
        BigRational::from_integer(a.numer() + b.numer())
    } else {
        a + b
    }
}

fn fits(v: &BigRational, lo: Option<&Bound>, hi: Option<&Bound>, kind: ScalarKind) -> bool {
    if kind.is_integer() && !v.is_integer() {
        return false;
    }
    if kind == ScalarKind::Nonzero && v.is_zero() {
        return false;
    }
    if let Some(l) = lo {
        if v < &l.value || (l.strict && v == &l.value) {
            return false;
        }
    }
    if let Some(h) = hi {
        if v > &h.value || (h.strict && v == &h.value) {
            return false;
        }
    }
    true
}

/// Every point of a finite integer domain, in lexicographic order (`None`
/// when some symbol is unbounded or the count is over `limit`).
pub(crate) fn all_points(dom: &Domain, symbols: &[String], limit: u128) -> Option<Vec<Point>> {
    let n = dom.finite_points(symbols)?;
    if n > limit {
        return None;
    }
    // Values are enumerated as offsets from each symbol's lower bound (a
    // range has at most `limit` values).
    // A symbol pinned to one value (`x = 1/2`) takes it; the others are
    // integers enumerated from their lower bounds.
    let pinned: Vec<Option<BigRational>> = symbols.iter().map(|s| dom.pinned(s)).collect();
    let mut lows = Vec::with_capacity(symbols.len());
    let mut sizes = Vec::with_capacity(symbols.len());
    for (s, pin) in symbols.iter().zip(&pinned) {
        if pin.is_some() {
            sizes.push(1);
            lows.push(BigInt::zero());
            continue;
        }
        let lo = dom.lower_bound(s)?.value.to_integer();
        let hi = dom.upper_bound(s)?.value.to_integer();
        if hi < lo {
            return Some(Vec::new());
        }
        sizes.push(num_traits::ToPrimitive::to_i64(&(&hi - &lo + 1u32))?);
        lows.push(lo);
    }
    // Each symbol-to-symbol fact `big >= small + offset` (or `>`) is checked
    // as soon as both its symbols have values, so points that break one are
    // dropped early (they would fail the conditions anyway); facts about
    // other symbols hold. On integers it reads `i_big - i_small >= t` for
    // offsets `i` from the lower bounds.
    let position = |name: &str| symbols.iter().position(|s| s == name);
    let mut facts_at: Vec<Vec<(usize, usize, i64)>> = vec![Vec::new(); symbols.len()];
    for f in &dom.facts {
        if let (Some(b), Some(s)) = (position(&f.big), position(&f.small)) {
            if pinned[b].is_some() || pinned[s].is_some() {
                // Checked with the conditions, like facts about other symbols.
                continue;
            }
            let least = if f.strict {
                f.offset.floor().to_integer() + 1
            } else {
                f.offset.ceil().to_integer()
            };
            let t = least - &lows[b] + &lows[s];
            // Offsets are below 2^40, so a clamped threshold decides the same.
            let cap = BigInt::from(1i64 << 40);
            let t = num_traits::ToPrimitive::to_i64(&t.clamp(-cap.clone(), cap))
                .expect("clamped to 2^40");
            facts_at[b.max(s)].push((b, s, t));
        }
    }
    let mut offsets: Vec<i64> = Vec::with_capacity(symbols.len());
    let mut out = Vec::new();
    enumerate(&sizes, &facts_at, &mut offsets, &mut |offsets| {
        out.push(
            symbols
                .iter()
                .zip(offsets.iter().zip(&lows).zip(&pinned))
                .map(|(s, ((i, lo), pin))| {
                    let v = pin
                        .clone()
                        .unwrap_or_else(|| BigRational::from_integer(lo + BigInt::from(*i)));
                    (s.clone(), Real::exact(v))
                })
                .collect(),
        )
    });
    Some(out)
}

/// Depth-first, so the points come in lexicographic order.
fn enumerate(
    sizes: &[i64],
    facts_at: &[Vec<(usize, usize, i64)>],
    offsets: &mut Vec<i64>,
    emit: &mut dyn FnMut(&[i64]),
) {
    let depth = offsets.len();
    if depth == sizes.len() {
        emit(offsets);
        return;
    }
    for i in 0..sizes[depth] {
        offsets.push(i);
        if facts_at[depth]
            .iter()
            .all(|&(b, s, t)| offsets[b] - offsets[s] >= t)
        {
            enumerate(sizes, facts_at, offsets, emit);
        }
        offsets.pop();
    }
}
