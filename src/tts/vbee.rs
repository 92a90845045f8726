//! Vbee AIVoice text-to-speech, by its published asynchronous protocol:
//! `POST {base}/api/v1/tts` with `Authorization: Bearer <token>` and JSON
//! `{app_id, response_type: "indirect", callback_url, input_text,
//! voice_code, audio_type: "mp3", bitrate, speed_rate (0.1–1.9)}`. Vbee
//! answers `{status: 1, result: {request_id, status: "IN_PROGRESS"}}` (or
//! `{status: 0, error_code, error_message}`); then `GET
//! {base}/api/v1/tts/{request_id}` is polled until `result.status` is
//! `SUCCESS` with an `audio_link` (downloaded at once: Vbee keeps it a few
//! minutes) or `FAILURE`. `callback_url` is required by Vbee; bantin polls
//! and does not need the callback to arrive.
//!
//! Sources: Vbee's API documentation (the "Vbee AIVoice API" Postman
//! collection linked from vbee.vn, endpoints "Text to speech" and "Get
//! request"); checked against public clients polling
//! `https://vbee.vn/api/v1/tts/{request_id}`.

use super::SynthError;
use super::vendor::{Exchange, Protocol, Request, VendorVoice};

/// The Vbee protocol marker.
#[derive(Debug)]
pub struct Api;

/// A Vbee voice (`[vbee]` in a profile).
pub type Vbee = VendorVoice<Api>;

impl Protocol for Api {
    const NAME: &'static str = "vbee";
    const TITLE: &'static str = "Vbee";
    const BASE_URL: &'static str = "https://vbee.vn";
    // Vbee's asynchronous API takes long texts; 2,000 characters keeps a
    // breath group's request small and its wait short.
    const MAX_CHARS: usize = 2000;
    const SPEED: (f64, f64) = (0.1, 1.9);
    const DEFAULT_SPEED: f64 = 1.0;
    const NEEDS_APP: bool = true;

    fn speak(x: &Exchange, text: &str) -> Result<Vec<u8>, SynthError> {
        let bearer = format!("Bearer {}", x.key());
        let body = serde_json::json!({
            "app_id": x.app_id(),
            "response_type": "indirect",
            "callback_url": x.callback_url(),
            "input_text": text,
            "voice_code": x.voice(),
            "audio_type": "mp3",
            "bitrate": 128,
            "speed_rate": x.speed(),
        });
        let request = Request::post(&x.url("/api/v1/tts"))
            .header("Authorization", bearer.clone())
            .json(&body);
        let accepted = x.json(&x.send(&request)?)?;
        let result = vbee_result(x, &accepted)?;
        let Some(id) = result["request_id"].as_str().filter(|id| !id.is_empty()) else {
            return Err(x.refused(format!(
                "Vbee accepted the text but gave no request_id: {accepted}"
            )));
        };
        let status =
            Request::get(&x.url(&format!("/api/v1/tts/{id}"))).header("Authorization", bearer);
        let link = x.poll(&format!("Vbee request {id}"), || {
            let answer = x.json(&x.send(&status)?)?;
            let result = vbee_result(x, &answer)?;
            match result["status"].as_str() {
                Some("SUCCESS") => match result["audio_link"].as_str() {
                    Some(link) if !link.is_empty() => Ok(Some(link.to_string())),
                    _ => Err(x.refused(format!(
                        "Vbee finished request {id} without an audio_link: {answer}"
                    ))),
                },
                Some("FAILURE") => Err(x.refused(format!(
                    "Vbee could not speak request {id}: {}",
                    result["error_message"]
                        .as_str()
                        .unwrap_or("no reason given")
                ))),
                _ => Ok(None),
            }
        })?;
        x.fetch_when_ready(&link)
    }
}

/// The `result` of a Vbee answer whose `status` is 1.
fn vbee_result<'a>(
    x: &Exchange,
    answer: &'a serde_json::Value,
) -> Result<&'a serde_json::Value, SynthError> {
    if answer["status"].as_i64() == Some(1) {
        return Ok(&answer["result"]);
    }
    Err(x.refused(format!(
        "Vbee refused the request (error_code {}): {}",
        answer["error_code"],
        answer["error_message"].as_str().unwrap_or("no message")
    )))
}
