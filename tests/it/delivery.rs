//! Delivery formats end to end through the CLI with the real espeak-ng: an
//! article rendered to MP3 decodes again to the WAV's length and loudness,
//! with its tags in UTF-8, and the station's `[mp3]` settings are followed.

use std::path::Path;

use crate::util::{bantin, example_article};

/// Integrated loudness (LUFS) of mono samples.
fn loudness(rate: u32, samples: &[f32]) -> f64 {
    let mut meter = ebur128::EbuR128::new(1, rate, ebur128::Mode::I).unwrap();
    meter.add_frames_f32(samples).unwrap();
    meter.loudness_global().unwrap()
}

fn wav_samples(path: &Path) -> (u32, Vec<f32>) {
    let reader = hound::WavReader::open(path).unwrap();
    let rate = reader.spec().sample_rate;
    let samples = reader
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    (rate, samples)
}

/// The channel mode of the first MPEG audio frame after the ID3 tag.
fn first_frame_is_mono(mp3: &[u8]) -> bool {
    let tag_len = 10
        + mp3[6..10]
            .iter()
            .fold(0usize, |n, &b| (n << 7) | usize::from(b & 0x7f));
    let frame = &mp3[tag_len..];
    assert_eq!((frame[0], frame[1] & 0xE0), (0xFF, 0xE0), "a frame sync");
    frame[3] >> 6 == 0b11
}

fn render(dir: &Path, config: Option<&str>, output: &str) -> std::process::Output {
    let mut command = bantin();
    command.env("BANTIN_CACHE", dir.join("cache"));
    if let Some(text) = config {
        let path = dir.join("bantin.toml");
        std::fs::write(&path, text).unwrap();
        command.arg("--config").arg(path);
    }
    command
        .arg("render")
        .arg(example_article())
        .arg("-o")
        .arg(dir.join(output))
        .output()
        .unwrap()
}

#[test]
fn an_mp3_render_has_the_wav_length_loudness_and_utf8_tags() {
    let dir = tempfile::tempdir().unwrap();
    let config = "station = \"Đài truyền thanh thành phố\"\n";
    assert!(
        render(dir.path(), Some(config), "item.wav")
            .status
            .success()
    );
    let out = render(dir.path(), Some(config), "item.mp3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mp3 = std::fs::read(dir.path().join("item.mp3")).unwrap();
    let (wav_rate, wav) = wav_samples(&dir.path().join("item.wav"));
    let decoded = bantin::tts::mp3::decode(&mp3).unwrap();
    assert_eq!(decoded.sample_rate_hz, 44_100, "the default [mp3] rate");
    assert!(first_frame_is_mono(&mp3), "the default [mp3] is mono");

    let wav_seconds = wav.len() as f64 / f64::from(wav_rate);
    let mp3_seconds = decoded.samples.len() as f64 / 44_100.0;
    // Within one frame (1152 samples) plus the encoder's delay and padding,
    // which a player trims with the Info frame.
    let tolerance = 3.0 * 1152.0 / 44_100.0;
    assert!(
        (mp3_seconds - wav_seconds).abs() <= tolerance,
        "MP3 {mp3_seconds:.3} s, WAV {wav_seconds:.3} s"
    );
    let (wav_lufs, mp3_lufs) = (loudness(wav_rate, &wav), loudness(44_100, &decoded.samples));
    assert!(
        (wav_lufs - mp3_lufs).abs() <= 0.5,
        "WAV {wav_lufs:.2} LUFS, MP3 {mp3_lufs:.2} LUFS"
    );
    // 64 kbit/s: 8 kB a second, give or take the tag and a frame.
    let expected = mp3_seconds * 8_000.0;
    assert!(
        (mp3.len() as f64 - expected).abs() < 4_000.0,
        "{} bytes for {mp3_seconds:.1} s",
        mp3.len()
    );

    let tag = id3::Tag::read_from2(std::io::Cursor::new(&mp3)).unwrap();
    use id3::TagLike;
    assert_eq!(tag.artist(), Some("Đài truyền thanh thành phố"));
    let title = tag.title().unwrap();
    assert!(title.starts_with("Sơ kết"), "{title}");
}

#[test]
fn the_station_mp3_settings_are_followed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let stereo = "[mp3]\nbit_rate_kbps = 128\nchannels = \"stereo\"\nsample_rate_hz = 48000\n";
    let out = render(dir.path(), Some(stereo), "item.mp3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mp3 = std::fs::read(dir.path().join("item.mp3")).unwrap();
    assert!(!first_frame_is_mono(&mp3));
    let decoded = bantin::tts::mp3::decode(&mp3).unwrap();
    assert_eq!(decoded.sample_rate_hz, 48_000);
    let seconds = decoded.samples.len() as f64 / 48_000.0;
    assert!((mp3.len() as f64 - seconds * 16_000.0).abs() < 6_000.0);

    let bad = "[mp3]\nbit_rate_kbps = 100\nsample_rate_hz = 96000\n";
    let out = render(dir.path(), Some(bad), "bad.mp3");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mp3.bit_rate_kbps 100"), "{stderr}");
    assert!(stderr.contains("mp3.sample_rate_hz 96000"), "{stderr}");
    assert!(!dir.path().join("bad.mp3").exists());
}

/// Tag and value of each element, in order.
type Fields = Vec<(String, String)>;

/// The values of an RDXML file as Rivendell's `rdimport --xml` takes them:
/// line by line, the cart's fields, then the first `<cut>` of the
/// `<cutList>` (each element on a line of its own, values XML-escaped).
fn rdimport_fields(xml: &str) -> (Fields, Fields) {
    let lines: Vec<&str> = xml.lines().map(str::trim).collect();
    let field = |line: &str| -> Option<(String, String)> {
        let rest = line.strip_prefix('<')?;
        let (tag, rest) = rest.split_once('>')?;
        let value = rest.strip_suffix(&format!("</{tag}>"))?;
        let value = quick_xml::escape::unescape(value).ok()?.into_owned();
        Some((tag.to_string(), value))
    };
    let cart_at = lines.iter().position(|l| *l == "<cart>").expect("<cart>");
    let list_at = lines
        .iter()
        .position(|l| *l == "<cutList>")
        .expect("<cutList>");
    let cut_at = lines.iter().position(|l| *l == "<cut>").expect("<cut>");
    let cut_end = lines.iter().position(|l| *l == "</cut>").expect("</cut>");
    let cart = lines[cart_at + 1..list_at]
        .iter()
        .filter_map(|l| field(l))
        .collect();
    let cut = lines[cut_at + 1..cut_end]
        .iter()
        .filter_map(|l| field(l))
        .collect();
    (cart, cut)
}

fn value<'a>(fields: &'a [(String, String)], tag: &str) -> &'a str {
    fields
        .iter()
        .find(|(t, _)| t == tag)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no <{tag}> in {fields:?}"))
}

