//! The newsroom HTTP service: uploads, revisions, review, scripts, render
//! jobs, audio, the station lexicon and voices, behind bearer tokens.
//!
//! Owns routing, auth, limits, errors as JSON, metrics, the OpenAPI document,
//! prepared scripts with their cache and request pool ([`prepared`]) and the
//! render job runner ([`jobs`]). Everything persistent goes through
//! [`Store`]; the pipeline does the work. `serve` is handed a bound listener
//! and a shutdown future (the caller decides the address and the signal).
//!
//! Adding routes: write `routes/<area>.rs` with a `router() -> Router<AppState>`
//! and handlers annotated with `#[utoipa::path]`, merge it in [`app`] and list
//! the handlers and schemas in [`ApiDoc`]. Handlers take [`Reader`] or
//! [`Editor`] (or [`Approver`], [`Admin`]) to require a token, return `Result<_, ApiError>`, and run store
//! work through [`AppState::blocking`]; a revision's script comes from
//! [`AppState::prepared`] (blocking) or [`AppState::answer`] (a request's
//! representation), never from the pipeline directly.

mod auth;
pub mod bulletin;
mod error;
pub mod jobs;
mod metrics;
pub mod prepared;
mod routes;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

pub use auth::{Admin, Approver, Editor, PlatformAdmin, Reader, STATION_HEADER, StationState};
pub use error::{ApiError, ErrorBody};
pub use metrics::Metrics;
pub use routes::stations::create_station;

use crate::cache::Cache;
use crate::config::Config;
use crate::normalize::Normalizer;
use crate::store::{DEFAULT_STATION, StationId, Store};
use crate::tts::Synthesizer;
use crate::voice::{Voice, Voices};
use prepared::Preparer;

/// What every handler and the job runner share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub voices: Arc<Voices>,
    /// Replaces every voice's own backend (tests use `tts::Fake`).
    pub synthesizer: Option<Arc<dyn Synthesizer>>,
    pub metrics: Arc<Metrics>,
    pub jobs: Arc<jobs::Queue>,
    /// The bulletin settings and scheduler, or why there are none.
    pub bulletins: Result<Arc<bulletin::Bulletins>, Arc<str>>,
    /// Cue audio cache in `DATA/cache` for renders and bulletins; `None`
    /// when it cannot be opened (then every cue is synthesized).
    pub cache: Option<Cache>,
    /// Stored revisions to scripts: the cache and the request pool.
    pub preparer: Arc<Preparer>,
    /// Webhook events, sent by the dispatcher `serve` runs.
    pub outbox: crate::hooks::Outbox,
    /// The install's own settings (the default station's) and the parts of
    /// every other station served so far.
    platform: Arc<Platform>,
}

/// What the state of every station is made from, and the parts of the
/// stations other than the default one, built on their first request and
/// rebuilt when their settings change.
struct Platform {
    config: Arc<Config>,
    stations: std::sync::Mutex<HashMap<StationId, StationParts>>,
}

/// A station's own parts of [`AppState`].
#[derive(Clone)]
struct StationParts {
    /// The station row these parts were built from (slug, name, settings).
    built_from: (String, String, String),
    store: Store,
    config: Arc<Config>,
    preparer: Arc<Preparer>,
    bulletins: Result<Arc<bulletin::Bulletins>, Arc<str>>,
    outbox: crate::hooks::Outbox,
}

impl AppState {
    /// # Errors
    /// A shipped lexicon that fails validation (a unit test guards it).
    pub fn new(
        store: Store,
        config: Config,
        voices: Voices,
    ) -> Result<AppState, crate::normalize::LexiconError> {
        let cache = Cache::open(&crate::cache::folder_in(&config.data_dir))
            .map(|c| c.with_max_bytes(config.cache.max_bytes))
            .inspect_err(|e| tracing::error!("renders run without the cue cache: {e}"))
            .ok();
        let voices = Arc::new(voices);
        let metrics = Arc::new(Metrics::default());
        let preparer = Arc::new(Preparer::new(
            store.clone(),
            Arc::clone(&voices),
            config.default_voice.clone(),
            config.audio,
            &config.limits,
            Arc::clone(&metrics.prepare),
        )?);
        let outbox = crate::hooks::Outbox::new(store.clone(), &config.station);
        let config = Arc::new(config);
        let mut state = AppState {
            store,
            platform: Arc::new(Platform {
                config: Arc::clone(&config),
                stations: std::sync::Mutex::new(HashMap::new()),
            }),
            config,
            voices,
            synthesizer: None,
            metrics,
            jobs: Arc::new(jobs::Queue::default()),
            bulletins: Err("not configured".into()),
            cache,
            preparer,
            outbox,
        };
        state.bulletins = state.make_bulletins();
        Ok(state)
    }

