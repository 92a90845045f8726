//! Bytes to clean text: BOMs, UTF-16 (checked, and recognised without a
//! BOM: D-UTF16), Windows-1258 when the bytes show it,
//! and a clear refusal of binary files, mixed encodings and the legacy
//! Vietnamese font encodings (TCVN3/ABC, VNI) that only look like text.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1258};

use super::IngestError;
use super::clean::clean_text;

/// Decodes UTF-8 (with or without BOM), BOM-marked UTF-16 or Windows-1258
/// into clean NFC text (see [`clean_text`]).
///
/// # Errors
/// [`IngestError::Empty`] for no bytes, [`IngestError::Binary`] for NUL or
/// other control bytes, [`IngestError::MixedEncoding`] for UTF-8 mixed with
/// another encoding, [`IngestError::LegacyEncoding`] for TCVN3/VNI text and
/// [`IngestError::NotUtf8`] for anything else that is not UTF-8.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<String, IngestError> {
    decode_with(bytes, None)
}

/// Like [`decode_text`], honouring a charset the container declares (an
/// HTML `<meta charset>`); a BOM still wins.
pub(crate) fn decode_with(bytes: &[u8], declared: Option<&str>) -> Result<String, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty);
    }
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        utf8_or_legacy(rest, 3)?
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (encoding, _) = Encoding::for_bom(bytes).expect("checked a UTF-16 BOM");
        let decoded = utf16_text(encoding, &bytes[2..]).ok_or(IngestError::BadUtf16)?;
        refuse_controls(&decoded, 2)?;
        decoded
    } else if let Some(decoded) = sniff_utf16(bytes).and_then(|enc| utf16_text(enc, bytes)) {
        refuse_controls(&decoded, 0)?;
        decoded
    } else {
        match declared.and_then(|label| Encoding::for_label(label.trim().as_bytes())) {
            Some(enc) if enc != UTF_8 && !enc.is_single_byte() => {
                return Err(IngestError::UnsupportedCharset {
                    charset: enc.name().to_string(),
                });
            }
            Some(enc) if enc != UTF_8 => {
                refuse_controls_bytes(bytes)?;
                enc.decode_without_bom_handling(bytes).0.into_owned()
            }
            _ => utf8_or_legacy(bytes, 0)?,
        }
    };
    refuse_font_encodings(&text)?;
    Ok(clean_text(&text))
}

/// D-UTF16: UTF-16 in `encoding`, checked: an odd number of bytes, a lone
/// surrogate, a noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF) or text that is
/// mostly not Latin letters, digits and punctuation (8-bit text behind a
/// stray byte-order mark decodes as CJK ideographs) is not UTF-16 text.
fn utf16_text(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let (decoded, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return None;
    }
    let mut latin = 0usize;
    let mut other = 0usize;
    for c in decoded.chars().filter(|c| !c.is_whitespace()) {
        if matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{FDD0}'..='\u{FDEF}') {
            return None;
        }
        if matches!(c, '\0'..='\u{024F}' | '\u{0300}'..='\u{036F}' | '\u{1E00}'..='\u{1EFF}' | '\u{2000}'..='\u{206F}' | '\u{20A0}'..='\u{20CF}')
        {
            latin += 1;
        } else {
            other += 1;
        }
    }
    (latin >= other).then(|| decoded.into_owned())
}

/// D-UTF16: UTF-16 saved without a byte-order mark. Latin text in it has a
/// NUL in the high byte of most code units: many NULs at odd offsets and
/// almost none at even ones is little-endian, the reverse big-endian.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.len() / 2;
    let even = bytes.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let mostly = |n: usize| n * 10 >= units * 3;
    let hardly = |n: usize| n * 50 <= units;
    if mostly(odd) && hardly(even) {
        Some(encoding_rs::UTF_16LE)
    } else if mostly(even) && hardly(odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// UTF-8, else Windows-1258 when the bytes are Vietnamese in it, else a
/// refusal naming the first bad byte.
fn utf8_or_legacy(bytes: &[u8], base: usize) -> Result<String, IngestError> {
    refuse_controls_bytes(bytes).map_err(|e| match e {
        IngestError::Binary { offset } => IngestError::Binary {
            offset: base + offset,
        },
        other => other,
    })?;
    let e = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text.to_string()),
        Err(e) => e,
    };
    let offset = e.valid_up_to();
    if has_utf8_sequences(bytes) {
        return Err(IngestError::MixedEncoding {
            offset: base + offset,
            byte: bytes[offset],
        });
    }
    let (decoded, _) = WINDOWS_1258.decode_without_bom_handling(bytes);
    if looks_windows_1258(bytes) {
        return Ok(decoded.into_owned());
    }
    // Let the font-encoding check name TCVN3/VNI before the generic refusal.
    refuse_font_encodings(&decoded)?;
    Err(IngestError::NotUtf8 {
        offset: base + offset,
        byte: bytes[offset],
    })
}

