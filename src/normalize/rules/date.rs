//! Dates and date ranges: d/m, d-m, d.m with or without a year, m/yyyy,
//! m.yyyy after "tháng", ranges that share a month or a year (13-14/11,
//! 3-7/12/2024, 28.5-3.6, 11.6.1948-11.6.2018) and the first of two days
//! that share the month written after the second (ngày 15 và 16/11).
//!
//! A written form that could also be a fraction, a range, a score or a
//! decimal is read as a date only on evidence, weighed here: the words just
//! before it (`date` and `date-weak` rows of triggers.tsv), a verb of change
//! or a share word before it (`quantity`), the word after it (a unit or a
//! counted noun, `counted`, makes it a quantity), and the values (day 1–31,
//! month 1–12). Where the evidence stays weak the likelier reading is taken
//! and a warning tells the editor (N-DATE-GUESS, N-FRAC-GUESS).
//! Rule ids are listed in the module doc of `normalize`.

use std::ops::Range;

use super::token;
use crate::normalize::context::Around;
use crate::normalize::number;
use crate::normalize::triggers::{ends_with_any, is_one_of, starts_with_any};
use crate::normalize::{Expansion, Kind, Normalizer, Warning};

/// How strongly the words around a number say it is a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Evidence {
    /// Nothing says date, or a quantity word says it is not one.
    None,
    /// A word that may introduce a date or a quantity (từ, đến, trước),
    /// or "ngày" a few words back (ngày Giải phóng miền Nam 30/4).
    Weak,
    /// A word that introduces a date (ngày, sáng, tối, thứ Năm), a bracket,
    /// or a date just before joined by "và" or a dash.
    Strong,
}

/// Weighs the words before a number for a date reading.
pub(super) fn evidence(around: &Around<'_>, n: &Normalizer) -> Evidence {
    let before = around.before;
    // A verb of change or a share word at most one word back (giảm tới 1/3,
    // chiếm khoảng 2/3): a quantity, whatever follows it.
    let quantity = (0..=1).any(|skip| {
        before.len() > skip && ends_with_any(&before[..before.len() - skip], &n.triggers.quantity)
    });
    if quantity {
        return Evidence::None;
    }
    let joined_to_date = around.recent_date
        && around
            .before_last()
            .is_some_and(|w| is_dash(w) || is_one_of(w, &n.triggers.day_pair));
    // A day after a clock time, unless a unit or counted noun follows it
    // (8 giờ 10-15 phút) other than a word that follows dates (năm nay).
    let day_of_time = after_clock_time(before)
        && (!counted_after(around, n) || starts_with_any(around.after, &n.triggers.date_after));
    if ends_with_any(before, &n.triggers.date)
        || day_of_time
        || around.bracketed
        || around.first_day.is_some()
        || joined_to_date
    {
        return Evidence::Strong;
    }
    if ends_with_any(before, &n.triggers.date_weak)
        || before
            .iter()
            .rev()
            .take(5)
            .any(|w| is_one_of(w, &n.triggers.day_near))
    {
        return Evidence::Weak;
    }
    Evidence::None
}

/// Whether the words before end with a clock time (14 giờ, 8 giờ 30,
/// 7 giờ 15 phút, 19h, 16h30): a day and month right after a time is the
/// day of that time, its "ngày" left unwritten (đến 14 giờ 18-5).
fn after_clock_time(before: &[&str]) -> bool {
    let hour = |w: &str| {
        (1..=2).contains(&w.len())
            && w.bytes().all(|b| b.is_ascii_digit())
            && w.parse::<u32>().is_ok_and(|h| h <= 24)
    };
    let minute = |w: &str| w.len() == 2 && w.parse::<u32>().is_ok_and(|m| m <= 59);
    let written_as_one = |w: &str| {
        w.split_once('h')
            .is_some_and(|(h, m)| hour(h) && (m.is_empty() || minute(m)))
    };
    match before {
        [.., h, "giờ"] => hour(h),
        [.., h, "giờ", m] | [.., h, "giờ", m, "phút"] => hour(h) && minute(m),
        [.., one] => written_as_one(one),
        [] => false,
    }
}