    /// Uses `synthesizer` for every voice (tests, or a station-wide backend).
    pub fn with_synthesizer(mut self, synthesizer: Arc<dyn Synthesizer>) -> AppState {
        self.synthesizer = Some(synthesizer);
        self.bulletins = self.make_bulletins();
        self
    }

    /// The state of `station`: its store, settings, prepared scripts,
    /// bulletins and webhooks. The default station's is the install's.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for a station that does not exist; a station
    /// whose settings do not load is [`ApiError::Unprocessable`] naming why.
    pub fn for_station(&self, station: StationId) -> Result<AppState, ApiError> {
        if station == self.store.station() {
            return Ok(self.clone());
        }
        let mut state = self.clone();
        if station == DEFAULT_STATION {
            let parts = self.default_parts();
            state.apply(parts);
            return Ok(state);
        }
        let row = self.store.station_by_id(station)?;
        let built_from = (row.slug.clone(), row.name.clone(), row.settings.clone());
        let known = self
            .platform
            .stations
            .lock()
            .expect("never poisoned")
            .get(&station)
            .filter(|parts| parts.built_from == built_from)
            .cloned();
        let parts = match known {
            Some(parts) => parts,
            None => {
                let config = self
                    .platform
                    .config
                    .for_station(&row.slug, &row.name, &row.settings)
                    .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
                let parts =
                    self.build_parts(built_from, self.store.for_station(station), config)?;
                self.platform
                    .stations
                    .lock()
                    .expect("never poisoned")
                    .insert(station, parts.clone());
                parts
            }
        };
        state.apply(parts);
        Ok(state)
    }

    /// The default station's parts, when this state is another station's.
    fn default_parts(&self) -> StationParts {
        let config = Arc::clone(&self.platform.config);
        self.build_parts(
            Default::default(),
            self.store.for_station(DEFAULT_STATION),
            (*config).clone(),
        )
        .expect("the install's settings were built once already")
    }

