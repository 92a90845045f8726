//! `check`: hears a rendered WAV back with the station's recognizer and
//! flags the cues of its script the voice got wrong; and the same check
//! after `render --check`. Exit status 2 when a cue is flagged, so cron and
//! scripts can hold the file.

use std::path::Path;

use anyhow::{Context, Result};

use super::normalizer;
use bantin::audio::wav;
use bantin::config::Config;
use bantin::listen::{Baselines, CheckReport, Listener, ScriptCues};

/// The exit status of a check that flagged a cue (errors exit with 1).
pub(super) const FLAGGED_EXIT: i32 = 2;

/// How `check` prints its report.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum CheckFormat {
    /// The summary, then each flagged cue with its script and what was heard.
    Txt,
    /// The whole report: every cue's word error rate, missed, inserted and
    /// substituted words.
    Json,
}

/// The station's listener for `voice`, judged against its calibrated baseline.
pub(super) fn listener(data: Option<&Path>, config: &Config, voice: &str) -> Result<Listener> {
    let baselines = Baselines::load(&config.data_dir)?;
    Ok(config
        .listen
        .listener(normalizer(data)?, &baselines, voice)?)
}

pub(super) fn check(
    data: Option<&Path>,
    config: &Config,
    audio: &Path,
    script: &Path,
    voice: Option<&str>,
    format: CheckFormat,
) -> Result<()> {
    let wav_bytes =
        std::fs::read(audio).with_context(|| format!("cannot read {}", audio.display()))?;
    let pcm = wav::decode(&wav_bytes)
        .with_context(|| format!("{} is not a WAV file", audio.display()))?;
    let script_bytes =
        std::fs::read(script).with_context(|| format!("cannot read {}", script.display()))?;
    let cues =
        ScriptCues::from_json(&script_bytes).with_context(|| script.display().to_string())?;
    let voice = voice
        .map(str::to_string)
        .or_else(|| cues.voice.clone())
        .unwrap_or_else(|| config.default_voice.clone());
    let report = listener(data, config, &voice)?
        .check_render(&pcm, &cues)
        .with_context(|| format!("cannot check {}", audio.display()))?;
    print_and_exit(&report, &cues, format, false)
}

/// Reports the check of a render just made; its files are written already.
pub(super) fn report_rendered(
    report: Result<CheckReport, bantin::listen::ListenError>,
    script: &bantin::Script,
) -> Result<()> {
    let report = report.context("the render is written, but it could not be checked")?;
    print_and_exit(&report, &ScriptCues::from(script), CheckFormat::Txt, true)
}

/// Hears `voice`'s calibration render back and stores the word error rate
/// as its baseline under the station's recognizer.
pub(super) fn record_baseline(
    data: Option<&Path>,
    config: &Config,
    voice: &str,
    rendered: &bantin::pipeline::Rendered,
) -> Result<()> {
    let report = listener(data, config, voice)?
        .check_render(&rendered.pcm, &ScriptCues::from(&rendered.script))
        .context("the speaking rate is stored, but the recognizer could not hear the voice")?;
    let recognizer = config.listen.recognizer_label();
    Baselines::record(&config.data_dir, voice, &recognizer, report.word_error_rate)?;
    eprintln!(
        "{voice}: {recognizer} hears {:.0}% of its words wrong; stored as its listen-check baseline in {}",
        report.word_error_rate * 100.0,
        bantin::listen::settings::baselines_path(&config.data_dir).display()
    );
    Ok(())
}

/// Prints the report (text to standard error after a render, else to
/// standard output) and ends with [`FLAGGED_EXIT`] when a cue is flagged.
fn print_and_exit(
    report: &CheckReport,
    cues: &ScriptCues,
    format: CheckFormat,
    to_stderr: bool,
) -> Result<()> {
    let text = match format {
        CheckFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        CheckFormat::Txt => {
            let script: Vec<(usize, String)> =
                cues.cues.iter().map(|c| (c.id, c.spoken.clone())).collect();
            report.to_text(&script)
        }
    };
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    if report.flagged > 0 {
        use std::io::Write;
        std::io::stdout().flush()?;
        std::process::exit(FLAGGED_EXIT);
    }
    Ok(())
}