/// Whether the word after the number is a unit or a counted noun (12/15
/// xã, 2-3 người, 85.5 mm): then the number is a quantity, not a date.
pub(super) fn counted_after(around: &Around<'_>, n: &Normalizer) -> bool {
    starts_with_any(around.after, &n.triggers.counted)
        || around.next_raw.is_some_and(|w| n.units.contains(w))
}

/// A date written in one word: its parts and the separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Written<'a> {
    day: Option<u32>,
    month: u32,
    year: Option<&'a str>,
    sep: char,
}

/// Splits `d/m`, `d/m/yyyy`, `d-m`, `d.m.yyyy` (any one separator) into a
/// valid day and month; `None` when a part is out of range.
fn parse_dm(text: &str) -> Option<Written<'_>> {
    let sep = ['/', '.', '-'].into_iter().find(|&s| text.contains(s))?;
    let mut parts = text.split(sep);
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next());
    if parts.next().is_some() {
        return None;
    }
    let small = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !small(d) || !small(m) {
        return None;
    }
    let year = match y {
        Some(y) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => Some(y),
        Some(_) => return None,
        None => None,
    };
    let (day, month) = (d.parse().ok()?, m.parse().ok()?);
    ((1..=31).contains(&day) && (1..=12).contains(&month)).then_some(Written {
        day: Some(day),
        month,
        year,
        sep,
    })
}

/// A day and month (with or without a year) written in one word, as the
/// second of two days (ngày 15 và 16/11, ngày 28 và 29.5).
pub(super) fn day_month(word: &str) -> Option<(u32, u32)> {
    let written = parse_dm(word)?;
    Some((written.day?, written.month))
}

fn say(value: u32, n: &Normalizer) -> String {
    number::cardinal(&value.to_string(), &n.style)
}

/// "ngày " unless the text already says it (ngày, mùng, hôm just before,
/// or before the first of two days).
fn day_word(around: &Around<'_>, n: &Normalizer) -> &'static str {
    let first_day_said = around
        .first_day
        .and_then(|i| i.checked_sub(1))
        .is_some_and(|i| is_one_of(around.lowered[i], &n.triggers.day_said));
    // The second date of a range written with a lone dash (27/2 - 4/3)
    // follows "đến" and takes no "ngày" of its own.
    let after_dash = around.recent_date && around.before_last().is_some_and(is_dash);
    if day_said_before(around, n) || first_day_said || after_dash || after_day_list(around, n) {
        ""
    } else {
        "ngày "
    }
}

/// The spoken day, month and year of `written`, without "ngày".
fn spoken_date(written: &Written<'_>, n: &Normalizer) -> String {
    let mut spoken = String::new();
    if let Some(day) = written.day {
        spoken.push_str(&say(day, n));
        spoken.push_str(" tháng ");
    }
    spoken.push_str(&number::month(written.month, &n.style));
    if let Some(year) = written.year {
        spoken.push_str(" năm ");
        spoken.push_str(&number::cardinal(year, &n.style));
    }
    spoken
}

/// Reads a date, a date range or the first of two days sharing a month.
/// Returns false when `core` is none of them, so other readings apply.
pub(super) fn read(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    if let Some((spoken, rule, guessed)) = read_date(core, around, n) {
        if guessed {
            warn(out, &span, core, "N-DATE-GUESS", "a date");
        }
        out.tokens.push(token(span, spoken, Kind::Date, rule));
        return true;
    }
    if read_range(n, span.clone(), core, around, out) {
        return true;
    }
    if let Some(spoken) = read_first_day(core, around, n) {
        out.tokens.push(token(span, spoken, Kind::Date, "N-DATE-D"));
        return true;
    }
    false
}

/// N-DATE-MY: the year of "tháng 1 2024" takes its missing "năm".
pub(super) fn read_year_after_month(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let year_of_month = core.len() == 4
        && core.bytes().all(|b| b.is_ascii_digit())
        && matches!(around.before, [.., month_word, month]
            if is_one_of(month_word, &n.triggers.month_word)
                && month.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m)));
    if year_of_month {
        let spoken = format!("năm {}", number::cardinal(core, &n.style));
        out.tokens
            .push(token(span, spoken, Kind::Date, "N-DATE-MY"));
    }
    year_of_month
}