    fn build_parts(
        &self,
        built_from: (String, String, String),
        store: Store,
        config: Config,
    ) -> Result<StationParts, ApiError> {
        let preparer = Arc::new(
            Preparer::new(
                store.clone(),
                Arc::clone(&self.voices),
                config.default_voice.clone(),
                config.audio,
                &config.limits,
                Arc::clone(&self.metrics.prepare),
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        let outbox = self.outbox.for_station(store.clone(), &config.station);
        let mut parts = StationParts {
            built_from,
            store,
            config: Arc::new(config),
            preparer,
            bulletins: Err("not configured".into()),
            outbox,
        };
        let mut scratch = self.clone();
        scratch.apply(parts.clone());
        parts.bulletins = scratch.make_bulletins();
        Ok(parts)
    }

    fn apply(&mut self, parts: StationParts) {
        self.store = parts.store;
        self.config = parts.config;
        self.preparer = parts.preparer;
        self.bulletins = parts.bulletins;
        self.outbox = parts.outbox;
    }

    fn make_bulletins(&self) -> Result<Arc<bulletin::Bulletins>, Arc<str>> {
        let config = self.config.bulletin().map_err(|e| {
            tracing::error!("bulletins are off: {e}");
            Arc::<str>::from(format!("bulletins are not configured: {e}"))
        })?;
        if self.config.bulletin.is_none()
            && let Err(e) = std::fs::create_dir_all(&config.drop_folder)
        {
            // The built-in drop folder is ours to make; a configured one is
            // the playout system's, and a missing one fails each run visibly.
            tracing::error!(folder = %config.drop_folder.display(), "cannot create the drop folder: {e}");
        }
        let job = bulletin::BulletinJob {
            store: self.store.clone(),
            config: Arc::new(config),
            voices: Arc::clone(&self.voices),
            synthesizer: self.synthesizer.clone(),
            settings: self.config.audio,
            article_limits: self.config.limits.article,
            cache: self.cache.clone(),
            outbox: Some(self.outbox.clone()),
        };
        Ok(Arc::new(bulletin::Bulletins::new(
            job,
            Arc::new(crate::bulletin::schedule::SystemClock),
        )))
    }

    /// The bulletin settings and scheduler.
    ///
    /// # Errors
    /// [`ApiError::Conflict`] saying why bulletins are off.
    pub fn bulletins(&self) -> Result<&Arc<bulletin::Bulletins>, ApiError> {
        self.bulletins
            .as_ref()
            .map_err(|e| ApiError::Conflict(e.to_string()))
    }

    /// The normalizer with the station lexicon as it is now: rebuilt when the
    /// lexicon version changed (also when another process changed it).
    ///
    /// # Errors
    /// Store errors.
    pub fn normalizer(&self) -> Result<Arc<Normalizer>, ApiError> {
        Ok(self.preparer.normalizer()?.1)
    }

    /// A voice by name, or the station default.
    ///
    /// # Errors
    /// [`ApiError::Unprocessable`] for an unknown voice.
    pub fn voice(&self, name: Option<&str>) -> Result<&Voice, ApiError> {
        self.preparer.voice(name)
    }

    /// The one way the service turns a stored revision into its prepared
    /// script for `voice` (the station default when `None`): from the
    /// prepared-script cache, or prepared on the calling thread (renders,
    /// estimates: blocking, never cancelled).
    ///
    /// # Errors
    /// 404 for an unknown article or revision, 422 for an unknown voice or
    /// an unreadable article, store errors.
    pub fn prepared(
        &self,
        article: i64,
        revision: Option<i64>,
        voice: Option<&str>,
    ) -> Result<Arc<prepared::Prepared>, ApiError> {
        self.preparer.prepare_blocking(article, revision, voice)
    }

    /// [`AppState::prepared`] for a request, as the answer `representation`
    /// makes of it, prepared on the bounded request pool (see
    /// [`prepared::Preparer::answer`]).
    ///
    /// # Errors
    /// [`ApiError::Busy`] when the pool is full; as [`AppState::prepared`].
    pub async fn answer(
        &self,
        article: i64,
        revision: Option<i64>,
        voice: Option<String>,
        representation: prepared::Representation,
    ) -> Result<(prepared::Key, prepared::Answer), ApiError> {
        self.preparer
            .answer(article, revision, voice, representation)
            .await
    }

    /// The backend that speaks `voice`.
    pub fn synthesizer_for(&self, voice: &Voice) -> Arc<dyn Synthesizer> {
        self.synthesizer
            .clone()
            .unwrap_or_else(|| voice.synthesizer())
    }

    /// Runs blocking work (SQL, the pipeline) off the async runtime.
    ///
    /// # Errors
    /// Whatever `f` returns; [`ApiError::Internal`] if it panicked.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| ApiError::Internal(format!("task failed: {e}")))?
    }
}

/// The OpenAPI document, generated from the handlers and types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "bantin",
        description = "Vietnamese news articles to broadcast-ready speech: the newsroom API."
    ),
    paths(
        routes::articles::create,
        routes::articles::list,
        routes::articles::show,
        routes::articles::revise,
        routes::articles::source,
        routes::articles::review,
        routes::articles::script,
        routes::articles::delete,
        routes::bulletins::approve,
        routes::bulletins::show,
        routes::bulletins::build,
        routes::bulletins::audio,
        routes::bulletins::script,
        routes::bulletins::manifest,
        routes::feeds::feed,
        routes::feeds::enclosure,
        routes::jobs::render,
        routes::jobs::list_for_article,
        routes::jobs::show,
        routes::jobs::cancel,
        routes::jobs::article_audio,
        routes::jobs::job_audio,
        routes::jobs::job_script,
        routes::jobs::job_check,
        routes::lexicon::list,
        routes::lexicon::add,
        routes::lexicon::remove,
        routes::lexicon::remove_by_key,
        routes::system::voices,
        routes::system::station,
        routes::system::healthz,
        routes::system::metrics,
        routes::approval::approve,
        routes::approval::approval,
        routes::approval::changes,
        routes::audit::list,
        routes::people::me,
        routes::people::list,
        routes::people::create,
        routes::people::revoke,
        routes::webhooks::list,
        routes::webhooks::add,
        routes::webhooks::remove,
        routes::webhooks::deliveries,
        routes::webhooks::retry,
        routes::stations::list,
        routes::stations::create,
    ),
    components(schemas(
        ErrorBody,
        routes::bulletins::Approval,
        routes::bulletins::BulletinView,
        routes::webhooks::NewWebhook,
        routes::webhooks::CreatedWebhook,
        routes::stations::NewStation,
        routes::stations::CreatedStation,
        crate::store::Station,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "articles", description = "Uploads, revisions, review and scripts"),
        (name = "jobs", description = "Render jobs and audio"),
        (name = "bulletins", description = "Daily bulletins: approval, runs, delivered files"),
        (name = "lexicon", description = "Station lexicon entries"),
        (name = "system", description = "Voices, health, metrics"),
        (name = "platform", description = "Stations of a platform (platform tokens)"),
        (name = "workflow", description = "Roles, approval for air, changes, the audit trail"),
        (name = "webhooks", description = "Webhooks: registered URLs and their deliveries"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// Request ids: a process-unique counter, returned in `x-request-id` and
/// attached to every log line of the request.
#[derive(Clone, Default)]
struct CountingRequestId(Arc<AtomicU64>);

impl MakeRequestId for CountingRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{n:08x}").parse().ok().map(RequestId::new)
    }
}

