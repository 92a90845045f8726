//! Ogg Opus encoding, for listeners online (the podcast feed, the portal's
//! player) where Opus carries speech at half MP3's bit rate.
//!
//! Encoded with libopus (through the `opus` crate, which builds libopus
//! from source with the crate: no program that may be missing) in 20 ms
//! frames, from the levelled programme itself, so the file carries the
//! WAV's loudness (output gain 0). A 44.1 kHz programme is resampled to
//! 48 kHz, Opus's own rate. The container follows RFC 7845: an `OpusHead`
//! page (channels, pre-skip = the encoder's look-ahead, the programme's
//! rate), an `OpusTags` page (Vorbis comments in UTF-8: TITLE, ARTIST,
//! ALBUM, DATE, GENRE), then the audio, whose last granule position trims
//! the padding of the final frame.
//!
//! [`decode`] reads such a file back (any single Opus stream, mono or
//! stereo) with the same library: tests and checks of delivered files.

use std::io::Cursor;

use ogg::{PacketReader, PacketWriteEndInfo, PacketWriter};
use serde::{Deserialize, Serialize};

use super::Pcm;
use super::mp3::{Channels, Tags};

/// Opus always runs at 48 kHz inside.
pub const OPUS_RATE_HZ: u32 = 48_000;

/// Samples in one 20 ms frame at 48 kHz.
const FRAME: usize = 960;

/// The largest packet libopus may write for one frame (its recommended
/// buffer size).
const MAX_PACKET: usize = 4000;

/// The Ogg stream's serial number (one stream per file).
const SERIAL: u32 = 0x6261_6e74;

/// The station's Opus settings (`[opus]` in bantin.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpusSettings {
    /// Target bit rate in kbit/s (6–256; VBR around it).
    pub bit_rate_kbps: u16,
    pub channels: Channels,
}

impl Default for OpusSettings {
    /// Mono at 32 kbit/s: clear speech, about 0.25 MB a minute.
    fn default() -> Self {
        Self {
            bit_rate_kbps: 32,
            channels: Channels::Mono,
        }
    }
}

impl OpusSettings {
    /// Every invalid value, in words; empty when the settings are usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(6..=256).contains(&self.bit_rate_kbps) {
            problems.push(format!(
                "opus.bit_rate_kbps {} is outside 6–256",
                self.bit_rate_kbps
            ));
        }
        problems
    }

    fn channel_count(&self) -> usize {
        match self.channels {
            Channels::Mono => 1,
            Channels::Stereo => 2,
        }
    }
}

/// Why a programme could not be encoded or a file read back.
#[derive(Debug, thiserror::Error)]
pub enum OpusError {
    #[error("invalid Opus settings: {0}")]
    Settings(String),
    #[error("there is no audio to encode")]
    Empty,
    #[error("the Opus encoder failed: {0}")]
    Encode(String),
    #[error("cannot resample the programme for Opus: {0}")]
    Resample(#[from] super::ResampleError),
    #[error("not an Ogg Opus file: {0}")]
    Format(String),
}

/// Encodes a mono programme as an Ogg Opus file.
///
/// # Errors
/// [`OpusError`] for invalid settings, an empty programme, or a failed encode.
pub fn encode(pcm: &Pcm, settings: &OpusSettings, tags: &Tags<'_>) -> Result<Vec<u8>, OpusError> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(OpusError::Settings(problems.join("; ")));
    }
    if pcm.samples.is_empty() {
        return Err(OpusError::Empty);
    }
    let input_rate_hz = pcm.sample_rate_hz;
    let at_48k;
    let samples: &[f32] = if pcm.sample_rate_hz == OPUS_RATE_HZ {
        &pcm.samples
    } else {
        at_48k = super::resample(pcm.clone(), OPUS_RATE_HZ)?;
        &at_48k.samples
    };
    let failed = |e: opus::Error| OpusError::Encode(e.to_string());
    let channels = settings.channel_count();
    let mut encoder = opus::Encoder::new(
        OPUS_RATE_HZ,
        match settings.channels {
            Channels::Mono => opus::Channels::Mono,
            Channels::Stereo => opus::Channels::Stereo,
        },
        opus::Application::Audio,
    )
    .map_err(failed)?;
    encoder
        .set_bitrate(opus::Bitrate::Bits(
            i32::from(settings.bit_rate_kbps) * 1000,
        ))
        .map_err(failed)?;
    let pre_skip = usize::try_from(encoder.get_lookahead().map_err(failed)?).unwrap_or(0);

    let mut writer = PacketWriter::new(Vec::with_capacity(
        samples.len() / OPUS_RATE_HZ as usize * usize::from(settings.bit_rate_kbps) * 130 + 4096,
    ));
    let io = |e: std::io::Error| OpusError::Encode(e.to_string());
    writer
        .write_packet(
            head(channels, pre_skip, input_rate_hz),
            SERIAL,
            PacketWriteEndInfo::EndPage,
            0,
        )
        .map_err(io)?;
    writer
        .write_packet(comments(tags), SERIAL, PacketWriteEndInfo::EndPage, 0)
        .map_err(io)?;

