//! The station's own housekeeping commands: `serve`, `token`, `lexicon`,
//! `voices` (listing, calibration, adding a Piper voice).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::text::read_input;
use super::{LexiconCommand, ScopeArg, TokenCommand, WebhookCommand, normalizer, voices};
use bantin::config::Config;
use bantin::store::{Event, NewLexiconEntry, Scope, Store};
use bantin::voice::{Voice, Voices};

/// Runs the service under `config` until a shutdown signal.
pub(super) fn serve(config: Config) -> Result<()> {
    let store = Store::open_with(&config.data_dir, config.database.as_deref())
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let voices = Voices::load(Some(&config.data_dir.join("voices")))?;
    voices
        .get(&config.default_voice)
        .context("default_voice in the configuration")?;
    let state = bantin::server::AppState::new(store, config.clone(), voices)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        eprintln!(
            "bantin: {} listening on http://{} (data in {})",
            config.station,
            listener.local_addr()?,
            config.data_dir.display()
        );
        bantin::server::serve(listener, state, bantin::server::shutdown_signal()).await?;
        eprintln!("bantin: stopped");
        Ok(())
    })
}

pub(super) fn token(store: &Store, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Add {
            name,
            scope,
            person,
        } => {
            let scope = match scope {
                ScopeArg::Read => Scope::Read,
                ScopeArg::Editor => Scope::Editor,
                ScopeArg::Approver => Scope::Approver,
                ScopeArg::Admin => Scope::Admin,
            };
            let (token, secret) = match person {
                Some(person) => store.add_token_for(&name, scope, &person)?,
                None => {
                    eprintln!(
                        "no --person given: revisions, approvals and the audit trail will \
                         show this token as {:?}",
                        format!("{} ({name})", bantin::store::UNNAMED_PERSON)
                    );
                    store.add_token(&name, scope)?
                }
            };
            eprintln!(
                "token {:?} ({}, {}) made; it is shown only now:",
                token.name,
                token.scope.as_str(),
                token.who()
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            for token in store.tokens()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    token.name,
                    token.scope.as_str(),
                    token.who(),
                    token.created_at
                );
            }
        }
        TokenCommand::Revoke { name } => {
            store.revoke_token(&name)?;
            eprintln!("token {name:?} revoked");
        }
    }
    Ok(())
}

pub(super) fn webhook(store: &Store, command: WebhookCommand) -> Result<()> {
    match command {
        WebhookCommand::Add {
            url,
            events,
            description,
        } => {
            let events = if events.is_empty() {
                Event::ALL.to_vec()
            } else {
                events
                    .iter()
                    .map(|e| Event::parse(e.trim()))
                    .collect::<Result<_, _>>()?
            };
            let (webhook, secret) = store.add_webhook(&url, &events, &description)?;
            eprintln!(
                "webhook {} → {} made; its signing secret is shown only now:",
                webhook.id, webhook.url
            );
            println!("{secret}");
        }
        WebhookCommand::List => {
            for w in store.webhooks()? {
                let events: Vec<&str> = w.events.iter().map(|e| e.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    w.id,
                    w.url,
                    events.join(","),
                    w.description
                );
            }
        }
        WebhookCommand::Remove { id } => {
            store.remove_webhook(id)?;
            eprintln!("webhook {id} removed");
        }
        WebhookCommand::Deliveries { webhook, limit } => {
            for d in store.deliveries(webhook, limit.clamp(1, 1000))? {
                let state = serde_json::to_value(d.state)?;
                println!(
                    "{}\t{}\t{}\t{}\t{} attempts\t{}\t{}",
                    d.id,
                    d.created_at,
                    d.event.as_str(),
                    state.as_str().unwrap_or("?"),
                    d.attempts,
                    d.url,
                    d.last_error.as_deref().unwrap_or("")
                );
            }
        }
        WebhookCommand::Retry { id } => {
            store.retry_delivery(id)?;
            eprintln!("delivery {id} is due again; `bantin serve` sends it");
        }
    }
    Ok(())
}

