//! The bulletin wired into the service: the scheduler's [`Job`] reads the
//! approved articles from the store and assembles them with the service's
//! voices, audio settings and cue cache into the drop folder; the store is
//! its run log.
//! `bantin serve` runs the scheduler beside the render jobs; `bantin
//! bulletin` uses the same job for one (date, slot).

use std::future::Future;
use std::sync::Arc;

use crate::billing::Metered;
use crate::bulletin::BulletinConfig;
use crate::bulletin::GreetingVoice;
use crate::bulletin::build::{self, BulletinError, BulletinItem, Request};
use crate::bulletin::schedule::{Built, Clock, Job, RunKey, Scheduler, items_fingerprint};
use crate::bulletin::{FileNames, deliver};
use crate::cache::Cache;
use crate::limits::Limits;
use crate::normalize::Normalizer;
use crate::pipeline::Reading;
use crate::server::prepared::{Failure, prepare_revision};
use crate::settings::AudioSettings;
use crate::speak;
use crate::store::{ApprovedItem, Event, Store};
use crate::tts::Synthesizer;
use crate::voice::Voices;

/// The scheduler as the service runs it.
pub type BulletinScheduler = Scheduler<BulletinJob, Store>;

/// Bulletin settings and the scheduler of a running service.
pub struct Bulletins {
    pub config: Arc<BulletinConfig>,
    pub scheduler: Arc<BulletinScheduler>,
}

impl Bulletins {
    pub fn new(job: BulletinJob, clock: Arc<dyn Clock>) -> Bulletins {
        let config = Arc::clone(&job.config);
        let store = job.store.clone();
        Bulletins {
            scheduler: Arc::new(Scheduler::new(&config, job, store, clock)),
            config,
        }
    }

    /// Where the files of a (date, slot) are delivered.
    pub fn files(&self, key: &RunKey) -> FileNames {
        FileNames::new(&self.config, key.date, &key.slot)
    }
}

/// Builds bulletins from the store's approved articles.
#[derive(Clone)]
pub struct BulletinJob {
    pub store: Store,
    pub config: Arc<BulletinConfig>,
    pub voices: Arc<Voices>,
    /// Replaces every voice's own backend (tests).
    pub synthesizer: Option<Arc<dyn Synthesizer>>,
    pub settings: AudioSettings,
    /// What an item's article may hold (the service's `[limits.article]`).
    pub article_limits: Limits,
    /// Cue audio cache (the service's `DATA/cache`); `None` speaks every cue.
    pub cache: Option<Cache>,
    /// Where "bulletin delivered" and "check flagged" go; `None` tells no one.
    pub outbox: Option<crate::hooks::Outbox>,
}

impl BulletinJob {
    /// The approved items with their current revisions, or why they cannot
    /// be built: none approved, or an article deleted after approval.
    fn current_items(&self, key: &RunKey) -> Result<Vec<ApprovedItem>, String> {
        let items = self
            .store
            .approved_items(key.date, &key.slot)
            .map_err(|e| e.to_string())?;
        if items.is_empty() {
            return Err(format!(
                "no articles are approved for the {} bulletin of {}: nothing to build",
                key.slot, key.date
            ));
        }
        let deleted: Vec<String> = items
            .iter()
            .filter(|i| i.deleted_at.is_some())
            .map(|i| format!("article {} ({:?})", i.article_id, i.title))
            .collect();
        if !deleted.is_empty() {
            return Err(format!(
                "{} was deleted after it was approved for the {} bulletin of {}; take it out of the bulletin",
                deleted.join(", "),
                key.slot,
                key.date
            ));
        }
        Ok(items)
    }

