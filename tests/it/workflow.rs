//! The newsroom's workflow over HTTP against the real server: every route
//! answers each role (no token, read, editor, approver, admin) as its
//! permission says; approval before air (an edit after approval blocks the
//! bulletin until it is approved again, with the word-level changes shown);
//! the audit trail names the right person for each step; the admin issues
//! and revokes tokens; tokens made before roles keep working.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bantin::config::Config;
use bantin::store::{Scope, Store};
use bantin::tts::Fake;
use serde_json::{Value, json};

use crate::util::{TestServer, request};

const ROLES: [(Scope, &str, &str); 4] = [
    (Scope::Read, "xem", "Phạm Thị D"),
    (Scope::Editor, "bien-tap", "Nguyễn Văn A"),
    (Scope::Approver, "duyet", "Trần Thị B"),
    (Scope::Admin, "quan-tri", "Lê Văn C"),
];

/// The first article: a figure changes between revisions.
const FIRST: &str = "Hỗ trợ hộ nghèo\n\nSáng nay, 120 hộ dân phường Hiến Nam nhận hỗ trợ.\n";
const EDITED: &str = "Hỗ trợ hộ nghèo\n\nSáng nay, 150 hộ dân phường Hiến Nam nhận hỗ trợ.\n";

struct Station {
    server: TestServer,
    /// Secrets by role, lowest first.
    tokens: Vec<(Scope, String)>,
    _dir: tempfile::TempDir,
}

impl Station {
    fn token(&self, scope: Scope) -> &str {
        &self.tokens.iter().find(|(s, _)| *s == scope).unwrap().1
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    /// Sends `body` (JSON when it is an object or array, text otherwise).
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (kind, bytes) = match body {
            Some(Value::String(text)) => {
                ("text/plain; charset=utf-8", Some(text.as_bytes().to_vec()))
            }
            Some(value) => ("application/json", Some(serde_json::to_vec(value).unwrap())),
            None => ("text/plain", None),
        };
        let headers: &[(&str, &str)] = if bytes.is_some() {
            &[("Content-Type", kind)]
        } else {
            &[]
        };
        let reply = request(method, &self.url(path), token, headers, bytes.as_deref());
        let value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        (reply.status, value)
    }

    /// Uploads an article as `scope`; its id.
    fn upload(&self, scope: Scope, text: &str) -> i64 {
        self.ok("POST", "/api/articles", scope, Some(json!(text)), 201)["id"]
            .as_i64()
            .unwrap()
    }

    fn ok(&self, method: &str, path: &str, scope: Scope, body: Option<Value>, want: u16) -> Value {
        let (status, value) = self.call(method, path, Some(self.token(scope)), body.as_ref());
        assert_eq!(status, want, "{method} {path} as {scope:?}: {value}");
        value
    }
}

/// A server with bulletins delivering into a drop folder (the fake voice,
/// so builds are quick) and one token per role, each with its person.
fn station(extra_bulletin: &str) -> Station {
    let dir = tempfile::tempdir().unwrap();
    let drop_folder = dir.path().join("drop");
    std::fs::create_dir_all(&drop_folder).unwrap();
    let mut config = Config::parse(
        "test",
        &format!(
            "station = \"Đài truyền thanh thành phố Hưng Yên\"\n\
             [bulletin]\nstation = \"Đài truyền thanh thành phố Hưng Yên\"\ndrop_folder = \"{}\"\n\
             catch_up_minutes = 0\nretry_attempts = 1\ngreeting = \"Xin chào.\"\nsign_off = \"Hết.\"\n\
             {extra_bulletin}\n\
             [bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 1 1 *\"\ntarget_minutes = 1\n",
            drop_folder.display()
        ),
    )
    .unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.config_dir = Some(dir.path().to_path_buf());
    config.limits.request_timeout = Duration::from_secs(300);
    config.validate().unwrap();
    let store = crate::util::open_store(dir.path());
    let tokens = ROLES
        .iter()
        .map(|(scope, name, person)| (*scope, store.add_token_for(name, *scope, person).unwrap().1))
        .collect();
    drop(store);
    let server = TestServer::start(dir.path(), config, Some(Arc::new(Fake::default())));
    Station {
        server,
        tokens,
        _dir: dir,
    }
}

