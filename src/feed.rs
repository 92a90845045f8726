//! The podcast feed of a station's delivered bulletins: RSS 2.0 with the
//! `itunes` and `podcast` namespaces the big directories read. Owns what an
//! episode is, read from what each delivery keeps in the feed's folder (the
//! manifest for the delivery time and length, the script for the title and
//! the spoken text, the MP3 for the enclosure; see
//! `bulletin::deliver`), and the feed's XML. The route serving it is
//! `server::routes::feeds`.

use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use quick_xml::escape::escape;
use serde::Deserialize;

use crate::bulletin::FileNames;

/// The namespaces of the feed.
const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const PODCAST_NS: &str = "https://podcastindex.org/namespace/1.0";
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// What the feed says of the station.
#[derive(Debug, Clone)]
pub struct Channel {
    pub title: String,
    pub description: String,
    /// The station's site.
    pub link: String,
    /// The feed's own address (`atom:link rel="self"`).
    pub self_url: String,
    /// The station (`itunes:author`).
    pub author: String,
    /// The iTunes category, e.g. `News`.
    pub category: String,
    /// The artwork's address.
    pub image: Option<String>,
    /// The station's address for podcast directories (`itunes:owner`).
    pub email: Option<String>,
}

/// One delivered bulletin as an episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// Stays the same while the bulletin's items do; a rebuild with other
    /// items is a new episode.
    pub guid: String,
    pub title: String,
    /// The spoken text, cue after cue.
    pub description: String,
    /// When it was delivered.
    pub published: Timestamp,
    pub enclosure_url: String,
    /// The MP3's size in bytes.
    pub length: u64,
    pub duration_ms: u64,
}

/// Why a delivered bulletin could not be read as an episode.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not what bantin delivers: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Deserialize)]
struct ManifestFields {
    total_ms: u64,
    items_fingerprint: String,
    made: MadeFields,
}

#[derive(Deserialize)]
struct MadeFields {
    /// UTC, RFC 3339.
    at: String,
}

#[derive(Deserialize)]
struct ScriptFields {
    title: String,
    cues: Vec<CueFields>,
}

