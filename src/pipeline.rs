//! Chains the stages the way the CLI and the service use them: bytes to a
//! timed script (`prepare`, or `prepare_within` the article limits), a script to levelled audio with measured times
//! (`render`), the speech of cues (`speak_cues`: synthesized in parallel up
//! to a bound, each looked up in and added to the cue cache; article renders
//! and bulletins both speak through it). Files are written by
//! [`crate::output`] (re-exported here for the callers that write renders).
//!
//! Preparing a script is linear in the article (each stage is); rendering is
//! linear in the cues and the audio.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audio::{self, LoudnessReport, LoudnessTarget, Pcm, Segment, wav::BitDepth};
use crate::cache::{Cache, Key};
use crate::ingest::{self, Article, IngestError};
use crate::limits::{LimitError, Limits};
use crate::normalize::Normalizer;
use crate::script::{self, Cue, Pauses, Script, Timing};
use crate::tts::{SynthError, Synthesizer};
use crate::voice::Voice;

pub use crate::output::{write_atomic, write_atomic_with};

/// Output audio settings (station settings).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSettings {
    pub sample_rate_hz: u32,
    pub bit_depth: BitDepth,
    pub loudness: LoudnessTarget,
    pub pauses: Pauses,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            sample_rate_hz: 48_000,
            bit_depth: BitDepth::Sixteen,
            loudness: LoudnessTarget::default(),
            pauses: Pauses::default(),
        }
    }
}

/// Timing parameters of a voice under the station's pause settings.
pub fn timing(voice: &Voice, settings: &AudioSettings) -> Timing {
    Timing {
        syllables_per_minute: voice.syllables_per_minute,
        breath_group_syllables: voice.breath_group_syllables,
        pauses: settings.pauses,
    }
}

/// Reads an upload and builds its estimated script, without limits (for
/// articles already checked, and for tests and benchmarks).
///
/// # Errors
/// [`IngestError`] for input that is not an article.
pub fn prepare(
    bytes: &[u8],
    name: Option<&str>,
    normalizer: &Normalizer,
    voice: &Voice,
    settings: &AudioSettings,
) -> Result<(Article, Script), IngestError> {
    let article = ingest::read(bytes, name)?;
    let normalizer = voice.normalizer(normalizer);
    let script = script::build(&article, &normalizer, &voice.name, &timing(voice, settings));
    Ok((article, script))
}

/// Why [`prepare_within`] or [`prepare_until`] gave no script.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// `cancelled` answered true between two sentences.
    #[error("cancelled")]
    Cancelled,
}

/// How an article is read into a script: the normalizer (with the station
/// lexicon), the voice, the audio settings its timing follows and the limits
/// the article must keep.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub normalizer: &'a Normalizer,
    pub voice: &'a Voice,
    pub settings: &'a AudioSettings,
    pub limits: &'a Limits,
}

/// Reads an upload within the reading's limits and builds its estimated
/// script: the entry point of the CLI's `script` and `render`.
///
/// # Errors
/// [`PrepareError::Ingest`] for input that is not an article,
/// [`PrepareError::Limit`] for an article beyond a limit.
pub fn prepare_within(
    bytes: &[u8],
    name: Option<&str>,
    reading: &Reading,
) -> Result<(Article, Script), PrepareError> {
    prepare_until(bytes, name, reading, &|| false)
}

