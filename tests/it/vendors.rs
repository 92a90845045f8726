//! The Vietnamese cloud voices (FPT.AI, Viettel AI, Zalo AI, Vbee) through
//! the real backend code, against one axum server on 127.0.0.1 that speaks
//! each vendor's documented protocol: its endpoint, auth header and body
//! shape, audio that is "not ready yet" for a while, MP3 answers (a real
//! MP3 made once with Debian's `lame`: `espeak-ng -v vi -w s.wav "Xin chào
//! quý thính giả, đây là bản tin buổi sáng." && lame -m m -b 32 --resample
//! 22.05 s.wav tests/fixtures/speech-vi-22k-mono.mp3`), and
//! every way a vendor fails: a refused key, quota used up, 429 with
//! Retry-After, 5xx, a server that hangs, audio that never gets ready and
//! garbage in place of audio. Finally `bantin render` through each vendor
//! gives a levelled Broadcast WAV.
//!
//! Base addresses carry a mode as their first path segment
//! (`{server}/ok`, `{server}/quota`, …) so one server plays every part.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use bantin::audio::{Pcm, measure, wav};
use bantin::tts::{Fpt, SynthError, Synthesizer, Vbee, VendorVoice, Viettel, Zalo};

use crate::util::{bantin, run_ok};

const MP3: &[u8] = include_bytes!("../fixtures/speech-vi-22k-mono.mp3");

/// The key the server accepts, read by the backends from a variable cargo
/// sets for every test (`CARGO_PKG_NAME` = "bantin"): no test changes the
/// environment while others run. `CARGO_PKG_VERSION` stands for a wrong key
/// and for Vbee's application id.
const KEY: &str = "bantin";
pub(crate) const KEY_VAR: &str = "CARGO_PKG_NAME";
const WRONG_KEY_VAR: &str = "CARGO_PKG_VERSION";
const APP_ID: &str = env!("CARGO_PKG_VERSION");

const SENTENCE: &str = "Sáng nay, Hà Nội mưa nhẹ.";

#[derive(Default)]
pub(crate) struct Vendors {
    base: Mutex<String>,
    /// Texts the vendors were asked to speak, in order.
    texts: Mutex<Vec<String>>,
    /// Requests per mode (`limited`, `broken`, …).
    hits: Mutex<HashMap<String, usize>>,
    /// Looks at each not-yet-ready audio address or job.
    looks: Mutex<HashMap<String, usize>>,
    jobs: AtomicUsize,
}

type Shared = Arc<Vendors>;

impl Vendors {
    fn hit(&self, mode: &str) -> usize {
        let mut hits = self.hits.lock().unwrap();
        let n = hits.entry(mode.to_string()).or_default();
        *n += 1;
        *n
    }

    fn look(&self, id: &str) -> usize {
        let mut looks = self.looks.lock().unwrap();
        let n = looks.entry(id.to_string()).or_default();
        *n += 1;
        *n
    }

    pub(crate) fn hits(&self, mode: &str) -> usize {
        self.hits.lock().unwrap().get(mode).copied().unwrap_or(0)
    }

    pub(crate) fn texts(&self) -> Vec<String> {
        self.texts.lock().unwrap().clone()
    }

    /// A new job id, and the address its audio will be at.
    fn job(&self, mode: &str) -> (String, String) {
        let id = format!("job{}", self.jobs.fetch_add(1, Ordering::SeqCst));
        let base = self.base.lock().unwrap().clone();
        (id.clone(), format!("{base}/{mode}/files/{id}.mp3"))
    }
}

/// What every vendor does in the failing modes, before its own protocol:
/// `None` lets the request through.
async fn misbehave(mode: &str, vendors: &Vendors) -> Option<Response> {
    let n = vendors.hit(mode);
    match mode {
        "limited" if n == 1 => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                "Too many requests",
            )
                .into_response(),
        ),
        "throttled" => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "3600")],
                "Too many requests",
            )
                .into_response(),
        ),
        "broken" => Some((StatusCode::BAD_GATEWAY, "upstream TTS engine down").into_response()),
        "toolong" => Some((StatusCode::PAYLOAD_TOO_LARGE, "text exceeds limit").into_response()),
        "unpaid" => Some((StatusCode::PAYMENT_REQUIRED, "balance is 0").into_response()),
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Some("too late".into_response())
        }
        _ => None,
    }
}