/// Who may call a route, and what the lowest allowed role gets.
struct Case {
    method: &'static str,
    path: String,
    needs: Scope,
    body: Option<Value>,
    /// The answer of the lowest allowed role.
    want: u16,
}

fn case(method: &'static str, path: String, needs: Scope, body: Option<Value>, want: u16) -> Case {
    Case {
        method,
        path,
        needs,
        body,
        want,
    }
}

#[test]
fn every_route_answers_each_role_as_its_permission_says() {
    let s = station("");
    // What the cases act on, made by the admin.
    let article = s.upload(Scope::Admin, FIRST);
    let doomed = s.upload(Scope::Admin, "Tin bỏ\n\nBài này sẽ bị xóa.\n");
    let entry = s.ok(
        "POST",
        "/api/lexicon",
        Scope::Admin,
        Some(json!({"key": "HTX", "spoken": "hợp tác xã"})),
        201,
    )["id"]
        .as_i64()
        .unwrap();
    let hook = s.ok(
        "POST",
        "/api/webhooks",
        Scope::Admin,
        Some(json!({"url": "http://127.0.0.1:9/x", "events": ["render.done"]})),
        201,
    )["id"]
        .as_i64()
        .unwrap();
    s.ok(
        "POST",
        "/api/tokens",
        Scope::Admin,
        Some(json!({"name": "tam", "scope": "read", "person": "Người tạm"})),
        201,
    );
    let job = s.ok(
        "POST",
        &format!("/api/articles/{article}/render"),
        Scope::Admin,
        Some(json!({})),
        202,
    );
    let job = job["job"]["id"].as_i64().unwrap();
    let a = format!("/api/articles/{article}");
    let bulletin = "/api/bulletins/2021-07-29/sang".to_string();
    // The admin of another station on the same platform: every route
    // answers it about its own station only.
    let other_admin = {
        let store = crate::util::open_store(s._dir.path());
        let other = store.create_station("huyen-b", "Đài huyện B").unwrap();
        store
            .for_station(other.id)
            .add_token_for("quan-tri", Scope::Admin, "Đỗ Văn H")
            .unwrap()
            .1
    };
    let rows_of_this_station = [
        a.clone(),
        format!("/api/articles/{doomed}"),
        format!("/api/jobs/{job}"),
        format!("/api/lexicon/{entry}"),
        format!("/api/webhooks/{hook}"),
        "/api/tokens/tam".to_string(),
    ];
    // What only this station's answers hold.
    let marks = [
        "Hỗ trợ hộ nghèo",
        "HTX",
        "Lê Văn C",
        "127.0.0.1:9",
        "Hưng Yên",
    ];

    // In order: a later case may rely on an earlier one (the diff on the
    // edit, the bulletin on the approval, the files on the build).
    let cases = [
        case("GET", "/api/me".into(), Scope::Read, None, 200),
        case("GET", "/api/voices".into(), Scope::Read, None, 200),
        case("GET", "/api/articles".into(), Scope::Read, None, 200),
        case(
            "POST",
            "/api/articles".into(),
            Scope::Editor,
            Some(json!(FIRST)),
            201,
        ),
        case("GET", a.clone(), Scope::Read, None, 200),
        case("GET", format!("{a}/source"), Scope::Read, None, 200),
        case("GET", format!("{a}/review"), Scope::Read, None, 200),
        case("GET", format!("{a}/script"), Scope::Read, None, 200),
        case("PUT", a.clone(), Scope::Editor, Some(json!(EDITED)), 201),
        case("GET", format!("{a}/diff"), Scope::Read, None, 200),
        case("GET", format!("{a}/approval"), Scope::Read, None, 200),
        case("POST", format!("{a}/approve"), Scope::Approver, None, 200),
        case(
            "DELETE",
            format!("/api/articles/{doomed}"),
            Scope::Editor,
            None,
            204,
        ),
        case(
            "POST",
            format!("{a}/render"),
            Scope::Editor,
            Some(json!({})),
            202,
        ),
        case("GET", format!("{a}/jobs"), Scope::Read, None, 200),
        case("GET", format!("/api/jobs/{job}"), Scope::Read, None, 200),
        case("GET", bulletin.clone(), Scope::Read, None, 200),
        case(
            "PUT",
            bulletin.clone(),
            Scope::Editor,
            Some(json!({"items": [article]})),
            200,
        ),
        case(
            "POST",
            format!("{bulletin}/build"),
            Scope::Editor,
            None,
            200,
        ),
        case(
            "GET",
            format!("{bulletin}/manifest"),
            Scope::Read,
            None,
            200,
        ),
        case(
            "GET",
            format!("{bulletin}/script?format=txt"),
            Scope::Read,
            None,
            200,
        ),
        case("GET", "/api/lexicon".into(), Scope::Read, None, 200),
        case(
            "POST",
            "/api/lexicon".into(),
            Scope::Editor,
            Some(json!({"key": "UBND", "spoken": "ủy ban nhân dân"})),
            201,
        ),
        case(
            "DELETE",
            "/api/lexicon?key=UBND".into(),
            Scope::Editor,
            None,
            200,
        ),
        case(
            "DELETE",
            format!("/api/lexicon/{entry}"),
            Scope::Editor,
            None,
            200,
        ),
        case("GET", "/api/audit".into(), Scope::Read, None, 200),
        case("GET", "/api/tokens".into(), Scope::Admin, None, 200),
        case(
            "POST",
            "/api/tokens".into(),
            Scope::Admin,
            Some(json!({"name": "moi", "scope": "editor", "person": "Hoàng Văn E"})),
            201,
        ),
        case("DELETE", "/api/tokens/tam".into(), Scope::Admin, None, 204),
        case("GET", "/api/webhooks".into(), Scope::Admin, None, 200),
        case(
            "GET",
            "/api/webhooks/deliveries".into(),
            Scope::Admin,
            None,
            200,
        ),
        case(
            "POST",
            "/api/webhooks/deliveries/999/retry".into(),
            Scope::Admin,
            None,
            404,
        ),
        case(
            "DELETE",
            format!("/api/webhooks/{hook}"),
            Scope::Admin,
            None,
            204,
        ),
    ];
    let mut checked = 0;
    for c in &cases {
        let what = format!("{} {}", c.method, c.path);
        let (status, body) = s.call(c.method, &c.path, None, c.body.as_ref());
        assert_eq!(status, 401, "{what} without a token: {body}");
        let (status, body) = s.call(c.method, &c.path, Some("bantin_wrong"), c.body.as_ref());
        assert_eq!(status, 401, "{what} with an unknown token: {body}");
        for (scope, secret) in &s.tokens {
            if *scope >= c.needs {
                continue;
            }
            let (status, body) = s.call(c.method, &c.path, Some(secret), c.body.as_ref());
            assert_eq!(status, 403, "{what} as {scope:?}: {body}");
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains(c.needs.as_str()),
                "{what} as {scope:?}: {detail}"
            );
        }
        let (status, body) = s.call(c.method, &c.path, Some(&other_admin), c.body.as_ref());
        let shown = body.to_string();
        // (An answer to a body sent echoes it: only answers to bodiless calls are checked.)
        // The other admin's own trail names the article it uploaded with
        // this station's text, so the title is not a mark there.
        let marks_here = marks
            .iter()
            .filter(|mark| c.path != "/api/audit" || **mark != "Hỗ trợ hộ nghèo");
        for mark in marks_here.filter(|_| c.body.is_none()) {
            assert!(
                !shown.contains(mark),
                "{what} as another station's admin shows {mark:?}: {shown}"
            );
        }
        if rows_of_this_station
            .iter()
            .any(|row| c.path.starts_with(row.as_str()))
        {
            assert_eq!(status, 404, "{what} as another station's admin: {shown}");
        }
        if c.method == "PUT" && c.path == bulletin {
            assert_ne!(
                status, 200,
                "another station's bulletin takes this station's article: {shown}"
            );
        }
        s.ok(c.method, &c.path, c.needs, c.body.clone(), c.want);
        // Reading is allowed to every role above too.
        if c.method == "GET" {
            for (scope, _) in s.tokens.iter().filter(|(scope, _)| *scope > c.needs) {
                s.ok(c.method, &c.path, *scope, None, c.want);
            }
        }
        checked += 1;
    }
    assert_eq!(checked, cases.len());
    // The revoked token stopped working; the denied calls changed nothing.
    let (_, tokens) = s.call("GET", "/api/tokens", Some(s.token(Scope::Admin)), None);
    let names: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "tam").count(),
        0,
        "{names:?}"
    );
    assert!(names.contains(&"moi"), "{names:?}");
    let (_, articles) = s.call("GET", "/api/articles", Some(s.token(Scope::Read)), None);
    assert_eq!(
        articles.as_array().unwrap().len(),
        2,
        "the admin's and the editor's"
    );
}

