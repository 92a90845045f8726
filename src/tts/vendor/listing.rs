//! The cloud vendors' voices with region and gender, read from
//! `src/tts/vendor_voices.tsv` (embedded) and validated row by row.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Where a voice comes from, as editors choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Region {
    /// Miền Bắc.
    North,
    /// Miền Trung.
    Central,
    /// Miền Nam.
    South,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gender {
    Female,
    Male,
}

/// One row of `vendor_voices.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub vendor: String,
    pub voice: String,
    pub region: Region,
    pub gender: Gender,
    /// The name the vendor gives the voice (`Ban Mai`).
    pub display: String,
}

const LISTINGS_FILE: &str = "src/tts/vendor_voices.tsv";
pub(super) const VENDORS: [&str; 4] = ["fpt", "viettel", "zalo", "vbee"];

/// The shipped vendor voice list.
pub fn listings() -> &'static [Listing] {
    static LISTINGS: OnceLock<Vec<Listing>> = OnceLock::new();
    LISTINGS.get_or_init(|| {
        parse_listings(LISTINGS_FILE, include_str!("../vendor_voices.tsv"))
            .expect("the shipped voice list is validated by a unit test")
    })
}

/// Parses a voice list: `vendor<TAB>voice<TAB>region<TAB>gender<TAB>name`,
/// `#` comments; region `Bắc`, `Trung` or `Nam`, gender `nữ` or `nam`.
///
/// # Errors
/// Every bad row, each as `file:line: reason`.
pub fn parse_listings(file: &str, text: &str) -> Result<Vec<Listing>, String> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut bad = |reason: String| errors.push(format!("{file}:{}: {reason}", n + 1));
        let fields: Vec<&str> = line.split('\t').collect();
        let [vendor, voice, region, gender, display] = fields[..] else {
            bad(format!("{} fields, expected 5", fields.len()));
            continue;
        };
        if !VENDORS.contains(&vendor) {
            bad(format!("unknown vendor {vendor:?}"));
            continue;
        }
        let region = match region {
            "Bắc" => Region::North,
            "Trung" => Region::Central,
            "Nam" => Region::South,
            other => {
                bad(format!("region {other:?} is not Bắc, Trung or Nam"));
                continue;
            }
        };
        let gender = match gender {
            "nữ" => Gender::Female,
            "nam" => Gender::Male,
            other => {
                bad(format!("gender {other:?} is not nữ or nam"));
                continue;
            }
        };
        if voice.is_empty() || voice.contains(char::is_whitespace) {
            bad(format!("voice id {voice:?} is empty or has spaces"));
            continue;
        }
        if rows
            .iter()
            .any(|r: &Listing| r.vendor == vendor && r.voice == voice)
        {
            bad(format!("{vendor} voice {voice} is listed twice"));
            continue;
        }
        rows.push(Listing {
            vendor: vendor.to_string(),
            voice: voice.to_string(),
            region,
            gender,
            display: display.to_string(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_voice_list_parses_with_every_region() {
        let rows = listings();
        for vendor in VENDORS {
            assert!(rows.iter().any(|r| r.vendor == vendor), "{vendor}");
        }
        for region in [Region::North, Region::Central, Region::South] {
            assert!(rows.iter().any(|r| r.region == region), "{region:?}");
        }
    }

    #[test]
    fn bad_voice_rows_are_reported_with_file_and_line() {
        let err = parse_listings(
            "v.tsv",
            "# header\nfpt\tbanmai\tBắc\tnữ\tBan Mai\nfpt\tx\tTây\tnữ\tX\nacme\ty\tBắc\tnam\tY\nfpt\tbanmai\tBắc\tnữ\tAgain\n",
        )
        .unwrap_err();
        assert!(err.contains("v.tsv:3: region \"Tây\""), "{err}");
        assert!(err.contains("v.tsv:4: unknown vendor"), "{err}");
        assert!(
            err.contains("v.tsv:5: fpt voice banmai is listed twice"),
            "{err}"
        );
    }
}
