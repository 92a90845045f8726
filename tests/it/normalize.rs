//! Normalization end to end through the library: the golden news sentences
//! (tests/golden/normalize/*.tsv, `input<TAB>expected<TAB>rule`) and the
//! invariants of `Normalizer::expand` as property tests. The long fuzz run
//! is `cargo test --release --test it normalize::fuzz_for_a_while -- --ignored`
//! (BANTIN_FUZZ_SECONDS, default 600).

use std::time::{Duration, Instant};

use bantin::normalize::{Expansion, Normalizer};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use unicode_normalization::is_nfc;

use crate::util::repo;

fn normalizer() -> Normalizer {
    Normalizer::builtin().expect("shipped tables are valid")
}

struct Row {
    file: String,
    line: usize,
    input: String,
    expected: String,
    rule: String,
}

fn golden_rows() -> Vec<Row> {
    let dir = repo().join("tests/golden/normalize");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/golden/normalize exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (index, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                fields.len(),
                3,
                "{file}:{}: expected input<TAB>expected<TAB>rule",
                index + 1
            );
            rows.push(Row {
                file: file.clone(),
                line: index + 1,
                input: fields[0].to_string(),
                expected: fields[1].to_string(),
                rule: fields[2].to_string(),
            });
        }
    }
    rows
}

/// Every golden row must read as expected and must use the rule it names;
/// every failing row is reported, not only the first.
#[test]
fn golden_sentences_read_as_expected() {
    let n = normalizer();
    let rows = golden_rows();
    assert!(rows.len() >= 300, "only {} golden rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let expansion = n.expand_str(&row.input);
        let actual = expansion.spoken();
        let rules: Vec<&str> = expansion.tokens.iter().map(|t| t.rule).collect();
        let rule_used = rules.contains(&row.rule.as_str());
        if actual != row.expected || !rule_used {
            failures.push(format!(
                "{}:{} [{}]{}\n  input:    {}\n  expected: {}\n  actual:   {}",
                row.file,
                row.line,
                row.rule,
                if rule_used {
                    String::new()
                } else {
                    format!(" rule not used (used: {})", rules.join(" "))
                },
                row.input,
                row.expected,
                actual
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden rows fail:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// Every class of the issue has golden rows.
#[test]
fn golden_rows_cover_every_rule_class() {
    let rows = golden_rows();
    for rule in [
        "N-CARD",
        "N-DEC",
        "N-NEG",
        "N-DIGITS",
        "N-LONG",
        "N-ORD",
        "N-FRAC",
        "N-RANGE",
        "N-SCORE",
        "N-SHORT",
        "N-PHONE",
        "N-DOC",
        "N-MONEY",
        "N-DATE-DMY",
        "N-DATE-DM",
        "N-DATE-MY",
        "N-TIME",
        "N-ROMAN",
        "N-UNIT",
        "A-LEX",
        "A-LEX-CTX",
        "A-SPELL",
        "A-INITIAL",
        "A-LETTER",
        "A-DEFINED",
        "P-ASIDE",
        "N-PER",
        "W-FOREIGN",
        "W-CAPS",
        "S-SYM",
        "S-URL",
        "S-EMAIL",
        "N-MASKED",
        "N-PHONE-SERVICE",
    ] {
        assert!(
            rows.iter().any(|r| r.rule == rule),
            "no golden row for {rule}"
        );
    }
}

/// The invariants every expansion keeps.
fn check_invariants(text: &str, expansion: &Expansion) -> Result<(), TestCaseError> {
    let spoken = expansion.spoken();
    prop_assert!(is_nfc(&spoken), "not NFC: {spoken:?}");
    let mut covered = vec![false; text.len()];
    let mut last_end = 0;
    for token in &expansion.tokens {
        let span = token.span.clone();
        prop_assert!(span.start >= last_end, "overlap or disorder at {token:?}");
        prop_assert!(
            span.start <= span.end && span.end <= text.len(),
            "{token:?}"
        );
        prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        prop_assert!(is_nfc(&token.spoken), "token not NFC: {token:?}");
        for flag in &mut covered[span.clone()] {
            *flag = true;
        }
        last_end = span.end;
    }
    for (i, c) in text.char_indices() {
        prop_assert!(
            c.is_whitespace() || covered[i],
            "{c:?} at byte {i} is in no token of {text:?}"
        );
    }
    Ok(())
}

/// Text made of the pieces that steer the rules, so random input reaches
/// them: digits with separators, units, acronyms, Roman numerals, trigger
/// words, Vietnamese words in both cases, punctuation and odd characters.
fn news_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,12}",
        "[0-9]{1,3}([.,/:\\-–][0-9]{1,4}){1,3}",
        "[0-9]{1,4}(k|tr|t|h|p|s|km|kg|%|đ|₫|\\$|€|m2|km/h|đ/kg|mg/ml)[0-9]{0,2}",
        "-?[0-9]{1,3}/[0-9]{1,2}",
        "(\\$|US\\$|€|£|−)[0-9]{1,4}([.,][0-9]{1,3})?",
        "(24h?/(24|7)h?|tạ/ha|đồng/kg|[0-9]{1,2}–)",
        "[A-ZĐ]{1,5}(\\.|-|/|&)?[A-ZĐ0-9]{0,4}",
        "[IVXLCDMivxlcdm]{1,6}",
        "(ngày|tháng|năm|quý|khóa|thứ|lần thứ|thắng|tỷ số|khoảng|ông|Quyết định số|điện thoại|mùng)",
        "(Thành ủy|BTV|TP\\.HCM|UBND|H\\.|Q\\.|ĐẦU TƯ|CÔNG|www\\.[a-z]{1,6}\\.vn|[a-z]{1,5}@[a-z]{1,5}\\.com)",
        "[a-zăâêôơưđàáảãạèéẻẽẹ]{1,7}",
        "[\\.,;:!?…“”\"'()\\[\\]«»–—\\-•*/@#&+=%°]{1,3}",
        "[\\u{0300}-\\u{036F}\\u{4E00}-\\u{4E10}\\u{1F600}\\u{00A0}\\t]{1,2}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec((piece, prop_oneof![Just(" "), Just(""), Just("  ")]), 0..14)
        .prop_map(|parts| parts.into_iter().map(|(p, s)| p + s).collect())
}

proptest! {
    #![proptest_config(Config::with_cases(400))]

    #[test]
    fn expand_keeps_its_invariants(text in news_like()) {
        let n = normalizer();
        check_invariants(&text, &n.expand_str(&text))?;
    }

    #[test]
    fn expand_never_panics_on_any_string(text in any::<String>()) {
        let n = normalizer();
        check_invariants(&text, &n.expand_str(&text))?;
    }

    /// A sub-span yields tokens inside that span only.
    #[test]
    fn tokens_stay_inside_the_span(text in news_like(), cut in 0usize..64) {
        let n = normalizer();
        let mut start = cut.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let expansion = n.expand(&text, start..text.len());
        for token in &expansion.tokens {
            prop_assert!(token.span.start >= start, "{token:?} before {start}");
        }
    }
}

/// Runs of digits of any length, with separators, signs and a unit around
/// them: the readings of numbers too long to be quantities.
fn digit_runs() -> impl Strategy<Value = String> {
    (
        "(-|−|\\$)?",
        proptest::collection::vec(("[0-9]{1,400}", "[.,/:]?"), 1..12),
        "(%|đ|km| đồng| tỷ)?",
    )
        .prop_map(|(sign, parts, unit)| {
            let body: String = parts.into_iter().map(|(d, s)| d + &s).collect();
            format!("Số {sign}{body}{unit} là")
        })
}

/// Words without a single punctuation mark, as an article pasted without
/// full stops: one sentence of thousands of words.
fn words_without_punctuation() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        "(BTV|người|dân|và|nhưng|UBND|[a-zđ]{1,6}|[0-9]{1,25}|XIII|Thành ủy)",
        0..3000,
    )
    .prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(Config::with_cases(60))]

    /// N-LONG: nothing recurses on the length of a number, and a number
    /// longer than a quantity is read digit by digit with a warning.
    #[test]
    fn expand_reads_long_digit_runs(text in digit_runs()) {
        let n = normalizer();
        let expansion = n.expand_str(&text);
        check_invariants(&text, &expansion)?;
        for token in expansion.tokens.iter().filter(|t| t.rule == "N-LONG") {
            prop_assert!(
                expansion.warnings.iter().any(|w| w.rule == "N-LONG" && w.span == token.span),
                "no warning for {token:?}"
            );
            prop_assert!(!token.spoken.contains("tỷ"), "{token:?}");
        }
    }

    #[test]
    fn expand_reads_text_without_punctuation(text in words_without_punctuation()) {
        let n = normalizer();
        check_invariants(&text, &n.expand_str(&text))?;
    }
}

