//! The manifest written beside a bulletin's WAV (`<name>.manifest.json`):
//! what the bulletin is (station, date, slot, files), what is in it and
//! where (items, left-out items, parts), how it fits its slot, its loudness
//! and audio format, and how it was made. The scheduler reads its
//! `items_fingerprint` to decide whether to rebuild.
//!
//! Knows nothing of laying out or writing: it is filled from what the other
//! steps measured.

use std::time::Duration;

use serde::Serialize;

use super::build::Request;
use super::deliver::FileNames;
use super::fit::{Fit, Verdict};
use super::layout::Laid;
use crate::listen::CheckOutcome;
use crate::script::Script;

/// The manifest written beside the WAV (`<name>.manifest.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub station: String,
    pub date: String,
    pub slot: String,
    pub slot_label: String,
    pub files: Files,
    pub items: Vec<ManifestItem>,
    /// Items left out to fit the slot (lowest ranked first out).
    pub left_out: Vec<ManifestItem>,
    pub parts: Vec<Part>,
    pub total_ms: u64,
    pub target_ms: u64,
    pub tolerance_ms: u64,
    /// Positive: over the target; negative: under.
    pub difference_ms: i64,
    pub verdict: Verdict,
    pub loudness: ManifestLoudness,
    pub audio: AudioInfo,
    pub made: Made,
    /// Identifies the approved items and their revisions (all of them, left
    /// out or not): the scheduler rebuilds only when it changes.
    pub items_fingerprint: String,
    /// The listen check of the bulletin, when the station runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen_check: Option<ManifestCheck>,
}

/// The listen check as the manifest tells it: the outcome and each flagged
/// cue with where it is, what it should say and what was heard.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestCheck {
    /// `checked` or `unavailable`.
    pub status: &'static str,
    /// "checked, 2 cues flagged", or why the check is unavailable.
    pub summary: String,
    pub flagged: usize,
    pub flagged_cues: Vec<FlaggedCue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlaggedCue {
    pub id: usize,
    pub start_ms: u64,
    pub end_ms: u64,
    pub spoken: String,
    pub heard: String,
    pub reason: String,
}

impl ManifestCheck {
    /// The manifest's account of `outcome`, the check of `script`'s audio.
    pub fn of(outcome: &CheckOutcome, script: &Script) -> ManifestCheck {
        let (status, flagged_cues) = match outcome {
            CheckOutcome::Checked(report) => (
                "checked",
                report
                    .cues
                    .iter()
                    .filter(|c| c.flagged)
                    .filter_map(|c| {
                        let cue = script.cues.iter().find(|s| s.id == c.id)?;
                        Some(FlaggedCue {
                            id: c.id,
                            start_ms: ms(cue.start),
                            end_ms: ms(cue.end),
                            spoken: cue.spoken.clone(),
                            heard: c.heard.clone(),
                            reason: c.reason.clone().unwrap_or_default(),
                        })
                    })
                    .collect(),
            ),
            CheckOutcome::Unavailable { .. } => ("unavailable", Vec::new()),
        };
        ManifestCheck {
            status,
            summary: outcome.summary(),
            flagged: outcome.flagged(),
            flagged_cues,
        }
    }
}

/// The delivered files by their key (`wav`, `script_json`, …), in the
/// order of [`super::deliver::outputs`]: the WAV first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files(pub Vec<(&'static str, String)>);

impl Files {
    /// The file name of the output `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, name)| name.as_str())
    }
}

impl Serialize for Files {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, name) in &self.0 {
            map.serialize_entry(key, name)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestItem {
    /// 1-based editor order.
    pub rank: usize,
    pub id: String,
    pub revision: String,
    pub title: String,
    /// Where the item starts in the bulletin (absent for left-out items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    pub duration_ms: u64,
    pub cues: usize,
}

/// A non-item part of the programme (jingles, greeting, sign-off).
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub start_ms: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestLoudness {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    pub target_lufs: f64,
    pub max_true_peak_dbtp: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AudioInfo {
    pub sample_rate_hz: u32,
    pub bits_per_sample: u16,
    pub channels: u16,
    pub samples: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Made {
    /// UTC, RFC 3339.
    pub at: String,
    /// The station's local time.
    pub at_local: String,
    pub by: String,
    pub trigger: String,
    pub voice: String,
    pub backend: String,
    /// Cues spoken, and how many of them came from the cue cache.
    pub cues: usize,
    pub cues_from_cache: usize,
    pub synthesis_ms: u64,
    pub elapsed_ms: u64,
}

/// A duration in whole milliseconds, as the manifest gives it.
pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

impl Manifest {
    /// The manifest of the bulletin of `request` laid out as `laid`: its
    /// first `laid.items.len()` items kept, every item lasting as
    /// `item_lengths` says.
    pub(super) fn new(
        request: &Request<'_>,
        laid: &Laid,
        item_lengths: &[Duration],
        fit: &Fit,
        made: Made,
    ) -> Manifest {
        let Request {
            config,
            slot,
            date,
            items,
            settings,
            ..
        } = request;
        let entry = |rank: usize, placed: Option<(Duration, Duration)>, length: Duration| {
            let item = &items[rank];
            ManifestItem {
                rank: rank + 1,
                id: item.id.clone(),
                revision: item.revision.clone(),
                title: item.script.title.clone(),
                start_ms: placed.map(|(start, _)| ms(start)),
                duration_ms: ms(placed.map_or(length, |(start, end)| end - start)),
                cues: item.script.cues.len(),
            }
        };
        let kept = laid.items.len();
        let approved: Vec<(&str, &str)> = items
            .iter()
            .map(|i| (i.id.as_str(), i.revision.as_str()))
            .collect();
        let target = settings.loudness;
        Manifest {
            format: "bantin-bulletin/1",
            station: config.station.clone(),
            date: date.to_string(),
            slot: slot.name.clone(),
            slot_label: slot.label.clone(),
            files: FileNames::new(config, *date, &slot.name).files(),
            items: laid
                .items
                .iter()
                .enumerate()
                .map(|(rank, &placed)| entry(rank, Some(placed), Duration::ZERO))
                .collect(),
            left_out: (kept..items.len())
                .map(|rank| entry(rank, None, item_lengths[rank]))
                .collect(),
            parts: laid.parts.clone(),
            total_ms: ms(fit.total),
            target_ms: ms(slot.target),
            tolerance_ms: ms(slot.tolerance),
            difference_ms: fit.difference_ms(),
            verdict: fit.verdict(),
            loudness: ManifestLoudness {
                integrated_lufs: round2(laid.loudness.integrated_lufs),
                true_peak_dbtp: round2(laid.loudness.true_peak_dbtp),
                target_lufs: target.integrated_lufs,
                max_true_peak_dbtp: target.max_true_peak_dbtp,
            },
            audio: AudioInfo {
                sample_rate_hz: laid.pcm.sample_rate_hz,
                bits_per_sample: settings.bit_depth.bits(),
                channels: 1,
                samples: laid.pcm.samples.len() as u64,
            },
            made,
            items_fingerprint: super::schedule::items_fingerprint(&approved),
            listen_check: None,
        }
    }
}
