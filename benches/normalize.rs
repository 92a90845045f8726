//! Normalization throughput on one thread over the shared corpus
//! (shared/corpus/articles.jsonl beside the checkout, or BANTIN_CORPUS), with a baseline
//! measured in the same run: splitting the same text into sentences and
//! words without reading anything aloud. Prints MB/s of article text.
//!
//! Run: `cargo bench --bench normalize`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bantin::normalize::Normalizer;
use bantin::segment;

const ROUNDS: usize = 3;

fn corpus_path() -> PathBuf {
    if let Some(path) = std::env::var_os("BANTIN_CORPUS") {
        return PathBuf::from(path);
    }
    // The shared folder sits beside the checkout (main) or one level up
    // (worktrees).
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["../shared", "../../shared"]
        .iter()
        .map(|dir| manifest.join(dir).join("corpus/articles.jsonl"))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../shared/corpus/articles.jsonl"))
}

/// The article texts, one string per paragraph (the unit the pipeline
/// hands to the segmenter).
fn paragraphs() -> Vec<String> {
    let path = corpus_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set BANTIN_CORPUS)", path.display()));
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let article: serde_json::Value =
            serde_json::from_str(line).expect("one JSON object per line");
        let body = article["text"].as_str().unwrap_or_default();
        out.extend(
            body.split('\n')
                .filter(|p| !p.trim().is_empty())
                .map(str::to_string),
        );
    }
    out
}

/// Best time of `ROUNDS` runs of `work`.
fn best(mut work: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        count = black_box(work());
        best = best.min(start.elapsed());
    }
    (best, count)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // special either, so the run is short enough for both.
    let paragraphs = paragraphs();
    let bytes: usize = paragraphs.iter().map(String::len).sum();
    let mb = bytes as f64 / 1_000_000.0;
    let normalizer = Normalizer::builtin().expect("shipped tables are valid");

    let (baseline, words) = best(|| {
        let mut words = 0;
        for p in &paragraphs {
            for span in segment::sentences(p, 0..p.len()) {
                for word in p[span].split_whitespace() {
                    black_box(word);
                    words += 1;
                }
            }
        }
        words
    });
    let (normalize, tokens) = best(|| {
        let mut tokens = 0;
        for p in &paragraphs {
            for span in segment::sentences(p, 0..p.len()) {
                tokens += black_box(normalizer.expand(p, span)).tokens.len();
            }
        }
        tokens
    });
    let (render, chars) = best(|| {
        let mut chars = 0;
        for p in &paragraphs {
            for span in segment::sentences(p, 0..p.len()) {
                chars += normalizer.expand(p, span).spoken().len();
            }
        }
        chars
    });
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!(
        "corpus: {} paragraphs, {:.2} MB of text, {words} words",
        paragraphs.len(),
        mb
    );
    println!(
        "baseline  segment + split words:     {:>8.1} MB/s ({:.3} s)",
        rate(baseline),
        baseline.as_secs_f64()
    );
    println!(
        "normalize segment + expand:          {:>8.1} MB/s ({:.3} s, {tokens} tokens)",
        rate(normalize),
        normalize.as_secs_f64()
    );
    println!(
        "normalize segment + expand + render: {:>8.1} MB/s ({:.3} s, {chars} spoken bytes)",
        rate(render),
        render.as_secs_f64()
    );
}
