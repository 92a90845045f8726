//! Boilerplate rules: line patterns that are never read on air, each with a
//! reason id, loaded from `boilerplate.tsv` and validated.
//!
//! A rule has a scope (the fourth column): `line` matches a whole line
//! anywhere in the article; `head` a whole line above the lead only (section
//! labels that would be headings further down); `lead` the start of the lead
//! (press datelines such as `TPO - `), cut off while the rest is read;
//! `inside` a piece run into a line between other text (a portal's date and
//! view count between the headline and the lead), split out and dropped.
//! Rows `@NAME<TAB>pattern` define fragments that later patterns use as
//! `{NAME}`.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

const BUILTIN: &str = include_str!("boilerplate.tsv");

/// Where in an article a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A whole line, anywhere.
    Line,
    /// A whole line above the lead.
    Head,
    /// The start of the lead; the rest of the lead is read.
    Lead,
    /// A piece inside a line, between the text around it.
    Inside,
}

/// One rule: a pattern, where it applies and the reason shown to editors.
#[derive(Debug)]
pub struct Rule {
    pub reason: String,
    pub description: String,
    pub scope: Scope,
    pattern: Regex,
}

/// The ordered rule list; the first matching rule names the reason.
#[derive(Debug)]
pub struct BoilerplateRules {
    rules: Vec<Rule>,
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{file}:{line}: {reason}")]
    Row {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RulesError>),
}

impl BoilerplateRules {
    /// The rules shipped in the binary.
    pub fn builtin() -> &'static BoilerplateRules {
        static RULES: LazyLock<BoilerplateRules> = LazyLock::new(|| {
            BoilerplateRules::parse("boilerplate.tsv", BUILTIN)
                .expect("the shipped boilerplate.tsv is validated by a unit test")
        });
        &RULES
    }

    /// Parses a rules file, reporting every bad row.
    ///
    /// # Errors
    /// [`RulesError::Rows`] listing each row with a wrong field count, an
    /// empty reason or an invalid pattern.
    pub fn parse(file: &str, text: &str) -> Result<Self, RulesError> {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        let mut fragments: Vec<(String, String)> = Vec::new();
        for (index, row) in text.lines().enumerate() {
            let line = index + 1;
            if row.trim().is_empty() || row.starts_with('#') {
                continue;
            }
            let bad = |reason: String| RulesError::Row {
                file: file.to_string(),
                line,
                reason,
            };
            let fields: Vec<&str> = row.split('\t').collect();
            if let Some(name) = row.strip_prefix('@') {
                let [_, pattern] = fields[..] else {
                    errors.push(bad(format!(
                        "a fragment row is @NAME<TAB>pattern, found {} fields",
                        fields.len()
                    )));
                    continue;
                };
                let name = name.split('\t').next().unwrap_or_default();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    errors.push(bad(format!("fragment name {name:?} must be A-Z or _")));
                    continue;
                }
                let pattern = expand(pattern, &fragments);
                if let Err(e) = Regex::new(&pattern) {
                    errors.push(bad(format!("invalid fragment: {e}")));
                    continue;
                }
                fragments.push((format!("{{{name}}}"), format!("(?:{pattern})")));
                continue;
            }
            let (reason, pattern, description, scope) = match fields[..] {
                [reason, pattern, description] => (reason, pattern, description, "line"),
                [reason, pattern, description, scope] => (reason, pattern, description, scope),
                _ => {
                    errors.push(bad(format!(
                        "expected 3 or 4 tab-separated fields, found {}",
                        fields.len()
                    )));
                    continue;
                }
            };
            let scope = match scope {
                "line" => Scope::Line,
                "head" => Scope::Head,
                "lead" => Scope::Lead,
                "inside" => Scope::Inside,
                other => {
                    errors.push(bad(format!(
                        "scope {other:?} must be line, head, lead or inside"
                    )));
                    continue;
                }
            };
            let pattern = expand(pattern, &fragments);

            if reason.is_empty() || !reason.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                errors.push(bad(format!(
                    "reason id {reason:?} must be lowercase ASCII words joined by '-'"
                )));
                continue;
            }
            let anchored = match scope {
                Scope::Line | Scope::Head => format!("^(?:{pattern})$"),
                // The dateline and the rest of the lead are parted by white space.
                Scope::Lead => format!(r"^(?:{pattern})\s*"),
                // Whole words only: a piece starts and ends at white space or the line's ends.
                Scope::Inside => format!(r"(?:^|\s)(?:{pattern})(?:\s|$)"),
            };
            match RegexBuilder::new(&anchored).case_insensitive(true).build() {
                Ok(pattern) => rules.push(Rule {
                    reason: reason.to_string(),
                    description: description.to_string(),
                    scope,
                    pattern,
                }),
                Err(e) => errors.push(bad(format!("invalid pattern: {e}"))),
            }
        }
        if errors.is_empty() {
            Ok(Self { rules })
        } else {
            Err(RulesError::Rows(errors))
        }
    }

    /// The first `line` rule matching the whole (trimmed) line.
    pub fn classify(&self, line: &str) -> Option<&Rule> {
        self.first(Scope::Line, line.trim())
    }

    /// The first `head` or `line` rule matching a line above the lead.
    pub fn classify_head(&self, line: &str) -> Option<&Rule> {
        let line = line.trim();
        self.rules.iter().find(|rule| {
            matches!(rule.scope, Scope::Line | Scope::Head) && rule.pattern.is_match(line)
        })
    }

    /// A dateline (or other `lead` rule) opening the lead: the rule and the
    /// byte length to cut, white space after it included. `None` when
    /// nothing, or nothing but the dateline, would be left.
    pub fn lead_prefix(&self, lead: &str) -> Option<(&Rule, usize)> {
        self.rules
            .iter()
            .filter(|rule| rule.scope == Scope::Lead)
            .find_map(|rule| {
                let found = rule.pattern.find(lead)?;
                // The lead goes on as a sentence: a capital, a digit or a quote.
                let opens = lead[found.end()..].chars().next().is_some_and(|c| {
                    c.is_uppercase() || c.is_ascii_digit() || "\"“‘'(".contains(c)
                });
                opens.then_some((rule, found.end()))
            })
    }

    /// The first `inside` piece of a line that a `line` rule drops: the
    /// rule's byte range in `line`, trimmed of the white space around it.
    pub fn inside(&self, line: &str) -> Option<std::ops::Range<usize>> {
        self.rules
            .iter()
            .filter(|rule| rule.scope == Scope::Inside)
            .find_map(|rule| {
                let found = rule.pattern.find(line)?;
                let piece = found.as_str();
                let start = found.start() + (piece.len() - piece.trim_start().len());
                let end = found.end() - (piece.len() - piece.trim_end().len());
                let whole = start == 0 && end == line.len();
                (!whole && self.classify(&line[start..end]).is_some()).then_some(start..end)
            })
    }

    fn first(&self, scope: Scope, line: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|rule| rule.scope == scope && rule.pattern.is_match(line))
    }
}

