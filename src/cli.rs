//! Command-line arguments (clap) and what each command does with the library.
//! Reads stdin when a file is `-` or absent; output files are written
//! atomically; errors go to `main`, which prints them once.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use bantin::normalize::{Lexicon, Normalizer, Source};
use bantin::pipeline::{self, AudioSettings, Progress};
use bantin::script::format::Format;
use bantin::voice::{DEFAULT_VOICE, Voices};
use bantin::{audio, segment};

#[derive(Parser)]
#[command(
    name = "bantin",
    version,
    about = "Vietnamese news articles to broadcast-ready speech"
)]
struct Cli {
    /// Data directory (station lexicon `lexicon.tsv`, voices in `voices/`).
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
        /// Article files in editor order (the first is the top story).
        #[arg(long = "article")]
        articles: Vec<PathBuf>,
    },
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
        Command::Bulletin {
            date,
            slot,
            config,
            articles,
        } => bulletin(data, date.as_deref(), slot.as_deref(), &config, &articles),
    }
}

fn normalizer(data: Option<&Path>) -> Result<Normalizer> {
    let normalizer = Normalizer::builtin().context("built-in lexicon")?;
    let Some(path) = data.map(|d| d.join("lexicon.tsv")).filter(|p| p.exists()) else {
        return Ok(normalizer);
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let station = Lexicon::parse(&path.display().to_string(), &text, Source::Station)?;
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

fn bulletin(
    data: Option<&Path>,
    date: Option<&str>,
    slot: Option<&str>,
    config_path: &Path,
    articles: &[PathBuf],
) -> Result<()> {
    use bantin::bulletin::{BulletinConfig, BulletinItem, assemble};
    use sha2::Digest as _;
    let config = BulletinConfig::load(config_path)?;
    let date: jiff::civil::Date = match date {
        Some(text) => text
            .parse()
            .with_context(|| format!("--date {text:?} is not a date (YYYY-MM-DD)"))?,
        None => jiff::Timestamp::now()
            .to_zoned_datetime(config.time_zone.clone())
            .date(),
    };
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
        let delivered = assemble::deliver(&assembled, &config, &settings)?;
        let left_out = &assembled.manifest.left_out;
        eprintln!(
            "wrote {} ({}, {}; {:.1} LUFS, true peak {:.1} dBTP; {} items{}; synthesis {:.1} s of {:.1} s)",
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
            assembled.synthesis.as_secs_f64(),
            assembled.elapsed.as_secs_f64(),
        );
    }
    Ok(())
}