    // The encoder's look-ahead delays the audio by `pre_skip` samples:
    // feed that much silence after the end so every real sample comes out.
    let wanted = samples.len() + pre_skip;
    let frames = wanted.div_ceil(FRAME);
    let end_granule = (pre_skip + samples.len()) as u64;
    let mut frame = vec![0.0f32; FRAME * channels];
    let mut packet = vec![0u8; MAX_PACKET];
    for index in 0..frames {
        let start = index * FRAME;
        frame.fill(0.0);
        let real = samples.get(start..).unwrap_or_default();
        for (i, sample) in real.iter().take(FRAME).enumerate() {
            frame[i * channels..(i + 1) * channels].fill(*sample);
        }
        let len = encoder.encode_float(&frame, &mut packet).map_err(failed)?;
        let last = index + 1 == frames;
        let granule = if last {
            end_granule
        } else {
            ((index + 1) * FRAME) as u64
        };
        writer
            .write_packet(
                packet[..len].to_vec(),
                SERIAL,
                if last {
                    PacketWriteEndInfo::EndStream
                } else {
                    PacketWriteEndInfo::NormalPacket
                },
                granule,
            )
            .map_err(io)?;
    }
    Ok(writer.into_inner())
}

/// The identification header (RFC 7845 §5.1), channel mapping family 0.
fn head(channels: usize, pre_skip: usize, input_rate_hz: u32) -> Vec<u8> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1);
    head.push(channels as u8);
    head.extend_from_slice(&u16::try_from(pre_skip).unwrap_or(u16::MAX).to_le_bytes());
    head.extend_from_slice(&input_rate_hz.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    head
}

/// The comment header (RFC 7845 §5.2): vendor, then `NAME=value` fields.
fn comments(tags: &Tags<'_>) -> Vec<u8> {
    let mut fields = vec![format!("TITLE={}", tags.title)];
    if !tags.artist.is_empty() {
        fields.push(format!("ARTIST={}", tags.artist));
    }
    if let Some(album) = tags.album {
        fields.push(format!("ALBUM={album}"));
    }
    if let Some(date) = &tags.date {
        fields.push(format!("DATE={date}"));
    }
    if let Some(genre) = tags.genre {
        fields.push(format!("GENRE={genre}"));
    }
    let vendor = format!("bantin {} (libopus)", env!("CARGO_PKG_VERSION"));
    let mut out = Vec::new();
    out.extend_from_slice(b"OpusTags");
    let mut put = |text: &str| {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    };
    put(&vendor);
    let mut list = (fields.len() as u32).to_le_bytes().to_vec();
    for field in &fields {
        list.extend_from_slice(&(field.len() as u32).to_le_bytes());
        list.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(&list);
    out
}

/// An Ogg Opus file read back: its audio at 48 kHz (the first channel,
/// pre-skip and end padding removed), the rate the programme had, and its
/// comment fields as `(NAME, value)` pairs.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub pcm: Pcm,
    pub channels: usize,
    pub input_rate_hz: u32,
    pub comments: Vec<(String, String)>,
}

