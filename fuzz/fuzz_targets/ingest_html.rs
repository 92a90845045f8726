//! Ingest as html: any bytes give an article or an `IngestError`, never a
//! panic, and what is read keeps the ingest bounds (title length, no bidi
//! controls). tests/it/hostile.rs runs the same checks on seeded mutations.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(article) = bantin::ingest::read(bytes, Some("x.html")) {
        assert!(article.title.chars().count() <= bantin::ingest::MAX_TITLE_CHARS);
        assert!(!article.text.chars().any(|c| matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')));
    }
});
