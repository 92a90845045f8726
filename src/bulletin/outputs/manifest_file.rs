//! The bulletin's manifest ([`crate::bulletin::Manifest`]) as pretty JSON.

use std::io;

use crate::bulletin::deliver::{Delivery, Output};

pub struct ManifestFile;

impl Output for ManifestFile {
    fn key(&self) -> &'static str {
        "manifest"
    }

    fn suffix(&self) -> &'static str {
        ".manifest.json"
    }

    fn write(&self, delivery: &Delivery<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(out, &delivery.bulletin.manifest).map_err(io::Error::from)
    }
}
