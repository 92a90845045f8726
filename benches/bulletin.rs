//! Building a 15-minute bulletin with the real espeak-ng, in one run: once
//! with an empty cue cache (every cue synthesized) and once with every cue
//! cached, both timed from the approved items to the four files in the
//! drop folder (assembly, levelling, delivery). Prints both times, the time
//! spent getting the speech in each, and the ratio.
//!
//! The programme is the station's example configuration (greeting with the
//! spoken date, sign-off, the example jingles) with the example article as
//! the top story, then articles of the shared corpus (its first paragraphs,
//! about two minutes each; `shared/corpus/articles.jsonl` beside the
//! checkout, or BANTIN_CORPUS) until the estimated programme, jingles and
//! greeting included, reaches 15 minutes. The
//! corpus gives every item its own sentences: repeating the one example
//! article would let the cold run read its own cues back from the cache.
//!
//!     cargo bench --bench bulletin
//!
//! The warm build is timed three times (the median is printed); the cold
//! one once, since it is the slow one (a minute or more on two cores).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bantin::bulletin::{self, BulletinConfig, BulletinItem, deliver};
use bantin::cache::Cache;
use bantin::normalize::Normalizer;
use bantin::settings::AudioSettings;
use bantin::speak;
use bantin::voice::{Voice, Voices};

const PROGRAMME: Duration = Duration::from_secs(15 * 60);
/// What the programme holds besides its items (jingles with their gaps,
/// greeting, sign-off, pauses between items), and what espeak-ng speaks
/// beyond the estimate: measured, a programme planned this way lasts 15
/// minutes give or take a few seconds.
const AROUND_ITEMS: Duration = Duration::from_secs(90);
/// Length of each corpus item (estimated), like a news story.
const ITEM: Duration = Duration::from_secs(120);
const WARM_ROUNDS: usize = 3;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_path() -> PathBuf {
    if let Some(path) = std::env::var_os("BANTIN_CORPUS") {
        return PathBuf::from(path);
    }
    // The shared folder sits beside the checkout (main) or one level up
    // (worktrees).
    ["../shared", "../../shared"]
        .iter()
        .map(|dir| repo().join(dir).join("corpus/articles.jsonl"))
        .find(|p| p.exists())
        .unwrap_or_else(|| repo().join("../shared/corpus/articles.jsonl"))
}

/// The example configuration with its drop folder in `dir` and the
/// example jingles.
fn station(dir: &Path) -> BulletinConfig {
    let example = std::fs::read_to_string(repo().join("examples/bantin.toml"))
        .expect("examples/bantin.toml is in the repository");
    let text = example.replace("/srv/playout/drop", &dir.join("drop").display().to_string());
    std::fs::create_dir_all(dir.join("drop")).expect("a drop folder");
    BulletinConfig::parse("examples/bantin.toml", &text, &repo().join("examples"))
        .expect("the example configuration is valid")
}

/// The example article, then corpus articles cut to about [`ITEM`] (the
/// last to what is left), until the estimate fills [`PROGRAMME`].
fn items(voice: &Voice, normalizer: &Normalizer, settings: &AudioSettings) -> Vec<BulletinItem> {
    let prepare = |id: &str, text: &str| {
        BulletinItem::prepare(id, "1", text.as_bytes(), None, normalizer, voice, settings)
            .unwrap_or_else(|e| panic!("{id}: {e}"))
    };
    let example = std::fs::read_to_string(
        repo().join("examples/articles/hung-yen-tuyen-giao-2021-07-29.txt"),
    )
    .expect("the example article is in the repository");
    let mut items = vec![prepare("example", &example)];
    let budget = PROGRAMME - AROUND_ITEMS;
    let mut total = items[0].script.total;
    let path = corpus_path();
    let corpus = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set BANTIN_CORPUS)", path.display()));
    for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
        if total >= budget {
            break;
        }
        let length = ITEM.min(budget - total);
        let article: serde_json::Value =
            serde_json::from_str(line).expect("one JSON object per line");
        let (Some(id), Some(title), Some(text)) = (
            article["id"].as_str(),
            article["title"].as_str(),
            article["text"].as_str(),
        ) else {
            continue;
        };
        // Whole paragraphs until the estimate reaches the item length.
        let mut body = String::new();
        let mut item = None;
        for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            body.push_str(paragraph);
            body.push_str("\n\n");
            let prepared = prepare(id, &format!("{title}\n\n{body}"));
            let long_enough = prepared.script.total >= length;
            item = Some(prepared);
            if long_enough {
                break;
            }
        }
        // Short stubs make poor news items.
        if let Some(item) = item.filter(|i| i.script.total >= length / 2) {
            total += item.script.total;
            items.push(item);
        }
    }
    assert!(total >= budget, "the corpus is too small for 15 minutes");
    items
}

