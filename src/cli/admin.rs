//! The station's own housekeeping commands: `serve`, `token`, `lexicon`,
//! `voices` (listing and calibration).

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::text::read_input;
use super::{LexiconCommand, ScopeArg, TokenCommand, normalizer, voices};
use bantin::config::Config;
use bantin::store::{NewLexiconEntry, Scope, Store};
use bantin::voice::Voices;

/// Runs the service under `config` until a shutdown signal.
pub(super) fn serve(config: Config) -> Result<()> {
    let store = Store::open(&config.data_dir)
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
        TokenCommand::Add { name, scope } => {
            let scope = match scope {
                ScopeArg::Editor => Scope::Editor,
                ScopeArg::Read => Scope::Read,
            };
            let (token, secret) = store.add_token(&name, scope)?;
            eprintln!(
                "token {:?} ({}) made; it is shown only now:",
                token.name,
                token.scope.as_str()
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            for token in store.tokens()? {
                println!(
                    "{}\t{}\t{}",
                    token.name,
                    token.scope.as_str(),
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
    let (bytes, file) = match text {
        Some(path) => read_input(Some(path))?,
        None => (
            bantin::calibrate::REFERENCE_TEXT.to_vec(),
            Some(bantin::calibrate::REFERENCE_NAME.to_string()),
        ),
    };
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