/// The crash of a 300 KB run of digits (a stack overflow in the number
/// reader): read digit by digit, with one warning that does not echo it.
#[test]
fn regression_long_digit_run_is_read_digit_by_digit() {
    let n = normalizer();
    let text = "1".repeat(300_000);
    let expansion = n.expand_str(&text);
    assert_eq!(expansion.tokens.len(), 1);
    assert_eq!(expansion.tokens[0].rule, "N-LONG");
    assert_eq!(expansion.tokens[0].spoken.split(' ').count(), 300_000);
    assert_eq!(
        expansion.warnings.len(),
        1,
        "{:?}",
        expansion.warnings[0].message
    );
    assert!(expansion.warnings[0].text.chars().count() <= 41);
    assert!(expansion.warnings[0].message.contains("300000 digits"));
}

/// The long fuzz run, outside CI: random news-like text and arbitrary
/// strings until BANTIN_FUZZ_SECONDS (default 600) have passed.
#[test]
#[ignore = "long fuzz run; run by hand with --ignored"]
fn fuzz_for_a_while() {
    let seconds = std::env::var("BANTIN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let n = normalizer();
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        let mut runner = TestRunner::new(Config::with_cases(2_000));
        runner
            .run(&news_like(), |text| {
                check_invariants(&text, &n.expand_str(&text))
            })
            .unwrap();
        runner
            .run(&any::<String>(), |text| {
                check_invariants(&text, &n.expand_str(&text))
            })
            .unwrap();
        rounds += 1;
    }
    eprintln!("fuzz: {rounds} rounds of 4000 cases in {seconds} s, no failure");
}
