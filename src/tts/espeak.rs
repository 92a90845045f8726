//! espeak-ng through its command-line program: text on stdin (`--stdin`, so
//! the whole text is one utterance), WAV back on stdout (`--stdout`).
//! Running it as a separate program keeps its GPL-3 code out of bantin's
//! binary.
//!
//! Starting espeak-ng costs about as much as speaking a sentence (it loads
//! its phoneme tables and the Vietnamese dictionary each time), so a batch
//! of texts is spoken by one program run: the texts joined by long SSML
//! breaks, the audio cut back apart at those silences. When the cut does
//! not give one piece per text, each text is spoken on its own instead.

use std::process::Command;
use std::time::Duration;

use crate::audio::samples_for;

use serde::{Deserialize, Serialize};

use super::{ProcessError, SynthError, Synthesizer, decode_answer, run};
use crate::audio::Pcm;

/// espeak-ng voice parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Espeak {
    /// espeak-ng voice: `vi`, `vi-vn-x-central`, `vi-vn-x-south`.
    pub voice: String,
    /// Words per minute (`-s`), espeak's default is 175.
    #[serde(default = "default_speed")]
    pub speed_wpm: u32,
    /// Pitch 0–99 (`-p`).
    #[serde(default = "default_pitch")]
    pub pitch: u32,
    /// Program to run.
    #[serde(default = "default_program")]
    pub program: String,
    #[serde(default = "default_timeout", with = "crate::voice::seconds")]
    pub timeout: Duration,
}

fn default_speed() -> u32 {
    175
}
fn default_pitch() -> u32 {
    50
}
fn default_program() -> String {
    "espeak-ng".into()
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl Espeak {
    pub fn new(voice: &str) -> Self {
        Self {
            voice: voice.into(),
            speed_wpm: default_speed(),
            pitch: default_pitch(),
            program: default_program(),
            timeout: default_timeout(),
        }
    }

    fn error(&self, e: ProcessError) -> SynthError {
        let backend = format!("espeak-ng (voice {})", self.voice);
        match e {
            ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                SynthError::Unavailable {
                    backend,
                    reason: format!(
                        "{} is not installed (Debian: apt-get install espeak-ng)",
                        self.program
                    ),
                }
            }
            ProcessError::Timeout { timeout, .. } => SynthError::Timeout { backend, timeout },
            e => SynthError::Failed {
                backend,
                reason: e.to_string(),
            },
        }
    }
}

/// The sample rate of espeak-ng's own voices (MBROLA voices differ, and
/// say so in the WAV they write).
const ESPEAK_RATE_HZ: u32 = 22_050;

/// The silence asked for between the texts of a batch at espeak-ng's
/// default rate and faster, and the shortest run of digital silence taken
/// for one. espeak-ng's own pauses at that rate stay under 0.6 s (a
/// paragraph's; a clause's is about 0.3 s); its breaks keep their length up
/// to about 400 words per minute and shrink beyond (a batch that then does
/// not cut into one piece per text is spoken text by text).
const BATCH_BREAK: Duration = Duration::from_millis(1_200);
const BATCH_CUT: Duration = Duration::from_millis(800);

/// The break and the cut for speaking at `speed_wpm`: slower speech
/// stretches espeak-ng's own pauses more than in proportion (a paragraph's
/// reaches 1.6 s at 80 words per minute), so both grow with the slowdown
/// to the power 1.5.
fn batch_silences(speed_wpm: u32) -> (Duration, Duration) {
    let slowdown = (175.0 / f64::from(speed_wpm.max(1))).max(1.0).powf(1.5);
    (BATCH_BREAK.mul_f64(slowdown), BATCH_CUT.mul_f64(slowdown))
}

impl Espeak {
    /// Runs espeak-ng once on `input` (SSML when `ssml`), returns its audio.
    /// The WAV comes through a pipe (`--stdout`): its header's sizes are
    /// placeholders, and the decoder takes the data that is there.
    fn run(&self, input: &str, ssml: bool) -> Result<Pcm, SynthError> {
        let backend = format!("espeak-ng (voice {})", self.voice);
        let mut command = Command::new(&self.program);
        command.args([
            "-v",
            &self.voice,
            "-s",
            &self.speed_wpm.to_string(),
            "-p",
            &self.pitch.to_string(),
        ]);
        if ssml {
            command.arg("-m");
        }
        command.args(["--stdin", "--stdout"]);
        let bytes = run(command, input.as_bytes(), self.timeout).map_err(|e| self.error(e))?;
        decode_answer(&backend, &bytes, input)
    }
}

