//! Planning a bulletin: what its programme is made of, before anything is
//! spoken. The jingles are read (first, so a bad file fails before minutes
//! of synthesis), the greeting and sign-off templates are filled in and
//! made into cues the way an article's sentences are ([`script::text_cues`]
//! with the voice's normalizer), and every item must have something to say.
//!
//! Knows nothing of speaking, fitting or laying out: it hands the speech
//! step its parts, each named for the errors.

use std::path::Path;

use super::build::{BulletinError, Request};
use super::speak::{Part, Speaker};
use super::spoken_date::{self, TemplateValues};
use crate::audio::{self, Pcm, wav};
use crate::script;

/// The programme of one bulletin, unspoken.
pub(super) struct Plan {
    pub intro: Option<Pcm>,
    pub outro: Option<Pcm>,
    /// Every part to speak, in order, named for errors: the greeting, each
    /// item (`item <id>`) and the sign-off.
    pub parts: Vec<Part>,
}

/// Plans the bulletin of `request`.
///
/// # Errors
/// [`BulletinError::Empty`] without items, [`BulletinError::Jingle`] for a
/// jingle that cannot be read, [`BulletinError::Silent`] for an item with
/// nothing to speak.
pub(super) fn plan(request: &Request<'_>) -> Result<Plan, BulletinError> {
    let (config, slot, items) = (request.config, request.slot, &request.items);
    let (voice, settings) = (request.voice, request.settings);
    if items.is_empty() {
        return Err(BulletinError::Empty {
            date: request.date,
            slot: slot.name.clone(),
        });
    }
    let rate = settings.sample_rate_hz;
    let load = |path: &Option<std::path::PathBuf>| {
        path.as_deref().map(|p| load_jingle(p, rate)).transpose()
    };
    let intro = load(&slot.intro_jingle)?;
    let outro = load(&slot.outro_jingle)?;

    // The greeting and sign-off are read as the items are: with the voice's
    // own lexicon on top of the station's (the greeting voice's, when it
    // has one) and timed at its rate.
    let (greeting_voice, greeting_speaker) = match &request.greeting_voice {
        Some(greeting) => (greeting.voice, Speaker::Greeting),
        None => (voice, Speaker::Items),
    };
    let normalizer = greeting_voice.normalizer(request.normalizer);
    let timing = settings.timing(greeting_voice);
    let values = TemplateValues {
        date: request.date,
        station: &config.station,
        slot: &slot.label,
        style: normalizer.style(),
    };
    let speech = |template: &str| {
        let text = crate::text::nfc(&spoken_date::fill_template(template, &values)).into_owned();
        script::text_cues(&text, &normalizer, &timing)
    };

    let part = |name: String, speaker, cues| Part {
        name,
        speaker,
        cues,
    };
    let mut parts = Vec::with_capacity(items.len() + 2);
    parts.push(part(
        "greeting".into(),
        greeting_speaker,
        speech(&slot.greeting),
    ));
    for item in items {
        if item.script.cues.is_empty() {
            return Err(BulletinError::Silent {
                item: item.id.clone(),
            });
        }
        parts.push(part(
            format!("item {}", item.id),
            Speaker::Items,
            item.script.cues.clone(),
        ));
    }
    parts.push(part(
        "sign-off".into(),
        greeting_speaker,
        speech(&slot.sign_off),
    ));
    Ok(Plan {
        intro,
        outro,
        parts,
    })
}

/// Reads a jingle (any WAV the decoder takes: channels mixed down) at `rate`.
fn load_jingle(path: &Path, rate: u32) -> Result<Pcm, BulletinError> {
    let err = |reason: String| BulletinError::Jingle {
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
