//! MP3 encoding, for where a station's audio goes besides the studio: the
//! commune and ward loudspeaker systems (IP/4G loudspeakers that take MP3
//! uploads, mono at a modest bit rate) and listeners online.
//!
//! Encoded with LAME (through `mp3lame-encoder`, built from source with the
//! crate: no program that may be missing), constant bit rate, from the
//! levelled programme itself, so the MP3 carries the WAV's loudness; LAME
//! resamples when the station's MP3 rate differs from the programme's. An
//! Info (LAME) frame leads the audio so players know its length and the
//! encoder's delay. Tags are ID3v2.4 in UTF-8 (Vietnamese titles as they are),
//! written with the `id3` crate.

use std::num::NonZeroU32;

use mp3lame_encoder::{Bitrate, Builder, DualPcm, FlushGap, Mode, MonoPcm, Quality};
use serde::{Deserialize, Serialize};

use super::Pcm;

/// Channels of the MP3 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    Mono,
    /// The mono programme on both channels (for players that expect two).
    Stereo,
}

/// The station's MP3 settings (`[mp3]` in bantin.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mp3Settings {
    /// Constant bit rate in kbit/s: one of [`BIT_RATES_KBPS`].
    pub bit_rate_kbps: u16,
    pub channels: Channels,
    /// One of [`SAMPLE_RATES_HZ`].
    pub sample_rate_hz: u32,
}

impl Default for Mp3Settings {
    /// Mono, 64 kbit/s, 44.1 kHz: clear speech on a loudspeaker system,
    /// about 0.5 MB a minute.
    fn default() -> Self {
        Self {
            bit_rate_kbps: 64,
            channels: Channels::Mono,
            sample_rate_hz: 44_100,
        }
    }
}

/// Bit rates an MP3 file may have (kbit/s).
pub const BIT_RATES_KBPS: [u16; 16] = [
    8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];

/// Sample rates of MPEG-1, MPEG-2 and MPEG-2.5 layer III.
pub const SAMPLE_RATES_HZ: [u32; 9] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

impl Mp3Settings {
    /// Every invalid value, in words; empty when the settings are usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !BIT_RATES_KBPS.contains(&self.bit_rate_kbps) {
            problems.push(format!(
                "mp3.bit_rate_kbps {} must be one of {BIT_RATES_KBPS:?}",
                self.bit_rate_kbps
            ));
        }
        if !SAMPLE_RATES_HZ.contains(&self.sample_rate_hz) {
            problems.push(format!(
                "mp3.sample_rate_hz {} must be one of {SAMPLE_RATES_HZ:?}",
                self.sample_rate_hz
            ));
        }
        problems
    }

    fn bitrate(&self) -> Option<Bitrate> {
        Some(match self.bit_rate_kbps {
            8 => Bitrate::Kbps8,
            16 => Bitrate::Kbps16,
            24 => Bitrate::Kbps24,
            32 => Bitrate::Kbps32,
            40 => Bitrate::Kbps40,
            48 => Bitrate::Kbps48,
            64 => Bitrate::Kbps64,
            80 => Bitrate::Kbps80,
            96 => Bitrate::Kbps96,
            112 => Bitrate::Kbps112,
            128 => Bitrate::Kbps128,
            160 => Bitrate::Kbps160,
            192 => Bitrate::Kbps192,
            224 => Bitrate::Kbps224,
            256 => Bitrate::Kbps256,
            320 => Bitrate::Kbps320,
            _ => return None,
        })
    }
}

/// What the ID3 tag says of the audio.
#[derive(Debug, Clone, Default)]
pub struct Tags<'a> {
    /// The article's or bulletin's title (UTF-8, Vietnamese as written).
    pub title: &'a str,
    /// The station.
    pub artist: &'a str,
    /// A series name, e.g. "Bản tin sáng".
    pub album: Option<&'a str>,
    /// The air date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The genre; bulletins say "News".
    pub genre: Option<&'a str>,
}

/// Why a programme could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum Mp3Error {
    #[error("invalid MP3 settings: {0}")]
    Settings(String),
    #[error("the MP3 encoder refused the settings ({setting}): {reason}")]
    Encoder {
        setting: &'static str,
        reason: String,
    },
    #[error("the MP3 encoder failed: {0}")]
    Encode(String),
    #[error("there is no audio to encode")]
    Empty,
    #[error("the ID3 tag cannot be written: {0}")]
    Tag(String),
}

/// Samples handed to LAME at a time (about one second at 48 kHz).
const CHUNK: usize = 48_000;

