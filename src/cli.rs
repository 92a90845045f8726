//! Command-line arguments (clap) and what each command does with the library.
//! Reads stdin when a file is `-` or absent; output files are written
//! atomically; errors go to `main`, which prints them once.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};

use bantin::audio::wav::BitDepth;
use bantin::cache::Cache;
use bantin::config::{Config, Overrides};
use bantin::limits::Limits;
use bantin::normalize::Normalizer;
use bantin::pipeline::{self, Reading};
use bantin::script::format::Format;
use bantin::segment;
use bantin::settings::AudioSettings;
use bantin::speak::{self, Progress};
use bantin::store::{NewLexiconEntry, Scope, Store};
use bantin::voice::{DEFAULT_VOICE, Voice, Voices};

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
        #[arg(long, default_value = DEFAULT_VOICE)]
        voice: String,
        /// Output file; stdout when absent.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Render an article to broadcast WAV and a script with measured times.
    Render {
        article: PathBuf,
        #[arg(long, default_value = DEFAULT_VOICE)]
        voice: String,
        /// Output WAV; defaults to the article's name with `.wav`.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Measured script; its extension picks the format (.json, .txt, .srt,
        /// .vtt); defaults to the WAV's name with `.json`.
        #[arg(long)]
        script: Option<PathBuf>,
        #[command(flatten)]
        audio: AudioArgs,
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
        #[arg(long, default_value = "bantin.toml")]
        config: PathBuf,
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
        /// Station configuration; `BANTIN_*` variables and flags override it.
        #[arg(long, env = "BANTIN_CONFIG")]
        config: Option<PathBuf>,
        /// Listen address, e.g. 127.0.0.1:8080 (port 0 picks a free one).
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
    /// API tokens (stored hashed in the data directory).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Station lexicon entries (in the data directory's database).
    #[command(subcommand)]
    Lexicon(LexiconCommand),
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
    /// Make a token; prints it once (only its hash is stored).
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "editor")]
        scope: ScopeArg,
    },
    /// List the active tokens (names and scopes, never secrets).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ScopeArg {
    Editor,
    Read,
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
    Calibrate {
        name: String,
        /// Reference text (an article); the shipped Vietnamese news text by default.
        #[arg(long)]
        text: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct AudioArgs {
    /// Output sample rate, Hz.
    #[arg(long, default_value_t = 48_000, value_parser = clap::builder::PossibleValuesParser::new(["48000", "44100"]).map(|s| s.parse::<u32>().expect("listed values are numbers")))]
    rate: u32,
    /// Bits per sample.
    #[arg(long, default_value_t = 16, value_parser = clap::builder::PossibleValuesParser::new(["16", "24"]).map(|s| s.parse::<u16>().expect("listed values are numbers")))]
    bits: u16,
    #[command(flatten)]
    cache: CacheArgs,
    /// Backend calls at once (the voice's own bound also applies).
    #[arg(long)]
    jobs: Option<usize>,
    /// `bext` Originator (the station).
    #[arg(long, default_value = "bantin")]
    originator: String,
}

impl AudioArgs {
    fn settings(&self) -> AudioSettings {
        AudioSettings {
            sample_rate_hz: self.rate,
            bit_depth: if self.bits == 24 {
                BitDepth::TwentyFour
            } else {
                BitDepth::Sixteen
            },
            ..AudioSettings::default()
        }
    }
}

/// Where cue audio is cached (renders and bulletins share the folder).
#[derive(clap::Args)]
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

pub fn run() -> Result<()> {
    let cli = Cli::parse();
    let data = cli.data.as_deref();
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
            normalize(&normalizer(data)?.with_style(style), lines, file.as_deref())
        }
        Command::Segment { lines, file } => segment_text(lines, file.as_deref()),
        Command::Ingest { article, format } => ingest_article(article.as_deref(), format),
        Command::Script {
            article,
            format,
            voice,
            output,
        } => script(data, &article, format, &voice, output.as_deref()),
        Command::Render {
            article,
            voice,
            output,
            script,
            audio,
        } => render(data, &article, &voice, output, script, &audio),
        Command::Voices { action: None } => list_voices(data),
        Command::Voices {
            action: Some(VoicesAction::Calibrate { name, text }),
        } => calibrate(data, &name, text.as_deref()),
        Command::Serve { config, addr } => serve(data, config.as_deref(), addr),
        Command::Token(command) => token(&store(data)?, command),
        Command::Lexicon(command) => lexicon(&store(data)?, command),
        Command::Bulletin {
            date,
            slot,
            config,
            articles,
            cache,
        } => bulletin(
            data,
            date.as_deref(),
            slot.as_deref(),
            &config,
            &articles,
            &cache,
        ),
    }
}

