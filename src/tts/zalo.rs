//! Zalo AI text-to-speech, by its published protocol: `POST
//! {base}/v1/tts/synthesize` with an `apikey` header and a form body
//! (`input`, `speaker_id` 1–6, `speed` 0.8–1.2, `encode_type` 1 = MP3). The
//! answer is JSON `{error_code, error_message, data: {url}}`; `error_code`
//! 0 means the audio is at `data.url`, which is downloaded (and looked at
//! again while it is not there yet). Speakers: 1 and 6 southern women, 2
//! and 5 northern women, 3 southern man, 4 northern man.
//!
//! Sources: Zalo AI's API page "Text to Audio Converter" (zalo.ai/docs,
//! header `apikey`, post data `input`, `speed`, `quality`, `encode_type`,
//! `speaker_id` with its speaker table); checked against public clients of
//! `https://api.zalo.ai/v1/tts/synthesize`.

use super::SynthError;
use super::vendor::{Exchange, Protocol, Request, VendorVoice};

/// The Zalo AI protocol marker.
#[derive(Debug)]
pub struct Api;

/// A Zalo AI voice (`[zalo]` in a profile).
pub type Zalo = VendorVoice<Api>;

impl Protocol for Api {
    const NAME: &'static str = "zalo";
    const TITLE: &'static str = "Zalo AI";
    const BASE_URL: &'static str = "https://api.zalo.ai";
    // Zalo's clients cut at 2,000 characters per request.
    const MAX_CHARS: usize = 2000;
    const SPEED: (f64, f64) = (0.8, 1.2);
    const DEFAULT_SPEED: f64 = 1.0;

    fn speak(x: &Exchange, text: &str) -> Result<Vec<u8>, SynthError> {
        let speed = format!("{}", x.speed());
        let request = Request::post(&x.url("/v1/tts/synthesize"))
            .header("apikey", x.key())
            .form(&[
                ("input", text),
                ("speaker_id", x.voice()),
                ("speed", &speed),
                ("encode_type", "1"),
            ]);
        let answer = x.send(&request)?;
        let body = x.json(&answer)?;
        if body["error_code"].as_i64() != Some(0) {
            return Err(x.refused(format!(
                "Zalo AI refused the text (error_code {}): {}",
                body["error_code"],
                body["error_message"].as_str().unwrap_or("no message")
            )));
        }
        let Some(address) = body["data"]["url"].as_str().filter(|a| !a.is_empty()) else {
            return Err(x.refused(format!(
                "Zalo AI accepted the text but gave no audio address: {body}"
            )));
        };
        x.fetch_when_ready(address)
    }
}
