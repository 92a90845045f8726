//! Speaking a bulletin: every part of the programme (greeting, items,
//! sign-off) in one pass through [`speak::speak_cues`], the loop article
//! renders use, so the cue cache, the parallelism and the progress count
//! span the whole bulletin. A failure names the part and the cue's own
//! number in it.
//!
//! The greeting and sign-off may have a voice of their own
//! ([`GreetingVoice`]): then the parts are spoken in two passes, one per
//! voice, each through its own backend and cache key, with one progress
//! count over both.
//!
//! Knows nothing of the slot or the timeline: it returns each part's cues
//! with their audio at the output rate.

use super::build::BulletinError;
use crate::audio;
use crate::script::Cue;
use crate::settings::AudioSettings;
use crate::speak::{self, Progress, SpeakError};
use crate::tts::Synthesizer;
use crate::voice::Voice;

/// The voice of a bulletin's greeting and sign-off when it is not the
/// items' voice, with the backend that speaks it.
#[derive(Clone, Copy)]
pub struct GreetingVoice<'a> {
    pub voice: &'a Voice,
    pub synthesizer: &'a dyn Synthesizer,
}

/// Who speaks a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Speaker {
    /// The bulletin's voice (every item; the greeting without a voice of its own).
    Items,
    /// The greeting voice.
    Greeting,
}

/// One part of the programme: its name (for errors), who speaks it, its cues.
pub(super) struct Part {
    pub name: String,
    pub speaker: Speaker,
    pub cues: Vec<Cue>,
}

/// Progress of one pass counted into the whole: `offset` cues were done
/// before it, of `total` in all.
struct Pass<'a> {
    inner: &'a dyn Progress,
    offset: usize,
    total: usize,
}

impl Progress for Pass<'_> {
    fn cue_done(&self, done: usize, _: usize) {
        self.inner.cue_done(self.offset + done, self.total);
    }

    fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }
}

/// Speaks every part, the greeting voice's through `greeting` and the
/// rest through `synthesizer`; returns each part's speech in order.
///
/// # Errors
/// As [`speak`].
pub(super) fn speak_parts(
    parts: Vec<Part>,
    synthesizer: &dyn Synthesizer,
    greeting: Option<GreetingVoice<'_>>,
    settings: &AudioSettings,
    options: &speak::Options<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Spoken>, speak::Stats), BulletinError> {
    let Some(greeting) = greeting else {
        let parts = parts.into_iter().map(|p| (p.name, p.cues)).collect();
        return speak(parts, synthesizer, settings, options, progress);
    };
    let total = parts.iter().map(|p| p.cues.len()).sum();
    type Placed = Vec<(usize, Part)>;
    let (greeting_parts, item_parts): (Placed, Placed) = parts
        .into_iter()
        .enumerate()
        .partition(|(_, p)| p.speaker == Speaker::Greeting);
    let mut out: Vec<Option<Spoken>> = Vec::new();
    out.resize_with(greeting_parts.len() + item_parts.len(), || None);
    let mut stats = speak::Stats::default();
    let mut offset = 0;
    for (pass, backend) in [
        (greeting_parts, greeting.synthesizer),
        (item_parts, synthesizer),
    ] {
        let places: Vec<usize> = pass.iter().map(|(i, _)| *i).collect();
        let cues: usize = pass.iter().map(|(_, p)| p.cues.len()).sum();
        let named = pass.into_iter().map(|(_, p)| (p.name, p.cues)).collect();
        let progress = Pass {
            inner: progress,
            offset,
            total,
        };
        let (spoken, pass_stats) = speak(named, backend, settings, options, &progress)?;
        for (place, spoken) in places.into_iter().zip(spoken) {
            out[place] = Some(spoken);
        }
        stats.cues += pass_stats.cues;
        stats.cached += pass_stats.cached;
        stats.synthesized += pass_stats.synthesized;
        offset += cues;
    }
    Ok((
        out.into_iter()
            .map(|s| s.expect("every part is spoken in one of the passes"))
            .collect(),
        stats,
    ))
}

/// Speech of one part of the programme: cues and their audio.
pub(super) struct Spoken {
    pub cues: Vec<Cue>,
    pub audio: Vec<Vec<f32>>,
}

