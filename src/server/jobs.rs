//! The render job runner: claims queued jobs from the store, at most
//! `jobs.concurrency` at a time, renders each on a blocking thread, stores
//! the WAV by content hash and marks the job done, failed (with the error)
//! or cancelled. Identical input + voice reuses cached audio without
//! rendering; otherwise each cue is looked up in the cue cache
//! ([`AppState::cache`]), so an edited article re-synthesizes only what changed. On shutdown it takes no new job, lets running ones finish
//! within the grace period, then stops the rest (their voice programs killed
//! with their process groups) and puts them back in the queue; jobs
//! interrupted by a crash are requeued when `serve` starts. On a platform
//! (PostgreSQL) the runner claims every station's jobs under a lease it
//! renews ([`Holder::Leased`]); a dead holder's jobs go to another worker. A cancelled job
//! stops the same way at once, whatever its voice program is doing.
//! A job with `check_requested` is heard back by the station's recognizer
//! before it is marked done ("checked, 2 cues flagged"); a recognizer that
//! fails leaves the render done and the check "unavailable" with the reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use super::error::ApiError;
use super::{AppState, routes};
use crate::audio::Pcm;
use crate::listen::{Baselines, Beside, CheckOutcome, Listener, ScriptCues};
use crate::pipeline::{self, RenderError};
use crate::script::Script;
use crate::script::format::Format;
use crate::settings::AudioSettings;
use crate::speak::{self, Progress, SpeakError};
use crate::store::{Event, Job, JobState, Store, sha256_hex};
use crate::tts::{Interrupt, Interruptible};

/// How often the runner looks for work it was not told about (jobs added
/// by another process sharing the database).
const POLL: Duration = Duration::from_secs(5);

/// Shared between the runner and the handlers: wake-ups for new jobs and the
/// cancel flags of running ones.
#[derive(Debug, Default)]
pub struct Queue {
    wake: Notify,
    running: Mutex<HashMap<i64, Running>>,
    /// Set when the shutdown grace is over: running renders stop and requeue.
    abort: AtomicBool,
}

impl Queue {
    /// Tells the runner a job was queued.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Stops a running job now: its voice programs are killed and it ends
    /// cancelled (the store records the request too).
    pub fn cancel(&self, id: i64) {
        if let Some(running) = self.running.lock().expect("never poisoned").get(&id) {
            running.cancel.store(true, Ordering::SeqCst);
            running.interrupt.stop();
        }
    }

    /// The grace is over: every running job stops now and goes back to the queue.
    fn abort_all(&self) {
        self.abort.store(true, Ordering::SeqCst);
        for running in self.running.lock().expect("never poisoned").values() {
            running.interrupt.stop();
        }
    }
}

/// A running job's cancel flag and the interrupt of its voice programs.
#[derive(Debug)]
struct Running {
    cancel: Arc<AtomicBool>,
    interrupt: Arc<Interrupt>,
}

/// The key of the audio a script renders to: every spoken part, every pause,
/// the voice's backend parameters and the output settings.
pub fn cache_key(
    script: &Script,
    voice: &str,
    fingerprint: &str,
    settings: &AudioSettings,
) -> String {
    let mut text = format!(
        "bantin-audio-v1\nvoice={voice}\nbackend={fingerprint}\nsettings={}\n",
        serde_json::to_string(settings).expect("settings serialize")
    );
    for cue in &script.cues {
        text.push_str(&cue.parts.join("\u{1f}"));
        text.push_str(&format!("\u{1e}{}\n", cue.pause_after.as_micros()));
    }
    sha256_hex(text.as_bytes())
}

/// Who holds the jobs a runner claims.
#[derive(Debug, Clone)]
pub enum Holder {
    /// The single-node runner of `serve` on SQLite: the station's jobs,
    /// held until they end or the process stops (then requeued when it
    /// starts again).
    Local,
    /// A platform worker (`bantin worker`, or a `serve` node on
    /// PostgreSQL): jobs of every station, held under a lease it renews
    /// while rendering; a worker that dies loses them when the lease runs
    /// out, and another takes them up.
    Leased { worker: Arc<str>, lease: Duration },
}