#[test]
fn a_bulletin_delivers_an_rdxml_sidecar_rdimport_reads() {
    use crate::bulletin::{ARTICLES, bulletin_command, station};
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "sidecars = [\"script_json\", \"script_txt\", \"manifest\", \"mp3\"]",
        // The example's feed reads the MP3, the manifest and the script.
        "sidecars = [\"script_json\", \"manifest\", \"rdxml\", \"mp3\"]",
    );
    std::fs::write(&config, text).unwrap();
    let out = bulletin_command(&config, &ARTICLES).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drop = dir.path().join("drop");
    assert_eq!(
        crate::util::names_in(&drop),
        [
            "BANTIN_2021-07-29_sang.json",
            "BANTIN_2021-07-29_sang.manifest.json",
            "BANTIN_2021-07-29_sang.mp3",
            "BANTIN_2021-07-29_sang.wav",
            "BANTIN_2021-07-29_sang.xml"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(drop.join("BANTIN_2021-07-29_sang.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["files"]["rdxml"], "BANTIN_2021-07-29_sang.xml",
        "{}",
        manifest["files"]
    );

    let xml = std::fs::read_to_string(drop.join("BANTIN_2021-07-29_sang.xml")).unwrap();
    // Well-formed XML…
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            _ => continue,
        }
    }
    // …that Rivendell's line reader takes in full.
    let (cart, cut) = rdimport_fields(&xml);
    assert_eq!(
        value(&cart, "artist"),
        "Đài truyền thanh thành phố Hưng Yên"
    );
    assert!(value(&cart, "title").contains("Bản tin"), "{cart:?}");
    assert_eq!(value(&cart, "album"), "Bản tin sáng");
    assert_eq!(value(&cart, "year"), "2021");
    assert_eq!(
        value(&cut, "length"),
        manifest["total_ms"].as_u64().unwrap().to_string()
    );
    assert_eq!(value(&cut, "startDatetime"), "2021-07-29T00:00:00");
    assert_eq!(value(&cut, "endDatetime"), "2021-07-29T23:59:59");
    let outcue = value(&cut, "outcue");
    assert!(
        !outcue.is_empty() && outcue.chars().count() <= 64,
        "{outcue}"
    );
    assert_eq!(value(&cut, "sampleRate"), "48000");

    // The example station asks for an AES46 cart chunk in the WAV.
    let wav = std::fs::read(drop.join("BANTIN_2021-07-29_sang.wav")).unwrap();
    let cart = aes46_fields(&wav).expect("a cart chunk");
    assert_eq!(cart["Version"], "0101");
    assert_eq!(cart["Artist"], "Dai truyen thanh thanh pho Hung Yen");
    assert_eq!(cart["CutID"], "BANTIN_2021-07-29_sang");
    assert_eq!(cart["Category"], "NEWS");
    assert_eq!(
        (cart["StartDate"].as_str(), cart["EndDate"].as_str()),
        ("2021-07-29", "2021-07-29")
    );
    assert_eq!(cart["EndTime"], "23:59:59");
    assert_eq!(cart["ProducerAppID"], "bantin");
    assert_eq!(
        cart["Title"], "Dai truyen thanh thanh pho Hung Yen - Ban tin sang 29/07/2021",
        "folded to ASCII, the dash kept as a dash"
    );
    let samples = hound::WavReader::open(drop.join("BANTIN_2021-07-29_sang.wav"))
        .unwrap()
        .len();
    assert_eq!(cart["AUDe"], samples.to_string());
}

