//! Station configuration (`bantin.toml`): station name, data directory,
//! listen address, request limits, job concurrency and audio settings.
//! Values come from the file, then `BANTIN_*` environment variables, then
//! command-line flags (each later source wins), and are validated once here;
//! everything downstream trusts a [`Config`]. Knows nothing of HTTP or SQL.
//!
//! ```toml
//! station = "Đài Phát thanh và Truyền hình Hưng Yên"
//! data_dir = "/var/lib/bantin"
//! addr = "127.0.0.1:8080"
//! default_voice = "vi"
//!
//! [limits]
//! max_body_bytes = 10485760
//! request_timeout = 30        # seconds
//! prepare_workers = 2         # scripts and reviews prepared at once (default: one per core)
//! prepare_queue = 32          # requests waiting for a worker; more get 503
//! prepared_cache_bytes = 67108864  # prepared scripts kept in memory; 0 keeps none
//!
//! [jobs]
//! concurrency = 2
//! shutdown_grace = 20         # seconds a running render may take to finish on shutdown
//!
//! [cache]
//! max_bytes = 2147483648      # speech cache cap; the entries used longest ago go first
//!
//! [webhooks]                  # hooks::WebhookSettings: calls and retries
//! timeout_seconds = 10
//! max_attempts = 30
//!
//! [listen]                    # listen::ListenSettings: the listen check
//! enabled = true
//! [voices.fpt-banmai]         # per-voice settings (a cloud voice's bill)
//! daily_chars = 200000        # characters a day, counted in the bulletin time zone
//!
//! [audio]                     # settings::AudioSettings
//! sample_rate_hz = 48000
//! bit_depth = "16"
//!
//! [mp3]                       # audio::mp3::Mp3Settings: `-o FILE.mp3`, loudspeaker systems
//! bit_rate_kbps = 64
//! channels = "mono"           # or "stereo"
//! sample_rate_hz = 44100
//!
//! [opus]                      # audio::opus::OpusSettings: the `opus` bulletin output, downloads
//! bit_rate_kbps = 32
//! channels = "mono"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bulletin::{BulletinConfig, BulletinConfigError};
use crate::listen::ListenSettings;
use crate::settings::AudioSettings;
use crate::voice::DEFAULT_VOICE;

/// Validated station configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The station's name, spoken in bulletins and shown on pages.
    pub station: String,
    /// Holds the SQLite database and the audio files. On a platform
    /// (`database` set) it is the directory every node shares (NFS or the
    /// like): audio, the cue cache, voices and drop folders live there.
    pub data_dir: PathBuf,
    /// A `postgres://` URL when the rows live in PostgreSQL (a platform of
    /// many stations, serve nodes and workers); unset, SQLite in `data_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub addr: SocketAddr,
    /// Voice used when a request names none.
    pub default_voice: String,
    pub limits: RequestLimits,
    pub jobs: Jobs,
    pub cache: CacheSettings,
    pub audio: AudioSettings,
    /// MP3 files for loudspeaker systems and the podcast feed (`[mp3]`).
    pub mp3: crate::audio::mp3::Mp3Settings,
    /// Ogg Opus files for listeners online (`[opus]`).
    pub opus: crate::audio::opus::OpusSettings,
    /// The listen check (`[listen]`): recognizer, margin, on by default or not.
    pub listen: ListenSettings,
    /// How webhooks are called and retried (`[webhooks]`).
    pub webhooks: crate::hooks::WebhookSettings,
    /// Station settings of each voice by name (`[voices.<name>]`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub voices: std::collections::BTreeMap<String, VoiceSettings>,
    /// The `[bulletin]` table as written; read with [`Config::bulletin`].
    /// Without it the built-in bulletin settings apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulletin: Option<toml::Value>,
    /// The folder of the configuration file: relative bulletin paths
    /// (jingles, drop folder) are relative to it.
    #[serde(skip)]
    pub config_dir: Option<PathBuf>,
    /// A platform station's own folder in the shared data directory
    /// (`DATA/stations/<slug>`): its drop folder and feed copies live there
    /// unless its settings say otherwise. `None` for the default station.
    #[serde(skip)]
    pub station_dir: Option<PathBuf>,
}

