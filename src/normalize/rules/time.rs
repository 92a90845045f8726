//! Clock times and durations (N-TIME: 14h30, 14:30, 23:59:59, 3p20s, 30s)
//! and round the clock (N-ALLDAY: 24/24, 24/7).

use std::ops::Range;

use super::token;
use crate::normalize::context::Around;
use crate::normalize::number::{self, NumberStyle};
use crate::normalize::{Expansion, Kind, Normalizer};

/// N-TIME: seconds glued to a number (30s), but not a model name (iPhone 6s).
pub(super) fn read_seconds(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(seconds) = core.strip_suffix('s') else {
        return false;
    };
    let model = around
        .prev_raw
        .is_some_and(|w| w.chars().skip(1).any(char::is_uppercase));
    if !(1..=2).contains(&seconds.len()) || !seconds.bytes().all(|b| b.is_ascii_digit()) || model {
        return false;
    }
    let spoken = format!("{} giây", number::cardinal(seconds, &n.style));
    out.tokens.push(token(span, spoken, Kind::Time, "N-TIME"));
    true
}

/// N-TIME: 14h, 14h30, 14:30, 23:59:59, 3p20s as one word. When the text
/// says "phút" itself after the time (3h30 phút), the time does not say it
/// twice.
pub(super) fn read_clock_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(mut spoken) = read_time(core, &n.style) else {
        return false;
    };
    if around.after.first() == Some(&"phút") && spoken.ends_with(" phút") {
        spoken.truncate(spoken.len() - " phút".len());
    }
    out.tokens.push(token(span, spoken, Kind::Time, "N-TIME"));
    true
}

/// N-TIME: the minutes written as a number of two digits after "giờ" and an
/// hour (8 giờ 00, 7 giờ 05): no minutes say nothing, others say their
/// number without the leading zero, with "phút" unless the text says it.
pub(super) fn read_minutes_after_hour(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    around: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let after_hour = match around.before {
        [.., hour, giờ] => {
            *giờ == "giờ"
                && hour.len() <= 2
                && hour.bytes().all(|b| b.is_ascii_digit())
                && hour.parse::<u32>().is_ok_and(|h| h <= 24)
        }
        _ => false,
    };
    if !after_hour || core.len() != 2 || !core.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let minutes: u32 = core.parse().unwrap_or(60);
    if minutes > 59 {
        return false;
    }
    let spoken = if minutes == 0 {
        String::new()
    } else if around.after.first() == Some(&"phút") {
        number::cardinal(&minutes.to_string(), &n.style)
    } else {
        format!("{} phút", number::cardinal(&minutes.to_string(), &n.style))
    };
    out.tokens.push(token(span, spoken, Kind::Time, "N-TIME"));
    true
}

/// N-ALLDAY: round the clock (mở cửa 24/24, phục vụ 24/7, trực 24/24h)
/// says "trên", never a fraction; "ngày 24/7" was read as a date before.
pub(super) fn read_all_day_word(
    n: &Normalizer,
    span: Range<usize>,
    core: &str,
    _: &Around<'_>,
    out: &mut Expansion,
) -> bool {
    let Some(spoken) = read_all_day(core, &n.style) else {
        return false;
    };
    out.tokens
        .push(token(span, spoken, Kind::Number, "N-ALLDAY"));
    true
}

/// 14h, 14h30, 14g30, 14:30, 23:59:59, 3p20s → spoken time.
pub(super) fn read_time(core: &str, style: &NumberStyle) -> Option<String> {
    let parse = |s: &str| -> Option<u32> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let say = |v: u32| number::cardinal(&v.to_string(), style);
    let clock = |h: u32, m: u32, s: u32| {
        let mut spoken = format!("{} giờ", say(h));
        if m > 0 {
            spoken.push_str(&format!(" {} phút", say(m)));
        }
        if s > 0 {
            spoken.push_str(&format!(" {} giây", say(s)));
        }
        spoken
    };
    if let Some(i) = core.find(['h', 'g']) {
        let (h, m) = (&core[..i], &core[i + 1..]);
        let h = parse(h)?;
        if h > 24 {
            return None;
        }
        if m.is_empty() {
            return Some(clock(h, 0, 0));
        }
        let m = parse(m.strip_suffix('p').unwrap_or(m))?;
        return (m <= 59).then(|| clock(h, m, 0));
    }
    // A duration in minutes and seconds: 3p, 3p20s.
    if let Some((m, s)) = core.split_once('p') {
        let m = parse(m)?;
        let s = if s.is_empty() {
            0
        } else {
            parse(s.strip_suffix('s')?)?
        };
        if m > 59 || s > 59 {
            return None;
        }
        let mut spoken = format!("{} phút", say(m));
        if s > 0 {
            spoken.push_str(&format!(" {} giây", say(s)));
        }
        return Some(spoken);
    }
    let mut parts = core.split(':');
    let h = parse(parts.next()?)?;
    let minutes = parts.next()?;
    let m = parse(minutes)?;
    let s = parts.next().map_or(Some(0), parse)?;
    if parts.next().is_some() || h > 24 || m > 59 || s > 59 || minutes.len() != 2 {
        return None;
    }
    Some(clock(h, m, s))
}

/// N-ALLDAY: 24/24, 24/7, 24h/24h, 24/24h: "hai mươi tư trên hai mươi tư
/// (giờ)".
fn read_all_day(core: &str, style: &NumberStyle) -> Option<String> {
    let (hours, per) = core.split_once('/')?;
    let hours = hours.strip_suffix('h').unwrap_or(hours);
    let (per, unit) = match per.strip_suffix('h') {
        Some(per) => (per, " giờ"),
        None => (per, ""),
    };
    (hours == "24" && matches!(per, "24" | "7")).then(|| {
        format!(
            "{} trên {}{unit}",
            number::cardinal(hours, style),
            number::cardinal(per, style)
        )
    })
}