/// One build into the drop folder, timed.
struct Timed {
    /// From the items to the four files in the drop folder.
    total: Duration,
    /// Getting the speech (backend or cue cache).
    speech: Duration,
    /// Writing the drop folder (encoding, staging, syncing, renaming).
    delivery: Duration,
    length: Duration,
    cues: usize,
    cached: usize,
}

impl Timed {
    fn describe(&self) -> String {
        format!(
            "{:6.2} s (speech {:5.2} s, mixing and levelling {:5.2} s, delivery {:5.2} s; {} of {} cues from the cache)",
            self.total.as_secs_f64(),
            self.speech.as_secs_f64(),
            (self.total - self.speech - self.delivery).as_secs_f64(),
            self.delivery.as_secs_f64(),
            self.cached,
            self.cues
        )
    }
}

fn build(
    config: &BulletinConfig,
    items: &[BulletinItem],
    voice: &Voice,
    normalizer: &Normalizer,
    settings: &AudioSettings,
    cache: &Cache,
) -> Timed {
    let synthesizer = voice.synthesizer();
    let request = bulletin::build::Request {
        config,
        slot: config.slot("sang").expect("the example has a sáng slot"),
        date: jiff::civil::date(2021, 7, 29),
        items: items.to_vec(),
        voice,
        greeting_voice: None,
        normalizer,
        settings,
        trigger: "benchmark".into(),
        options: speak::Options {
            cache: Some(cache),
            ..speak::Options::default()
        },
    };
    let started = Instant::now();
    let mut assembled =
        bulletin::build(&request, synthesizer.as_ref(), &()).expect("the bulletin builds");
    let delivering = Instant::now();
    deliver(&mut assembled, config, settings).expect("the bulletin is delivered");
    Timed {
        total: started.elapsed(),
        speech: assembled.synthesis,
        delivery: delivering.elapsed(),
        length: assembled.fit.total,
        cues: assembled.stats.cues,
        cached: assembled.stats.cached,
    }
}

fn main() {
    let voices = Voices::builtin();
    let voice = voices.get("vi").expect("built-in voice");
    voice
        .synthesizer()
        .check()
        .expect("espeak-ng is installed (scripts/ensure-deps)");
    let normalizer = Normalizer::builtin().expect("built-in lexicon");
    let settings = AudioSettings::default();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = station(dir.path());
    let items = items(voice, &normalizer, &settings);
    let cache = Cache::open(&dir.path().join("cache")).expect("a cache folder");

    let cold = build(&config, &items, voice, &normalizer, &settings, &cache);
    println!(
        "bulletin: {} items, {} cues, {} of audio",
        items.len(),
        cold.cues,
        bantin::script::clock(cold.length),
    );
    assert_eq!(cold.cached, 0, "every cue of the cold build is new");
    println!("empty cache:      {}", cold.describe());
    let mut warm_rounds: Vec<Timed> = (0..WARM_ROUNDS)
        .map(|_| build(&config, &items, voice, &normalizer, &settings, &cache))
        .collect();
    for warm in &warm_rounds {
        assert_eq!(warm.length, cold.length, "the cached bulletin is the same");
        assert_eq!(warm.cached, warm.cues, "every cue comes from the cache");
    }
    warm_rounds.sort_by_key(|t| t.total);
    let warm = &warm_rounds[WARM_ROUNDS / 2];
    println!(
        "every cue cached: {} (median of {WARM_ROUNDS})",
        warm.describe()
    );
    let length = cold.length.as_secs_f64();
    println!(
        "cached is {:.1}x faster; {:.0}x real time with an empty cache, {:.0}x with every cue cached",
        cold.total.as_secs_f64() / warm.total.as_secs_f64(),
        length / cold.total.as_secs_f64(),
        length / warm.total.as_secs_f64()
    );
}
