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
        // Chromium on Linux takes its language from the environment.
        .env("LANGUAGE", "vi")
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
                // The staff's browser speaks Vietnamese: date fields read dd/mm/yyyy.
                "--lang=vi",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": { "intl.accept_languages": "vi-VN,vi" },
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session");
    let language = client
        .execute("return navigator.language;", vec![])
        .await
        .unwrap();
    assert!(
        language.as_str().is_some_and(|l| l.starts_with("vi")),
        "Chromium speaks {language}, not Vietnamese: date fields would read mm/dd/yyyy (install chromium-l10n)"
    );
    client
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
        .args(["token", "create", "duyet", "--scope", "approver"])
        .args(["--person", "Trần Thị B", "--data"])
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
    assert!(title.contains("BTV → Ban Thường vụ"), "{title}");
    // The rule stays in the markup for tests and tools, off the screen.
    let rule = btv.attr("data-rule").await.unwrap().unwrap_or_default();
    assert!(rule.starts_with("A-LEX"), "{rule}");
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

    // The approver approves the edited revision for air, puts it in a
    // bulletin and opens that bulletin.
    wait_text(client, "#approval-status", "Chưa duyệt phát sóng").await;
    click(client, "approve-air").await;
    wait_text(
        client,
        "#approval-status",
        "Đã duyệt phát sóng bản 2: Trần Thị B",
    )
    .await;
    set_value(client, "approve-date", "2021-07-29").await;
    set_value(client, "approve-slot", "sang").await;
    click(client, "approve").await;
    wait_text(
        client,
        "#bulletin-title",
        "Bản tin sáng, Thứ Năm, 29/07/2021",
    )
    .await;
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
    wait_text(client, "#articles", "Bản tin sáng 29/07/2021").await;
    wait_text(client, "#articles", " phút ").await;
    wait_text(client, "#articles", "Đã duyệt").await;

    // Search and filters narrow the list in place.
    let titles = r#"return Array.from(document.querySelectorAll('#articles tbody tr td:first-child a')).map((a) => a.textContent);"#;
    for (id, value, event, shown, count) in [
        (
            "filter-state",
            "approved",
            "change",
            "Sơ kết công tác",
            "1 trong 2 bài",
        ),
        (
            "filter-state",
            "unapproved",
            "change",
            "Tin <script>",
            "1 trong 2 bài",
        ),
        ("filter-state", "", "change", "", "2 bài"),
        (
            "filter-bulletin",
            "none",
            "change",
            "Tin <script>",
            "1 trong 2 bài",
        ),
        (
            "filter-bulletin",
            "2021-07-29 sang",
            "change",
            "Sơ kết công tác",
            "1 trong 2 bài",
        ),
        ("filter-bulletin", "", "change", "", "2 bài"),
        (
            "filter-text",
            "tuyên giáo",
            "input",
            "Sơ kết công tác",
            "1 trong 2 bài",
        ),
        ("filter-text", "", "input", "", "2 bài"),
        ("filter-date", "2000-01-01", "change", "-", "0 trong 2 bài"),
        ("filter-date", "", "change", "", "2 bài"),
    ] {
        client
            .execute(
                "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event(arguments[2]));",
                vec![json!(id), json!(value), json!(event)],
            )
            .await
            .map_err(|e| e.to_string())?;
        wait_text(client, "#article-count", count).await;
        let listed = client
            .execute(titles, vec![])
            .await
            .map_err(|e| e.to_string())?;
        let listed: Vec<String> = serde_json::from_value(listed).unwrap();
        if shown.is_empty() {
            assert_eq!(listed.len(), 2, "{id}={value:?}: {listed:?}");
        } else if shown == "-" {
            assert!(listed.is_empty(), "{id}={value:?}: {listed:?}");
        } else {
            assert!(
                listed.len() == 1 && listed[0].starts_with(shown),
                "{id}={value:?}: {listed:?}"
            );
        }
    }

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

/// The webhook view: the station admin adds a receiver (its secret shown once),
/// sees it listed with its events in Vietnamese, and removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_added_and_removed_from_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = bantin()
        .args(["token", "create", "quan-tri", "--scope", "admin"])
        .args(["--person", "Lê Văn C", "--data"])
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

// ---------- the newsroom's workflow ----------

