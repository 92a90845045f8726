//! A Broadcast WAV `bext` chunk (EBU Tech 3285 v2) inserted into WAV bytes
//! made by `audio::wav::encode`.
//!
//! TODO(merge): the audio module is getting its own BWF writer in parallel;
//! when it lands, replace [`insert`] with that writer and delete this file.

use jiff::civil::DateTime;

/// What goes into the `bext` chunk.
#[derive(Debug, Clone)]
pub struct Bext {
    /// Folded to ASCII, at most 256 bytes.
    pub description: String,
    /// At most 32 bytes.
    pub originator: String,
    /// At most 32 bytes.
    pub originator_reference: String,
    /// Local date and time of making.
    pub origination: DateTime,
    pub loudness_lufs: f64,
    pub max_true_peak_dbtp: f64,
    pub coding_history: String,
}

/// Fixed part of the chunk body before CodingHistory.
const FIXED: usize = 602;

/// Returns `wav` with a `bext` chunk placed right after the RIFF/WAVE header
/// (before `fmt `, where BWF readers look first) and the RIFF size updated.
///
/// # Panics
/// Never for bytes from `audio::wav::encode` (a RIFF/WAVE header is checked
/// by a debug assertion).
pub fn insert(wav: &[u8], bext: &Bext) -> Vec<u8> {
    debug_assert!(wav.len() >= 12 && &wav[0..4] == b"RIFF" && &wav[8..12] == b"WAVE");
    let body = body(bext);
    let mut out = Vec::with_capacity(wav.len() + body.len() + 9);
    out.extend_from_slice(&wav[..12]);
    out.extend_from_slice(b"bext");
    out.extend_from_slice(
        &u32::try_from(body.len())
            .expect("small chunk")
            .to_le_bytes(),
    );
    out.extend_from_slice(&body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out.extend_from_slice(&wav[12..]);
    let riff_size = u32::try_from(out.len() - 8).unwrap_or(u32::MAX);
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    out
}

fn body(bext: &Bext) -> Vec<u8> {
    let mut b = Vec::with_capacity(FIXED + bext.coding_history.len());
    fixed_ascii(&mut b, &bext.description, 256);
    fixed_ascii(&mut b, &bext.originator, 32);
    fixed_ascii(&mut b, &bext.originator_reference, 32);
    let o = bext.origination;
    fixed_ascii(
        &mut b,
        &format!("{:04}-{:02}-{:02}", o.year(), o.month(), o.day()),
        10,
    );
    fixed_ascii(
        &mut b,
        &format!("{:02}:{:02}:{:02}", o.hour(), o.minute(), o.second()),
        8,
    );
    b.extend_from_slice(&0u64.to_le_bytes()); // TimeReference: samples since midnight, unused.
    b.extend_from_slice(&2u16.to_le_bytes()); // Version 2 carries loudness.
    b.extend_from_slice(&[0u8; 64]); // UMID: none.
    let centi = |v: f64| {
        if v.is_finite() {
            (v * 100.0).round().clamp(-32_767.0, 32_767.0) as i16
        } else {
            0x7FFF // "not set"
        }
    };
    b.extend_from_slice(&centi(bext.loudness_lufs).to_le_bytes());
    b.extend_from_slice(&0x7FFFi16.to_le_bytes()); // LoudnessRange: not measured.
    b.extend_from_slice(&centi(bext.max_true_peak_dbtp).to_le_bytes());
    b.extend_from_slice(&0x7FFFi16.to_le_bytes()); // MaxMomentaryLoudness: not measured.
    b.extend_from_slice(&0x7FFFi16.to_le_bytes()); // MaxShortTermLoudness: not measured.
    b.extend_from_slice(&[0u8; 180]);
    debug_assert_eq!(b.len(), FIXED);
    b.extend_from_slice(fold_ascii(&bext.coding_history).as_bytes());
    b
}

fn fixed_ascii(out: &mut Vec<u8>, text: &str, width: usize) {
    let folded = fold_ascii(text);
    let bytes = &folded.as_bytes()[..folded.len().min(width)];
    out.extend_from_slice(bytes);
    out.resize(out.len() + width - bytes.len(), 0);
}

/// Vietnamese folded to ASCII (`Hưng Yên` → `Hung Yen`, `đ` → `d`): BWF text
/// fields are ASCII.
pub fn fold_ascii(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter_map(|c| match c {
            'đ' => Some('d'),
            'Đ' => Some('D'),
            c if c.is_ascii() && !c.is_ascii_control() || c == '\r' || c == '\n' => Some(c),
            c if unicode_normalization::char::is_combining_mark(c) => None,
            c if c.is_whitespace() => Some(' '),
            _ => Some('?'),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{Pcm, wav};

    #[test]
    fn the_chunk_reads_back_and_the_audio_is_unchanged() {
        let pcm = Pcm::new(48_000, vec![0.25; 480]);
        let plain = wav::encode(&pcm, wav::BitDepth::Sixteen).unwrap();
        let bext = Bext {
            description: "Bản tin sáng Hưng Yên".into(),
            originator: "Đài TT Hưng Yên".into(),
            originator_reference: "bantin".into(),
            origination: jiff::civil::date(2021, 7, 29).at(6, 0, 5, 0),
            loudness_lufs: -23.04,
            max_true_peak_dbtp: -1.2,
            coding_history: "A=PCM,F=48000,W=16,M=mono,T=bantin\r\n".into(),
        };
        let bytes = insert(&plain, &bext);
        assert_eq!(&bytes[12..16], b"bext");
        let size = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
        let body = &bytes[20..20 + size];
        assert_eq!(&body[..21], b"Ban tin sang Hung Yen");
        assert_eq!(&body[256..271], b"Dai TT Hung Yen");
        assert_eq!(&body[320..330], b"2021-07-29");
        assert_eq!(&body[330..338], b"06:00:05");
        assert_eq!(u16::from_le_bytes([body[346], body[347]]), 2);
        assert_eq!(i16::from_le_bytes([body[412], body[413]]), -2304);
        assert_eq!(i16::from_le_bytes([body[416], body[417]]), -120);
        let riff = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff, bytes.len() - 8);
        assert_eq!(wav::decode(&bytes).unwrap(), wav::decode(&plain).unwrap());
        let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(reader.len(), 480);
    }
}
