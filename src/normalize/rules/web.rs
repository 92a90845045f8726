//! Web addresses and e-mail addresses (S-URL, S-EMAIL): read piece by piece
//! as announcers do: words as written, short letter groups spelled, digits
//! one by one, and the marks between them named (chấm, a còng, gạch chéo)
//! from `symbols.tsv` rows with the context `url`.

use super::letters::spelled;
use super::token;
use crate::normalize::context::Around;
use crate::normalize::words::Word;
use crate::normalize::{Expansion, Kind, Normalizer, number};

/// S-URL, S-EMAIL: a word that is a web or e-mail address.
pub(super) fn read_word(
    n: &Normalizer,
    word: &Word<'_>,
    _: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let Some((spoken, rule)) = read(n, word.core_text) else {
        return false;
    };
    out.tokens
        .push(token(word.core.clone(), spoken, Kind::Symbol, rule));
    true
}

/// Top-level domains that make a dotted word a web address.
const DOMAINS: [&str; 12] = [
    "vn", "com", "net", "org", "gov", "edu", "info", "io", "int", "biz", "asia", "app",
];

/// The reading of a web or e-mail address, or `None` for anything else.
fn read(n: &Normalizer, core: &str) -> Option<(String, &'static str)> {
    // Both forms need a dot in the host; most words have none.
    if !core.bytes().any(|b| b == b'.') || !core.is_ascii() || core.chars().any(char::is_whitespace)
    {
        return None;
    }
    let rule = if let Some((user, host)) = core.split_once('@') {
        if user.is_empty() || !host.contains('.') || !host.bytes().all(is_host_byte) {
            return None;
        }
        "S-EMAIL"
    } else {
        let rest = core
            .strip_prefix("https://")
            .or_else(|| core.strip_prefix("http://"))
            .unwrap_or(core);
        let host = rest.split('/').next().unwrap_or(rest);
        let top = host.rsplit('.').next().unwrap_or("");
        let explicit = rest.len() < core.len() || host.starts_with("www.");
        if !host.contains('.')
            || !host.bytes().all(is_host_byte)
            || !(explicit || DOMAINS.contains(&top))
        {
            return None;
        }
        "S-URL"
    };
    let body = core
        .strip_prefix("https://")
        .or_else(|| core.strip_prefix("http://"))
        .unwrap_or(core);
    let mut words: Vec<String> = Vec::new();
    let mut piece = String::new();
    let flush = |piece: &mut String, words: &mut Vec<String>| {
        if piece.is_empty() {
            return;
        }
        if piece.bytes().all(|b| b.is_ascii_digit()) {
            words.push(number::digits(piece));
        } else if piece.len() <= 3 && !piece.contains(['a', 'e', 'i', 'o', 'u'])
            || piece.bytes().all(|b| !b"aeiouy".contains(&b))
        {
            words.push(spelled(n, piece));
        } else {
            words.push(piece.clone());
        }
        piece.clear();
    };
    for c in body.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() {
            if piece.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                flush(&mut piece, &mut words);
            }
            piece.push(c);
        } else if c.is_ascii_digit() {
            if piece.bytes().next().is_some_and(|b| !b.is_ascii_digit()) {
                flush(&mut piece, &mut words);
            }
            piece.push(c);
        } else {
            flush(&mut piece, &mut words);
            let mark = c.encode_utf8(&mut [0; 4]).to_string();
            if let Some(entry) = n.symbols.reading_strict(&mark, "url") {
                words.push(entry.spoken.clone());
            }
        }
    }
    flush(&mut piece, &mut words);
    let spoken = words.join(" ");
    (!spoken.is_empty()).then_some((spoken, rule))
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'-' | b'_' | b'/' | b'?' | b'=' | b'&' | b'%' | b'#' | b':' | b'+'
        )
}