fn store(data: Option<&Path>) -> Result<Store> {
    let dir = data.context("name the data directory with --data DIR (or BANTIN_DATA)")?;
    Store::open(dir).with_context(|| format!("opening the store in {}", dir.display()))
}

fn serve(
    data: Option<&Path>,
    config: Option<&Path>,
    addr: Option<std::net::SocketAddr>,
) -> Result<()> {
    let config = Config::load(
        config,
        |name| std::env::var(name).ok(),
        &Overrides {
            data_dir: data.map(Path::to_path_buf),
            addr,
        },
    )?;
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

fn token(store: &Store, command: TokenCommand) -> Result<()> {
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

fn lexicon(store: &Store, command: LexiconCommand) -> Result<()> {
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

fn read_input(file: Option<&Path>) -> Result<(Vec<u8>, Option<String>)> {
    match file {
        None => read_stdin().map(|b| (b, None)),
        Some(p) if p == Path::new("-") => read_stdin().map(|b| (b, None)),
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Ok((
                bytes,
                p.file_name().map(|n| n.to_string_lossy().into_owned()),
            ))
        }
    }
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read stdin")?;
    Ok(bytes)
}

/// Opens the input as UTF-8 lines (stdin streams line by line).
fn input_lines(file: Option<&Path>) -> Result<Box<dyn BufRead>> {
    Ok(match file {
        Some(p) if p != Path::new("-") => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
        _ => Box::new(std::io::stdin().lock()),
    })
}

fn each_line(
    file: Option<&Path>,
    mut f: impl FnMut(&str, &mut dyn Write) -> Result<()>,
) -> Result<()> {
    let mut reader = input_lines(file)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        number += 1;
        let line =
            std::str::from_utf8(&buf).with_context(|| format!("line {number} is not UTF-8"))?;
        // The clean-up articles get (NFC, one tone placement); it must not
        // add line breaks, or `--lines` would not be one line out per line in.
        let line =
            bantin::ingest::clean_text(line.trim_end_matches(['\n', '\r'])).replace('\n', " ");
        f(&line, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

fn normalize(normalizer: &Normalizer, lines: bool, file: Option<&Path>) -> Result<()> {
    if lines {
        return each_line(file, |line, out| {
            Ok(writeln!(out, "{}", normalizer.expand_str(line).spoken())?)
        });
    }
    each_line(file, |line, out| {
        for span in segment::sentences(line, 0..line.len()) {
            writeln!(out, "{}", normalizer.expand(line, span).spoken())?;
        }
        Ok(())
    })
}

fn ingest_article(file: Option<&Path>, format: IngestFormat) -> Result<()> {
    let (bytes, name) = read_input(file)?;
    let article = bantin::ingest::read(&bytes, name.as_deref())?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    match format {
        IngestFormat::Json => {
            let blocks: Vec<serde_json::Value> = article
                .blocks
                .iter()
                .map(|b| serde_json::json!({"kind": b.kind, "text": b.text(&article)}))
                .collect();
            let value = serde_json::json!({
                "title": article.title,
                "published": article.published,
                "byline": article.byline,
                "format": article.format,
                "blocks": blocks,
                "dropped": article.dropped,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        IngestFormat::Txt => {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
            writeln!(out, "title: {}", article.title)?;
            writeln!(out, "published: {}", show(&article.published))?;
            writeln!(out, "byline: {}", show(&article.byline))?;
            writeln!(out, "== kept")?;
            for block in &article.blocks {
                let kind = serde_json::to_value(block.kind)?;
                writeln!(
                    out,
                    "[{}] {}",
                    kind.as_str().unwrap_or_default(),
                    block.text(&article)
                )?;
            }
            writeln!(out, "== dropped")?;
            for dropped in &article.dropped {
                writeln!(out, "{} {}: {}", dropped.line, dropped.reason, dropped.text)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn segment_text(lines: bool, file: Option<&Path>) -> Result<()> {
    each_line(file, |line, out| {
        if !lines && line.trim().is_empty() {
            return Ok(());
        }
        for span in segment::sentences(line, 0..line.len()) {
            writeln!(out, "{}", &line[span])?;
        }
        Ok(writeln!(out)?)
    })
}

fn script(
    data: Option<&Path>,
    article: &Path,
    format: Format,
    voice: &str,
    output: Option<&Path>,
) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(voice)?;
    let (bytes, name) = read_input(Some(article))?;
    let settings = AudioSettings::default();
    let (_, script) = pipeline::prepare_within(
        &bytes,
        name.as_deref(),
        &Reading {
            normalizer: &normalizer(data)?,
            voice,
            settings: &settings,
            limits: &Limits::default(),
        },
    )
    .with_context(|| format!("cannot read the article {}", article.display()))?;
    let text = format.render(&script);
    match output {
        Some(path) => bantin::output::write_with(path, |out| out.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display())),
        None => Ok(std::io::stdout().write_all(text.as_bytes())?),
    }
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn cue_done(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }
}

fn render(
    data: Option<&Path>,
    article: &Path,
    voice: &str,
    output: Option<PathBuf>,
    script_path: Option<PathBuf>,
    audio_args: &AudioArgs,
) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(voice)?;
    let synthesizer = voice.synthesizer();
    synthesizer.check()?;
    let settings = audio_args.settings();
    let cache = audio_args.cache.open(data)?;
    let output = match output {
        Some(o) => o,
        None if article == Path::new("-") => bail!("reading stdin: name the output WAV with -o"),
        None => PathBuf::from(
            article
                .file_stem()
                .context("the article path has no file name")?,
        )
        .with_extension("wav"),
    };
    // With the WAV on standard output there is no file to name the script
    // after: it is written only where --script says.
    let to_stdout = output == Path::new(bantin::output::STDOUT);
    let script_path = match script_path {
        Some(p) => Some(p),
        None if to_stdout => None,
        None => Some(output.with_extension("json")),
    };
    if to_stdout && script_path.as_deref() == Some(Path::new(bantin::output::STDOUT)) {
        bail!("-o - and --script - would both write to standard output: name one of them");
    }
    let (bytes, name) = read_input(Some(article))?;
    let (_, script) = pipeline::prepare_within(
        &bytes,
        name.as_deref(),
        &Reading {
            normalizer: &normalizer(data)?,
            voice,
            settings: &settings,
            limits: &Limits::default(),
        },
    )
    .with_context(|| format!("cannot read the article {}", article.display()))?;
    let bar = indicatif::ProgressBar::new(script.cues.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} cues ({eta})")
            .expect("constant template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("rendering with {}", voice.name));
    let mut options = speak::Options {
        cache: cache.as_ref(),
        ..speak::Options::default()
    };
    if let Some(jobs) = audio_args.jobs {
        options.max_parallel = jobs.max(1);
    }
    let rendered = pipeline::render_with(
        &script,
        synthesizer.as_ref(),
        &settings,
        &options,
        &Bar(bar.clone()),
    );
    bar.finish_and_clear();
    let rendered = rendered.with_context(|| {
        format!(
            "cannot render {} with voice {}",
            article.display(),
            voice.name
        )
    })?;
    let now = jiff::ZonedDateTime::now().datetime();
    pipeline::write_broadcast_wav(&output, &rendered, &settings, &audio_args.originator, now)?;
    if let Some(script_path) = &script_path {
        let script_format = match script_path.extension().and_then(|e| e.to_str()) {
            Some("txt") => Format::Txt,
            Some("srt") => Format::Srt,
            Some("vtt") => Format::Vtt,
            _ => Format::Json,
        };
        let text = script_format.render(&rendered.script);
        bantin::output::write_with(script_path, |out| out.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", script_path.display()))?;
    }
    eprintln!(
        "wrote {} ({}, {:.1} LUFS, true peak {:.1} dBTP; {} of {} cues from the cache){}",
        if to_stdout {
            "the WAV to standard output".to_string()
        } else {
            output.display().to_string()
        },
        bantin::script::clock(rendered.script.total),
        rendered.loudness.integrated_lufs,
        rendered.loudness.true_peak_dbtp,
        rendered.stats.cached,
        rendered.stats.cues,
        script_path.map_or_else(String::new, |p| format!(" and {}", p.display()))
    );
    Ok(())
}

/// Renders the reference text with the voice (no cache: the point is to
/// time this backend now) and rewrites the profile's speaking rate so that
/// estimates match rendered length.
fn calibrate(data: Option<&Path>, name: &str, text: Option<&Path>) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(name)?;
    let synthesizer = voice.synthesizer();
    synthesizer.check()?;
    let (bytes, file) = match text {
        Some(path) => read_input(Some(path))?,
        None => (
            include_bytes!("../voices/calibration-vi.txt").to_vec(),
            Some("calibration-vi.txt".to_string()),
        ),
    };
    let settings = AudioSettings::default();
    let (_, script) = pipeline::prepare(
        &bytes,
        file.as_deref(),
        &normalizer(data)?,
        voice,
        &settings,
    )
    .context("cannot read the reference text")?;
    let rendered = pipeline::render(&script, synthesizer.as_ref(), &settings, &())
        .with_context(|| format!("cannot render the reference text with {}", voice.name))?;
    let syllables_per_minute = measured_rate(&rendered.script, &settings);
    let (path, text) = match voice.path() {
        Some(path) => (
            path.to_path_buf(),
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => {
            let Some(data) = data else {
                bail!(
                    "{} is a built-in voice: pass --data DIR to store a calibrated copy in DIR/voices/",
                    voice.name
                );
            };
            let dir = data.join("voices");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            (
                dir.join(format!("{}.toml", voice.name)),
                builtin_text(voice)?,
            )
        }
    };
    let updated =
        bantin::voice::set_rate(&path.display().to_string(), &text, syllables_per_minute)?;
    Voice::parse(&path.display().to_string(), &updated)?;
    bantin::output::write_atomic(&path, updated.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "{}: {:.1} syllables per minute (was {:.1}), stored in {}",
        voice.name,
        syllables_per_minute,
        voice.syllables_per_minute,
        path.display()
    );
    Ok(())
}

/// Syllables per minute of speech in a rendered script: cue lengths minus
/// the breath pauses inside cues (estimates add those back).
fn measured_rate(script: &bantin::Script, settings: &AudioSettings) -> f64 {
    let speech: f64 = script
        .cues
        .iter()
        .map(|c| {
            let breaths = settings.pauses.between_breath_groups.as_secs_f64()
                * c.parts.len().saturating_sub(1) as f64;
            (c.end - c.start).as_secs_f64() - breaths
        })
        .sum();
    script.syllables() as f64 * 60.0 / speech.max(1e-3)
}

fn builtin_text(voice: &Voice) -> Result<String> {
    let file = voice
        .origin
        .strip_prefix("builtin:")
        .context("not a built-in voice")?;
    bantin::voice::builtin_text(file)
        .map(str::to_string)
        .with_context(|| format!("no built-in profile {file}"))
}

fn list_voices(data: Option<&Path>) -> Result<()> {
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

fn bulletin(
    data: Option<&Path>,
    date: Option<&str>,
    slot: Option<&str>,
    config_path: &Path,
    articles: &[PathBuf],
    cache_args: &CacheArgs,
) -> Result<()> {
    use bantin::bulletin::{BulletinItem, assemble, deliver};
    use sha2::Digest as _;
    let cache = cache_args.open(data)?;
    // Without articles and a store there is nothing to read: the assembly
    // below reports the empty bulletin.
    if articles.is_empty() && data.is_some() {
        return bulletin_from_store(data, date, slot, config_path, cache);
    }
    let service = station_config(config_path, data)?;
    let config = service.bulletin()?;
    let date = bulletin_date(date, &config)?;
    let slots = match slot {
        Some(name) => vec![config.slot(name)?],
        None => config.slots.iter().collect(),
    };
    let voices = voices(data)?;
    let normalizer = normalizer(data)?;
    let settings = AudioSettings::default();
    for slot in slots {
        let voice = voices.get(&slot.voice)?;
        let synthesizer = voice.synthesizer();
        synthesizer.check()?;
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
        let request = assemble::Request {
            config: &config,
            slot,
            date,
            items,
            voice,
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
        let assembled = assemble::assemble(&request, synthesizer.as_ref(), &Bar(bar.clone()));
        bar.finish_and_clear();
        let assembled = assembled?;
        let delivered = deliver(&assembled, &config, &settings)?;
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

/// The station's settings for `bantin bulletin`, read the way `serve` reads
/// them: the file (the default `bantin.toml` may be absent: the built-in
/// bulletin settings apply), then `BANTIN_*` variables, then `--data`.
fn station_config(config_path: &Path, data: Option<&Path>) -> Result<Config> {
    let file =
        (config_path.exists() || config_path != Path::new("bantin.toml")).then_some(config_path);
    Ok(Config::load(
        file,
        |name| std::env::var(name).ok(),
        &Overrides {
            data_dir: data.map(Path::to_path_buf),
            addr: None,
        },
    )?)
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
    date: Option<&str>,
    slot: Option<&str>,
    config_path: &Path,
    cache: Option<Cache>,
) -> Result<()> {
    use bantin::bulletin::schedule::{Outcome, RunKey, Scheduler, SystemClock, Trigger};
    use bantin::server::bulletin::BulletinJob;
    use std::sync::Arc;
    let data = data.context("name the data directory with --data DIR (or BANTIN_DATA)")?;
    let service = station_config(config_path, Some(data))?;
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
    };
    let scheduler = Scheduler::new(&config, job, store, Arc::new(SystemClock));
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
    if !failed.is_empty() {
        anyhow::bail!("bulletin failed: {}", failed.join(", "));
    }
    Ok(())
}
