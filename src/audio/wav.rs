//! WAV in and out. Plain WAV goes through hound; Broadcast WAV (EBU Tech
//! 3285, a `bext` chunk before `fmt `) is laid out here, since hound writes
//! no custom chunks. [`Bext::of`] is the one place a programme's `bext`
//! chunk is filled. Writing files is [`crate::output`]'s.
//! Reading is tolerant of streaming headers (`espeak-ng --stdout` writes
//! placeholder sizes) and of chunks it does not know, and accepts
//! 8/16/24/32-bit integer and float PCM, mixing several channels down to mono.

use std::io::Write;

use super::Pcm;
use super::cart::Cart;

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
        writer.write_sample(to_integer(s, full_scale))?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

/// A sample in [-1, 1] as an integer of `full_scale` (2^(bits − 1)),
/// rounded half away from zero; beyond ±1 it is clipped, and NaN is
/// silence. Written so the compiler converts many samples per instruction.
#[inline]
fn to_integer(sample: f32, full_scale: f32) -> i32 {
    let sample = if sample.is_nan() { 0.0 } else { sample };
    let v = sample.clamp(-1.0, 1.0) * (full_scale - 1.0);
    let rounded = v + 0.5f32.copysign(v);
    // SAFETY: `rounded` is finite and at most full_scale − 0.5 ≤ 2^23 in
    // size, so it truncates to an i32 without overflow.
    unsafe { rounded.to_int_unchecked::<i32>() }
}

/// Broadcast metadata for the `bext` chunk (EBU Tech 3285 version 2). Text
/// fields are ASCII by the standard: [`fold_ascii`] them first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bext {
    /// Up to 256 ASCII characters (the first 64 are the summary).
    pub description: String,
    /// Up to 32: who made it (station, program).
    pub originator: String,
    /// Up to 32: the originator's own reference.
    pub originator_reference: String,
    /// `yyyy-mm-dd`.
    pub origination_date: String,
    /// `hh:mm:ss`.
    pub origination_time: String,
    /// Integrated loudness, LUFS.
    pub loudness_lufs: Option<f64>,
    /// Loudness range, LU.
    pub loudness_range_lu: Option<f64>,
    /// Maximum true peak, dBTP.
    pub max_true_peak_dbtp: Option<f64>,
    pub max_momentary_lufs: Option<f64>,
    pub max_short_term_lufs: Option<f64>,
    /// Lines such as `A=PCM,F=48000,W=16,M=mono,T=bantin`.
    pub coding_history: String,
}

/// Where a programme bantin made comes from, for its `bext` chunk.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The programme's title (folded to ASCII when written).
    pub title: &'a str,
    /// Who made it: the station.
    pub originator: &'a str,
    /// The originator's own reference (`bantin vi`, `2021-07-29_sang`).
    pub reference: &'a str,
    /// When it was made, in the station's local time.
    pub at: jiff::civil::DateTime,
    /// What made it, after `T=` in the coding history (`bantin 0.1.0`).
    pub software: &'a str,
}

impl Bext {
    /// The `bext` chunk of a programme bantin made: its origin, the loudness
    /// of its final samples (unmeasured figures left unset) and a coding
    /// history line for mono PCM at `sample_rate_hz` and `depth`. Article
    /// renders and bulletins both describe their WAV files here.
    pub fn of(
        origin: &Origin<'_>,
        loudness: &super::LoudnessReport,
        sample_rate_hz: u32,
        depth: BitDepth,
    ) -> Bext {
        let finite = |v: f64| v.is_finite().then_some(v);
        Bext {
            description: origin.title.to_string(),
            originator: origin.originator.to_string(),
            originator_reference: origin.reference.to_string(),
            origination_date: origin.at.strftime("%Y-%m-%d").to_string(),
            origination_time: origin.at.strftime("%H:%M:%S").to_string(),
            loudness_lufs: finite(loudness.integrated_lufs),
            loudness_range_lu: finite(loudness.range_lu),
            max_true_peak_dbtp: finite(loudness.true_peak_dbtp),
            max_momentary_lufs: finite(loudness.max_momentary_lufs),
            max_short_term_lufs: finite(loudness.max_short_term_lufs),
            coding_history: format!(
                "A=PCM,F={sample_rate_hz},W={},M=mono,T={}",
                depth.bits(),
                origin.software
            ),
        }
    }
}

/// Size of the fixed part of a version 2 `bext` chunk.
const BEXT_FIXED: usize = 602;
/// A loudness field that was not measured (Tech 3285 v2).
const BEXT_UNSET: i16 = 0x7fff;

/// Folds text to printable ASCII for `bext`: Vietnamese letters lose their
/// marks (`Đà Nẵng` → `Da Nang`), anything else non-ASCII becomes `?`.
pub fn fold_ascii(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            // Dashes and typographic quotes, common in titles.
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            c if c.is_ascii_graphic() || c == ' ' => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect()
}

