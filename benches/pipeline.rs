//! Benchmarks (not timed tests): `cargo bench --bench pipeline`.
//!
//! 1. Process wall time and peak memory of `target/release/derive-check
//!    derivations/` and of the array files q3, q4, q7 together (build it
//!    first with `cargo build --release`), median of
//!    runs, measured with `/usr/bin/time` when present. This runs before any
//!    in-process check: this process must not hold the Symbolica lock while
//!    its child needs it.
//! 2. The median time per step over every claim of `derivations/`, checked
//!    in-process one claim at a time (load and resolve included), and the
//!    slowest step.

use derive_check::config::Config;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn process_runs(root: &Path, inputs: &[&str]) {
    let folder = inputs.join(" ");
    let bin = root.join("target/release/derive-check");
    if !bin.exists() {
        println!("(skipping process timing: build target/release/derive-check with `cargo build --release`)");
        return;
    }
    let runs = 15;
    let mut peak_kb = Vec::new();
    let out = std::env::temp_dir().join("derive-check-bench-report.txt");
    // Peak memory through /usr/bin/time (its wall clock has 10 ms resolution,
    // so wall time is measured by the loop below).
    if Path::new("/usr/bin/time").exists() {
        for _ in 0..runs {
            let o = Command::new("/usr/bin/time")
                .args(["-f", "%M"])
                .arg(&bin)
                .args(inputs)
                .arg("--output")
                .arg(&out)
                .current_dir(root)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            if let Some(m) = err
                .lines()
                .last()
                .and_then(|l| l.trim().parse::<f64>().ok())
            {
                peak_kb.push(m);
            }
        }
    }
    let mut own = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        Command::new(&bin)
            .args(inputs)
            .arg("--output")
            .arg(&out)
            .current_dir(root)
            .output()
            .unwrap();
        own.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "process `derive-check {folder}`: median wall {:.1} ms over {runs} runs",
        median(&mut own)
    );
    if !peak_kb.is_empty() {
        println!(
            "process `derive-check {folder}`: median peak RSS {:.1} MB",
            median(&mut peak_kb) / 1024.0
        );
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    process_runs(&root, &["derivations/"]);
    process_runs(
        &root,
        &[
            "derivations/q3.toml",
            "derivations/q4.toml",
            "derivations/q7.toml",
        ],
    );
    let mut per_step = Vec::new();
    let mut by_kind: Vec<(&str, Vec<f64>)> = vec![
        ("scalar", Vec::new()),
        ("sum or sequence", Vec::new()),
        ("array", Vec::new()),
        ("random-variable", Vec::new()),
        ("matrix", Vec::new()),
    ];
    let mut slowest = (0.0f64, String::new());
    for path in toml_files(&root.join("derivations")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let whole = derive_check::check_source(&name, text.clone(), &Config::default());
        for claim in &whole.claims {
            let steps = claim.steps.len().max(1) as f64;
            let config = Config {
                only: vec![claim.id.clone()],
                memo: false,
                ..Config::default()
            };
            let mut times = Vec::new();
            for _ in 0..9 {
                let t = Instant::now();
                let r = derive_check::check_source(&name, text.clone(), &config);
                std::hint::black_box(r);
                times.push(t.elapsed().as_secs_f64() * 1000.0 / steps);
            }
            let m = median(&mut times);
            per_step.push(m);
            let shown: String = claim
                .steps
                .iter()
                .map(|s| format!("{} {}", s.lhs, s.rhs))
                .collect();
            let array = ["[", "conv", "pool", "diff(", "rows(", "numel(", "net("]
                .iter()
                .any(|k| shown.contains(k));
            let sum = ["sum(", "y(", "RF(", "y2("]
                .iter()
                .any(|k| shown.contains(k));
            let random = ["E[", "Var(", "Std(", "Cov("]
                .iter()
                .any(|k| shown.contains(k));
            let matrix = [
                "norm2(", "normF(", "rms(", "cost(", "trace(", "^T", "sign(gv",
            ]
            .iter()
            .any(|k| shown.contains(k));
            let kind = if random {
                3
            } else if matrix {
                4
            } else if array {
                2
            } else if sum {
                1
            } else {
                0
            };
            by_kind[kind].1.push(m);
            if m > slowest.0 {
                slowest = (m, format!("{name} {}", claim.id));
            }
        }
    }
    if per_step.is_empty() {
        println!("no steps under derivations/");
        return;
    }
    let n = per_step.len();
    println!(
        "in-process: median time per step {:.3} ms over {n} claims; slowest {:.3} ms ({})",
        median(&mut per_step),
        slowest.0,
        slowest.1
    );
    for (kind, mut v) in by_kind {
        if !v.is_empty() {
            let k = v.len();
            let max = v.iter().cloned().fold(0.0f64, f64::max);
            println!(
                "  {kind} steps: median {:.3} ms, slowest {max:.3} ms over {k} claims",
                median(&mut v)
            );
        }
    }
    synthetic(&root);
}

fn time_ms<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64() * 1000.0, r)
}

