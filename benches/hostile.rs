//! Script building on hostile input, at growing sizes: text without a single
//! punctuation mark (one sentence of the whole article), a run of digits,
//! and "BTV " repeated (an abbreviation read by context, every word). Each
//! case is built at 0.25, 0.5, 1 and 2 MB through `ingest::read` and
//! `script::build`, as `bantin script` does (the article limits are left out:
//! they would refuse most of these). Prints MB/s per size: a flat rate down
//! a column is linear time; a rate that halves as the size doubles is
//! quadratic.
//!
//! Run: `cargo bench --bench hostile` (BANTIN_HOSTILE_MB=0.25,0.5 for other sizes)

use std::hint::black_box;
use std::time::{Duration, Instant};

use bantin::ingest;
use bantin::normalize::Normalizer;
use bantin::script;
use bantin::settings::AudioSettings;
use bantin::voice::Voices;

const ROUNDS: usize = 2;

/// `size` bytes (about) of each hostile text.
fn cases(size: usize) -> Vec<(&'static str, String)> {
    const WORDS: [&str; 12] = [
        "người",
        "dân",
        "thành",
        "phố",
        "đã",
        "tham",
        "gia",
        "bảo",
        "vệ",
        "môi",
        "trường",
        "và",
    ];
    let mut words = String::with_capacity(size + 16);
    let mut i = 0usize;
    while words.len() < size {
        // A fixed shuffle, so "và" (a breath-group conjunction) comes now and then.
        words.push_str(WORDS[(i * 7 + i / 12) % WORDS.len()]);
        words.push(' ');
        i += 1;
    }
    vec![
        ("no punctuation", format!("Tin\n\n{words}")),
        ("digits", format!("Tin\n\n{}", "1".repeat(size))),
        (
            "BTV repeated",
            format!("Tin\n\n{}", "BTV ".repeat(size / 4)),
        ),
    ]
}

fn main() {
    let sizes: Vec<f64> = std::env::var("BANTIN_HOSTILE_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0.25, 0.5, 1.0, 2.0]);
    let voices = Voices::builtin();
    let voice = voices.get("vi").expect("built-in voice");
    let normalizer = voice.normalizer(&Normalizer::builtin().expect("built-in lexicon"));
    let timing = AudioSettings::default().timing(voice);
    println!(
        "{:<16} {:>8} {:>10} {:>8} {:>8}",
        "case", "MB", "time", "MB/s", "cues"
    );
    for &mb in &sizes {
        let size = (mb * 1_000_000.0) as usize;
        for (name, text) in cases(size) {
            let mut best = Duration::MAX;
            let mut cues = 0;
            for _ in 0..ROUNDS {
                let start = Instant::now();
                let article = ingest::read(text.as_bytes(), Some("tin.txt"))
                    .expect("hostile text is still text");
                let built = script::build(&article, &normalizer, &voice.name, &timing);
                cues = black_box(built).cues.len();
                best = best.min(start.elapsed());
            }
            let megabytes = text.len() as f64 / 1e6;
            println!(
                "{name:<16} {megabytes:>8.2} {:>9.3}s {:>8.2} {cues:>8}",
                best.as_secs_f64(),
                megabytes / best.as_secs_f64()
            );
        }
    }
}