pub(super) fn lexicon(store: &Store, command: LexiconCommand) -> Result<()> {
    match command {
        LexiconCommand::List => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            for e in store.lexicon_entries()? {
                writeln!(out, "{}\t{}\t{}\t{}", e.key, e.spoken, e.context, e.comment)?;
            }
            out.flush()?;
        }
        LexiconCommand::Add {
            key,
            spoken,
            context,
            comment,
        } => {
            let entry = store.add_lexicon_entry(
                &NewLexiconEntry {
                    key,
                    spoken,
                    context,
                    comment,
                },
                "cli",
            )?;
            eprintln!(
                "added {} → {} (entry {})",
                entry.key, entry.spoken, entry.id
            );
        }
        LexiconCommand::Remove { key, context } => {
            let removed = store.remove_lexicon_key(&key, context.as_deref())?;
            eprintln!("removed {} entries of {key}", removed.len());
        }
        LexiconCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let count = store.import_lexicon(&file.display().to_string(), &text, "cli")?;
            eprintln!("imported {count} entries from {}", file.display());
        }
    }
    Ok(())
}

/// Measures a voice on the reference text and stores its rate in the
/// profile ([`bantin::calibrate`]).
pub(super) fn calibrate(
    data: Option<&Path>,
    config: &bantin::config::Config,
    name: &str,
    text: Option<&Path>,
) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(name)?;
    voice.synthesizer().check()?;
    let (bytes, file) = reference_text(text)?;
    let (rate, rendered) =
        bantin::calibrate::measure_rendered(voice, &normalizer(data)?, &bytes, file.as_deref())?;
    let done = bantin::calibrate::store(voice, data, rate)?;
    eprintln!(
        "{}: {:.1} syllables per minute (was {:.1}), stored in {}",
        voice.name,
        done.syllables_per_minute,
        voice.syllables_per_minute,
        done.profile.display()
    );
    if config.listen.configured() {
        super::check::record_baseline(data, config, &voice.name, &rendered)?;
    }
    Ok(())
}

/// The reference article a rate is measured on: `path`, else the shipped
/// Vietnamese news text.
fn reference_text(path: Option<&Path>) -> Result<(Vec<u8>, Option<String>)> {
    Ok(match path {
        Some(path) => read_input(Some(path))?,
        None => (
            bantin::calibrate::REFERENCE_TEXT.to_vec(),
            Some(bantin::calibrate::REFERENCE_NAME.to_string()),
        ),
    })
}

pub(super) fn list_voices(data: Option<&Path>) -> Result<()> {
    for voice in voices(data)?.all() {
        let status = match voice.synthesizer().check() {
            Ok(()) => "available".to_string(),
            Err(e) => format!("unavailable: {e}"),
        };
        println!(
            "{}\t{}\t{} syllables/min\t{}\t{}",
            voice.name,
            voice.backend_name(),
            voice.syllables_per_minute,
            status,
            voice.description
        );
    }
    Ok(())
}

/// A Piper model the technician copied in, as `voices add` names it.
pub(super) struct NewPiperVoice {
    pub name: String,
    pub model: PathBuf,
    pub config: Option<PathBuf>,
    pub program: String,
}

/// What `voices add` says to prove the voice speaks.
const FIRST_WORDS: &str = "Xin chào quý thính giả.";

