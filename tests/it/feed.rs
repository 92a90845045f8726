//! Delivery formats and the podcast feed through the real service: the
//! server in this process on 127.0.0.1:0, the real SQLite store and the real
//! espeak-ng. A bulletin built with the `mp3` output is downloaded as MP3
//! (the delivered file), as Ogg Opus (encoded on request) and as WAV; both
//! compressed forms decode to the WAV's length and loudness. An article's
//! render downloads as MP3 with its Vietnamese title in the ID3 tag. The
//! feed validates with the `rss` crate's validator, its enclosure is
//! reachable with the length it states, it needs a read token until the
//! station makes it public, and it outlives the drop folder's files.

use std::path::Path;
use std::time::{Duration, Instant};

use bantin::store::{Scope, Store};
use rss::validation::Validate;
use serde_json::{Value, json};

use crate::util::{Reply, request, start_configured as start, upload_text as upload};

const ARTICLES: [&str; 2] = [
    "Lúa mùa tốt\n\nNăm nay, lúa mùa ở Hưng Yên phát triển tốt trên 30 nghìn ha.",
    "Giao thông\n\nCầu Hưng Hà thông xe, rút ngắn đường đi tới Thái Bình 15 km.",
];

const STATION: &str = "Đài truyền thanh thành phố Hưng Yên";

fn toml(drop: &Path, public: bool) -> String {
    format!(
        r#"station = "{STATION}"
[bulletin]
station = "{STATION}"
drop_folder = "{}"
catch_up_minutes = 0
retry_attempts = 1
sidecars = ["script_json", "manifest", "mp3"]
greeting = "{{station}} xin kính chào quý vị và các bạn."
sign_off = "Bản tin {{slot}} đến đây là kết thúc."
[bulletin.feed]
name = "hung-yen"
public = {public}
image = "https://truyenthanh.example.vn/logo.png"
email = "bantin@truyenthanh.example.vn"
[bulletin.slots.sang]
label = "sáng"
schedule = "0 3 1 1 *"
target_minutes = 1
"#,
        drop.display()
    )
}

fn get(url: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
    request("GET", url, token, headers, None)
}

fn json_call(method: &str, url: &str, token: &str, body: Value) -> Value {
    let bytes = serde_json::to_vec(&body).unwrap();
    let reply = request(
        method,
        url,
        Some(token),
        &[("Content-Type", "application/json")],
        Some(&bytes),
    );
    assert!(reply.status < 300, "{method} {url}: {}", reply.status);
    reply.json()
}

/// Integrated loudness (LUFS) of mono samples.
fn loudness(rate: u32, samples: &[f32]) -> f64 {
    let mut meter = ebur128::EbuR128::new(1, rate, ebur128::Mode::I).unwrap();
    meter.add_frames_f32(samples).unwrap();
    meter.loudness_global().unwrap()
}

fn seconds(rate: u32, samples: &[f32]) -> f64 {
    samples.len() as f64 / f64::from(rate)
}

/// The attachment's file name, which must be plain ASCII.
fn attachment_name(reply: &Reply) -> String {
    let value = reply.header("content-disposition").unwrap();
    let name = value
        .strip_prefix("attachment; filename=\"")
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{value}"));
    assert!(
        name.is_ascii() && !name.contains(['/', '\\', '"']),
        "{name}"
    );
    name.to_string()
}

