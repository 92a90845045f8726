//! The reading rules: walks the words of a span (split by `words`), hands
//! each core with its context (`context::Around`) to the rules in the order
//! of [`CORE_RULES`], and emits tokens with spans. One file per family of
//! rules below; rule ids are listed in the module doc of `normalize`.

use std::ops::Range;

use compact_str::CompactString;

mod aside;
mod date;
mod document;
mod foreign;
mod fraction;
mod letters;
mod numeric;
mod phone;
mod roman;
mod time;
mod unit;
mod web;

use super::context::Around;
use super::number;
use super::triggers::{ends_with_any, is_one_of};
use super::words::{Word, pause_mark, split_words};
use super::{Expansion, Kind, Normalizer, Source, Token, Warning};

pub(super) fn expand(normalizer: &Normalizer, text: &str, span: Range<usize>) -> Expansion {
    // Room for every word lowered: one allocation however many are capitalised.
    let mut capitalised = String::with_capacity(span.len());
    let words = split_words(text, span, normalizer, &mut capitalised);
    let capitalised = capitalised.as_str();
    let lowered: Vec<&str> = words
        .iter()
        .map(|word| {
            word.lowered
                .clone()
                .map_or(word.core_text, |range| &capitalised[range])
        })
        .collect();
    let syllable_caps = |index: usize| words.get(index).is_some_and(|w| w.syllable_caps);
    let mut out = Expansion {
        // About one token per word, plus the punctuation.
        tokens: Vec::with_capacity(words.len() + words.len() / 4 + 4),
        warnings: Vec::new(),
    };
    let mut previous_was_number = false;
    // A date or Roman numeral just before: a lone dash after it is a range
    // (22/9 - 23/9, thế kỷ XVIII – XIX).
    let mut previous_was_date = false;
    let mut joined_to: Option<&'static str> = None;
    let mut last_date_word: Option<usize> = None;
    let mut last_first_day: Option<usize> = None;
    let mut pending_currency: Option<&str> = None;
    // The last word of a bracketed photo pointer already said (as nothing).
    let mut aside_until: Option<usize> = None;
    for (index, word) in words.iter().enumerate() {
        if let Some(last) = aside_until {
            if index < last {
                continue;
            }
            aside_until = None;
            // The closing word's marks after its bracket still count.
            for (range, c) in word.trail_marks().skip(1) {
                out.tokens.push(pause(range, c));
            }
            previous_was_number = false;
            previous_was_date = false;
            joined_to = None;
            continue;
        }
        // N-RANGE: a dash standing alone between two numbers (1866 – 1925)
        // says "đến"; after a word about a match (hòa 20 - 20) it is silent.
        let lone_dash = word.core.is_empty()
            && word.trail.is_empty()
            && matches!(word.lead, "-" | "–" | "—")
            && (previous_was_number || previous_was_date)
            && words.get(index + 1).is_some_and(|w| {
                w.lead.is_empty()
                    && (w.core_text.starts_with(|c: char| c.is_ascii_digit())
                        || previous_was_date && roman::is_roman(w.core_text))
            });
        let after_score_word = || {
            (0..=3).any(|skip| {
                index >= skip && ends_with_any(&lowered[..index - skip], &normalizer.triggers.score)
            })
        };
        if lone_dash {
            let range = word.lead_start..word.lead_start + word.lead.len();
            let spoken = if after_score_word() { "" } else { "đến" };
            out.tokens
                .push(token(range, spoken, Kind::Symbol, "N-RANGE"));
            continue;
        }
        if !word.lead.is_empty() {
            joined_to = None;
            previous_was_number = false;
            previous_was_date = false;
        }
        let opens_bracket = word.lead.ends_with('(');
        if opens_bracket && let Some(last) = aside::photo_aside(normalizer, &words, &lowered, index)
        {
            for (range, c) in word.lead_marks() {
                if range.end < word.lead_start + word.lead.len() {
                    out.tokens.push(pause(range, c));
                }
            }
            aside::push_photo_aside(&mut out, word, &words[last]);
            if last == index {
                for (range, c) in word.trail_marks().skip(1) {
                    out.tokens.push(pause(range, c));
                }
            } else {
                aside_until = Some(last);
            }
            continue;
        }
        let lead_at = out.tokens.len();
        for (range, c) in word.lead_marks() {
            out.tokens.push(pause(range, c));
        }
        let mut defined = false;
        if !word.core.is_empty() {
            let headline = syllable_caps(index)
                && (index > 0 && syllable_caps(index - 1) || syllable_caps(index + 1));
            let around = Around {
                lowered: &lowered,
                index,
                before: &lowered[..index],
                after: &lowered[index + 1..],
                prev_raw: index.checked_sub(1).map(|i| words[i].core_text),
                next_raw: words.get(index + 1).map(|w| w.core_text),
                headline,
                bracketed: word.lead.contains('('),
                joined_to,
                recent_date: last_date_word.is_some_and(|i| index - i <= 3),
                first_day: last_first_day.filter(|&i| index - i <= 2),
            };
            let start = out.tokens.len();
            let money =
                unit::read_prefixed_money(normalizer, word.core.clone(), word.core_text, &mut out);
            if money.is_none() {
                read_core(normalizer, word, &around, previous_was_number, &mut out);
                defined = opens_bracket
                    && word.trail.starts_with(')')
                    && aside::silence_defined_acronym(&mut out, lead_at, start, word);
            }
            // N-MONEY: the currency of "$5" is said after the amount, or
            // after the magnitude word that follows it ($5 triệu).
            let at_end = word.core.end..word.core.end;
            if let Some(currency) = pending_currency.take() {
                out.tokens
                    .push(token(at_end.clone(), currency, Kind::Unit, "N-MONEY"));
            }
            if let Some(currency) = money {
                let magnitude_next = word.trail.is_empty()
                    && lowered
                        .get(index + 1)
                        .is_some_and(|w| is_one_of(w, &normalizer.triggers.magnitude));
                if magnitude_next {
                    pending_currency = Some(currency);
                } else {
                    out.tokens
                        .push(token(at_end, currency, Kind::Unit, "N-MONEY"));
                }
            }
            let last = out.tokens[start..].last();
            // A magnitude word keeps the number open: 80 triệu đồng/lượng.
            let magnitude =
                previous_was_number && is_one_of(lowered[index], &normalizer.triggers.magnitude);
            previous_was_number = magnitude || last.is_some_and(|t| t.kind == Kind::Number);
            previous_was_date = last.is_some_and(|t| matches!(t.kind, Kind::Date | Kind::Roman));
            joined_to = last.map(|t| t.rule);
            if out.tokens[start..].iter().any(|t| t.kind == Kind::Date) {
                last_date_word = Some(index);
            }
            // N-LONG: a figure too long to be a quantity, read digit by digit.
            for long in out.tokens[start..].iter().filter(|t| t.rule == "N-LONG") {
                let digits = text[long.span.clone()]
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .count();
                out.warnings.push(Warning {
                    span: long.span.clone(),
                    text: excerpt(&text[long.span.clone()]),
                    rule: "N-LONG",
                    message: format!(
                        "a number of {digits} digits is longer than the {} a quantity may have; \
                         it is read digit by digit",
                        number::MAX_CARDINAL_DIGITS
                    ),
                });
            }
            if out.tokens[start..].iter().any(|t| t.rule == "N-DATE-D") {
                last_first_day = Some(index);
            }
        }
        // N-RANGE: a dash glued to the first number of a range (4– 5 kg)
        // says "đến" like a dash standing alone, and nothing in a score.
        let glued_dash = previous_was_number
            && matches!(word.trail, "–" | "—")
            && words.get(index + 1).is_some_and(|w| {
                w.lead.is_empty() && w.core_text.starts_with(|c: char| c.is_ascii_digit())
            });
        if glued_dash {
            let range = word.core.end..word.core.end + word.trail.len();
            let spoken = if after_score_word() { "" } else { "đến" };
            out.tokens
                .push(token(range, spoken, Kind::Symbol, "N-RANGE"));
            continue;
        }
        let initial = out.tokens.last().is_some_and(|t| t.rule == "A-INITIAL");
        for (i, (range, c)) in word.trail_marks().enumerate() {
            // The dot of an initial inside a sentence is not a full stop.
            let more_words = index + 1 < words.len();
            if initial && i == 0 && c == '.' && more_words || defined && i == 0 {
                out.tokens.push(silent(range));
            } else {
                out.tokens.push(pause(range, c));
            }
        }
        if !word.trail.is_empty() {
            previous_was_number = false;
            previous_was_date = false;
            joined_to = None;
        }
    }
    out
}

