//! The AES46-2002 `cart` chunk of a Broadcast WAV: what many playout systems
//! (AudioVault, ENCO DAD, Myriad, Zetta, WideOrbit; Rivendell routes an
//! import by its CutID) read to file a cut without a sidecar: title, artist,
//! cut id, category, the validity window, the producing program, the level
//! reference and timer markers.
//!
//! The layout is fixed: a 2,048-byte block of ASCII fields padded with NUL
//! (version "0101"), then the tag text. Text is folded to ASCII as in
//! `bext` ([`super::wav::fold_ascii`]); the UTF-8 title travels in the
//! sidecars. Source: AES46-2002, as summarised at cartchunk.org and in the
//! BASS `TAG_CART` structure.

use super::wav::fold_ascii;

/// The fields a station fills.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cart {
    pub title: String,
    pub artist: String,
    /// The playout system's cut identifier (e.g. the file's stem).
    pub cut_id: String,
    pub client_id: String,
    /// "NEWS" for bulletins.
    pub category: String,
    pub classification: String,
    pub out_cue: String,
    /// `yyyy-mm-dd`, `hh:mm:ss`.
    pub start_date: String,
    pub start_time: String,
    pub end_date: String,
    pub end_time: String,
    pub producer_app_id: String,
    pub producer_app_version: String,
    pub user_def: String,
    /// The sample value of 0 dB reference.
    pub level_reference: u32,
    /// Up to eight timers: usage (a four-letter code such as `AUDs`) and
    /// position in samples.
    pub timers: Vec<([u8; 4], u32)>,
    pub url: String,
    pub tag_text: String,
}

/// Size of the fixed part of the chunk.
pub const FIXED_LEN: usize = 2048;

/// (field, width) in file order, for the text fields before the level
/// reference.
const TEXT_FIELDS: [usize; 15] = [4, 64, 64, 64, 64, 64, 64, 64, 10, 8, 10, 8, 64, 64, 64];

impl Cart {
    fn texts(&self) -> [&str; 15] {
        [
            "0101",
            &self.title,
            &self.artist,
            &self.cut_id,
            &self.client_id,
            &self.category,
            &self.classification,
            &self.out_cue,
            &self.start_date,
            &self.start_time,
            &self.end_date,
            &self.end_time,
            &self.producer_app_id,
            &self.producer_app_version,
            &self.user_def,
        ]
    }

    /// The chunk's body (without its id and size).
    pub fn body(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(FIXED_LEN + self.tag_text.len() + 2);
        for (text, width) in self.texts().into_iter().zip(TEXT_FIELDS) {
            put_text(&mut body, text, width);
        }
        body.extend_from_slice(&self.level_reference.to_le_bytes());
        for i in 0..8 {
            let (usage, value) = self.timers.get(i).copied().unwrap_or(([0; 4], 0));
            body.extend_from_slice(&usage);
            body.extend_from_slice(&value.to_le_bytes());
        }
        body.resize(body.len() + 276, 0); // reserved
        put_text(&mut body, &self.url, 1024);
        debug_assert_eq!(body.len(), FIXED_LEN);
        if !self.tag_text.is_empty() {
            body.extend_from_slice(fold_ascii(&self.tag_text).as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        // An even length: some WAV readers skip a chunk by its size alone,
        // without the pad byte RIFF puts after an odd one.
        if body.len() % 2 == 1 {
            body.push(0);
        }
        body
    }

    /// Reads a chunk body written by [`Cart::body`] (or any AES46 writer).
    pub fn parse(body: &[u8]) -> Option<Cart> {
        if body.len() < FIXED_LEN {
            return None;
        }
        let mut at = 0;
        let mut texts = Vec::with_capacity(TEXT_FIELDS.len());
        for width in TEXT_FIELDS {
            texts.push(get_text(&body[at..at + width]));
            at += width;
        }
        if texts[0] != "0101" {
            return None;
        }
        let u32_at = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().expect("4 bytes"));
        let level_reference = u32_at(at);
        at += 4;
        let mut timers = Vec::new();
        for _ in 0..8 {
            let usage: [u8; 4] = body[at..at + 4].try_into().expect("4 bytes");
            if usage != [0; 4] {
                timers.push((usage, u32_at(at + 4)));
            }
            at += 8;
        }
        at += 276;
        let url = get_text(&body[at..at + 1024]);
        let tag_text = String::from_utf8_lossy(&body[FIXED_LEN..])
            .trim_end_matches(['\r', '\n', '\0'])
            .to_string();
        let mut texts = texts.into_iter().skip(1);
        let mut next = || texts.next().expect("15 fields");
        Some(Cart {
            title: next(),
            artist: next(),
            cut_id: next(),
            client_id: next(),
            category: next(),
            classification: next(),
            out_cue: next(),
            start_date: next(),
            start_time: next(),
            end_date: next(),
            end_time: next(),
            producer_app_id: next(),
            producer_app_version: next(),
            user_def: next(),
            level_reference,
            timers,
            url,
            tag_text,
        })
    }
}

/// Reads the `cart` chunk of a WAV file, if it has one.
pub fn read_cart(bytes: &[u8]) -> Option<Cart> {
    Cart::parse(super::wav::read_chunk(bytes, b"cart")?)
}

/// `text` folded to ASCII, cut to `width` bytes, padded with NUL.
fn put_text(body: &mut Vec<u8>, text: &str, width: usize) {
    let ascii = fold_ascii(text);
    let bytes = &ascii.as_bytes()[..ascii.len().min(width)];
    body.extend_from_slice(bytes);
    body.resize(body.len() + width - bytes.len(), 0);
}

fn get_text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_part_is_2048_bytes_and_reads_back() {
        let cart = Cart {
            title: "Bản tin sáng ngày 29/07/2021".into(),
            artist: "Đài truyền thanh thành phố".into(),
            cut_id: "BANTIN_2021-07-29_sang".into(),
            category: "NEWS".into(),
            start_date: "2021-07-29".into(),
            start_time: "00:00:00".into(),
            end_date: "2021-07-29".into(),
            end_time: "23:59:59".into(),
            producer_app_id: "bantin".into(),
            level_reference: 32_768,
            timers: vec![(*b"AUDs", 0), (*b"AUDe", 480_000)],
            tag_text: "Bản tin sáng".into(),
            ..Cart::default()
        };
        let body = cart.body();
        assert_eq!(&body[..4], b"0101");
        assert_eq!(body.len() % 2, 0);
        assert!(body[4..FIXED_LEN - 1024 - 276 - 64 - 4].is_ascii());
        let back = Cart::parse(&body).unwrap();
        assert_eq!(back.title, "Ban tin sang ngay 29/07/2021");
        assert_eq!(back.artist, "Dai truyen thanh thanh pho");
        assert_eq!(back.timers, cart.timers);
        assert_eq!(back.tag_text, "Ban tin sang");
        assert_eq!(
            (back.cut_id, back.category, back.end_time),
            (cart.cut_id, cart.category, cart.end_time)
        );
    }

    #[test]
    fn long_fields_are_cut_to_their_width() {
        let cart = Cart {
            title: "x".repeat(200),
            ..Cart::default()
        };
        let body = cart.body();
        assert_eq!(body.len(), FIXED_LEN);
        assert_eq!(Cart::parse(&body).unwrap().title.len(), 64);
    }
}