impl Spoken {
    /// Length in samples: the cues and the pauses between them.
    pub fn samples(&self, rate: u32) -> usize {
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

/// Speaks every part (named, with its cues) in one pass; returns each
/// part's speech in order. The cues are numbered through for the pass.
///
/// # Errors
/// [`BulletinError::Synth`] and [`BulletinError::Resample`] naming the part
/// and the cue's own number, [`BulletinError::Cancelled`].
pub(super) fn speak(
    parts: Vec<(String, Vec<Cue>)>,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &speak::Options<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Spoken>, speak::Stats), BulletinError> {
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
    let (speech, stats) = speak::speak_cues(
        &all,
        synthesizer,
        settings.sample_rate_hz,
        settings.pauses.between_breath_groups,
        options,
        progress,
    )
    .map_err(|e| match e {
        SpeakError::Synth { cue, text, source } => {
            let (part, cue) = locate(cue);
            BulletinError::Synth {
                part,
                cue,
                text,
                source,
            }
        }
        SpeakError::Resample { cue, source } => {
            let (part, cue) = locate(cue);
            BulletinError::Resample { part, cue, source }
        }
        SpeakError::Cancelled => BulletinError::Cancelled,
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::audio::Pcm;
    use crate::normalize::Normalizer;
    use crate::tts::{Fake, SynthError};

    /// A stand-in voice that remembers what it was asked to say.
    struct Recording {
        name: &'static str,
        said: Mutex<Vec<String>>,
    }

    impl Synthesizer for Recording {
        fn fingerprint(&self) -> String {
            format!("recording {}", self.name)
        }

        fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
            self.said.lock().unwrap().push(text.to_string());
            Fake::default().synthesize(text)
        }

        fn check(&self) -> Result<(), SynthError> {
            Ok(())
        }
    }

    #[derive(Default)]
    struct Counted(Mutex<Vec<(usize, usize)>>);

    impl Progress for Counted {
        fn cue_done(&self, done: usize, total: usize) {
            self.0.lock().unwrap().push((done, total));
        }
    }

    #[test]
    fn the_greeting_and_sign_off_come_from_the_greeting_voice() {
        let voices = crate::voice::Voices::builtin();
        let normalizer = Normalizer::builtin().unwrap();
        let settings = AudioSettings::default();
        let timing = settings.timing(voices.get("vi").unwrap());
        let cues = |text: &str| crate::script::text_cues(text, &normalizer, &timing);
        let part = |name: &str, speaker, text: &str| Part {
            name: name.into(),
            speaker,
            cues: cues(text),
        };
        let parts = vec![
            part("greeting", Speaker::Greeting, "Xin kính chào quý vị."),
            part("item a", Speaker::Items, "Sáng nay trời mưa. Chiều nắng."),
            part("item b", Speaker::Items, "Giá lúa tăng."),
            part("sign-off", Speaker::Greeting, "Xin cảm ơn quý vị."),
        ];
        let items = Recording {
            name: "items",
            said: Mutex::default(),
        };
        let greeter = Recording {
            name: "greeting",
            said: Mutex::default(),
        };
        let greeting = GreetingVoice {
            voice: voices.get("vi-vn-x-south").unwrap(),
            synthesizer: &greeter,
        };
        let progress = Counted::default();
        let (spoken, stats) = speak_parts(
            parts,
            &items,
            Some(greeting),
            &settings,
            &speak::Options::default(),
            &progress,
        )
        .unwrap();
        let said = |r: &Recording| {
            let mut said = r.said.lock().unwrap().clone();
            said.sort();
            said
        };
        assert_eq!(
            said(&greeter),
            ["Xin cảm ơn quý vị.", "Xin kính chào quý vị."]
        );
        assert_eq!(
            said(&items),
            ["Chiều nắng.", "Giá lúa tăng.", "Sáng nay trời mưa."]
        );
        // Each part keeps its place and its audio; progress counts both passes.
        let counts: Vec<usize> = spoken.iter().map(|s| s.cues.len()).collect();
        assert_eq!(counts, [1, 2, 1, 1]);
        assert!(spoken.iter().all(|s| s.audio.iter().all(|a| !a.is_empty())));
        assert_eq!((stats.cues, stats.synthesized), (5, 5));
        assert_eq!(progress.0.lock().unwrap().last(), Some(&(5, 5)));
    }
}