fn audit_steps(s: &Station, query: &str) -> Vec<(String, String)> {
    let (status, page) = s.call(
        "GET",
        &format!("/api/audit?{query}"),
        Some(s.token(Scope::Read)),
        None,
    );
    assert_eq!(status, 200, "{page}");
    let mut steps: Vec<(String, String)> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["person"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    steps.reverse();
    steps
}

fn pair(action: &str, person: &str) -> (String, String) {
    (action.to_string(), person.to_string())
}

#[test]
fn an_edit_after_approval_blocks_the_bulletin_until_it_is_approved_again() {
    let s = station("");
    let bulletin = "/api/bulletins/2021-07-29/sang";
    let id = s.upload(Scope::Editor, FIRST);
    let a = format!("/api/articles/{id}");

    // Not approved: it cannot enter the bulletin, and the page is told why.
    let (status, body) = s.call(
        "PUT",
        bulletin,
        Some(s.token(Scope::Editor)),
        Some(&json!({"items": [id]})),
    );
    assert_eq!(status, 409, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("«Hỗ trợ hộ nghèo» chưa được duyệt"),
        "{detail}"
    );
    let listed = s.ok("GET", "/api/articles", Scope::Read, None, 200);
    assert_eq!(listed[0]["approval"], "unapproved");
    assert_eq!(listed[0]["author"], "Nguyễn Văn A");

    // Approved by the approver: it enters.
    let approval = s.ok("POST", &format!("{a}/approve"), Scope::Approver, None, 200);
    assert_eq!(approval["status"], "approved", "{approval}");
    assert_eq!(approval["last"]["person"], "Trần Thị B");
    assert_eq!(approval["last"]["revision"], 1);
    assert!(approval["changes_since_approval"].is_null());
    let view = s.ok(
        "PUT",
        bulletin,
        Scope::Editor,
        Some(json!({"items": [id]})),
        200,
    );
    assert_eq!(view["items"].as_array().unwrap().len(), 1, "{view}");

    // Edited after approval: changed, with what changed word by word in
    // the text and in the spoken form.
    s.ok("PUT", &a, Scope::Editor, Some(json!(EDITED)), 201);
    let approval = s.ok("GET", &format!("{a}/approval"), Scope::Read, None, 200);
    assert_eq!(approval["status"], "changed", "{approval}");
    let changes = &approval["changes_since_approval"];
    assert_eq!(
        (changes["from"].as_i64(), changes["to"].as_i64()),
        (Some(1), Some(2))
    );
    let runs = |side: &str, change: &str| -> Vec<String> {
        changes[side]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["change"] == change)
            .map(|r| r["text"].as_str().unwrap().trim().to_string())
            .collect()
    };
    assert_eq!(runs("original", "removed"), ["120"], "{changes}");
    assert_eq!(runs("original", "added"), ["150"], "{changes}");
    assert_eq!(changes["spoken_changed"], true);
    // "một trăm hai mươi" became "một trăm năm mươi": one word.
    assert_eq!(runs("spoken", "removed"), ["hai"], "{changes}");
    assert_eq!(runs("spoken", "added"), ["năm"], "{changes}");
    let revisions = s.ok("GET", &a, Scope::Read, None, 200);
    let persons: Vec<&str> = revisions["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["person"].as_str().unwrap())
        .collect();
    assert_eq!(persons, ["Nguyễn Văn A", "Nguyễn Văn A"]);

    // The delivery is refused until it is approved again.
    let (status, run) = s.call(
        "POST",
        &format!("{bulletin}/build"),
        Some(s.token(Scope::Editor)),
        None,
    );
    assert_eq!(status, 422, "{run}");
    assert!(
        run["detail"]
            .as_str()
            .unwrap()
            .contains("đã sửa sau khi duyệt"),
        "{run}"
    );
    let (status, _) = s.call(
        "POST",
        &format!("{a}/approve"),
        Some(s.token(Scope::Editor)),
        None,
    );
    assert_eq!(status, 403, "an editor cannot approve");
    s.ok("POST", &format!("{a}/approve"), Scope::Approver, None, 200);
    let run = s.ok(
        "POST",
        &format!("{bulletin}/build"),
        Scope::Editor,
        None,
        200,
    );
    assert_eq!(run["status"], "built", "{run}");

    // The trail of this article, oldest first, with the right persons.
    assert_eq!(
        audit_steps(&s, &format!("article={id}")),
        [
            pair("article_created", "Nguyễn Văn A"),
            pair("article_approved", "Trần Thị B"),
            pair("article_revised", "Nguyễn Văn A"),
            pair("article_approved", "Trần Thị B"),
        ]
    );
    let everything = audit_steps(&s, "");
    assert!(
        everything.contains(&pair("bulletin_delivered", "Hệ thống bantin")),
        "{everything:?}"
    );
    assert!(
        everything.contains(&pair("bulletin_arranged", "Nguyễn Văn A")),
        "{everything:?}"
    );
    // Bulletins are named as the newsroom writes them.
    let (_, page) = s.call("GET", "/api/audit", Some(s.token(Scope::Read)), None);
    let detail = |action: &str| -> String {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .map(|e| e["detail"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        detail("bulletin_arranged"),
        "Bản tin sáng 29/07/2021: «Hỗ trợ hộ nghèo»"
    );
    assert_eq!(
        detail("bulletin_build_requested"),
        "Bản tin sáng 29/07/2021"
    );
    let delivered = detail("bulletin_delivered");
    assert!(
        delivered.starts_with("Bản tin sáng 29/07/2021: ") && delivered.ends_with(".wav, 1 bài"),
        "{delivered}"
    );
    let by_person = audit_steps(&s, "person=Tr%E1%BA%A7n%20Th%E1%BB%8B%20B");
    assert_eq!(by_person.len(), 2, "{by_person:?}");
    // Today (the station's day) has it all; a day long past has nothing.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap())
        .date();
    assert_eq!(
        audit_steps(&s, &format!("day={today}")).len(),
        everything.len()
    );
    assert!(audit_steps(&s, "day=2021-07-29").is_empty());
    let (status, body) = s.call(
        "GET",
        "/api/audit?day=29/07/2021",
        Some(s.token(Scope::Read)),
        None,
    );
    assert_eq!(status, 422, "{body}");
}

#[test]
fn a_station_may_deliver_unapproved_items_when_it_says_so() {
    let s = station("deliver_unapproved = true");
    let id = s.upload(Scope::Editor, FIRST);
    let bulletin = "/api/bulletins/2021-07-29/sang";
    s.ok(
        "PUT",
        bulletin,
        Scope::Editor,
        Some(json!({"items": [id]})),
        200,
    );
    let run = s.ok(
        "POST",
        &format!("{bulletin}/build"),
        Scope::Editor,
        None,
        200,
    );
    assert_eq!(run["status"], "built", "{run}");
}

#[test]
fn the_admin_issues_and_revokes_tokens_for_persons() {
    let s = station("");
    let me = s.ok("GET", "/api/me", Scope::Approver, None, 200);
    assert_eq!(
        (
            &me["person"],
            &me["scope"],
            &me["role"],
            &me["may_approve"],
            &me["may_admin"]
        ),
        (
            &json!("Trần Thị B"),
            &json!("approver"),
            &json!("Người duyệt"),
            &json!(true),
            &json!(false)
        )
    );
    let issued = s.ok(
        "POST",
        "/api/tokens",
        Scope::Admin,
        Some(json!({"name": "phong-vien", "scope": "editor", "person": "  Đỗ Thị F "})),
        201,
    );
    let secret = issued["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("bantin_"));
    let (status, me) = s.call("GET", "/api/me", Some(&secret), None);
    assert_eq!(status, 200);
    assert_eq!(
        (&me["person"], &me["role"]),
        (&json!("Đỗ Thị F"), &json!("Biên tập viên"))
    );
    let listed = s.ok("GET", "/api/tokens", Scope::Admin, None, 200);
    assert!(
        !listed.to_string().contains(&secret),
        "secrets are never listed"
    );

    for (body, want) in [
        (
            json!({"name": "phong-vien", "scope": "read", "person": "X"}),
            409,
        ),
        (json!({"name": "x", "scope": "owner", "person": "X"}), 422),
        // A station's admin cannot make a platform token.
        (
            json!({"name": "x", "scope": "platform", "person": "X"}),
            422,
        ),
        (json!({"name": "x", "scope": "read", "person": " "}), 422),
        (
            json!({"name": "có dấu", "scope": "read", "person": "X"}),
            422,
        ),
    ] {
        let (status, answer) = s.call(
            "POST",
            "/api/tokens",
            Some(s.token(Scope::Admin)),
            Some(&body),
        );
        assert_eq!(status, want, "{body}: {answer}");
    }
    s.ok("DELETE", "/api/tokens/phong-vien", Scope::Admin, None, 204);
    let (status, _) = s.call("GET", "/api/me", Some(&secret), None);
    assert_eq!(status, 401, "a revoked token stops at once");
    let trail = audit_steps(&s, "person=L%C3%AA%20V%C4%83n%20C");
    assert_eq!(
        trail,
        [
            pair("token_created", "Lê Văn C"),
            pair("token_revoked", "Lê Văn C")
        ]
    );
}

#[test]
fn a_platform_token_works_on_the_station_it_names() {
    let s = station("");
    let store = crate::util::open_store(s._dir.path());
    store.create_station("huyen-b", "Đài huyện B").unwrap();
    let (_, platform) = store.add_platform_token("van-hanh", None).unwrap();
    let article = s.upload(Scope::Editor, FIRST);
    let (status, me) = s.call("GET", "/api/me", Some(&platform), None);
    assert_eq!((status, &me["scope"]), (200, &json!("platform")), "{me}");
    // Without the header: the default station.
    let (status, list) = s.call("GET", "/api/articles", Some(&platform), None);
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let url = s.url("/api/articles");
    let reply = request(
        "GET",
        &url,
        Some(&platform),
        &[("X-Bantin-Station", "huyen-b")],
        None,
    );
    assert_eq!(reply.status, 200);
    let list: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(list, json!([]), "station B has no articles");
    let reply = request(
        "GET",
        &s.url(&format!("/api/articles/{article}")),
        Some(&platform),
        &[("X-Bantin-Station", "huyen-b")],
        None,
    );
    assert_eq!(
        reply.status, 404,
        "the default station's article is not B's"
    );
    let reply = request(
        "GET",
        &url,
        Some(&platform),
        &[("X-Bantin-Station", "khong-co")],
        None,
    );
    assert_eq!(reply.status, 404, "an unknown station");
}

/// A data directory as the release before roles left it: migrations up to
/// 005 and an editor token made then.
fn old_store(dir: &Path) -> String {
    let sql = |name: &str| {
        std::fs::read_to_string(crate::util::repo().join("src/store/migrations").join(name))
            .unwrap()
    };
    let conn = rusqlite::Connection::open(dir.join(bantin::store::DATABASE_FILE)).unwrap();
    let before: Vec<&(&str, &str)> = bantin::store::MIGRATIONS
        .iter()
        .take_while(|(name, _)| *name != "006_workflow")
        .collect();
    for (name, _) in &before {
        conn.execute_batch(&sql(&format!("{name}.sql"))).unwrap();
    }
    conn.pragma_update(None, "user_version", before.len() as i64)
        .unwrap();
    let secret = "bantin_old_editor_secret";
    let hash = sha256(secret);
    conn.execute(
        "INSERT INTO api_tokens (name, scope, secret_sha256, created_at) VALUES ('cu', 'editor', ?1, '2026-01-01T00:00:00Z')",
        [hash],
    )
    .unwrap();
    secret.to_string()
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn an_old_sqlite_data_directory_keeps_its_tokens_scope_and_says_no_person_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let secret = old_store(dir.path());
    let store = Store::open(dir.path()).unwrap();
    let token = store
        .authenticate_any_station(&secret)
        .unwrap()
        .expect("still valid");
    assert_eq!((token.scope, token.person.as_str()), (Scope::Editor, ""));
    drop(store);
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let server = TestServer::start(dir.path(), config, Some(Arc::new(Fake::default())));
    let reply = request(
        "GET",
        &format!("{}/api/me", server.url),
        Some(&secret),
        &[],
        None,
    );
    assert_eq!(reply.status, 200);
    let me = reply.json();
    assert_eq!(
        (&me["person"], &me["scope"]),
        (&json!("Chưa ghi tên (cu)"), &json!("editor"))
    );
    let reply = request(
        "POST",
        &format!("{}/api/articles", server.url),
        Some(&secret),
        &[("Content-Type", "text/plain")],
        Some(FIRST.as_bytes()),
    );
    assert_eq!(reply.status, 201, "an editor still edits");
}

#[test]
fn the_cli_makes_tokens_for_persons_and_lists_their_roles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let made = crate::util::run_ok(crate::util::bantin().args([
        "token",
        "create",
        "duyet",
        "--scope",
        "approver",
        "--person",
        "Trần Thị B",
        "--data",
        data,
    ]));
    let secret = String::from_utf8(made.stdout).unwrap();
    assert!(secret.trim().starts_with("bantin_"), "{secret}");
    assert!(String::from_utf8_lossy(&made.stderr).contains("approver, Trần Thị B"));
    let unnamed =
        crate::util::run_ok(crate::util::bantin().args(["token", "add", "cu", "--data", data]));
    let hint = String::from_utf8_lossy(&unnamed.stderr);
    assert!(
        hint.contains("no --person given") && hint.contains("Chưa ghi tên (cu)"),
        "{hint}"
    );
    let listed = crate::util::run_ok(crate::util::bantin().args(["token", "list", "--data", data]));
    let listed = String::from_utf8(listed.stdout).unwrap();
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|l| l.split('\t').take(3).collect())
        .collect();
    // By name.
    assert_eq!(
        rows,
        [
            vec!["cu", "editor", "Chưa ghi tên (cu)"],
            vec!["duyet", "approver", "Trần Thị B"]
        ]
    );
    for bad in [
        vec!["token", "create", "x", "--scope", "owner", "--person", "X"],
        vec!["token", "create", "x", "--person", " "],
    ] {
        let out = crate::util::bantin()
            .args(&bad)
            .args(["--data", data])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} was accepted");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("owner") || said.contains("person"),
            "{bad:?}: {said}"
        );
    }
}