/// The audio an address serves once ready: "not found" for the first two
/// looks (as FPT.AI's storage answers before the file exists), then MP3 —
/// or garbage in `garbage` mode; `never` mode never gets ready.
async fn file(State(vendors): State<Shared>, Path((mode, id)): Path<(String, String)>) -> Response {
    let look = vendors.look(&id);
    if mode == "never" || look <= 2 {
        return (
            StatusCode::NOT_FOUND,
            "<Error><Code>NoSuchKey</Code></Error>",
        )
            .into_response();
    }
    if mode == "garbage" {
        return (
            [(header::CONTENT_TYPE, "audio/mpeg")],
            "<html>gateway</html>",
        )
            .into_response();
    }
    ([(header::CONTENT_TYPE, "audio/mpeg")], MP3).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

// FPT.AI: POST /hmi/tts/v5, raw text body, headers api_key/voice/speed/format;
// JSON {error, async, request_id, message}.
async fn fpt(
    State(vendors): State<Shared>,
    Path(mode): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(answer) = misbehave(&mode, &vendors).await {
        return answer;
    }
    if header(&headers, "api_key") != KEY {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": 401, "message": "Invalid API key"})),
        )
            .into_response();
    }
    assert_eq!(header(&headers, "format"), "mp3");
    assert!(["", "-1", "0", "1", "2", "3", "-2", "-3"].contains(&header(&headers, "speed")));
    if mode == "quota" {
        return Json(json!({"error": 1, "message": "Your account has run out of characters"}))
            .into_response();
    }
    let chars = body.chars().count();
    if !(3..=5000).contains(&chars) || header(&headers, "voice") != "banmai" {
        return Json(json!({"error": 1, "message": "invalid text length or voice"}))
            .into_response();
    }
    vendors.texts.lock().unwrap().push(body);
    let (id, address) = vendors.job(&mode);
    Json(json!({
        "async": address,
        "error": 0,
        "message": "The content will be returned after a few seconds under the async link.",
        "request_id": id,
    }))
    .into_response()
}

// Viettel AI: POST /tts/speech_synthesis, JSON with the token inside; the
// answer is the audio, or JSON when refused.
async fn viettel(
    State(vendors): State<Shared>,
    Path(mode): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    if let Some(answer) = misbehave(&mode, &vendors).await {
        return answer;
    }
    if body["token"] != KEY {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 401, "vi_message": "Token không hợp lệ", "en_message": "Invalid token"})),
        )
            .into_response();
    }
    assert_eq!(body["tts_return_option"], 3);
    assert_eq!(body["voice"], "hcm-diemmy");
    if mode == "quota" {
        return Json(json!({"code": 402, "vi_message": "Tài khoản đã hết ký tự", "en_message": "Out of characters"}))
            .into_response();
    }
    vendors
        .texts
        .lock()
        .unwrap()
        .push(body["text"].as_str().unwrap().to_string());
    if mode == "garbage" {
        return ([(header::CONTENT_TYPE, "audio/mpeg")], vec![0x42u8; 3000]).into_response();
    }
    ([(header::CONTENT_TYPE, "audio/mpeg")], MP3).into_response()
}

// Zalo AI: POST /v1/tts/synthesize, `apikey` header, form body; JSON
// {error_code, error_message, data: {url}}.
async fn zalo(
    State(vendors): State<Shared>,
    Path(mode): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(answer) = misbehave(&mode, &vendors).await {
        return answer;
    }
    if header(&headers, "apikey") != KEY {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error_code": -401, "error_message": "Invalid apikey"})),
        )
            .into_response();
    }
    assert_eq!(form["encode_type"], "1");
    assert_eq!(form["speaker_id"], "4");
    if mode == "quota" {
        return Json(json!({"error_code": -1003, "error_message": "Quota exceeded", "data": {}}))
            .into_response();
    }
    vendors.texts.lock().unwrap().push(form["input"].clone());
    let (_, address) = vendors.job(&mode);
    Json(json!({"error_code": 0, "error_message": "Successful.", "data": {"url": address}}))
        .into_response()
}