/// Writes `DATA/voices/NAME.toml` for a Piper model: checks its files,
/// has it speak one sentence (Piper kept loaded, as renders use it),
/// measures its rate on the reference text and writes the profile with
/// that rate, atomically. Nothing is written when any step fails, and an
/// existing profile is replaced only with `force`.
pub(super) fn add_voice(
    data: Option<&Path>,
    new: &NewPiperVoice,
    reference: Option<&Path>,
    force: bool,
) -> Result<()> {
    let data = data.context("name the data directory with --data DIR (or BANTIN_DATA)")?;
    let model = std::fs::canonicalize(&new.model)
        .with_context(|| format!("cannot find the model {}", new.model.display()))?;
    if !model.is_file() || model.extension().is_none_or(|e| e != "onnx") {
        anyhow::bail!("{} is not a Piper model (a .onnx file)", model.display());
    }
    let config = match &new.config {
        Some(config) => Some(std::fs::canonicalize(config).with_context(|| {
            format!("cannot find the model configuration {}", config.display())
        })?),
        None => None,
    };
    let piper = bantin::tts::PiperVoice::new(&new.program, &model, config.as_deref());
    let config_path = piper.config_path();
    let description = describe_model(&model, &config_path)?;
    let path = data.join("voices").join(format!("{}.toml", new.name));
    if path.exists() && !force {
        anyhow::bail!(
            "{} already exists: pass --force to replace it",
            path.display()
        );
    }
    let origin = path.display().to_string();
    let mut text = piper_profile(&new.name, &description, &piper)?;
    let voice = Voice::parse(&origin, &text)?;
    let synthesizer = voice.synthesizer();
    synthesizer.check()?;
    let started = std::time::Instant::now();
    let said = synthesizer
        .synthesize(FIRST_WORDS)
        .with_context(|| format!("{} does not speak", new.name))?;
    if said.samples.iter().all(|s| s.abs() < 1e-3) {
        anyhow::bail!(
            "{} does not speak: its audio for {FIRST_WORDS:?} is silent",
            new.name
        );
    }
    eprintln!(
        "{}: speaks ({:.1} s of audio for {FIRST_WORDS:?} in {:.1} s, the model loaded)",
        new.name,
        said.duration().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let (bytes, file) = reference_text(reference)?;
    let rate =
        bantin::calibrate::measure(&voice, &normalizer(Some(data))?, &bytes, file.as_deref())?;
    if !(60.0..=600.0).contains(&rate) {
        anyhow::bail!(
            "{} reads the reference text at {rate:.1} syllables per minute, outside 60–600: \
             is the model for Vietnamese? (--text names a reference in its language)",
            new.name
        );
    }
    text = bantin::voice::set_rate(&origin, &text, rate)?;
    Voice::parse(&origin, &text)?;
    let dir = data.join("voices");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    bantin::output::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "{}: {rate:.1} syllables per minute; profile written to {}",
        new.name,
        path.display()
    );
    Ok(())
}

/// A line describing a Piper model, from its configuration (which must be
/// Piper's JSON: it is what Piper reads to speak).
fn describe_model(model: &Path, config: &Path) -> Result<String> {
    let bytes = std::fs::read(config).with_context(|| {
        format!(
            "cannot read the model configuration {} (put it beside the model or pass --config)",
            config.display()
        )
    })?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", config.display()))?;
    let rate = json["audio"]["sample_rate"].as_u64().with_context(|| {
        format!(
            "{} is not a Piper model configuration (no audio.sample_rate)",
            config.display()
        )
    })?;
    let language = json["language"]["code"]
        .as_str()
        .or_else(|| json["espeak"]["voice"].as_str())
        .unwrap_or("unknown language");
    let stem = model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(format!("Piper {stem} ({language}, {rate} Hz), kept loaded"))
}

/// The profile text `voices add` writes, with comments for the technician.
fn piper_profile(name: &str, description: &str, piper: &bantin::tts::PiperVoice) -> Result<String> {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let config = match &piper.config {
        Some(config) => format!("config = {}\n", quote(&config.display().to_string())),
        None => String::new(),
    };
    Ok(format!(
        "# A self-hosted Piper voice, written by `bantin voices add`. Piper runs\n\
         # once per worker with the model loaded and speaks breath group after\n\
         # breath group. Check the model's MODEL_CARD licence before airing it.\n\
         name = {name}\n\
         description = {description}\n\
         # Measured by `bantin voices add` (again: `bantin voices calibrate NAME`).\n\
         syllables_per_minute = 233\n\
         breath_group_syllables = 40\n\
         \n\
         [piper]\n\
         program = {program}\n\
         model = {model}\n\
         {config}\
         # speaker = 0          # models with several speakers\n\
         # length_scale = 1.0   # above 1 speaks slower\n\
         # Programs kept running at once, each holding the model (~300 MB).\n\
         workers = {workers}\n\
         # Seconds one breath group may take (loading the model included).\n\
         timeout = {timeout}\n",
        name = quote(name),
        description = quote(description),
        program = quote(&piper.program),
        model = quote(&piper.model.display().to_string()),
        workers = piper.workers,
        timeout = piper.timeout.as_secs(),
    ))
}