fn put_text(out: &mut Vec<u8>, text: &str, width: usize) {
    let folded = fold_ascii(text);
    let bytes = &folded.as_bytes()[..folded.len().min(width)];
    out.extend_from_slice(bytes);
    out.resize(out.len() + width - bytes.len(), 0);
}

fn hundredths(value: Option<f64>) -> i16 {
    value.filter(|v| v.is_finite()).map_or(BEXT_UNSET, |v| {
        (v * 100.0).round().clamp(-32_767.0, 32_766.0) as i16
    })
}

fn bext_chunk(bext: &Bext) -> Vec<u8> {
    let mut body = Vec::with_capacity(BEXT_FIXED + bext.coding_history.len() + 2);
    put_text(&mut body, &bext.description, 256);
    put_text(&mut body, &bext.originator, 32);
    put_text(&mut body, &bext.originator_reference, 32);
    put_text(&mut body, &bext.origination_date, 10);
    put_text(&mut body, &bext.origination_time, 8);
    body.extend_from_slice(&[0; 8]); // TimeReference: the file starts at sample 0
    body.extend_from_slice(&2u16.to_le_bytes()); // Version 2 (loudness fields)
    body.extend_from_slice(&[0; 64]); // UMID: none
    for value in [
        bext.loudness_lufs,
        bext.loudness_range_lu,
        bext.max_true_peak_dbtp,
        bext.max_momentary_lufs,
        bext.max_short_term_lufs,
    ] {
        body.extend_from_slice(&hundredths(value).to_le_bytes());
    }
    body.resize(BEXT_FIXED, 0); // Reserved
    let mut history = fold_ascii(&bext.coding_history);
    history.truncate(MAX_HISTORY - 2);
    if !history.is_empty() && !history.ends_with("\r\n") {
        history.push_str("\r\n");
    }
    body.extend_from_slice(history.as_bytes());
    if body.len() % 2 == 1 {
        // Keep the chunk even-sized, so readers that ignore RIFF's pad byte
        // after odd chunks (hound does) still find `fmt `; a NUL ends the text.
        body.push(0);
    }
    body
}

fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0); // RIFF chunks are word-aligned
    }
}

/// Encodes mono PCM as a Broadcast WAV file (`bext`, `fmt `, `data`) in
/// memory; [`write_bwf`] streams the same bytes.
///
/// # Errors
/// [`WavError::Unsupported`] when the audio would pass the 4 GiB RIFF limit.
pub fn encode_bwf(pcm: &Pcm, depth: BitDepth, bext: &Bext) -> Result<Vec<u8>, WavError> {
    check_bwf(pcm, depth)?;
    let width = usize::from(depth.bits() / 8);
    let mut out = Vec::with_capacity(pcm.samples.len() * width + BEXT_FIXED + 1024);
    write_bwf(pcm, depth, bext, &mut out).expect("checked, and a Vec takes every write");
    Ok(out)
}

/// Whether `pcm` fits a Broadcast WAV file at `depth` (RIFF sizes are 32
/// bits; 4 KiB are kept for the header chunks).
///
/// # Errors
/// [`WavError::Unsupported`] when it does not.
pub fn check_bwf(pcm: &Pcm, depth: BitDepth) -> Result<(), WavError> {
    let data_len = pcm.samples.len() * usize::from(depth.bits() / 8);
    if data_len > u32::MAX as usize - 4096 - MAX_HISTORY {
        return Err(WavError::Unsupported(
            "longer than a RIFF file can hold".into(),
        ));
    }
    Ok(())
}

/// Longest coding history written to `bext` (longer ones are cut).
const MAX_HISTORY: usize = 1024;

/// Writes mono PCM as a Broadcast WAV file (`bext`, `fmt `, `data`) to
/// `out`, converting the samples a block at a time, so a programme is never
/// held twice in memory. Call [`check_bwf`] first.
///
/// # Errors
/// `out`'s errors; `InvalidInput` when [`check_bwf`] would have refused.
pub fn write_bwf(pcm: &Pcm, depth: BitDepth, bext: &Bext, out: impl Write) -> std::io::Result<()> {
    write_bwf_with_cart(pcm, depth, bext, None, out)
}

