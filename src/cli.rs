//! Command-line arguments (clap) and what each command does with the library.
//! Reads stdin when a file is `-` or absent; output files are written
//! atomically; errors go to `main`, which prints them once.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use bantin::config::{Config, Overrides};
use bantin::normalize::Normalizer;
use bantin::pipeline::{self, AudioSettings, Progress};
use bantin::script::format::Format;
use bantin::store::{NewLexiconEntry, Scope, Store};
use bantin::voice::{DEFAULT_VOICE, Voices};
use bantin::{audio, segment};

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
    /// Turn an article into a timed script (estimated times).
    Script {
        /// Article file (.txt); `-` reads stdin.
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
        /// Measured script (JSON); defaults to the WAV's name with `.json`.
        #[arg(long)]
        script: Option<PathBuf>,
    },
    /// List the voices and whether each backend is available.
    Voices,
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

pub fn run() -> Result<()> {
    let cli = Cli::parse();
    let data = cli.data.as_deref();
    match cli.command {
        Command::Normalize { lines, file } => normalize(&normalizer(data)?, lines, file.as_deref()),
        Command::Segment { lines, file } => segment_text(lines, file.as_deref()),
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
        } => render(data, &article, &voice, output, script),
        Command::Voices => list_voices(data),
        Command::Serve { config, addr } => serve(data, config.as_deref(), addr),
        Command::Token(command) => token(&store(data)?, command),
        Command::Lexicon(command) => lexicon(&store(data)?, command),
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
        let line = bantin::text::nfc(line.trim_end_matches(['\n', '\r']));
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
    let (_, script) = pipeline::prepare(
        &bytes,
        name.as_deref(),
        &normalizer(data)?,
        voice,
        &settings,
    )
    .with_context(|| format!("cannot read the article {}", article.display()))?;
    let text = format.render(&script);
    match output {
        Some(path) => pipeline::write_atomic(path, text.as_bytes())
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
) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(voice)?;
    let synthesizer = voice.synthesizer();
    synthesizer.check()?;
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
    let script_path = script_path.unwrap_or_else(|| output.with_extension("json"));
    let (bytes, name) = read_input(Some(article))?;
    let settings = AudioSettings::default();
    let (_, script) = pipeline::prepare(
        &bytes,
        name.as_deref(),
        &normalizer(data)?,
        voice,
        &settings,
    )
    .with_context(|| format!("cannot read the article {}", article.display()))?;
    let bar = indicatif::ProgressBar::new(script.cues.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} cues ({eta})")
            .expect("constant template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("rendering with {}", voice.name));
    let rendered = pipeline::render(&script, synthesizer.as_ref(), &settings, &Bar(bar.clone()));
    bar.finish_and_clear();
    let rendered = rendered?;
    let wav = audio::wav::encode(&rendered.pcm, settings.bit_depth)?;
    pipeline::write_atomic(&output, &wav)
        .with_context(|| format!("cannot write {}", output.display()))?;
    pipeline::write_atomic(
        &script_path,
        Format::Json.render(&rendered.script).as_bytes(),
    )
    .with_context(|| format!("cannot write {}", script_path.display()))?;
    eprintln!(
        "wrote {} ({}, {:.1} LUFS, true peak {:.1} dBTP) and {}",
        output.display(),
        bantin::script::clock(rendered.script.total),
        rendered.loudness.integrated_lufs,
        rendered.loudness.true_peak_dbtp,
        script_path.display()
    );
    Ok(())
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