/// A token made with `bantin token create` for a person.
fn person_token(data: &Path, name: &str, scope: &str, person: &str) -> String {
    let out = bantin()
        .args([
            "token", "create", name, "--scope", scope, "--person", person, "--data",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs axe-core (fetched by scripts/setup-axe) in the page under test
/// only, and fails on a serious or critical violation, naming the rule and
/// the elements. The screen must also show no developer's words: no
/// `null`, `undefined` or `NaN`.
async fn assert_accessible(client: &Client, screen: &str) {
    let words = client
        .execute(
            "return (document.body.innerText.match(/\\b(null|undefined|NaN)\\b/g) || []);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(words, json!([]), "{screen} shows a developer's word");
    let path = repo().join("target/axe/axe.min.js");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run scripts/setup-axe", path.display()));
    client
        .execute(
            &format!("{source}\n;window.axe = axe; return true;"),
            vec![],
        )
        .await
        .unwrap();
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.axe.run(document, { resultTypes: ['violations'] })
               .then((r) => done(r.violations
                 .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                 .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)))
               .catch((e) => done([`axe failed: ${e}`]));",
            vec![],
        )
        .await
        .unwrap();
    let violations: Vec<String> = serde_json::from_value(found).unwrap();
    assert!(violations.is_empty(), "{screen}: {violations:#?}");
}

/// At 360 px the page is no wider than the screen (from its own layout);
/// screenshots of it at 360 and 1280 px go to target/screenshots/.
async fn assert_fits_and_shoot(client: &Client, name: &str, ready: (&str, &str)) {
    for width in [360u32, 1280] {
        client.set_window_size(width, 900).await.unwrap();
        client.refresh().await.unwrap();
        wait_text(client, ready.0, ready.1).await;
        if width == 360 {
            let widths = client
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth];",
                    vec![],
                )
                .await
                .unwrap();
            let (page, screen) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
            assert!(
                page <= screen,
                "{name} scrolls sideways at 360 px: {page} > {screen}"
            );
            assert_accessible(client, &format!("{name} at 360 px")).await;
        }
        screenshot(client, &format!("{name}-{width}.png")).await;
    }
}

/// The approver opens the article (which says `before`), approves it for
/// air and sees revision `revision` approved in their name.
async fn approve_on_page(client: &Client, base: &str, hash: &str, before: &str, revision: u32) {
    open(client, base, hash, ("#approval-status", before)).await;
    click(client, "approve-air").await;
    let approved = format!("Đã duyệt phát sóng bản {revision}: Trần Thị B");
    wait_text(client, "#approval-status", &approved).await;
}

async fn sign_out(client: &Client) {
    click(client, "sign-out").await;
    wait_text(client, "h1", "Đăng nhập").await;
}

async fn open(client: &Client, base: &str, hash: &str, ready: (&str, &str)) {
    client.goto(&format!("{base}/{hash}")).await.unwrap();
    wait_text(client, ready.0, ready.1).await;
}

async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

async fn key(client: &Client, key: &str) {
    client
        .execute(
            "(document.activeElement || document.body).dispatchEvent(new KeyboardEvent('keydown', { key: arguments[0], bubbles: true }));",
            vec![json!(key)],
        )
        .await
        .unwrap();
}

const ROUND_FIGURE: &str = "Hỗ trợ hộ nghèo\n\nSáng nay, 120 hộ dân phường Hiến Nam nhận quà hỗ trợ của thành phố.\n\nUBND phường cảm ơn các nhà hảo tâm.\n";

/// An editor's item approved by an approver enters the bulletin; an edit
/// after approval blocks delivery until it is approved again; the audit
/// trail shows each step with the right person; a read token sees but
/// cannot change. Every screen passes axe-core; list, review and bulletin
/// fit 360 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newsroom_workflow_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let config = dir.path().join("bantin.toml");
    std::fs::write(
        &config,
        format!(
            "station = \"Đài truyền thanh thành phố Hưng Yên\"\n[bulletin]\n\
             station = \"Đài truyền thanh thành phố Hưng Yên\"\ndrop_folder = \"{}\"\n\
             catch_up_minutes = 0\nretry_attempts = 1\ngreeting = \"Xin chào.\"\nsign_off = \"Hết.\"\n\
             [bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 1 1 *\"\ntarget_minutes = 1\n\
             [bulletin.slots.toi]\nlabel = \"tối\"\nschedule = \"0 18 1 1 *\"\ntarget_minutes = 1\n",
            drop.display()
        ),
    )
    .unwrap();
    let editor = person_token(&data, "bien-tap", "editor", "Nguyễn Văn A");
    let approver = person_token(&data, "duyet", "approver", "Trần Thị B");
    let reader = person_token(&data, "xem", "read", "Phạm Thị D");
    let admin = person_token(&data, "quan-tri", "admin", "Lê Văn C");
    let mut command = serve_command(&data);
    command.arg("--config").arg(&config);
    let (_server, base) = spawn_serve(command);
    let (_driver, driver_url) = start_chromedriver();
    let client = browser(&driver_url, &dir.path().join("profile")).await;
    let tokens = Tokens {
        editor: &editor,
        approver: &approver,
        reader: &reader,
        admin: &admin,
    };
    let result = run_workflow(&client, &base, &tokens, &drop).await;
    let _ = client.close().await;
    result.unwrap();
}