/// NUL and other C0 controls (but tab, line feed, form feed and carriage
/// return) never occur in text files; they mark a binary file.
fn refuse_controls_bytes(bytes: &[u8]) -> Result<(), IngestError> {
    match bytes
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
    {
        Some(offset) => Err(IngestError::Binary { offset }),
        None => Ok(()),
    }
}

fn refuse_controls(text: &str, base: usize) -> Result<(), IngestError> {
    match text
        .char_indices()
        .find(|&(_, c)| c < ' ' && !matches!(c, '\t' | '\n' | '\r' | '\u{0C}'))
    {
        Some((offset, _)) => Err(IngestError::Binary {
            offset: base + offset,
        }),
        None => Ok(()),
    }
}

/// True when the bytes hold at least one well-formed multi-byte UTF-8
/// sequence: then invalid bytes elsewhere mean two encodings were mixed.
fn has_utf8_sequences(bytes: &[u8]) -> bool {
    bytes.windows(2).enumerate().any(|(i, w)| {
        let len = match w[0] {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return false,
        };
        bytes
            .get(i..i + len)
            .is_some_and(|seq| std::str::from_utf8(seq).is_ok())
    })
}

/// Windows-1258 writes tones as separate combining bytes after the vowel
/// (0xCC grave, 0xEC acute, 0xD2 hook, 0xDE tilde, 0xF2 dot below) and has
/// single bytes for `ă â ê ô ơ ư đ`. Real Vietnamese text in it shows tone
/// bytes right after vowels; TCVN3 and VNI bytes do not line up that way.
fn looks_windows_1258(bytes: &[u8]) -> bool {
    const TONES: [u8; 5] = [0xCC, 0xEC, 0xD2, 0xDE, 0xF2];
    const VOWELS: &[u8] = b"aeiouyAEIOUY\xE2\xEA\xF4\xF5\xFD\xE3\xC2\xCA\xD4\xD5\xDD\xC3";
    let toned = bytes
        .windows(2)
        .filter(|w| VOWELS.contains(&w[0]) && TONES.contains(&w[1]))
        .count();
    let high = bytes.iter().filter(|&&b| b >= 0x80).count();
    toned >= 1 && toned * 4 >= high
}

/// Refuses text written in a legacy Vietnamese font encoding. Such text is
/// valid in any 8-bit code page (and survives as "valid" UTF-8 when copied
/// out of an old Word file), but reads as garbage: `Vieät Nam` (VNI),
/// `ViÖt Nam` / `Tr­êng` (TCVN3). Both leave Latin-1 symbols or letters that
/// Vietnamese never uses inside words.
pub(crate) fn refuse_font_encodings(text: &str) -> Result<(), IngestError> {
    // Most text has none of the telltale characters: skip the word scan.
    if !text.chars().any(|c| is_vni_mark(c) || is_tcvn3_letter(c)) {
        return Ok(());
    }
    let mut vni = 0usize;
    let mut tcvn3 = 0usize;
    let mut words = 0usize;
    for word in text.split(|c: char| c.is_whitespace() || ",.;:!?()[]\"'“”".contains(c)) {
        let chars: Vec<char> = word.chars().collect();
        if chars.is_empty() {
            continue;
        }
        words += 1;
        if !chars.iter().any(char::is_ascii_alphabetic) {
            continue;
        }
        // A mark character inside the word, after its first letter.
        let inside = |set: fn(char) -> bool| chars.iter().skip(1).any(|&c| set(c));
        if inside(is_vni_mark) {
            vni += 1;
        } else if inside(is_tcvn3_letter) || chars[0] == '\u{AE}' {
            tcvn3 += 1;
        }
    }
    let threshold = (words / 20).max(3);
    if vni >= threshold && vni >= tcvn3 {
        return Err(IngestError::LegacyEncoding { encoding: "VNI" });
    }
    if tcvn3 >= threshold {
        return Err(IngestError::LegacyEncoding {
            encoding: "TCVN3 (ABC)",
        });
    }
    Ok(())
}

/// VNI mark bytes as Latin-1 letters Vietnamese never uses (`aø` = à,
/// `ö` = ư, `ñ` = đ, `ï` dot below, `û` hook, `ä`/`å` circumflex + tone).
fn is_vni_mark(c: char) -> bool {
    matches!(c, 'ø' | 'ö' | 'ñ' | 'ï' | 'û' | 'ä' | 'å' | 'ë' | 'Ø' | 'Ñ')
}