/// [`write_bwf`] with an AES46 `cart` chunk after `bext` when given.
///
/// # Errors
/// As [`write_bwf`].
pub fn write_bwf_with_cart(
    pcm: &Pcm,
    depth: BitDepth,
    bext: &Bext,
    cart: Option<&Cart>,
    mut out: impl Write,
) -> std::io::Result<()> {
    check_bwf(pcm, depth)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let width = usize::from(depth.bits() / 8);
    let data_len = pcm.samples.len() * width;
    let bext_body = bext_chunk(bext);
    let mut fmt = Vec::with_capacity(16);
    fmt.extend_from_slice(&1u16.to_le_bytes()); // integer PCM
    fmt.extend_from_slice(&1u16.to_le_bytes()); // mono
    fmt.extend_from_slice(&pcm.sample_rate_hz.to_le_bytes());
    fmt.extend_from_slice(&(pcm.sample_rate_hz * width as u32).to_le_bytes());
    fmt.extend_from_slice(&(width as u16).to_le_bytes());
    fmt.extend_from_slice(&depth.bits().to_le_bytes());
    let mut head = Vec::with_capacity(bext_body.len() + 64);
    head.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    push_chunk(&mut head, b"bext", &bext_body);
    if let Some(cart) = cart {
        push_chunk(&mut head, b"cart", &cart.body());
    }
    push_chunk(&mut head, b"fmt ", &fmt);
    head.extend_from_slice(b"data");
    head.extend_from_slice(&(data_len as u32).to_le_bytes());
    let pad = data_len % 2;
    let riff = (head.len() - 8 + data_len + pad) as u32;
    head[4..8].copy_from_slice(&riff.to_le_bytes());
    out.write_all(&head)?;
    // 256 KiB of 16-bit samples: as large as the buffer of an atomic write,
    // so a buffered writer passes each block straight through.
    const BLOCK: usize = 128 * 1024;
    let mut block = vec![0u8; BLOCK.min(pcm.samples.len()) * width];
    for samples in pcm.samples.chunks(BLOCK) {
        let bytes = &mut block[..samples.len() * width];
        match depth {
            BitDepth::Sixteen => {
                for (b, &s) in bytes.as_chunks_mut::<2>().0.iter_mut().zip(samples) {
                    *b = (to_integer(s, 32_768.0) as i16).to_le_bytes();
                }
            }
            BitDepth::TwentyFour => {
                for (b, &s) in bytes.as_chunks_mut::<3>().0.iter_mut().zip(samples) {
                    let [low, middle, high, _] = to_integer(s, 8_388_608.0).to_le_bytes();
                    *b = [low, middle, high];
                }
            }
        }
        out.write_all(bytes)?;
    }
    if pad == 1 {
        out.write_all(&[0])?;
    }
    Ok(())
}

/// The body of the first chunk `id` of a RIFF/WAVE file, if it has one.
pub fn read_chunk<'a>(bytes: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        let body = pos + 8;
        if &bytes[pos..pos + 4] == id {
            return bytes.get(body..body.checked_add(size)?);
        }
        pos = body.saturating_add(size + (size & 1));
    }
    None
}

/// Reads the `bext` chunk of a WAV file, if it has one.
pub fn read_bext(bytes: &[u8]) -> Option<Bext> {
    let b = read_chunk(bytes, b"bext")?;
    if b.len() < BEXT_FIXED {
        return None;
    }
    let text = |range: std::ops::Range<usize>| {
        let field = &b[range];
        let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
        String::from_utf8_lossy(&field[..end]).into_owned()
    };
    let version = u16::from_le_bytes([b[346], b[347]]);
    let loudness = |at: usize| {
        let v = i16::from_le_bytes([b[at], b[at + 1]]);
        (version >= 2 && v != BEXT_UNSET).then(|| f64::from(v) / 100.0)
    };
    Some(Bext {
        description: text(0..256),
        originator: text(256..288),
        originator_reference: text(288..320),
        origination_date: text(320..330),
        origination_time: text(330..338),
        loudness_lufs: loudness(412),
        loudness_range_lu: loudness(414),
        max_true_peak_dbtp: loudness(416),
        max_momentary_lufs: loudness(418),
        max_short_term_lufs: loudness(420),
        coding_history: text(BEXT_FIXED..b.len()),
    })
}

/// Decodes a WAV file to mono f32.
///
/// # Errors
/// [`WavError::Invalid`] for bytes that are not RIFF/WAVE with fmt and data
/// chunks, [`WavError::Unsupported`] for compressed encodings.
pub fn decode(bytes: &[u8]) -> Result<Pcm, WavError> {
    let (format, data) = format_and_data(bytes)?;
    samples(data, format.tag, format.channels, format.rate, format.bits)
}

/// The sample rate and the `data` bytes of a mono 16-bit integer WAV (what
/// espeak-ng writes), for readers that work on the samples as they are;
/// `None` for any other WAV, or bytes that are not one.
pub fn mono_pcm16(bytes: &[u8]) -> Option<(u32, &[u8])> {
    match format_and_data(bytes).ok()? {
        (
            Format {
                tag: 1,
                channels: 1,
                rate,
                bits: 16,
            },
            data,
        ) => Some((rate, &data[..data.len() / 2 * 2])),
        _ => None,
    }
}

