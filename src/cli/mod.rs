//! Command-line arguments (clap) and which library call each command
//! makes. Every command that uses station settings reads them one way
//! ([`station_config`]: `--config` or `./bantin.toml`, then `BANTIN_*`
//! variables, then flags) into one validated [`Config`].
//! Reads stdin when a file is `-` or absent; output files are written
//! atomically; errors go to `main`, which prints them once.
//!
//! One file per family of commands: [`text`] (normalize, segment, ingest,
//! reading input), [`render`] (script, render), [`bulletin`], [`admin`]
//! (serve, tokens, lexicon, voices).

mod admin;
mod bulletin;
mod check;
mod render;
mod text;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};

use bantin::audio::wav::BitDepth;
use bantin::cache::Cache;
use bantin::config::{Config, Overrides};
use bantin::normalize::Normalizer;
use bantin::script::format::Format;
use bantin::settings::AudioSettings;
use bantin::store::Store;
use bantin::voice::Voices;

#[derive(Parser)]
#[command(
    name = "bantin",
    version,
    about = "Vietnamese news articles to broadcast-ready speech"
)]
struct Cli {
    /// Data directory: the database (articles, jobs, station lexicon, tokens),
    /// rendered audio, voices in `voices/`; `lexicon.tsv` there is imported
    /// into the station lexicon whenever it changes.
    #[arg(long, global = true, env = "BANTIN_DATA")]
    data: Option<PathBuf>,
    /// Station configuration [default: ./bantin.toml when it exists, else
    /// the built-in settings]; `BANTIN_*` variables and flags override it.
    #[arg(long, global = true, env = "BANTIN_CONFIG")]
    config: Option<PathBuf>,
    /// A postgres:// URL: the rows live in PostgreSQL (a platform of many
    /// stations, serve nodes and workers), audio in --data, which every
    /// node shares [default: SQLite in --data].
    #[arg(long, global = true, env = "BANTIN_DATABASE")]
    database: Option<String>,
    /// On a platform, the station (its slug) a command works on: tokens,
    /// lexicon, webhooks, bulletins [default: the default station].
    #[arg(long = "station", global = true, env = "BANTIN_STATION_SLUG")]
    station_slug: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Normalize text into what an announcer says.
    Normalize {
        /// One input line in, one spoken line out (the evaluation contract).
        #[arg(long)]
        lines: bool,
        /// Leave out the empty hundreds inside thousands (2021 → hai nghìn
        /// hai mươi mốt); the default says them (hai nghìn không trăm hai mươi mốt).
        #[arg(long)]
        short_hundreds: bool,
        /// Input file; `-` or absent reads stdin.
        file: Option<PathBuf>,
    },
    /// Split text into sentences, one per line.
    Segment {
        /// Each input line is a paragraph: its sentences, then a blank line.
        #[arg(long)]
        lines: bool,
        file: Option<PathBuf>,
    },
    /// Read an article as the newsroom would (text, HTML or DOCX): title,
    /// date, byline, the blocks read on air and every dropped line with its
    /// reason.
    Ingest {
        /// Article file; `-` or absent reads stdin.
        article: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "txt")]
        format: IngestFormat,
    },
    /// Turn an article into a timed script (estimated times).
    Script {
        /// Article file (.txt, .html or .docx; the format is read from the
        /// content); `-` reads stdin.
        article: PathBuf,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Voice [default: the configuration's default_voice].
        #[arg(long)]
        voice: Option<String>,
        /// Output file; stdout when absent.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Render an article to broadcast WAV (or MP3) and a script with measured times.
    Render {
        article: PathBuf,
        /// Voice [default: the configuration's default_voice].
        #[arg(long)]
        voice: Option<String>,
        /// Output file: Broadcast WAV, or MP3 when it ends in `.mp3` (the
        /// `[mp3]` settings); defaults to the article's name with `.wav`.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Measured script; its extension picks the format (.json, .txt, .srt,
        /// .vtt); defaults to the WAV's name with `.json`.
        #[arg(long)]
        script: Option<PathBuf>,
        #[command(flatten)]
        audio: AudioArgs,
    },
    /// Hear a rendered WAV back with the station's recognizer (`[listen]` of
    /// bantin.toml) and flag each cue of its script the voice got wrong.
    /// Exit status: 0 when no cue is flagged, 2 when one is, 1 when the
    /// check could not be made (recognizer missing, failing, hanging or
    /// printing no transcript; a script that is not this audio's).
    Check {
        /// The rendered WAV.
        audio: PathBuf,
        /// Its script JSON with measured times (`bantin render --script`).
        script: PathBuf,
        /// Voice whose baseline applies [default: the script's voice].
        #[arg(long)]
        voice: Option<String>,
        #[arg(long, value_enum, default_value = "txt")]
        format: check::CheckFormat,
        /// Same as `--format json`.
        #[arg(long)]
        json: bool,
    },
    /// List the voices and whether each backend is available.
    Voices {
        #[command(subcommand)]
        action: Option<VoicesAction>,
    },
    /// Build the bulletin of a date into the drop folder (for system cron).
    Bulletin {
        /// Bulletin date, YYYY-MM-DD; today in the station's time zone when absent.
        #[arg(long)]
        date: Option<String>,
        /// Slot name from [bulletin.slots]; every slot when absent.
        #[arg(long)]
        slot: Option<String>,
        /// Article files in editor order (the first is the top story); without
        /// any, the articles approved in the store of --data are built and the
        /// run is recorded there.
        #[arg(long = "article")]
        articles: Vec<PathBuf>,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Run the newsroom HTTP service (and its render jobs).
    Serve {
        /// Listen address, e.g. 127.0.0.1:8080 (port 0 picks a free one).
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
        /// Renders this node runs at once [default: jobs.concurrency]; 0
        /// leaves every render to `bantin worker` processes.
        #[arg(long)]
        render_workers: Option<usize>,
    },
    /// Renders the queued jobs of every station (a platform's render node):
    /// claims one job at a time per slot, holds it with a lease it renews,
    /// and on SIGTERM finishes what it holds and stops.
    Worker {
        /// Renders at once [default: jobs.concurrency].
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// The stations of a platform: list them, create one with its first
    /// admin token, set a station's own settings.
    #[command(subcommand)]
    Station(StationCommand),
    /// API tokens (stored hashed in the data directory).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Station lexicon entries (in the data directory's database).
    #[command(subcommand)]
    Lexicon(LexiconCommand),
    /// Webhooks: URLs told when a render or bulletin is ready, and what was sent.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Register a URL; prints its signing secret once.
    Add {
        url: String,
        /// Events, comma-separated: render.done, render.failed,
        /// bulletin.delivered, check.flagged (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the webhooks (id, URL, events, description).
    List,
    /// Remove a webhook by id; nothing more is sent to it.
    Remove { id: i64 },
    /// The latest deliveries, newest first.
    Deliveries {
        /// Only this webhook's.
        #[arg(long)]
        webhook: Option<i64>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Send a failed delivery again (`bantin serve` sends it).
    Retry { id: i64 },
}

/// How `bantin ingest` prints an article.
#[derive(Clone, Copy, clap::ValueEnum)]
enum IngestFormat {
    /// Metadata lines, `[kind] text` per kept block, `line reason: text` per dropped line.
    Txt,
    /// One JSON object: title, published, byline, format, blocks, dropped.
    Json,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token for a person; prints it once (only its hash is stored).
    #[command(alias = "create")]
    Add {
        /// The token's name (ASCII), e.g. the person's login.
        name: String,
        /// read < editor < approver < admin; each may do all the lower ones may.
        #[arg(long, value_enum, default_value = "editor")]
        scope: ScopeArg,
        /// The person who uses it, as revisions, approvals and the audit trail show them.
        #[arg(long)]
        person: Option<String>,
    },
    /// List the active tokens (names, roles, persons; never secrets).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ScopeArg {
    Read,
    Editor,
    Approver,
    Admin,
    /// Creates stations and their first token; belongs to no station.
    Platform,
}

#[derive(Subcommand)]
pub(crate) enum StationCommand {
    /// Print the stations: slug, name, created.
    List,
    /// Create a station; prints its first admin token ("quan-tri"), shown
    /// only now.
    Create {
        /// Short name in URLs and commands: lowercase letters, digits, '-'.
        slug: String,
        /// The station's name as listeners know it.
        #[arg(long)]
        name: String,
        /// The person who holds the first admin token.
        #[arg(long)]
        person: Option<String>,
    },
    /// Set a station's own settings from a TOML file (bantin.toml's station
    /// tables: station, default_voice, [voices.*], [bulletin], [listen]…).
    Settings {
        slug: String,
        /// The TOML file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum LexiconCommand {
    /// Print the station entries as TSV (key, spoken, context, comment).
    List,
    /// Add an entry (validated like every lexicon row).
    Add {
        key: String,
        spoken: String,
        /// Trigger phrases separated by `|`.
        #[arg(long, default_value = "")]
        context: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Remove the entries of a key (only the one with --context, when given).
    Remove {
        key: String,
        #[arg(long)]
        context: Option<String>,
    },
    /// Import a TSV file; every row is checked first, nothing is written if one is bad.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum VoicesAction {
    /// Measure a voice's syllables per minute on a reference text and store
    /// it in its profile (a built-in voice gets a copy in DATA/voices/).
    /// With a recognizer configured (`[listen]`), also hear the reference
    /// back and store the voice's word error rate as its listen-check
    /// baseline (DATA/listen-baselines.tsv).
    Calibrate {
        name: String,
        /// Reference text (an article); the shipped Vietnamese news text by default.
        #[arg(long)]
        text: Option<PathBuf>,
    },
    /// Add a self-hosted Piper voice the technician copied in: writes
    /// DATA/voices/NAME.toml, checks that the voice speaks (through Piper
    /// kept loaded) and calibrates its rate.
    Add {
        name: String,
        /// The Piper model (`vi_VN-….onnx`).
        model: PathBuf,
        /// The model's configuration [default: MODEL.json beside it].
        #[arg(long)]
        config: Option<PathBuf>,
        /// Piper's program (from `pip install piper-tts`): a path or a name in PATH.
        #[arg(long, default_value = "piper")]
        program: String,
        /// Reference text for the rate (an article); the shipped Vietnamese
        /// news text by default.
        #[arg(long)]
        text: Option<PathBuf>,
        /// Replace a profile of that name.
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::Args)]
struct AudioArgs {
    /// Output sample rate, Hz [default: `[audio]` of the configuration, 48000].
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["48000", "44100"]).map(|s| s.parse::<u32>().expect("listed values are numbers")))]
    rate: Option<u32>,
    /// Bits per sample [default: `[audio]` of the configuration, 16].
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["16", "24"]).map(|s| s.parse::<u16>().expect("listed values are numbers")))]
    bits: Option<u16>,
    #[command(flatten)]
    cache: CacheArgs,
    /// Backend calls at once (the voice's own bound also applies).
    #[arg(long)]
    jobs: Option<usize>,
    /// `bext` Originator (the station).
    #[arg(long, default_value = "bantin")]
    originator: String,
    /// Hear the render back with the station's recognizer (`[listen]`)
    /// and report the cues the voice got wrong; exit status 2 when a cue
    /// is flagged (the files are written either way). On by default
    /// when `[listen] enabled = true`.
    #[arg(long, overrides_with = "no_check")]
    check: bool,
    /// Do not check, whatever `[listen] enabled` says.
    #[arg(long)]
    no_check: bool,
}

impl AudioArgs {
    /// The station's audio settings with the format flags given applied.
    fn settings(&self, station: &AudioSettings) -> AudioSettings {
        AudioSettings {
            sample_rate_hz: self.rate.unwrap_or(station.sample_rate_hz),
            bit_depth: match self.bits {
                Some(24) => BitDepth::TwentyFour,
                Some(_) => BitDepth::Sixteen,
                None => station.bit_depth,
            },
            ..*station
        }
    }
}

/// Where cue audio is cached (renders and bulletins share the folder).
#[derive(clap::Args, Default)]
struct CacheArgs {
    /// Cue audio cache folder [default: DATA/cache with --data, else
    /// $XDG_CACHE_HOME/bantin or ~/.cache/bantin].
    #[arg(long, env = "BANTIN_CACHE")]
    cache: Option<PathBuf>,
    /// Synthesize every cue again, neither reading nor writing the cache.
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    fn open(&self, data: Option<&Path>) -> Result<Option<Cache>> {
        if self.no_cache {
            return Ok(None);
        }
        let dir = match (&self.cache, data) {
            (Some(dir), _) => dir.clone(),
            (None, Some(data)) => bantin::cache::folder_in(data),
            (None, None) => match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
                Some(xdg) => PathBuf::from(xdg).join("bantin"),
                None => match std::env::var_os("HOME") {
                    Some(home) => PathBuf::from(home).join(".cache/bantin"),
                    None => PathBuf::from("bantin-data/cache"),
                },
            },
        };
        Ok(Some(Cache::open(&dir)?))
    }
}

