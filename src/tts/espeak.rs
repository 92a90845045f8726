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
        let backend = self.backend();
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
            ProcessError::Interrupted { .. } => SynthError::Interrupted { backend },
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
    /// Runs espeak-ng once on `input` (SSML when `ssml`), returns its WAV.
    /// The WAV comes through a pipe (`--stdout`): its header's sizes are
    /// placeholders, and the decoders take the data that is there.
    fn run(&self, input: &str, ssml: bool) -> Result<Vec<u8>, SynthError> {
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
        run(command, input.as_bytes(), self.timeout).map_err(|e| self.error(e))
    }

    fn backend(&self) -> String {
        format!("espeak-ng (voice {})", self.voice)
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

/// Cuts a batch's audio (a WAV) at every run of digital silence of at
/// least `cut`; `None` unless that gives `count` pieces, each with sound.
/// espeak-ng's own 16-bit audio is cut and converted piece by piece, never
/// converted whole first.
fn cut_at_breaks(
    wav: &[u8],
    count: usize,
    cut: Duration,
    backend: &str,
) -> Result<Option<Vec<Pcm>>, SynthError> {
    if let Some((rate, data)) = crate::audio::wav::mono_pcm16(wav)
        && (8_000..=192_000).contains(&rate)
    {
        let (frames, _) = data.as_chunks::<2>();
        let pieces = sound_between_breaks(frames, |f| *f == [0, 0], samples_for(rate, cut));
        return Ok((pieces.len() == count).then(|| {
            pieces
                .into_iter()
                .map(|piece| {
                    let samples = frames[piece]
                        .iter()
                        .map(|&f| f32::from(i16::from_le_bytes(f)) / 32_768.0)
                        .collect();
                    Pcm::new(rate, samples)
                })
                .collect()
        }));
    }
    let pcm = decode_answer(backend, wav, "a batch")?;
    let pieces = sound_between_breaks(
        &pcm.samples,
        |s| *s == 0.0,
        samples_for(pcm.sample_rate_hz, cut),
    );
    Ok((pieces.len() == count).then(|| {
        pieces
            .into_iter()
            .map(|piece| Pcm::new(pcm.sample_rate_hz, pcm.samples[piece].to_vec()))
            .collect()
    }))
}

/// The stretches of `samples` between runs of at least `min_run` silent
/// samples (at the very start and end, silence belongs to the stretch);
/// empty when some stretch would be silence only.
fn sound_between_breaks<T>(
    samples: &[T],
    silent: impl Fn(&T) -> bool,
    min_run: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut piece_start = 0;
    let mut i = 0;
    while i < samples.len() {
        if !silent(&samples[i]) {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < samples.len() && silent(&samples[i]) {
            i += 1;
        }
        if i - run_start >= min_run && run_start > piece_start && i < samples.len() {
            pieces.push(piece_start..run_start);
            piece_start = i;
        }
    }
    pieces.push(piece_start..samples.len());
    let all_sound = pieces
        .iter()
        .all(|p| samples[p.clone()].iter().any(|s| !silent(s)));
    if all_sound { pieces } else { Vec::new() }
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
        let wav = self.run(&crate::text::nfc(text), false)?;
        decode_answer(&self.backend(), &wav, text)
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
            Ok(wav) => match cut_at_breaks(&wav, spoken.len(), cut, &self.backend()) {
                Ok(pieces) => pieces,
                Err(e) => {
                    tracing::debug!("espeak-ng batch audio unusable, speaking one by one: {e}");
                    None
                }
            },
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
                backend: self.backend(),
                reason: format!(
                    "{} is not installed (Debian: apt-get install espeak-ng)",
                    self.program
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long `n` samples last at 8 kHz.
    fn samples_long(n: u64) -> Duration {
        Duration::from_micros(n * 125)
    }

    /// A 16-bit mono WAV of `samples` at 8 kHz, as espeak-ng writes it.
    fn wav16(samples: &[i16]) -> Vec<u8> {
        let pcm = Pcm::new(
            8_000,
            samples.iter().map(|&s| f32::from(s) / 32_768.0).collect(),
        );
        crate::audio::wav::encode(&pcm, crate::audio::wav::BitDepth::Sixteen).unwrap()
    }

    #[test]
    fn cuts_at_long_silences_only() {
        let mut samples = vec![0i16; 5]; // leading silence stays with the first piece
        samples.extend([100, 0, 0, -100]); // a short pause inside a text
        samples.extend([0; 10]); // a break
        samples.extend([200, 300]);
        samples.extend([0; 12]); // a break
        samples.extend([-5, 0, 0]); // trailing silence stays with the last piece
        let wav = wav16(&samples);
        let cut = samples_long(8);
        let pieces = cut_at_breaks(&wav, 3, cut, "test").unwrap().unwrap();
        let lengths: Vec<usize> = pieces.iter().map(|p| p.samples.len()).collect();
        assert_eq!(lengths, vec![9, 2, 3]);
        assert_eq!(pieces[1].samples, vec![200.0 / 32_768.0, 300.0 / 32_768.0]);
        assert_eq!(pieces[0].sample_rate_hz, 8_000);
        // Another count than the texts sent: no pieces, the caller speaks
        // text by text.
        assert!(cut_at_breaks(&wav, 2, cut, "test").unwrap().is_none());
        // A longer cut finds no break at 10 samples.
        let pieces = cut_at_breaks(&wav, 2, samples_long(11), "test").unwrap();
        assert_eq!(pieces.unwrap()[0].samples.len(), 9 + 10 + 2);
    }

    #[test]
    fn float_audio_is_cut_the_same_way() {
        let samples = [0.5f32, 0.0, 0.0, 0.0, 0.0, -0.5, 0.25];
        let mut wav = std::io::Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut writer = hound::WavWriter::new(&mut wav, spec).unwrap();
        for s in samples {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
        let wav = wav.into_inner();
        let pieces = cut_at_breaks(&wav, 2, samples_long(4), "test")
            .unwrap()
            .unwrap();
        assert_eq!(pieces[0].samples, vec![0.5]);
        assert_eq!(pieces[1].samples, vec![-0.5, 0.25]);
    }

    #[test]
    fn silence_alone_is_not_a_text() {
        let wav = wav16(&[0; 100]);
        for count in [1, 2] {
            assert!(
                cut_at_breaks(&wav, count, samples_long(10), "test")
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn garbage_is_an_error_naming_the_backend() {
        let err = cut_at_breaks(
            b"not a wav",
            2,
            Duration::from_millis(10),
            "espeak-ng (voice vi)",
        )
        .unwrap_err();
        assert!(err.to_string().contains("espeak-ng (voice vi)"), "{err}");
    }
}