impl Holder {
    /// The holder `serve` uses for the engine of its store.
    pub fn for_serve(state: &AppState) -> Holder {
        match state.store.engine() {
            crate::store::Engine::Sqlite => Holder::Local,
            crate::store::Engine::Postgres => Holder::Leased {
                worker: worker_name("serve").into(),
                lease: state.config.jobs.lease,
            },
        }
    }

    fn worker(&self) -> Option<&str> {
        match self {
            Holder::Local => None,
            Holder::Leased { worker, .. } => Some(worker),
        }
    }
}

/// A name unique to this process: its role, host, process id and start.
pub fn worker_name(role: &str) -> String {
    format!(
        "{role}-{}-{}-{}",
        super::hostname(),
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    )
}

/// Runs jobs as `holder` until `stop` turns true (or its sender is gone).
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>, holder: Holder) {
    let permits = Arc::new(Semaphore::new(state.config.jobs.concurrency));
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        if *stop.borrow() {
            break;
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = stop.changed() => break,
        };
        let claimed = match &holder {
            Holder::Local => state.store.call(Store::claim_job).await,
            Holder::Leased { worker, lease } => {
                let (worker, lease) = (Arc::clone(worker), *lease);
                state
                    .store
                    .call(move |s| s.claim_next_job(&worker, lease))
                    .await
            }
        };
        match claimed {
            Ok(Some(job)) => {
                // The job renders with its own station's settings and rows.
                let station = job.station_id;
                match state.blocking(move |s| s.for_station(station)).await {
                    Ok(scoped) => {
                        tasks.spawn(run_job(scoped, job, permit, holder.clone()));
                    }
                    Err(e) => {
                        tracing::error!(job = job.id, station, error = %e, "cannot load the job's station");
                        let (id, error) = (job.id, e.to_string());
                        let worker = holder.worker().map(str::to_owned);
                        let store = state.store.for_station(station);
                        let _ = store
                            .call(move |s| match worker {
                                Some(w) => s.fail_job_by(id, &w, &error).map(drop),
                                None => s.fail_job(id, &error),
                            })
                            .await;
                        drop(permit);
                    }
                }
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    () = state.jobs.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => break,
                }
            }
            Err(e) => {
                drop(permit);
                tracing::error!(error = %e, "cannot claim a render job");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    if tasks.is_empty() {
        return;
    }
    let grace = state.config.jobs.shutdown_grace;
    tracing::info!(running = tasks.len(), ?grace, "waiting for running renders");
    let finished =
        tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::info!("grace period over: stopping renders and requeueing them");
        state.jobs.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// How a render ended, before it is written to the store.
enum Outcome {
    Done(String),
    Cancelled,
    Requeue,
    Failed(String),
}

async fn run_job(
    state: AppState,
    job: Job,
    _permit: tokio::sync::OwnedSemaphorePermit,
    holder: Holder,
) {
    let started = Instant::now();
    let flag = Arc::new(AtomicBool::new(job.cancel_requested));
    let interrupt = Interrupt::new();
    {
        let mut running = state.jobs.running.lock().expect("never poisoned");
        // Aborted between the claim and here: the job starts stopped.
        if state.jobs.abort.load(Ordering::SeqCst) {
            interrupt.stop();
        }
        running.insert(
            job.id,
            Running {
                cancel: flag.clone(),
                interrupt: interrupt.clone(),
            },
        );
    }
    tracing::info!(job = job.id, article = job.article_id, revision = job.revision, voice = %job.voice, "render started");
    let id = job.id;
    let told = serde_json::json!({
        "job": job.id,
        "article": job.article_id,
        "revision": job.revision,
        "voice": job.voice,
        "requested_by": job.requested_by,
    });
    let renewal = match &holder {
        Holder::Local => None,
        Holder::Leased { worker, lease } => Some(tokio::spawn(renew_while_rendering(
            state.store.clone(),
            id,
            Arc::clone(worker),
            *lease,
            Arc::clone(&interrupt),
        ))),
    };
    let worker = holder.worker().map(str::to_owned);
    let outcome = {
        let state = state.clone();
        let worker = worker.clone();
        tokio::task::spawn_blocking(move || {
            render_article(&state, &job, &flag, interrupt, worker.as_deref())
        })
        .await
        .unwrap_or_else(|e| Outcome::Failed(format!("the render panicked: {e}")))
    };
    if let Some(renewal) = renewal {
        renewal.abort();
    }
    state
        .jobs
        .running
        .lock()
        .expect("never poisoned")
        .remove(&id);
    let store = state.store.clone();
    let (state_after, result) = match (outcome, worker) {
        (Outcome::Done(key), None) => (
            JobState::Done,
            store.call(move |s| s.finish_job(id, &key)).await,
        ),
        (Outcome::Done(key), Some(w)) => (
            JobState::Done,
            store
                .call(move |s| held_by(id, s.finish_job_by(id, &w, &key)?))
                .await,
        ),
        (Outcome::Cancelled, None) => (
            JobState::Cancelled,
            store.call(move |s| s.mark_job_cancelled(id)).await,
        ),
        (Outcome::Cancelled, Some(w)) => (
            JobState::Cancelled,
            store
                .call(move |s| held_by(id, s.mark_job_cancelled_by(id, &w)?))
                .await,
        ),
        (Outcome::Requeue, None) => (
            JobState::Queued,
            store.call(move |s| s.requeue_job(id)).await,
        ),
        (Outcome::Requeue, Some(w)) => (
            JobState::Queued,
            store
                .call(move |s| held_by(id, s.requeue_job_by(id, &w)?))
                .await,
        ),
        (Outcome::Failed(error), worker) => {
            tracing::warn!(job = id, %error, "render failed");
            (
                JobState::Failed,
                store
                    .call(move |s| match worker {
                        None => s.fail_job(id, &error),
                        Some(w) => held_by(id, s.fail_job_by(id, &w, &error)?),
                    })
                    .await,
            )
        }
    };
    if let Err(e) = result {
        tracing::error!(job = id, error = %e, "cannot record the outcome of a render");
    } else {
        announce(&state, id, state_after, told).await;
    }
    if state_after != JobState::Queued {
        state.metrics.record_job(state_after, started.elapsed());
    }
    tracing::info!(job = id, state = state_after.as_str(), elapsed = ?started.elapsed(), "render ended");
}

/// `Ok` when the worker still held the job it wrote the result of.
fn held_by(id: i64, held: bool) -> Result<(), crate::store::StoreError> {
    if held {
        Ok(())
    } else {
        Err(crate::store::StoreError::Conflict(format!(
            "job {id} is no longer held by this worker (its lease ran out and another took it up); its result is not recorded"
        )))
    }
}

/// Renews the lease on job `id` every third of the lease while it renders;
/// a worker that lost it (another took the job up) stops the render.
async fn renew_while_rendering(
    store: Store,
    id: i64,
    worker: Arc<str>,
    lease: Duration,
    interrupt: Arc<Interrupt>,
) {
    let mut every = tokio::time::interval(lease / 3);
    every.tick().await;
    loop {
        every.tick().await;
        let worker = Arc::clone(&worker);
        match store.call(move |s| s.renew_lease(id, &worker, lease)).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = id, "lost the lease on the job: stopping its render");
                interrupt.stop();
                return;
            }
            // The database is away for a moment: the lease still runs.
            Err(e) => tracing::warn!(job = id, error = %e, "cannot renew the job's lease"),
        }
    }
}

