//! Laying out a spoken bulletin: intro jingle (fading out), greeting, the
//! items kept with a pause between each two, sign-off, outro jingle (fading
//! in). Speech and jingles are first brought to the same loudness, then the
//! whole is levelled to the R128 target with `audio::level`, so the bulletin
//! meets it as one programme. Also says how long the parts around the items
//! last, for fitting.
//!
//! Knows nothing of synthesis or files: it takes spoken parts and returns
//! the levelled samples, the cues with measured times and where each part
//! and item landed.

use std::path::Path;
use std::time::Duration;

use super::build::BulletinError;
use super::config::{BulletinConfig, Slot};
use super::manifest::{Part, ms};
use super::speak::Spoken;
use super::timeline::{Fade, Timeline, fade};
use crate::audio::{self, LoudnessReport, LoudnessTarget, Pcm};
use crate::script::Cue;

/// A spoken bulletin, before it is laid out.
pub(super) struct Programme {
    pub intro: Option<Pcm>,
    pub greeting: Spoken,
    /// In editor order.
    pub items: Vec<Spoken>,
    pub sign_off: Spoken,
    pub outro: Option<Pcm>,
    pub rate: u32,
}

impl Programme {
    /// The programme of spoken `parts` (greeting, items, sign-off, as
    /// planned) between the jingles.
    pub fn new(intro: Option<Pcm>, mut parts: Vec<Spoken>, outro: Option<Pcm>, rate: u32) -> Self {
        let sign_off = parts.pop().expect("the sign-off was spoken");
        let greeting = parts.remove(0);
        Programme {
            intro,
            greeting,
            items: parts,
            sign_off,
            outro,
            rate,
        }
    }

    fn at(&self, n: usize) -> Duration {
        Duration::from_secs_f64(n as f64 / f64::from(self.rate))
    }

    /// How long each item lasts.
    pub fn item_lengths(&self) -> Vec<Duration> {
        self.items
            .iter()
            .map(|s| self.at(s.samples(self.rate)))
            .collect()
    }

    /// How long everything but the items and the pauses between them lasts:
    /// the jingles and their gaps, the greeting and sign-off and the pauses
    /// that part them from the items.
    pub fn fixed(&self, config: &BulletinConfig) -> Duration {
        let rate = self.rate;
        let jingle = |j: &Option<Pcm>| match j {
            Some(pcm) => pcm.samples.len() + audio::samples_for(rate, config.jingle_gap),
            None => 0,
        };
        let between = audio::samples_for(rate, config.pause_between_items);
        self.at(jingle(&self.intro)
            + self.greeting.samples(rate)
            + 2 * between
            + self.sign_off.samples(rate)
            + jingle(&self.outro))
    }
}

/// A laid-out, levelled bulletin.
pub(super) struct Laid {
    pub pcm: Pcm,
    pub loudness: LoudnessReport,
    /// Every cue with measured times, numbered from 1; paragraphs run on
    /// through the bulletin (the greeting's is 0).
    pub cues: Vec<Cue>,
    /// The jingles, greeting and sign-off, in order.
    pub parts: Vec<Part>,
    /// Where each kept item starts and ends.
    pub items: Vec<(Duration, Duration)>,
}

/// Lays out the first `kept` items of `programme` and levels the whole to
/// `target`.
///
/// # Errors
/// [`BulletinError::Loudness`] when the programme cannot be levelled.
pub(super) fn lay_out(
    programme: Programme,
    kept: usize,
    config: &BulletinConfig,
    slot: &Slot,
    target: LoudnessTarget,
) -> Result<Laid, BulletinError> {
    let Programme {
        intro,
        greeting,
        mut items,
        sign_off,
        outro,
        rate,
    } = programme;
    items.truncate(kept);
    // Speech and jingles to one loudness before the whole is levelled, so the
    // balance between them does not depend on how loud the files happen to be.
    let speech_gain = {
        let all: Vec<f32> = std::iter::once(&greeting)
            .chain(&items)
            .chain(std::iter::once(&sign_off))
            .flat_map(|s| s.audio.iter().flatten().copied())
            .collect();
        gain_to(&Pcm::new(rate, all), target.integrated_lufs)
    };
    let jingle_target = target.integrated_lufs + config.jingle_gain_db;

    let mut timeline = Timeline::new(rate);
    let mut parts = Vec::new();
    let mut cues = Vec::new();
    if let Some(mut jingle) = intro {
        let gain = gain_to(&jingle, jingle_target);
        fade(&mut jingle.samples, rate, config.fade, Fade::Out);
        let placed = timeline.push(&jingle.samples, gain);
        parts.push(part("intro_jingle", slot.intro_jingle.as_deref(), placed));
        timeline.silence(config.jingle_gap);
    }
    let (placed, spoken) = timeline.speak(greeting, speech_gain, 0);
    parts.push(part("greeting", None, placed));
    cues.extend(spoken);
    let mut placed_items = Vec::with_capacity(kept);
    let mut paragraph = 1;
    for speech in items {
        timeline.silence(config.pause_between_items);
        let (placed, spoken) = timeline.speak(speech, speech_gain, paragraph);
        paragraph = spoken.last().map_or(paragraph, |c| c.paragraph + 1);
        cues.extend(spoken);
        placed_items.push(placed);
    }
    timeline.silence(config.pause_between_items);
    let (placed, spoken) = timeline.speak(sign_off, speech_gain, paragraph);
    parts.push(part("sign_off", None, placed));
    cues.extend(spoken);
    if let Some(mut jingle) = outro {
        timeline.silence(config.jingle_gap);
        let gain = gain_to(&jingle, jingle_target);
        fade(&mut jingle.samples, rate, config.fade, Fade::In);
        let placed = timeline.push(&jingle.samples, gain);
        parts.push(part("outro_jingle", slot.outro_jingle.as_deref(), placed));
    }

    let mut pcm = Pcm::new(rate, timeline.samples);
    let loudness = audio::level(&mut pcm, target)?;
    for (index, cue) in cues.iter_mut().enumerate() {
        cue.id = index + 1;
    }
    Ok(Laid {
        pcm,
        loudness,
        cues,
        parts,
        items: placed_items,
    })
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
fn gain_to(pcm: &Pcm, lufs: f64) -> f32 {
    let measured = audio::meter::analyse(&pcm.samples, pcm.sample_rate_hz, false).integrated_lufs();
    if measured.is_finite() {
        10f64.powf((lufs - measured) / 20.0) as f32
    } else {
        1.0
    }
}
