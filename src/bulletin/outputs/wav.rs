//! The bulletin's Broadcast WAV, its `bext` chunk made by
//! [`crate::audio::wav::Bext::of`] as an article render's is.

use std::io;

use jiff::Timestamp;

use crate::audio::wav::{self, Bext, Origin};
use crate::bulletin::build::BulletinError;
use crate::bulletin::deliver::{Delivery, Output};

pub struct Wav;

impl Wav {
    fn bext(delivery: &Delivery<'_>) -> Bext {
        let Delivery {
            bulletin,
            config,
            settings,
        } = delivery;
        let manifest = &bulletin.manifest;
        let made: Timestamp = manifest
            .made
            .at
            .parse()
            .expect("the manifest's own timestamp");
        Bext::of(
            &Origin {
                title: &bulletin.script.title,
                originator: "bantin",
                reference: &format!("{}_{}", manifest.date, manifest.slot),
                at: made.to_zoned_datetime(config.time_zone.clone()).datetime(),
                software: &format!("bantin {}", env!("CARGO_PKG_VERSION")),
            },
            &bulletin.loudness,
            bulletin.pcm.sample_rate_hz,
            settings.bit_depth,
        )
    }
}

impl Output for Wav {
    fn key(&self) -> &'static str {
        "wav"
    }

    fn suffix(&self) -> &'static str {
        ".wav"
    }

    fn check(&self, delivery: &Delivery<'_>) -> Result<(), BulletinError> {
        Ok(wav::check_bwf(
            &delivery.bulletin.pcm,
            delivery.settings.bit_depth,
        )?)
    }

    fn write(&self, delivery: &Delivery<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        wav::write_bwf(
            &delivery.bulletin.pcm,
            delivery.settings.bit_depth,
            &Wav::bext(delivery),
            out,
        )
    }
}