/// The service: every area's router merged, with limits, request ids,
/// tracing and metrics around it.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let limits = &state.config.limits;
    Router::new()
        .merge(routes::articles::router())
        .merge(routes::bulletins::router())
        .merge(routes::feeds::router())
        .merge(routes::jobs::router())
        .merge(routes::lexicon::router())
        .merge(routes::system::router())
        .merge(routes::approval::router())
        .merge(routes::audit::router())
        .merge(routes::people::router())
        .merge(routes::webhooks::router())
        .merge(routes::stations::router())
        .merge(crate::web::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id, method = %request.method(), uri = %request.uri())
            }),
        )
        .layer(SetRequestIdLayer::new(
            request_id,
            CountingRequestId::default(),
        ))
        // Outermost: also the 408 of the timeout and the 413 of the body
        // limit get a JSON body.
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state)
}

/// Serves `app(state)` on `listener` and runs render jobs until `shutdown`
/// resolves; then stops taking requests, lets running renders finish within
/// `jobs.shutdown_grace` and requeues the rest.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let requeued = state
        .store
        .call(|s| s.requeue_interrupted_jobs())
        .await
        .map_err(std::io::Error::other)?;
    if requeued > 0 {
        tracing::info!(
            requeued,
            "requeued render jobs interrupted by the last stop"
        );
    }
    let scheduler = Some(tokio::spawn(run_schedulers(state.clone(), stopped.clone())));
    let dispatcher = tokio::spawn(crate::hooks::dispatch(
        state.outbox.clone(),
        state.config.webhooks.clone(),
        stopped.clone(),
    ));
    // On PostgreSQL a rendering serve node is one of the platform's
    // workers: registered, counted on /metrics, holding jobs under leases.
    let holder = jobs::Holder::for_serve(&state);
    let registered = match (&holder, state.config.jobs.serve_renders) {
        (jobs::Holder::Leased { worker, lease }, true) => Some((
            Arc::clone(worker),
            register_worker(&state, Arc::clone(worker), *lease, stopped.clone())
                .await
                .map_err(std::io::Error::other)?,
        )),
        _ => None,
    };
    let runner = state
        .config
        .jobs
        .serve_renders
        .then(|| tokio::spawn(jobs::run(state.clone(), stopped, holder)));
    let store = state.store.clone();
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown({
            let stop = stop.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: no new requests");
                let _ = stop.send(true);
            }
        })
        .await;
    // Also when the listener failed: the runner must stop either way.
    let _ = stop.send(true);
    if let Some(runner) = runner
        && let Err(e) = runner.await
    {
        tracing::error!(error = %e, "the job runner failed");
    }
    if let Some((name, heart)) = registered {
        heart.abort();
        if let Err(e) = store.call(move |s| s.forget_worker(&name)).await {
            tracing::error!(error = %e, "cannot leave the worker registry");
        }
    }
    if let Err(e) = dispatcher.await {
        tracing::error!(error = %e, "the webhook dispatcher failed");
    }
    if let Some(scheduler) = scheduler
        && let Err(e) = scheduler.await
    {
        tracing::error!(error = %e, "the bulletin scheduler failed");
    }
    served
}

