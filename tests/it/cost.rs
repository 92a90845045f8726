//! Cost before speech, over the real server on loopback with a Viettel AI
//! voice pointed at the vendors' loopback server (`vendors.rs`): the review
//! and the render job show the billable characters and the cached share, a
//! render bills what the vendor really received, an edited article is
//! billed for its edited breath groups only, a render past the voice's
//! daily cap is refused (429) with no vendor call, and editors pick a voice
//! by region and gender.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bantin::config::{Config, VoiceSettings};
use bantin::server::AppState;
use bantin::store::{Scope, Store};
use bantin::voice::Voices;
use serde_json::{Value, json};

use crate::util::{TestServer, request};
use crate::vendors::{KEY_VAR, start};

const VOICE: &str = "viettel-test";
const DAILY_CHARS: u64 = 300;

/// Writes the Viettel AI test voice into `data/voices`.
fn write_profile(data: &Path, vendor_base: &str) -> std::path::PathBuf {
    let voices = data.join("voices");
    std::fs::create_dir_all(&voices).unwrap();
    std::fs::write(
        voices.join(format!("{VOICE}.toml")),
        format!(
            "name = \"{VOICE}\"\nsyllables_per_minute = 250\n\n[viettel]\nvoice = \"hcm-diemmy\"\napi_key_env = \"{KEY_VAR}\"\nbase_url = \"{vendor_base}/ok\"\ntimeout = 5\ndeadline = 20\n"
        ),
    )
    .unwrap();
    voices
}

fn server(data: &Path, vendor_base: &str, daily_chars: Option<u64>) -> (TestServer, String) {
    let voices = write_profile(data, vendor_base);
    let store = Store::open(data).unwrap();
    let (_, editor) = store.add_token("editor", Scope::Editor).unwrap();
    let config = Config {
        data_dir: data.to_path_buf(),
        voices: BTreeMap::from([(VOICE.to_string(), VoiceSettings { daily_chars })]),
        ..Config::default()
    };
    let state = AppState::new(store, config, Voices::load(Some(&voices)).unwrap()).unwrap();
    (TestServer::serve(state), editor)
}

fn call(
    method: &str,
    url: &str,
    token: &str,
    body: Option<&[u8]>,
    kind: &str,
) -> crate::util::Reply {
    request(method, url, Some(token), &[("Content-Type", kind)], body)
}

fn upload(url: &str, token: &str, text: &str) -> i64 {
    let reply = call(
        "POST",
        &format!("{url}/api/articles"),
        token,
        Some(text.as_bytes()),
        "text/plain; charset=utf-8",
    );
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["id"].as_i64().unwrap()
}

fn bill(url: &str, token: &str, article: i64) -> Value {
    let reply = call(
        "GET",
        &format!("{url}/api/articles/{article}/review?voice={VOICE}"),
        token,
        None,
        "text/plain",
    );
    assert_eq!(reply.status, 200);
    reply.json()["bill"].clone()
}

fn render(url: &str, token: &str, article: i64, body: Value) -> crate::util::Reply {
    call(
        "POST",
        &format!("{url}/api/articles/{article}/render"),
        token,
        Some(body.to_string().as_bytes()),
        "application/json",
    )
}

fn wait_done(url: &str, token: &str, job: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = call(
            "GET",
            &format!("{url}/api/jobs/{job}"),
            token,
            None,
            "text/plain",
        )
        .json();
        match job["state"].as_str().unwrap() {
            "done" => return job,
            "failed" | "cancelled" => panic!("the render did not finish: {job}"),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the render never finished: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn used_today(url: &str, token: &str) -> u64 {
    let voices = call(
        "GET",
        &format!("{url}/api/voices"),
        token,
        None,
        "text/plain",
    )
    .json();
    let voice = voices
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == VOICE)
        .unwrap()
        .clone();
    assert_eq!(voice["billable"], true);
    voice["used_today_chars"].as_u64().unwrap()
}

fn chars(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.chars().count() as u64).sum()
}

const FIRST: &str = "Tin thời tiết\n\nSáng nay, Hà Nội có mưa nhẹ. Chiều nay trời nắng, gió đông bắc cấp ba. Ngày mai nhiệt độ giảm.\n";
const EDITED: &str = "Tin thời tiết\n\nSáng nay, Hà Nội có mưa nhẹ. Chiều nay trời nắng, gió đông bắc cấp ba. Ngày mai trời rét đậm.\n";