/// Where the command line says the rows live and which station it works
/// on (`--database`, `--station`), read once by [`run`].
static PLATFORM: std::sync::OnceLock<(Option<String>, Option<String>)> = std::sync::OnceLock::new();

fn platform() -> (Option<&'static str>, Option<&'static str>) {
    let (database, station) = PLATFORM.get_or_init(|| (None, None));
    (database.as_deref(), station.as_deref())
}

pub fn run() -> Result<()> {
    let cli = Cli::parse();
    PLATFORM
        .set((cli.database.clone(), cli.station_slug.clone()))
        .expect("run is called once");
    let data = cli.data.as_deref();
    let config = cli.config.as_deref();
    match cli.command {
        Command::Normalize {
            lines,
            short_hundreds,
            file,
        } => {
            let style = bantin::normalize::NumberStyle {
                empty_hundreds: !short_hundreds,
                ..Default::default()
            };
            text::normalize(&normalizer(data)?.with_style(style), lines, file.as_deref())
        }
        Command::Segment { lines, file } => text::segment_text(lines, file.as_deref()),
        Command::Ingest { article, format } => text::ingest_article(article.as_deref(), format),
        Command::Script {
            article,
            format,
            voice,
            output,
        } => render::script(
            data,
            &station_config(config, data, None)?,
            &article,
            format,
            voice.as_deref(),
            output.as_deref(),
        ),
        Command::Render {
            article,
            voice,
            output,
            script,
            audio,
        } => render::render(
            data,
            &station_config(config, data, None)?,
            &article,
            voice.as_deref(),
            output,
            script,
            &audio,
        ),
        Command::Check {
            audio,
            script,
            voice,
            format,
            json,
        } => check::check(
            data,
            &station_config(config, data, None)?,
            &audio,
            &script,
            voice.as_deref(),
            if json {
                check::CheckFormat::Json
            } else {
                format
            },
        ),
        Command::Voices { action: None } => admin::list_voices(data),
        Command::Voices {
            action: Some(VoicesAction::Calibrate { name, text }),
        } => admin::calibrate(
            data,
            &station_config(config, data, None)?,
            &name,
            text.as_deref(),
        ),
        Command::Voices {
            action:
                Some(VoicesAction::Add {
                    name,
                    model,
                    config,
                    program,
                    text,
                    force,
                }),
        } => admin::add_voice(
            data,
            &admin::NewPiperVoice {
                name,
                model,
                config,
                program,
            },
            text.as_deref(),
            force,
        ),
        Command::Serve {
            addr,
            render_workers,
        } => {
            let mut config = station_config(config, data, addr)?;
            match render_workers {
                Some(0) => config.jobs.serve_renders = false,
                Some(n) => config.jobs.concurrency = n,
                None => {}
            }
            config.validate()?;
            admin::serve(config)
        }
        Command::Worker { concurrency } => {
            let mut config = station_config(config, data, None)?;
            if let Some(n) = concurrency {
                config.jobs.concurrency = n;
            }
            config.validate()?;
            admin::worker(config)
        }
        Command::Station(command) => {
            admin::station(&store(data)?, station_config(config, data, None)?, command)
        }
        Command::Token(command) => admin::token(&store(data)?, command),
        Command::Lexicon(command) => admin::lexicon(&store(data)?, command),
        Command::Webhook(command) => admin::webhook(&store(data)?, command),
        Command::Bulletin {
            date,
            slot,
            articles,
            cache,
        } => bulletin::bulletin(
            data,
            settings_of_station(station_config(config, data, None)?, data)?,
            date.as_deref(),
            slot.as_deref(),
            &articles,
            &cache,
        ),
    }
}