    fn fingerprint_of(items: &[ApprovedItem]) -> String {
        let pairs: Vec<(String, String)> = items
            .iter()
            .map(|i| (i.article_id.to_string(), i.latest_revision.to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        items_fingerprint(&refs)
    }

    /// Adds `chars` a bulletin really sent to `voice`'s vendor to the
    /// voice's usage of the station's day.
    fn count_usage(&self, voice: &crate::voice::Voice, chars: u64) {
        if chars == 0 {
            return;
        }
        let day = crate::billing::day(jiff::Timestamp::now(), &self.config.time_zone);
        if let Err(e) = self.store.charge_voice(&voice.name, &day, chars, None) {
            tracing::error!(voice = %voice.name, error = %e, "cannot count a bulletin's billed characters");
        }
    }

    /// Assembles and delivers a (date, slot) now (blocking: synthesis).
    ///
    /// # Errors
    /// The reason, in words, naming the item or file at fault.
    pub fn build_blocking(&self, key: &RunKey, trigger: &str) -> Result<Built, String> {
        let items = self.current_items(key)?;
        let fingerprint = Self::fingerprint_of(&items);
        let slot = self.config.slot(&key.slot).map_err(|e| e.to_string())?;
        let voice = self.voices.get(&slot.voice).map_err(|e| e.to_string())?;
        let synthesizer = self
            .synthesizer
            .clone()
            .unwrap_or_else(|| voice.synthesizer());
        let greeting_voice = (slot.greeting_voice.as_deref())
            .map(|name| self.voices.get(name))
            .transpose()
            .map_err(|e| e.to_string())?;
        let greeting_synthesizer =
            greeting_voice.map(|v| self.synthesizer.clone().unwrap_or_else(|| v.synthesizer()));
        let station = self.store.station_lexicon().map_err(|e| e.to_string())?;
        let normalizer = Normalizer::builtin()
            .map_err(|e| e.to_string())?
            .with_station(&station);
        let mut prepared = Vec::with_capacity(items.len());
        for item in &items {
            prepared.push(prepare_item(
                &self.store,
                item,
                &normalizer,
                voice,
                &self.settings,
                &self.article_limits,
            )?);
        }
        // What really reaches a cloud vendor is counted in the voice's daily
        // usage (not refused: the bulletin goes on air).
        let metered = Metered::new(synthesizer.as_ref(), voice);
        let greeting_metered = greeting_voice
            .zip(greeting_synthesizer.as_deref())
            .map(|(voice, synthesizer)| Metered::new(synthesizer, voice));
        let request = Request {
            config: &self.config,
            slot,
            date: key.date,
            items: prepared,
            voice,
            greeting_voice: greeting_voice.zip(greeting_metered.as_ref()).map(
                |(voice, metered)| GreetingVoice {
                    voice,
                    synthesizer: metered,
                },
            ),
            normalizer: &normalizer,
            settings: &self.settings,
            trigger: trigger.to_string(),
            options: speak::Options {
                cache: self.cache.as_ref(),
                ..speak::Options::default()
            },
        };
        let assembled = build::build(&request, &metered, &());
        let billed = [
            Some((voice, &metered)),
            greeting_voice.zip(greeting_metered.as_ref()),
        ];
        for (voice, metered) in billed.into_iter().flatten() {
            self.count_usage(voice, metered.billed_chars());
        }
        let mut assembled = assembled.map_err(|e| e.to_string())?;
        let delivered = match deliver(&mut assembled, &self.config, &self.settings) {
            Ok(delivered) => delivered,
            Err(e) => {
                if let (BulletinError::Held { reason }, Some(outbox)) = (&e, &self.outbox) {
                    outbox.emit(
                        Event::CheckFlagged,
                        serde_json::json!({
                            "bulletin": { "date": key.date.to_string(), "slot": key.slot },
                            "held": true,
                            "summary": reason,
                        }),
                    );
                }
                return Err(e.to_string());
            }
        };
        if let Some(outbox) = &self.outbox {
            outbox.emit(
                Event::BulletinDelivered,
                serde_json::json!({
                    "bulletin": { "date": key.date.to_string(), "slot": key.slot },
                    "trigger": trigger,
                    "items": assembled.manifest.items.len(),
                    "slot_label": assembled.manifest.slot_label,
                    "duration_ms": assembled.manifest.total_ms,
                    "loudness_lufs": assembled.loudness.integrated_lufs,
                    "files": delivered.files.iter().filter_map(|f| f.file_name()).map(|n| n.to_string_lossy()).collect::<Vec<_>>(),
                    "check": delivered.check,
                }),
            );
        }
        Ok(Built {
            fingerprint,
            summary: format!(
                "{} ({} items, {}, {:.1} LUFS; {} of {} cues from the cache){}",
                delivered.wav.display(),
                assembled.manifest.items.len(),
                assembled.fit.describe(),
                assembled.loudness.integrated_lufs,
                assembled.stats.cached,
                assembled.stats.cues,
                delivered
                    .check
                    .map_or_else(String::new, |c| format!("; {c}"))
            ),
        })
    }
}

impl Job for BulletinJob {
    fn fingerprint(&self, key: &RunKey) -> impl Future<Output = Result<String, String>> + Send {
        let this = self.clone();
        let key = key.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                this.current_items(&key).map(|i| Self::fingerprint_of(&i))
            })
            .await
            .map_err(|e| format!("the bulletin task failed: {e}"))?
        }
    }

    fn build(&self, key: &RunKey) -> impl Future<Output = Result<Built, String>> + Send {
        let this = self.clone();
        let key = key.clone();
        async move {
            tokio::task::spawn_blocking(move || this.build_blocking(&key, "scheduler"))
                .await
                .map_err(|e| format!("the bulletin task failed: {e}"))?
        }
    }
}

/// An approved item's latest revision, read from the store and made ready
/// for assembly (its script for `voice`) through the service's one chain
/// ([`prepare_revision`]).
///
/// # Errors
/// The reason, in words, naming the article.
pub fn prepare_item(
    store: &Store,
    item: &ApprovedItem,
    normalizer: &Normalizer,
    voice: &crate::voice::Voice,
    settings: &AudioSettings,
    limits: &Limits,
) -> Result<BulletinItem, String> {
    let id = item.article_id.to_string();
    let prepared = prepare_revision(
        store,
        item.article_id,
        Some(item.latest_revision),
        &Reading {
            normalizer,
            voice,
            settings,
            limits,
        },
        &|| false,
    )
    .map_err(|e| match e {
        Failure::Ingest(source) => BulletinError::Ingest {
            item: id.clone(),
            source,
        }
        .to_string(),
        Failure::Store(_) | Failure::Limit(_) | Failure::Cancelled => format!("article {id}: {e}"),
    })?;
    Ok(BulletinItem {
        id,
        revision: item.latest_revision.to_string(),
        script: prepared.script,
    })
}