impl Decoded {
    /// The value of the comment `name` (case-insensitive, as Vorbis
    /// comments are).
    pub fn comment(&self, name: &str) -> Option<&str> {
        self.comments
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads an Ogg Opus file back with libopus's decoder.
///
/// # Errors
/// [`OpusError::Format`] for bytes that are not one Ogg Opus stream.
pub fn decode(bytes: &[u8]) -> Result<Decoded, OpusError> {
    let bad = |reason: String| OpusError::Format(reason);
    let mut reader = PacketReader::new(Cursor::new(bytes));
    let mut next = || reader.read_packet().map_err(|e| bad(e.to_string()));
    let head = next()?.ok_or_else(|| bad("no packets".into()))?;
    let data = &head.data;
    if data.len() < 19 || &data[..8] != b"OpusHead" {
        return Err(bad("the first packet is not OpusHead".into()));
    }
    let channels = usize::from(data[9]);
    let pre_skip = usize::from(u16::from_le_bytes([data[10], data[11]]));
    let input_rate_hz = u32::from_le_bytes([data[12], data[13], data[14], data[15]]);
    if !(1..=2).contains(&channels) {
        return Err(bad(format!(
            "{channels} channels (mapping family 0 has 1 or 2)"
        )));
    }
    let tags = next()?.ok_or_else(|| bad("no OpusTags packet".into()))?;
    let comments = parse_comments(&tags.data).ok_or_else(|| bad("a broken OpusTags".into()))?;
    let mut decoder = opus::Decoder::new(
        OPUS_RATE_HZ,
        if channels == 1 {
            opus::Channels::Mono
        } else {
            opus::Channels::Stereo
        },
    )
    .map_err(|e| bad(e.to_string()))?;
    let mut interleaved = Vec::new();
    let mut buffer = vec![0.0f32; 5760 * channels];
    let mut end_granule = 0;
    while let Some(packet) = next()? {
        let n = decoder
            .decode_float(&packet.data, &mut buffer, false)
            .map_err(|e| bad(e.to_string()))?;
        interleaved.extend_from_slice(&buffer[..n * channels]);
        if packet.last_in_stream() {
            end_granule = packet.absgp_page() as usize;
        }
    }
    let mut samples: Vec<f32> = interleaved.iter().step_by(channels).copied().collect();
    let end = end_granule.clamp(pre_skip, samples.len().max(pre_skip));
    samples.truncate(end);
    samples.drain(..pre_skip.min(samples.len()));
    Ok(Decoded {
        pcm: Pcm::new(OPUS_RATE_HZ, samples),
        channels,
        input_rate_hz,
        comments,
    })
}

fn parse_comments(data: &[u8]) -> Option<Vec<(String, String)>> {
    let mut rest = data.strip_prefix(b"OpusTags")?;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (piece, after) = (rest.get(..n)?, rest.get(n..)?);
        rest = after;
        Some(piece)
    };
    fn length(bytes: &[u8]) -> usize {
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize
    }
    let vendor = length(take(4)?);
    take(vendor)?;
    let count = length(take(4)?);
    let mut comments = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let len = length(take(4)?);
        let field = std::str::from_utf8(take(len)?).ok()?;
        let (name, value) = field.split_once('=')?;
        comments.push((name.to_string(), value.to_string()));
    }
    Some(comments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speechlike(rate: u32, seconds: f32) -> Pcm {
        let n = (rate as f32 * seconds) as usize;
        Pcm::new(
            rate,
            (0..n)
                .map(|i| {
                    let t = i as f32 / rate as f32;
                    // A 220 Hz voice whose level rises and falls 3 times a second.
                    0.3 * (t * 220.0 * std::f32::consts::TAU).sin()
                        * (0.6 + 0.4 * (t * 3.0 * std::f32::consts::TAU).sin())
                })
                .collect(),
        )
    }

    fn tags() -> Tags<'static> {
        Tags {
            title: "Bản tin sáng ngày 29/7: Hưng Yên",
            artist: "Đài truyền thanh thành phố",
            album: Some("Bản tin sáng"),
            date: Some("2021-07-29".into()),
            genre: Some("News"),
        }
    }

    #[test]
    fn decodes_to_the_same_length_and_reads_its_tags_back() {
        for rate in [48_000, 44_100] {
            let pcm = speechlike(rate, 3.0);
            let bytes = encode(&pcm, &OpusSettings::default(), &tags()).unwrap();
            assert!(bytes.starts_with(b"OggS"));
            let decoded = decode(&bytes).unwrap();
            assert_eq!(decoded.input_rate_hz, rate);
            assert_eq!(decoded.channels, 1);
            let expected = (pcm.samples.len() as u64 * 48_000).div_ceil(u64::from(rate)) as usize;
            let got = decoded.pcm.samples.len();
            assert!(got.abs_diff(expected) <= 2, "{rate}: {got} vs {expected}");
            assert_eq!(
                decoded.comment("title"),
                Some("Bản tin sáng ngày 29/7: Hưng Yên")
            );
            assert_eq!(
                decoded.comment("ARTIST"),
                Some("Đài truyền thanh thành phố")
            );
            assert_eq!(decoded.comment("DATE"), Some("2021-07-29"));
        }
    }

    #[test]
    fn keeps_the_loudness_and_the_bit_rate_decides_the_size() {
        let pcm = speechlike(48_000, 10.0);
        let before = crate::audio::measure(&pcm).integrated_lufs;
        let bytes = encode(&pcm, &OpusSettings::default(), &tags()).unwrap();
        let after = crate::audio::measure(&decode(&bytes).unwrap().pcm).integrated_lufs;
        assert!((before - after).abs() < 0.5, "{before} vs {after}");
        // 10 s at 32 kbit/s is 40 kB, give or take VBR and the Ogg pages.
        assert!((30_000..50_000).contains(&bytes.len()), "{}", bytes.len());
        let stereo = OpusSettings {
            bit_rate_kbps: 64,
            channels: Channels::Stereo,
        };
        let two = encode(&pcm, &stereo, &tags()).unwrap();
        assert_eq!(decode(&two).unwrap().channels, 2);
        assert!(two.len() > bytes.len() * 3 / 2, "{}", two.len());
    }

    #[test]
    fn refuses_bad_settings_an_empty_programme_and_other_files() {
        let settings = OpusSettings {
            bit_rate_kbps: 2,
            ..OpusSettings::default()
        };
        let err = encode(&speechlike(48_000, 0.1), &settings, &tags())
            .unwrap_err()
            .to_string();
        assert!(err.contains("opus.bit_rate_kbps 2"), "{err}");
        assert!(matches!(
            encode(&Pcm::new(48_000, vec![]), &OpusSettings::default(), &tags()),
            Err(OpusError::Empty)
        ));
        assert!(matches!(decode(b"RIFF....WAVE"), Err(OpusError::Format(_))));
    }
}
