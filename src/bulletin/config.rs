//! The `[bulletin]` part of bantin.toml: the station, its time zone, the
//! slots (each with a cron schedule in that time zone, a target length, a
//! voice, greeting and sign-off templates and jingles), the drop folder and
//! the file-name pattern. Parsed with serde and validated once: every problem
//! is reported together, with the setting it concerns. The rest of
//! bantin.toml belongs to the service and is ignored here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

/// The default station time zone.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";

/// Placeholders a greeting or sign-off template may use.
pub const TEMPLATE_PLACEHOLDERS: [&str; 4] = ["weekday", "date", "station", "slot"];

/// Placeholders the file-name pattern may use.
pub const PATTERN_PLACEHOLDERS: [&str; 3] = ["date", "yyyymmdd", "slot"];

#[derive(Debug, thiserror::Error)]
pub enum BulletinConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: {reason}")]
    Parse { origin: String, reason: String },
    #[error("{origin}: invalid [bulletin] settings:\n  {}", problems.join("\n  "))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
    #[error("no slot named {name:?} in [bulletin.slots] (known: {known})")]
    UnknownSlot { name: String, known: String },
}

/// The validated bulletin settings.
#[derive(Debug, Clone)]
pub struct BulletinConfig {
    pub station: String,
    pub time_zone_name: String,
    pub time_zone: TimeZone,
    pub drop_folder: PathBuf,
    /// ASCII file name of the WAV, e.g. `BANTIN_{date}_{slot}.wav`.
    pub file_pattern: String,
    /// Keys of the files delivered beside the WAV (`script_json`,
    /// `script_txt`, `manifest`, `rdxml`): see [`super::deliver::SIDECARS`].
    pub sidecars: Vec<String>,
    /// Whether the WAV carries an AES46 `cart` chunk.
    pub cart_chunk: bool,
    /// Whether a bulletin is delivered even with an item edited since its
    /// approval (or never approved); off by default: such a run fails.
    pub deliver_unapproved: bool,
    /// How far back a start looks for runs it missed.
    pub catch_up: Duration,
    /// Silence between two items.
    pub pause_between_items: Duration,
    /// Fade of the music where it meets speech.
    pub fade: Duration,
    /// Silence between a jingle and speech.
    pub jingle_gap: Duration,
    /// Loudness of the jingles relative to speech before the whole is levelled, dB.
    pub jingle_gain_db: f64,
    pub retry: Retry,
    /// In the order of the file (BTreeMap order: by name).
    pub slots: Vec<Slot>,
    /// The listen check of each bulletin before delivery (from the
    /// station's `[listen]`, not from `[bulletin]`); `None` when it is off.
    pub listen: Option<crate::listen::BulletinListen>,
    /// How the `mp3` and `opus` outputs are encoded (the station's `[mp3]`
    /// and `[opus]`, not from `[bulletin]`).
    pub encodings: Encodings,
    /// The podcast feed of delivered bulletins (`[bulletin.feed]`); `None`
    /// when the station publishes none.
    pub feed: Option<FeedSettings>,
    /// Where each delivery also keeps what the feed reads (MP3, manifest,
    /// script), so a playout system that takes files out of the drop folder
    /// does not empty the feed: `DATA/feed/<name>`, set from the station's
    /// data directory (not from `[bulletin]`); `None` without a feed.
    pub feed_folder: Option<PathBuf>,
}

/// The encodings of a bulletin's compressed outputs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Encodings {
    pub mp3: crate::audio::mp3::Mp3Settings,
    pub opus: crate::audio::opus::OpusSettings,
}

/// The podcast feed (`[bulletin.feed]`): `GET /feeds/{station}/bulletins.xml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSettings {
    /// The `{station}` of the feed's address: ASCII lowercase, digits, `-`.
    pub name: String,
    /// Anyone may read the feed and its audio; otherwise a read token is
    /// needed (`Authorization: Bearer`).
    #[serde(default)]
    pub public: bool,
    /// The feed's title; `Bản tin <station>` when absent.
    pub title: Option<String>,
    /// The feed's description; a sentence naming the station when absent.
    pub description: Option<String>,
    /// The station's web site (the feed's `<link>`); the feed's own address
    /// when absent.
    pub link: Option<String>,
    /// Where listeners reach this server (`https://radio.example.vn`): the
    /// start of the enclosure addresses. Without it they start with the
    /// scheme and `Host` of the request for the feed.
    pub base_url: Option<String>,
    /// The feed's artwork (`itunes:image` and the RSS `image`): the address
    /// of a square JPEG or PNG, which podcast directories ask for.
    pub image: Option<String>,
    /// Where podcast directories reach the station (`itunes:owner`).
    pub email: Option<String>,
    /// The newest delivered bulletins listed.
    #[serde(default = "default_feed_items")]
    pub items: usize,
    /// The iTunes category.
    #[serde(default = "default_feed_category")]
    pub category: String,
}