#[derive(Deserialize)]
struct CueFields {
    spoken: String,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, FeedError> {
    let bytes = std::fs::read(path).map_err(|source| FeedError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| FeedError::Invalid {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The bulletin whose files are `files` as an episode, its MP3 at
/// `enclosure_url`; `None` when its MP3, manifest and script are not (or
/// no longer) in `files.folder`.
///
/// # Errors
/// [`FeedError`] for a manifest or script that cannot be read.
pub fn episode(
    files: &FileNames,
    station: &str,
    enclosure_url: String,
) -> Result<Option<Episode>, FeedError> {
    let path = |key: &str| {
        crate::bulletin::deliver::sidecar(key).map(|output| files.folder.join(files.of(output)))
    };
    let (Some(mp3), Some(manifest), Some(script)) =
        (path("mp3"), path("manifest"), path("script_json"))
    else {
        return Ok(None);
    };
    let Ok(meta) = std::fs::metadata(&mp3) else {
        return Ok(None);
    };
    if !manifest.is_file() || !script.is_file() {
        return Ok(None);
    }
    let manifest: ManifestFields = read_json(&manifest)?;
    let script: ScriptFields = read_json(&script)?;
    let spoken: Vec<&str> = script
        .cues
        .iter()
        .map(|c| c.spoken.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let published: Timestamp =
        manifest
            .made
            .at
            .parse()
            .map_err(|e: jiff::Error| FeedError::Invalid {
                path: files.folder.join(&files.manifest).display().to_string(),
                reason: format!("made.at {:?}: {e}", manifest.made.at),
            })?;
    let fingerprint = manifest.items_fingerprint.get(..16).unwrap_or_default();
    Ok(Some(Episode {
        guid: format!("{station}/{}/{fingerprint}", files.stem),
        title: script.title,
        description: spoken.join(" "),
        published,
        enclosure_url,
        length: meta.len(),
        duration_ms: manifest.total_ms,
    }))
}

/// `ms` as `HH:MM:SS`, the form `itunes:duration` takes.
fn duration(ms: u64) -> String {
    let seconds = (ms + 500) / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `at` in the station's time zone as RFC 2822 (`pubDate`).
fn rfc2822(at: Timestamp, time_zone: &TimeZone) -> String {
    jiff::fmt::rfc2822::to_string(&at.to_zoned_datetime(time_zone.clone()))
        .unwrap_or_else(|_| at.to_string())
}

/// The feed's XML: the channel, then the episodes newest first, dates in
/// the station's `time_zone`.
pub fn render(channel: &Channel, episodes: &[Episode], time_zone: &TimeZone) -> String {
    let mut episodes: Vec<&Episode> = episodes.iter().collect();
    episodes.sort_by_key(|e| std::cmp::Reverse(e.published));
    let mut xml = String::new();
    let text = |xml: &mut String, indent: usize, tag: &str, value: &str| {
        let _ = writeln!(xml, "{:indent$}<{tag}>{}</{tag}>", "", escape(value));
    };
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<rss version=\"2.0\" xmlns:itunes=\"{ITUNES_NS}\" xmlns:podcast=\"{PODCAST_NS}\" xmlns:atom=\"{ATOM_NS}\">"
    );
    xml.push_str("  <channel>\n");
    text(&mut xml, 4, "title", &channel.title);
    text(&mut xml, 4, "link", &channel.link);
    text(&mut xml, 4, "description", &channel.description);
    text(&mut xml, 4, "language", "vi");
    text(&mut xml, 4, "generator", "bantin");
    if let Some(image) = &channel.image {
        xml.push_str("    <image>\n");
        text(&mut xml, 6, "url", image);
        text(&mut xml, 6, "title", &channel.title);
        text(&mut xml, 6, "link", &channel.link);
        xml.push_str("    </image>\n");
        let _ = writeln!(xml, "    <itunes:image href=\"{}\"/>", escape(image));
    }
    if let Some(email) = &channel.email {
        xml.push_str("    <itunes:owner>\n");
        text(&mut xml, 6, "itunes:name", &channel.author);
        text(&mut xml, 6, "itunes:email", email);
        xml.push_str("    </itunes:owner>\n");
    }
    if let Some(newest) = episodes.first() {
        text(
            &mut xml,
            4,
            "lastBuildDate",
            &rfc2822(newest.published, time_zone),
        );
    }
    let _ = writeln!(
        xml,
        "    <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        escape(&channel.self_url)
    );
    text(&mut xml, 4, "itunes:author", &channel.author);
    text(&mut xml, 4, "itunes:summary", &channel.description);
    let _ = writeln!(
        xml,
        "    <itunes:category text=\"{}\"/>",
        escape(&channel.category)
    );
    text(&mut xml, 4, "itunes:explicit", "false");
    text(&mut xml, 4, "itunes:type", "episodic");
    text(&mut xml, 4, "podcast:locked", "no");
    text(&mut xml, 4, "podcast:medium", "podcast");
    for episode in episodes {
        xml.push_str("    <item>\n");
        text(&mut xml, 6, "title", &episode.title);
        text(&mut xml, 6, "description", &episode.description);
        let _ = writeln!(
            xml,
            "      <enclosure url=\"{}\" length=\"{}\" type=\"audio/mpeg\"/>",
            escape(&episode.enclosure_url),
            episode.length
        );
        let _ = writeln!(
            xml,
            "      <guid isPermaLink=\"false\">{}</guid>",
            escape(&episode.guid)
        );
        text(
            &mut xml,
            6,
            "pubDate",
            &rfc2822(episode.published, time_zone),
        );
        text(
            &mut xml,
            6,
            "itunes:duration",
            &duration(episode.duration_ms),
        );
        text(&mut xml, 6, "itunes:episodeType", "full");
        text(&mut xml, 6, "itunes:explicit", "false");
        xml.push_str("    </item>\n");
    }
    xml.push_str("  </channel>\n</rss>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_hours_minutes_seconds() {
        assert_eq!(duration(0), "00:00:00");
        assert_eq!(duration(59_499), "00:00:59");
        assert_eq!(duration(59_500), "00:01:00");
        assert_eq!(duration(15 * 60_000 + 7_000), "00:15:07");
        assert_eq!(duration(3_600_000 + 61_000), "01:01:01");
    }

    #[test]
    fn dates_are_in_the_station_time_zone() {
        let at: Timestamp = "2026-12-05T23:30:00Z".parse().unwrap();
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        assert_eq!(rfc2822(at, &tz), "Sun, 6 Dec 2026 06:30:00 +0700");
    }

    #[test]
    fn titles_and_text_are_escaped_and_episodes_come_newest_first() {
        let channel = Channel {
            title: "Bản tin <Đài> & bạn".into(),
            description: "Tin tức".into(),
            link: "https://radio.example.vn/".into(),
            self_url: "https://radio.example.vn/feeds/hy/bulletins.xml".into(),
            author: "Đài".into(),
            category: "News".into(),
            image: Some("https://radio.example.vn/logo.png?v=1&s=3000".into()),
            email: Some("bantin@radio.example.vn".into()),
        };
        let episode = |n: u8, at: &str| Episode {
            guid: format!("g{n}"),
            title: format!("Bản tin {n}"),
            description: "Xin chào \"quý vị\"".into(),
            published: at.parse().unwrap(),
            enclosure_url: format!("https://radio.example.vn/a?x={n}&y=1"),
            length: 1234,
            duration_ms: 60_000,
        };
        let xml = render(
            &channel,
            &[
                episode(1, "2026-12-05T00:00:00Z"),
                episode(2, "2026-12-06T00:00:00Z"),
            ],
            &TimeZone::UTC,
        );
        assert!(
            xml.contains("<title>Bản tin &lt;Đài&gt; &amp; bạn</title>"),
            "{xml}"
        );
        assert!(xml.contains("x=2&amp;y=1"), "{xml}");
        assert!(
            xml.contains(
                "<itunes:image href=\"https://radio.example.vn/logo.png?v=1&amp;s=3000\"/>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<itunes:email>bantin@radio.example.vn</itunes:email>"),
            "{xml}"
        );
        assert!(xml.find("Bản tin 2").unwrap() < xml.find("Bản tin 1").unwrap());
    }
}
