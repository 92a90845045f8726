//! Commands over plain text and single articles that need no voice:
//! `normalize`, `segment`, `ingest`, and how every command reads its input
//! (a file, or stdin for `-` or none).

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::IngestFormat;
use bantin::normalize::Normalizer;
use bantin::segment;

pub(super) fn read_input(file: Option<&Path>) -> Result<(Vec<u8>, Option<String>)> {
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

pub(super) fn normalize(normalizer: &Normalizer, lines: bool, file: Option<&Path>) -> Result<()> {
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

pub(super) fn ingest_article(file: Option<&Path>, format: IngestFormat) -> Result<()> {
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

pub(super) fn segment_text(lines: bool, file: Option<&Path>) -> Result<()> {
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

/// The line `bantin script` prints on stderr for a voice billed per
/// character: what a render would be billed, and how much of it the speech
/// cache already holds. `None` for a voice not billed.
pub(super) fn bill_line(
    voice: &bantin::voice::Voice,
    script: &bantin::Script,
    cache: Option<&bantin::cache::Cache>,
) -> Option<String> {
    let fingerprint = voice.synthesizer().fingerprint();
    let cost = bantin::billing::estimate(script, voice, &fingerprint, cache)?;
    Some(format!(
        "voice {} bills {} characters for this article; {} of them ({} of {} breath groups) are already in the speech cache, so a render now sends {}",
        voice.name,
        cost.billable_chars,
        cost.cached_chars,
        cost.cached_breath_groups,
        cost.breath_groups,
        cost.to_bill_chars
    ))
}

/// A CLI render's count against its voice's daily cap: reserved before any
/// vendor call, corrected to what was really spoken afterwards.
pub(super) struct CliReservation {
    store: bantin::store::Store,
    voice: String,
    day: String,
    reserved_chars: u64,
}

/// Counts a billed voice's render against today's usage in the store of
/// `--data` (refusing it past `[voices.NAME] daily_chars`); `None` for a
/// voice not billed, or without `--data` when the voice has no cap.
///
/// # Errors
/// Over the cap; a capped voice without `--data` (its usage would not be
/// counted); store errors.
pub(super) fn reserve_chars(
    data: Option<&Path>,
    config: &bantin::config::Config,
    voice: &bantin::voice::Voice,
    script: &bantin::Script,
    cache: Option<&bantin::cache::Cache>,
) -> Result<Option<CliReservation>> {
    let fingerprint = voice.synthesizer().fingerprint();
    let Some(cost) = bantin::billing::estimate(script, voice, &fingerprint, cache) else {
        return Ok(None);
    };
    let cap = config.daily_chars(&voice.name);
    let Some(data) = data else {
        if cap.is_some() {
            anyhow::bail!(
                "voice {} has a daily cap of characters: render it with --data DIR so its usage is counted",
                voice.name
            );
        }
        return Ok(None);
    };
    let store = super::store(Some(data))?;
    let zone = config
        .bulletin()
        .map(|b| b.time_zone)
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let day = bantin::billing::day(jiff::Timestamp::now(), &zone);
    store
        .charge_voice(&voice.name, &day, cost.to_bill_chars, cap)?
        .map_err(|refused| anyhow::anyhow!("refused before any vendor call: {refused}"))?;
    Ok(Some(CliReservation {
        store,
        voice: voice.name.clone(),
        day,
        reserved_chars: cost.to_bill_chars,
    }))
}

impl CliReservation {
    /// Corrects the day's count to `billed_chars`, what the vendor received.
    pub(super) fn settle(&self, billed_chars: u64) -> Result<()> {
        let delta = billed_chars as i64 - self.reserved_chars as i64;
        Ok(self
            .store
            .adjust_voice_usage(&self.voice, &self.day, delta)?)
    }
}