#[test]
fn the_bill_is_shown_before_speech_and_an_edit_bills_only_its_breath_groups() {
    let vendor = start();
    let data = tempfile::tempdir().unwrap();
    let (server, token) = server(data.path(), &vendor.base, Some(DAILY_CHARS));
    let url = &server.url;
    let article = upload(url, &token, FIRST);

    // Before any render: everything is billable, nothing cached.
    let before = bill(url, &token, article);
    let billable = before["billable_chars"].as_u64().unwrap();
    assert!(billable > 40, "{before}");
    assert_eq!(before["cached_chars"], 0, "{before}");
    assert_eq!(before["to_bill_chars"], billable, "{before}");
    assert_eq!(before["daily_chars"], DAILY_CHARS);
    assert_eq!(before["used_today_chars"], 0);

    // The job shows the same bill when asked for, and what was billed after.
    let reply = render(url, &token, article, json!({"voice": VOICE}));
    assert_eq!(
        reply.status,
        202,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let accepted = reply.json();
    assert_eq!(accepted["cost"]["to_bill_chars"], billable, "{accepted}");
    let job = wait_done(url, &token, accepted["job"]["id"].as_i64().unwrap());
    assert_eq!(job["cost"]["billable_chars"], billable, "{job}");
    let first_texts = vendor.vendors.texts();
    assert_eq!(chars(&first_texts), billable, "{first_texts:?}");
    assert_eq!(job["cost"]["billed_chars"], billable, "{job}");
    assert_eq!(used_today(url, &token), billable);

    // Rendered once: the review now finds every breath group in the cache.
    let after = bill(url, &token, article);
    assert_eq!(after["cached_chars"], billable, "{after}");
    assert_eq!(after["to_bill_chars"], 0, "{after}");
    assert_eq!(after["used_today_chars"], billable, "{after}");

    // One sentence edited: only its breath groups are billed, and the
    // review said so before the render.
    let reply = call(
        "PUT",
        &format!("{url}/api/articles/{article}"),
        &token,
        Some(EDITED.as_bytes()),
        "text/plain; charset=utf-8",
    );
    assert!(
        reply.status < 300,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let edited = bill(url, &token, article);
    let to_bill = edited["to_bill_chars"].as_u64().unwrap();
    assert!(to_bill > 0 && to_bill < billable / 2, "{edited}");
    let reply = render(url, &token, article, json!({"voice": VOICE}));
    let accepted = reply.json();
    assert_eq!(accepted["cost"]["to_bill_chars"], to_bill, "{accepted}");
    let job = wait_done(url, &token, accepted["job"]["id"].as_i64().unwrap());
    let sent: Vec<String> = vendor.vendors.texts()[first_texts.len()..].to_vec();
    assert!(
        !sent.is_empty() && sent.iter().all(|t| t.contains("rét đậm")),
        "only the edited sentence reaches the vendor: {sent:?}"
    );
    assert_eq!(chars(&sent), to_bill, "{sent:?}");
    assert_eq!(job["cost"]["billed_chars"], to_bill, "{job}");
    assert_eq!(used_today(url, &token), billable + to_bill);
    eprintln!(
        "billable characters: {billable} for the article, {to_bill} after one sentence edited"
    );

    // Past the daily cap: refused before any vendor call, with when to retry.
    let used = billable + to_bill;
    let mut long = String::from("Tin dài\n\n");
    for n in 1..=12 {
        long.push_str(&format!(
            "Đoạn tin thứ {n} nói về mùa màng ở vùng đồng bằng sông Hồng. "
        ));
    }
    let long = upload(url, &token, &long);
    let long_bill = bill(url, &token, long);
    assert!(
        used + long_bill["to_bill_chars"].as_u64().unwrap() > DAILY_CHARS,
        "{long_bill}"
    );
    let requests = vendor.vendors.hits("ok");
    let reply = render(url, &token, long, json!({"voice": VOICE}));
    reply.assert_error(429, "over the daily cap");
    assert_eq!(reply.json()["error"], "daily_cap");
    let detail = reply.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains(&format!("{DAILY_CHARS} characters a day"))
            && detail.contains("daily_chars"),
        "{detail}"
    );
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=24 * 3600).contains(&retry), "{retry}");
    assert_eq!(vendor.vendors.hits("ok"), requests, "no vendor call");
    assert_eq!(used_today(url, &token), used);
    // A render that is wholly cached costs nothing and is never refused.
    let reply = render(url, &token, article, json!({"voice": VOICE}));
    assert_eq!(
        reply.status,
        202,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    server.stop();
}