#[test]
fn bulletins_download_as_mp3_and_opus_and_the_feed_validates_with_reachable_enclosures() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    let server = start(dir.path(), &toml(&drop, false));
    let url = server.url.clone();
    // An approver: only approved articles enter a bulletin.
    let (_, token) = Store::open(dir.path())
        .unwrap()
        .add_token_for("approver", Scope::Approver, "Trần Thị B")
        .unwrap();
    let token = token.as_str();
    let ids: Vec<i64> = ARTICLES
        .iter()
        .map(|a| {
            let id = upload(&url, token, a);
            let approval = json_call(
                "POST",
                &format!("{url}/api/articles/{id}/approve"),
                token,
                json!({}),
            );
            assert_eq!(approval["status"], "approved", "{approval}");
            id
        })
        .collect();
    let date = "2026-12-06";
    let bulletin = format!("{url}/api/bulletins/{date}/sang");
    json_call("PUT", &bulletin, token, json!({ "items": ids }));
    let run = json_call("POST", &format!("{bulletin}/build"), token, json!({}));
    assert_eq!(run["status"], "built", "{run}");

    // The WAV, and the MP3 the station delivers, byte for byte.
    let wav = get(&format!("{bulletin}/audio"), Some(token), &[]);
    assert_eq!(wav.status, 200);
    assert_eq!(wav.header("content-type"), Some("audio/wav"));
    let pcm = bantin::audio::wav::decode(&wav.body).unwrap();
    let (wav_seconds, wav_lufs) = (
        seconds(pcm.sample_rate_hz, &pcm.samples),
        loudness(pcm.sample_rate_hz, &pcm.samples),
    );
    let mp3 = get(&format!("{bulletin}/audio?format=mp3"), Some(token), &[]);
    assert_eq!(mp3.status, 200);
    assert_eq!(mp3.header("content-type"), Some("audio/mpeg"));
    assert_eq!(
        attachment_name(&mp3),
        "BANTIN_2026-12-06_sang.mp3",
        "the station's pattern with .mp3"
    );
    assert_eq!(
        mp3.body,
        std::fs::read(drop.join("BANTIN_2026-12-06_sang.mp3")).unwrap()
    );
    let decoded = bantin::tts::mp3::decode(&mp3.body).unwrap();
    let mp3_seconds = seconds(decoded.sample_rate_hz, &decoded.samples);
    // One frame, plus the encoder's delay and padding a player trims.
    assert!(
        (mp3_seconds - wav_seconds).abs() <= 3.0 * 1152.0 / 44_100.0,
        "{mp3_seconds} s vs {wav_seconds} s"
    );
    let mp3_lufs = loudness(decoded.sample_rate_hz, &decoded.samples);
    assert!(
        (mp3_lufs - wav_lufs).abs() <= 0.5,
        "{mp3_lufs} vs {wav_lufs}"
    );
    let tag = id3::Tag::read_from2(std::io::Cursor::new(&mp3.body)).unwrap();
    use id3::TagLike;
    assert!(tag.title().unwrap().contains("Bản tin sáng"), "{tag:?}");
    assert_eq!(tag.artist(), Some(STATION));

    // Opus is not delivered here: asked for by Accept, it is encoded from
    // the WAV, and a second request answers from the same copy.
    let opus = get(
        &format!("{bulletin}/audio"),
        Some(token),
        &[("Accept", "audio/ogg")],
    );
    assert_eq!(opus.status, 200);
    assert_eq!(opus.header("content-type"), Some("audio/ogg; codecs=opus"));
    assert_eq!(opus.header("vary"), Some("accept"));
    assert!(attachment_name(&opus).ends_with(".opus"));
    assert!(!drop.join("BANTIN_2026-12-06_sang.opus").exists());
    let read_back = bantin::audio::opus::decode(&opus.body).unwrap();
    let opus_seconds = seconds(read_back.pcm.sample_rate_hz, &read_back.pcm.samples);
    // One 20 ms frame.
    assert!(
        (opus_seconds - wav_seconds).abs() <= 0.02,
        "{opus_seconds} s vs {wav_seconds} s"
    );
    let opus_lufs = loudness(read_back.pcm.sample_rate_hz, &read_back.pcm.samples);
    assert!(
        (opus_lufs - wav_lufs).abs() <= 0.5,
        "{opus_lufs} vs {wav_lufs}"
    );
    assert!(read_back.comment("TITLE").unwrap().contains("Bản tin sáng"));
    let etag = opus.header("etag").unwrap().to_string();
    let again = get(
        &format!("{bulletin}/audio?format=opus"),
        Some(token),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    let part = get(
        &format!("{bulletin}/audio?format=opus"),
        Some(token),
        &[("Range", "bytes=0-99")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, opus.body[..100]);
    get(&format!("{bulletin}/audio?format=flac"), Some(token), &[])
        .assert_error(400, "an unknown format");

    // An article's render as MP3, tagged with its Vietnamese title.
    let job = json_call(
        "POST",
        &format!("{url}/api/articles/{}/render", ids[0]),
        token,
        json!({}),
    );
    let job_id = job["job"]["id"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while get(&format!("{url}/api/jobs/{job_id}"), Some(token), &[]).json()["state"] != "done" {
        assert!(Instant::now() < deadline, "the render did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
    let article_mp3 = get(
        &format!("{url}/api/articles/{}/audio", ids[0]),
        Some(token),
        &[("Accept", "audio/mpeg, audio/wav;q=0.5")],
    );
    assert_eq!(article_mp3.status, 200);
    assert_eq!(article_mp3.header("content-type"), Some("audio/mpeg"));
    assert!(attachment_name(&article_mp3).ends_with(".mp3"));
    let tag = id3::Tag::read_from2(std::io::Cursor::new(&article_mp3.body)).unwrap();
    assert_eq!(tag.title(), Some("Lúa mùa tốt"));
    let article_wav = get(
        &format!("{url}/api/jobs/{job_id}/audio?format=wav"),
        Some(token),
        &[],
    );
    let article_pcm = bantin::audio::wav::decode(&article_wav.body).unwrap();
    let article_decoded = bantin::tts::mp3::decode(&article_mp3.body).unwrap();
    assert!(
        (loudness(article_decoded.sample_rate_hz, &article_decoded.samples)
            - loudness(article_pcm.sample_rate_hz, &article_pcm.samples))
        .abs()
            <= 0.5
    );

    // The feed: a read token is needed while it is not public.
    let feed_url = format!("{url}/feeds/hung-yen/bulletins.xml");
    get(&feed_url, None, &[]).assert_error(401, "a private feed without a token");
    get(
        &format!("{url}/feeds/other/bulletins.xml"),
        Some(token),
        &[],
    )
    .assert_error(404, "a feed of another name");
    let feed = get(&feed_url, Some(token), &[]);
    assert_eq!(feed.status, 200);
    assert_eq!(
        feed.header("content-type"),
        Some("application/rss+xml; charset=utf-8")
    );
    let channel = rss::Channel::read_from(&feed.body[..]).unwrap();
    channel.validate().unwrap();
    assert_eq!(channel.title(), format!("Bản tin {STATION}"));
    assert_eq!(channel.language(), Some("vi"));
    let itunes = channel.itunes_ext().unwrap();
    assert_eq!(itunes.author(), Some(STATION));
    assert_eq!(itunes.categories()[0].text(), "News");
    assert_eq!(
        itunes.image(),
        Some("https://truyenthanh.example.vn/logo.png")
    );
    assert_eq!(
        itunes.owner().and_then(|o| o.email()),
        Some("bantin@truyenthanh.example.vn")
    );
    assert_eq!(
        channel.image().map(|i| i.url()),
        Some("https://truyenthanh.example.vn/logo.png")
    );
    assert_eq!(channel.items().len(), 1);
    let item = &channel.items()[0];
    assert!(item.title().unwrap().contains("Bản tin sáng"));
    let description = item.description().unwrap();
    assert!(
        description.contains("xin kính chào quý vị và các bạn"),
        "{description}"
    );
    // Delivered just now, told in the station's time zone (UTC+7).
    let published = item.pub_date().unwrap();
    assert!(published.ends_with("+0700"), "{published}");
    let duration = item.itunes_ext().unwrap().duration().unwrap();
    let (m, s) = duration
        .strip_prefix("00:")
        .unwrap()
        .split_once(':')
        .unwrap();
    let stated = f64::from(m.parse::<u32>().unwrap() * 60 + s.parse::<u32>().unwrap());
    assert!(
        (stated - wav_seconds).abs() <= 0.5,
        "{duration} vs {wav_seconds}"
    );
    let enclosure = item.enclosure().unwrap();
    assert_eq!(enclosure.mime_type(), "audio/mpeg");
    assert_eq!(
        enclosure.url(),
        format!("{url}/feeds/hung-yen/audio/{date}/sang.mp3")
    );
    get(enclosure.url(), None, &[]).assert_error(401, "a private enclosure");
    let audio = get(enclosure.url(), Some(token), &[]);
    assert_eq!(audio.status, 200);
    assert_eq!(audio.header("content-type"), Some("audio/mpeg"));
    assert_eq!(enclosure.length(), audio.body.len().to_string());
    assert_eq!(audio.body, mp3.body);
    get(
        &format!("{url}/feeds/hung-yen/audio/{date}/toi.mp3"),
        Some(token),
        &[],
    )
    .assert_error(404, "a slot the station has not");
    server.stop();

    // The feed keeps its own copies: a playout system that takes the files
    // out of the drop folder does not empty it.
    let kept = dir.path().join("feed/hung-yen");
    assert_eq!(
        crate::util::names_in(&kept),
        ["json", "manifest.json", "mp3"].map(|s| format!("BANTIN_2026-12-06_sang.{s}"))
    );
    std::fs::remove_dir_all(&drop).unwrap();

    // The station makes the feed public: no token for the feed or its audio.
    let server = start(dir.path(), &toml(&drop, true));
    let url = server.url.clone();
    let feed = get(&format!("{url}/feeds/hung-yen/bulletins.xml"), None, &[]);
    assert_eq!(feed.status, 200);
    let channel = rss::Channel::read_from(&feed.body[..]).unwrap();
    channel.validate().unwrap();
    let enclosure = channel.items()[0].enclosure().unwrap();
    let head = request("HEAD", enclosure.url(), None, &[], None);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(enclosure.length()),
        "the length the feed states"
    );
    let audio = get(enclosure.url(), None, &[]);
    assert_eq!(audio.body.len().to_string(), enclosure.length());
    assert_eq!(audio.body, mp3.body);
    // The rest of the API still wants a token.
    get(&format!("{url}/api/bulletins/{date}/sang/audio"), None, &[])
        .assert_error(401, "the API without a token");
    server.stop();
}