/// The outputs the feed reads (the enclosure, the delivery time and
/// length, the title and the spoken text), kept in the feed's folder
/// whether or not they are delivered into the drop folder too.
pub const FEED_NEEDS: [&str; 3] = ["mp3", "manifest", "script_json"];

fn default_feed_items() -> usize {
    30
}
fn default_feed_category() -> String {
    "News".into()
}

/// How a failed run is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub backoff: Duration,
}

/// One bulletin slot of the day, resolved with the station defaults.
#[derive(Debug, Clone)]
pub struct Slot {
    /// ASCII name used in file names and the API (`sang`).
    pub name: String,
    /// Vietnamese name spoken and shown (`sáng`).
    pub label: String,
    pub schedule_text: String,
    pub schedule: Cron,
    pub target: Duration,
    pub tolerance: Duration,
    /// Leave out the lowest-ranked items when over target + tolerance.
    pub fit: bool,
    pub voice: String,
    /// The voice of the greeting and sign-off when it is not `voice`
    /// (`greeting_voice`, for the whole bulletin or one slot).
    pub greeting_voice: Option<String>,
    pub greeting: String,
    pub sign_off: String,
    pub intro_jingle: Option<PathBuf>,
    pub outro_jingle: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    station: String,
    #[serde(default = "default_time_zone")]
    time_zone: String,
    drop_folder: PathBuf,
    #[serde(default = "default_pattern")]
    file_pattern: String,
    #[serde(default = "default_sidecars")]
    sidecars: Vec<String>,
    #[serde(default)]
    cart_chunk: bool,
    #[serde(default)]
    deliver_unapproved: bool,
    #[serde(default = "default_catch_up")]
    catch_up_minutes: u64,
    #[serde(default = "default_pause")]
    pause_between_items_seconds: f64,
    #[serde(default = "default_fade")]
    fade_seconds: f64,
    #[serde(default = "default_jingle_gap")]
    jingle_gap_seconds: f64,
    #[serde(default)]
    jingle_gain_db: f64,
    #[serde(default = "default_attempts")]
    retry_attempts: u32,
    #[serde(default = "default_backoff")]
    retry_backoff_seconds: f64,
    #[serde(default = "default_voice")]
    voice: String,
    greeting_voice: Option<String>,
    greeting: String,
    sign_off: String,
    intro_jingle: Option<PathBuf>,
    outro_jingle: Option<PathBuf>,
    feed: Option<FeedSettings>,
    #[serde(default = "default_tolerance")]
    tolerance_seconds: f64,
    slots: BTreeMap<String, RawSlot>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlot {
    label: Option<String>,
    schedule: String,
    target_minutes: f64,
    tolerance_seconds: Option<f64>,
    #[serde(default)]
    fit: bool,
    voice: Option<String>,
    greeting_voice: Option<String>,
    greeting: Option<String>,
    sign_off: Option<String>,
    intro_jingle: Option<PathBuf>,
    outro_jingle: Option<PathBuf>,
}

fn default_time_zone() -> String {
    DEFAULT_TIME_ZONE.into()
}
fn default_pattern() -> String {
    "BANTIN_{date}_{slot}.wav".into()
}
fn default_catch_up() -> u64 {
    180
}
fn default_pause() -> f64 {
    2.0
}
fn default_fade() -> f64 {
    1.5
}
fn default_jingle_gap() -> f64 {
    0.5
}
fn default_attempts() -> u32 {
    3
}
fn default_backoff() -> f64 {
    60.0
}
fn default_voice() -> String {
    crate::voice::DEFAULT_VOICE.into()
}
fn default_tolerance() -> f64 {
    60.0
}

#[derive(Deserialize)]
struct File {
    bulletin: Option<toml::Value>,
}

impl BulletinConfig {
    /// Reads bantin.toml; relative jingle paths and the drop folder are
    /// relative to the file's folder.
    ///
    /// # Errors
    /// [`BulletinConfigError`] for an unreadable file, bad TOML or invalid settings.
    pub fn load(path: &Path) -> Result<BulletinConfig, BulletinConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| BulletinConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&path.display().to_string(), &text, base)
    }

    /// Parses the `[bulletin]` table of a bantin.toml text.
    ///
    /// # Errors
    /// [`BulletinConfigError::Parse`] for bad TOML or a missing/ill-typed setting,
    /// [`BulletinConfigError::Invalid`] listing every invalid value.
    pub fn parse(
        origin: &str,
        text: &str,
        base: &Path,
    ) -> Result<BulletinConfig, BulletinConfigError> {
        let parse_err = |reason: String| BulletinConfigError::Parse {
            origin: origin.to_string(),
            reason,
        };
        let file: File = toml::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let raw: RawConfig = file
            .bulletin
            .ok_or_else(|| parse_err("no [bulletin] table".into()))?
            .try_into()
            .map_err(|e: toml::de::Error| parse_err(format!("[bulletin]: {e}")))?;
        let mut problems = Vec::new();
        let config = validate(raw, base, &mut problems);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(BulletinConfigError::Invalid {
                origin: origin.to_string(),
                problems,
            })
        }
    }

    /// # Errors
    /// [`BulletinConfigError::UnknownSlot`] naming the configured slots.
    pub fn slot(&self, name: &str) -> Result<&Slot, BulletinConfigError> {
        self.slots
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| BulletinConfigError::UnknownSlot {
                name: name.to_string(),
                known: self
                    .slots
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The WAV file name of a (date, slot), from the pattern.
    pub fn file_name(&self, date: Date, slot: &str) -> String {
        fill(&self.file_pattern, |name| match name {
            "date" => Some(date.to_string()),
            "yyyymmdd" => Some(format!(
                "{:04}{:02}{:02}",
                date.year(),
                date.month(),
                date.day()
            )),
            "slot" => Some(slot.to_string()),
            _ => None,
        })
    }
}

/// Replaces `{name}` with `value(name)`; unknown names stay as written.
pub(crate) fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match value(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Placeholders `{name}` of a template, or the first unbalanced brace.
fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a '}' without its '{'".into());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("a '{' without its '}'")?;
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    Ok(names)
}

fn check_template(what: &str, template: &str, problems: &mut Vec<String>) {
    if template.trim().is_empty() {
        problems.push(format!("{what} is empty"));
        return;
    }
    match placeholders(template) {
        Err(e) => problems.push(format!("{what}: {e}")),
        Ok(names) => {
            for name in names {
                if !TEMPLATE_PLACEHOLDERS.contains(&name) {
                    problems.push(format!(
                        "{what}: unknown placeholder {{{name}}} (known: {})",
                        TEMPLATE_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ));
                }
            }
        }
    }
}

fn seconds(what: &str, value: f64, problems: &mut Vec<String>) -> Duration {
    if !(0.0..=86_400.0).contains(&value) {
        problems.push(format!(
            "{what} = {value} is not a number of seconds in 0–86400"
        ));
        return Duration::ZERO;
    }
    Duration::from_secs_f64(value)
}

fn jingle(
    what: &str,
    path: Option<PathBuf>,
    base: &Path,
    problems: &mut Vec<String>,
) -> Option<PathBuf> {
    let path = path.map(|p| if p.is_absolute() { p } else { base.join(p) })?;
    if !path.is_file() {
        problems.push(format!(
            "{what}: jingle file {} does not exist",
            path.display()
        ));
    }
    Some(path)
}

fn default_sidecars() -> Vec<String> {
    super::deliver::DEFAULT_SIDECARS
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Every sidecar named is known, and named once.
fn check_sidecars(sidecars: &[String], problems: &mut Vec<String>) {
    for (i, key) in sidecars.iter().enumerate() {
        if super::deliver::sidecar(key).is_none() {
            let known: Vec<&str> = super::deliver::SIDECARS.iter().map(|o| o.key()).collect();
            problems.push(format!(
                "sidecars: unknown sidecar {key:?} (known: {})",
                known.join(", ")
            ));
        } else if sidecars[..i].contains(key) {
            problems.push(format!("sidecars: {key:?} is named twice"));
        }
    }
}

fn validate(raw: RawConfig, base: &Path, problems: &mut Vec<String>) -> BulletinConfig {
    if raw.station.trim().is_empty() {
        problems.push("station is empty".into());
    }
    let time_zone = TimeZone::get(&raw.time_zone).unwrap_or_else(|e| {
        problems.push(format!("time_zone {:?} is unknown: {e}", raw.time_zone));
        TimeZone::UTC
    });
    check_pattern(&raw.file_pattern, problems);
    check_sidecars(&raw.sidecars, problems);
    if let Some(feed) = &raw.feed {
        check_feed(feed, problems);
    }
    check_template("greeting", &raw.greeting, problems);
    check_template("sign_off", &raw.sign_off, problems);
    if raw.retry_attempts == 0 {
        problems.push("retry_attempts must be at least 1".into());
    }
    let intro = jingle("intro_jingle", raw.intro_jingle, base, problems);
    let outro = jingle("outro_jingle", raw.outro_jingle, base, problems);
    let default_tolerance = seconds("tolerance_seconds", raw.tolerance_seconds, problems);
    if raw.slots.is_empty() {
        problems.push("no slot in [bulletin.slots]".into());
    }
    let mut slots = Vec::with_capacity(raw.slots.len());
    for (name, slot) in raw.slots {
        let at = |what: &str| format!("slots.{name}.{what}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            problems.push(format!(
                "slot name {name:?} must be ASCII lowercase letters, digits, '-' or '_' (it goes into file names); put the Vietnamese name in `label`"
            ));
        }
        let schedule = Cron::from_str(&slot.schedule).unwrap_or_else(|e| {
            problems.push(format!(
                "{}: bad cron {:?}: {e}",
                at("schedule"),
                slot.schedule
            ));
            Cron::from_str("0 0 * * *").expect("a constant pattern")
        });
        if !(slot.target_minutes.is_finite()
            && slot.target_minutes > 0.0
            && slot.target_minutes <= 600.0)
        {
            problems.push(format!(
                "{} = {} is outside 0–600",
                at("target_minutes"),
                slot.target_minutes
            ));
        }
        let target = Duration::from_secs_f64(slot.target_minutes.clamp(0.0, 600.0) * 60.0);
        let tolerance = match slot.tolerance_seconds {
            Some(t) => seconds(&at("tolerance_seconds"), t, problems),
            None => default_tolerance,
        };
        let greeting = slot.greeting.unwrap_or_else(|| raw.greeting.clone());
        let sign_off = slot.sign_off.unwrap_or_else(|| raw.sign_off.clone());
        check_template(&at("greeting"), &greeting, problems);
        check_template(&at("sign_off"), &sign_off, problems);
        let intro_jingle = match slot.intro_jingle {
            Some(p) => jingle(&at("intro_jingle"), Some(p), base, problems),
            None => intro.clone(),
        };
        let outro_jingle = match slot.outro_jingle {
            Some(p) => jingle(&at("outro_jingle"), Some(p), base, problems),
            None => outro.clone(),
        };
        slots.push(Slot {
            label: slot.label.unwrap_or_else(|| name.clone()),
            name,
            schedule_text: slot.schedule,
            schedule,
            target,
            tolerance,
            fit: slot.fit,
            voice: slot.voice.unwrap_or_else(|| raw.voice.clone()),
            greeting_voice: slot.greeting_voice.or_else(|| raw.greeting_voice.clone()),
            greeting,
            sign_off,
            intro_jingle,
            outro_jingle,
        });
    }
    let drop_folder = if raw.drop_folder.is_absolute() {
        raw.drop_folder
    } else {
        base.join(raw.drop_folder)
    };
    BulletinConfig {
        station: raw.station,
        time_zone_name: raw.time_zone,
        time_zone,
        drop_folder,
        file_pattern: raw.file_pattern,
        sidecars: raw.sidecars,
        cart_chunk: raw.cart_chunk,
        deliver_unapproved: raw.deliver_unapproved,
        catch_up: Duration::from_secs(raw.catch_up_minutes.saturating_mul(60)),
        pause_between_items: seconds(
            "pause_between_items_seconds",
            raw.pause_between_items_seconds,
            problems,
        ),
        fade: seconds("fade_seconds", raw.fade_seconds, problems),
        jingle_gap: seconds("jingle_gap_seconds", raw.jingle_gap_seconds, problems),
        jingle_gain_db: if (-30.0..=10.0).contains(&raw.jingle_gain_db) {
            raw.jingle_gain_db
        } else {
            problems.push(format!(
                "jingle_gain_db = {} is outside −30–10",
                raw.jingle_gain_db
            ));
            0.0
        },
        retry: Retry {
            attempts: raw.retry_attempts,
            backoff: seconds("retry_backoff_seconds", raw.retry_backoff_seconds, problems),
        },
        slots,
        listen: None,
        encodings: Encodings::default(),
        feed: raw.feed,
        feed_folder: None,
    }
}