/// Lays `top` over `base`: tables merge key by key, other values replace.
fn merge_tables(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(below)), toml::Value::Table(above)) => {
                merge_tables(below, above);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Keys of bantin.toml that belong to the platform, not to one station.
const PLATFORM_KEYS: [&str; 6] = ["data_dir", "database", "addr", "limits", "jobs", "cache"];

/// The bulletin settings used when bantin.toml has no `[bulletin]` table:
/// two slots in the station's default time zone, no jingles, delivered into
/// `DATA/drop`. `{station}` and `{drop_folder}` are filled in.
const DEFAULT_BULLETIN: &str = r#"[bulletin]
station = "{station}"
drop_folder = "{drop_folder}"
greeting = "{station} xin kính chào quý vị và các bạn. Hôm nay, {weekday}, {date}. Mời quý vị và các bạn nghe bản tin {slot}."
sign_off = "Bản tin {slot} của {station} đến đây là kết thúc. Xin cảm ơn quý vị và các bạn đã chú ý lắng nghe."

[bulletin.slots.sang]
label = "sáng"
schedule = "0 6 * * *"
target_minutes = 15

[bulletin.slots.chieu]
label = "chiều"
schedule = "0 17 * * *"
target_minutes = 15
"#;

/// The station name spoken by the built-in bulletin when the configuration
/// names none of its own (the default `station` is not a spoken name).
const DEFAULT_SPOKEN_STATION: &str = "Đài truyền thanh";

/// Request limits of the service (`[limits]`); the limits of an article itself
/// are [`crate::limits::Limits`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestLimits {
    /// Largest request body (uploads included).
    pub max_body_bytes: usize,
    /// A request that takes longer is answered with 408.
    #[serde(with = "crate::voice::seconds")]
    pub request_timeout: Duration,
    /// Scripts and reviews prepared at the same time for requests.
    pub prepare_workers: usize,
    /// Requests that may wait for a preparation worker; the next gets 503.
    pub prepare_queue: usize,
    /// Memory for prepared scripts and their answers (estimated); 0 keeps none.
    pub prepared_cache_bytes: usize,
    /// What one article may hold (`[limits.article]`): checked on upload,
    /// and again when a stored revision is read.
    pub article: crate::limits::Limits,
}

/// Render job settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Jobs {
    /// Renders running at the same time.
    pub concurrency: usize,
    /// Whether `bantin serve` renders too. On a platform, serve nodes may
    /// leave every render to `bantin worker` processes (`serve
    /// --render-workers 0`).
    pub serve_renders: bool,
    /// On shutdown, how long running renders may take to finish before they
    /// are stopped and requeued.
    #[serde(with = "crate::voice::seconds")]
    pub shutdown_grace: Duration,
    /// On a platform, how long a worker holds a job without renewing it
    /// (it renews every third of this while rendering): a worker that dies
    /// loses its jobs to the others after at most this long.
    #[serde(with = "crate::voice::seconds")]
    pub lease: Duration,
}

/// The speech cache (`DATA/cache`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Size cap in bytes; [`crate::cache::DEFAULT_MAX_BYTES`] by default.
    pub max_bytes: u64,
}

/// A voice's station settings (`[voices.<name>]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoiceSettings {
    /// Characters a cloud voice may be billed per day (the station's day,
    /// in the bulletin time zone); a render past it is refused before any
    /// vendor call. No cap when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_chars: Option<u64>,
}

impl Config {
    /// The daily character cap of `voice`, if the station set one.
    pub fn daily_chars(&self, voice: &str) -> Option<u64> {
        self.voices.get(voice).and_then(|v| v.daily_chars)
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            max_bytes: crate::cache::DEFAULT_MAX_BYTES,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            station: "bantin".into(),
            data_dir: PathBuf::from("data"),
            database: None,
            station_dir: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            default_voice: DEFAULT_VOICE.into(),
            limits: RequestLimits::default(),
            jobs: Jobs::default(),
            cache: CacheSettings::default(),
            audio: AudioSettings::default(),
            mp3: crate::audio::mp3::Mp3Settings::default(),
            opus: crate::audio::opus::OpusSettings::default(),
            listen: ListenSettings::default(),
            webhooks: crate::hooks::WebhookSettings::default(),
            voices: std::collections::BTreeMap::new(),
            bulletin: None,
            config_dir: None,
        }
    }
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            prepare_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            prepare_queue: 32,
            prepared_cache_bytes: 64 * 1024 * 1024,
            article: crate::limits::Limits::default(),
        }
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            concurrency: 2,
            serve_renders: true,
            shutdown_grace: Duration::from_secs(20),
            lease: Duration::from_secs(30),
        }
    }
}