/// Text for SSML: the three characters markup gives a meaning.
fn escape_ssml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts a batch's audio at every run of digital silence of at least
/// `cut`; `None` unless that gives `count` pieces, each with sound.
fn cut_at_breaks(pcm: &Pcm, count: usize, cut: Duration) -> Option<Vec<Pcm>> {
    let min_run = samples_for(pcm.sample_rate_hz, cut);
    let samples = &pcm.samples;
    let mut pieces = Vec::with_capacity(count);
    let mut piece_start = 0;
    let mut i = 0;
    while i < samples.len() {
        if samples[i] != 0.0 {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < samples.len() && samples[i] == 0.0 {
            i += 1;
        }
        if i - run_start >= min_run && run_start > piece_start && i < samples.len() {
            pieces.push(Pcm::new(
                pcm.sample_rate_hz,
                samples[piece_start..run_start].to_vec(),
            ));
            piece_start = i;
        }
    }
    pieces.push(Pcm::new(
        pcm.sample_rate_hz,
        samples[piece_start..].to_vec(),
    ));
    let all_sound = pieces.iter().all(|p| p.samples.iter().any(|&s| s != 0.0));
    (pieces.len() == count && all_sound).then_some(pieces)
}

impl Synthesizer for Espeak {
    fn fingerprint(&self) -> String {
        format!(
            "espeak-ng voice={} speed={} pitch={}",
            self.voice, self.speed_wpm, self.pitch
        )
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        if text.trim().is_empty() {
            // Nothing to say: espeak-ng would write nothing at all to its pipe.
            return Ok(Pcm::new(ESPEAK_RATE_HZ, Vec::new()));
        }
        // espeak-ng loses tones on decomposed text: always NFC.
        self.run(&crate::text::nfc(text), false)
    }

    fn synthesize_batch(&self, texts: &[&str]) -> Result<Vec<Pcm>, SynthError> {
        let spoken: Vec<usize> = (0..texts.len())
            .filter(|&i| !texts[i].trim().is_empty())
            .collect();
        if spoken.len() < 2 {
            return texts.iter().map(|t| self.synthesize(t)).collect();
        }
        let (pause, cut) = batch_silences(self.speed_wpm);
        let separator = format!("<break time=\"{}ms\"/>", pause.as_millis());
        let ssml = format!(
            "<speak>{}</speak>",
            spoken
                .iter()
                .map(|&i| escape_ssml(&crate::text::nfc(texts[i])))
                .collect::<Vec<_>>()
                .join(&separator)
        );
        let pieces = match self.run(&ssml, true) {
            Ok(pcm) => cut_at_breaks(&pcm, spoken.len(), cut),
            // Spoken one by one below, so the error names the text at fault.
            Err(e) => {
                tracing::debug!("espeak-ng batch failed, speaking one by one: {e}");
                None
            }
        };
        let Some(pieces) = pieces else {
            tracing::debug!("espeak-ng batch did not cut into {} pieces", spoken.len());
            return texts.iter().map(|t| self.synthesize(t)).collect();
        };
        let mut out: Vec<Pcm> = texts
            .iter()
            .map(|_| Pcm::new(pieces[0].sample_rate_hz, Vec::new()))
            .collect();
        for (i, piece) in spoken.into_iter().zip(pieces) {
            out[i] = piece;
        }
        Ok(out)
    }

    fn batch_size(&self) -> usize {
        // Enough to speak an article in a run or two per core; small enough
        // that progress moves and a cancel is heard within a second.
        32
    }

    fn max_parallel(&self) -> usize {
        // One short-lived process per call: as many as there are cores.
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    fn check(&self) -> Result<(), SynthError> {
        if super::process::installed(&self.program) {
            Ok(())
        } else {
            Err(SynthError::Unavailable {
                backend: format!("espeak-ng (voice {})", self.voice),
                reason: format!(
                    "{} is not installed (Debian: apt-get install espeak-ng)",
                    self.program
                ),
            })
        }
    }
}