/// Encodes a mono programme as an MP3 file: the ID3 tag, the Info frame,
/// then the audio.
///
/// # Errors
/// [`Mp3Error`] for settings the encoder refuses, or a failed encode.
pub fn encode(pcm: &Pcm, settings: &Mp3Settings, tags: &Tags<'_>) -> Result<Vec<u8>, Mp3Error> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(Mp3Error::Settings(problems.join("; ")));
    }
    if pcm.samples.is_empty() {
        return Err(Mp3Error::Empty);
    }
    let refused = |setting: &'static str| {
        move |e: mp3lame_encoder::BuildError| Mp3Error::Encoder {
            setting,
            reason: e.to_string(),
        }
    };
    let mut builder = Builder::new().ok_or_else(|| Mp3Error::Encoder {
        setting: "start",
        reason: "LAME could not allocate an encoder".into(),
    })?;
    let channels: u8 = match settings.channels {
        Channels::Mono => 1,
        Channels::Stereo => 2,
    };
    builder
        .set_num_channels(channels)
        .map_err(refused("channels"))?;
    builder
        .set_mode(match settings.channels {
            Channels::Mono => Mode::Mono,
            Channels::Stereo => Mode::JointStereo,
        })
        .map_err(refused("mode"))?;
    builder
        .set_sample_rate(pcm.sample_rate_hz)
        .map_err(refused("input sample rate"))?;
    builder
        .set_output_sample_rate(NonZeroU32::new(settings.sample_rate_hz))
        .map_err(refused("sample_rate_hz"))?;
    builder
        .set_brate(settings.bitrate().expect("checked by problems()"))
        .map_err(refused("bit_rate_kbps"))?;
    builder
        .set_quality(Quality::Good)
        .map_err(refused("quality"))?;
    builder
        .set_to_write_vbr_tag(true)
        .map_err(refused("info frame"))?;
    let mut encoder = builder.build().map_err(refused("start"))?;

    let mut audio = Vec::with_capacity(
        pcm.samples.len() / pcm.sample_rate_hz.max(1) as usize
            * usize::from(settings.bit_rate_kbps)
            * 125
            + 8192,
    );
    let failed = |e: mp3lame_encoder::EncodeError| Mp3Error::Encode(e.to_string());
    for chunk in pcm.samples.chunks(CHUNK) {
        audio.reserve(mp3lame_encoder::max_required_buffer_size(chunk.len()));
        match settings.channels {
            Channels::Mono => encoder.encode_to_vec(MonoPcm(chunk), &mut audio),
            Channels::Stereo => encoder.encode_to_vec(
                DualPcm {
                    left: chunk,
                    right: chunk,
                },
                &mut audio,
            ),
        }
        .map_err(failed)?;
    }
    audio.reserve(7200);
    // The plain flush pads the last frame with silence; the no-gap flush
    // (meant for joining tracks) left the last ~40 ms of speech unencoded.
    encoder
        .flush_to_vec::<FlushGap>(&mut audio)
        .map_err(failed)?;
    // The first frame was reserved for the Info frame, which LAME fills in
    // only once it has seen every frame.
    let mut info = Vec::with_capacity(encoder.lame_tag_size().max(1));
    if encoder.lame_tag_encode_to_vec(&mut info).is_some() && info.len() <= audio.len() {
        audio[..info.len()].copy_from_slice(&info);
    }

    let mut file = id3_tag(tags)?;
    file.extend_from_slice(&audio);
    Ok(file)
}

/// The ID3v2.4 tag (UTF-8 text frames) as bytes.
fn id3_tag(tags: &Tags<'_>) -> Result<Vec<u8>, Mp3Error> {
    use id3::TagLike;
    let mut tag = id3::Tag::new();
    tag.set_title(tags.title);
    tag.set_artist(tags.artist);
    if let Some(album) = tags.album {
        tag.set_album(album);
    }
    if let Some(date) = &tags.date {
        tag.set_text("TDRC", date.clone());
    }
    if let Some(genre) = tags.genre {
        tag.set_genre(genre);
    }
    let mut bytes = Vec::new();
    tag.write_to(&mut bytes, id3::Version::Id3v24)
        .map_err(|e| Mp3Error::Tag(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use id3::TagLike;

    fn tone(rate: u32, seconds: f32) -> Pcm {
        let n = (rate as f32 * seconds) as usize;
        Pcm::new(
            rate,
            (0..n)
                .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin())
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
    fn tags_read_back_in_utf8() {
        let mp3 = encode(&tone(48_000, 1.0), &Mp3Settings::default(), &tags()).unwrap();
        let tag = id3::Tag::read_from2(std::io::Cursor::new(&mp3)).unwrap();
        assert_eq!(tag.version(), id3::Version::Id3v24);
        assert_eq!(tag.title(), Some("Bản tin sáng ngày 29/7: Hưng Yên"));
        assert_eq!(tag.artist(), Some("Đài truyền thanh thành phố"));
        assert_eq!(tag.album(), Some("Bản tin sáng"));
        assert_eq!(tag.genre(), Some("News"));
        // UTF-8 text (encoding byte 3), not Latin-1 or UTF-16.
        let title = "Bản tin sáng".as_bytes();
        assert!(mp3.windows(title.len()).any(|w| w == title));
    }

    #[test]
    fn the_bit_rate_decides_the_size() {
        let pcm = tone(48_000, 10.0);
        let size = |kbps| {
            let settings = Mp3Settings {
                bit_rate_kbps: kbps,
                ..Mp3Settings::default()
            };
            encode(&pcm, &settings, &Tags::default()).unwrap().len()
        };
        let (low, high) = (size(32), size(128));
        // 10 s at 32 and 128 kbit/s: 40 kB and 160 kB, give or take a frame.
        assert!((38_000..44_000).contains(&low), "{low}");
        assert!((155_000..166_000).contains(&high), "{high}");
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        let settings = Mp3Settings {
            bit_rate_kbps: 100,
            sample_rate_hz: 96_000,
            ..Mp3Settings::default()
        };
        let err = encode(&tone(48_000, 0.1), &settings, &Tags::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("bit_rate_kbps 100"), "{err}");
        assert!(err.contains("sample_rate_hz 96000"), "{err}");
    }

    #[test]
    fn silence_encodes_and_an_empty_programme_is_refused() {
        let silence = Pcm::new(48_000, vec![0.0; 4800]);
        let mp3 = encode(&silence, &Mp3Settings::default(), &Tags::default()).unwrap();
        assert!(mp3.starts_with(b"ID3"));
        let empty = Pcm::new(48_000, vec![]);
        assert!(matches!(
            encode(&empty, &Mp3Settings::default(), &Tags::default()),
            Err(Mp3Error::Empty)
        ));
    }
}
