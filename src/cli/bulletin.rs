//! `bulletin`: the bulletin of a date, from article files (`--article`)
//! or from the approved articles of the store, under the station's
//! settings read as every command reads them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::render::Bar;
use super::text::read_input;
use super::{CacheArgs, normalizer, store, voices};
use bantin::cache::Cache;
use bantin::config::Config;
use bantin::speak;

pub(super) fn bulletin(
    data: Option<&Path>,
    service: Config,
    date: Option<&str>,
    slot: Option<&str>,
    articles: &[PathBuf],
    cache_args: &CacheArgs,
) -> Result<()> {
    use bantin::bulletin::{BulletinItem, build, deliver};
    use sha2::Digest as _;
    let cache = cache_args.open(data)?;
    // Without articles and a store there is nothing to read: the assembly
    // below reports the empty bulletin.
    if articles.is_empty() && data.is_some() {
        return bulletin_from_store(data, &service, date, slot, cache);
    }
    let config = service.bulletin()?;
    let date = bulletin_date(date, &config)?;
    let slots = match slot {
        Some(name) => vec![config.slot(name)?],
        None => config.slots.iter().collect(),
    };
    let voices = voices(data)?;
    let normalizer = normalizer(data)?;
    let settings = service.audio;
    for slot in slots {
        let voice = voices.get(&slot.voice)?;
        let synthesizer = voice.synthesizer();
        synthesizer.check()?;
        let greeting_voice = slot
            .greeting_voice
            .as_deref()
            .map(|n| voices.get(n))
            .transpose()?;
        let greeting_synthesizer = greeting_voice.map(|v| v.synthesizer());
        let mut items = Vec::with_capacity(articles.len());
        for path in articles {
            let (bytes, name) = read_input(Some(path))?;
            let id = path
                .file_stem()
                .map_or_else(|| "-".to_string(), |s| s.to_string_lossy().into_owned());
            // Until the store gives revisions, the content is the revision.
            let revision = hex::encode(&sha2::Sha256::digest(&bytes)[..6]);
            items.push(BulletinItem::prepare(
                &id,
                &revision,
                &bytes,
                name.as_deref(),
                &normalizer,
                voice,
                &settings,
            )?);
        }
        let request = build::Request {
            config: &config,
            slot,
            date,
            items,
            voice,
            greeting_voice: greeting_voice
                .zip(greeting_synthesizer.as_deref())
                .map(|(voice, synthesizer)| bantin::bulletin::GreetingVoice { voice, synthesizer }),
            normalizer: &normalizer,
            settings: &settings,
            trigger: "command line".into(),
            options: speak::Options {
                cache: cache.as_ref(),
                ..speak::Options::default()
            },
        };
        let bar = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} cues ({eta})")
                .expect("constant template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("bulletin {date} {} with {}", slot.name, voice.name));
        let assembled = build::build(&request, synthesizer.as_ref(), &Bar(bar.clone()));
        bar.finish_and_clear();
        let mut assembled = assembled?;
        let delivered = deliver(&mut assembled, &config, &settings)?;
        let left_out = &assembled.manifest.left_out;
        eprintln!(
            "wrote {} ({}, {}; {:.1} LUFS, true peak {:.1} dBTP; {} items{}; {} of {} cues from the cache; speech {:.1} s of {:.1} s)",
            delivered.wav.display(),
            bantin::script::clock(assembled.fit.total),
            assembled.fit.describe(),
            assembled.loudness.integrated_lufs,
            assembled.loudness.true_peak_dbtp,
            assembled.manifest.items.len(),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(
                    ", left out to fit: {}",
                    left_out
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            assembled.stats.cached,
            assembled.stats.cues,
            assembled.synthesis.as_secs_f64(),
            assembled.elapsed.as_secs_f64(),
        );
    }
    Ok(())
}

/// `--date` as a date, or today in the station's time zone.
fn bulletin_date(
    date: Option<&str>,
    config: &bantin::bulletin::BulletinConfig,
) -> Result<jiff::civil::Date> {
    match date {
        Some(text) => text
            .parse()
            .with_context(|| format!("--date {text:?} is not a date (YYYY-MM-DD)")),
        None => Ok(jiff::Timestamp::now()
            .to_zoned_datetime(config.time_zone.clone())
            .date()),
    }
}

/// `bantin bulletin` without `--article`: builds the approved articles of
/// the store exactly as the service's scheduler does (reusing a delivered
/// bulletin whose items did not change) and records the run in the store.
fn bulletin_from_store(
    data: Option<&Path>,
    service: &Config,
    date: Option<&str>,
    slot: Option<&str>,
    cache: Option<Cache>,
) -> Result<()> {
    use bantin::bulletin::schedule::{Outcome, RunKey, Scheduler, SystemClock, Trigger};
    use bantin::server::bulletin::BulletinJob;
    use std::sync::Arc;
    let data = data.context("name the data directory with --data DIR (or BANTIN_DATA)")?;
    let config = Arc::new(service.bulletin()?);
    let date = bulletin_date(date, &config)?;
    let slots: Vec<String> = match slot {
        Some(name) => vec![config.slot(name)?.name.clone()],
        None => config.slots.iter().map(|s| s.name.clone()).collect(),
    };
    let store = store(Some(data))?;
    let job = BulletinJob {
        store: store.clone(),
        config: Arc::clone(&config),
        voices: Arc::new(voices(Some(data))?),
        synthesizer: None,
        settings: service.audio,
        article_limits: service.limits.article,
        cache,
        outbox: Some(bantin::hooks::Outbox::new(store.clone(), &service.station)),
    };
    let scheduler = Scheduler::new(&config, job, store.clone(), Arc::new(SystemClock));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let mut failed = Vec::new();
    for slot in slots {
        let key = RunKey { date, slot };
        let record = runtime.block_on(scheduler.trigger(key.clone(), Trigger::Manual));
        match &record.outcome {
            Outcome::Built { summary } => eprintln!("{key}: built {summary}"),
            Outcome::Reused => eprintln!("{key}: items unchanged, the delivered bulletin stands"),
            Outcome::Failed { reason } => {
                eprintln!("{key}: failed: {reason}");
                failed.push(key.to_string());
            }
        }
    }
    // No service may be running here (cron): send the webhook calls once;
    // those that fail wait in the store for `bantin serve` to retry.
    match bantin::hooks::send_due(&store, &service.webhooks) {
        Ok(0) => {}
        Ok(sent) => {
            eprintln!("webhooks: {sent} calls attempted (bantin webhook deliveries shows them)")
        }
        Err(e) => eprintln!("webhooks: cannot send: {e}"),
    }
    if !failed.is_empty() {
        anyhow::bail!("bulletin failed: {}", failed.join(", "));
    }
    Ok(())
}