struct Tokens<'a> {
    editor: &'a str,
    approver: &'a str,
    reader: &'a str,
    admin: &'a str,
}

async fn run_workflow(
    client: &Client,
    base: &str,
    t: &Tokens<'_>,
    drop: &Path,
) -> Result<(), String> {
    client.goto(base).await.map_err(|e| e.to_string())?;
    wait_text(client, "h1", "Đăng nhập").await;
    assert_accessible(client, "sign-in").await;

    // The editor prepares the item: it waits for approval.
    sign_in(client, base, t.editor).await;
    wait_text(client, "#who", "Nguyễn Văn A · Biên tập viên").await;
    let hidden = client
        .execute(
            "return document.getElementById('nav-webhooks').hidden;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(hidden, json!(true), "only the admin sees webhooks");
    client
        .goto(&format!("{base}/#/new"))
        .await
        .map_err(|e| e.to_string())?;
    wait_text(client, "h1", "Thêm bài").await;
    assert_accessible(client, "new article").await;
    paste_article(client, base, ROUND_FIGURE).await;
    wait_text(client, "#approval-status", "Chưa duyệt phát sóng").await;
    assert_eq!(
        count(client, "#approve-air").await,
        0,
        "an editor cannot approve"
    );
    let disabled = client
        .execute(
            "return document.getElementById('approve').disabled;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        disabled,
        json!(true),
        "an unapproved item cannot enter a bulletin"
    );
    let page = client.current_url().await.map_err(|e| e.to_string())?;
    let article_hash = format!("#{}", page.fragment().unwrap_or_default());

    // Review shortcuts: J moves to the first reading, S opens its correction;
    // after a render, P plays the sentence alone.
    key(client, "j").await;
    let focused = client
        .execute(
            "return document.activeElement.classList.contains('reading');",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(focused, json!(true), "J focuses a reading");
    let original = client
        .execute("return document.activeElement.dataset.original;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        original,
        json!("120"),
        "J goes to the first reading, the figure"
    );
    key(client, "s").await;
    wait_text(client, ".editor strong", "Sửa cách đọc").await;
    set_value(client, "correction-spoken", "một trăm hai chục").await;
    click(client, "correction-save").await;
    wait_text(
        client,
        ".reading[data-original=\"120\"]",
        "một trăm hai chục",
    )
    .await;
    click(client, "render").await;
    wait_text(client, "#render-status", "đã đọc").await;
    wait_text(client, "#player", "Tải WAV").await;
    assert!(
        count(client, ".play-sentence").await >= 2,
        "a play button on each sentence"
    );
    key(client, "j").await;
    key(client, "p").await;
    let playing = client
        .execute(
            "return document.querySelectorAll('audio.cue-audio').length;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(playing, json!(1), "P plays the sentence alone");
    assert_accessible(client, "review").await;
    assert_fits_and_shoot(client, "review-editor", ("#approval-status", "Chưa duyệt")).await;
    sign_out(client).await;

    // The approver approves it for air.
    sign_in(client, base, t.approver).await;
    approve_on_page(client, base, &article_hash, "Chưa duyệt", 1).await;
    sign_out(client).await;

    // The editor puts it in the morning bulletin and builds it.
    sign_in(client, base, t.editor).await;
    open(
        client,
        base,
        &article_hash,
        ("#approval-status", "Đã duyệt"),
    )
    .await;
    set_value(client, "approve-date", "2021-07-29").await;
    set_value(client, "approve-slot", "sang").await;
    click(client, "approve").await;
    wait_text(
        client,
        "#bulletin-title",
        "Bản tin sáng, Thứ Năm, 29/07/2021",
    )
    .await;
    wait_text(client, "#bulletin-items", "Hỗ trợ hộ nghèo").await;
    wait_text(client, "#bulletin-items .badge", "Đã duyệt").await;
    click(client, "build").await;
    wait_text(client, "#flash", "Đã làm xong bản tin").await;
    wait_text(client, "#runs", "đã làm").await;
    assert_eq!(files_in(drop), 1);

    // An edit after approval: the page shows what changed, the bulletin
    // warns, and delivery is refused.
    open(
        client,
        base,
        &article_hash,
        ("#approval-status", "Đã duyệt"),
    )
    .await;
    wait_text(client, "#edit-text", "").await;
    let loaded = wait_source(client).await;
    set_value(client, "edit-text", &loaded.replace("120 hộ", "150 hộ")).await;
    click(client, "edit-save").await;
    wait_text(client, "#approval-status", "Đã sửa sau khi duyệt").await;
    wait_text(client, "#changes-since-approval .original del", "120").await;
    wait_text(client, "#changes-since-approval .original ins", "150").await;
    wait_text(client, "#changes-since-approval .spoken del", "hai").await;
    wait_text(client, "#changes-since-approval .spoken ins", "năm").await;
    wait_text(client, "#revisions", "Bản 2: Nguyễn Văn A").await;
    set_value(client, "diff-from", "1").await;
    set_value(client, "diff-to", "2").await;
    click(client, "diff-show").await;
    wait_text(client, "#revision-changes .original del", "120").await;
    wait_text(client, "#revision-changes .spoken ins", "năm").await;
    open(
        client,
        base,
        "#/bulletin/2021-07-29/sang",
        ("#bulletin-unapproved", "chưa được duyệt"),
    )
    .await;
    click(client, "build").await;
    wait_text(client, "#flash", "đã sửa sau khi duyệt").await;
    sign_out(client).await;

    // Approved again, it is delivered.
    sign_in(client, base, t.approver).await;
    approve_on_page(client, base, &article_hash, "Đã sửa sau khi duyệt", 2).await;
    open(
        client,
        base,
        "#/bulletin/2021-07-29/sang",
        ("#bulletin-items", "Hỗ trợ hộ nghèo"),
    )
    .await;
    assert_eq!(count(client, "#bulletin-unapproved").await, 0);
    click(client, "build").await;
    wait_text(client, "#flash", "Đã làm xong bản tin").await;
    assert_accessible(client, "bulletin").await;
    assert_fits_and_shoot(client, "bulletin", ("#bulletin-items", "Hỗ trợ hộ nghèo")).await;

    // The audit trail of the article, each step with its person.
    let article_id = article_hash.rsplit('/').next().unwrap().to_string();
    open(
        client,
        base,
        &format!("#/audit?article={article_id}"),
        ("#audit", "Tạo bài"),
    )
    .await;
    let rows = client
        .execute(
            "return Array.from(document.querySelectorAll('#audit tbody tr')).map((r) => r.querySelector('.action').textContent + ' — ' + r.querySelector('.person').textContent).reverse();",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        rows,
        json!([
            "Tạo bài (bản 1) — Nguyễn Văn A",
            "Đọc thành âm thanh (bản 1) — Nguyễn Văn A",
            "Duyệt phát sóng (bản 1) — Trần Thị B",
            "Sửa bài (bản 2) — Nguyễn Văn A",
            "Duyệt phát sóng (bản 2) — Trần Thị B",
        ])
    );
    assert_accessible(client, "audit").await;
    assert_fits_and_shoot(client, "audit", ("#audit", "Tạo bài")).await;
    open(client, base, "#/audit", ("#audit", "Giao bản tin")).await;
    wait_text(client, "#audit tr.lexicon_added", "Nguyễn Văn A").await;
    wait_text(client, "#audit tr.lexicon_added", "120 → một trăm hai chục").await;
    set_value(client, "audit-person", "Trần Thị B").await;
    client
        .find(Locator::Css("#audit-form button[type=submit]"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    // The table of the filtered trail.
    wait_text(client, "#audit[data-query*='person=']", "").await;
    let persons = client
        .execute(
            "return [...new Set(Array.from(document.querySelectorAll('#audit .person')).map((p) => p.textContent))];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(persons, json!(["Trần Thị B"]));
    open(client, base, "#/lexicon", ("h1", "Từ điển")).await;
    assert_accessible(client, "lexicon").await;
    open(client, base, "#/bulletins", ("h1", "Bản tin")).await;
    assert_accessible(client, "bulletins").await;
    sign_out(client).await;

    // A read token sees everything and no control that changes anything.
    sign_in(client, base, t.reader).await;
    wait_text(client, "#who", "Phạm Thị D · Chỉ xem").await;
    wait_text(client, "#articles", "Hỗ trợ hộ nghèo").await;
    assert_fits_and_shoot(client, "list", ("#articles", "Hỗ trợ hộ nghèo")).await;
    assert_accessible(client, "list").await;
    open(
        client,
        base,
        &article_hash,
        ("#approval-status", "Đã duyệt"),
    )
    .await;
    for control in [
        "#render",
        "#approve",
        "#approve-air",
        "#edit",
        ".reading[role=button]",
    ] {
        assert_eq!(
            count(client, control).await,
            0,
            "a read token sees {control}"
        );
    }
    assert_fits_and_shoot(client, "review", ("#approval-status", "Đã duyệt")).await;
    open(
        client,
        base,
        "#/bulletin/2021-07-29/sang",
        ("#bulletin-items", "Hỗ trợ hộ nghèo"),
    )
    .await;
    for control in ["#build", "#bulletin-items button"] {
        assert_eq!(
            count(client, control).await,
            0,
            "a read token sees {control}"
        );
    }
    open(client, base, "#/lexicon", ("h1", "Từ điển")).await;
    assert_eq!(count(client, "#lexicon-form").await, 0);
    open(client, base, "#/new", ("#read-only", "chỉ được xem")).await;
    assert_eq!(count(client, "#article-text").await, 0);
    let refused = crate::util::request(
        "POST",
        &format!("{base}/api/articles/{article_id}/approve"),
        Some(t.reader),
        &[],
        None,
    );
    assert_eq!(refused.status, 403);
    sign_out(client).await;

    // The admin's webhook screen, and a token issued to a person and revoked.
    sign_in(client, base, t.admin).await;
    open(client, base, "#/webhooks", ("h1", "Báo tin tự động")).await;
    assert_accessible(client, "webhooks").await;
    open(client, base, "#/people", ("#people", "Trần Thị B")).await;
    wait_text(client, "#people", "Người duyệt").await;
    set_value(client, "person-name", "Hoàng Văn E").await;
    set_value(client, "person-token", "phong-vien-e").await;
    set_value(client, "person-role", "approver").await;
    client
        .find(Locator::Css("#person-form button[type=submit]"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let secret = wait_text(client, "#person-secret code", "bantin_").await;
    let secret = secret.text().await.map_err(|e| e.to_string())?;
    wait_text(client, "#people", "Hoàng Văn E").await;
    assert_accessible(client, "people").await;
    let me = crate::util::request("GET", &format!("{base}/api/me"), Some(&secret), &[], None);
    assert_eq!(me.json()["person"], "Hoàng Văn E");
    client
        .find(Locator::Css(
            "button[aria-label='Thu hồi mã của Hoàng Văn E']",
        ))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    wait_text(client, "#flash", "Đã thu hồi mã của Hoàng Văn E").await;
    let me = crate::util::request("GET", &format!("{base}/api/me"), Some(&secret), &[], None);
    assert_eq!(me.status, 401, "a revoked token stops at once");

    // The staff's formats.
    let formats = client
        .execute(
            "return [duration(123000), duration(45000), duration(180000), number(1234567), dayText('2021-07-29'), longDay('2021-07-29'), weekday('2026-12-06')];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        formats,
        json!([
            "2 phút 3 giây",
            "45 giây",
            "3 phút",
            "1.234.567",
            "29/07/2021",
            "Thứ Năm, 29/07/2021",
            "Chủ nhật"
        ])
    );
    Ok(())
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "wav"))
        .count()
}

/// The edit form's text once the article's source has loaded into it.
async fn wait_source(client: &Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = client
            .execute("return document.getElementById('edit-text').value;", vec![])
            .await
            .unwrap();
        let text = value.as_str().unwrap_or_default().to_string();
        if text.contains("120 hộ") {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the edit form never got the text: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
