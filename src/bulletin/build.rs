//! Assembling one bulletin: the chain plan → speak → fit → lay out, each
//! step in its own file, and what goes in and comes out of it.
//!
//! - [`super::plan`]: the jingles, the greeting and sign-off as cues, the
//!   items' cues, all before anything is spoken;
//! - [`super::speak`]: the speech of every part in one pass through the
//!   loop article renders use (cue cache, parallel, progress over the whole
//!   bulletin);
//! - [`super::fit`]: which items fit the slot, on the measured speech;
//! - [`super::layout`] (with [`super::timeline`]): jingles, speech and
//!   pauses end to end, levelled to the loudness target as one programme;
//! - [`super::manifest`]: what was made, for the manifest.
//!
//! Delivering the files is [`super::deliver`]'s.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;

use super::config::{BulletinConfig, Slot};
use super::fit::{self, Fit};
use super::layout::{self, Programme};
use super::manifest::{Made, Manifest, ms};
use super::{plan, speak};
use crate::audio::{self, LoudnessReport, Pcm, wav};
use crate::ingest::IngestError;
use crate::normalize::Normalizer;
use crate::pipeline;
use crate::script::Script;
use crate::settings::AudioSettings;
use crate::speak::{self as cues, Progress};
use crate::tts::{SynthError, Synthesizer};
use crate::voice::Voice;