// Vbee: POST /api/v1/tts with a Bearer token and JSON; then GET
// /api/v1/tts/{request_id} until SUCCESS with an audio_link.
async fn vbee(
    State(vendors): State<Shared>,
    Path(mode): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    if let Some(answer) = misbehave(&mode, &vendors).await {
        return answer;
    }
    if header(&headers, "authorization") != format!("Bearer {KEY}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"status": 0, "error_code": 401, "error_message": "Unauthorized"})),
        )
            .into_response();
    }
    assert_eq!(body["app_id"], APP_ID);
    assert_eq!(body["audio_type"], "mp3");
    assert!(
        body["callback_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(body["voice_code"], "hue_female_huonggiang_full_48k-fhg");
    if mode == "quota" {
        return Json(json!({"status": 0, "error_code": 4003, "error_message": "Không đủ ký tự"}))
            .into_response();
    }
    vendors
        .texts
        .lock()
        .unwrap()
        .push(body["input_text"].as_str().unwrap().to_string());
    let (id, _) = vendors.job(&mode);
    Json(json!({"status": 1, "result": {"request_id": id, "status": "IN_PROGRESS", "characters": 25}}))
        .into_response()
}

async fn vbee_request(
    State(vendors): State<Shared>,
    Path((mode, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if header(&headers, "authorization") != format!("Bearer {KEY}") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let look = vendors.look(&format!("request {id}"));
    let base = vendors.base.lock().unwrap().clone();
    let result = match mode.as_str() {
        "failing" => {
            json!({"request_id": id, "status": "FAILURE", "error_message": "synthesis error"})
        }
        _ if look <= 2 => json!({"request_id": id, "status": "IN_PROGRESS", "progress": look * 30}),
        _ => {
            json!({"request_id": id, "status": "SUCCESS", "audio_link": format!("{base}/{mode}/files/{id}.mp3")})
        }
    };
    Json(json!({"status": 1, "result": result})).into_response()
}

pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) vendors: Shared,
    _runtime: tokio::runtime::Runtime,
}

/// The vendors' loopback server (every vendor, every mode).
pub(crate) fn start() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let vendors = Shared::default();
    let app = axum::Router::new()
        .route("/{mode}/hmi/tts/v5", post(fpt))
        .route("/{mode}/tts/speech_synthesis", post(viettel))
        .route("/{mode}/v1/tts/synthesize", post(zalo))
        .route("/{mode}/api/v1/tts", post(vbee))
        .route("/{mode}/api/v1/tts/{id}", get(vbee_request))
        .route("/{mode}/files/{id}", get(file))
        .with_state(vendors.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *vendors.base.lock().unwrap() = base.clone();
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        vendors,
        _runtime: runtime,
    }
}

/// Quick settings for tests: short waits, short deadlines.
fn quick<P: bantin::tts::Protocol>(mut voice: VendorVoice<P>, base: String) -> VendorVoice<P> {
    voice.base_url = Some(base);
    voice.timeout = Duration::from_millis(800);
    voice.deadline = Duration::from_secs(5);
    voice.retries = 2;
    voice.backoff = Duration::from_millis(50);
    voice.poll_interval = Duration::from_millis(50);
    voice.validate().unwrap();
    voice
}

fn fpt_voice(server: &Server, mode: &str) -> Fpt {
    quick(
        Fpt::new("banmai", KEY_VAR),
        format!("{}/{mode}", server.base),
    )
}

fn viettel_voice(server: &Server, mode: &str) -> Viettel {
    quick(
        Viettel::new("hcm-diemmy", KEY_VAR),
        format!("{}/{mode}", server.base),
    )
}

fn zalo_voice(server: &Server, mode: &str) -> Zalo {
    quick(Zalo::new("4", KEY_VAR), format!("{}/{mode}", server.base))
}

fn vbee_voice(server: &Server, mode: &str) -> Vbee {
    let mut voice = Vbee::new("hue_female_huonggiang_full_48k-fhg", KEY_VAR);
    voice.app_id_env = Some(WRONG_KEY_VAR.to_string());
    voice.callback_url = Some("https://radio.example.vn/vbee".to_string());
    quick(voice, format!("{}/{mode}", server.base))
}

/// Every vendor's voice in `mode`, by name.
fn all(server: &Server, mode: &str) -> Vec<(&'static str, Box<dyn Synthesizer>)> {
    vec![
        ("FPT.AI voice banmai", Box::new(fpt_voice(server, mode))),
        (
            "Viettel AI voice hcm-diemmy",
            Box::new(viettel_voice(server, mode)),
        ),
        ("Zalo AI voice 4", Box::new(zalo_voice(server, mode))),
        (
            "Vbee voice hue_female_huonggiang_full_48k-fhg",
            Box::new(vbee_voice(server, mode)),
        ),
    ]
}

fn seconds(pcm: &Pcm) -> f64 {
    pcm.samples.len() as f64 / f64::from(pcm.sample_rate_hz)
}

fn fixture_seconds() -> f64 {
    let (rate, samples) = {
        let voice = bantin::tts::decode_answer("fixture", MP3, "x").unwrap();
        (voice.sample_rate_hz, voice.samples.len())
    };
    samples as f64 / f64::from(rate)
}

