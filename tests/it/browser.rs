//! The staff web page in a real headless Chromium (Debian `chromium` +
//! `chromium-driver`), driven over WebDriver against the real `bantin serve`
//! binary with a temporary data directory and the real espeak-ng: sign in,
//! paste the example article, see and correct a reading, render and find the
//! player (which says so once the article is edited after the render) and
//! save the render as MP3,
//! approve for a bulletin and open it; markup in an article stays
//! text; the page works at 360 px. Screenshots go to
//! `target/screenshots/` for people to look at.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::util::{Running, bantin, example_article, repo, serve_command, spawn_serve};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshots() -> PathBuf {
    let dir = repo().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn start_chromedriver() -> (Running, String) {
    assert!(
        Path::new(CHROMEDRIVER).exists(),
        "{CHROMEDRIVER} is missing: install the Debian packages chromium and chromium-driver (scripts/ensure-deps does)"
    );
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{url}/status")).call().is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Running(child), url)
}

async fn browser(driver: &str, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

/// Waits until `css` matches an element whose text contains `text`.
async fn wait_text(client: &Client, css: &str, text: &str) -> fantoccini::elements::Element {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(elements) = client.find_all(Locator::Css(css)).await {
            for element in elements {
                if element.text().await.is_ok_and(|t| t.contains(text)) {
                    return element;
                }
            }
        }
        if Instant::now() > deadline {
            let flash = match client.find(Locator::Id("flash")).await {
                Ok(f) => f.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            panic!("no {css:?} containing {text:?} (page says: {flash:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn set_value(client: &Client, id: &str, value: &str) {
    client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await
        .unwrap();
}

async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn screenshot(client: &Client, name: &str) {
    client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .unwrap();
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    std::fs::write(screenshots().join(name), png).unwrap();
}

async fn assert_no_dialog(client: &Client) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alert = client.get_alert_text().await;
    assert!(alert.is_err(), "a dialog opened: {alert:?}");
}

/// Opens the page and submits `token` on the sign-in form.
async fn submit_token(client: &Client, base: &str, token: &str) {
    client.goto(base).await.unwrap();
    wait_text(client, "h1", "Đăng nhập").await;
    client
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    client
        .find(Locator::Css("#signin-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    submit_token(client, base, token).await;
    wait_text(client, "h1", "Bài viết").await;
}

async fn paste_article(client: &Client, base: &str, text: &str) {
    client.goto(&format!("{base}/#/new")).await.unwrap();
    wait_text(client, "h1", "Thêm bài").await;
    set_value(client, "article-text", text).await;
    click(client, "article-submit").await;
    wait_text(client, "#review", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_page_end_to_end_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_out = bantin()
        .args(["token", "add", "bien-tap", "--scope", "editor", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        token_out.status.success(),
        "{}",
        String::from_utf8_lossy(&token_out.stderr)
    );
    let token = String::from_utf8(token_out.stdout)
        .unwrap()
        .trim()
        .to_string();

    let (_server, base) = spawn_serve(serve_command(&data));
    let (_driver, driver_url) = start_chromedriver();
    let client = browser(&driver_url, &dir.path().join("profile")).await;
    let result = run_staff_flow(&client, &base, &token).await;
    let _ = client.close().await;
    result.unwrap();
}

async fn run_staff_flow(client: &Client, base: &str, token: &str) -> Result<(), String> {
    // A wrong token is refused with a Vietnamese message.
    submit_token(client, base, "sai-ma").await;
    wait_text(client, "#flash", "Mã đăng nhập không đúng").await;

    sign_in(client, base, token).await;

    // Paste the example article; BTV is marked as read "Ban Thường vụ".
    let article = std::fs::read_to_string(example_article()).unwrap();
    paste_article(client, base, &article).await;
    let btv = wait_text(client, ".reading[data-original=\"BTV\"]", "Ban Thường vụ").await;
    let title = btv.attr("title").await.unwrap().unwrap_or_default();
    assert!(
        title.contains("BTV → Ban Thường vụ") && title.contains("A-LEX"),
        "{title}"
    );
    wait_text(client, "#dropped", "Toàn cảnh Hội nghị").await;
    wait_text(client, "#dropped s", "Copyright").await;

    // Correct one reading: it becomes a station entry and applies at once.
    wait_text(client, ".reading[data-original=\"HCM\"]", "Hồ Chí Minh")
        .await
        .click()
        .await
        .unwrap();
    set_value(client, "correction-spoken", "Chủ tịch Hồ Chí Minh").await;
    click(client, "correction-save").await;
    let corrected = wait_text(
        client,
        ".reading[data-original=\"HCM\"]",
        "Chủ tịch Hồ Chí Minh",
    )
    .await;
    assert_eq!(
        corrected.attr("data-rule").await.unwrap().as_deref(),
        Some("A-STATION")
    );

    // Voices are narrowed by region; espeak-ng is not billed per character.
    wait_text(client, "#voice-bill", "không tính phí").await;
    let pick = |region: &str| {
        format!(
            "const r = document.getElementById('voice-region'); r.value = '{region}'; r.dispatchEvent(new Event('change')); return document.getElementById('voice').value;"
        )
    };
    // Back to every region, the voice chosen stays chosen.
    for (region, voice) in [
        ("nam", "vi-vn-x-south"),
        ("trung", "vi-vn-x-central"),
        ("", "vi-vn-x-central"),
    ] {
        let picked = client
            .execute(&pick(region), vec![])
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(picked, json!(voice), "region {region:?}");
    }
    client
        .execute(
            "const v = document.getElementById('voice'); v.value = 'vi'; v.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;

    // Render with the default voice and find the player ready.
    click(client, "render").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = client
            .execute("const a = document.getElementById('audio'); return !!a && a.readyState >= 1 && a.duration > 10;", vec![])
            .await
            .map_err(|e| e.to_string())?;
        if ready == json!(true) {
            break;
        }
        if Instant::now() > deadline {
            return Err("the player never became ready".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    screenshot(client, "review.png").await;

    // "Tải MP3" saves the render as MP3: the link the page clicks is caught
    // and what it points to read back (an ID3 tag, then MPEG audio).
    download_is(client, "Tải MP3", ".mp3", "ID3").await?;

    // The article edited after the render: the player says its audio is
    // from the older revision.
    let page = client.current_url().await.map_err(|e| e.to_string())?;
    let id = page
        .fragment()
        .and_then(|f| f.strip_prefix("/article/"))
        .ok_or_else(|| format!("not an article page: {page}"))?
        .to_string();
    let edited = crate::util::request(
        "PUT",
        &format!("{base}/api/articles/{id}"),
        Some(token),
        &[("Content-Type", "text/plain")],
        Some(article.replace("Hưng Yên", "Hải Dương").as_bytes()),
    );
    assert_eq!(edited.status, 201);
    client.refresh().await.map_err(|e| e.to_string())?;
    wait_text(client, "#audio-stale", "bản sửa 1").await;

    // Approve for a bulletin date and open that bulletin.
    set_value(client, "approve-date", "2021-07-29").await;
    set_value(client, "approve-slot", "sang").await;
    click(client, "approve").await;
    wait_text(client, "#bulletin-title", "Bản tin sáng ngày 2021-07-29").await;
    wait_text(client, "#bulletin-items", "Sơ kết công tác Tuyên giáo").await;
    screenshot(client, "bulletin.png").await;

    // Markup inside an article is shown as text and never runs.
    let hostile = "Tin <script>alert(1)</script> thử\n\nĐoạn có \"><img src=x onerror=alert(1)> và <b>chữ đậm</b>.";
    paste_article(client, base, hostile).await;
    wait_text(client, "#article-title", "<script>alert(1)</script>").await;
    // The review shows what is said; the markup's words are there as words.
    wait_text(client, "#review", "onerror").await;
    assert_no_dialog(client).await;
    let injected = client
        .execute(
            "return document.querySelectorAll('#main script, #main img, #main b').length;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        injected,
        json!(0),
        "markup from the article became elements"
    );
    // Parts of the page left out (no dropped lines here) leave no text behind.
    let stray = client
        .execute(
            "return Array.from(document.getElementById('main').childNodes).filter((n) => n.nodeType === 3 && n.textContent.trim() === 'null').length;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(stray, json!(0), "the review page shows a literal null");

    // The list shows each article's render state, length and approvals.
    client
        .goto(&format!("{base}/#/"))
        .await
        .map_err(|e| e.to_string())?;
    wait_text(client, "#articles", "đã đọc").await;
    wait_text(client, "#articles", "2021-07-29 sang").await;
    wait_text(client, "#articles", "2:0").await;

    // Usable at 360 px: nothing wider than the screen.
    client
        .set_window_size(360, 800)
        .await
        .map_err(|e| e.to_string())?;
    client
        .goto(&format!("{base}/#/"))
        .await
        .map_err(|e| e.to_string())?;
    wait_text(client, "#articles", "Sơ kết").await;
    let fits = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(fits, json!(true), "the article list is wider than 360 px");
    screenshot(client, "list-360.png").await;
    Ok(())
}

/// Clicks the download button `label` with the page's link clicks and
/// object URLs caught (the page's CSP lets no script fetch a `blob:`), and
/// checks the file it saves: its name ends in `suffix` and its bytes start
/// with `magic`.
async fn download_is(
    client: &Client,
    label: &str,
    suffix: &str,
    magic: &str,
) -> Result<(), String> {
    client
        .execute(
            "window.savedClick = HTMLAnchorElement.prototype.click; window.saved = [];
             window.savedObjectUrl = URL.createObjectURL; window.blobs = new Map();
             URL.createObjectURL = (blob) => { const url = window.savedObjectUrl(blob); window.blobs.set(url, blob); return url; };
             HTMLAnchorElement.prototype.click = function () { window.saved.push([this.href, this.download]); };",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    client
        .find(Locator::XPath(&format!("//button[text()='{label}']")))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .execute("return window.saved.length;", vec![])
        .await
        .map_err(|e| e.to_string())?
        == json!(0)
    {
        if Instant::now() > deadline {
            return Err(format!("{label} saved nothing"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             HTMLAnchorElement.prototype.click = window.savedClick;
             URL.createObjectURL = window.savedObjectUrl;
             const [href, name] = window.saved[0];
             const blob = window.blobs.get(href);
             if (!blob) { done([name, 'no blob behind ' + href, 0]); return; }
             blob.arrayBuffer().then((b) => {
               const bytes = new Uint8Array(b);
               done([name, String.fromCharCode(...bytes.slice(0, 4)), bytes.length]);
             }, (e) => done([name, String(e), 0]));",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let name = saved[0].as_str().unwrap_or_default();
    let head = saved[1].as_str().unwrap_or_default();
    assert!(name.ends_with(suffix), "{label} saved {saved}");
    assert!(head.starts_with(magic), "{label} saved {saved}");
    assert!(
        saved[2].as_u64().unwrap_or(0) > 10_000,
        "{label} saved {saved}"
    );
    Ok(())
}

/// The webhook view: an editor adds a receiver (its secret shown once),
/// sees it listed with its events in Vietnamese, and removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_added_and_removed_from_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = bantin()
        .args(["token", "add", "bien-tap", "--scope", "editor", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (_server, base) = spawn_serve(serve_command(&data));
    let (_driver, driver_url) = start_chromedriver();
    let client = browser(&driver_url, &dir.path().join("profile")).await;
    let result = async {
        sign_in(&client, &base, &token).await;
        client.goto(&format!("{base}/#/webhooks")).await.unwrap();
        wait_text(&client, "h1", "Báo tin tự động").await;
        wait_text(&client, ".card p", "Chưa có địa chỉ nào").await;
        set_value(&client, "webhook-url", "http://127.0.0.1:9/loa-phuong").await;
        set_value(&client, "webhook-description", "loa phường").await;
        client
            .find(Locator::Css("#webhook-form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let secret = wait_text(&client, "#webhook-secret code", "whsec_").await;
        assert_eq!(secret.text().await.unwrap().trim().len(), 6 + 64);
        let row = wait_text(&client, "#webhooks tbody tr", "loa-phuong").await;
        let text = row.text().await.unwrap();
        assert!(
            text.contains("Đọc xong") && text.contains("Đã giao bản tin"),
            "{text}"
        );
        screenshot(&client, "webhooks-1280.png").await;
        row.find(Locator::Css("button.danger"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_text(&client, ".card p", "Chưa có địa chỉ nào").await;
        assert_no_dialog(&client).await;
    }
    .await;
    let _ = client.close().await;
    result
}
