//! Normalize: any text (as ingest would clean it) expands without a panic,
//! with token spans inside the text.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static NORMALIZER: LazyLock<bantin::normalize::Normalizer> = LazyLock::new(|| {
    bantin::normalize::Normalizer::builtin().expect("shipped tables parse")
});

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let text = bantin::ingest::clean_text(text);
    let expansion = NORMALIZER.expand_str(&text);
    for token in &expansion.tokens {
        assert!(token.span.end <= text.len() && token.span.start <= token.span.end);
    }
});
