//! FPT.AI text-to-speech v5, by its published protocol: `POST
//! {base}/hmi/tts/v5` with the text as the raw body (3–5,000 characters)
//! and the parameters as headers (`api_key`, `voice`, `speed` −3…+3 in
//! whole steps, `format: mp3`). The answer is JSON `{error, async, message,
//! request_id}`: `error` 0 means accepted, and `async` is the address where
//! the MP3 appears a few seconds to two minutes later, answering 404 until
//! then, so it is polled with backoff until ready or the cue's deadline.
//!
//! Sources: FPT.AI's TTS v5 documentation (docs.fpt.ai, "Text to Speech",
//! API v5) and its request/answer examples; checked against the
//! cloud-language-tools FPT.AI client (headers `api_key`, `voice`, `speed`,
//! `format`; polling the `async` address) and the limits shown in FPT.AI's
//! own console examples (3–5,000 characters).

use super::SynthError;
use super::vendor::{Exchange, Protocol, Request, VendorVoice};

/// The FPT.AI protocol marker.
#[derive(Debug)]
pub struct Api;

/// An FPT.AI voice (`[fpt]` in a profile).
pub type Fpt = VendorVoice<Api>;

impl Protocol for Api {
    const NAME: &'static str = "fpt";
    const TITLE: &'static str = "FPT.AI";
    const BASE_URL: &'static str = "https://api.fpt.ai";
    const MAX_CHARS: usize = 5000;
    const SPEED: (f64, f64) = (-3.0, 3.0);
    const DEFAULT_SPEED: f64 = 0.0;
    const WHOLE_SPEED: bool = true;

    fn speak(x: &Exchange, text: &str) -> Result<Vec<u8>, SynthError> {
        let mut request = Request::post(&x.url("/hmi/tts/v5"))
            .header("api_key", x.key())
            .header("voice", x.voice())
            .header("format", "mp3");
        if x.speed() != 0.0 {
            request = request.header("speed", format!("{}", x.speed() as i32));
        }
        let answer = x.send(&request.text(text))?;
        let body = x.json(&answer)?;
        if body["error"].as_i64() != Some(0) {
            return Err(x.refused(format!(
                "FPT.AI refused the text (error {}): {}",
                body["error"],
                body["message"].as_str().unwrap_or("no message")
            )));
        }
        let Some(address) = body["async"].as_str().filter(|a| !a.is_empty()) else {
            return Err(x.refused(format!(
                "FPT.AI accepted the text but gave no audio address: {body}"
            )));
        };
        x.fetch_when_ready(address)
    }
}