/// The station's settings, read the same way for every command: the file
/// named by `--config` (or `BANTIN_CONFIG`), else `./bantin.toml` when it
/// exists, else the built-in settings; then `BANTIN_*` variables; then
/// `--data` and `--addr`. Validated once, in [`Config::load`].
fn station_config(
    config: Option<&Path>,
    data: Option<&Path>,
    addr: Option<std::net::SocketAddr>,
) -> Result<Config> {
    let default = Path::new("bantin.toml");
    let file = config.or_else(|| default.exists().then_some(default));
    Ok(Config::load(
        file,
        |name| std::env::var(name).ok(),
        &Overrides {
            data_dir: data.map(Path::to_path_buf),
            database: platform().0.map(str::to_owned),
            addr,
        },
    )?)
}

/// `config` as the station named by `--station` has it (its own settings
/// laid over the install's); the install's own without `--station`.
fn settings_of_station(config: Config, data: Option<&Path>) -> Result<Config> {
    let Some(slug) = platform().1 else {
        return Ok(config);
    };
    let station = store(data)?.station_by_slug(slug)?;
    if station.id == bantin::store::DEFAULT_STATION {
        return Ok(config);
    }
    Ok(config.for_station(&station.slug, &station.name, &station.settings)?)
}

/// The store of `--data` (rows in `--database` when given), scoped to the
/// station named by `--station`.
fn store(data: Option<&Path>) -> Result<Store> {
    let dir = data.context("name the data directory with --data DIR (or BANTIN_DATA)")?;
    let (database, station) = platform();
    let store = Store::open_with(dir, database).with_context(|| match database {
        Some(_) => format!("opening the platform store (audio in {})", dir.display()),
        None => format!("opening the store in {}", dir.display()),
    })?;
    scoped(store, station)
}

/// `store` seeing only the station `slug` (the default station without one).
fn scoped(store: Store, slug: Option<&str>) -> Result<Store> {
    let Some(slug) = slug else {
        return Ok(store);
    };
    let station = store
        .station_by_slug(slug)
        .with_context(|| format!("the station {slug:?} (bantin station list shows them)"))?;
    Ok(store.for_station(station.id))
}

/// The built-in tables plus the station entries of the data directory's store
/// (which imports `DIR/lexicon.tsv` when it changed).
fn normalizer(data: Option<&Path>) -> Result<Normalizer> {
    let normalizer = Normalizer::builtin().context("built-in lexicon")?;
    let Some(_) = data else {
        return Ok(normalizer);
    };
    let station = store(data)?.station_lexicon()?;
    Ok(normalizer.with_station(&station))
}

fn voices(data: Option<&Path>) -> Result<Voices> {
    Ok(Voices::load(data.map(|d| d.join("voices")).as_deref())?)
}