/// Tells the webhooks how a render ended (once its outcome is recorded, so
/// a receiver that asks finds it): `render.done` with where its audio and
/// script are, or `render.failed` with the error.
async fn announce(state: &AppState, id: i64, ended: JobState, mut data: serde_json::Value) {
    let event = match ended {
        JobState::Done => Event::RenderDone,
        JobState::Failed => Event::RenderFailed,
        JobState::Queued | JobState::Running | JobState::Cancelled => return,
    };
    let outbox = state.outbox.clone();
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        if let Ok(job) = store.job(id) {
            data["cached"] = job.cached.into();
            data["error"] = job.error.into();
            data["check"] = job.check.map(|c| c.summary).into();
        }
        if event == Event::RenderDone {
            data["audio"] = format!("/api/jobs/{id}/audio").into();
            data["script"] = format!("/api/jobs/{id}/script").into();
        }
        outbox.emit(event, data);
    })
    .await;
    if let Err(e) = result {
        tracing::error!(job = id, error = %e, "cannot announce the end of a render");
    }
}

/// Reports progress to the store and answers cancellation: a cancel request
/// (in memory from the API, or in the store from another process) or the
/// shutdown abort.
struct JobProgress<'a> {
    state: &'a AppState,
    id: i64,
    worker: Option<&'a str>,
    flag: &'a AtomicBool,
    interrupt: &'a Interrupt,
}