#[test]
fn each_vendor_speaks_through_its_protocol_waiting_for_audio_that_is_not_ready() {
    let server = start();
    for (name, voice) in all(&server, "ok") {
        let pcm = voice
            .synthesize(SENTENCE)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pcm.sample_rate_hz, 22_050, "{name}");
        assert!(
            (seconds(&pcm) - fixture_seconds()).abs() < 0.1,
            "{name}: {} s",
            seconds(&pcm)
        );
        assert!(voice.fingerprint().contains(&server.base), "{name}");
    }
    assert_eq!(server.vendors.texts(), vec![SENTENCE; 4]);
    // FPT.AI's, Zalo's and Vbee's audio answered "not found" twice before
    // it was there; Vbee's job said IN_PROGRESS twice.
    let looks = server.vendors.looks.lock().unwrap().clone();
    assert_eq!(looks.values().filter(|&&n| n == 3).count(), 4, "{looks:?}");
}

#[test]
fn text_over_the_limit_is_split_at_breath_marks_and_joined() {
    let server = start();
    let text = "Sáng nay, Hà Nội mưa nhẹ; chiều nắng. Gió đông bắc cấp ba, trời rét.";
    let mut voice = fpt_voice(&server, "ok");
    voice.max_chars = Some(30);
    // Every character is billed but the two spaces at the cuts.
    assert_eq!(voice.billable_chars(text), text.chars().count() - 2);
    let pcm = voice.synthesize(text).unwrap();
    let sent = server.vendors.texts();
    assert_eq!(
        sent,
        [
            "Sáng nay, Hà Nội mưa nhẹ;",
            "chiều nắng.",
            "Gió đông bắc cấp ba, trời rét."
        ]
    );
    assert!((seconds(&pcm) - 3.0 * fixture_seconds()).abs() < 0.2);
}

#[test]
fn a_429_waits_as_long_as_retry_after_asks_then_succeeds() {
    let server = start();
    for (name, voice) in all(&server, "limited") {
        *server.vendors.hits.lock().unwrap() = HashMap::new();
        let started = Instant::now();
        voice
            .synthesize(SENTENCE)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(started.elapsed() >= Duration::from_secs(1), "{name}");
        assert!(server.vendors.hits("limited") >= 2, "{name}");
    }
}

fn failure(voice: &dyn Synthesizer) -> SynthError {
    voice
        .synthesize(SENTENCE)
        .expect_err("the vendor should fail")
}

#[test]
fn every_vendor_failure_is_one_clear_error_naming_the_voice() {
    let server = start();
    for (mode, expected) in [
        ("throttled", "rate limited (HTTP 429, asked to wait 3600 s)"),
        (
            "broken",
            "HTTP 502: upstream TTS engine down (after 3 attempts)",
        ),
        ("garbage", "returned audio that cannot be used"),
        (
            "toolong",
            "the text is too long for one request (HTTP 413): text exceeds limit",
        ),
        (
            "unpaid",
            "the account's quota is used up (HTTP 402): balance is 0",
        ),
    ] {
        for (name, voice) in all(&server, mode) {
            let err = failure(voice.as_ref()).to_string();
            assert!(err.starts_with(name), "{mode}: {err}");
            assert!(err.contains(expected), "{mode} {name}: {err}");
        }
    }
    // A 429 asking for longer than the deadline fails at once.
    assert_eq!(server.vendors.hits("throttled"), 4);
    assert_eq!(server.vendors.hits("broken"), 12);
    // A refusal is not retried.
    assert_eq!(server.vendors.hits("toolong"), 4);

    for (name, voice) in all(&server, "quota") {
        let err = failure(voice.as_ref()).to_string();
        assert!(err.starts_with(name), "{err}");
        let vendor_words = [
            "Your account has run out of characters",
            "Tài khoản đã hết ký tự",
            "Quota exceeded",
            "Không đủ ký tự",
        ];
        assert!(vendor_words.iter().any(|w| err.contains(w)), "{err}");
    }

    let started = Instant::now();
    for (name, voice) in all(&server, "hang") {
        let err = failure(voice.as_ref());
        assert!(matches!(err, SynthError::Timeout { .. }), "{name}: {err}");
        assert!(err.to_string().starts_with(name), "{err}");
    }
    assert!(started.elapsed() < Duration::from_secs(10));

    for voice in [
        Box::new(fpt_voice(&server, "never")) as Box<dyn Synthesizer>,
        Box::new(zalo_voice(&server, "never")),
        Box::new(vbee_voice(&server, "never")),
    ] {
        let err = failure(voice.as_ref()).to_string();
        assert!(
            err.contains("was not ready within the cue's deadline of 5 s"),
            "{err}"
        );
    }
    let err = failure(&vbee_voice(&server, "failing")).to_string();
    assert!(
        err.contains("could not speak request job") && err.contains("synthesis error"),
        "{err}"
    );
}

