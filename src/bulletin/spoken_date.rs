//! The date as an announcer says it ("thứ năm, ngày hai mươi chín tháng bảy
//! năm hai nghìn không trăm hai mươi mốt") and the greeting and sign-off
//! templates filled with it. Weekday names live in `weekdays.tsv`; numbers
//! are read by [`crate::normalize::number`].

use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};

use super::config::fill;
use crate::normalize::number::{self, NumberStyle};

const WEEKDAYS_TSV: &str = include_str!("weekdays.tsv");

/// The seven spoken weekday names, Monday first, from `weekdays.tsv`.
fn weekday_names() -> &'static [String; 7] {
    static NAMES: OnceLock<[String; 7]> = OnceLock::new();
    NAMES.get_or_init(|| {
        parse_weekdays(WEEKDAYS_TSV).expect("weekdays.tsv is checked by a unit test")
    })
}

/// Parses the weekday table: every weekday exactly once, Monday first.
fn parse_weekdays(text: &str) -> Result<[String; 7], String> {
    const ORDER: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let rows: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').ok_or_else(|| format!("no tab in {l:?}")))
        .collect::<Result<_, _>>()?;
    let names: Vec<String> = rows
        .iter()
        .map(|(_, spoken)| spoken.trim().to_string())
        .collect();
    let keys: Vec<&str> = rows.iter().map(|(k, _)| *k).collect();
    if keys != ORDER {
        return Err(format!(
            "weekdays must be {ORDER:?} in order, found {keys:?}"
        ));
    }
    if let Some(bad) = names
        .iter()
        .find(|n| crate::normalize::validate_spoken(n).is_err())
    {
        return Err(format!("{bad:?} is not a spoken Vietnamese form"));
    }
    names.try_into().map_err(|_| "seven weekdays".to_string())
}

/// The spoken weekday: `thứ năm`, `chủ nhật`.
pub fn weekday(date: Date) -> &'static str {
    let index = match date.weekday() {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
        Weekday::Saturday => 5,
        Weekday::Sunday => 6,
    };
    &weekday_names()[index]
}

/// The spoken date: `ngày hai mươi chín tháng bảy năm hai nghìn không trăm
/// hai mươi mốt`. Days one to ten take `mùng`, as announcers say them
/// (`ngày mùng một tháng tư`); month 4 is `tư`.
pub fn date(date: Date, style: &NumberStyle) -> String {
    let day = u32::try_from(date.day()).expect("days are positive");
    let month = u32::try_from(date.month()).expect("months are positive");
    let mung = if day <= 10 { "mùng " } else { "" };
    format!(
        "ngày {mung}{} tháng {} năm {}",
        number::cardinal(&day.to_string(), style),
        number::month(month, style),
        number::cardinal(&date.year().to_string(), style)
    )
}

/// What a greeting or sign-off template may name.
#[derive(Debug, Clone)]
pub struct TemplateValues<'a> {
    pub date: Date,
    pub station: &'a str,
    /// The slot's spoken label (`sáng`).
    pub slot: &'a str,
    pub style: &'a NumberStyle,
}

/// Fills `{weekday}`, `{date}`, `{station}` and `{slot}`. Templates are
/// validated when the configuration is loaded, so every placeholder is known.
pub fn fill_template(template: &str, values: &TemplateValues<'_>) -> String {
    fill(template, |name| match name {
        "weekday" => Some(weekday(values.date).to_string()),
        "date" => Some(date(values.date, values.style)),
        "station" => Some(values.station.to_string()),
        "slot" => Some(values.slot.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn the_shipped_weekday_table_parses() {
        parse_weekdays(WEEKDAYS_TSV).unwrap();
        assert!(parse_weekdays("monday\tthứ hai\n").is_err());
    }

    #[test]
    fn speaks_weekdays_and_dates() {
        let style = NumberStyle::default();
        let thursday = d(2021, 7, 29);
        assert_eq!(weekday(thursday), "thứ năm");
        assert_eq!(
            date(thursday, &style),
            "ngày hai mươi chín tháng bảy năm hai nghìn không trăm hai mươi mốt"
        );
        assert_eq!(weekday(d(2021, 8, 1)), "chủ nhật");
        assert_eq!(weekday(d(2021, 8, 2)), "thứ hai");
        assert_eq!(weekday(d(2021, 7, 28)), "thứ tư");
        assert_eq!(
            date(d(2024, 4, 1), &style),
            "ngày mùng một tháng tư năm hai nghìn không trăm hai mươi tư"
        );
        assert_eq!(
            date(d(2025, 12, 15), &style),
            "ngày mười lăm tháng mười hai năm hai nghìn không trăm hai mươi lăm"
        );
    }

    #[test]
    fn fills_a_greeting() {
        let style = NumberStyle::default();
        let values = TemplateValues {
            date: d(2021, 7, 29),
            station: "Đài truyền thanh thành phố Hưng Yên",
            slot: "sáng",
            style: &style,
        };
        assert_eq!(
            fill_template(
                "{station} xin kính chào quý vị và các bạn. Hôm nay, {weekday}, {date}. Bản tin {slot}.",
                &values
            ),
            "Đài truyền thanh thành phố Hưng Yên xin kính chào quý vị và các bạn. Hôm nay, thứ năm, \
             ngày hai mươi chín tháng bảy năm hai nghìn không trăm hai mươi mốt. Bản tin sáng."
        );
    }
}
