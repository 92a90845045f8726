//! The bulletin as MP3 (`mp3`, for the commune and ward loudspeaker systems
//! and the podcast feed) and as Ogg Opus (`opus`, for listeners online),
//! encoded from the levelled programme the WAV holds, so both carry its
//! loudness, with the station's `[mp3]` and `[opus]` settings. Their tags
//! (ID3v2.4 / OpusTags, UTF-8) name the bulletin's Vietnamese title, the
//! station, the series ("Bản tin sáng"), the air date and the genre News.

use std::io;

use crate::audio::{mp3, opus};
use crate::bulletin::deliver::{Delivery, Output};

pub struct Mp3;
pub struct Opus;

/// The series a bulletin belongs to, e.g. "Bản tin sáng".
fn series(delivery: &Delivery<'_>) -> String {
    format!("Bản tin {}", delivery.bulletin.manifest.slot_label)
}

fn tags<'a>(delivery: &'a Delivery<'_>, series: &'a str) -> mp3::Tags<'a> {
    let manifest = &delivery.bulletin.manifest;
    mp3::Tags {
        title: &delivery.bulletin.script.title,
        artist: &manifest.station,
        album: Some(series),
        date: Some(manifest.date.clone()),
        genre: Some("News"),
    }
}

impl Output for Mp3 {
    fn key(&self) -> &'static str {
        "mp3"
    }

    fn suffix(&self) -> &'static str {
        ".mp3"
    }

    fn write(&self, delivery: &Delivery<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let series = series(delivery);
        let bytes = mp3::encode(
            &delivery.bulletin.pcm,
            &delivery.config.encodings.mp3,
            &tags(delivery, &series),
        )
        .map_err(io::Error::other)?;
        out.write_all(&bytes)
    }
}

impl Output for Opus {
    fn key(&self) -> &'static str {
        "opus"
    }

    fn suffix(&self) -> &'static str {
        ".opus"
    }

    fn write(&self, delivery: &Delivery<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let series = series(delivery);
        let bytes = opus::encode(
            &delivery.bulletin.pcm,
            &delivery.config.encodings.opus,
            &tags(delivery, &series),
        )
        .map_err(io::Error::other)?;
        out.write_all(&bytes)
    }
}