/// [`prepare_within`] that asks `cancelled` before each sentence and stops
/// as soon as it answers true (the service stops the work of a request that
/// is gone).
///
/// # Errors
/// [`PrepareError::Ingest`], [`PrepareError::Limit`],
/// [`PrepareError::Cancelled`].
pub fn prepare_until(
    bytes: &[u8],
    name: Option<&str>,
    reading: &Reading,
    cancelled: &dyn Fn() -> bool,
) -> Result<(Article, Script), PrepareError> {
    let Reading {
        normalizer,
        voice,
        settings,
        limits,
    } = *reading;
    let article = ingest::read(bytes, name)?;
    limits.check(&article)?;
    if cancelled() {
        return Err(PrepareError::Cancelled);
    }
    let normalizer = voice.normalizer(normalizer);
    let timing = timing(voice, settings);
    let script = script::build_until(&article, &normalizer, &voice.name, &timing, cancelled)
        .ok_or(PrepareError::Cancelled)?;
    Ok((article, script))
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cue {cue} ({text:?}): {source}")]
    Synth {
        cue: usize,
        text: String,
        source: SynthError,
    },
    #[error("cue {cue}: {source}")]
    Resample {
        cue: usize,
        source: audio::ResampleError,
    },
    #[error(transparent)]
    Loudness(#[from] audio::LoudnessError),
    #[error("the script has no cue to speak")]
    Empty,
    #[error(transparent)]
    Wav(#[from] audio::wav::WavError),
    #[error("cancelled")]
    Cancelled,
}

/// Levelled programme audio and its script with measured times.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pcm: Pcm,
    /// Every loudness figure of the levelled programme.
    pub loudness: LoudnessReport,
    pub script: Script,
    pub stats: RenderStats,
}

/// Where each cue's audio came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderStats {
    pub cues: usize,
    /// Cues read from the cache.
    pub cached: usize,
    /// Cues the backend spoke.
    pub synthesized: usize,
}

/// Progress of a render: cues done out of total.
pub trait Progress: Sync {
    /// Called once per finished cue (from the worker that finished it).
    fn cue_done(&self, done: usize, total: usize);
    /// Checked before each cue; true stops the render with [`RenderError::Cancelled`].
    fn cancelled(&self) -> bool {
        false
    }
}

impl Progress for () {
    fn cue_done(&self, _: usize, _: usize) {}
}