#[test]
fn keys_come_from_the_environment_and_a_wrong_one_is_named() {
    let server = start();
    let mut wrong = fpt_voice(&server, "ok");
    wrong.api_key_env = WRONG_KEY_VAR.to_string();
    let err = failure(&wrong).to_string();
    assert!(
        err.contains("the API key in CARGO_PKG_VERSION was refused (HTTP 401): {\"error\":401,\"message\":\"Invalid API key\"}"),
        "{err}"
    );
    let mut wrong = viettel_voice(&server, "ok");
    wrong.api_key_env = WRONG_KEY_VAR.to_string();
    assert!(failure(&wrong).to_string().contains("Token không hợp lệ"));

    let mut unset = zalo_voice(&server, "ok");
    unset.api_key_env = "BANTIN_TEST_KEY_NOBODY_SETS".to_string();
    let err = unset.check().unwrap_err();
    assert!(matches!(err, SynthError::Unavailable { .. }));
    assert!(
        err.to_string().contains(
            "the environment variable BANTIN_TEST_KEY_NOBODY_SETS (its API key) is not set"
        ),
        "{err}"
    );
    assert_eq!(server.vendors.hits("ok"), 2, "no request without a key");
}

fn profile(name: &str, table: &str, base: &str) -> String {
    format!(
        "name = \"{name}\"\nsyllables_per_minute = 250\n\n{table}api_key_env = \"BANTIN_TEST_VENDOR_KEY\"\nbase_url = \"{base}\"\npoll_interval = 0.05\ntimeout = 5\ndeadline = 20\n"
    )
}

#[test]
fn rendering_through_each_vendor_gives_a_levelled_broadcast_wav() {
    let server = start();
    let data = tempfile::tempdir().unwrap();
    let voices = data.path().join("voices");
    std::fs::create_dir_all(&voices).unwrap();
    let base = format!("{}/ok", server.base);
    for (name, table) in [
        ("fpt-test", "[fpt]\nvoice = \"banmai\"\nspeed = 1\n"),
        ("viettel-test", "[viettel]\nvoice = \"hcm-diemmy\"\n"),
        ("zalo-test", "[zalo]\nvoice = \"4\"\n"),
        (
            "vbee-test",
            "[vbee]\nvoice = \"hue_female_huonggiang_full_48k-fhg\"\napp_id_env = \"BANTIN_TEST_VENDOR_APP\"\ncallback_url = \"https://radio.example.vn/cb\"\n",
        ),
    ] {
        std::fs::write(
            voices.join(format!("{name}.toml")),
            profile(name, table, &base),
        )
        .unwrap();
    }
    let article = data.path().join("tin.txt");
    std::fs::write(
        &article,
        "Thời tiết\n\nSáng nay, Hà Nội mưa nhẹ. Chiều nay trời nắng, gió đông bắc cấp ba.\n",
    )
    .unwrap();
    for name in ["fpt-test", "viettel-test", "zalo-test", "vbee-test"] {
        let out = data.path().join(format!("{name}.wav"));
        run_ok(
            bantin()
                .arg("--data")
                .arg(data.path())
                .arg("render")
                .arg(&article)
                .args(["--voice", name, "-o"])
                .arg(&out)
                .env("BANTIN_TEST_VENDOR_KEY", KEY)
                .env("BANTIN_TEST_VENDOR_APP", APP_ID),
        );
        let bytes = std::fs::read(&out).unwrap();
        assert!(
            bytes.windows(4).any(|w| w == b"bext"),
            "{name}: no bext chunk"
        );
        let pcm = wav::decode(&bytes).unwrap();
        assert_eq!(pcm.sample_rate_hz, 48_000, "{name}");
        let measured = measure(&pcm);
        assert!(
            (measured.integrated_lufs + 23.0).abs() < 1.0,
            "{name}: {} LUFS",
            measured.integrated_lufs
        );
        assert!(
            measured.true_peak_dbtp <= -0.9,
            "{name}: {} dBTP",
            measured.true_peak_dbtp
        );
    }
    // Each breath group reached each vendor once.
    let texts = server.vendors.texts();
    assert_eq!(texts.len() % 4, 0, "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("Hà Nội mưa nhẹ")),
        "{texts:?}"
    );
}