/// Tells the editor a reading was chosen on weak evidence.
pub(super) fn warn(
    out: &mut Expansion,
    span: &Range<usize>,
    core: &str,
    rule: &'static str,
    reading: &str,
) {
    out.warnings.push(Warning {
        span: span.clone(),
        text: core.to_string(),
        rule,
        message: format!(
            "{core} is read as {reading} on weak evidence; check the reading (date, fraction or range)"
        ),
    });
}

/// Dates in d/m/yyyy, d-m-yyyy, d.m.yyyy, d/m, d-m, d.m, m/yyyy and
/// m.yyyy forms. The leading `ngày`/`tháng` is left out when the text
/// already says it; after `quý` the number is a quarter (quý 2/2021).
/// The flag says the date was chosen on weak evidence.
fn read_date(
    core: &str,
    around: &Around<'_>,
    n: &Normalizer,
) -> Option<(String, &'static str, bool)> {
    let before_last = around.before_last();
    // N-DATE-MY: tháng 7/2021, tháng 1-2023, tháng 12.2006, quý 2/2021.
    if let Some((m, y)) = core.split_once(['/', '-', '.'])
        && y.len() == 4
        && (1..=2).contains(&m.len())
        && m.bytes().chain(y.bytes()).all(|b| b.is_ascii_digit())
    {
        let (month, year) = (m.parse::<u32>().ok()?, y);
        let sep = core.as_bytes()[m.len()];
        if before_last.is_some_and(|w| is_one_of(w, &n.triggers.quarter)) {
            return (1..=4).contains(&month).then(|| {
                let spoken = format!("{} năm {}", say(month, n), number::cardinal(year, &n.style));
                (spoken, "N-DATE-MY", false)
            });
        }
        let after_month_word = before_last.is_some_and(|w| is_one_of(w, &n.triggers.month_word));
        if !(1..=12).contains(&month) || sep != b'/' && !after_month_word {
            return None;
        }
        let month_word = if after_month_word { "" } else { "tháng " };
        let written = Written {
            day: None,
            month,
            year: Some(year),
            sep: '/',
        };
        return Some((
            format!("{month_word}{}", spoken_date(&written, n)),
            "N-DATE-MY",
            false,
        ));
    }
    let written = parse_dm(core)?;
    let day_word = day_word(around, n);
    let spoken = format!("{day_word}{}", spoken_date(&written, n));
    // N-DATE-DMY: a full date is a date whatever surrounds it.
    if written.year.is_some() {
        return Some((spoken, "N-DATE-DMY", false));
    }
    if before_last.is_some_and(|w| is_one_of(w, &n.triggers.month_word)) {
        return None;
    }
    // N-DATE-DM: d/m, d-m, d.m only on evidence.
    let evidence = evidence(around, n);
    // "30/4 năm nay": a word that follows dates as well as counts.
    let quantity_after =
        counted_after(around, n) && !starts_with_any(around.after, &n.triggers.date_after);
    let guessed = match (written.sep, evidence) {
        (_, Evidence::Strong) => false,
        ('/', Evidence::Weak) if !quantity_after => false,
        // 30/4 with "ngày" a few words back (ngày Giải phóng miền Nam
        // 30/4): no share or count out of a total has a numerator that
        // large, so a day and month it is, but the editor is told.
        ('/', Evidence::Weak) if written.day? > written.month => true,
        _ => return None,
    };
    Some((spoken, "N-DATE-DM", guessed))
}