/// How a render may use the machine.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Cue audio cache; `None` synthesizes every cue.
    pub cache: Option<&'a Cache>,
    /// Upper bound on backend calls at once (the backend's own bound also applies).
    pub max_parallel: usize,
}

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        Self {
            cache: None,
            max_parallel: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// [`render_with`] without a cache, as parallel as the machine and backend allow.
///
/// # Errors
/// [`RenderError`] naming the cue whose synthesis failed.
pub fn render(
    script: &Script,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    progress: &dyn Progress,
) -> Result<Rendered, RenderError> {
    render_with(
        script,
        synthesizer,
        settings,
        &RenderOptions::default(),
        progress,
    )
}

/// Synthesizes every breath group of every cue (cached ones are read back
/// instead), converts them straight into their places in the programme with
/// the script's pauses between, levels the whole to the loudness target and
/// measures where each cue landed. The first failing
/// cue (in script order) fails the render; nothing of it reaches the cache.
///
/// # Errors
/// [`RenderError`] naming the cue whose synthesis failed.
pub fn render_with(
    script: &Script,
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &RenderOptions<'_>,
    progress: &dyn Progress,
) -> Result<Rendered, RenderError> {
    if script.cues.is_empty() {
        return Err(RenderError::Empty);
    }
    let started = std::time::Instant::now();
    let (speech, stats) = speak_breath_groups(&script.cues, synthesizer, options, progress)?;
    let spoken = started.elapsed();
    let segments = cue_segments(&script.cues, speech, settings);
    let mut program = audio::assemble(&segments, settings.sample_rate_hz, options.max_parallel)
        .map_err(|e| RenderError::Resample {
            cue: script.cues[e.segment].id,
            source: e.source,
        })?;
    // The speech at the backend's rate is in the programme now.
    drop(segments);
    let assembled = started.elapsed();
    let loudness = audio::level(&mut program.pcm, settings.loudness)?;
    tracing::debug!(
        spoken_ms = millis(spoken),
        assembled_ms = millis(assembled - spoken),
        levelled_ms = millis(started.elapsed() - assembled),
        "rendered"
    );
    let mut script = script.clone();
    script.apply_measured(&program.placements, program.pcm.duration());
    Ok(Rendered {
        pcm: program.pcm,
        loudness,
        script,
        stats,
    })
}

/// The speech of each cue, in the order given, at the output rate: its
/// breath groups ([`speak_breath_groups`]) joined by the breath pause, the
/// cues converted on up to `options.max_parallel` threads.
///
/// # Errors
/// As [`speak_breath_groups`].
pub fn speak_cues(
    cues: &[Cue],
    synthesizer: &dyn Synthesizer,
    settings: &AudioSettings,
    options: &RenderOptions<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Pcm>, RenderStats), RenderError> {
    let (speech, stats) = speak_breath_groups(cues, synthesizer, options, progress)?;
    let mut segments = cue_segments(cues, speech, settings);
    for segment in &mut segments {
        segment.pause_after = Duration::ZERO;
    }
    let rate = settings.sample_rate_hz;
    let items: Vec<(&Segment, &Cue)> = segments.iter().zip(cues).collect();
    let out = map_on_threads(&items, options.max_parallel, |&(segment, cue)| {
        audio::assemble(std::slice::from_ref(segment), rate, 1)
            .map(|program| program.pcm)
            .map_err(|e| RenderError::Resample {
                cue: cue.id,
                source: e.source,
            })
    })
    .into_iter()
    .collect::<Result<Vec<Pcm>, RenderError>>()?;
    Ok((out, stats))
}

/// Each cue as a programme segment: its breath groups (at the backend's
/// rate) with the breath pause between them, then the cue's own pause.
fn cue_segments(cues: &[Cue], speech: Vec<Vec<Pcm>>, settings: &AudioSettings) -> Vec<Segment> {
    speech
        .into_iter()
        .zip(cues)
        .map(|(parts, cue)| Segment {
            parts,
            gap: settings.pauses.between_breath_groups,
            pause_after: cue.pause_after,
        })
        .collect()
}

/// The speech of each cue, in the order given, one [`Pcm`] per breath
/// group at the backend's own rate (the caller converts it into place,
/// [`audio::assemble`]): the one place where cues become audio, for
/// article renders and bulletins alike.
///
/// The unit of work is the breath group: each is looked up in
/// `options.cache` (so editing one sentence re-speaks only its breath
/// groups), and the missing ones are spoken in batches
/// ([`Synthesizer::synthesize_batch`]: one espeak-ng run for many) by up to
/// `options.max_parallel` workers within the backend's own bound, each batch
/// as long as the others so the workers finish together. Every breath group
/// the backend speaks is trimmed of the backend's own silence and added to
/// the cache.
/// Progress counts finished cues out of `cues.len()`; `progress.cancelled()`
/// is checked before each batch. The first failing cue in the given order
/// fails the whole: later breath groups may have been spoken (and cached),
/// but no partial result is returned.
///
/// # Errors
/// [`RenderError::Synth`] naming the cue by its id,
/// [`RenderError::Cancelled`].
pub fn speak_breath_groups(
    cues: &[Cue],
    synthesizer: &dyn Synthesizer,
    options: &RenderOptions<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Vec<Pcm>>, RenderStats), RenderError> {
    let total = cues.len();
    if total == 0 {
        return Ok((Vec::new(), RenderStats::default()));
    }
    let fingerprint = synthesizer.fingerprint();
    let fingerprint = fingerprint.as_str();
    // Every breath group of every cue, in script order.
    let groups: Vec<BreathGroup<'_>> = cues
        .iter()
        .enumerate()
        .flat_map(|(cue, c)| {
            c.parts.iter().map(move |text| BreathGroup {
                cue,
                cue_id: c.id,
                text,
                key: Key::new(fingerprint, text),
            })
        })
        .collect();
    let mut speech = look_up(&groups, options);
    let mut remaining = vec![0usize; total];
    for (group, found) in groups.iter().zip(&speech) {
        if found.is_none() {
            remaining[group.cue] += 1;
        }
    }
    let cached = remaining.iter().filter(|&&n| n == 0).count();
    let missing: Vec<usize> = (0..groups.len()).filter(|&i| speech[i].is_none()).collect();
    let workers = options.max_parallel.min(synthesizer.max_parallel()).max(1);
    let batches = batches(&missing, &groups, workers, synthesizer.batch_size());

    // Cues wholly from the cache are done before any speaking starts.
    let done = AtomicUsize::new(cached);
    if cached > 0 {
        progress.cue_done(cached, total);
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let cancelled = AtomicBool::new(false);
    let remaining: Vec<AtomicUsize> = remaining.into_iter().map(AtomicUsize::new).collect();
    let spoken: Vec<Mutex<Option<Result<Pcm, RenderError>>>> =
        (0..groups.len()).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(batches.len()) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if progress.cancelled() {
                        cancelled.store(true, Ordering::Relaxed);
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    let Some(batch) = batches.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let results = speak_batch(batch, &groups, synthesizer);
                    for (&index, result) in batch.iter().zip(results) {
                        let group = &groups[index];
                        let failed = result.is_err();
                        if let (Ok(pcm), Some(cache)) = (&result, options.cache)
                            && let Err(e) = cache.put(&group.key, pcm)
                        {
                            // A cache that cannot be written costs speed, not output.
                            tracing::warn!("{e}");
                        }
                        *spoken[index].lock().expect("no worker panics holding it") = Some(result);
                        if failed {
                            stop.store(true, Ordering::Relaxed);
                        } else if remaining[group.cue].fetch_sub(1, Ordering::AcqRel) == 1 {
                            progress.cue_done(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                        }
                    }
                }
            });
        }
    });
    for (slot, result) in speech.iter_mut().zip(spoken) {
        if let Some(result) = result.into_inner().expect("no worker panicked") {
            *slot = Some(result);
        }
    }
    // Each cue's breath groups; the first failure in script order wins.
    let mut out: Vec<Vec<Pcm>> = cues
        .iter()
        .map(|c| Vec::with_capacity(c.parts.len()))
        .collect();
    for (group, result) in groups.iter().zip(speech) {
        match result {
            Some(Ok(pcm)) => out[group.cue].push(pcm),
            Some(Err(e)) => return Err(e),
            // Not spoken: a worker stopped because of a failure or a cancel.
            None => {
                if cancelled.load(Ordering::Relaxed) {
                    return Err(RenderError::Cancelled);
                }
            }
        }
    }
    if stop.load(Ordering::Relaxed) {
        // Every unspoken breath group is explained by a failure or a cancel above.
        return Err(RenderError::Cancelled);
    }
    Ok((
        out,
        RenderStats {
            cues: total,
            cached,
            synthesized: total - cached,
        },
    ))
}