/// Values given on the command line; `None` keeps the earlier source's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub addr: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("environment variable {name}={value:?}: {reason}")]
    Env {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The `BANTIN_*` variables [`Config::load`] reads, for docs and errors.
pub const ENV_VARS: [&str; 10] = [
    "BANTIN_JOB_LEASE",
    "BANTIN_STATION",
    "BANTIN_DATA",
    "BANTIN_DATABASE",
    "BANTIN_ADDR",
    "BANTIN_DEFAULT_VOICE",
    "BANTIN_MAX_BODY_BYTES",
    "BANTIN_REQUEST_TIMEOUT",
    "BANTIN_JOB_CONCURRENCY",
    "BANTIN_SHUTDOWN_GRACE",
];

impl Config {
    /// Reads `file` (when given), applies the environment (`env` looks a
    /// variable up; pass `|k| std::env::var(k).ok()`), then `overrides`, and
    /// validates the result.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the variable or the bad value.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                let mut config = Config::parse(&path.display().to_string(), &text)?;
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                // A relative data_dir in the file means beside the file, as
                // its jingles and drop folder do, wherever bantin is started.
                let named_in_file = text
                    .parse::<toml::Table>()
                    .is_ok_and(|table| table.contains_key("data_dir"));
                if named_in_file && config.data_dir.is_relative() {
                    config.data_dir = dir.join(&config.data_dir);
                }
                config.config_dir = Some(dir);
                config
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        if let Some(data) = &overrides.data_dir {
            config.data_dir = data.clone();
        }
        if let Some(database) = &overrides.database {
            config.database = Some(database.clone());
        }
        if let Some(addr) = overrides.addr {
            config.addr = addr;
        }
        config.validate()?;
        Ok(config)
    }

    /// The configuration of a platform station: these settings with the
    /// station's own (`settings`, bantin.toml's station tables: `station`,
    /// `default_voice`, `[voices.*]`, `[bulletin]`, `[listen]`, `[mp3]`…)
    /// laid over them. The install's `[bulletin]` is the default station's
    /// and is not inherited: a station without one gets the built-in
    /// bulletins, delivered into its own drop folder. Relative paths in its
    /// settings are relative to its folder, `DATA/stations/<slug>`.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for settings that are not TOML or name a
    /// platform-wide key; [`ConfigError::Invalid`] as [`Config::validate`].
    pub fn for_station(
        &self,
        slug: &str,
        name: &str,
        settings: &str,
    ) -> Result<Config, ConfigError> {
        let origin = format!("settings of station {slug}");
        let parse_error = |reason: String| ConfigError::Parse {
            path: origin.clone(),
            reason,
        };
        let own: toml::Table = settings
            .parse()
            .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
        if let Some(key) = PLATFORM_KEYS.iter().find(|k| own.contains_key(**k)) {
            return Err(parse_error(format!(
                "{key} is set for the whole platform, in bantin.toml, not per station"
            )));
        }
        let mut merged = toml::Table::try_from(self).map_err(|e| parse_error(e.to_string()))?;
        merged.remove("bulletin");
        merged.insert("station".into(), toml::Value::String(name.to_owned()));
        merge_tables(&mut merged, own);
        let mut config: Config = merged
            .try_into()
            .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
        let dir = self.data_dir.join("stations").join(slug);
        config.config_dir = Some(dir.clone());
        config.station_dir = Some(dir);
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text (not yet validated).
    ///
    /// # Errors
    /// [`ConfigError::Parse`] with the TOML error (line and key).
    pub fn parse(origin: &str, text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            reason: e.to_string(),
        })
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parsed<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.trim().parse().map_err(|e: T::Err| ConfigError::Env {
                name,
                value: value.to_string(),
                reason: e.to_string(),
            })
        }
        fn seconds(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
            let secs: f64 = parsed(name, value)?;
            Duration::try_from_secs_f64(secs).map_err(|e| ConfigError::Env {
                name,
                value: value.to_string(),
                reason: e.to_string(),
            })
        }
        let get = |name: &str| env(name).filter(|v| !v.is_empty());
        if let Some(v) = get("BANTIN_STATION") {
            self.station = v;
        }
        if let Some(v) = get("BANTIN_DATA") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("BANTIN_DATABASE") {
            self.database = Some(v);
        }
        if let Some(v) = get("BANTIN_ADDR") {
            self.addr = parsed("BANTIN_ADDR", &v)?;
        }
        if let Some(v) = get("BANTIN_DEFAULT_VOICE") {
            self.default_voice = v;
        }
        if let Some(v) = get("BANTIN_MAX_BODY_BYTES") {
            self.limits.max_body_bytes = parsed("BANTIN_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = get("BANTIN_REQUEST_TIMEOUT") {
            self.limits.request_timeout = seconds("BANTIN_REQUEST_TIMEOUT", &v)?;
        }
        if let Some(v) = get("BANTIN_PREPARE_WORKERS") {
            self.limits.prepare_workers = parsed("BANTIN_PREPARE_WORKERS", &v)?;
        }
        if let Some(v) = get("BANTIN_PREPARE_QUEUE") {
            self.limits.prepare_queue = parsed("BANTIN_PREPARE_QUEUE", &v)?;
        }
        if let Some(v) = get("BANTIN_PREPARED_CACHE_BYTES") {
            self.limits.prepared_cache_bytes = parsed("BANTIN_PREPARED_CACHE_BYTES", &v)?;
        }
        if let Some(v) = get("BANTIN_JOB_CONCURRENCY") {
            self.jobs.concurrency = parsed("BANTIN_JOB_CONCURRENCY", &v)?;
        }
        if let Some(v) = get("BANTIN_JOB_LEASE") {
            self.jobs.lease = seconds("BANTIN_JOB_LEASE", &v)?;
        }
        if let Some(v) = get("BANTIN_SHUTDOWN_GRACE") {
            self.jobs.shutdown_grace = seconds("BANTIN_SHUTDOWN_GRACE", &v)?;
        }
        Ok(())
    }

    /// Checks every value; reports all problems at once.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] listing each problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.station.trim().is_empty() {
            problems.push("station must not be empty".to_string());
        }
        if self.data_dir.as_os_str().is_empty() {
            problems.push("data_dir must not be empty".to_string());
        }
        if let Some(database) = &self.database
            && !crate::store::is_postgres_url(database)
        {
            problems.push(format!(
                "database must be a postgres:// URL (leave it out for SQLite in data_dir), not {database:?}"
            ));
        }
        if self.default_voice.trim().is_empty() {
            problems.push("default_voice must not be empty".to_string());
        }
        if !(1024..=1024 * 1024 * 1024).contains(&self.limits.max_body_bytes) {
            problems.push(format!(
                "limits.max_body_bytes {} is outside 1 KiB–1 GiB",
                self.limits.max_body_bytes
            ));
        }
        if self.limits.request_timeout < Duration::from_secs(1) {
            problems.push("limits.request_timeout must be at least 1 second".to_string());
        }
        if !(1..=256).contains(&self.limits.prepare_workers) {
            problems.push(format!(
                "limits.prepare_workers {} is outside 1–256",
                self.limits.prepare_workers
            ));
        }
        if self.limits.prepare_queue > 100_000 {
            problems.push(format!(
                "limits.prepare_queue {} is above 100000",
                self.limits.prepare_queue
            ));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&self.jobs.lease) {
            problems.push(format!(
                "jobs.lease {:?} is outside 1 s – 1 h",
                self.jobs.lease
            ));
        }
        if !(1..=64).contains(&self.jobs.concurrency) {
            problems.push(format!(
                "jobs.concurrency {} is outside 1–64",
                self.jobs.concurrency
            ));
        }
        if ![44_100, 48_000].contains(&self.audio.sample_rate_hz) {
            problems.push(format!(
                "audio.sample_rate_hz {} must be 44100 or 48000",
                self.audio.sample_rate_hz
            ));
        }
        problems.extend(self.mp3.problems());
        problems.extend(self.opus.problems());
        problems.extend(self.listen.problems());
        problems.extend(self.webhooks.problems());
        if let Err(e) = self.bulletin() {
            problems.push(e.to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems.join("; ")))
        }
    }

    /// The bulletin settings: the `[bulletin]` table (paths relative to the
    /// configuration file's folder), or the built-in ones delivering into
    /// `DATA/drop`.
    ///
    /// # Errors
    /// [`BulletinConfigError`] naming every invalid setting.
    pub fn bulletin(&self) -> Result<BulletinConfig, BulletinConfigError> {
        let mut config = self.bulletin_table()?;
        config.encodings = crate::bulletin::config::Encodings {
            mp3: self.mp3,
            opus: self.opus,
        };
        let home = self.station_dir.as_ref().unwrap_or(&self.data_dir);
        config.feed_folder = config
            .feed
            .as_ref()
            .map(|feed| home.join("feed").join(&feed.name));
        if self.listen.enabled {
            config.listen = Some(crate::listen::BulletinListen {
                settings: self.listen.clone(),
                data_dir: self.data_dir.clone(),
            });
        }
        Ok(config)
    }

    fn bulletin_table(&self) -> Result<BulletinConfig, BulletinConfigError> {
        match &self.bulletin {
            Some(table) => {
                let mut file = toml::Table::new();
                file.insert("bulletin".into(), table.clone());
                let text = toml::to_string(&file).map_err(|e| BulletinConfigError::Parse {
                    origin: "[bulletin]".into(),
                    reason: e.to_string(),
                })?;
                let base = self
                    .config_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("."));
                BulletinConfig::parse("[bulletin]", &text, &base)
            }
            None => {
                let station = if self.station == Config::default().station {
                    DEFAULT_SPOKEN_STATION
                } else {
                    self.station.as_str()
                };
                let quoted = |v: &str| {
                    let s = toml::Value::String(v.to_string()).to_string();
                    s[1..s.len() - 1].to_string()
                };
                let text = DEFAULT_BULLETIN
                    .replace("{station}\"", &format!("{}\"", quoted(station)))
                    .replace(
                        "{drop_folder}",
                        &quoted(
                            &self
                                .station_dir
                                .as_ref()
                                .unwrap_or(&self.data_dir)
                                .join("drop")
                                .to_string_lossy(),
                        ),
                    );
                BulletinConfig::parse("built-in bulletin settings", &text, Path::new("."))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_voice_table_sets_its_daily_character_cap() {
        let config = Config::parse(
            "bantin.toml",
            "[voices.fpt-banmai]\ndaily_chars = 5000\n[voices.vi]\n",
        )
        .unwrap();
        assert_eq!(config.daily_chars("fpt-banmai"), Some(5000));
        assert_eq!(config.daily_chars("vi"), None);
        assert_eq!(config.daily_chars("nobody"), None);
        let err = Config::parse("bantin.toml", "[voices.x]\ndaily_char = 5\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn a_station_lays_its_settings_over_the_installs_but_not_its_bulletin() {
        let install = Config::parse(
            "test",
            "station = \"Đài thành phố\"\ndata_dir = \"/srv/bantin\"\n\
             [bulletin]\nstation = \"Đài thành phố\"\ndrop_folder = \"/playout/city\"\n\
             [bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 * * *\"\n",
        )
        .unwrap();
        let station = install
            .for_station(
                "quan-mot",
                "Đài Quận Một",
                "default_voice = \"vi-vn-x-south\"\n",
            )
            .unwrap();
        assert_eq!(station.station, "Đài Quận Một");
        assert_eq!(station.default_voice, "vi-vn-x-south");
        assert_eq!(station.data_dir, install.data_dir, "the shared directory");
        let bulletin = station.bulletin().unwrap();
        assert_eq!(
            bulletin.drop_folder,
            Path::new("/srv/bantin/stations/quan-mot/drop"),
            "its own drop folder, not the city's"
        );
        let err = install
            .for_station(
                "quan-mot",
                "Đài Quận Một",
                "database = \"postgres://x/y\"\n",
            )
            .unwrap_err();
        assert!(err.to_string().contains("whole platform"), "{err}");
        assert!(install.for_station("quan-mot", "Đài", "[bulletin").is_err());
    }

    #[test]
    fn a_relative_data_dir_in_the_file_is_beside_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bantin.toml");
        std::fs::write(&path, "data_dir = \"station-data\"\n").unwrap();
        let config = Config::load(Some(&path), |_| None, &Overrides::default()).unwrap();
        assert_eq!(config.data_dir, dir.path().join("station-data"));
        // Not named in the file: the default stays where bantin runs.
        std::fs::write(&path, "station = \"Đài\"\n").unwrap();
        let config = Config::load(Some(&path), |_| None, &Overrides::default()).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bantin.toml");
        std::fs::write(
            &path,
            "station = \"Đài Hưng Yên\"\ndata_dir = \"/file\"\naddr = \"127.0.0.1:9000\"\n[jobs]\nconcurrency = 3\n[limits]\nrequest_timeout = 12\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&path),
            env(&[("BANTIN_DATA", "/env"), ("BANTIN_JOB_CONCURRENCY", "4")]),
            &Overrides {
                data_dir: None,
                database: None,
                addr: Some("127.0.0.1:7000".parse().unwrap()),
            },
        )
        .unwrap();
        assert_eq!(config.station, "Đài Hưng Yên");
        assert_eq!(config.data_dir, PathBuf::from("/env"));
        assert_eq!(config.addr.port(), 7000);
        assert_eq!(config.jobs.concurrency, 4);
        assert_eq!(config.limits.request_timeout, Duration::from_secs(12));
        assert_eq!(config.limits.max_body_bytes, 10 * 1024 * 1024);

        let flagged = Config::load(
            Some(&path),
            env(&[("BANTIN_DATA", "/env")]),
            &Overrides {
                data_dir: Some("/flag".into()),
                database: None,
                addr: None,
            },
        )
        .unwrap();
        assert_eq!(flagged.data_dir, PathBuf::from("/flag"));
        assert_eq!(flagged.addr.port(), 9000);
    }

    #[test]
    fn reads_the_bulletin_table_or_uses_the_built_in_one() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bantin.toml");
        let config = Config::load(Some(&example), |_| None, &Overrides::default()).unwrap();
        let bulletin = config.bulletin().unwrap();
        assert_eq!(bulletin.station, "Đài truyền thanh thành phố Hưng Yên");
        assert_eq!(bulletin.slots.len(), 2);
        // Relative jingle paths are relative to the file's folder.
        let intro = bulletin.slot("sang").unwrap().intro_jingle.clone().unwrap();
        assert_eq!(intro, example.parent().unwrap().join("jingles/intro.wav"));

        let plain = Config::load(
            None,
            |_| None,
            &Overrides {
                data_dir: Some("/srv/bantin".into()),
                database: None,
                addr: None,
            },
        )
        .unwrap();
        let built_in = plain.bulletin().unwrap();
        let names: Vec<&str> = built_in.slots.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["chieu", "sang"]);
        assert_eq!(built_in.drop_folder, PathBuf::from("/srv/bantin/drop"));
        assert_eq!(built_in.station, DEFAULT_SPOKEN_STATION);
        assert_eq!(built_in.time_zone_name, "Asia/Ho_Chi_Minh");

        let err = Config::parse("x.toml", "[bulletin]\nstation = \"x\"\n")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("bulletin"), "{err}");
    }

    #[test]
    fn reports_bad_values_by_source() {
        let err = Config::parse("x.toml", "statoin = \"typo\"\n").unwrap_err();
        assert!(err.to_string().contains("statoin"), "{err}");
        let err = Config::load(
            None,
            env(&[("BANTIN_ADDR", "not an address")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("BANTIN_ADDR"), "{err}");
        let err = Config::load(
            None,
            env(&[("BANTIN_JOB_CONCURRENCY", "0"), ("BANTIN_STATION", " ")]),
            &Overrides::default(),
        );
        // An all-blank station is kept (only empty variables are ignored) and refused.
        let err = err.unwrap_err().to_string();
        assert!(
            err.contains("jobs.concurrency 0") && err.contains("station"),
            "{err}"
        );
    }
}