/// At most the first 40 characters of `text`, with an ellipsis when cut: a
/// warning names what it is about without echoing a megabyte back.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn pause(span: Range<usize>, c: char) -> Token {
    Token {
        span,
        spoken: CompactString::from(pause_mark(c)),
        kind: Kind::Pause,
        rule: "P-PAUSE",
    }
}

/// Adds the tokens a reader returned; whether it read the word.
fn emit(out: &mut Expansion, tokens: Option<Vec<Token>>) -> bool {
    let read = tokens.is_some();
    out.tokens.extend(tokens.into_iter().flatten());
    read
}

/// A pause that says nothing: joiners inside codes, an initial's dot.
fn silent(span: Range<usize>) -> Token {
    token(span, "", Kind::Pause, "P-PAUSE")
}

fn token(
    span: Range<usize>,
    spoken: impl Into<CompactString>,
    kind: Kind,
    rule: &'static str,
) -> Token {
    Token {
        span,
        spoken: spoken.into(),
        kind,
        rule,
    }
}

/// A rule offered the core of one word: it pushes its tokens and returns
/// true when it reads the word, else leaves `out` as it was.
type CoreRule = fn(&Normalizer, &Word<'_>, &Around<'_>, bool, &mut Expansion) -> bool;

/// The order in which the rules are offered a word's core; the first that
/// reads it wins. This list is the only place the order is written; the
/// numbers have their own list (`numeric::NUMERIC_RULES`), offered at
/// `numeric` here.
const CORE_RULES: [(&str, CoreRule); 21] = [
    ("roman", roman::read_word),
    ("roman-before-dot", roman::read_before_dot),
    ("roman-glued-heading", roman::read_glued_heading),
    ("degree-scale", unit::read_degree_word),
    ("unit-after-number", unit::read_after_number),
    ("chainage", unit::read_chainage),
    ("headline-caps", letters::read_headline),
    ("initials", letters::read_initials),
    ("initial-with-dot", letters::read_dotted_initial),
    ("initial-after-name", letters::read_initial_after_name),
    ("abbreviation", read_abbreviation),
    ("loanword", read_loanword),
    ("lone-letter", letters::read_lone_letter),
    ("foreign-name", foreign::read_name),
    ("letters", letters::read_word_of_letters),
    ("web", web::read_word),
    ("numeric", numeric::read_word),
    ("minus-sign", numeric::read_minus_sign),
    ("unit-alone", unit::read_alone),
    ("rate", unit::read_rate),
    ("mixed", letters::read_mixed_word),
];

