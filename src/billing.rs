//! What speaking costs before anything is spoken: the characters a cloud
//! voice bills for a script (every breath group as the vendor receives it)
//! and how many of them the speech cache already holds, so an edited article
//! is billed for its edited breath groups only; the station's day (in its
//! own time zone) that a daily cap counts in; and [`Metered`], a backend
//! wrapper that counts what really reached the vendor. Knows nothing of the
//! store or HTTP: the server and the CLI record and enforce with these.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::audio::Pcm;
use crate::cache::{Cache, Key};
use crate::script::Script;
use crate::tts::{SynthError, Synthesizer};
use crate::voice::Voice;

/// The bill of one script spoken by one billed voice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cost {
    /// Characters the vendor bills for speaking the whole script.
    pub billable_chars: u64,
    /// Of those, the characters of breath groups already in the speech
    /// cache: they are not sent again and cost nothing.
    pub cached_chars: u64,
    /// What a render now sends to the vendor: `billable_chars - cached_chars`.
    pub to_bill_chars: u64,
    pub breath_groups: u64,
    pub cached_breath_groups: u64,
}

/// The cost of speaking `script` with `voice`, whose backend's cache
/// fingerprint is `fingerprint`, looking each breath group up in `cache`
/// (none cached without one). `None` for a voice not billed per character
/// (espeak-ng, a program, a station's own server).
pub fn estimate(
    script: &Script,
    voice: &Voice,
    fingerprint: &str,
    cache: Option<&Cache>,
) -> Option<Cost> {
    voice.billable_chars("")?;
    let mut cost = Cost::default();
    for part in script.cues.iter().flat_map(|cue| &cue.parts) {
        let chars = voice.billable_chars(part).unwrap_or(0) as u64;
        cost.billable_chars += chars;
        cost.breath_groups += 1;
        let cached = cache.is_some_and(|c| c.path(&Key::new(fingerprint, part)).is_file());
        if cached {
            cost.cached_chars += chars;
            cost.cached_breath_groups += 1;
        }
    }
    cost.to_bill_chars = cost.billable_chars - cost.cached_chars;
    Some(cost)
}

/// The station's calendar day of `at` in `zone` (`YYYY-MM-DD`), the unit of
/// a daily character cap.
pub fn day(at: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    at.to_zoned_datetime(zone.clone()).date().to_string()
}

/// Time from `at` until the station's next day starts in `zone` (when a
/// refused render may try again).
pub fn until_next_day(at: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> Duration {
    at.to_zoned_datetime(zone.clone())
        .tomorrow()
        .and_then(|next| next.start_of_day())
        .ok()
        .and_then(|next| Duration::try_from(next.timestamp().duration_since(at)).ok())
        .unwrap_or(Duration::from_secs(24 * 3600))
}

/// Why a render is refused before it speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "voice {voice} may speak {daily_chars} characters a day; {used_chars} are used on {day} and this render needs {needed_chars} more. Render it tomorrow, use another voice, or ask the technician to raise [voices.{voice}] daily_chars"
)]
pub struct OverCap {
    pub voice: String,
    pub day: String,
    pub daily_chars: u64,
    pub used_chars: u64,
    pub needed_chars: u64,
}

/// Refuses `needed` characters when `used` already counted today plus them
/// would pass the voice's `daily_chars` (no cap: always allowed).
///
/// # Errors
/// [`OverCap`] with the figures.
pub fn check_cap(
    voice: &str,
    day: &str,
    daily_chars: Option<u64>,
    used: u64,
    needed: u64,
) -> Result<(), OverCap> {
    match daily_chars {
        Some(cap) if needed > 0 && used + needed > cap => Err(OverCap {
            voice: voice.to_string(),
            day: day.to_string(),
            daily_chars: cap,
            used_chars: used,
            needed_chars: needed,
        }),
        _ => Ok(()),
    }
}

/// A backend that counts the billable characters of every text it spoke
/// successfully: what the vendor really received, cache hits excluded (they
/// never reach a backend).
pub struct Metered<'a> {
    inner: &'a dyn Synthesizer,
    voice: &'a Voice,
    billed: AtomicU64,
}

impl<'a> Metered<'a> {
    pub fn new(inner: &'a dyn Synthesizer, voice: &'a Voice) -> Metered<'a> {
        Metered {
            inner,
            voice,
            billed: AtomicU64::new(0),
        }
    }

    /// Characters spoken so far.
    pub fn billed_chars(&self) -> u64 {
        self.billed.load(Ordering::SeqCst)
    }

    fn count(&self, text: &str) {
        let chars = self.voice.billable_chars(text).unwrap_or(0) as u64;
        self.billed.fetch_add(chars, Ordering::SeqCst);
    }
}