/// What a `fmt ` chunk says (the extensible format's tag resolved).
struct Format {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// The format and the `data` chunk's bytes of a WAV file. A streaming
/// writer's placeholder size (larger than the file) takes what is there.
fn format_and_data(bytes: &[u8]) -> Result<(Format, &[u8]), WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::Invalid("missing RIFF/WAVE header".into()));
    }
    let mut pos = 12;
    let mut format: Option<Format> = None;
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
            if tag == 0xFFFE && size >= 40 && body + 26 <= bytes.len() {
                tag = u16::from_le_bytes([f[24], f[25]]);
            }
            format = Some(Format {
                tag,
                channels: u16::from_le_bytes([f[2], f[3]]),
                rate: u32::from_le_bytes([f[4], f[5], f[6], f[7]]),
                bits: u16::from_le_bytes([f[14], f[15]]),
            });
        } else if id == b"data" {
            let Some(format) = format else {
                return Err(WavError::Invalid("data chunk before fmt chunk".into()));
            };
            let end = body.saturating_add(size).min(bytes.len());
            return Ok((format, &bytes[body..end]));
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
    // Mono 16-bit and float, what backends and the cue cache write, in
    // loops the compiler can unroll; anything else sample by sample.
    let samples = match (channels, tag, bits) {
        (1, 1, 16) => data
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
        (1, 3, 32) => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        _ => {
            let frame = width * usize::from(channels);
            data.chunks_exact(frame)
                .map(|f| f.chunks_exact(width).map(decode_one).sum::<f32>() / f32::from(channels))
                .collect()
        }
    };
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
    fn folds_vietnamese_titles_to_ascii() {
        assert_eq!(
            fold_ascii("Đài truyền thanh – “Bản tin” sáng…"),
            "Dai truyen thanh - \"Ban tin\" sang?"
        );
    }

    #[test]
    fn samples_become_integers_rounded_clipped_and_nan_silent() {
        let cases = [
            (0.0, 0),
            (1.0, 32_767),
            (-1.0, -32_767),
            (1.5, 32_767),
            (-7.0, -32_767),
            (f32::INFINITY, 32_767),
            (f32::NEG_INFINITY, -32_767),
            (f32::NAN, 0),
            (0.5 / 32_767.0, 1),
            (-0.5 / 32_767.0, -1),
            (0.49 / 32_767.0, 0),
        ];
        for (sample, expected) in cases {
            assert_eq!(to_integer(sample, 32_768.0), expected, "{sample}");
        }
        assert_eq!(to_integer(1.0, 8_388_608.0), 8_388_607);
        assert_eq!(to_integer(-2.0, 8_388_608.0), -8_388_607);
        assert_eq!(to_integer(f32::NAN, 8_388_608.0), 0);
    }

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
    fn broadcast_wav_carries_bext_and_the_same_samples() {
        let pcm = Pcm::new(48_000, vec![0.0, 0.5, -0.5, 0.25, -1.0]);
        let bext = Bext {
            description: "Sơ kết công tác Tuyên giáo ở Đà Nẵng".into(),
            originator: "bantin".into(),
            origination_date: "2026-11-26".into(),
            origination_time: "13:05:00".into(),
            loudness_lufs: Some(-23.01),
            max_true_peak_dbtp: Some(-1.2),
            // Odd length: the chunk must still be readable by hound.
            coding_history: "A=PCM,F=48000,W=24,M=mono,T=bantin1".into(),
            ..Bext::default()
        };
        for depth in [BitDepth::Sixteen, BitDepth::TwentyFour] {
            let bytes = encode_bwf(&pcm, depth, &bext).unwrap();
            let riff = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
            assert_eq!(riff + 8, bytes.len());
            let back = read_bext(&bytes).unwrap();
            assert_eq!(back.description, "So ket cong tac Tuyen giao o Da Nang");
            assert_eq!(back.loudness_lufs, Some(-23.01));
            assert_eq!(back.max_true_peak_dbtp, Some(-1.2));
            assert_eq!(back.loudness_range_lu, None);
            assert_eq!(
                back.coding_history,
                "A=PCM,F=48000,W=24,M=mono,T=bantin1\r\n"
            );
            let audio = decode(&bytes).unwrap();
            assert_eq!(audio.samples.len(), pcm.samples.len());
            // hound (an independent reader) accepts the layout too.
            let reader = hound::WavReader::new(std::io::Cursor::new(&bytes)).unwrap();
            assert_eq!(reader.spec().bits_per_sample, depth.bits());
            assert_eq!(reader.len() as usize, pcm.samples.len());
        }
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(
            decode(b"not audio at all"),
            Err(WavError::Invalid(_))
        ));
    }
}
