//! The forms a finished programme is handed out in: Broadcast WAV (what the
//! store and the drop folder hold), MP3 and Ogg Opus. Owns which one a
//! download asks for (`?format=` first, then the `Accept` header), each
//! one's media type and file extension, and the encoded copies of a WAV kept
//! beside the store (`DATA/encoded`), so a second download, a byte range or
//! a podcast client's retry does not encode again.

use std::path::{Path, PathBuf};

use super::{mp3, opus};

/// A form of a programme's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Wav,
    Mp3,
    Opus,
}

/// A `?format=` no download offers.
#[derive(Debug, thiserror::Error)]
#[error("format {0:?}: ask for wav, mp3 or opus")]
pub struct UnknownFormat(pub String);

/// Media types a client may name in `Accept`, and the form each means.
const MEDIA_TYPES: [(&str, AudioFormat); 8] = [
    ("audio/wav", AudioFormat::Wav),
    ("audio/wave", AudioFormat::Wav),
    ("audio/x-wav", AudioFormat::Wav),
    ("audio/vnd.wave", AudioFormat::Wav),
    ("audio/mpeg", AudioFormat::Mp3),
    ("audio/mp3", AudioFormat::Mp3),
    ("audio/ogg", AudioFormat::Opus),
    ("audio/opus", AudioFormat::Opus),
];

impl AudioFormat {
    /// In the order a tie in `Accept` is settled: the WAV, the form stored.
    pub const ALL: [AudioFormat; 3] = [AudioFormat::Wav, AudioFormat::Mp3, AudioFormat::Opus];

    /// The name `?format=` takes and the extension of its files.
    pub fn name(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Opus => "opus",
        }
    }

    /// The `Content-Type` it is sent with (RFC 3003 for MP3, RFC 7845 for
    /// Ogg Opus).
    pub fn content_type(self) -> &'static str {
        match self {
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Opus => "audio/ogg; codecs=opus",
        }
    }

    /// The form `?format=` names.
    ///
    /// # Errors
    /// [`UnknownFormat`] for any other name.
    pub fn parse(name: &str) -> Result<AudioFormat, UnknownFormat> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UnknownFormat(name.to_string()))
    }

    /// The form a download is sent in: `?format=` when given, else the form
    /// `accept` prefers (highest q; a tie goes to the earlier of
    /// [`Self::ALL`]), else the WAV — also when `Accept` names none of the
    /// three, as HTTP lets a server disregard it.
    ///
    /// # Errors
    /// [`UnknownFormat`] for a `?format=` no download offers.
    pub fn negotiate(
        query: Option<&str>,
        accept: Option<&str>,
    ) -> Result<AudioFormat, UnknownFormat> {
        if let Some(name) = query {
            return Self::parse(name);
        }
        Ok(accept.and_then(preferred).unwrap_or(AudioFormat::Wav))
    }
}

/// The form an `Accept` header prefers among the three, if it allows any.
fn preferred(accept: &str) -> Option<AudioFormat> {
    let mut best: Option<(f32, usize, AudioFormat)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q.is_nan() || q <= 0.0 {
            continue;
        }
        let formats: Vec<AudioFormat> = match media.as_str() {
            "*/*" | "audio/*" => AudioFormat::ALL.to_vec(),
            media => MEDIA_TYPES
                .iter()
                .filter(|(m, _)| *m == media)
                .map(|(_, f)| *f)
                .collect(),
        };
        for format in formats {
            let rank = AudioFormat::ALL
                .iter()
                .position(|f| *f == format)
                .unwrap_or(0);
            let better = best.is_none_or(|(bq, brank, _)| q > bq || (q == bq && rank < brank));
            if better {
                best = Some((q, rank, format));
            }
        }
    }
    best.map(|(_, _, format)| format)
}

/// What the tags of an encoded copy say (see [`mp3::Tags`]), owned so a
/// copy can be made off the thread that asked for it.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub title: String,
    /// The station.
    pub artist: String,
    /// A series, e.g. "Bản tin sáng".
    pub album: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
}

impl Labels {
    /// The tags, with the genre News.
    pub fn tags(&self) -> mp3::Tags<'_> {
        mp3::Tags {
            title: &self.title,
            artist: &self.artist,
            album: self.album.as_deref(),
            date: self.date.clone(),
            genre: Some("News"),
        }
    }
}