fn synthetic(root: &Path) {
    // An exhaustive check of 10^4 points (symbolic proofs off, so the points decide).
    let text = "title = \"bench\"\n[symbols]\nn = \"positive integer\"\nm = \"positive integer\"\n[[claim]]\nid = \"grid\"\nshow = \"(n + m)^2 = n^2 + 2 n m + m^2\"\nwhere = \"n <= 100 and m <= 100\"\n";
    let config = Config {
        symbolic: false,
        memo: false,
        ..Config::default()
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let (ms, r) =
            time_ms(|| derive_check::check_source("grid.toml", text.to_string(), &config));
        assert!(
            r.claims[0].steps[0].verdict.method_text().contains("10000"),
            "{:?}",
            r.claims[0].steps[0].verdict
        );
        times.push(ms);
    }
    println!(
        "exhaustive check of 10^4 points: median {:.1} ms",
        median(&mut times)
    );

    // A degree-4 moment of a sum over two symbolic ranges.
    let text = "title = \"bench\"\n[symbols]\nn = \"positive integer\"\nm = \"positive integer\"\na = \"positive\"\ng = \"normal family(0, 1)\"\nz = \"normal family(0, a)\"\n[[claim]]\nid = \"fourth\"\nshow = \"E[sum(i, 1, n, sum(j, 1, m, g(i) z(j)))^4] = 9 n^2 m^2 a^2\"\n";
    let mut times = Vec::new();
    for _ in 0..9 {
        let (ms, r) = time_ms(|| {
            derive_check::check_source(
                "fourth.toml",
                text.to_string(),
                &Config {
                    memo: false,
                    ..Config::default()
                },
            )
        });
        assert_eq!(
            r.claims[0].verdict,
            derive_check::verdict::VerdictKind::Proved,
            "{:?}",
            r.claims[0].steps
        );
        times.push(ms);
    }
    println!(
        "degree-4 moment of a sum over two symbolic ranges: median {:.1} ms",
        median(&mut times)
    );

    // A 64 × 64 convolution with a 5 × 5 kernel.
    let row = |i: usize, n: usize| {
        (0..n)
            .map(|j| ((i * 7 + j * 3) % 11).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lit = |n: usize| {
        format!(
            "[{}]",
            (0..n)
                .map(|i| format!("[{}]", row(i, n)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let text = format!(
        "title = \"bench\"\n[define]\nX = \"{}\"\nK = \"{}\"\n[[claim]]\nid = \"conv\"\nshow = \"conv2d(X, K, pad = 2) = correlate2d(X, flip(K), pad = 2)\"\n",
        lit(64),
        lit(5)
    );
    let mut times = Vec::new();
    let no_memo = Config {
        memo: false,
        ..Config::default()
    };
    for _ in 0..9 {
        let (ms, r) = time_ms(|| derive_check::check_source("conv.toml", text.clone(), &no_memo));
        assert_eq!(
            r.claims[0].verdict,
            derive_check::verdict::VerdictKind::Proved
        );
        times.push(ms);
    }
    println!(
        "64 × 64 convolution claim with a 5 × 5 kernel: median {:.1} ms",
        median(&mut times)
    );

    // Matrix identity steps: proved by the normal form for every size, then
    // cross-checked with exact rational matrices.
    let text = "title = \"bench\"\n[symbols]\nn = \"positive integer\"\nA = \"matrix(n, n)\"\nB = \"matrix(n, n)\"\nC = \"matrix(n, n)\"\n[[claim]]\nid = \"square\"\nshow = \"(A + B)^2 = A^2 + A B + B A + B^2\"\n[[claim]]\nid = \"cyclic\"\nshow = \"trace(A B C) = trace(B C A)\"\n[[claim]]\nid = \"transpose\"\nshow = \"(A B)ᵀ = Bᵀ Aᵀ\"\n";
    let mut times = Vec::new();
    for _ in 0..15 {
        let (ms, r) =
            time_ms(|| derive_check::check_source("matrix.toml", text.to_string(), &no_memo));
        assert!(r
            .claims
            .iter()
            .all(|c| c.verdict == derive_check::verdict::VerdictKind::Proved));
        times.push(ms / 3.0);
    }
    println!(
        "matrix identity step (normal form + 8 exact cross-checks): median {:.2} ms",
        median(&mut times)
    );

    // Grading 200 distinct submissions of the HW4 size.
    let key_text = std::fs::read_to_string(root.join("keys/hw4.toml")).unwrap();
    let key = derive_check::grade::load_key("keys/hw4.toml", key_text).unwrap();
    let files: Vec<(String, String)> = toml_files(&root.join("derivations"))
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    // Every claim checked anew costs a whole HW4 check per submission, so
    // that case is timed on 10 submissions and reported per submission.
    for (label, memo_on, count) in [
        ("claims reused across submissions", true, 200),
        ("every claim checked anew", false, 10),
    ] {
        let config = Config {
            memo: memo_on,
            ..Config::default()
        };
        let session = derive_check::Session::new(config.clone());
        let (ms, _) = time_ms(|| {
            for i in 0..count {
                // A comment makes every file of every submission distinct.
                let sub: Vec<(String, String)> = files
                    .iter()
                    .map(|(n, t)| (n.clone(), format!("# student {i}\n{t}")))
                    .collect();
                derive_check::grade::grade_submission(
                    &key,
                    &format!("s{i}"),
                    &sub,
                    &session,
                    false,
                );
            }
        });
        println!(
            "grading {count} distinct HW4-size submissions ({label}): {:.1} s in one process ({:.0} ms per submission)",
            ms / 1000.0,
            ms / count as f64
        );
    }
}
