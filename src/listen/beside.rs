//! The listen check beside synthesis: a [`Synthesizer`] wrapper hands each
//! breath group it speaks to a thread that transcribes the spoken groups in
//! batches while later ones are still being synthesized. When the render is
//! done, [`Beside::finish`] judges each cue from its groups' transcripts;
//! groups that came from the cue cache (never spoken here) are heard from
//! the finished render instead.
//!
//! Knows nothing of rendering: the caller wraps its synthesizer, renders
//! with it, and hands the rendered audio and script back.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::check::{CheckReport, Clip, Listener};
use super::recognizer::RecognizeError;
use super::{ListenError, ScriptCues};
use crate::audio::Pcm;
use crate::script::Script;
use crate::tts::{SynthError, Synthesizer};

/// How long the transcribing thread waits for more groups before it
/// looks at what it holds.
const GATHER: Duration = Duration::from_millis(300);
/// Speech gathered before a recognizer run: each run of a program
/// recognizer loads its model (about 1.2 s for `vietasr`), so groups are
/// heard some tens of seconds at a time rather than one by one.
const BATCH_SPEECH: Duration = Duration::from_secs(30);

/// A synthesizer whose output is also heard back by a listener.
pub struct Beside {
    inner: Arc<dyn Synthesizer>,
    spoken: Mutex<Option<Sender<(String, Pcm)>>>,
    heard: Option<JoinHandle<Heard>>,
    listener: Arc<Listener>,
}

/// What the transcribing thread heard, by breath group text.
type Heard = Result<HashMap<String, String>, RecognizeError>;

impl Beside {
    /// Wraps `inner`; the thread transcribing with `listener` starts now.
    pub fn new(inner: Arc<dyn Synthesizer>, listener: Listener) -> Beside {
        let listener = Arc::new(listener);
        let (tx, rx) = channel();
        let heard = {
            let listener = Arc::clone(&listener);
            std::thread::spawn(move || transcribe_as_spoken(&listener, &rx))
        };
        Beside {
            inner,
            spoken: Mutex::new(Some(tx)),
            heard: Some(heard),
            listener,
        }
    }

    fn hand_over(&self, text: &str, pcm: &Pcm) {
        if let Some(tx) = self.spoken.lock().expect("never poisoned").as_ref() {
            // The thread is gone only after a recognizer error, which
            // `finish` reports.
            let _ = tx.send((text.to_string(), pcm.clone()));
        }
    }