/// `name` as a file name any client takes in `Content-Disposition`:
/// Vietnamese letters lose their marks, anything but ASCII letters, digits,
/// `.`, `-` and `_` becomes `_`.
pub fn ascii_file_name(name: &str) -> String {
    super::wav::fold_ascii(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How the compressed forms are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Encoders {
    pub mp3: mp3::Mp3Settings,
    pub opus: opus::OpusSettings,
}

/// Why an encoded copy could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EncodedCopyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a WAV bantin can read: {reason}")]
    Wav { path: String, reason: String },
    #[error(transparent)]
    Mp3(#[from] mp3::Mp3Error),
    #[error(transparent)]
    Opus(#[from] opus::OpusError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The folder of encoded copies in the data directory.
pub fn encoded_folder(data_dir: &Path) -> PathBuf {
    data_dir.join("encoded")
}

/// The WAV at `wav` as `format`, encoded with `encoders` and tagged with
/// `labels`: the WAV itself for [`AudioFormat::Wav`], else a copy in `folder`
/// named by `wav_sha256` and a digest of the settings and labels, encoded
/// the first time and written atomically.
///
/// # Errors
/// [`EncodedCopyError`] naming the file that could not be read, encoded or
/// written.
pub fn encoded_copy(
    wav: &Path,
    wav_sha256: &str,
    format: AudioFormat,
    encoders: &Encoders,
    labels: &Labels,
    folder: &Path,
) -> Result<PathBuf, EncodedCopyError> {
    if format == AudioFormat::Wav {
        return Ok(wav.to_path_buf());
    }
    let recipe = format!("{format:?} {encoders:?} {labels:?}");
    let digest = crate::store::sha256_hex(recipe.as_bytes());
    let path = folder.join(format!("{wav_sha256}-{}.{}", &digest[..16], format.name()));
    if path.is_file() {
        return Ok(path);
    }
    let shown = |p: &Path| p.display().to_string();
    let bytes = std::fs::read(wav).map_err(|source| EncodedCopyError::Read {
        path: shown(wav),
        source,
    })?;
    let pcm = super::wav::decode(&bytes).map_err(|e| EncodedCopyError::Wav {
        path: shown(wav),
        reason: e.to_string(),
    })?;
    let encoded = match format {
        AudioFormat::Wav => unreachable!("returned above"),
        AudioFormat::Mp3 => mp3::encode(&pcm, &encoders.mp3, &labels.tags())?,
        AudioFormat::Opus => opus::encode(&pcm, &encoders.opus, &labels.tags())?,
    };
    let write = |source| EncodedCopyError::Write {
        path: shown(&path),
        source,
    };
    std::fs::create_dir_all(folder).map_err(write)?;
    crate::output::write_atomic(&path, &encoded).map_err(write)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_over_accept() {
        let f = AudioFormat::negotiate(Some("mp3"), Some("audio/ogg")).unwrap();
        assert_eq!(f, AudioFormat::Mp3);
        assert_eq!(
            AudioFormat::negotiate(Some("OPUS"), None).unwrap(),
            AudioFormat::Opus
        );
        let err = AudioFormat::negotiate(Some("flac"), None).unwrap_err();
        assert!(err.to_string().contains("wav, mp3 or opus"), "{err}");
    }

    #[test]
    fn accept_picks_the_highest_quality_the_server_has() {
        let pick = |accept| AudioFormat::negotiate(None, Some(accept)).unwrap();
        assert_eq!(pick("audio/mpeg"), AudioFormat::Mp3);
        assert_eq!(pick("audio/ogg; codecs=opus"), AudioFormat::Opus);
        assert_eq!(pick("audio/wav;q=0.5, audio/mpeg;q=0.9"), AudioFormat::Mp3);
        assert_eq!(pick("audio/mpeg;q=0, audio/*"), AudioFormat::Wav);
        assert_eq!(pick("audio/opus, audio/mpeg"), AudioFormat::Mp3);
        // A browser's navigation: anything goes, the stored form is sent.
        assert_eq!(
            pick("text/html,application/xhtml+xml,*/*;q=0.8"),
            AudioFormat::Wav
        );
        // Nothing the server has: the WAV rather than an error.
        assert_eq!(pick("application/json"), AudioFormat::Wav);
        assert_eq!(
            AudioFormat::negotiate(None, None).unwrap(),
            AudioFormat::Wav
        );
    }

    #[test]
    fn a_copy_is_encoded_once_per_recipe_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let tone: Vec<f32> = (0..48_000)
            .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin())
            .collect();
        let pcm = super::super::Pcm::new(48_000, tone);
        let wav = dir.path().join("a.wav");
        std::fs::write(
            &wav,
            super::super::wav::encode(&pcm, super::super::wav::BitDepth::Sixteen).unwrap(),
        )
        .unwrap();
        let folder = dir.path().join("encoded");
        let labels = Labels {
            title: "Lúa mùa tốt".into(),
            artist: "Đài".into(),
            ..Labels::default()
        };
        let copy = |format, labels: &Labels| {
            encoded_copy(&wav, "abc", format, &Encoders::default(), labels, &folder).unwrap()
        };
        assert_eq!(copy(AudioFormat::Wav, &labels), wav);
        let mp3 = copy(AudioFormat::Mp3, &labels);
        assert!(mp3.starts_with(&folder) && mp3.extension().unwrap() == "mp3");
        let decoded = crate::tts::mp3::decode(&std::fs::read(&mp3).unwrap()).unwrap();
        assert!(decoded.samples.len() > 40_000, "{}", decoded.samples.len());
        let opus = copy(AudioFormat::Opus, &labels);
        let read_back = super::super::opus::decode(&std::fs::read(&opus).unwrap()).unwrap();
        assert_eq!(read_back.comment("TITLE"), Some("Lúa mùa tốt"));
        // Kept: asked again, the copy is answered without the WAV.
        std::fs::remove_file(&wav).unwrap();
        assert_eq!(copy(AudioFormat::Mp3, &labels), mp3);
        // Another title is another recipe: it needs the WAV again.
        let other = Labels {
            title: "Giao thông".into(),
            ..labels.clone()
        };
        let err = encoded_copy(
            &wav,
            "abc",
            AudioFormat::Mp3,
            &Encoders::default(),
            &other,
            &folder,
        )
        .unwrap_err();
        assert!(matches!(err, EncodedCopyError::Read { .. }), "{err}");
    }

    #[test]
    fn file_names_are_plain_ascii() {
        assert_eq!(
            ascii_file_name("Bản tin sáng \"Đà Nẵng\".mp3"),
            "Ban_tin_sang__Da_Nang_.mp3"
        );
    }
}
