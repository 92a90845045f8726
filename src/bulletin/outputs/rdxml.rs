//! The RDXML sidecar Rivendell's `rdimport --xml` reads beside the WAV
//! (`<stem>.xml`): the cart's title, artist (the station), album and year,
//! and one cut with its description, out-cue, length, origin and validity
//! window (the air day, in the station's time zone), so the bulletin airs
//! on its day only.
//!
//! The shape follows what Rivendell itself writes (`RDCart::xml`) and what
//! `rdimport` reads back (`RDCart::readXml`, which takes the first `<cut>`
//! of the `<cutList>`): that reader goes line by line, so every element
//! stands on a line of its own; values are XML-escaped and date-times are
//! `yyyy-MM-ddThh:mm:ss` in local time.
//! Source: github.com/ElvishArtisan/rivendell, `lib/rdcart.cpp`,
//! `utils/rdimport/rdimport.cpp`, `lib/rddatetime.cpp`.

use std::io;

use quick_xml::escape::escape;

use crate::bulletin::deliver::{Delivery, Output};

pub struct Rdxml;

impl Rdxml {
    /// The sidecar's text.
    pub fn text(delivery: &Delivery<'_>) -> String {
        let bulletin = delivery.bulletin;
        let manifest = &bulletin.manifest;
        let title = bulletin.script.title.as_str();
        let date = manifest.date.as_str();
        let year = date.get(..4).unwrap_or_default();
        let origin = manifest
            .made
            .at_local
            .get(..19)
            .unwrap_or(&manifest.made.at_local);
        let last_words = bulletin
            .script
            .cues
            .last()
            .map_or(String::new(), |cue| super::out_cue(&cue.spoken));
        let line = |indent: usize, tag: &str, value: &str| {
            format!("{:indent$}<{tag}>{}</{tag}>\n", "", escape(value))
        };
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cart>\n");
        xml += &line(2, "title", title);
        xml += &line(2, "artist", &manifest.station);
        xml += &line(2, "album", &format!("Bản tin {}", manifest.slot_label));
        xml += &line(2, "year", year);
        xml += &line(
            2,
            "userDefined",
            &format!("bantin {date} {}", manifest.slot),
        );
        xml += "  <cutList>\n    <cut>\n";
        xml += &line(6, "description", title);
        xml += &line(6, "outcue", &last_words);
        xml += &line(6, "length", &manifest.total_ms.to_string());
        xml += &line(6, "originName", "bantin");
        xml += &line(6, "originDatetime", origin);
        xml += &line(6, "startDatetime", &format!("{date}T00:00:00"));
        xml += &line(6, "endDatetime", &format!("{date}T23:59:59"));
        xml += &line(6, "sampleRate", &manifest.audio.sample_rate_hz.to_string());
        xml += &line(6, "channels", &manifest.audio.channels.to_string());
        xml += "    </cut>\n  </cutList>\n</cart>\n";
        xml
    }
}

impl Output for Rdxml {
    fn key(&self) -> &'static str {
        "rdxml"
    }

    /// `rdimport` looks for the WAV's name with `.xml` in place of `.wav`.
    fn suffix(&self) -> &'static str {
        ".xml"
    }

    fn write(&self, delivery: &Delivery<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(Rdxml::text(delivery).as_bytes())
    }
}