/// TCVN3 bytes for lowercase Vietnamese letters shown as Latin-1 symbols
/// (`¨` ă, `©` â, `ª` ê, `«` ô, `¬` ơ, soft hyphen ư, `®` đ, `µ` à, `¸` á …).
fn is_tcvn3_letter(c: char) -> bool {
    matches!(c, '\u{A8}'..='\u{AE}' | '\u{B5}'..='\u{BE}' | 'Ö' | '×' | 'Þ' | 'ß' | '÷' | 'þ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_utf8_bom() {
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFXin ch\xC3\xA0o").unwrap(),
            "Xin chào"
        );
    }

    #[test]
    fn decodes_utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Hà Nội".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes).unwrap(), "Hà Nội");
        let mut big = vec![0xFE, 0xFF];
        for unit in "Hoà".encode_utf16() {
            big.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode_text(&big).unwrap(), "Hòa");
    }

    #[test]
    fn checks_what_follows_a_utf16_bom() {
        // Odd length, a lone surrogate, and 8-bit text behind a stray BOM.
        for bytes in [
            &b"\xFF\xFEH\0a\0x"[..],
            &b"\xFF\xFEH\0\x00\xD8a\0"[..],
            &b"\xFE\xFF\xD8\x00"[..],
            &b"\xFF\xFETin tuc hom nay o Ha Noi."[..],
        ] {
            let err = decode_text(bytes).unwrap_err();
            assert!(
                matches!(err, IngestError::BadUtf16 | IngestError::NotUtf8 { .. }),
                "{bytes:?}: {err}"
            );
        }
        assert!(matches!(
            decode_text(b"\xFF\xFETin tuc hom nay o Ha Noi."),
            Err(IngestError::BadUtf16)
        ));
    }

    #[test]
    fn decodes_utf16_without_bom() {
        let text = "Hà Nội hôm nay trời mưa.\nTin tức.";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode_text(&le).unwrap(), text);
        assert_eq!(decode_text(&be).unwrap(), text);
        // NULs in a binary file are still binary.
        assert!(matches!(
            decode_text(b"ab\0\0\0\0cd"),
            Err(IngestError::Binary { .. })
        ));
    }

    #[test]
    fn names_the_offending_byte() {
        let err = decode_text(b"Ha\xE0 Noi").unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::NotUtf8 {
                    offset: 2,
                    byte: 0xE0
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn refuses_binary() {
        assert!(matches!(
            decode_text(b"ab\0cd"),
            Err(IngestError::Binary { offset: 2 })
        ));
        assert!(matches!(
            decode_text(b"\xEF\xBB\xBFab\x01"),
            Err(IngestError::Binary { offset: 5 })
        ));
    }

    #[test]
    fn composes_nfd() {
        assert_eq!(decode_text("Thu\u{0309}y".as_bytes()).unwrap(), "Thủy");
    }

    #[test]
    fn decodes_windows_1258() {
        // "Việt Nam được" in Windows-1258: ê then the dot-below byte 0xF2.
        let bytes = b"Vi\xEA\xF2t Nam \xF0\xFD\xF5\xF2c ho\xE0 bi\xCCnh";
        assert_eq!(decode_text(bytes).unwrap(), "Việt Nam được hòa bình");
    }

    #[test]
    fn refuses_mixed_encodings() {
        let bytes = "Hà Nội và "
            .bytes()
            .chain(*b"Vi\xEA\xF2t")
            .collect::<Vec<_>>();
        let err = decode_text(&bytes).unwrap_err();
        assert!(matches!(err, IngestError::MixedEncoding { .. }), "{err}");
    }

    #[test]
    fn refuses_font_encodings_by_name() {
        let vni = "Vieät Nam ñöôïc ngöôøi daân cuûa thaønh phoá";
        let err = decode_text(vni.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("VNI"), "{err}");
        let tcvn3 = "ViÖt Nam ®\u{AD}îc ng\u{AD}êi d©n cña thµnh phè";
        let err = decode_text(tcvn3.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("TCVN3"), "{err}");
        // The same TCVN3 bytes straight from an old file (not UTF-8).
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(tcvn3);
        let err = decode_text(&bytes).unwrap_err();
        assert!(err.to_string().contains("TCVN3"), "{err}");
    }

    #[test]
    fn accepts_ordinary_vietnamese_and_latin_names() {
        let text = "Ông Müller và bà Ngô Thị Thủy đến Hà Nội. Giá cà phê tăng 5%.";
        assert_eq!(decode_text(text.as_bytes()).unwrap(), text);
    }
}