#[test]
fn editors_pick_a_voice_by_region_and_gender() {
    let vendor = start();
    let data = tempfile::tempdir().unwrap();
    let (server, token) = server(data.path(), &vendor.base, None);
    let url = &server.url;
    let voices = call(
        "GET",
        &format!("{url}/api/voices"),
        &token,
        None,
        "text/plain",
    )
    .json();
    let of = |name: &str| {
        voices
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (of("vi")["region"].clone(), of("vi")["billable"].clone()),
        (json!("bac"), json!(false))
    );
    assert_eq!(of("vi-vn-x-central")["region"], "trung");
    assert_eq!(
        (of(VOICE)["region"].clone(), of(VOICE)["gender"].clone()),
        (json!("nam"), json!("nu"))
    );
    assert_eq!(of(VOICE)["backend"], "viettel");

    let article = upload(url, &token, FIRST);
    let picked = |body: Value| {
        let reply = render(url, &token, article, body);
        assert_eq!(
            reply.status,
            202,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()["job"]["voice"].as_str().unwrap().to_string()
    };
    assert_eq!(picked(json!({"region": "nam", "gender": "nu"})), VOICE);
    assert_eq!(picked(json!({"region": "trung"})), "vi-vn-x-central");
    // The station default when it fits.
    assert_eq!(picked(json!({"region": "bac", "gender": "nam"})), "vi");
    for (body, expected) in [
        (json!({"region": "tay"}), "not bac, trung or nam"),
        (
            json!({"region": "trung", "gender": "nu"}),
            "no voice of region trung and gender nu",
        ),
        (
            json!({"voice": "vi", "region": "nam"}),
            "voice vi is not of region nam",
        ),
    ] {
        let reply = render(url, &token, article, body.clone());
        reply.assert_error(422, &body.to_string());
        let detail = reply.json()["detail"].as_str().unwrap().to_string();
        assert!(detail.contains(expected), "{body}: {detail}");
    }
    server.stop();
}

/// The figure for the notes: the example article, then one word of its
/// first sentence edited (`sơ kết` → `tổng kết`).
#[test]
fn the_example_article_edited_in_one_sentence_bills_that_breath_group_only() {
    let vendor = start();
    let data = tempfile::tempdir().unwrap();
    let (server, token) = server(data.path(), &vendor.base, None);
    let url = &server.url;
    let text = std::fs::read_to_string(crate::util::example_article()).unwrap();
    let article = upload(url, &token, &text);
    let whole = bill(url, &token, article)["billable_chars"]
        .as_u64()
        .unwrap();
    let accepted = render(url, &token, article, json!({"voice": VOICE})).json();
    wait_done(url, &token, accepted["job"]["id"].as_i64().unwrap());
    assert_eq!(chars(&vendor.vendors.texts()), whole);
    let first = vendor.vendors.texts().len();

    let edited = text.replacen("tổ chức Hội nghị sơ kết", "tổ chức Hội nghị tổng kết", 1);
    assert_ne!(edited, text);
    let reply = call(
        "PUT",
        &format!("{url}/api/articles/{article}"),
        &token,
        Some(edited.as_bytes()),
        "text/plain; charset=utf-8",
    );
    assert!(
        reply.status < 300,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let after = bill(url, &token, article);
    let to_bill = after["to_bill_chars"].as_u64().unwrap();
    let accepted = render(url, &token, article, json!({"voice": VOICE})).json();
    let job = wait_done(url, &token, accepted["job"]["id"].as_i64().unwrap());
    let sent = vendor.vendors.texts()[first..].to_vec();
    assert!(
        !sent.is_empty() && sent.iter().all(|t| t.contains("tổng kết")),
        "{sent:?}"
    );
    assert_eq!(chars(&sent), to_bill);
    assert_eq!(job["cost"]["billed_chars"], to_bill);
    assert_eq!(
        after["billable_chars"].as_u64().unwrap() - to_bill,
        after["cached_chars"].as_u64().unwrap()
    );
    eprintln!(
        "example article: {whole} billable characters; after one sentence edited: {to_bill} ({} breath groups of {})",
        after["breath_groups"].as_u64().unwrap() - after["cached_breath_groups"].as_u64().unwrap(),
        after["breath_groups"]
    );
    server.stop();
}

#[test]
fn bantin_script_shows_the_bill_and_bantin_render_stops_at_the_cap() {
    let vendor = start();
    let data = tempfile::tempdir().unwrap();
    write_profile(data.path(), &vendor.base);
    let article = data.path().join("tin.txt");
    std::fs::write(&article, FIRST).unwrap();
    let capped = data.path().join("capped.toml");
    std::fs::write(&capped, format!("[voices.{VOICE}]\ndaily_chars = 50\n")).unwrap();
    let open = data.path().join("open.toml");
    std::fs::write(&open, "station = \"Đài thử\"\n").unwrap();
    let bantin = |config: &Path| {
        let mut command = crate::util::bantin();
        command
            .arg("--data")
            .arg(data.path())
            .arg("--config")
            .arg(config)
            .env(KEY_VAR, "bantin");
        command
    };
    let script = |config: &Path| {
        let out = crate::util::run_ok(
            bantin(config)
                .arg("script")
                .arg(&article)
                .args(["--voice", VOICE]),
        );
        String::from_utf8(out.stderr).unwrap()
    };
    let line = script(&open);
    assert!(
        line.contains("bills 105 characters") && line.contains("a render now sends 105"),
        "{line}"
    );

    let out = bantin(&capped)
        .arg("render")
        .arg(&article)
        .args(["--voice", VOICE, "-o"])
        .arg(data.path().join("out.wav"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("refused before any vendor call")
            && stderr.contains("may speak 50 characters a day"),
        "{stderr}"
    );
    assert_eq!(vendor.vendors.hits("ok"), 0, "no vendor call");

    crate::util::run_ok(
        bantin(&open)
            .arg("render")
            .arg(&article)
            .args(["--voice", VOICE, "-o"])
            .arg(data.path().join("out.wav")),
    );
    let line = script(&open);
    assert!(
        line.contains("105 of them (4 of 4 breath groups)")
            && line.contains("a render now sends 0"),
        "{line}"
    );
}

/// A bulletin whose greeting and sign-off are spoken by the cloud voice and
/// whose items by espeak-ng: only the greeting's and sign-off's breath
/// groups reach the vendor, and they are counted in its usage of the day.
#[test]
fn a_bulletin_greets_with_its_greeting_voice_and_counts_what_that_voice_billed() {
    let vendor = start();
    let data = tempfile::tempdir().unwrap();
    let voices = write_profile(data.path(), &vendor.base);
    let drop = data.path().join("drop");
    let mut config = Config::parse(
        "test",
        &format!(
            r#"station = "Đài thử"
[bulletin]
station = "Đài truyền thanh thành phố Hưng Yên"
drop_folder = "{}"
catch_up_minutes = 0
retry_attempts = 1
voice = "vi"
greeting_voice = "{VOICE}"
greeting = "{{station}} xin kính chào quý vị và các bạn."
sign_off = "Bản tin {{slot}} đến đây là kết thúc."
[bulletin.slots.sang]
label = "sáng"
schedule = "0 3 1 1 *"
target_minutes = 1
"#,
            drop.display()
        ),
    )
    .unwrap();
    config.data_dir = data.path().to_path_buf();
    config.config_dir = Some(data.path().to_path_buf());
    config.limits.request_timeout = Duration::from_secs(300);
    config.validate().unwrap();
    let store = Store::open(data.path()).unwrap();
    let (_, token) = store.add_token("approver", Scope::Approver).unwrap();
    let state = AppState::new(store, config, Voices::load(Some(&voices)).unwrap()).unwrap();
    let server = TestServer::serve(state);
    let url = &server.url;
    let article = upload(url, &token, "Giao thông\n\nCầu mới thông xe sáng nay.\n");
    // Only an article approved for air enters a bulletin.
    let reply = call(
        "POST",
        &format!("{url}/api/articles/{article}/approve"),
        &token,
        None,
        "text/plain",
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let path = format!("{url}/api/bulletins/2021-07-29/sang");
    let reply = call(
        "PUT",
        &path,
        &token,
        Some(json!({ "items": [article] }).to_string().as_bytes()),
        "application/json",
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let reply = call("POST", &format!("{path}/build"), &token, None, "text/plain");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["status"], "built", "{}", reply.json());

    let sent = vendor.vendors.texts();
    assert!(
        sent.iter().any(|t| t.contains("xin kính chào"))
            && sent.iter().any(|t| t.contains("kết thúc"))
            && !sent.iter().any(|t| t.contains("thông xe")),
        "only the greeting and sign-off reach the greeting voice: {sent:?}"
    );
    assert_eq!(used_today(url, &token), chars(&sent));
    server.stop();
}