/// N-DATE-RANGE: two dates joined by a dash in one word. The first may be
/// a bare day sharing the month of the second (13-14/11, 3-7/12/2024) or a
/// day and month of its own (28.5-3.6, 11.6.1948-11.6.2018); read
/// "… đến …", the month and year said where they are written.
fn read_range(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(dash) = core.find(['-', '–']) else {
        return false;
    };
    let dash_len = core[dash..].chars().next().map_or(1, char::len_utf8);
    let (left, right) = (&core[..dash], &core[dash + dash_len..]);
    let Some(second) = parse_dm(right).filter(|w| w.sep != '-') else {
        return false;
    };
    let first = if left.bytes().all(|b| b.is_ascii_digit()) && (1..=2).contains(&left.len()) {
        let Some(day) = left.parse::<u32>().ok().filter(|d| *d >= 1) else {
            return false;
        };
        if second.day.is_none_or(|d| day >= d) {
            return false;
        }
        Written {
            day: Some(day),
            month: 0,
            year: None,
            sep: second.sep,
        }
    } else {
        match parse_dm(left) {
            Some(w) if w.sep == second.sep => w,
            _ => return false,
        }
    };
    // A dotted pair without a year could be two decimals (28.5-3.6 mm).
    let evidence = evidence(around, n);
    let dotted = second.sep == '.' && second.year.is_none();
    if evidence == Evidence::None && (dotted || counted_after(around, n)) {
        return false;
    }
    let left_spoken = if first.month == 0 {
        say(first.day.unwrap_or(1), n)
    } else {
        spoken_date(&first, n)
    };
    let left_span = span.start..span.start + dash;
    let dash_span = left_span.end..left_span.end + dash_len;
    let right_span = dash_span.end..span.end;
    if evidence == Evidence::None {
        warn(out, &span, core, "N-DATE-GUESS", "a range of dates");
    }
    out.tokens.push(token(
        left_span,
        format!("{}{left_spoken}", day_word(around, n)),
        Kind::Date,
        "N-DATE-RANGE",
    ));
    out.tokens
        .push(token(dash_span, "đến", Kind::Symbol, "N-DATE-RANGE"));
    out.tokens.push(token(
        right_span,
        spoken_date(&second, n),
        Kind::Date,
        "N-DATE-RANGE",
    ));
    true
}

/// Whether `word` joins two days of one month: ngày 15 và 16/11, từ 15 đến
/// 20/11, 15-16/11.
fn joins_days(word: &str, n: &Normalizer) -> bool {
    matches!(word, "-" | "–")
        || is_one_of(word, &n.triggers.day_pair)
        || is_one_of(word, &n.triggers.day_range)
}

/// Whether the word before is a lone dash (or a dash left as an empty core).
fn is_dash(word: &str) -> bool {
    matches!(word, "" | "-" | "–")
}

/// How many listed days are walked back to find their "ngày".
const MAX_LISTED_DAYS: usize = 10;

/// Whether the date ends a list of days that "ngày" already introduced
/// (các ngày 26, 27, 28, 29/6/2024): the day is not said with "ngày" again.
fn after_day_list(around: &Around<'_>, n: &Normalizer) -> bool {
    let is_day = |w: &&&str| {
        w.len() <= 2
            && w.bytes().all(|b| b.is_ascii_digit())
            && w.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
    };
    let before = around.before;
    let days = before
        .iter()
        .rev()
        .take(MAX_LISTED_DAYS)
        .take_while(is_day)
        .count();
    days > 0
        && before[..before.len() - days]
            .last()
            .is_some_and(|w| is_one_of(w, &n.triggers.day_said))
}

/// Whether the word just before already says "day" (ngày, mùng, hôm).
fn day_said_before(around: &Around<'_>, n: &Normalizer) -> bool {
    around
        .before_last()
        .is_some_and(|w| is_one_of(w, &n.triggers.day_said))
}

/// N-DATE-D: the first of two days that share the month written after the
/// second (ngày 15 và 16/11, ngày 15, 16/11, từ 15 đến 20/11, từ ngày 1
/// đến ngày 3.8), after a word that introduces a date. It is a day, said
/// with "ngày" unless the text already says it.
fn read_first_day(core: &str, around: &Around<'_>, n: &Normalizer) -> Option<String> {
    if core.len() > 2 || !core.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u32 = core.parse().ok()?;
    let next_date = match around.after {
        [joiner, day_said, next, ..]
            if joins_days(joiner, n) && is_one_of(day_said, &n.triggers.day_said) =>
        {
            day_month(next)
        }
        [joiner, next, ..] if joins_days(joiner, n) => day_month(next),
        [next, ..] => day_month(next),
        [] => None,
    };
    let (next_day, _) = next_date?;
    let introduced = ends_with_any(around.before, &n.triggers.date)
        || ends_with_any(around.before, &n.triggers.date_weak);
    if day == 0 || day >= next_day || !introduced {
        return None;
    }
    let said = day_said_before(around, n);
    let spoken = number::cardinal(core, &n.style);
    Some(if said {
        spoken
    } else {
        format!("ngày {spoken}")
    })
}

