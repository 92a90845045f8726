//! Bytes to NFC text: BOMs, UTF-16, and a clear refusal of anything else.

use super::IngestError;
use crate::text::nfc;

/// Decodes UTF-8 (with or without BOM) or BOM-marked UTF-16 into NFC text.
///
/// # Errors
/// [`IngestError::Empty`] for no bytes, [`IngestError::Binary`] for NUL bytes
/// in what should be UTF-8, [`IngestError::NotUtf8`] for invalid UTF-8.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<String, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty);
    }
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        utf8(rest, 3)?
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (decoded, _, had_errors) = encoding_rs::Encoding::for_bom(bytes)
            .map(|(enc, _)| enc)
            .unwrap_or(encoding_rs::UTF_16LE)
            .decode(bytes);
        if had_errors {
            return Err(IngestError::NotUtf8 {
                offset: 0,
                byte: bytes[0],
            });
        }
        decoded.into_owned()
    } else {
        utf8(bytes, 0)?
    };
    Ok(nfc(&text).into_owned())
}

fn utf8(bytes: &[u8], base: usize) -> Result<String, IngestError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(IngestError::Binary {
            offset: base + offset,
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let offset = e.valid_up_to();
            Err(IngestError::NotUtf8 {
                offset: base + offset,
                byte: bytes[offset],
            })
        }
    }
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
    }

    #[test]
    fn composes_nfd() {
        assert_eq!(decode_text("Thu\u{0309}y".as_bytes()).unwrap(), "Thủy");
    }
}
