//! The context window: what a reader of one word may see of the words
//! around it (lowercase neighbours, the written neighbours, what the
//! previous words were read as). Built once per word by `rules::expand`.

/// Context handed to the readers of one core.
pub(super) struct Around<'a> {
    /// Lowercase cores of every word of the text; this word is `index`.
    pub(super) lowered: &'a [&'a str],
    pub(super) index: usize,
    /// Lowercase cores of the words before this one (nearest last).
    pub(super) before: &'a [&'a str],
    /// Lowercase cores of the words after this one (nearest first).
    pub(super) after: &'a [&'a str],
    /// The written cores of the neighbouring words.
    pub(super) prev_raw: Option<&'a str>,
    pub(super) next_raw: Option<&'a str>,
    /// This word is a capitalised Vietnamese syllable beside another one
    /// (a headline: ĐẦU TƯ), so it is a word, not an acronym (W-CAPS).
    pub(super) headline: bool,
    /// The word opens with a bracket: (15/5) is a date aside.
    pub(super) bracketed: bool,
    /// Rule of the last token of the previous word when nothing (no
    /// punctuation) stands between the two words.
    pub(super) joined_to: Option<&'static str>,
    /// A date was read within the last three words.
    pub(super) recent_date: bool,
    /// Index of the word read as the first day of a pair (N-DATE-D: the 15
    /// of "ngày 15 và 16/11"), when it is the previous word or the one
    /// before a connector.
    pub(super) first_day: Option<usize>,
}

impl Around<'_> {
    /// Lowercase words within the context window, joined by spaces.
    pub(super) fn window(&self) -> String {
        let lo = self.index.saturating_sub(super::CONTEXT_WINDOW_WORDS);
        let hi = (self.index + 1 + super::CONTEXT_WINDOW_WORDS).min(self.lowered.len());
        let mut window = String::new();
        for word in self.lowered[lo..self.index]
            .iter()
            .chain(&self.lowered[self.index + 1..hi])
        {
            if !window.is_empty() {
                window.push(' ');
            }
            window.push_str(word);
        }
        window
    }

    pub(super) fn before_last(&self) -> Option<&str> {
        self.before.last().copied()
    }
}
