//! MP3 answers from cloud voices, decoded to mono `f32` with symphonia
//! (pure Rust, only its MP3 decoder compiled in). Knows nothing of the
//! vendors: callers hand it bytes and resample and level what comes out like
//! any other cue.

use std::io::Cursor;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::audio::Pcm;

/// Whether `bytes` look like an MP3 stream: an ID3v2 tag or an MPEG audio
/// frame sync at the start.
pub fn looks_like_mp3(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ID3") || (bytes.len() > 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
}

/// Decodes a whole MP3 stream, mixing its channels down to mono.
///
/// # Errors
/// A sentence saying why the bytes are not usable MP3 audio.
pub fn decode(bytes: &[u8]) -> Result<Pcm, String> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("not an MP3 stream: {e}"))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or("an MP3 stream without an audio track")?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or("an MP3 track without audio parameters")?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| format!("no decoder for this MP3 stream: {e}"))?;
    let mut rate = 0;
    let mut mono = Vec::new();
    let mut frame = Vec::new();
    let mut bad_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A stream cut short ends where it ends.
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(format!("reading the MP3 stream: {e}")),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // One damaged frame is skipped, as players do.
            Err(Error::DecodeError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(e) => return Err(format!("decoding the MP3 stream: {e}")),
        };
        let spec = buffer.spec();
        let channels = spec.channels().count().max(1);
        if rate == 0 {
            rate = spec.rate();
        } else if rate != spec.rate() {
            return Err(format!(
                "the sample rate changes inside the stream ({rate} Hz, then {} Hz)",
                spec.rate()
            ));
        }
        frame.resize(buffer.samples_interleaved(), 0.0f32);
        buffer.copy_to_slice_interleaved(&mut frame);
        mono.extend(
            frame
                .chunks(channels)
                .map(|c| c.iter().sum::<f32>() / channels as f32),
        );
    }
    if rate == 0 {
        return Err(format!(
            "no MP3 frame could be decoded ({bad_packets} damaged)"
        ));
    }
    Ok(Pcm::new(rate, mono))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEECH: &[u8] = include_bytes!("../../tests/fixtures/speech-vi-22k-mono.mp3");

    #[test]
    fn decodes_speech_made_by_lame() {
        assert!(looks_like_mp3(SPEECH));
        let pcm = decode(SPEECH).unwrap();
        assert_eq!(pcm.sample_rate_hz, 22_050);
        let seconds = pcm.samples.len() as f64 / 22_050.0;
        assert!((2.0..8.0).contains(&seconds), "{seconds} s");
        let peak = pcm.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.1 && peak <= 1.5, "peak {peak}");
    }

    #[test]
    fn refuses_bytes_that_are_not_mp3() {
        assert!(!looks_like_mp3(b"<html>quota</html>"));
        assert!(decode(b"<html>quota exceeded</html>").is_err());
        // An MP3 cut after its first kilobyte still decodes what is there.
        let cut = decode(&SPEECH[..1024]).unwrap();
        assert!(cut.samples.len() < decode(SPEECH).unwrap().samples.len());
    }
}