#[derive(Debug, thiserror::Error)]
pub enum BulletinError {
    #[error("no items for the {slot} bulletin of {date}: nothing to build")]
    Empty { date: Date, slot: String },
    #[error("item {item}: cannot read it as an article: {source}")]
    Ingest { item: String, source: IngestError },
    #[error("item {item} has nothing to speak")]
    Silent { item: String },
    #[error("jingle {path}: {reason}")]
    Jingle { path: String, reason: String },
    #[error("{part}, cue {cue} ({text:?}): {source}")]
    Synth {
        part: String,
        cue: usize,
        text: String,
        source: SynthError,
    },
    #[error("{part}, cue {cue}: resampling failed: {source}")]
    Resample {
        part: String,
        cue: usize,
        source: audio::ResampleError,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("levelling the bulletin: {0}")]
    Loudness(#[from] audio::LoudnessError),
    #[error("encoding the WAV: {0}")]
    Encode(#[from] wav::WavError),
    #[error("held, not delivered: {reason}")]
    Held { reason: String },
    #[error("cannot write into the drop folder {folder}: {source}")]
    Write {
        folder: String,
        source: std::io::Error,
    },
}

/// One approved item, in editor order.
#[derive(Debug, Clone)]
pub struct BulletinItem {
    /// Article id (the store's id; the file name from the CLI).
    pub id: String,
    pub revision: String,
    /// The estimated script of the article: title cue first, then the text.
    pub script: Script,
}

impl BulletinItem {
    /// Reads an article and builds its script, as `pipeline::prepare` does.
    ///
    /// # Errors
    /// [`BulletinError::Ingest`] naming the item.
    pub fn prepare(
        id: &str,
        revision: &str,
        bytes: &[u8],
        name: Option<&str>,
        normalizer: &Normalizer,
        voice: &Voice,
        settings: &AudioSettings,
    ) -> Result<BulletinItem, BulletinError> {
        let (_, script) =
            pipeline::prepare(bytes, name, normalizer, voice, settings).map_err(|source| {
                BulletinError::Ingest {
                    item: id.to_string(),
                    source,
                }
            })?;
        Ok(BulletinItem {
            id: id.to_string(),
            revision: revision.to_string(),
            script,
        })
    }
}

/// Everything one bulletin is made from.
pub struct Request<'a> {
    pub config: &'a BulletinConfig,
    pub slot: &'a Slot,
    pub date: Date,
    /// In editor order: the first is the top story.
    pub items: Vec<BulletinItem>,
    pub voice: &'a Voice,
    /// The greeting and sign-off's own voice, when the slot names one.
    pub greeting_voice: Option<super::speak::GreetingVoice<'a>>,
    pub normalizer: &'a Normalizer,
    pub settings: &'a AudioSettings,
    /// How the run was started, for the manifest ("command line", "schedule", …).
    pub trigger: String,
    /// The cue cache and how many cues may be spoken at once.
    pub options: cues::Options<'a>,
}

/// A bulletin in memory, ready to deliver.
#[derive(Debug, Clone)]
pub struct BuiltBulletin {
    pub pcm: Pcm,
    /// Every loudness figure of the levelled bulletin.
    pub loudness: LoudnessReport,
    /// Measured times; the greeting is the first cue.
    pub script: Script,
    pub manifest: Manifest,
    pub fit: Fit,
    /// Time spent getting the speech (backend or cue cache), wall clock.
    pub synthesis: Duration,
    /// Where the cues' audio came from.
    pub stats: cues::Stats,
    /// Time spent assembling in all (synthesis included).
    pub elapsed: Duration,
}

/// Builds the programme of one bulletin. Progress counts the cues of the
/// greeting, every item and the sign-off together.
///
/// # Errors
/// [`BulletinError`] naming the part that failed: no items, an unreadable
/// jingle, a cue the backend could not speak (with its part: greeting, item
/// ID or sign-off), a silent programme, a cancel.
pub fn build(
    request: &Request<'_>,
    synthesizer: &dyn Synthesizer,
    progress: &dyn Progress,
) -> Result<BuiltBulletin, BulletinError> {
    let started = Instant::now();
    let Request {
        config,
        slot,
        date,
        items,
        voice,
        settings,
        options,
        ..
    } = request;
    let plan = plan::plan(request)?;

    let speech_started = Instant::now();
    let (spoken, stats) = speak::speak_parts(
        plan.parts,
        synthesizer,
        request.greeting_voice,
        settings,
        options,
        progress,
    )?;
    let synthesis = speech_started.elapsed();

    // Fit to the slot on the measured speech, whole items only.
    let programme = Programme::new(plan.intro, spoken, plan.outro, settings.sample_rate_hz);
    let item_lengths = programme.item_lengths();
    let kept = if slot.fit {
        fit::keep(
            programme.fixed(config),
            &item_lengths,
            config.pause_between_items,
            slot.target,
            slot.tolerance,
        )
    } else {
        items.len()
    };

    let laid = layout::lay_out(programme, kept, config, slot, settings.loudness)?;
    let total = laid.pcm.duration();
    let fit = Fit {
        total,
        target: slot.target,
        tolerance: slot.tolerance,
    };
    let now = Timestamp::now();
    let elapsed = started.elapsed();
    let made = Made {
        at: now.to_string(),
        at_local: now.to_zoned_datetime(config.time_zone.clone()).to_string(),
        by: format!("bantin {}", env!("CARGO_PKG_VERSION")),
        trigger: request.trigger.clone(),
        voice: voice.name.clone(),
        backend: synthesizer.fingerprint(),
        cues: stats.cues,
        cues_from_cache: stats.cached,
        synthesis_ms: ms(synthesis),
        elapsed_ms: ms(elapsed),
    };
    let manifest = Manifest::new(request, &laid, &item_lengths, &fit, made);
    let script = Script {
        title: title(&config.station, &slot.label, *date),
        published: Some(date.to_string()),
        voice: voice.name.clone(),
        measured: true,
        cues: laid.cues,
        total,
    };
    Ok(BuiltBulletin {
        pcm: laid.pcm,
        loudness: laid.loudness,
        script,
        manifest,
        fit,
        synthesis,
        stats,
        elapsed,
    })
}

/// `29/07/2021`, the way the date is written on the script.
/// A bulletin's title: `<station> — Bản tin <slot label> <date>`, the date
/// in Vietnamese words for people ("ngày 6 tháng 12 năm 2026").
pub fn title(station: &str, slot_label: &str, date: Date) -> String {
    format!("{station} — Bản tin {slot_label} {}", vietnamese_date(date))
}

fn vietnamese_date(date: Date) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;
    use crate::bulletin::fit::Verdict;
    use crate::tts::Fake;
    use crate::voice::Voices;

    fn tone_wav(path: &Path, rate: u32, seconds: f32) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..(rate as f32 * seconds) as usize {
            let v =
                ((i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 20_000.0) as i16;
            w.write_sample(v).unwrap();
            w.write_sample(v / 2).unwrap();
        }
        w.finalize().unwrap();
    }

    pub(crate) fn config(dir: &Path, fit: bool, target_minutes: f64) -> BulletinConfig {
        tone_wav(&dir.join("intro.wav"), 44_100, 3.0);
        tone_wav(&dir.join("outro.wav"), 44_100, 2.0);
        let text = format!(
            r#"[bulletin]
station = "Đài truyền thanh thành phố Hưng Yên"
drop_folder = "drop"
greeting = "{{station}} xin kính chào quý vị và các bạn. Hôm nay, {{weekday}}, {{date}}."
sign_off = "Bản tin {{slot}} đến đây là hết."
intro_jingle = "intro.wav"
outro_jingle = "outro.wav"
[bulletin.slots.sang]
label = "sáng"
schedule = "0 6 * * *"
target_minutes = {target_minutes}
tolerance_seconds = 5
fit = {fit}
"#
        );
        BulletinConfig::parse("test", &text, dir).unwrap()
    }

