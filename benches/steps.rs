//! Step times (a benchmark, not a timed test): `cargo bench --bench steps`.
//!
//! Every claim of `derivations/`, `tests/data/` and `benches/corpus/` (the
//! adversarial corpus) is checked alone, in-process, with the memo off
//! (load and resolve included), and its time divided by its steps. Prints,
//! per folder and overall, the median, p99 and slowest step, every step
//! over 100 ms, the claims that reached the wall-clock guard, and the
//! corpus claims that missed their `expect` (what the engine cannot decide
//! yet). `BENCH_FILTER=text` keeps only files whose path contains it.

use derive_check::config::Config;
use derive_check::verdict::{StopReason, Verdict};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Timed {
    name: String,
    per_step_ms: f64,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let filter = std::env::var("BENCH_FILTER").unwrap_or_default();
    let mut all: Vec<f64> = Vec::new();
    let mut slow: Vec<Timed> = Vec::new();
    let mut guarded = Vec::new();
    for folder in ["derivations", "tests/data", "benches/corpus"] {
        let mut times: Vec<Timed> = Vec::new();
        let mut unmet = Vec::new();
        for path in toml_files(&root.join(folder)) {
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if !name.contains(&filter) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let whole = derive_check::check_source(&name, text.clone(), &Config::default());
            for claim in &whole.claims {
                if !claim.met_expectation() {
                    unmet.push(format!(
                        "{name} {}: {} (expected {})",
                        claim.id,
                        claim.verdict.as_str(),
                        claim.expect.map_or("proved or checked", |e| e.as_str())
                    ));
                }
                let config = Config {
                    only: vec![claim.id.clone()],
                    memo: false,
                    ..Config::default()
                };
                let t = Instant::now();
                let r = derive_check::check_source(&name, text.clone(), &config);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                for c in &r.claims {
                    for s in &c.steps {
                        if matches!(
                            s.verdict,
                            Verdict::Unsupported(StopReason::GuardReached { .. })
                        ) {
                            guarded.push(format!("{name} {}", c.id));
                        }
                    }
                }
                let steps = claim.steps.len().max(1) as f64;
                times.push(Timed {
                    name: format!("{name} {}", claim.id),
                    per_step_ms: ms / steps,
                });
            }
        }
        if times.is_empty() {
            continue;
        }
        let mut v: Vec<f64> = times.iter().map(|t| t.per_step_ms).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let worst = times
            .iter()
            .max_by(|a, b| a.per_step_ms.partial_cmp(&b.per_step_ms).unwrap())
            .unwrap();
        println!(
            "{folder}: {} claims; per step median {:.2} ms, p99 {:.2} ms, slowest {:.2} ms ({})",
            times.len(),
            quantile(&v, 0.5),
            quantile(&v, 0.99),
            worst.per_step_ms,
            worst.name
        );
        if !unmet.is_empty() {
            println!("  {} claims missed their expectation:", unmet.len());
            for u in &unmet {
                println!("    {u}");
            }
        }
        all.extend(v);
        slow.extend(times.into_iter().filter(|t| t.per_step_ms > 100.0));
    }
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "overall: {} claims; per step median {:.2} ms, p99 {:.2} ms, slowest {:.2} ms",
        all.len(),
        quantile(&all, 0.5),
        quantile(&all, 0.99),
        all.last().copied().unwrap_or(0.0)
    );
    println!("steps over 100 ms: {}", slow.len());
    for t in &slow {
        println!("  {:.0} ms  {}", t.per_step_ms, t.name);
    }
    println!(
        "claims that reached the wall-clock guard: {}",
        guarded.len()
    );
    for g in &guarded {
        println!("  {g}");
    }
}
