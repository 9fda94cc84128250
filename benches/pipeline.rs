//! Benchmarks (not timed tests): `cargo bench --bench pipeline`.
//!
//! 1. Process wall time and peak memory of `target/release/derive-check
//!    derivations/` (build it first with `cargo build --release`), median of
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

fn process_runs(root: &Path, folder: &str) {
    let bin = root.join("target/release/derive-check");
    if !bin.exists() {
        println!("(skipping process timing: build target/release/derive-check with `cargo build --release`)");
        return;
    }
    let runs = 15;
    let mut wall = Vec::new();
    let mut peak_kb = Vec::new();
    let out = std::env::temp_dir().join("derive-check-bench-report.txt");
    for _ in 0..runs {
        if Path::new("/usr/bin/time").exists() {
            let o = Command::new("/usr/bin/time")
                .args(["-f", "%e %M"])
                .arg(&bin)
                .arg(folder)
                .arg("--output")
                .arg(&out)
                .current_dir(root)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            let last = err.lines().last().unwrap_or("");
            let mut it = last.split_whitespace();
            if let (Some(e), Some(m)) = (it.next(), it.next()) {
                wall.push(e.parse::<f64>().unwrap_or(0.0) * 1000.0);
                peak_kb.push(m.parse::<f64>().unwrap_or(0.0));
            }
        } else {
            let t = Instant::now();
            Command::new(&bin)
                .arg(folder)
                .arg("--output")
                .arg(&out)
                .current_dir(root)
                .output()
                .unwrap();
            wall.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    // /usr/bin/time reports 10 ms resolution; also time the runs ourselves.
    let mut own = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        Command::new(&bin)
            .arg(folder)
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
    process_runs(&root, "derivations/");
    let mut per_step = Vec::new();
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
}