/// The cron path (`bantin bulletin --data`) holds the same line as the
/// server: an item edited since its approval is not delivered until it is
/// approved again.
#[test]
fn the_bulletin_command_refuses_an_item_changed_since_approval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop_folder = dir.path().join("drop");
    std::fs::create_dir_all(&drop_folder).unwrap();
    let config = dir.path().join("bantin.toml");
    std::fs::write(
        &config,
        format!(
            "[bulletin]\nstation = \"Đài truyền thanh thành phố Hưng Yên\"\ndrop_folder = \"{}\"\n\
             catch_up_minutes = 0\nretry_attempts = 1\ngreeting = \"Xin chào.\"\nsign_off = \"Hết.\"\n\
             [bulletin.slots.sang]\nlabel = \"sáng\"\nschedule = \"0 6 1 1 *\"\ntarget_minutes = 1\n",
            drop_folder.display()
        ),
    )
    .unwrap();
    let store = crate::util::open_store(&data);
    let upload = |text: &str| bantin::store::NewRevision {
        title: "Hỗ trợ hộ nghèo".into(),
        file_name: None,
        content_type: "text/plain; charset=utf-8".into(),
        body: text.as_bytes().to_vec(),
        author: "bien-tap".into(),
    };
    let (id, _) = store.create_article(&upload(FIRST)).unwrap();
    let approver = bantin::store::Actor::named("duyet");
    store.approve_article(id, &approver).unwrap();
    let date: jiff::civil::Date = "2021-07-29".parse().unwrap();
    store
        .approve_bulletin(date, "sang", &[id], "bien-tap")
        .unwrap();
    store.add_revision(id, &upload(EDITED)).unwrap();
    let run = || {
        crate::util::on_database(&mut crate::util::bantin(), &data)
            .args(crate::util::bulletin_args(&config))
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap()
    };
    let refused = run();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("Bản tin sáng 29/07/2021 không được giao")
            && said.contains("đã sửa sau khi duyệt"),
        "{said}"
    );
    assert_eq!(std::fs::read_dir(&drop_folder).unwrap().count(), 0);
    store.approve_article(id, &approver).unwrap();
    let built = run();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(std::fs::read_dir(&drop_folder).unwrap().count() > 0);
}
