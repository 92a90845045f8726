//! Speaking cues: the one place where cues become audio, for article
//! renders and bulletins alike. Each breath group is looked up in the cue
//! cache, the missing ones are spoken in batches by a bounded set of
//! workers, and every breath group the backend speaks is trimmed and added
//! to the cache. Takes the cues, the backend and its options as arguments
//! and knows nothing of articles, programmes or files.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rayon::prelude::*;

use crate::audio::{self, Pcm, Segment};
use crate::cache::{Cache, Key};
use crate::script::Cue;
use crate::tts::{SynthError, Synthesizer};

/// Why cues gave no speech.
#[derive(Debug, thiserror::Error)]
pub enum SpeakError {
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
    #[error("cancelled")]
    Cancelled,
}

/// Where each cue's audio came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub cues: usize,
    /// Cues read from the cache.
    pub cached: usize,
    /// Cues the backend spoke.
    pub synthesized: usize,
}

/// Progress of speaking: cues done out of total.
pub trait Progress: Sync {
    /// Called once per finished cue (from the worker that finished it).
    fn cue_done(&self, done: usize, total: usize);
    /// Checked before each batch; true stops with [`SpeakError::Cancelled`].
    fn cancelled(&self) -> bool {
        false
    }
}

impl Progress for () {
    fn cue_done(&self, _: usize, _: usize) {}
}

/// How speaking may use the machine.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Cue audio cache; `None` synthesizes every cue.
    pub cache: Option<&'a Cache>,
    /// Upper bound on backend calls at once (the backend's own bound also applies).
    pub max_parallel: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            cache: None,
            max_parallel: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
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
    rate_hz: u32,
    breath_gap: Duration,
    options: &Options<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Pcm>, Stats), SpeakError> {
    let (speech, stats) = speak_breath_groups(cues, synthesizer, options, progress)?;
    let mut segments = segments(cues, speech, breath_gap);
    for segment in &mut segments {
        segment.pause_after = Duration::ZERO;
    }
    let items: Vec<(&Segment, &Cue)> = segments.iter().zip(cues).collect();
    let out = map_in_runs(&items, options.max_parallel, |&(segment, cue)| {
        audio::mix(std::slice::from_ref(segment), rate_hz, 1)
            .map(|program| program.pcm)
            .map_err(|e| SpeakError::Resample {
                cue: cue.id,
                source: e.source,
            })
    })
    .into_iter()
    .collect::<Result<Vec<Pcm>, SpeakError>>()?;
    Ok((out, stats))
}

/// Each cue as a programme segment: its breath groups (at the backend's
/// rate) with `breath_gap` between them, then the cue's own pause.
pub fn segments(cues: &[Cue], speech: Vec<Vec<Pcm>>, breath_gap: Duration) -> Vec<Segment> {
    speech
        .into_iter()
        .zip(cues)
        .map(|(parts, cue)| Segment {
            parts,
            gap: breath_gap,
            pause_after: cue.pause_after,
        })
        .collect()
}

/// The speech of each cue, in the order given, one [`Pcm`] per breath
/// group at the backend's own rate (the caller converts it into place,
/// [`audio::mix`]): the one place where cues become audio, for
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
/// [`SpeakError::Synth`] naming the cue by its id,
/// [`SpeakError::Cancelled`].
pub fn speak_breath_groups(
    cues: &[Cue],
    synthesizer: &dyn Synthesizer,
    options: &Options<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Vec<Pcm>>, Stats), SpeakError> {
    let total = cues.len();
    if total == 0 {
        return Ok((Vec::new(), Stats::default()));
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
    let spoken: Vec<Mutex<Option<Result<Pcm, SpeakError>>>> =
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
                    return Err(SpeakError::Cancelled);
                }
            }
        }
    }
    if stop.load(Ordering::Relaxed) {
        // Every unspoken breath group is explained by a failure or a cancel above.
        return Err(SpeakError::Cancelled);
    }
    Ok((
        out,
        Stats {
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
    options: &Options<'_>,
) -> Vec<Option<Result<Pcm, SpeakError>>> {
    let Some(cache) = options.cache else {
        return groups.iter().map(|_| None).collect();
    };
    map_in_runs(groups, options.max_parallel, |g| cache.get(&g.key).map(Ok))
}

/// `f` of every item, in order, the items split into one run of neighbours
/// per task (up to `runs`), so no more than `runs` run at once.
fn map_in_runs<T: Sync, R: Send>(items: &[T], runs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let per_run = items.len().div_ceil(runs.max(1)).max(1);
    items
        .par_chunks(per_run)
        .flat_map_iter(|run| run.iter().map(&f))
        .collect()
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
) -> Vec<Result<Pcm, SpeakError>> {
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
            let mut pcm = answer.map_err(|source| SpeakError::Synth {
                cue: group.cue_id,
                text: group.text.clone(),
                source,
            })?;
            audio::trim_silence_in_place(&mut pcm.samples);
            Ok(pcm)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