    /// Judges each cue of the rendered `script` (measured times in `audio`)
    /// from what was heard while it was spoken; cues with a group that was
    /// not spoken here are cut from `audio` and heard now.
    ///
    /// # Errors
    /// The recognizer failed, or the script does not fit the audio.
    pub fn finish(mut self, audio: &Pcm, script: &Script) -> Result<CheckReport, ListenError> {
        self.spoken.lock().expect("never poisoned").take();
        let heard = self
            .heard
            .take()
            .expect("finish runs once")
            .join()
            .unwrap_or_else(|_| {
                Err(RecognizeError::Failed {
                    name: "listen check".into(),
                    reason: "the transcribing thread panicked".into(),
                })
            })?;
        let cues = ScriptCues::from(script);
        let missing: Vec<usize> = script
            .cues
            .iter()
            .enumerate()
            .filter(|(_, cue)| cue.parts.iter().any(|p| !heard.contains_key(p)))
            .map(|(index, _)| index)
            .collect();
        let mut late: HashMap<usize, String> = HashMap::new();
        if !missing.is_empty() {
            let clips = cues.clips(audio)?;
            let audio: Vec<Pcm> = missing.iter().map(|&i| clips[i].audio.clone()).collect();
            let transcripts = self.listener.transcribe(&audio)?;
            late.extend(missing.iter().copied().zip(transcripts));
        }
        let checked = script
            .cues
            .iter()
            .enumerate()
            .map(|(index, cue)| {
                let text = late.remove(&index).unwrap_or_else(|| {
                    cue.parts
                        .iter()
                        .filter_map(|p| heard.get(p).map(String::as_str))
                        .filter(|h| !h.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                let clip = Clip {
                    id: cue.id,
                    spoken: cue.spoken.clone(),
                    audio: Pcm::new(audio.sample_rate_hz, Vec::new()),
                };
                self.listener.judge(&clip, text)
            })
            .collect();
        Ok(self.listener.report(checked))
    }
}

/// Receives spoken groups until the sender is dropped, transcribing what
/// has gathered once it holds [`BATCH_SPEECH`] and none arrived for
/// [`GATHER`], and the rest at the end.
fn transcribe_as_spoken(listener: &Listener, rx: &Receiver<(String, Pcm)>) -> Heard {
    let mut heard = HashMap::new();
    let mut pending: Vec<(String, Pcm)> = Vec::new();
    loop {
        let closed = match rx.recv_timeout(GATHER) {
            Ok(group) => {
                if !heard.contains_key(&group.0) && !pending.iter().any(|p| p.0 == group.0) {
                    pending.push(group);
                }
                continue;
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        let gathered: Duration = pending.iter().map(|p| p.1.duration()).sum();
        if !pending.is_empty() && (closed || gathered >= BATCH_SPEECH) {
            let audio: Vec<Pcm> = pending.iter().map(|p| p.1.clone()).collect();
            let transcripts = listener.transcribe(&audio)?;
            for ((text, _), transcript) in pending.drain(..).zip(transcripts) {
                heard.insert(text, transcript);
            }
        }
        if closed {
            return Ok(heard);
        }
    }
}

impl Synthesizer for Beside {
    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        let pcm = self.inner.synthesize(text)?;
        self.hand_over(text, &pcm);
        Ok(pcm)
    }

    fn synthesize_batch(&self, texts: &[&str]) -> Result<Vec<Pcm>, SynthError> {
        let spoken = self.inner.synthesize_batch(texts)?;
        for (text, pcm) in texts.iter().zip(&spoken) {
            self.hand_over(text, pcm);
        }
        Ok(spoken)
    }

    fn check(&self) -> Result<(), SynthError> {
        self.inner.check()
    }

    fn batch_size(&self) -> usize {
        self.inner.batch_size()
    }

    fn max_parallel(&self) -> usize {
        self.inner.max_parallel()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;
    use crate::settings::AudioSettings;
    use crate::speak::Options;
    use crate::tts::Fake;
    use crate::voice::Voices;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Hears "một" in every clip and counts the clips it was given.
    #[derive(Default)]
    struct Counting(Arc<AtomicUsize>);

    impl super::super::Recognizer for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        fn transcribe(&self, clips: &[Pcm]) -> Result<Vec<String>, RecognizeError> {
            self.0.fetch_add(clips.len(), Ordering::SeqCst);
            Ok(vec!["một".to_string(); clips.len()])
        }
    }

    fn script() -> Script {
        let voices = Voices::builtin();
        let text = "Tin sáng\n\nSáng nay tại hội trường lớn của thành phố, các đại biểu đến từ \
                    nhiều xã phường đã cùng nhau thảo luận rất sôi nổi về kế hoạch phát triển \
                    kinh tế, văn hóa, giáo dục và y tế trong năm tới, đồng thời đề xuất nhiều \
                    giải pháp thiết thực để nâng cao đời sống vật chất và tinh thần của nhân dân \
                    trên địa bàn. Hết.\n";
        crate::pipeline::prepare(
            text.as_bytes(),
            Some("a.txt"),
            &Normalizer::builtin().unwrap(),
            voices.get("vi").unwrap(),
            &AudioSettings::default(),
        )
        .unwrap()
        .1
    }

    fn listener(count: &Arc<AtomicUsize>) -> Listener {
        Listener::new(
            Box::new(Counting(Arc::clone(count))),
            Normalizer::builtin().unwrap(),
        )
    }

    #[test]
    fn groups_are_heard_as_spoken_and_cached_ones_from_the_render() {
        let script = script();
        let groups: usize = script.cues.iter().map(|c| c.parts.len()).sum();
        assert!(groups > script.cues.len(), "a cue of several breath groups");
        let settings = AudioSettings::default();
        let fake: Arc<dyn Synthesizer> = Arc::new(Fake::default());

        // Spoken here: every group heard once, each cue judged from its
        // groups' transcripts joined.
        let count = Arc::new(AtomicUsize::new(0));
        let beside = Beside::new(Arc::clone(&fake), listener(&count));
        let dir = tempfile::tempdir().unwrap();
        let cache = crate::cache::Cache::open(dir.path()).unwrap();
        let options = Options {
            cache: Some(&cache),
            ..Options::default()
        };
        let rendered =
            crate::pipeline::render_with(&script, &beside, &settings, &options, &()).unwrap();
        let report = beside.finish(&rendered.pcm, &rendered.script).unwrap();
        assert_eq!(count.load(Ordering::SeqCst), groups);
        assert_eq!(report.cues.len(), script.cues.len());
        for (cue, checked) in script.cues.iter().zip(&report.cues) {
            assert_eq!(checked.heard, vec!["một"; cue.parts.len()].join(" "));
        }

        // From the cache: nothing is spoken, each cue is cut from the render.
        let count = Arc::new(AtomicUsize::new(0));
        let beside = Beside::new(Arc::clone(&fake), listener(&count));
        let rendered =
            crate::pipeline::render_with(&script, &beside, &settings, &options, &()).unwrap();
        let report = beside.finish(&rendered.pcm, &rendered.script).unwrap();
        assert_eq!(count.load(Ordering::SeqCst), script.cues.len());
        assert!(report.cues.iter().all(|c| c.heard == "một"));
    }
}