fn read_core(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    after_number: bool,
    out: &mut Expansion,
) {
    for (_, rule) in CORE_RULES {
        if rule(n, word, around, after_number, out) {
            return;
        }
    }
}

/// Abbreviations: the lexicon knows best (TP.HCM, GD&ĐT, KT-XH). The
/// window is built only for a known key: most words are not one.
fn read_abbreviation(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let core = word.core_text;
    if n.abbreviations.contains(core)
        && let Some(entry) = n.abbreviations.reading(core, &around.window())
    {
        out.tokens.push(token(
            word.core.clone(),
            entry.spoken.clone(),
            Kind::Abbreviation,
            lexicon_rule(entry),
        ));
        return true;
    }
    false
}

/// W-LOAN: a foreign word or name from `loanwords.tsv`, matched in any
/// case (Olympic, OLYMPIC); a station entry for the same written form was
/// read as an abbreviation before this rule.
fn read_loanword(
    n: &Normalizer,
    word: &Word<'_>,
    around: &Around<'_>,
    _: bool,
    out: &mut Expansion,
) -> bool {
    let lower = around.lowered[around.index];
    if n.loanwords.contains(lower)
        && let Some(entry) = n.loanwords.reading_strict(lower, &around.window())
    {
        out.tokens.push(token(
            word.core.clone(),
            entry.spoken.clone(),
            Kind::Loanword,
            "W-LOAN",
        ));
        return true;
    }
    false
}

