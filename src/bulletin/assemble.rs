//! Assembling one bulletin and delivering it to the drop folder.
//!
//! The programme is: intro jingle (fading out), greeting with the spoken
//! date, each item (its title read as the lead, then its text) with a pause
//! between items, sign-off, outro jingle (fading in). Speech and jingles are
//! first brought to the same loudness, then the whole is levelled to the R128
//! target with `audio::normalize`, so the bulletin meets it as one programme.
//! The speech of every part comes from one pass of `pipeline::speak_cues`,
//! the same loop article renders use: parallel, through the cue cache, with
//! progress counted over the whole bulletin.
//!
//! Delivery writes the Broadcast WAV, the script (JSON and announcer text)
//! and a manifest into the drop folder. Every file is first written in full
//! to a hidden temporary file in that folder; only when all four exist are
//! they renamed into place, the WAV last, so a playout system watching for
//! WAV files never sees a bulletin without its sidecars or a half file.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use super::config::{BulletinConfig, Slot};
use super::fit::{self, Fit, Verdict};
use super::spoken_date::{self, TemplateValues};
use crate::audio::{self, LoudnessReport, Pcm, wav};
use crate::ingest::IngestError;
use crate::normalize::{self, Normalizer, Token};
use crate::pipeline::{self, AudioSettings, Progress, RenderError, RenderOptions, RenderStats};
use crate::script::format::Format;
use crate::script::{Cue, Script, Timing};
use crate::segment;
use crate::tts::{SynthError, Synthesizer};
use crate::voice::Voice;

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
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
    /// [`AssembleError::Ingest`] naming the item.
    pub fn prepare(
        id: &str,
        revision: &str,
        bytes: &[u8],
        name: Option<&str>,
        normalizer: &Normalizer,
        voice: &Voice,
        settings: &AudioSettings,
    ) -> Result<BulletinItem, AssembleError> {
        let (_, script) =
            pipeline::prepare(bytes, name, normalizer, voice, settings).map_err(|source| {
                AssembleError::Ingest {
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
    pub normalizer: &'a Normalizer,
    pub settings: &'a AudioSettings,
    /// How the run was started, for the manifest ("command line", "schedule", …).
    pub trigger: String,
    /// The cue cache and how many cues may be spoken at once.
    pub options: RenderOptions<'a>,
}

/// A bulletin in memory, ready to deliver.
#[derive(Debug, Clone)]
pub struct Assembled {
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
    pub stats: RenderStats,
    /// Time spent assembling in all (synthesis included).
    pub elapsed: Duration,
}

/// The manifest written beside the WAV (`<name>.manifest.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub station: String,
    pub date: String,
    pub slot: String,
    pub slot_label: String,
    pub files: Files,
    pub items: Vec<ManifestItem>,
    /// Items left out to fit the slot (lowest ranked first out).
    pub left_out: Vec<ManifestItem>,
    pub parts: Vec<Part>,
    pub total_ms: u64,
    pub target_ms: u64,
    pub tolerance_ms: u64,
    /// Positive: over the target; negative: under.
    pub difference_ms: i64,
    pub verdict: Verdict,
    pub loudness: ManifestLoudness,
    pub audio: AudioInfo,
    pub made: Made,
    /// Identifies the approved items and their revisions (all of them, left
    /// out or not): the scheduler rebuilds only when it changes.
    pub items_fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Files {
    pub wav: String,
    pub script_json: String,
    pub script_txt: String,
    pub manifest: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestItem {
    /// 1-based editor order.
    pub rank: usize,
    pub id: String,
    pub revision: String,
    pub title: String,
    /// Where the item starts in the bulletin (absent for left-out items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    pub duration_ms: u64,
    pub cues: usize,
}

/// A non-item part of the programme (jingles, greeting, sign-off).
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub start_ms: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestLoudness {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    pub target_lufs: f64,
    pub max_true_peak_dbtp: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AudioInfo {
    pub sample_rate_hz: u32,
    pub bits_per_sample: u16,
    pub channels: u16,
    pub samples: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Made {
    /// UTC, RFC 3339.
    pub at: String,
    /// The station's local time.
    pub at_local: String,
    pub by: String,
    pub trigger: String,
    pub voice: String,
    pub backend: String,
    /// Cues spoken, and how many of them came from the cue cache.
    pub cues: usize,
    pub cues_from_cache: usize,
    pub synthesis_ms: u64,
    pub elapsed_ms: u64,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Speech of one part of the programme: cues and their audio.
struct Spoken {
    cues: Vec<Cue>,
    audio: Vec<Vec<f32>>,
}

impl Spoken {
    /// Length in samples: the cues and the pauses between them.
    fn samples(&self, rate: u32) -> usize {
        let last = self.cues.len().saturating_sub(1);
        self.audio
            .iter()
            .zip(&self.cues)
            .enumerate()
            .map(|(i, (a, c))| {
                a.len()
                    + if i < last {
                        audio::samples_for(rate, c.pause_after)
                    } else {
                        0
                    }
            })
            .sum()
    }
}

/// Builds the programme of one bulletin. Progress counts the cues of the
/// greeting, every item and the sign-off together.
///
/// # Errors
/// [`AssembleError`] naming the part that failed: no items, an unreadable
/// jingle, a cue the backend could not speak (with its part: greeting, item
/// ID or sign-off), a silent programme, a cancel.
pub fn assemble(
    request: &Request<'_>,
    synthesizer: &dyn Synthesizer,
    progress: &dyn Progress,
) -> Result<Assembled, AssembleError> {
    let started = Instant::now();
    let Request {
        config,
        slot,
        date,
        items,
        voice,
        normalizer,
        settings,
        trigger,
        options,
    } = request;
    if items.is_empty() {
        return Err(AssembleError::Empty {
            date: *date,
            slot: slot.name.clone(),
        });
    }
    let rate = settings.sample_rate_hz;
    // Jingles first: a bad file should fail before minutes of synthesis.
    let intro = slot
        .intro_jingle
        .as_deref()
        .map(|p| load_jingle(p, rate))
        .transpose()?;
    let outro = slot
        .outro_jingle
        .as_deref()
        .map(|p| load_jingle(p, rate))
        .transpose()?;

    let timing = pipeline::timing(voice, settings);
    let values = TemplateValues {
        date: *date,
        station: &config.station,
        slot: &slot.label,
        style: normalizer.style(),
    };
    let greeting_cues = speech_cues(
        &spoken_date::render(&slot.greeting, &values),
        normalizer,
        &timing,
    );
    let sign_off_cues = speech_cues(
        &spoken_date::render(&slot.sign_off, &values),
        normalizer,
        &timing,
    );

    let mut parts = Vec::with_capacity(items.len() + 2);
    parts.push(("greeting".to_string(), greeting_cues));
    for item in items {
        if item.script.cues.is_empty() {
            return Err(AssembleError::Silent {
                item: item.id.clone(),
            });
        }
        parts.push((format!("item {}", item.id), item.script.cues.clone()));
    }
    parts.push(("sign-off".to_string(), sign_off_cues));
    let speech_started = Instant::now();
    let (mut spoken_items, stats) = speak(parts, synthesizer, settings, options, progress)?;
    let synthesis = speech_started.elapsed();
    let sign_off = spoken_items.pop().expect("the sign-off was spoken");
    let greeting = spoken_items.remove(0);

    // Fit to the slot on the measured speech, whole items only.
    let at = |n: usize| Duration::from_secs_f64(n as f64 / f64::from(rate));
    let jingle_len = |j: &Option<Pcm>| j.as_ref().map_or(0, |p| p.samples.len());
    let gap = |j: &Option<Pcm>| {
        if j.is_some() {
            audio::samples_for(rate, config.jingle_gap)
        } else {
            0
        }
    };
    let between = audio::samples_for(rate, config.pause_between_items);
    let fixed = jingle_len(&intro)
        + gap(&intro)
        + greeting.samples(rate)
        + 2 * between
        + sign_off.samples(rate)
        + gap(&outro)
        + jingle_len(&outro);
    let item_lengths: Vec<Duration> = spoken_items.iter().map(|s| at(s.samples(rate))).collect();
    let kept = if slot.fit {
        fit::keep(
            at(fixed),
            &item_lengths,
            config.pause_between_items,
            slot.target,
            slot.tolerance,
        )
    } else {
        items.len()
    };

    // Speech and jingles to one loudness before the whole is levelled, so the
    // balance between them does not depend on how loud the files happen to be.
    let target = settings.loudness;
    let speech_gain = {
        let all: Vec<f32> = std::iter::once(&greeting)
            .chain(&spoken_items[..kept])
            .chain(std::iter::once(&sign_off))
            .flat_map(|s| s.audio.iter().flatten().copied())
            .collect();
        gain_to(&Pcm::new(rate, all), target.integrated_lufs)?
    };
    let jingle_target = target.integrated_lufs + config.jingle_gain_db;

    let mut timeline = Timeline {
        rate,
        samples: Vec::new(),
    };
    let mut parts = Vec::new();
    let mut cues = Vec::new();
    if let Some(mut jingle) = intro {
        let gain = gain_to(&jingle, jingle_target)?;
        fade(&mut jingle.samples, rate, config.fade, Fade::Out);
        let placed = timeline.push(&jingle.samples, gain);
        parts.push(part("intro_jingle", slot.intro_jingle.as_deref(), placed));
        timeline.silence(config.jingle_gap);
    }
    let (placed, spoken) = timeline.speak(greeting, speech_gain, 0);
    parts.push(part("greeting", None, placed));
    cues.extend(spoken);
    let mut manifest_items = Vec::with_capacity(kept);
    let mut paragraph = 1;
    for (rank, (item, speech)) in items.iter().zip(spoken_items).enumerate().take(kept) {
        timeline.silence(config.pause_between_items);
        let count = speech.cues.len();
        let ((start, end), spoken) = timeline.speak(speech, speech_gain, paragraph);
        paragraph = spoken.last().map_or(paragraph, |c| c.paragraph + 1);
        cues.extend(spoken);
        manifest_items.push(ManifestItem {
            rank: rank + 1,
            id: item.id.clone(),
            revision: item.revision.clone(),
            title: item.script.title.clone(),
            start_ms: Some(ms(start)),
            duration_ms: ms(end - start),
            cues: count,
        });
    }
    let left_out: Vec<ManifestItem> = items
        .iter()
        .zip(&item_lengths)
        .enumerate()
        .skip(kept)
        .map(|(rank, (item, length))| ManifestItem {
            rank: rank + 1,
            id: item.id.clone(),
            revision: item.revision.clone(),
            title: item.script.title.clone(),
            start_ms: None,
            duration_ms: ms(*length),
            cues: item.script.cues.len(),
        })
        .collect();
    timeline.silence(config.pause_between_items);
    let (placed, spoken) = timeline.speak(sign_off, speech_gain, paragraph);
    parts.push(part("sign_off", None, placed));
    cues.extend(spoken);
    if let Some(mut jingle) = outro {
        timeline.silence(config.jingle_gap);
        let gain = gain_to(&jingle, jingle_target)?;
        fade(&mut jingle.samples, rate, config.fade, Fade::In);
        let placed = timeline.push(&jingle.samples, gain);
        parts.push(part("outro_jingle", slot.outro_jingle.as_deref(), placed));
    }

    let mut pcm = Pcm::new(rate, timeline.samples);
    let loudness = audio::level(&mut pcm, target)?;
    let total = pcm.duration();
    for (index, cue) in cues.iter_mut().enumerate() {
        cue.id = index + 1;
    }
    let script = Script {
        title: format!(
            "{} — Bản tin {} {}",
            config.station,
            slot.label,
            vietnamese_date(*date)
        ),
        published: Some(date.to_string()),
        voice: voice.name.clone(),
        measured: true,
        cues,
        total,
    };
    let fit = Fit {
        total,
        target: slot.target,
        tolerance: slot.tolerance,
    };
    let names = FileNames::new(config, *date, &slot.name);
    let now = Timestamp::now();
    let elapsed = started.elapsed();
    let approved: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i.id.as_str(), i.revision.as_str()))
        .collect();
    let manifest = Manifest {
        format: "bantin-bulletin/1",
        station: config.station.clone(),
        date: date.to_string(),
        slot: slot.name.clone(),
        slot_label: slot.label.clone(),
        files: names.files(),
        items: manifest_items,
        left_out,
        parts,
        total_ms: ms(total),
        target_ms: ms(slot.target),
        tolerance_ms: ms(slot.tolerance),
        difference_ms: fit.difference_ms(),
        verdict: fit.verdict(),
        loudness: ManifestLoudness {
            integrated_lufs: round2(loudness.integrated_lufs),
            true_peak_dbtp: round2(loudness.true_peak_dbtp),
            target_lufs: target.integrated_lufs,
            max_true_peak_dbtp: target.max_true_peak_dbtp,
        },
        audio: AudioInfo {
            sample_rate_hz: rate,
            bits_per_sample: settings.bit_depth.bits(),
            channels: 1,
            samples: pcm.samples.len() as u64,
        },
        made: Made {
            at: now.to_string(),
            at_local: now.to_zoned_datetime(config.time_zone.clone()).to_string(),
            by: format!("bantin {}", env!("CARGO_PKG_VERSION")),
            trigger: trigger.clone(),
            voice: voice.name.clone(),
            backend: synthesizer.fingerprint(),
            cues: stats.cues,
            cues_from_cache: stats.cached,
            synthesis_ms: ms(synthesis),
            elapsed_ms: ms(elapsed),
        },
        items_fingerprint: super::schedule::items_fingerprint(&approved),
    };
    Ok(Assembled {
        pcm,
        loudness,
        script,
        manifest,
        fit,
        synthesis,
        stats,
        elapsed,
    })
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// `29/07/2021`, the way the date is written on the script.
fn vietnamese_date(date: Date) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

fn part(kind: &'static str, file: Option<&Path>, (start, end): (Duration, Duration)) -> Part {
    Part {
        kind,
        file: file.map(|f| f.display().to_string()),
        start_ms: ms(start),
        duration_ms: ms(end - start),
    }
}

/// Gain that brings `pcm` to `lufs` (1 for a silent piece). Integrated
/// loudness only: the true peak is the final levelling's concern, and
/// measuring it here would cost another oversampled pass over the speech.
fn gain_to(pcm: &Pcm, lufs: f64) -> Result<f32, AssembleError> {
    let measured = audio::meter::analyse(&pcm.samples, pcm.sample_rate_hz, false).integrated_lufs();
    Ok(if measured.is_finite() {
        10f64.powf((lufs - measured) / 20.0) as f32
    } else {
        1.0
    })
}

/// Reads a jingle (any WAV the decoder takes: channels mixed down) at `rate`.
fn load_jingle(path: &Path, rate: u32) -> Result<Pcm, AssembleError> {
    let err = |reason: String| AssembleError::Jingle {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let pcm = wav::decode(&bytes).map_err(|e| err(e.to_string()))?;
    if pcm.samples.is_empty() {
        return Err(err("it holds no audio".into()));
    }
    audio::resample(pcm, rate).map_err(|e| err(format!("resampling: {e}")))
}

#[derive(Clone, Copy)]
enum Fade {
    In,
    Out,
}

/// A raised-cosine fade over `length` at the start (in) or end (out).
fn fade(samples: &mut [f32], rate: u32, length: Duration, direction: Fade) {
    let n = audio::samples_for(rate, length).min(samples.len());
    if n == 0 {
        return;
    }
    let total = samples.len();
    for i in 0..n {
        let x = (i as f32 + 0.5) / n as f32;
        let gain = 0.5 - 0.5 * (std::f32::consts::PI * x).cos();
        match direction {
            Fade::In => samples[i] *= gain,
            Fade::Out => samples[total - 1 - i] *= gain,
        }
    }
}

/// Cues of a piece of text that is not an article (greeting, sign-off): one
/// per sentence, normalized and split into breath groups like article cues.
fn speech_cues(text: &str, normalizer: &Normalizer, timing: &Timing) -> Vec<Cue> {
    let text = crate::text::nfc(text).into_owned();
    let mut cues = Vec::new();
    for span in segment::sentences(&text, 0..text.len()) {
        let expansion = normalizer.expand(&text, span.clone());
        let parts: Vec<String> =
            segment::breath_groups(&text, span.clone(), timing.breath_group_syllables)
                .into_iter()
                .map(|group| render_within(&expansion.tokens, &group))
                .filter(|p| !p.trim().is_empty())
                .collect();
        let spoken = expansion.spoken();
        if spoken.trim().is_empty() || parts.is_empty() {
            continue;
        }
        cues.push(Cue {
            id: cues.len() + 1,
            paragraph: 0,
            span: span.clone(),
            text: text[span].to_string(),
            spoken,
            parts,
            tokens: expansion.tokens,
            warnings: expansion.warnings,
            start: Duration::ZERO,
            end: Duration::ZERO,
            pause_after: timing.pauses.after_sentence,
        });
    }
    if let Some(last) = cues.last_mut() {
        last.pause_after = Duration::ZERO;
    }
    cues
}

fn render_within(tokens: &[Token], group: &Range<usize>) -> String {
    let inside: Vec<Token> = tokens
        .iter()
        .filter(|t| t.span.start >= group.start && t.span.start < group.end)
        .cloned()
        .collect();
    normalize::render(&inside)
}

/// Speaks every part of the programme (named, with its cues) in one pass
/// through [`pipeline::speak_cues`], so the cache, the parallelism and the
/// progress count span the whole bulletin; returns each part's speech in
/// order. The cues are numbered through for the pass; a failure is reported
/// with the part and the cue's own number in it.
fn speak(
    parts: Vec<(String, Vec<Cue>)>,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &RenderOptions<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Spoken>, RenderStats), AssembleError> {
    let all: Vec<Cue> = parts
        .iter()
        .flat_map(|(_, cues)| cues.iter().cloned())
        .enumerate()
        .map(|(index, mut cue)| {
            cue.id = index + 1;
            cue
        })
        .collect();
    // The part and own number of the cue numbered `id` in the pass.
    let locate = |id: usize| -> (String, usize) {
        let mut index = id.saturating_sub(1);
        for (name, cues) in &parts {
            match cues.get(index) {
                Some(cue) => return (name.clone(), cue.id),
                None => index -= cues.len(),
            }
        }
        ("bulletin".to_string(), id)
    };
    let (speech, stats) = pipeline::speak_cues(&all, synthesizer, settings, options, progress)
        .map_err(|e| match e {
            RenderError::Synth { cue, text, source } => {
                let (part, cue) = locate(cue);
                AssembleError::Synth {
                    part,
                    cue,
                    text,
                    source,
                }
            }
            RenderError::Resample { cue, source } => {
                let (part, cue) = locate(cue);
                AssembleError::Resample { part, cue, source }
            }
            RenderError::Cancelled => AssembleError::Cancelled,
            RenderError::Loudness(e) => AssembleError::Loudness(e),
            RenderError::Wav(e) => AssembleError::Encode(e),
            RenderError::Empty => unreachable!("speak_cues speaks no cues as no audio"),
        })?;
    let mut speech = speech.into_iter();
    let spoken = parts
        .into_iter()
        .map(|(_, cues)| Spoken {
            audio: speech
                .by_ref()
                .take(cues.len())
                .map(|p| p.samples)
                .collect(),
            cues,
        })
        .collect();
    Ok((spoken, stats))
}

/// The programme being laid out, and where each piece landed.
struct Timeline {
    rate: u32,
    samples: Vec<f32>,
}

impl Timeline {
    fn at(&self, n: usize) -> Duration {
        Duration::from_secs_f64(n as f64 / f64::from(self.rate))
    }

    fn push(&mut self, samples: &[f32], gain: f32) -> (Duration, Duration) {
        let start = self.samples.len();
        self.samples.extend(samples.iter().map(|s| s * gain));
        (self.at(start), self.at(self.samples.len()))
    }

    fn silence(&mut self, length: Duration) {
        let n = audio::samples_for(self.rate, length);
        self.samples.resize(self.samples.len() + n, 0.0);
    }

    /// Lays out spoken cues; returns the span they cover and the cues with
    /// measured times, their paragraphs renumbered to start at `first_paragraph`.
    fn speak(
        &mut self,
        spoken: Spoken,
        gain: f32,
        first_paragraph: usize,
    ) -> ((Duration, Duration), Vec<Cue>) {
        let start = self.at(self.samples.len());
        let own_first = spoken.cues.first().map_or(0, |c| c.paragraph);
        let last = spoken.cues.len().saturating_sub(1);
        let mut cues = Vec::with_capacity(spoken.cues.len());
        for (index, (mut cue, audio)) in spoken.cues.into_iter().zip(spoken.audio).enumerate() {
            let (cue_start, cue_end) = self.push(&audio, gain);
            cue.start = cue_start;
            cue.end = cue_end;
            cue.paragraph = cue.paragraph.saturating_sub(own_first) + first_paragraph;
            if index < last {
                self.silence(cue.pause_after);
            } else {
                // The gap after an item's last cue is the bulletin's, not the article's.
                cue.pause_after = Duration::ZERO;
            }
            cues.push(cue);
        }
        ((start, self.at(self.samples.len())), cues)
    }
}

/// The four files of one bulletin in the drop folder.
#[derive(Debug, Clone)]
pub struct FileNames {
    pub folder: PathBuf,
    pub wav: String,
    pub script_json: String,
    pub script_txt: String,
    pub manifest: String,
}

impl FileNames {
    pub fn new(config: &BulletinConfig, date: Date, slot: &str) -> FileNames {
        let wav = config.file_name(date, slot);
        let stem = &wav[..wav.len() - ".wav".len()];
        FileNames {
            folder: config.drop_folder.clone(),
            script_json: format!("{stem}.json"),
            script_txt: format!("{stem}.txt"),
            manifest: format!("{stem}.manifest.json"),
            wav,
        }
    }

    fn files(&self) -> Files {
        Files {
            wav: self.wav.clone(),
            script_json: self.script_json.clone(),
            script_txt: self.script_txt.clone(),
            manifest: self.manifest.clone(),
        }
    }
}

/// Paths of a delivered bulletin.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub wav: PathBuf,
    pub script_json: PathBuf,
    pub script_txt: PathBuf,
    pub manifest: PathBuf,
}

/// Writes the bulletin into the drop folder: Broadcast WAV with `bext`,
/// script JSON and text, manifest. All four are staged as hidden temporary
/// files first; then the sidecars are renamed into place and the WAV last.
/// If anything fails, the files of this delivery are removed again.
///
/// # Errors
/// [`AssembleError::Write`] naming the drop folder (missing, read-only,
/// full), [`AssembleError::Encode`].
pub fn deliver(
    assembled: &Assembled,
    config: &BulletinConfig,
    settings: &AudioSettings,
) -> Result<Delivered, AssembleError> {
    let manifest = &assembled.manifest;
    let date: Date = manifest.date.parse().expect("the manifest's own date");
    let names = FileNames::new(config, date, &manifest.slot);
    let folder = &names.folder;
    let write_err = |source: std::io::Error| AssembleError::Write {
        folder: folder.display().to_string(),
        source,
    };
    let made: Timestamp = manifest
        .made
        .at
        .parse()
        .expect("the manifest's own timestamp");
    let local = made.to_zoned_datetime(config.time_zone.clone()).datetime();
    let finite = |v: f64| v.is_finite().then_some(v);
    let wav_bytes = wav::encode_bwf(
        &assembled.pcm,
        settings.bit_depth,
        &wav::Bext {
            description: assembled.script.title.clone(),
            originator: "bantin".into(),
            originator_reference: format!("{}_{}", manifest.date, manifest.slot),
            origination_date: local.strftime("%Y-%m-%d").to_string(),
            origination_time: local.strftime("%H:%M:%S").to_string(),
            loudness_lufs: finite(assembled.loudness.integrated_lufs),
            loudness_range_lu: finite(assembled.loudness.range_lu),
            max_true_peak_dbtp: finite(assembled.loudness.true_peak_dbtp),
            max_momentary_lufs: finite(assembled.loudness.max_momentary_lufs),
            max_short_term_lufs: finite(assembled.loudness.max_short_term_lufs),
            coding_history: format!(
                "A=PCM,F={},W={},M=mono,T=bantin {}",
                settings.sample_rate_hz,
                settings.bit_depth.bits(),
                env!("CARGO_PKG_VERSION")
            ),
        },
    )?;
    let manifest_json = serde_json::to_vec_pretty(manifest).expect("the manifest serializes");
    let files: [(&str, Vec<u8>); 4] = [
        (
            names.script_json.as_str(),
            Format::Json.render(&assembled.script).into_bytes(),
        ),
        (
            names.script_txt.as_str(),
            Format::Txt.render(&assembled.script).into_bytes(),
        ),
        (names.manifest.as_str(), manifest_json),
        (names.wav.as_str(), wav_bytes),
    ];
    // A drop folder that is not there yet (a new install, a new month's
    // folder in the pattern) is made, as the playout system expects to find it.
    std::fs::create_dir_all(folder).map_err(write_err)?;
    // Stage everything: this is where a full disk or a read-only folder fails.
    let mut staged = Vec::with_capacity(files.len());
    for (name, bytes) in &files {
        staged.push((folder.join(name), stage(folder, bytes).map_err(write_err)?));
    }
    // Publish, WAV last; undo this delivery's renames if one fails.
    let mut published: Vec<PathBuf> = Vec::new();
    for (path, temp) in staged {
        if let Err(e) = temp.persist(&path) {
            for done in &published {
                let _ = std::fs::remove_file(done);
            }
            return Err(write_err(e.error));
        }
        published.push(path);
    }
    // Make the renames durable before reporting success.
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(Delivered {
        script_json: folder.join(&names.script_json),
        script_txt: folder.join(&names.script_txt),
        manifest: folder.join(&names.manifest),
        wav: folder.join(&names.wav),
    })
}

fn stage(folder: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bantin-").suffix(".part");
    // Temporary files are private (0600) by default; the playout system
    // usually runs as another user and must be able to read the bulletin.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn config(dir: &Path, fit: bool, target_minutes: f64) -> BulletinConfig {
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

    fn item(id: &str, text: &str) -> BulletinItem {
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

    fn build(
        config: &BulletinConfig,
        items: Vec<BulletinItem>,
    ) -> Result<Assembled, AssembleError> {
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
    ) -> Result<Assembled, AssembleError> {
        let voices = Voices::builtin();
        let normalizer = Normalizer::builtin().unwrap();
        let settings = AudioSettings::default();
        let request = Request {
            config,
            slot: &config.slots[0],
            date: Date::new(2021, 7, 29).unwrap(),
            items,
            voice: voices.get("vi").unwrap(),
            normalizer: &normalizer,
            settings: &settings,
            trigger: "test".into(),
            options: RenderOptions {
                cache,
                max_parallel: 3,
            },
        };
        assemble(&request, synthesizer, progress)
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

    #[test]
    fn delivers_four_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let built = build(&config, vec![item("a", "Tin một\n\nCâu thứ nhất.")]).unwrap();
        let missing = deliver(&built, &config, &AudioSettings::default())
            .unwrap_err()
            .to_string();
        assert!(missing.contains("drop folder"), "{missing}");
        std::fs::create_dir(dir.path().join("drop")).unwrap();
        let delivered = deliver(&built, &config, &AudioSettings::default()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("drop"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "BANTIN_2021-07-29_sang.json",
                "BANTIN_2021-07-29_sang.manifest.json",
                "BANTIN_2021-07-29_sang.txt",
                "BANTIN_2021-07-29_sang.wav"
            ]
        );
        let bytes = std::fs::read(&delivered.wav).unwrap();
        assert_eq!(&bytes[12..16], b"bext");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&delivered.wav)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o044,
                0o044,
                "readable by the playout user: {mode:o}"
            );
        }
        assert_eq!(
            wav::decode(&bytes).unwrap().samples.len(),
            built.pcm.samples.len()
        );
    }
}