/// Each breath group's audio from the cache, read on as many threads as
/// the render may use (`None` where there is none).
fn look_up(
    groups: &[BreathGroup<'_>],
    options: &RenderOptions<'_>,
) -> Vec<Option<Result<Pcm, RenderError>>> {
    let Some(cache) = options.cache else {
        return groups.iter().map(|_| None).collect();
    };
    map_on_threads(groups, options.max_parallel, |g| cache.get(&g.key).map(Ok))
}

/// `f` of every item, in order, the items split into one run of neighbours
/// per thread (up to `threads`).
fn map_on_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let per_thread = items.len().div_ceil(threads.max(1)).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let runs: Vec<_> = items
            .chunks(per_thread)
            .map(|run| scope.spawn(move || run.iter().map(f).collect::<Vec<R>>()))
            .collect();
        runs.into_iter()
            .flat_map(|r| r.join().expect("a worker does not panic"))
            .collect()
    })
}

/// One breath group of a cue and its cache key.
struct BreathGroup<'a> {
    /// Index of its cue in the list being spoken…
    cue: usize,
    /// …and that cue's id, for errors.
    cue_id: usize,
    text: &'a String,
    key: Key,
}

/// Splits the breath groups to speak (indices into `groups`, in script
/// order) into runs of neighbours: at least one per worker, none longer than
/// the backend's batch size, of about equal length in characters so the
/// workers finish together.
fn batches(
    missing: &[usize],
    groups: &[BreathGroup<'_>],
    workers: usize,
    batch_size: usize,
) -> Vec<Vec<usize>> {
    if missing.is_empty() {
        return Vec::new();
    }
    let count = workers
        .max(missing.len().div_ceil(batch_size.max(1)))
        .min(missing.len());
    let weight = |i: usize| groups[i].text.chars().count().max(1);
    let total: usize = missing.iter().map(|&i| weight(i)).sum();
    let mut out: Vec<Vec<usize>> = Vec::with_capacity(count);
    let mut current = Vec::new();
    // Text in the groups taken so far, in units of 1/count characters.
    let mut filled = 0;
    for &index in missing {
        let w = weight(index) * count;
        // Batch k ends at the group boundary nearest to k + 1 shares of the
        // text: before this group when that is nearer than after it.
        let end = total * (out.len() + 1);
        if !current.is_empty()
            && filled < end
            && filled + w > end
            && end - filled < filled + w - end
        {
            out.push(std::mem::take(&mut current));
        }
        current.push(index);
        filled += w;
        if current.len() >= batch_size.max(1) || filled >= total * (out.len() + 1) {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Speaks one batch of breath groups, each trimmed of the backend's
/// silence. A batch the backend fails is spoken again group by group, so
/// the error names the breath group at fault and the groups before it
/// still count.
fn speak_batch(
    batch: &[usize],
    groups: &[BreathGroup<'_>],
    synthesizer: &dyn Synthesizer,
) -> Vec<Result<Pcm, RenderError>> {
    let texts: Vec<&str> = batch.iter().map(|&i| groups[i].text.as_str()).collect();
    let answers = match synthesizer.synthesize_batch(&texts) {
        Ok(pcms) if pcms.len() == texts.len() => pcms.into_iter().map(Ok).collect(),
        _ if texts.len() > 1 => texts.iter().map(|t| synthesizer.synthesize(t)).collect(),
        Ok(_) => vec![Err(SynthError::BadAudio {
            backend: synthesizer.fingerprint(),
            reason: "no audio for the text".into(),
        })],
        Err(e) => vec![Err(e)],
    };
    batch
        .iter()
        .zip(answers)
        .map(|(&index, answer)| {
            let group = &groups[index];
            let mut pcm = answer.map_err(|source| RenderError::Synth {
                cue: group.cue_id,
                text: group.text.clone(),
                source,
            })?;
            audio::trim_silence_in_place(&mut pcm.samples);
            Ok(pcm)
        })
        .collect()
}

/// The rendered audio as Broadcast WAV in memory (see [`bext`]).
///
/// # Errors
/// [`RenderError::Wav`] when the audio is too long for a WAV file.
pub fn broadcast_wav(
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> Result<Vec<u8>, RenderError> {
    let bext = bext(rendered, settings, originator, at);
    Ok(audio::wav::encode_bwf(
        &rendered.pcm,
        settings.bit_depth,
        &bext,
    )?)
}

/// Writes the rendered audio as Broadcast WAV (see [`bext`]) to `path`
/// atomically, converting samples as it writes ([`write_atomic_with`]):
/// no second copy of the programme is made in memory.
///
/// # Errors
/// [`RenderError::Wav`] naming the path.
pub fn write_broadcast_wav(
    path: &Path,
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> Result<(), RenderError> {
    let bext = bext(rendered, settings, originator, at);
    audio::wav::check_bwf(&rendered.pcm, settings.bit_depth)?;
    crate::output::write_with(path, |out| {
        audio::wav::write_bwf(&rendered.pcm, settings.bit_depth, &bext, out)
    })
    .map_err(|source| {
        RenderError::Wav(audio::wav::WavError::Write {
            path: path.display().to_string(),
            source,
        })
    })
}

/// The `bext` chunk of a render ([`audio::wav::Bext::of`]): the title,
/// the originator, the voice as reference, the origination date and time
/// `at`, and the loudness of the final samples.
pub fn bext(
    rendered: &Rendered,
    settings: &AudioSettings,
    originator: &str,
    at: jiff::civil::DateTime,
) -> audio::wav::Bext {
    let voice = &rendered.script.voice;
    audio::wav::Bext::of(
        &audio::wav::Origin {
            title: &rendered.script.title,
            originator,
            reference: &format!("bantin {voice}"),
            at,
            software: &format!("bantin {} voice {voice}", env!("CARGO_PKG_VERSION")),
        },
        &rendered.loudness,
        rendered.pcm.sample_rate_hz,
        settings.bit_depth,
    )
}

/// A duration in whole milliseconds, for logs.
pub fn millis(d: Duration) -> u128 {
    d.as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::Fake;
    use crate::voice::Voices;

    #[test]
    fn renders_with_measured_times_at_the_target_loudness() {
        let voices = Voices::builtin();
        let voice = voices.get("vi").unwrap();
        let settings = AudioSettings::default();
        let normalizer = Normalizer::builtin().unwrap();
        let text =
            "Tin vắn\n\nSáng nay, trời mưa to. Chiều 23/7 trời nắng.\n\nĐoạn hai có một câu.";
        let (_, script) = prepare(text.as_bytes(), None, &normalizer, voice, &settings).unwrap();
        let rendered = render(&script, &Fake::default(), &settings, &()).unwrap();
        assert!(rendered.script.measured);
        assert_eq!(rendered.pcm.sample_rate_hz, 48_000);
        assert!(
            (rendered.loudness.integrated_lufs + 23.0).abs() < 0.2,
            "{:?}",
            rendered.loudness
        );
        let last = rendered.script.cues.last().unwrap();
        assert_eq!(last.end, rendered.pcm.duration());
        let starts: Vec<_> = rendered.script.cues.iter().map(|c| c.start).collect();
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn batches_cover_every_group_in_order_and_share_the_work() {
        let texts: Vec<String> = (0..40).map(|i| "chữ ".repeat(1 + i % 7)).collect();
        let groups: Vec<BreathGroup<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| BreathGroup {
                cue: i / 3,
                cue_id: i / 3,
                text,
                key: Key::new("f", text),
            })
            .collect();
        let missing: Vec<usize> = (0..40).filter(|i| i % 5 != 0).collect();
        for (workers, size) in [(1, 1), (2, 32), (2, 5), (4, 3), (8, 100)] {
            let out = batches(&missing, &groups, workers, size);
            assert_eq!(out.concat(), missing, "workers {workers}, size {size}");
            assert!(out.iter().all(|b| !b.is_empty() && b.len() <= size));
            assert!(out.len() >= workers.min(missing.len()) - 1, "{out:?}");
        }
        assert_eq!(batches(&missing, &groups, 2, 32).len(), 2);
        assert!(batches(&[], &groups, 2, 32).is_empty());
        // Two workers: the split lands at the group boundary nearest to
        // half, here before the long group rather than after it.
        let texts: Vec<String> = [10, 10, 10, 100, 10].map(|n| "a".repeat(n)).to_vec();
        let groups: Vec<BreathGroup<'_>> = texts
            .iter()
            .map(|text| BreathGroup {
                cue: 0,
                cue_id: 0,
                text,
                key: Key::new("f", text),
            })
            .collect();
        assert_eq!(
            batches(&[0, 1, 2, 3, 4], &groups, 2, 32),
            vec![vec![0, 1, 2], vec![3, 4]]
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wav");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_atomic_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wav");
        write_atomic(&path, b"old").unwrap();
        let failed = write_atomic_with(&path, |out| {
            out.write_all(&[7; 300_000])?;
            Err(std::io::Error::other("the encoder gave up"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "the encoder gave up");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn atomic_writes_get_the_permissions_of_a_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let umask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wav");
        write_atomic(&path, b"for playout").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask);
    }
}