/// The fields of a WAV file's `cart` chunk as AES46-2002 lays them out: a
/// version and fourteen ASCII fields padded with NUL, the level reference,
/// eight (usage, value) timers, 276 reserved bytes and the URL.
fn aes46_fields(wav: &[u8]) -> Option<std::collections::HashMap<String, String>> {
    let mut pos = 12;
    let body = loop {
        let size = u32::from_le_bytes(wav.get(pos + 4..pos + 8)?.try_into().ok()?) as usize;
        if &wav[pos..pos + 4] == b"cart" {
            break &wav[pos + 8..pos + 8 + size];
        }
        pos += 8 + size + (size & 1);
    };
    let names = [
        ("Version", 4),
        ("Title", 64),
        ("Artist", 64),
        ("CutID", 64),
        ("ClientID", 64),
        ("Category", 64),
        ("Classification", 64),
        ("OutCue", 64),
        ("StartDate", 10),
        ("StartTime", 8),
        ("EndDate", 10),
        ("EndTime", 8),
        ("ProducerAppID", 64),
        ("ProducerAppVersion", 64),
        ("UserDef", 64),
    ];
    let mut fields = std::collections::HashMap::new();
    let mut at = 0;
    for (name, width) in names {
        let field = &body[at..at + width];
        assert!(field.is_ascii(), "{name} is ASCII");
        let end = field.iter().position(|&b| b == 0).unwrap_or(width);
        fields.insert(
            name.to_string(),
            String::from_utf8_lossy(&field[..end]).into(),
        );
        at += width;
    }
    at += 4; // dwLevelReference
    for _ in 0..8 {
        let usage = String::from_utf8_lossy(&body[at..at + 4]).into_owned();
        let value = u32::from_le_bytes(body[at + 4..at + 8].try_into().unwrap());
        if !usage.starts_with('\0') {
            fields.insert(usage, value.to_string());
        }
        at += 8;
    }
    assert_eq!(at + 276 + 1024, 2048, "the fixed part is 2,048 bytes");
    Some(fields)
}

#[test]
fn an_unknown_sidecar_is_refused_naming_the_known_ones() {
    use crate::bulletin::{ARTICLES, bulletin_command, station};
    let dir = tempfile::tempdir().unwrap();
    let config = station(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "sidecars = [\"script_json\", \"script_txt\", \"manifest\", \"mp3\"]",
        "sidecars = [\"rdxml\", \"mairlist\"]",
    );
    std::fs::write(&config, text).unwrap();
    let out = bulletin_command(&config, &ARTICLES).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown sidecar \"mairlist\""), "{stderr}");
    assert!(stderr.contains("rdxml"), "{stderr}");
    assert!(
        std::fs::read_dir(dir.path().join("drop"))
            .unwrap()
            .next()
            .is_none()
    );
}
