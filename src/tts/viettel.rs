//! Viettel AI text-to-speech, by its published protocol: `POST
//! {base}/tts/speech_synthesis` with a JSON body `{text, voice, speed
//! (0.7–1.3), tts_return_option (3 = MP3), token, without_filter}`; the
//! answer is the audio itself. A refusal comes back as JSON instead of
//! audio (or with an error status), and is reported in Viettel's words.
//! The token travels in the body, as the current API wants (the older
//! `…/voice/api/tts/v1/rest/syn` took it as a `token` header).
//!
//! Sources: Viettel AI's TTS API documentation (viettelai.vn, "Tổng hợp
//! tiếng nói", REST API) and its voice list; checked against public
//! clients calling `https://viettelai.vn/tts/speech_synthesis` with the
//! same body.

use super::SynthError;
use super::vendor::{Exchange, Protocol, Request, VendorVoice};

/// The Viettel AI protocol marker.
#[derive(Debug)]
pub struct Api;

/// A Viettel AI voice (`[viettel]` in a profile).
pub type Viettel = VendorVoice<Api>;

impl Protocol for Api {
    const NAME: &'static str = "viettel";
    const TITLE: &'static str = "Viettel AI";
    const BASE_URL: &'static str = "https://viettelai.vn";
    // Viettel publishes no figure; 2,000 keeps each request well inside
    // what its clients send.
    const MAX_CHARS: usize = 2000;
    const SPEED: (f64, f64) = (0.7, 1.3);
    const DEFAULT_SPEED: f64 = 1.0;

    fn speak(x: &Exchange, text: &str) -> Result<Vec<u8>, SynthError> {
        let body = serde_json::json!({
            "text": text,
            "voice": x.voice(),
            "speed": x.speed(),
            "tts_return_option": 3,
            "token": x.key(),
            "without_filter": false,
        });
        let request = Request::post(&x.url("/tts/speech_synthesis"))
            .header("Accept", "*/*")
            .json(&body);
        let answer = x.send(&request)?;
        if answer.is_json() {
            let said = x.json(&answer)?;
            let message = ["vi_message", "en_message", "message", "msg", "error"]
                .iter()
                .find_map(|k| said[k].as_str())
                .map_or_else(|| said.to_string(), str::to_string);
            return Err(x.refused(format!("Viettel AI refused the text: {message}")));
        }
        Ok(answer.bytes)
    }
}
