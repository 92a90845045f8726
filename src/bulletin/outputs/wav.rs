//! The bulletin's Broadcast WAV, its `bext` chunk made by
//! [`crate::audio::wav::Bext::of`] as an article render's is, and, when the
//! station asks for it (`cart_chunk`), an AES46 `cart` chunk for playout
//! systems that file cuts by it: category NEWS, the file's stem as CutID,
//! the air day as the validity window, start and end of audio as timers.

use std::io;

use jiff::Timestamp;

use crate::audio::cart::Cart;
use crate::audio::wav::{self, Bext, BitDepth, Origin};
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

impl Wav {
    fn cart(delivery: &Delivery<'_>) -> Cart {
        let Delivery {
            bulletin,
            config,
            settings,
        } = delivery;
        let manifest = &bulletin.manifest;
        let date: jiff::civil::Date = manifest.date.parse().expect("the manifest's own date");
        let file = config.file_name(date, &manifest.slot);
        let samples = u32::try_from(bulletin.pcm.samples.len()).unwrap_or(u32::MAX);
        Cart {
            title: bulletin.script.title.clone(),
            artist: manifest.station.clone(),
            cut_id: file.trim_end_matches(".wav").to_string(),
            category: "NEWS".into(),
            out_cue: bulletin
                .script
                .cues
                .last()
                .map_or(String::new(), |cue| super::out_cue(&cue.spoken)),
            start_date: manifest.date.clone(),
            start_time: "00:00:00".into(),
            end_date: manifest.date.clone(),
            end_time: "23:59:59".into(),
            producer_app_id: "bantin".into(),
            producer_app_version: env!("CARGO_PKG_VERSION").into(),
            user_def: format!("{} {}", manifest.date, manifest.slot),
            level_reference: match settings.bit_depth {
                BitDepth::Sixteen => 1 << 15,
                BitDepth::TwentyFour => 1 << 23,
            },
            timers: vec![(*b"AUDs", 0), (*b"AUDe", samples)],
            tag_text: bulletin.script.title.clone(),
            ..Cart::default()
        }
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
        let cart = delivery.config.cart_chunk.then(|| Wav::cart(delivery));
        wav::write_bwf_with_cart(
            &delivery.bulletin.pcm,
            delivery.settings.bit_depth,
            &Wav::bext(delivery),
            cart.as_ref(),
            out,
        )
    }
}
