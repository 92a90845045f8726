//! WAV in and out. Writing goes through hound into a temporary file beside the
//! target, renamed into place only when complete, so a crash never leaves a
//! half file. Reading is tolerant of streaming headers (`espeak-ng --stdout`
//! writes placeholder sizes) and accepts 8/16/24/32-bit integer and float PCM,
//! mixing several channels down to mono.

use std::io::Write;
use std::path::Path;

use super::Pcm;

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("not a WAV file: {0}")]
    Invalid(String),
    #[error("unsupported WAV encoding: {0}")]
    Unsupported(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot encode WAV: {0}")]
    Encode(#[from] hound::Error),
}

/// Bits per sample of the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BitDepth {
    #[serde(rename = "16")]
    Sixteen,
    #[serde(rename = "24")]
    TwentyFour,
}

impl BitDepth {
    pub fn bits(self) -> u16 {
        match self {
            BitDepth::Sixteen => 16,
            BitDepth::TwentyFour => 24,
        }
    }
}

/// Encodes mono PCM as a WAV file in memory.
///
/// # Errors
/// [`WavError::Encode`] from hound.
pub fn encode(pcm: &Pcm, depth: BitDepth) -> Result<Vec<u8>, WavError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: pcm.sample_rate_hz,
        bits_per_sample: depth.bits(),
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::with_capacity(pcm.samples.len() * 3 + 64));
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    let full_scale = match depth {
        BitDepth::Sixteen => 32_768.0f32,
        BitDepth::TwentyFour => 8_388_608.0,
    };
    for &s in &pcm.samples {
        let v = (s.clamp(-1.0, 1.0) * (full_scale - 1.0)).round() as i32;
        writer.write_sample(v)?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed and synced, then renamed over the target.
///
/// # Errors
/// [`WavError::Write`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WavError> {
    crate::pipeline::write_atomic(path, bytes).map_err(|source| WavError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Decodes a WAV file to mono f32.
///
/// # Errors
/// [`WavError::Invalid`] for bytes that are not RIFF/WAVE with fmt and data
/// chunks, [`WavError::Unsupported`] for compressed encodings.
pub fn decode(bytes: &[u8]) -> Result<Pcm, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::Invalid("missing RIFF/WAVE header".into()));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size =
            u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes")) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if size < 16 || body + 16 > bytes.len() {
                return Err(WavError::Invalid("short fmt chunk".into()));
            }
            let f = &bytes[body..];
            let mut tag = u16::from_le_bytes([f[0], f[1]]);
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            let bits = u16::from_le_bytes([f[14], f[15]]);
            if tag == 0xFFFE && size >= 40 && body + 26 <= bytes.len() {
                tag = u16::from_le_bytes([f[24], f[25]]);
            }
            format = Some((tag, channels, rate, bits));
        } else if id == b"data" {
            let Some((tag, channels, rate, bits)) = format else {
                return Err(WavError::Invalid("data chunk before fmt chunk".into()));
            };
            // Streaming writers leave a placeholder size: take what is there.
            let end = body.saturating_add(size).min(bytes.len());
            return samples(&bytes[body..end], tag, channels, rate, bits);
        }
        pos = body.saturating_add(size + (size & 1));
    }
    Err(WavError::Invalid("no data chunk".into()))
}

fn samples(data: &[u8], tag: u16, channels: u16, rate: u32, bits: u16) -> Result<Pcm, WavError> {
    if channels == 0 || rate == 0 {
        return Err(WavError::Invalid(format!(
            "{channels} channels at {rate} Hz"
        )));
    }
    let width = usize::from(bits / 8);
    let decode_one: fn(&[u8]) -> f32 = match (tag, bits) {
        (1, 8) => |b| (f32::from(b[0]) - 128.0) / 128.0,
        (1, 16) => |b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0,
        (1, 24) => |b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0,
        (1, 32) => |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0,
        (3, 32) => |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        (tag, bits) => {
            return Err(WavError::Unsupported(format!(
                "format tag {tag}, {bits} bits"
            )));
        }
    };
    let frame = width * usize::from(channels);
    let samples = data
        .chunks_exact(frame)
        .map(|f| f.chunks_exact(width).map(decode_one).sum::<f32>() / f32::from(channels))
        .collect();
    Ok(Pcm::new(rate, samples))
}

/// Writes a WAV produced by [`encode`] to any writer (used by the server).
///
/// # Errors
/// Encoding or I/O errors.
pub fn write_to(pcm: &Pcm, depth: BitDepth, mut out: impl Write) -> Result<(), WavError> {
    let bytes = encode(pcm, depth)?;
    out.write_all(&bytes).map_err(|source| WavError::Write {
        path: "<stream>".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_16_and_24_bit() {
        let pcm = Pcm::new(48_000, vec![0.0, 0.5, -0.5, 0.999, -1.0]);
        for depth in [BitDepth::Sixteen, BitDepth::TwentyFour] {
            let back = decode(&encode(&pcm, depth).unwrap()).unwrap();
            assert_eq!(back.sample_rate_hz, 48_000);
            for (a, b) in pcm.samples.iter().zip(&back.samples) {
                assert!((a - b).abs() < 1e-3, "{depth:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn reads_streaming_headers_with_placeholder_sizes() {
        let mut bytes = encode(&Pcm::new(22_050, vec![0.25; 100]), BitDepth::Sixteen).unwrap();
        bytes[4..8].copy_from_slice(&0x7fff_f024u32.to_le_bytes());
        bytes[40..44].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
        let pcm = decode(&bytes).unwrap();
        assert_eq!(pcm.samples.len(), 100);
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(
            decode(b"not audio at all"),
            Err(WavError::Invalid(_))
        ));
    }
}