/// Replaces each `{NAME}` of a pattern by its fragment.
fn expand(pattern: &str, fragments: &[(String, String)]) -> String {
    let mut out = pattern.to_string();
    for (name, fragment) in fragments {
        if out.contains(name.as_str()) {
            out = out.replace(name.as_str(), fragment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_parse() {
        BoilerplateRules::parse("boilerplate.tsv", BUILTIN).unwrap();
    }

    #[test]
    fn classifies_portal_lines() {
        let rules = BoilerplateRules::builtin();
        let reason = |line: &str| rules.classify(line).map(|r| r.reason.as_str());
        assert_eq!(reason("29/07/2021 | 70"), Some("date-views"));
        assert_eq!(
            reason("© 2016 Copyright by VNPT Hưng Yên."),
            Some("copyright-footer")
        );
        assert_eq!(reason("Toàn cảnh Hội nghị"), Some("photo-caption"));
        assert_eq!(reason("Ảnh: Minh Anh"), Some("photo-credit"));
        assert_eq!(reason("Xem thêm: Hội nghị tổng kết năm"), Some("see-also"));
        assert_eq!(reason("ĐỌC NHIỀU"), Some("site-chrome"));
        assert_eq!(reason("Bình chọn"), Some("comments"));
        assert_eq!(reason("Đọc nhiều sách giúp trẻ tự tin hơn."), None);
        assert_eq!(
            reason("Toàn cảnh kinh tế năm nay tăng trưởng tốt. Đó là nhận định chung."),
            None
        );
        assert_eq!(
            reason("Chiều ngày 23/7, Ban tuyên giáo tổ chức hội nghị."),
            None
        );
    }

    #[test]
    fn drops_pasted_furniture_with_its_reason() {
        let rules = BoilerplateRules::builtin();
        let reason = |line: &str| rules.classify(line).map(|r| r.reason.as_str());
        for (line, expected) in [
            ("10/03/2024 14:35 GMT+7", "date-line"),
            ("Thứ Hai, 10/3/2024, 14:35 (GMT+7)", "date-line"),
            ("Xã hội - Ngày đăng : 08:59, 28/05/2018", "date-line"),
            ("Vi Vân 10:17, 11/01/2023", "byline"),
            ("(VTC News) -", "dateline"),
            ("- Ảnh 1.", "photo-caption"),
            ("Hai bị cáo tại phiên tòa. Ảnh: Phạm Dũng", "photo-caption"),
            ("Ô tô kéo lê xe máy (Ảnh cắt từ video).", "photo-caption"),
            ("anh-1.png", "image-file"),
            ("4bee6bef2378ec26b569", "image-file"),
            ("Cụ bà phá kỷ lục chạy 100m - 1", "image-file"),
            (">> Cao điểm xử lý vi phạm", "see-also"),
            ("Mời quý vị cùng đón xem video dưới đây:", "video-prompt"),
            ("Gửi bình luận", "comments"),
            ("Số lượt xem: 383", "view-counter"),
            ("432 0", "view-counter"),
            ("Skip to main content", "site-chrome"),
            ("09:41 | 02/05/2019", "date-line"),
            ("21-03-2024 07:15 | Thời sự", "date-line"),
            ("Chủ nhật, ngày 3 tháng 2, 2020, 9:05:10 Sáng", "date-line"),
            ("TTXVN/Báo Nhân dân", "source-line"),
            ("Tải văn bản số 12/KH-UBND", "see-also"),
            (">>> Xem thêm video: Lũ quét ở vùng cao", "video-prompt"),
            (
                "Nguồn Báo Mới: https://example.vn/bai-viet-1.html",
                "source-line",
            ),
            ("[Phát triển du lịch cộng đồng ở vùng cao]", "see-also"),
            ("![](anh-hien-truong.jpg)", "image-file"),
        ] {
            assert_eq!(reason(line), Some(expected), "{line}");
        }
        // Story sentences that look a little like furniture stay.
        for line in [
            "Hà Nội FC thắng 2 - 1",
            "Đại diện Công an thành phố (ảnh) cho biết đã xử lý 20 trường hợp.",
            "Toàn cảnh kinh tế năm nay cho thấy tăng trưởng tốt.",
            "Ngày có hiệu lực: 15-03-2011",
            "ASEAN - Nhật Bản ký kết hiệp định mới.",
            "Thể thao",
            "Nguồn vốn đầu tư: 500 tỷ đồng từ ngân sách tỉnh.",
        ] {
            assert_eq!(reason(line), None, "{line}");
        }
        // A section label only above the lead.
        for label in ["Thể thao", "Google News"] {
            assert_eq!(
                rules.classify_head(label).map(|r| r.reason.as_str()),
                Some("section-label"),
                "{label}"
            );
        }
    }

    #[test]
    fn cuts_datelines_off_the_lead_only_before_a_sentence() {
        fn cut(lead: &str) -> Option<(&str, &str)> {
            BoilerplateRules::builtin()
                .lead_prefix(lead)
                .map(|(r, n)| (r.reason.as_str(), &lead[..n]))
        }
        assert_eq!(
            cut("VOV.VN - Sáng 3/1, trời mưa."),
            Some(("dateline", "VOV.VN - "))
        );
        assert_eq!(
            cut("(PLO)- Chiều 2/1, xã họp."),
            Some(("dateline", "(PLO)- "))
        );
        assert_eq!(
            cut("HÀ NỘI - Sáng nay có mưa."),
            Some(("dateline", "HÀ NỘI - "))
        );
        assert_eq!(
            cut("Hà Nội (TTXVN) - Sáng nay có mưa."),
            Some(("dateline", "Hà Nội (TTXVN) - "))
        );
        assert_eq!(
            cut("Trực tiếp - Sáng nay."),
            Some(("section-label", "Trực tiếp - "))
        );
        assert_eq!(
            cut("(QĐND) Sáng nay có mưa."),
            Some(("dateline", "(QĐND) "))
        );
        assert_eq!(
            cut("SKĐS - Sáng nay có mưa."),
            Some(("dateline", "SKĐS - "))
        );
        assert_eq!(cut("ASEAN - Nhật Bản ký kết hiệp định."), None);
        assert_eq!(cut("TPO - "), None);
        assert_eq!(cut("TPO - và sau đó"), None);
    }

    #[test]
    fn splits_out_pieces_run_into_a_line() {
        let rules = BoilerplateRules::builtin();
        let line = "Xã họp dân 03/01/2022 | 120 Chiều 2/1, xã họp.";
        let piece = rules.inside(line).unwrap();
        assert_eq!(&line[piece], "03/01/2022 | 120");
        assert_eq!(rules.inside("03/01/2022 | 120"), None);
        assert_eq!(rules.inside("Tỷ số 2 | 1 sau hiệp một."), None);
    }

    #[test]
    fn fragments_expand_and_unknown_ones_are_reported() {
        let rules =
            BoilerplateRules::parse("x.tsv", "@NUM\t\\d+\nnumber\t{NUM} lần\tcount\n").unwrap();
        assert_eq!(rules.classify("12 lần").unwrap().reason, "number");
        let err = BoilerplateRules::parse("x.tsv", "a\t{NOPE}\tdesc\nb\tx\tdesc\tsomewhere\n")
            .unwrap_err();
        let RulesError::Rows(rows) = err else {
            panic!()
        };
        assert_eq!(rows.len(), 2, "{rows:?}");
    }

    #[test]
    fn reports_every_bad_row() {
        let err =
            BoilerplateRules::parse("x.tsv", "a\t(\tdesc\nB A\tx\tdesc\nonly-one\n").unwrap_err();
        let RulesError::Rows(rows) = err else {
            panic!()
        };
        assert_eq!(rows.len(), 3);
        assert!(rows[0].to_string().starts_with("x.tsv:1:"));
    }
}
