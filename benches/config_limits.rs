//! What a hostile or mistaken configuration file costs before it is refused: 200 KB of nested
//! `[` in slo.yml and in a plan (the YAML parser alone takes minutes on it; the pre-scan
//! refuses it in one pass), a file of deep block indentation, and a 10 MB captain.toml (read no
//! further than the 1 MiB limit).
//!
//! `cargo bench --bench config_limits`

use std::hint::black_box;
use std::path::Path;

use captain::config::app::AppConfig;
use captain::config::plan::Plan;
use captain::config::prescan;
use captain::config::slo::SloConfig;
use criterion::{Criterion, criterion_group, criterion_main};

const SIZE: usize = 200 * 1024;

fn deep_nesting(c: &mut Criterion) {
    let brackets = format!("version: 1\nslis: {}\n", "[".repeat(SIZE));
    let origin = Path::new("slo.yml");
    c.bench_function("prescan: 200 KB of [", |b| {
        b.iter(|| prescan::check(origin, black_box(&brackets)).expect_err("too deep"))
    });
    c.bench_function("slo.yml: 200 KB of [ refused", |b| {
        b.iter(|| SloConfig::parse(origin, black_box(&brackets)).expect_err("too deep"))
    });
    let unit = format!("- {}{}\n", "[".repeat(62), "]".repeat(62));
    let at_the_limit = unit.repeat(SIZE / unit.len());
    c.bench_function("prescan: 200 KB nested 63 deep, all read", |b| {
        b.iter(|| prescan::check(origin, black_box(&at_the_limit)).expect("within the limit"))
    });
    let mappings = format!("version: 1\nphases: {}\n", "{a: ".repeat(SIZE / 4));
    c.bench_function("plan: 200 KB of {a: refused", |b| {
        b.iter(|| Plan::parse(origin, black_box(&mappings)).expect_err("too deep"))
    });
    let mut indented = String::from("version: 1\n");
    let mut level = 0;
    while indented.len() < SIZE {
        indented.push_str(&format!("{}k:\n", " ".repeat(level)));
        level += 1;
    }
    c.bench_function("plan: 200 KB of block indentation refused", |b| {
        b.iter(|| Plan::parse(origin, black_box(&indented)).expect_err("too deep"))
    });
}

fn oversized(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("captain.toml");
    let line = "# a comment line, many times over\n";
    std::fs::write(&path, line.repeat(10 * 1024 * 1024 / line.len())).expect("written");
    c.bench_function("captain.toml: 10 MB refused", |b| {
        b.iter(|| AppConfig::load(black_box(&path)).expect_err("too large"))
    });
}

criterion_group!(benches, deep_nesting, oversized);
criterion_main!(benches);
