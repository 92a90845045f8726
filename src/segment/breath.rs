//! Breath groups: a sentence too long for one breath split where an
//! announcer would pause (`, ; :` and dashes, then before a conjunction,
//! then between words), within a bound on syllables.

use std::ops::Range;

use super::push_trimmed;
use crate::text::syllables;

/// Conjunctions before which a long sentence may take a breath when it has no
/// punctuation to pause at.
const CONJUNCTIONS: [&str; 8] = [
    "và",
    "nhưng",
    "đồng thời",
    "hoặc",
    "song",
    "tuy nhiên",
    "trong khi",
    "nhằm",
];

/// Splits a sentence into breath groups of at most `max_syllables` written
/// syllables where it can: at `, ; :` and dashes first (nearest the middle),
/// then before conjunctions, then at the word nearest the middle.
///
/// Linear in the sentence: an ordinary sentence is halved as above, each
/// half again, with an explicit stack. A sentence longer than
/// [`LONG_SENTENCE_SYLLABLES`] times the limit (or [`LONG_SENTENCE_BYTES`]),
/// such as a whole article without a full stop, is first cut in one pass
/// into stretches of that size (at its last pause mark, else before its last
/// conjunction, else between words), and each stretch is halved alone; so
/// the halving never works on more than a bounded piece.
pub fn breath_groups(text: &str, span: Range<usize>, max_syllables: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for stretch in stretches(text, span, max_syllables) {
        halve(text, stretch, max_syllables, &mut out);
    }
    out
}

/// How many breath groups' worth of syllables a sentence may hold before it
/// is cut into stretches (a sentence this long has lost its shape anyway).
pub const LONG_SENTENCE_SYLLABLES: usize = 16;
/// Bytes a sentence may hold before it is cut into stretches.
pub const LONG_SENTENCE_BYTES: usize = 16 * 1024;

/// The halving of [`breath_groups`] over one bounded stretch, in order.
fn halve(text: &str, span: Range<usize>, max_syllables: usize, out: &mut Vec<Range<usize>>) {
    // Last in, first out: the right half goes on the stack first.
    let mut stack = vec![span];
    while let Some(span) = stack.pop() {
        let piece = &text[span.clone()];
        if syllables(piece) <= max_syllables.max(4) {
            out.push(span);
            continue;
        }
        let Some(cut) = best_cut(piece) else {
            out.push(span);
            continue;
        };
        let (left, right) = (span.start..span.start + cut, span.start + cut..span.end);
        for half in [right, left] {
            let trimmed = trim_range(text, half);
            if !trimmed.is_empty() {
                stack.push(trimmed);
            }
        }
    }
}

/// Cuts a sentence into stretches of at most [`LONG_SENTENCE_SYLLABLES`]
/// breath groups and about [`LONG_SENTENCE_BYTES`], in one pass over its
/// words; a sentence within both is one stretch (the common case).
fn stretches(text: &str, span: Range<usize>, max_syllables: usize) -> Vec<Range<usize>> {
    let limit = max_syllables.max(4) * LONG_SENTENCE_SYLLABLES;
    let piece = &text[span.clone()];
    if piece.len() <= LONG_SENTENCE_BYTES && syllables(piece) <= limit {
        return vec![span];
    }
    let mut out = Vec::new();
    // Where the current stretch starts (relative to `piece`), its syllables,
    // and the best cuts seen in it: after a pause mark, before a
    // conjunction, each with the syllables before it.
    let mut start = 0;
    let mut count = 0;
    let mut after_mark: Option<(usize, usize)> = None;
    let mut before_conjunction: Option<(usize, usize)> = None;
    let mut previous_word = 0..0;
    let mut at = 0;
    while let Some(word) = next_word(piece, at) {
        let word_syllables = syllables(&piece[word.clone()]);
        let full =
            count > 0 && (count + word_syllables > limit || word.end - start > LONG_SENTENCE_BYTES);
        if full {
            // A cut in the second half of the stretch keeps the pieces even;
            // an earlier one would leave a short stretch for nothing.
            let cut = [after_mark, before_conjunction]
                .into_iter()
                .flatten()
                .find(|&(_, before)| before * 2 >= count)
                .map_or(word.start, |(cut, _)| cut);
            push_trimmed(&mut out, piece, start..cut, span.start);
            // Words between the cut and here are counted again: at most half
            // a stretch, so each word is looked at no more than twice.
            start = cut;
            count = 0;
            after_mark = None;
            before_conjunction = None;
            previous_word = cut..cut;
            at = cut;
            continue;
        }
        let lower = piece[word.clone()].to_lowercase();
        let previous = &piece[previous_word.clone()];
        // Where a conjunction begins that ends with this word, if one does
        // (both words of a two-word one), and the syllables before it.
        let conjunction = CONJUNCTIONS.iter().find_map(|c| match c.split_once(' ') {
            None => (*c == lower).then_some((word.start, count)),
            Some((first, second)) => (second == lower && previous.to_lowercase() == first)
                .then(|| (previous_word.start, count - syllables(previous))),
        });
        if let Some((begins, before)) = conjunction
            && begins > start
        {
            before_conjunction = Some((begins, before));
        }
        count += word_syllables;
        if piece[word.clone()].ends_with([',', ';', ':']) {
            after_mark = Some((word.end, count));
        }
        previous_word = word.clone();
        at = word.end;
    }
    push_trimmed(&mut out, piece, start..piece.len(), span.start);
    out
}

