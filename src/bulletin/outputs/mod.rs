//! The files a bulletin is delivered as, one type each, implementing
//! [`super::deliver::Output`]; [`super::deliver::SIDECARS`] lists them.
//! Rivendell's RDXML sidecar is [`Rdxml`]; the compressed audio for
//! loudspeaker systems and listeners online is [`Mp3`] and [`Opus`].

mod compressed;
mod manifest_file;
mod rdxml;
mod script_json;
mod script_text;
mod wav;

pub use compressed::{Mp3, Opus};
pub use manifest_file::ManifestFile;
pub use rdxml::Rdxml;
pub use script_json::ScriptJson;
pub use script_text::ScriptText;
pub use wav::Wav;

/// Out-cue fields (Rivendell's, AES46 `cart`) hold 64 characters.
const OUTCUE_CHARS: usize = 64;

/// The last words of the programme, at most [`OUTCUE_CHARS`] characters,
/// cut at a word boundary.
pub(super) fn out_cue(spoken: &str) -> String {
    let words: Vec<&str> = spoken.split_whitespace().collect();
    let mut kept = Vec::new();
    let mut chars = 0;
    for word in words.iter().rev() {
        let len = word.chars().count() + usize::from(!kept.is_empty());
        if chars + len > OUTCUE_CHARS {
            break;
        }
        chars += len;
        kept.push(*word);
    }
    kept.reverse();
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_out_cue_keeps_the_last_words_that_fit() {
        let spoken = "Bản tin sáng của Đài truyền thanh thành phố đến đây là kết thúc. Xin cảm ơn quý vị và các bạn đã chú ý lắng nghe.";
        let cue = out_cue(spoken);
        assert!(cue.chars().count() <= OUTCUE_CHARS);
        assert!(spoken.ends_with(&cue));
        assert!(cue.starts_with("Xin") || cue.contains(" Xin "), "{cue}");
        assert_eq!(out_cue("ngắn"), "ngắn");
    }
}