impl Synthesizer for Metered<'_> {
    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    fn synthesize(&self, text: &str) -> Result<Pcm, SynthError> {
        let pcm = self.inner.synthesize(text)?;
        self.count(text);
        Ok(pcm)
    }

    fn synthesize_batch(&self, texts: &[&str]) -> Result<Vec<Pcm>, SynthError> {
        let out = self.inner.synthesize_batch(texts)?;
        for text in texts {
            self.count(text);
        }
        Ok(out)
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
    use crate::tts::Fake;

    fn fpt_voice() -> Voice {
        Voice::parse(
            "fpt.toml",
            "name = \"fpt\"\nsyllables_per_minute = 250\n[fpt]\nvoice = \"banmai\"\napi_key_env = \"K\"\n",
        )
        .unwrap()
    }

    fn script(parts: &[&[&str]]) -> Script {
        let cues = parts
            .iter()
            .enumerate()
            .map(|(id, parts)| crate::script::Cue {
                id,
                paragraph: 0,
                span: 0..0,
                text: parts.join(" "),
                spoken: parts.join(" "),
                parts: parts.iter().map(|p| p.to_string()).collect(),
                tokens: Vec::new(),
                warnings: Vec::new(),
                start: Duration::ZERO,
                end: Duration::ZERO,
                pause_after: Duration::ZERO,
            })
            .collect();
        Script {
            title: String::new(),
            published: None,
            voice: "fpt".into(),
            measured: false,
            cues,
            total: Duration::ZERO,
        }
    }

    #[test]
    fn cost_counts_every_breath_group_and_frees_the_cached_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let voice = fpt_voice();
        let script = script(&[&["Sáng nay,", "Hà Nội mưa."], &["Chiều nắng."]]);
        let cost = estimate(&script, &voice, "f", Some(&cache)).unwrap();
        assert_eq!(
            cost,
            Cost {
                billable_chars: 9 + 11 + 11,
                cached_chars: 0,
                to_bill_chars: 31,
                breath_groups: 3,
                cached_breath_groups: 0,
            }
        );
        let pcm = Fake::default().synthesize("x").unwrap();
        cache.put(&Key::new("f", "Hà Nội mưa."), &pcm).unwrap();
        let cost = estimate(&script, &voice, "f", Some(&cache)).unwrap();
        assert_eq!((cost.cached_chars, cost.to_bill_chars), (11, 20));
        // Another backend fingerprint has nothing cached.
        let other = estimate(&script, &voice, "g", Some(&cache)).unwrap();
        assert_eq!(other.cached_chars, 0);
        let espeak = crate::voice::Voices::builtin();
        assert_eq!(
            estimate(&script, espeak.get("vi").unwrap(), "f", Some(&cache)),
            None
        );
    }

    #[test]
    fn the_day_turns_at_the_stations_midnight() {
        let zone = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        // 17:30 UTC is 00:30 the next day in Hà Nội (UTC+7).
        let at: jiff::Timestamp = "2026-03-01T17:30:00Z".parse().unwrap();
        assert_eq!(day(at, &zone), "2026-03-02");
        assert_eq!(day(at, &jiff::tz::TimeZone::UTC), "2026-03-01");
        assert_eq!(
            until_next_day(at, &zone),
            Duration::from_secs(23 * 3600 + 30 * 60)
        );
    }

    #[test]
    fn the_cap_refuses_what_would_pass_it_and_nothing_else() {
        assert!(check_cap("v", "d", None, 10, 1_000_000).is_ok());
        assert!(check_cap("v", "d", Some(100), 60, 40).is_ok());
        let err = check_cap("v", "d", Some(100), 60, 41).unwrap_err();
        assert_eq!((err.used_chars, err.needed_chars), (60, 41));
        assert!(err.to_string().contains("daily_chars"), "{err}");
        // Nothing to bill (all cached) is never refused, even at the cap.
        assert!(check_cap("v", "d", Some(100), 100, 0).is_ok());
    }

    #[test]
    fn metered_counts_only_what_was_spoken() {
        let voice = fpt_voice();
        let fake = Fake::default();
        let metered = Metered::new(&fake, &voice);
        metered.synthesize("Hà Nội.").unwrap();
        metered.synthesize_batch(&["một", "hai ba"]).unwrap();
        assert_eq!(metered.billed_chars(), 7 + 3 + 6);
    }
}