/// How often `serve` looks for stations made or changed since it started.
const STATION_POLL: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs the bulletin scheduler of every station until `stopped`: the
/// stations there are when it starts, each new one from when it is seen
/// (looked for every [`STATION_POLL`]), and a station's again with its new
/// settings when they change. Every serve node and worker runs them; the
/// run log's claims let one process build each scheduled bulletin.
async fn run_schedulers(state: AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    type Running = (
        (String, String, String),
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    );
    let mut running: HashMap<StationId, Running> = HashMap::new();
    loop {
        match state.store.call(|s| s.stations()).await {
            Ok(stations) => {
                for station in stations {
                    let built_from = (station.slug, station.name, station.settings);
                    if running.get(&station.id).is_some_and(|r| r.0 == built_from) {
                        continue;
                    }
                    if let Some((_, stop, handle)) = running.remove(&station.id) {
                        let _ = stop.send(true);
                        let _ = handle.await;
                    }
                    let id = station.id;
                    let bulletins = match state.blocking(move |s| s.for_station(id)).await {
                        Ok(scoped) => scoped.bulletins,
                        Err(e) => Err(Arc::from(e.to_string())),
                    };
                    let bulletins = match bulletins {
                        Ok(bulletins) => bulletins,
                        Err(e) => {
                            tracing::warn!(station = %built_from.0, "no bulletin schedule: {e}");
                            continue;
                        }
                    };
                    let (stop, mut own) = tokio::sync::watch::channel(false);
                    let mut all = stopped.clone();
                    let handle = tokio::spawn(Arc::clone(&bulletins.scheduler).run(async move {
                        tokio::select! {
                            _ = own.wait_for(|stop| *stop) => {}
                            _ = all.wait_for(|stop| *stop) => {}
                        }
                    }));
                    running.insert(id, (built_from, stop, handle));
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list the stations for their bulletins"),
        }
        tokio::select! {
            () = tokio::time::sleep(STATION_POLL) => {}
            _ = stopped.wait_for(|stop| *stop) => break,
        }
    }
    for (_, (_, stop, handle)) in running {
        let _ = stop.send(true);
        let _ = handle.await;
    }
}

/// Runs a platform worker until `shutdown` resolves: registers it (the
/// worker count on /metrics), claims render jobs of every station under a
/// lease it renews and the scheduled bulletins no other process has taken,
/// beats while it lives; on `shutdown` it takes no new job,
/// finishes what it holds within `jobs.shutdown_grace` (the rest go back to
/// the queue) and leaves the registry.
///
/// # Errors
/// Store errors when registering.
pub async fn work(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), crate::store::StoreError> {
    let name: Arc<str> = jobs::worker_name("worker").into();
    let lease = state.config.jobs.lease;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let heart = register_worker(&state, Arc::clone(&name), lease, stopped.clone()).await?;
    tracing::info!(worker = %name, ?lease, "worker started");
    // Workers build scheduled bulletins too: the run log's claims give
    // each to one process, a worker or a serve node.
    let schedules = tokio::spawn(run_schedulers(state.clone(), stopped.clone()));
    let runner = tokio::spawn(jobs::run(
        state.clone(),
        stopped,
        jobs::Holder::Leased {
            worker: Arc::clone(&name),
            lease,
        },
    ));
    shutdown.await;
    tracing::info!(worker = %name, "draining: no new jobs; finishing the ones held");
    {
        let name = Arc::clone(&name);
        let _ = state
            .store
            .call(move |s| s.set_worker_draining(&name, true))
            .await;
    }
    let _ = stop.send(true);
    if let Err(e) = runner.await {
        tracing::error!(error = %e, "the job runner failed");
    }
    if let Err(e) = schedules.await {
        tracing::error!(error = %e, "the bulletin schedules failed");
    }
    heart.abort();
    let gone = Arc::clone(&name);
    state.store.call(move |s| s.forget_worker(&gone)).await?;
    tracing::info!(worker = %name, "worker stopped");
    Ok(())
}

/// Registers this process as the render worker `name` (the worker count on
/// /metrics) and beats for it every third of `lease` until `stopped`.
///
/// # Errors
/// Store errors when registering.
async fn register_worker(
    state: &AppState,
    name: Arc<str>,
    lease: std::time::Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, crate::store::StoreError> {
    {
        let (name, host) = (Arc::clone(&name), hostname());
        state
            .store
            .call(move |s| s.register_worker(&name, &host, std::process::id()))
            .await?;
    }
    let store = state.store.clone();
    Ok(tokio::spawn(async move {
        let mut every = tokio::time::interval(lease / 3);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            let name = Arc::clone(&name);
            if let Err(e) = store.call(move |s| s.worker_heartbeat(&name)).await {
                tracing::warn!(error = %e, "cannot record the worker's heartbeat");
            }
        }
    }))
}

/// This machine's name, for the worker registry and worker names.
fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