fn lexicon_rule(entry: &super::Entry) -> &'static str {
    match (entry.source, entry.context.is_empty()) {
        (Source::Station, _) => "A-STATION",
        (Source::Builtin, true) => "A-LEX",
        (Source::Builtin, false) => "A-LEX-CTX",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(text: &str) -> String {
        Normalizer::builtin().unwrap().expand_str(text).spoken()
    }

    #[test]
    fn reads_the_station_article() {
        assert_eq!(
            say("Chiều ngày 23/7, Ban tuyên giáo"),
            "Chiều ngày hai mươi ba tháng bảy, Ban tuyên giáo"
        );
        assert_eq!(
            say("Ủy viên BTV Thành ủy"),
            "Ủy viên Ban Thường vụ Thành ủy"
        );
        assert_eq!(say("phong cách HCM”."), "phong cách Hồ Chí Minh.");
        assert_eq!(
            say("6 tháng cuối năm 2021."),
            "sáu tháng cuối năm hai nghìn không trăm hai mươi mốt."
        );
        assert_eq!(
            say("Bộ chính trị khóa XIII về"),
            "Bộ chính trị khóa mười ba về"
        );
        assert_eq!(say("Chỉ thị 05 của"), "Chỉ thị không năm của");
        assert_eq!(say("kết luận số 01 của"), "kết luận số không một của");
        assert_eq!(
            say("Ban chỉ đạo 35 Thành ủy"),
            "Ban chỉ đạo ba mươi lăm Thành ủy"
        );
        assert_eq!(
            say("Chỉ thị số 05 – “đẩy mạnh"),
            "Chỉ thị số không năm, đẩy mạnh"
        );
        assert_eq!(
            say("Nguyễn Minh Ngân - Ủy viên"),
            "Nguyễn Minh Ngân, Ủy viên"
        );
    }

    #[test]
    fn reads_numbers_dates_and_times() {
        assert_eq!(say("3,5 triệu"), "ba phẩy năm triệu");
        assert_eq!(say("-12"), "âm mười hai");
        assert_eq!(
            say("1.250.000 đồng"),
            "một triệu hai trăm năm mươi nghìn đồng"
        );
        assert_eq!(
            say("ngày 29/07/2021"),
            "ngày hai mươi chín tháng bảy năm hai nghìn không trăm hai mươi mốt"
        );
        assert_eq!(
            say("tháng 4/2021"),
            "tháng tư năm hai nghìn không trăm hai mươi mốt"
        );
        assert_eq!(say("lúc 14h30"), "lúc mười bốn giờ ba mươi phút");
        assert_eq!(say("lúc 14:30"), "lúc mười bốn giờ ba mươi phút");
        assert_eq!(say("từ 6-7 người"), "từ sáu đến bảy người");
        assert_eq!(say("khoảng 1/3 dân số"), "khoảng một phần ba dân số");
        assert_eq!(say("lần thứ 4"), "lần thứ tư");
        assert_eq!(say("đạt 95%"), "đạt chín mươi lăm phần trăm");
        assert_eq!(say("dài 5km"), "dài năm ki lô mét");
    }

    #[test]
    fn spells_unknown_acronyms_with_a_warning() {
        let n = Normalizer::builtin().unwrap();
        let e = n.expand_str("mạng VNPTX");
        assert_eq!(e.warnings.len(), 1);
        assert_eq!(e.warnings[0].rule, "A-SPELL");
        assert!(e.spoken().starts_with("mạng vê en pê tê"), "{}", e.spoken());
    }

    #[test]
    fn foreign_names_missing_from_the_table_are_flagged() {
        let n = Normalizer::builtin().unwrap();
        let e = n.expand_str("bão Ragasa và ông Sebastian");
        assert_eq!(e.spoken(), "bão ra-ga-sa và ông Sebastian");
        let flagged: Vec<(&str, &str)> = e
            .warnings
            .iter()
            .map(|w| (w.rule, w.text.as_str()))
            .collect();
        assert_eq!(
            flagged,
            [("W-FOREIGN", "Ragasa"), ("W-FOREIGN", "Sebastian")]
        );
        // A name in the loanword table is no warning.
        assert!(n.expand_str("đến Singapore").warnings.is_empty());
    }

    #[test]
    fn headlines_in_capitals_are_words() {
        assert_eq!(
            say("SƠ KẾT CÔNG TÁC TUYÊN GIÁO"),
            "SƠ KẾT CÔNG TÁC TUYÊN GIÁO"
        );
    }

    #[test]
    fn spans_cover_the_source() {
        let n = Normalizer::builtin().unwrap();
        let text = "Ngày 23/7, (BTV) đạt 5km.";
        let e = n.expand_str(text);
        let mut last = 0;
        for t in &e.tokens {
            assert!(t.span.start >= last, "{t:?}");
            last = t.span.end;
        }
        let covered: String = e.tokens.iter().map(|t| &text[t.span.clone()]).collect();
        assert_eq!(covered, text.replace(' ', ""));
    }

    #[test]
    fn loanwords_are_read_in_any_case_and_the_station_overrides_them() {
        assert_eq!(say("lướt FACEBOOK"), "lướt phây-búc");
        // "sea" is "xi" only beside Games.
        assert_eq!(say("SEA Games"), "xi ghêm");
        let station = crate::normalize::Lexicon::parse(
            "station.tsv",
            "Facebook\tphết búc\t\tstation reading\n",
            Source::Station,
        )
        .unwrap();
        let n = Normalizer::builtin().unwrap().with_station(&station);
        assert_eq!(n.expand_str("trang Facebook").spoken(), "trang phết búc");
    }
}
