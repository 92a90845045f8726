//! `script` and `render`: one article to a timed script, or to Broadcast
//! WAV with its measured script, under the station's settings.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::text::read_input;
use super::{AudioArgs, normalizer, voices};
use bantin::audio::mp3;
use std::sync::Arc;

use bantin::config::Config;
use bantin::listen::Beside;
use bantin::pipeline::{self, Reading};
use bantin::script::format::Format;
use bantin::speak::{self, Progress};
use bantin::tts::Synthesizer;

pub(super) fn script(
    data: Option<&Path>,
    config: &Config,
    article: &Path,
    format: Format,
    voice: Option<&str>,
    output: Option<&Path>,
) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(voice.unwrap_or(&config.default_voice))?;
    let script = prepare(data, config, voice, &config.audio, article)?;
    let cache = super::CacheArgs::default().open(data)?;
    if let Some(line) = super::text::bill_line(voice, &script, cache.as_ref()) {
        eprintln!("{line}");
    }
    let text = format.text(&script);
    match output {
        Some(path) => bantin::output::write_with(path, |out| out.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display())),
        None => Ok(std::io::stdout().write_all(text.as_bytes())?),
    }
}

/// The article's estimated script, read within the station's article
/// limits with the station lexicon of `--data`.
fn prepare(
    data: Option<&Path>,
    config: &Config,
    voice: &bantin::voice::Voice,
    settings: &bantin::settings::AudioSettings,
    article: &Path,
) -> Result<bantin::Script> {
    let (bytes, name) = read_input(Some(article))?;
    let (_, script) = pipeline::prepare_within(
        &bytes,
        name.as_deref(),
        &Reading {
            normalizer: &normalizer(data)?,
            voice,
            settings,
            limits: &config.limits.article,
        },
    )
    .with_context(|| format!("cannot read the article {}", article.display()))?;
    Ok(script)
}

pub(super) struct Bar(pub(super) indicatif::ProgressBar);

impl Progress for Bar {
    fn cue_done(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }
}

pub(super) fn render(
    data: Option<&Path>,
    config: &Config,
    article: &Path,
    voice: Option<&str>,
    output: Option<PathBuf>,
    script_path: Option<PathBuf>,
    audio_args: &AudioArgs,
) -> Result<()> {
    let voices = voices(data)?;
    let voice = voices.get(voice.unwrap_or(&config.default_voice))?;
    let synthesizer = voice.synthesizer();
    synthesizer.check()?;
    let settings = audio_args.settings(&config.audio);
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
    let script = prepare(data, config, voice, &settings, article)?;
    let bar = indicatif::ProgressBar::new(script.cues.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} cues ({eta})")
            .expect("constant template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("rendering with {}", voice.name));
    // The check hears each breath group as soon as it is spoken, beside the
    // synthesis of later ones.
    let check = !audio_args.no_check && (audio_args.check || config.listen.enabled);
    let beside = match check {
        true => Some(Beside::new(
            Arc::clone(&synthesizer),
            super::check::listener(data, config, &voice.name)?,
        )),
        false => None,
    };
    let speaker: &dyn Synthesizer = match &beside {
        Some(beside) => beside,
        None => synthesizer.as_ref(),
    };
    let mut options = speak::Options {
        cache: cache.as_ref(),
        ..speak::Options::default()
    };
    if let Some(jobs) = audio_args.jobs {
        options.max_parallel = jobs.max(1);
    }
    let reservation = super::text::reserve_chars(data, config, voice, &script, cache.as_ref())?;
    let metered = bantin::billing::Metered::new(speaker, voice);
    let rendered = pipeline::render_with(&script, &metered, &settings, &options, &Bar(bar.clone()));
    bar.finish_and_clear();
    if let Some(reservation) = &reservation {
        reservation.settle(metered.billed_chars())?;
    }
    let rendered = rendered.with_context(|| {
        format!(
            "cannot render {} with voice {}",
            article.display(),
            voice.name
        )
    })?;
    let now = jiff::ZonedDateTime::now().datetime();
    if is_mp3(&output) {
        let tags = mp3::Tags {
            title: &rendered.script.title,
            artist: &config.station,
            date: Some(now.date().to_string()),
            ..mp3::Tags::default()
        };
        let bytes = mp3::encode(&rendered.pcm, &config.mp3, &tags)?;
        bantin::output::write_with(&output, |out| out.write_all(&bytes))
            .with_context(|| format!("cannot write {}", output.display()))?;
    } else {
        pipeline::write_broadcast_wav(&output, &rendered, &settings, &audio_args.originator, now)?;
    }
    if let Some(script_path) = &script_path {
        let script_format = match script_path.extension().and_then(|e| e.to_str()) {
            Some("txt") => Format::Txt,
            Some("srt") => Format::Srt,
            Some("vtt") => Format::Vtt,
            _ => Format::Json,
        };
        let text = script_format.text(&rendered.script);
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
    if let Some(beside) = beside {
        let report = beside.finish(&rendered.pcm, &rendered.script);
        super::check::report_rendered(report, &rendered.script)?;
    }
    Ok(())
}

/// An output named `*.mp3` is written as MP3 (the station's `[mp3]`
/// settings), anything else as Broadcast WAV.
fn is_mp3(output: &Path) -> bool {
    output
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mp3"))
}
