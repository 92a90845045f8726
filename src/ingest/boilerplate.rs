//! Boilerplate rules: line patterns that are never read on air, each with a
//! reason id, loaded from `boilerplate.tsv` and validated.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

const BUILTIN: &str = include_str!("boilerplate.tsv");

/// One rule: a whole-line pattern and the reason shown to editors.
#[derive(Debug)]
pub struct Rule {
    pub reason: String,
    pub description: String,
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
            let [reason, pattern, description] = fields[..] else {
                errors.push(bad(format!(
                    "expected 3 tab-separated fields, found {}",
                    fields.len()
                )));
                continue;
            };
            if reason.is_empty() || !reason.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                errors.push(bad(format!(
                    "reason id {reason:?} must be lowercase ASCII words joined by '-'"
                )));
                continue;
            }
            match RegexBuilder::new(&format!("^(?:{pattern})$"))
                .case_insensitive(true)
                .build()
            {
                Ok(pattern) => rules.push(Rule {
                    reason: reason.to_string(),
                    description: description.to_string(),
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

    /// The first rule matching the whole (trimmed) line.
    pub fn classify(&self, line: &str) -> Option<&Rule> {
        let line = line.trim();
        self.rules.iter().find(|rule| rule.pattern.is_match(line))
    }
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