/// The next white-space separated word of `piece` at or after byte `at`.
fn next_word(piece: &str, at: usize) -> Option<Range<usize>> {
    let rest = &piece[at..];
    let start = at + rest.find(|c: char| !c.is_whitespace())?;
    let end = piece[start..]
        .find(char::is_whitespace)
        .map_or(piece.len(), |i| start + i);
    Some(start..end)
}

fn trim_range(text: &str, range: Range<usize>) -> Range<usize> {
    let piece = &text[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail >= piece.len() {
        return range.start..range.start;
    }
    range.start + lead..range.end - trail
}

/// Byte offset in `piece` of the best place to break, or `None` for a single word.
fn best_cut(piece: &str) -> Option<usize> {
    let middle = piece.len() / 2;
    let nearest = |cuts: Vec<usize>| {
        cuts.into_iter()
            .filter(|&c| c > 0 && c < piece.len())
            .min_by_key(|&c| c.abs_diff(middle))
    };
    // After a pause mark followed by white space.
    let marks: Vec<usize> = piece
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, ',' | ';' | ':')
                && piece[i + c.len_utf8()..].starts_with(char::is_whitespace)
                || matches!(c, '–' | '—') && piece[..i].ends_with(' ')
        })
        .map(|(i, c)| {
            if matches!(c, '–' | '—') {
                i
            } else {
                i + c.len_utf8()
            }
        })
        .collect();
    if let Some(cut) = nearest(marks) {
        return Some(cut);
    }
    let lower = piece.to_lowercase();
    if lower.len() == piece.len() {
        let conjunctions: Vec<usize> = CONJUNCTIONS
            .iter()
            .flat_map(|conj| {
                let needle = format!(" {conj} ");
                lower
                    .match_indices(&needle)
                    .map(|(i, _)| i + 1)
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Some(cut) = nearest(conjunctions) {
            return Some(cut);
        }
    }
    nearest(piece.match_indices(' ').map(|(i, _)| i).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breath_groups_prefer_commas_near_the_middle() {
        let text = "Ban tuyên giáo Thành ủy đã tham mưu với cấp ủy chỉ đạo làm tốt công tác tuyên truyền, từ đó góp phần tạo sự thống nhất trong Đảng và đồng thuận trong nhân dân";
        let groups: Vec<&str> = breath_groups(text, 0..text.len(), 20)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            groups[0],
            "Ban tuyên giáo Thành ủy đã tham mưu với cấp ủy chỉ đạo làm tốt công tác tuyên truyền,"
        );
        assert!(groups.len() >= 2);
        assert_eq!(groups.concat().replace(' ', ""), text.replace(' ', ""));
        assert!(groups.iter().all(|g| syllables(g) <= 20), "{groups:?}");
    }
}