#[cfg(test)]
mod tests {
    use crate::normalize::Normalizer;

    fn say(text: &str) -> String {
        Normalizer::builtin().unwrap().expand_str(text).spoken()
    }

    fn rules(text: &str) -> Vec<&'static str> {
        let e = Normalizer::builtin().unwrap().expand_str(text);
        e.warnings.iter().map(|w| w.rule).collect()
    }

    #[test]
    fn dashed_and_dotted_dates_after_a_date_word() {
        assert_eq!(say("Sáng 14-10, tại"), "Sáng ngày mười bốn tháng mười, tại");
        assert_eq!(say("Ngày 9-4, tại"), "Ngày chín tháng tư, tại");
        assert_eq!(
            say("Tối 27.10 có mưa"),
            "Tối ngày hai mươi bảy tháng mười có mưa"
        );
        assert_eq!(
            say("Hiện nay (31.7), rãnh"),
            "Hiện nay, ngày ba mươi mốt tháng bảy, rãnh"
        );
        // Without a date word, d-m is a range or a score and d.m stays a number.
        assert_eq!(say("từ 6-7 người"), "từ sáu đến bảy người");
        assert_eq!(say("thắng 3-1"), "thắng ba một");
    }

    #[test]
    fn month_and_year_with_a_dot_or_dash_after_thang() {
        assert_eq!(
            say("cuối tháng 12.2006 và"),
            "cuối tháng mười hai năm hai nghìn không trăm linh sáu và"
        );
        assert_eq!(
            say("tháng 1-2023 tăng"),
            "tháng một năm hai nghìn không trăm hai mươi ba tăng"
        );
    }

    #[test]
    fn weekday_and_far_ngay_make_a_date() {
        assert_eq!(
            say("so với ngày thứ Năm, 27/6."),
            "so với ngày thứ Năm, ngày hai mươi bảy tháng sáu."
        );
        assert_eq!(
            say("ngày Giải phóng miền Nam 30/4"),
            "ngày Giải phóng miền Nam ngày ba mươi tháng tư"
        );
    }

    #[test]
    fn a_quantity_word_or_counted_noun_keeps_a_fraction() {
        assert_eq!(say("giảm tới 1/3 so với"), "giảm tới một phần ba so với");
        assert_eq!(say("đến 12/15 xã"), "đến mười hai trên mười lăm xã");
    }

    #[test]
    fn ranges_sharing_a_month_or_year() {
        assert_eq!(
            say("Từ ngày 13-14/11"),
            "Từ ngày mười ba đến mười bốn tháng mười một"
        );
        assert_eq!(
            say("ngày 3-7/12/2024"),
            "ngày ba đến bảy tháng mười hai năm hai nghìn không trăm hai mươi tư"
        );
        assert_eq!(
            say("từ ngày 28.5-3.6"),
            "từ ngày hai mươi tám tháng năm đến ba tháng sáu"
        );
        assert_eq!(
            say("(11.6.1948-11.6.2018)"),
            "ngày mười một tháng sáu năm một nghìn chín trăm bốn mươi tám đến mười một tháng sáu năm hai nghìn không trăm mười tám,"
        );
        assert_eq!(
            say("từ ngày 25/8 - 5/9"),
            "từ ngày hai mươi lăm tháng tám đến năm tháng chín"
        );
    }

    #[test]
    fn two_days_sharing_a_dotted_month() {
        assert_eq!(
            say("Ngày 28 và 29.5, đoàn"),
            "Ngày hai mươi tám và hai mươi chín tháng năm, đoàn"
        );
        assert_eq!(
            say("từ ngày 1 đến ngày 3.8 các"),
            "từ ngày một đến ngày ba tháng tám các"
        );
    }

    #[test]
    fn weak_evidence_is_warned() {
        assert_eq!(rules("Ngày 9-4, tại"), Vec::<&str>::new());
        assert_eq!(rules("kỷ niệm 30/4 năm nay"), Vec::<&str>::new());
        assert_eq!(rules("diễn ra 13-14/11 tại"), vec!["N-DATE-GUESS"]);
        assert_eq!(rules("chia 1/4 cho"), vec!["N-FRAC-GUESS"]);
    }
}