    pub(crate) fn item(id: &str, text: &str) -> BulletinItem {
        let voices = Voices::builtin();
        BulletinItem::prepare(
            id,
            "1",
            text.as_bytes(),
            None,
            &Normalizer::builtin().unwrap(),
            voices.get("vi").unwrap(),
            &AudioSettings::default(),
        )
        .unwrap()
    }

    pub(crate) fn build(
        config: &BulletinConfig,
        items: Vec<BulletinItem>,
    ) -> Result<BuiltBulletin, BulletinError> {
        build_with(config, items, &Fake::default(), None, &())
    }

    #[test]
    fn lays_out_jingles_greeting_items_and_sign_off() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let built = build(
            &config,
            vec![
                item("a", "Tin một\n\nCâu thứ nhất. Câu thứ hai."),
                item("b", "Tin hai\n\nMột câu ngắn."),
            ],
        )
        .unwrap();
        let m = &built.manifest;
        let kinds: Vec<_> = m.parts.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            ["intro_jingle", "greeting", "sign_off", "outro_jingle"]
        );
        // Jingles resampled from 44.1 kHz stereo keep their length.
        assert!((i64::try_from(m.parts[0].duration_ms).unwrap() - 3000).abs() <= 2);
        assert!(
            m.parts[1].start_ms.abs_diff(3000 + 500) <= 2,
            "{:?}",
            m.parts
        );
        assert!(
            built.script.cues[0]
                .spoken
                .starts_with("Đài truyền thanh thành phố Hưng Yên")
        );
        assert!(
            built.script.cues[1]
                .spoken
                .contains("thứ năm, ngày hai mươi chín tháng bảy")
        );
        assert_eq!(m.items.len(), 2);
        let a = &m.items[0];
        let b = &m.items[1];
        assert!(
            b.start_ms
                .unwrap()
                .abs_diff(a.start_ms.unwrap() + a.duration_ms + 2000)
                <= 1
        );
        assert_eq!(m.total_ms, ms(built.pcm.duration()));
        let last = m.parts.last().unwrap();
        assert!(
            (i64::try_from(last.start_ms + last.duration_ms).unwrap()
                - i64::try_from(m.total_ms).unwrap())
            .abs()
                <= 1
        );
        assert!(
            (built.loudness.integrated_lufs + 23.0).abs() < 0.2,
            "{:?}",
            built.loudness
        );
        // Cue times only increase and ids run from 1.
        let cues = &built.script.cues;
        assert!(cues.windows(2).all(|w| w[0].end <= w[1].start));
        assert_eq!(
            cues.iter().map(|c| c.id).collect::<Vec<_>>(),
            (1..=cues.len()).collect::<Vec<_>>()
        );
        // The titles are read as the leads.
        assert!(cues.iter().any(|c| c.spoken.starts_with("Tin một")));
        assert!(cues.iter().any(|c| c.spoken.starts_with("Tin hai")));
    }

    #[test]
    fn fits_by_leaving_out_the_last_items() {
        let dir = tempfile::tempdir().unwrap();
        let long = "Tin dài\n\n".to_string() + &"Một câu có tám âm tiết ở đây. ".repeat(10);
        // Fake speaks 4 syllables a second: each item lasts about 20 s.
        let over = build(
            &config(dir.path(), false, 0.5),
            vec![item("a", &long), item("b", &long), item("c", &long)],
        )
        .unwrap();
        assert_eq!(over.manifest.verdict, Verdict::Over);
        assert!(over.manifest.difference_ms > 0);
        let fitted = build(
            &config(dir.path(), true, 1.0),
            vec![item("a", &long), item("b", &long), item("c", &long)],
        )
        .unwrap();
        let ids: Vec<_> = fitted
            .manifest
            .items
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        let left: Vec<_> = fitted
            .manifest
            .left_out
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert!(!left.is_empty(), "{:?}", fitted.manifest.total_ms);
        assert_eq!(ids.len() + left.len(), 3);
        assert_eq!(ids[0], "a");
        assert!(
            fitted.manifest.total_ms <= 65_000,
            "{}",
            fitted.manifest.total_ms
        );
    }

    /// Counts backend calls and fails on text containing `fail_on`.
    struct Counting {
        inner: Fake,
        calls: std::sync::atomic::AtomicUsize,
        fail_on: Option<&'static str>,
    }

    impl Synthesizer for Counting {
        fn fingerprint(&self) -> String {
            self.inner.fingerprint()
        }
        fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.fail_on {
                Some(bad) if text.contains(bad) => Err(SynthError::Failed {
                    backend: "counting".into(),
                    reason: "refused".into(),
                }),
                _ => self.inner.synthesize(text),
            }
        }
        fn check(&self) -> Result<(), SynthError> {
            Ok(())
        }
        fn max_parallel(&self) -> usize {
            4
        }
    }

    /// Records every progress report.
    #[derive(Default)]
    struct Reports(std::sync::Mutex<Vec<(usize, usize)>>);

    impl Progress for Reports {
        fn cue_done(&self, done: usize, total: usize) {
            self.0.lock().unwrap().push((done, total));
        }
    }

    fn build_with(
        config: &BulletinConfig,
        items: Vec<BulletinItem>,
        synthesizer: &dyn Synthesizer,
        cache: Option<&crate::cache::Cache>,
        progress: &dyn Progress,
    ) -> Result<BuiltBulletin, BulletinError> {
        let voices = Voices::builtin();
        let normalizer = Normalizer::builtin().unwrap();
        let settings = AudioSettings::default();
        let request = Request {
            config,
            slot: &config.slots[0],
            date: Date::new(2021, 7, 29).unwrap(),
            items,
            voice: voices.get("vi").unwrap(),
            greeting_voice: None,
            normalizer: &normalizer,
            settings: &settings,
            trigger: "test".into(),
            options: cues::Options {
                cache,
                max_parallel: 3,
            },
        };
        super::build(&request, synthesizer, progress)
    }

    #[test]
    fn speaks_through_the_cue_cache_and_counts_progress_across_the_bulletin() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let cache = crate::cache::Cache::open(&dir.path().join("cache")).unwrap();
        let items = || {
            vec![
                item("a", "Tin một\n\nCâu thứ nhất. Câu thứ hai."),
                item("b", "Tin hai\n\nMột câu ngắn."),
            ]
        };
        let synthesizer = Counting {
            inner: Fake::default(),
            calls: Default::default(),
            fail_on: None,
        };
        let reports = Reports::default();
        let cold = build_with(&config, items(), &synthesizer, Some(&cache), &reports).unwrap();
        let cues = cold.script.cues.len();
        assert_eq!(cold.stats.cues, cues);
        assert_eq!((cold.stats.cached, cold.stats.synthesized), (0, cues));
        let mut reports = reports.0.into_inner().unwrap();
        reports.sort_unstable();
        assert_eq!(
            reports,
            (1..=cues).map(|done| (done, cues)).collect::<Vec<_>>(),
            "one report per cue of the whole bulletin"
        );
        let calls = synthesizer.calls.load(std::sync::atomic::Ordering::SeqCst);
        assert!(calls >= cues, "{calls} calls for {cues} cues");
        assert_eq!(cache.len(), cues);

        // Every cue cached: the backend is not called, the audio is the same.
        let warm = build_with(&config, items(), &synthesizer, Some(&cache), &()).unwrap();
        assert_eq!(
            synthesizer.calls.load(std::sync::atomic::Ordering::SeqCst),
            calls
        );
        assert_eq!((warm.stats.cached, warm.stats.synthesized), (cues, 0));
        assert_eq!(warm.manifest.made.cues_from_cache, cues);
        assert_eq!(warm.pcm, cold.pcm);
        assert_eq!(warm.script.cues, cold.script.cues);
    }

    #[test]
    fn a_failing_cue_is_named_by_its_part_and_its_own_number() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let build = |fail_on: &'static str| {
            let synthesizer = Counting {
                inner: Fake::default(),
                calls: Default::default(),
                fail_on: Some(fail_on),
            };
            build_with(
                &config,
                vec![
                    item("a", "Tin một\n\nCâu thứ nhất."),
                    item("b", "Tin hai\n\nCâu đầu. Câu hỏng ở đây."),
                ],
                &synthesizer,
                None,
                &(),
            )
            .unwrap_err()
            .to_string()
        };
        let err = build("hỏng");
        assert!(
            err.starts_with("item b, cue 3 (\"Câu hỏng ở đây.\")"),
            "{err}"
        );
        assert!(err.contains("refused"), "{err}");
        let err = build("kính chào");
        assert!(err.starts_with("greeting, cue 1 "), "{err}");
        let err = build("hết");
        assert!(err.starts_with("sign-off, cue 1 "), "{err}");
    }

    #[test]
    fn refuses_an_empty_day_and_a_broken_jingle() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let err = build(&config, vec![]).unwrap_err().to_string();
        assert!(
            err.contains("no items for the sang bulletin of 2021-07-29"),
            "{err}"
        );
        std::fs::write(dir.path().join("intro.wav"), b"not a wav").unwrap();
        let err = build(&config, vec![item("a", "Tin\n\nMột câu.")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("intro.wav") && err.contains("RIFF"), "{err}");
    }
}