impl Progress for JobProgress<'_> {
    fn cue_done(&self, done: usize, total: usize) {
        let recorded = match self.worker {
            None => self
                .state
                .store
                .set_job_progress(self.id, done as i64, total as i64),
            Some(worker) => self
                .state
                .store
                .set_job_progress_by(self.id, worker, done as i64, total as i64)
                .and_then(|held| held_by(self.id, held)),
        };
        if let Err(e) = recorded {
            tracing::warn!(job = self.id, error = %e, "cannot record progress");
        }
        if self
            .state
            .store
            .job_cancel_requested(self.id)
            .unwrap_or(false)
        {
            self.flag.store(true, Ordering::SeqCst);
            self.interrupt.stop();
        }
    }

    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst) || self.state.jobs.abort.load(Ordering::SeqCst)
    }
}

fn render_article(
    state: &AppState,
    job: &Job,
    flag: &AtomicBool,
    interrupt: Arc<Interrupt>,
    worker: Option<&str>,
) -> Outcome {
    match try_render(state, job, flag, interrupt, worker) {
        Ok(key) => Outcome::Done(key),
        // Whatever error a stopped render ends with (the killed program's,
        // or the pipeline's own), it was stopped, not at fault.
        Err(_) if flag.load(Ordering::SeqCst) => Outcome::Cancelled,
        Err(_) if state.jobs.abort.load(Ordering::SeqCst) => Outcome::Requeue,
        Err(JobError::Render(RenderError::Speak(SpeakError::Cancelled))) => Outcome::Requeue,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("cannot read the article: {0}")]
    Ingest(#[from] crate::ingest::IngestError),
    #[error("render failed: {0}")]
    Render(#[from] RenderError),
    #[error("cannot encode the WAV: {0}")]
    Wav(#[from] crate::audio::wav::WavError),
}

fn try_render(
    state: &AppState,
    job: &Job,
    flag: &AtomicBool,
    interrupt: Arc<Interrupt>,
    worker: Option<&str>,
) -> Result<String, JobError> {
    let voice = state.voice(Some(&job.voice))?;
    let synthesizer: Arc<dyn crate::tts::Synthesizer> = Arc::new(Interruptible::new(
        state.synthesizer_for(voice),
        Arc::clone(&interrupt),
    ));
    let settings = state.config.audio;
    let prepared = state.prepared(job.article_id, Some(job.revision), Some(&voice.name))?;
    let script = &prepared.script;
    let key = cache_key(script, &voice.name, &synthesizer.fingerprint(), &settings);
    if let Some(entry) = state.store.cached_audio(&key)? {
        if job.check_requested {
            check_stored(state, job, &entry);
        }
        return Ok(key);
    }
    let progress = JobProgress {
        state,
        id: job.id,
        worker,
        flag,
        interrupt: &interrupt,
    };
    progress.cue_done(0, script.cues.len());
    let options = speak::Options {
        cache: state.cache.as_ref(),
        ..speak::Options::default()
    };
    // The check hears each breath group as soon as it is spoken, beside
    // the synthesis of later ones.
    let listening = job.check_requested.then(|| {
        listener_for(state, &voice.name).map(|l| Beside::new(Arc::clone(&synthesizer), l))
    });
    let speaker: &dyn crate::tts::Synthesizer = match &listening {
        Some(Ok(beside)) => beside,
        _ => synthesizer.as_ref(),
    };
    // A billed voice: counted against its daily cap before any call, then
    // corrected to what the vendor really received.
    let reservation = routes::system::reserve(state, voice, script)?;
    let metered = crate::billing::Metered::new(speaker, voice);
    let rendered = pipeline::render_with(script, &metered, &settings, &options, &progress);
    if let Some(reservation) = &reservation {
        routes::system::settle(state, job.id, reservation, metered.billed_chars());
    }
    let rendered = rendered?;
    let now = jiff::ZonedDateTime::now().datetime();
    let wav = pipeline::broadcast_wav(&rendered, &settings, &state.config.station, now)?;
    state.store.save_audio(&crate::store::NewAudio {
        cache_key: &key,
        wav: &wav,
        duration_ms: rendered.pcm.duration().as_millis() as i64,
        loudness_lufs: rendered.loudness.integrated_lufs,
        true_peak_dbtp: rendered.loudness.true_peak_dbtp,
        script_json: &Format::Json.text(&rendered.script),
    })?;
    if let Some(listening) = listening {
        let outcome = match listening {
            Ok(beside) => CheckOutcome::of(beside.finish(&rendered.pcm, &rendered.script)),
            Err(reason) => CheckOutcome::Unavailable { reason },
        };
        record_check(state, job, &outcome);
    }
    Ok(key)
}

/// The station's listener judging `voice` against its baseline, or why
/// there is none.
fn listener_for(state: &AppState, voice: &str) -> Result<Listener, String> {
    let normalizer = state.normalizer().map_err(|e| e.to_string())?;
    let baselines = Baselines::load(&state.config.data_dir).map_err(|e| e.to_string())?;
    state
        .config
        .listen
        .listener((*normalizer).clone(), &baselines, voice)
        .map_err(|e| e.to_string())
}

/// Hears `audio` back with the station's recognizer, judged against
/// `voice`'s baseline. A recognizer that fails makes the check
/// unavailable, never the render.
fn listen_check(state: &AppState, voice: &str, audio: &Pcm, script: &ScriptCues) -> CheckOutcome {
    match listener_for(state, voice) {
        Ok(listener) => CheckOutcome::of(listener.check_render(audio, script)),
        Err(reason) => CheckOutcome::Unavailable { reason },
    }
}

/// Checks audio rendered before (the cache had it): the check made then
/// when there is one, else the stored WAV and script heard now.
fn check_stored(state: &AppState, job: &Job, entry: &crate::store::AudioEntry) {
    if let Ok(Some((check_state, flagged, summary, report))) =
        state.store.check_of_audio(&entry.cache_key)
    {
        if let Err(e) = state
            .store
            .set_job_check(job.id, &check_state, flagged, &summary, &report)
        {
            tracing::warn!(job = job.id, error = %e, "cannot record the listen check");
        }
        return;
    }
    let audio = state
        .store
        .audio_path(&entry.file_sha256)
        .ok_or_else(|| "the stored audio is missing".to_string())
        .and_then(|path| std::fs::read(path).map_err(|e| e.to_string()))
        .and_then(|bytes| crate::audio::wav::decode(&bytes).map_err(|e| e.to_string()));
    let script = ScriptCues::from_json(entry.script_json.as_bytes()).map_err(|e| e.to_string());
    let outcome = match (audio, script) {
        (Ok(audio), Ok(script)) => listen_check(state, &job.voice, &audio, &script),
        (Err(reason), _) | (_, Err(reason)) => CheckOutcome::Unavailable {
            reason: format!("cannot read the stored render: {reason}"),
        },
    };
    record_check(state, job, &outcome);
}

fn record_check(state: &AppState, job: &Job, outcome: &CheckOutcome) {
    let id = job.id;
    let check_state = match outcome {
        CheckOutcome::Checked(_) => "checked",
        CheckOutcome::Unavailable { reason } => {
            tracing::warn!(job = id, %reason, "listen check unavailable");
            "unavailable"
        }
    };
    let report = serde_json::to_string(outcome).expect("a check report serializes");
    if let Err(e) = state.store.set_job_check(
        id,
        check_state,
        outcome.flagged() as i64,
        &outcome.summary(),
        &report,
    ) {
        tracing::warn!(job = id, error = %e, "cannot record the listen check");
    }
    if outcome.flagged() > 0 {
        state.outbox.emit(
            Event::CheckFlagged,
            serde_json::json!({
                "job": id,
                "article": job.article_id,
                "revision": job.revision,
                "voice": job.voice,
                "flagged": outcome.flagged(),
                "summary": outcome.summary(),
                "review": format!("/api/jobs/{id}/check"),
            }),
        );
    }
}