/// The feed's name goes into its address and its folder.
fn check_feed(feed: &FeedSettings, problems: &mut Vec<String>) {
    if feed.name.is_empty()
        || !feed
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problems.push(format!(
            "feed.name {:?} must be ASCII lowercase letters, digits or '-' (it goes into the feed's address)",
            feed.name
        ));
    }
    for (what, url) in [("base_url", &feed.base_url), ("image", &feed.image)] {
        if let Some(url) = url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!(
                "feed.{what} {url:?} must start with http:// or https://"
            ));
        }
    }
    if let Some(email) = &feed.email
        && !email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !email.contains(char::is_whitespace)
        })
    {
        problems.push(format!("feed.email {email:?} is not an e-mail address"));
    }
    if !(1..=1000).contains(&feed.items) {
        problems.push(format!("feed.items {} is outside 1–1000", feed.items));
    }
}

fn check_pattern(pattern: &str, problems: &mut Vec<String>) {
    if !pattern.is_ascii() {
        problems.push(format!(
            "file_pattern {pattern:?} must be ASCII (playout systems and FTP servers mangle other names)"
        ));
    }
    if pattern.contains(['/', '\\']) || pattern.starts_with('.') {
        problems.push(format!(
            "file_pattern {pattern:?} must be a plain file name (no folder, not hidden)"
        ));
    }
    if !pattern.to_ascii_lowercase().ends_with(".wav") {
        problems.push(format!("file_pattern {pattern:?} must end in .wav"));
    }
    match placeholders(pattern) {
        Err(e) => problems.push(format!("file_pattern: {e}")),
        Ok(names) => {
            for name in &names {
                if !PATTERN_PLACEHOLDERS.contains(name) {
                    problems.push(format!(
                        "file_pattern: unknown placeholder {{{name}}} (known: {})",
                        PATTERN_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ));
                }
            }
            if !names.iter().any(|n| *n == "date" || *n == "yyyymmdd") || !names.contains(&"slot") {
                problems.push(format!(
                    "file_pattern {pattern:?} needs a date ({{date}} or {{yyyymmdd}}) and {{slot}}, or bulletins overwrite each other"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(extra_slot: &str) -> String {
        format!(
            r#"
[server]
addr = "127.0.0.1:8080"

[bulletin]
station = "Đài truyền thanh thành phố Hưng Yên"
drop_folder = "drop"
greeting = "{{station}} xin kính chào quý vị và các bạn. Hôm nay, {{weekday}}, {{date}}."
sign_off = "Bản tin {{slot}} đến đây là hết."

[bulletin.slots.sang]
label = "sáng"
schedule = "0 6 * * *"
target_minutes = 15
{extra_slot}
"#
        )
    }

    #[test]
    fn parses_with_defaults_and_ignores_other_tables() {
        let config = BulletinConfig::parse("t", &sample(""), Path::new("/etc/bantin")).unwrap();
        assert_eq!(config.time_zone_name, "Asia/Ho_Chi_Minh");
        assert_eq!(config.drop_folder, Path::new("/etc/bantin/drop"));
        let slot = config.slot("sang").unwrap();
        assert_eq!(slot.label, "sáng");
        assert_eq!(slot.target, Duration::from_secs(900));
        assert_eq!(slot.tolerance, Duration::from_secs(60));
        assert_eq!(slot.voice, "vi");
        let date = Date::new(2021, 7, 29).unwrap();
        assert_eq!(config.file_name(date, "sang"), "BANTIN_2021-07-29_sang.wav");
        let err = config.slot("trua").unwrap_err().to_string();
        assert!(err.contains("known: sang"), "{err}");
    }

    #[test]
    fn a_greeting_voice_applies_to_every_slot_unless_one_names_its_own() {
        let text = sample("[bulletin.slots.toi]\nschedule = \"0 20 * * *\"\ntarget_minutes = 5\ngreeting_voice = \"vi-vn-x-south\"\n")
            .replace("drop_folder = \"drop\"", "drop_folder = \"drop\"\ngreeting_voice = \"fpt-banmai\"");
        let config = BulletinConfig::parse("t", &text, Path::new("/etc/bantin")).unwrap();
        assert_eq!(
            config.slot("sang").unwrap().greeting_voice.as_deref(),
            Some("fpt-banmai")
        );
        assert_eq!(
            config.slot("toi").unwrap().greeting_voice.as_deref(),
            Some("vi-vn-x-south")
        );
        let plain = BulletinConfig::parse("t", &sample(""), Path::new("/etc/bantin")).unwrap();
        assert_eq!(plain.slot("sang").unwrap().greeting_voice, None);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = sample(
            "intro_jingle = \"missing.wav\"\n[bulletin.slots.\"chiều\"]\nschedule = \"61 25 * * *\"\ntarget_minutes = 0\n",
        )
        .replace("BANTIN", "x")
        .replace(
            "drop_folder = \"drop\"",
            "drop_folder = \"drop\"\nfile_pattern = \"BẢNTIN_{date}.wav\"\ntime_zone = \"Mars/Olympus\"",
        )
        .replace("{weekday}", "{thu}");
        let err = BulletinConfig::parse("bantin.toml", &text, Path::new("/nonexistent"))
            .unwrap_err()
            .to_string();
        for want in [
            "must be ASCII",
            "needs a date",
            "Mars/Olympus",
            "unknown placeholder {thu}",
            "missing.wav does not exist",
            "slot name \"chiều\"",
            "bad cron \"61 25 * * *\"",
            "target_minutes = 0",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
    }

    #[test]
    fn the_feed_is_checked_with_the_outputs_it_reads() {
        let with_outputs = |feed: &str| {
            sample(&format!("[bulletin.feed]\n{feed}")).replace(
                "drop_folder = \"drop\"",
                "drop_folder = \"drop\"\nsidecars = [\"script_json\", \"manifest\", \"mp3\"]",
            )
        };
        let config =
            BulletinConfig::parse("t", &with_outputs("name = \"hung-yen\""), Path::new("."))
                .unwrap();
        let feed = config.feed.unwrap();
        assert_eq!((feed.name.as_str(), feed.public), ("hung-yen", false));
        assert_eq!((feed.items, feed.category.as_str()), (30, "News"));
        assert_eq!(feed.base_url, None);

        let err = BulletinConfig::parse(
            "t",
            &with_outputs(
                "name = \"Hưng Yên\"\nbase_url = \"radio.example.vn\"\nitems = 0\nimage = \"logo.png\"\nemail = \"dai\"",
            ),
            Path::new("."),
        )
        .unwrap_err()
        .to_string();
        for want in [
            "feed.name \"Hưng Yên\"",
            "feed.base_url \"radio.example.vn\" must start with http",
            "feed.items 0",
            "feed.image \"logo.png\" must start with http",
            "feed.email \"dai\" is not an e-mail address",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
        // The feed keeps its own copies: the drop folder need not get them.
        let plain = BulletinConfig::parse(
            "t",
            &sample("[bulletin.feed]\nname = \"hy\""),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(plain.feed.unwrap().name, "hy");
    }

    #[test]
    fn rejects_unknown_settings_and_a_missing_table() {
        let err = BulletinConfig::parse("t", &sample("colour = 1"), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
        let err = BulletinConfig::parse("t", "[server]\n", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no [bulletin]"), "{err}");
    }

    #[test]
    fn fill_keeps_unknown_placeholders() {
        assert_eq!(
            fill("a {x} b {y}", |n| (n == "x").then(|| "1".to_string())),
            "a 1 b {y}"
        );
    }
}
