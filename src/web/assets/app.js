// bantin staff page: plain JavaScript over the JSON API, no build step.
// Every piece of article text reaches the page through textContent (the `el`
// helper) and is never parsed as markup, so an article containing tags shows as text.
// The sign-in token travels only in the Authorization header (never in a
// cookie), so another site cannot make the browser write on our behalf.
// The signed-in person's role (GET /api/me) decides which controls appear;
// the server checks every change again. Dates, durations and numbers are
// shown as the newsroom writes them (29/07/2021, 2 phút 3 giây, 1.234).
"use strict";

const TOKEN_KEY = "bantin.token";
const main = document.getElementById("main");
const flash = document.getElementById("flash");
const nav = document.getElementById("nav");
const ROLES = ["read", "editor", "approver", "admin"];
/// The signed-in token (GET /api/me) and the station (GET /api/station),
/// loaded once per sign-in.
let me = null;
let station = { station: "", today: "", slots: [] };

// ---------- small DOM helpers ----------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(...nodes) {
  // Parts left out (`cond ? node : null`) are skipped, never shown as "null".
  main.replaceChildren(...nodes.filter((node) => node !== null && node !== undefined && node !== false));
}

function say(message, ok) {
  flash.textContent = message;
  flash.className = ok ? "ok" : "";
  flash.hidden = !message;
  if (ok) setTimeout(() => { if (flash.textContent === message) flash.hidden = true; }, 3000);
}

// ---------- the staff's formats ----------

const WEEKDAYS = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
const pad2 = (n) => String(n).padStart(2, "0");

/// "YYYY-MM-DD" of an instant in the browser's time zone.
function localDay(text) {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/// "29/07/2021" from "2021-07-29"; "–" for nothing.
function dayText(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "–";
}

/// "Thứ Năm" for "2021-07-29".
function weekday(iso) {
  const [y, m, d] = (iso || "").split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return Number.isNaN(day.getTime()) ? "" : WEEKDAYS[day.getUTCDay()];
}

/// "Thứ Năm, 29/07/2021".
function longDay(iso) {
  const name = weekday(iso);
  return name ? `${name}, ${dayText(iso)}` : dayText(iso);
}

/// "05/12/2026 14:03" in the browser's time zone; "–" for nothing.
function when(text) {
  if (!text) return "–";
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return "–";
  return `${pad2(d.getDate())}/${pad2(d.getMonth() + 1)}/${d.getFullYear()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/// "1.234.567": thousands with dots.
function number(n) {
  return String(Math.round(Number(n) || 0)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

/// "2 phút 3 giây", "45 giây", "3 phút"; "–" for nothing.
function duration(ms) {
  if (ms === undefined || ms === null) return "–";
  const s = Math.round(ms / 1000);
  const minutes = Math.floor(s / 60);
  const seconds = s % 60;
  if (!minutes) return `${seconds} giây`;
  return seconds ? `${number(minutes)} phút ${seconds} giây` : `${number(minutes)} phút`;
}

/// A slot as the station writes it: "Bản tin sáng".
function slotTitle(name) {
  const slot = station.slots.find((s) => s.name === name);
  return slot ? slot.title : `Bản tin ${name}`;
}

/// "Bản tin sáng, Thứ Năm, 29/07/2021".
function bulletinName(date, slot) {
  return `${slotTitle(slot)}, ${longDay(date)}`;
}

/// A select of the station's slots (a text field when none are configured).
function slotChoice(id, selected) {
  if (!station.slots.length) return el("input", { type: "text", id, value: selected || "" });
  return el("select", { id }, station.slots.map((s) => el("option", { value: s.name, selected: s.name === selected }, s.title)));
}

function can(role) {
  return me !== null && ROLES.indexOf(me.scope) >= ROLES.indexOf(role);
}

function clock(ms) {
  if (ms === undefined || ms === null) return "–";
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function today() {
  return station.today || localDay(new Date().toISOString());
}

// ---------- API ----------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const STATUS_TEXT = {
  400: "Yêu cầu không hợp lệ",
  401: "Mã đăng nhập không đúng hoặc đã hết hiệu lực",
  403: "Mã đăng nhập này không có quyền làm việc này",
  404: "Không tìm thấy",
  409: "Chưa làm được",
  413: "Tệp quá lớn",
  415: "Định dạng tệp không được hỗ trợ (chỉ nhận .txt, .html, .docx)",
  422: "Không làm được",
  429: "Quá nhiều yêu cầu, hãy thử lại sau",
};

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(method, path, body, contentType) {
  const headers = { Authorization: `Bearer ${token()}` };
  let payload = body;
  if (body !== undefined && contentType === undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError(0, "Không kết nối được máy chủ");
  }
  if (!response.ok) {
    let detail = "";
    try {
      const data = await response.json();
      detail = data.detail || data.error || "";
    } catch (e) { /* not JSON */ }
    const base = STATUS_TEXT[response.status] || (response.status >= 500 ? "Lỗi máy chủ, vui lòng thử lại" : `Lỗi ${response.status}`);
    if (response.status === 401) signOut();
    throw new ApiError(response.status, detail && response.status < 500 ? `${base}: ${detail}` : base);
  }
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) return response.json();
  if (type.startsWith("audio/")) return response.blob();
  return response.text();
}

/// A file of the API as an object URL, with the answer's headers.
async function fetchBlob(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) throw new ApiError(response.status, STATUS_TEXT[response.status] || `Lỗi ${response.status}`);
  return { url: URL.createObjectURL(await response.blob()), headers: response.headers };
}

async function blobUrl(path) {
  return (await fetchBlob(path)).url;
}

function guard(task) {
  return async (...args) => {
    try {
      await task(...args);
    } catch (e) {
      say(e.message || String(e));
    }
  };
}

// ---------- sign in ----------

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  nav.hidden = true;
  if (location.hash !== "#/signin") location.hash = "#/signin";
}

function signInView() {
  nav.hidden = true;
  const input = el("input", { type: "password", id: "token", autocomplete: "off", required: true });
  const form = el("form", { class: "card", id: "signin-form" },
    el("h1", {}, "Đăng nhập"),
    el("p", { class: "muted" }, "Nhập mã đăng nhập do quản trị của đài cấp."),
    el("label", { for: "token" }, "Mã đăng nhập"),
    input,
    el("p", {}, el("button", { type: "submit" }, "Đăng nhập")));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    me = null;
    try {
      await api("GET", "/api/articles");
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      throw e;
    }
    say("");
    location.hash = "#/";
  }));
  show(form);
  input.focus();
}

// ---------- article list ----------

const APPROVAL_LABEL = { approved: "Đã duyệt", changed: "Sửa sau khi duyệt", unapproved: "Chưa duyệt" };

function approvalBadge(status) {
  const key = APPROVAL_LABEL[status] ? status : "unapproved";
  return el("span", { class: `badge approval ${key}` }, APPROVAL_LABEL[key]);
}

/// "2021-07-29 sang" (an approval of the list) as a link to that bulletin.
function bulletinLink(approval) {
  const [date, slot] = approval.split(" ");
  return el("a", { class: "badge", href: `#/bulletin/${date}/${encodeURIComponent(slot)}` }, `${slotTitle(slot)} ${dayText(date)}`);
}

async function listView() {
  const data = await api("GET", "/api/articles");
  const articles = Array.isArray(data) ? data : data.articles || [];
  const text = el("input", { type: "search", id: "filter-text", placeholder: "Tìm theo tiêu đề hoặc người viết" });
  const state = el("select", { id: "filter-state" },
    el("option", { value: "" }, "Mọi trạng thái"),
    Object.entries(APPROVAL_LABEL).map(([value, label]) => el("option", { value }, label)),
    el("option", { value: "rendered" }, "Đã đọc thành âm thanh"),
    el("option", { value: "unrendered" }, "Chưa đọc thành âm thanh"));
  const day = el("input", { type: "date", id: "filter-date" });
  const bulletins = [...new Set(articles.flatMap((a) => a.approvals || []))].sort().reverse();
  const bulletin = el("select", { id: "filter-bulletin" },
    el("option", { value: "" }, "Mọi bản tin"),
    el("option", { value: "none" }, "Chưa vào bản tin nào"),
    bulletins.map((b) => {
      const [date, slot] = b.split(" ");
      return el("option", { value: b }, `${slotTitle(slot)} ${dayText(date)}`);
    }));
  const tbody = el("tbody", {});
  const count = el("p", { class: "muted", id: "article-count", "aria-live": "polite" });
  const fits = (a) => {
    const q = text.value.trim().toLowerCase();
    if (q && !`${a.title} ${a.author || ""}`.toLowerCase().includes(q)) return false;
    const rendered = a.job_state === "done";
    if (state.value === "rendered" && !rendered) return false;
    if (state.value === "unrendered" && rendered) return false;
    if (APPROVAL_LABEL[state.value] && a.approval !== state.value) return false;
    if (day.value && localDay(a.updated_at) !== day.value && localDay(a.created_at) !== day.value) return false;
    const approvals = a.approvals || [];
    if (bulletin.value === "none" && approvals.length) return false;
    if (bulletin.value && bulletin.value !== "none" && !approvals.includes(bulletin.value)) return false;
    return true;
  };
  const fill = () => {
    const shown = articles.filter(fits);
    count.textContent = shown.length === articles.length ? `${number(articles.length)} bài` : `${number(shown.length)} trong ${number(articles.length)} bài`;
    tbody.replaceChildren(...shown.map((a) => el("tr", {},
      el("td", { "data-label": "Tiêu đề" }, el("a", { href: `#/article/${a.id}` }, a.title || "(chưa có tiêu đề)"),
        a.author ? el("div", { class: "muted small" }, a.author) : null),
      el("td", { "data-label": "Ngày" }, dayText(localDay(a.updated_at || a.created_at))),
      el("td", { "data-label": "Duyệt" }, approvalBadge(a.approval)),
      el("td", { "data-label": "Âm thanh" }, statusBadge(a.job_state)),
      el("td", { "data-label": "Thời lượng" }, duration(a.duration_ms)),
      el("td", { "data-label": "Bản tin" }, (a.approvals || []).map(bulletinLink)))));
  };
  for (const input of [text, state, day, bulletin]) input.addEventListener(input === text ? "input" : "change", fill);
  show(
    el("div", { class: "row" }, el("h1", { class: "grow" }, "Bài viết"), can("editor") ? el("a", { class: "button", href: "#/new" }, "Thêm bài") : null),
    articles.length === 0
      ? el("p", { class: "muted" }, can("editor") ? "Chưa có bài nào. Hãy thêm bài đầu tiên." : "Chưa có bài nào.")
      : el("div", { class: "card" },
        el("div", { class: "row filters", role: "search" },
          el("div", { class: "grow" }, el("label", { for: "filter-text" }, "Tìm"), text),
          el("div", { class: "grow" }, el("label", { for: "filter-state" }, "Trạng thái"), state),
          el("div", { class: "grow" }, el("label", { for: "filter-date" }, "Ngày"), day),
          el("div", { class: "grow" }, el("label", { for: "filter-bulletin" }, "Bản tin"), bulletin)),
        count,
        el("table", { id: "articles", class: "stack" },
          el("thead", {}, el("tr", {}, ["Tiêu đề", "Ngày", "Duyệt", "Âm thanh", "Thời lượng", "Bản tin"].map((h) => el("th", { scope: "col" }, h)))),
          tbody)));
  fill();
}

const STATUS_LABEL = {
  new: "chưa đọc", draft: "chưa đọc", queued: "chờ đọc", running: "đang đọc", done: "đã đọc", rendered: "đã đọc",
  failed: "lỗi", cancelled: "đã hủy", built: "đã làm", reused: "dùng lại",
};

function statusBadge(status) {
  const key = STATUS_LABEL[status] ? status : "new";
  return el("span", { class: `badge ${key === "done" || key === "rendered" || key === "built" || key === "reused" ? "done" : key === "failed" ? "failed" : ""}` }, STATUS_LABEL[key] || key);
}

// ---------- new article ----------

const UPLOAD_TYPES = {
  txt: "text/plain; charset=utf-8",
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

function newView() {
  if (!can("editor")) {
    show(el("h1", {}, "Thêm bài"), el("p", { class: "muted", id: "read-only" }, `${me.person} (${me.role}) chỉ được xem, không thêm bài được.`));
    return;
  }
  const text = el("textarea", { id: "article-text", placeholder: "Dán nội dung bài viết vào đây: dòng đầu là tiêu đề, mỗi đoạn một dòng." });
  const file = el("input", { type: "file", id: "article-file", accept: ".txt,.html,.htm,.docx" });
  const submit = el("button", { type: "submit", id: "article-submit" }, "Lưu bài");
  const form = el("form", { class: "card" },
    el("h1", {}, "Thêm bài"),
    el("label", { for: "article-text" }, "Dán văn bản"),
    text,
    el("label", { for: "article-file" }, "hoặc tải tệp lên (.txt, .html, .docx)"),
    file,
    el("p", {}, submit));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      let created;
      if (file.files.length > 0) {
        const f = file.files[0];
        const ext = f.name.split(".").pop().toLowerCase();
        if (!UPLOAD_TYPES[ext]) throw new ApiError(415, STATUS_TEXT[415]);
        created = await api("POST", "/api/articles", f, UPLOAD_TYPES[ext]);
      } else {
        if (!text.value.trim()) throw new ApiError(400, "Bài viết đang trống");
        created = await api("POST", "/api/articles", text.value, "text/plain; charset=utf-8");
      }
      say("Đã lưu bài.", true);
      location.hash = `#/article/${created.id}`;
    } finally {
      submit.disabled = false;
    }
  }));
  show(form);
}

// ---------- review ----------

// Why a line is not read, in the staff's words (reason ids from ingest).
const DROP_REASON = {
  "date-views": "ngày đăng và số lượt xem",
  "view-counter": "số lượt xem",
  "copyright-footer": "dòng bản quyền cuối trang",
  "photo-caption": "chú thích ảnh",
  "photo-credit": "nguồn ảnh",
  "see-also": "tin liên quan",
  "source-line": "dòng ghi nguồn",
  "share-buttons": "nút chia sẻ",
  "tag-list": "từ khóa",
  "byline": "tên tác giả (lưu riêng, không đọc)",
  "navigation": "thanh điều hướng",
  "breadcrumb": "đường dẫn chuyên mục",
  "comments": "bình luận",
  "footer": "chân trang",
  "menu": "trình đơn",
  "related": "tin liên quan",
};

function readingNode(token, onPick) {
  const warning = token.warning || token.rule === "A-SPELL" || token.rule === "X-LITERAL";
  const node = el("span", {
    class: `reading${warning ? " warning" : ""}`,
    tabindex: 0,
    role: onPick ? "button" : null,
    title: `${token.original} → ${token.spoken}`,
    dataset: { rule: token.rule, original: token.original },
  }, token.spoken || "(im lặng)", el("span", { class: "orig" }, `[${token.original}]`));
  if (onPick) {
    const pick = () => onPick(token, node);
    node.addEventListener("click", pick);
    node.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
  }
  return node;
}

/// The sentence as it will be spoken: plain words as text, expansions marked.
function spokenSentence(sentence, onPick) {
  const parts = [];
  let pending = "";
  const tokens = sentence.tokens || [];
  for (const token of tokens) {
    if (token.kind === "pause") {
      if (token.spoken) pending = token.spoken;
      continue;
    }
    if (!token.spoken && token.kind !== "literal") continue;
    if (pending) { parts.push(pending); pending = ""; }
    if (parts.length) parts.push(" ");
    const expansion = token.expansion ?? !["word", "pause"].includes(token.kind);
    parts.push(expansion ? readingNode(token, onPick) : token.spoken);
  }
  if (pending) parts.push(pending);
  return parts;
}

function correctionEditor(article, token, anchor, reload) {
  document.querySelectorAll(".editor").forEach((e) => e.remove());
  const spoken = el("input", { type: "text", id: "correction-spoken", value: token.spoken });
  const context = el("input", { type: "text", id: "correction-context", placeholder: "ví dụ: Thành ủy|Tỉnh ủy (để trống: mọi nơi)" });
  const save = el("button", { type: "submit", id: "correction-save" }, "Lưu cách đọc");
  const form = el("form", { class: "editor" },
    el("strong", {}, `Sửa cách đọc “${token.original}”`),
    el("p", { class: "muted" }, `Hiện đọc là “${token.spoken}”. Cách đọc mới được lưu vào từ điển của đài và áp dụng cho mọi bài sau.`),
    el("label", { for: "correction-spoken" }, "Đọc là"),
    spoken,
    el("label", { for: "correction-context" }, "Chỉ khi gần các từ (không bắt buộc)"),
    context,
    el("p", { class: "row" }, save, el("button", { type: "button", class: "secondary", onclick: () => form.remove() }, "Bỏ qua")));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    await saveEntry(token.original, spoken.value.trim(), context.value.trim());
    say(`Đã lưu: ${token.original} → ${spoken.value.trim()}`, true);
    await reload();
  }));
  anchor.closest(".sentence").after(form);
  spoken.focus();
}

/// Word runs of a diff as text with removed words struck and added words
/// marked (`del` and `ins`, so a screen reader says which is which).
function diffRuns(runs) {
  return (runs || []).map((run) => run.change === "removed"
    ? el("del", {}, run.text)
    : run.change === "added" ? el("ins", {}, run.text) : run.text);
}

/// The changes between two revisions: the text as written and as spoken.
function changesBox(changes, id) {
  return el("div", { class: "changes", id },
    el("p", { class: "muted" }, `Từ bản ${changes.from} đến bản ${changes.to}. Chữ gạch là chữ bị bỏ, chữ tô xanh là chữ mới.`),
    el("h3", {}, "Văn bản"),
    el("p", { class: "diff original" }, diffRuns(changes.original)),
    el("h3", {}, "Lời đọc"),
    changes.spoken_changed
      ? el("p", { class: "diff spoken" }, diffRuns(changes.spoken))
      : el("p", { class: "muted" }, "Lời đọc không đổi."));
}

/// Approval for air: where the article stands, the approver's button, and
/// after an edit what changed since the approval.
function approvalCard(id, approval, reload) {
  const last = approval.last;
  const status = approval.status;
  const line = status === "approved"
    ? `Đã duyệt phát sóng bản ${last.revision}: ${last.person}, ${when(last.approved_at)}.`
    : status === "changed"
      ? `Đã sửa sau khi duyệt: bản ${last.revision} được ${last.person} duyệt lúc ${when(last.approved_at)}, nay là bản ${approval.latest_revision}. Cần duyệt lại trước khi phát.`
      : "Chưa duyệt phát sóng. Bài chỉ vào bản tin sau khi người duyệt duyệt.";
  const button = can("approver") && status !== "approved"
    ? el("button", { type: "button", id: "approve-air", onclick: guard(async () => {
      await api("POST", `/api/articles/${id}/approve`);
      say(`Đã duyệt phát sóng bản ${approval.latest_revision}.`, true);
      await reload();
    }) }, `Duyệt phát sóng bản ${approval.latest_revision}`)
    : null;
  return el("div", { class: `card approval-card ${status}`, id: "approval" },
    el("h2", {}, "Duyệt phát sóng"),
    el("p", { id: "approval-status" }, approvalBadge(status), " ", line),
    approval.changes_since_approval ? changesBox(approval.changes_since_approval, "changes-since-approval") : null,
    button ? el("p", {}, button) : null);
}

/// Who made each revision and when, and the word-level changes between two.
function revisionsCard(id, revisions) {
  const items = revisions.slice().reverse().map((r) => el("li", {},
    `Bản ${r.revision}: ${r.person || r.author}, ${when(r.created_at)}`));
  const box = el("div", { id: "revision-diff" });
  if (revisions.length < 2) {
    return el("div", { class: "card", id: "revisions" }, el("h2", {}, "Các bản sửa"), el("ul", {}, items));
  }
  const choice = (sel, selected) => el("select", { id: sel }, revisions.map((r) => el("option", { value: r.revision, selected: r.revision === selected }, `Bản ${r.revision}`)));
  const latest = revisions[revisions.length - 1].revision;
  const from = choice("diff-from", latest - 1);
  const to = choice("diff-to", latest);
  const compare = el("button", { type: "button", class: "secondary", id: "diff-show" }, "So sánh");
  compare.addEventListener("click", guard(async () => {
    const changes = await api("GET", `/api/articles/${id}/diff?from=${from.value}&to=${to.value}`);
    box.replaceChildren(changesBox(changes, "revision-changes"));
  }));
  return el("div", { class: "card", id: "revisions" },
    el("h2", {}, "Các bản sửa"),
    el("ul", {}, items),
    el("div", { class: "row" },
      el("div", { class: "grow" }, el("label", { for: "diff-from" }, "So bản"), from),
      el("div", { class: "grow" }, el("label", { for: "diff-to" }, "với bản"), to),
      el("div", {}, compare)),
    box);
}

/// The editor's form for a new revision, filled with the current text
/// when the article was uploaded as plain text.
function editCard(id, revisions, reload) {
  const text = el("textarea", { id: "edit-text", placeholder: "Dán bản mới của bài: dòng đầu là tiêu đề, mỗi đoạn một dòng." });
  const save = el("button", { type: "submit", id: "edit-save" }, "Lưu bản mới");
  const form = el("form", { class: "card", id: "edit" },
    el("h2", {}, "Sửa bài"),
    el("p", { class: "muted" }, "Bản sửa được lưu thành bản mới, bản cũ vẫn giữ. Bài đã duyệt phát sóng sẽ cần duyệt lại."),
    el("label", { for: "edit-text" }, "Nội dung"),
    text,
    el("p", {}, save));
  const latest = revisions[revisions.length - 1];
  if (latest && (latest.content_type || "").startsWith("text/plain")) {
    api("GET", `/api/articles/${id}/source`).then((body) => { if (typeof body === "string") text.value = body; }).catch(() => {});
  }
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    if (!text.value.trim()) throw new ApiError(400, "Bài viết đang trống");
    save.disabled = true;
    try {
      const saved = await api("PUT", `/api/articles/${id}`, text.value, "text/plain; charset=utf-8");
      say(`Đã lưu bản ${saved.revision}.`, true);
      await reload();
    } finally {
      save.disabled = false;
    }
  }));
  return form;
}

const SHORTCUTS = "Phím tắt: J / K – cách đọc sau / trước · P – nghe câu đang chọn · S – sửa cách đọc đang chọn";

async function articleView(id) {
  const [review, detail, approval, voices] = await Promise.all([
    api("GET", `/api/articles/${id}/review`),
    api("GET", `/api/articles/${id}`),
    api("GET", `/api/articles/${id}/approval`),
    api("GET", "/api/voices").catch(() => []),
  ]);
  reviewAudio = null;
  const reload = () => articleView(id);
  const editor = can("editor");
  const sentences = review.sentences || [];
  const paragraphs = [];
  let current = null;
  let lastParagraph = null;
  const pick = editor ? (token, node) => correctionEditor(review, token, node, reload) : null;
  sentences.forEach((sentence, index) => {
    if (sentence.paragraph !== lastParagraph) {
      current = el("div", { class: "paragraph card" });
      paragraphs.push(current);
      lastParagraph = sentence.paragraph;
    }
    current.append(el("div", { class: "sentence", dataset: { cue: String(index + 1) } },
      el("span", { class: "time" }, clock(sentence.start_ms)),
      spokenSentence(sentence, pick)));
  });
  const dropped = (review.dropped || []).map((d) => el("li", { class: "dropped" }, el("s", {}, d.text), el("span", { class: "reason" }, `— ${DROP_REASON[d.reason] || d.detail || "không đọc"}`)));
  const warnings = (review.warnings || []).map((w) => w.message || (typeof w === "string" ? w : "")).filter(Boolean).map((w) => el("li", {}, w));
  const player = el("div", { id: "player" });
  const revisions = detail.revisions || [];
  const latest = revisions[revisions.length - 1] || {};

  const sections = [];
  if (editor) {
    const picker = voicePicker(Array.isArray(voices) ? voices : voices.voices || []);
    const voiceSelect = picker.select;
    const bill = el("p", { id: "voice-bill", class: "muted" });
    const updateBill = () => showVoiceBill(id, voiceSelect.value, bill).catch(() => { bill.textContent = ""; });
    voiceSelect.addEventListener("change", updateBill);
    updateBill();
    const renderButton = el("button", { type: "button", id: "render" }, "Đọc thành âm thanh");
    const progress = el("progress", { class: "progress", id: "render-progress", max: 1, value: 0, hidden: true, "aria-label": "Tiến độ đọc" });
    const status = el("span", { id: "render-status", class: "muted", "aria-live": "polite" });
    renderButton.addEventListener("click", guard(async () => {
      renderButton.disabled = true;
      try {
        const accepted = await api("POST", `/api/articles/${id}/render`, { voice: voiceSelect.value });
        progress.hidden = false;
        await followJob((accepted.job || accepted).id, progress, status);
        await showPlayer(id, player);
      } finally {
        renderButton.disabled = false;
      }
    }));
    sections.push(el("div", { class: "card" },
      el("h2", {}, "Âm thanh"),
      picker.element,
      bill,
      el("p", { class: "row" }, renderButton, status),
      progress,
      player));
  } else {
    sections.push(el("div", { class: "card" }, el("h2", {}, "Âm thanh"), player));
  }
  sections.push(approvalCard(id, approval, reload));
  if (editor) {
    const approveDate = el("input", { type: "date", id: "approve-date", value: today() });
    const approveSlot = slotChoice("approve-slot", station.slots[0] ? station.slots[0].name : "");
    const approve = el("button", { type: "button", id: "approve", disabled: approval.status !== "approved" && !station.deliver_unapproved }, "Đưa vào bản tin");
    approve.addEventListener("click", guard(async () => {
      const date = approveDate.value;
      const slot = approveSlot.value.trim();
      const path = `/api/bulletins/${date}/${encodeURIComponent(slot)}`;
      const bulletin = await api("GET", path).catch((e) => {
        if (e.status === 404) return { items: [] };
        throw e;
      });
      const items = (bulletin.items || []).map((i) => i.article_id);
      if (!items.includes(Number(id))) items.push(Number(id));
      await api("PUT", path, { items });
      say(`Đã đưa vào ${bulletinName(date, slot)}.`, true);
      location.hash = `#/bulletin/${date}/${encodeURIComponent(slot)}`;
    }));
    sections.push(el("div", { class: "card" },
      el("h2", {}, "Đưa vào bản tin"),
      approval.status === "approved" ? null : el("p", { class: "muted", id: "approve-first" }, "Bài cần được duyệt phát sóng trước khi vào bản tin."),
      el("div", { class: "row" },
        el("div", { class: "grow" }, el("label", { for: "approve-date" }, "Ngày"), approveDate),
        el("div", { class: "grow" }, el("label", { for: "approve-slot" }, "Buổi"), approveSlot)),
      el("p", {}, approve)));
  }
  if (editor) sections.push(editCard(id, revisions, reload));
  sections.push(revisionsCard(id, revisions));

  show(
    el("h1", { id: "article-title" }, review.title || "(chưa có tiêu đề)"),
    el("p", { class: "muted", id: "article-meta" },
      review.published ? `Ngày đăng ${dayText(review.published)} · ` : "",
      `Bản ${review.revision ?? latest.revision ?? 1}`,
      latest.created_at ? ` · ${latest.person || latest.author}, ${when(latest.created_at)}` : "",
      " · Thời lượng ước tính ", el("span", { id: "estimated" }, duration(review.estimated_duration_ms)),
      review.byline ? ` · ${review.byline}` : ""),
    el("p", { class: "muted" }, editor
      ? "Phần tô vàng là chỗ chuyển chữ viết thành lời đọc; bấm vào để sửa cách đọc."
      : "Phần tô vàng là chỗ chuyển chữ viết thành lời đọc."),
    el("p", { class: "muted small", id: "shortcuts" }, SHORTCUTS),
    warnings.length ? el("div", { class: "card" }, el("h2", {}, "Cần kiểm tra"), el("ul", { class: "warnings" }, warnings)) : null,
    el("div", { id: "review" }, paragraphs),
    dropped.length ? el("div", { class: "card" }, el("h2", {}, "Không đọc"), el("ul", { id: "dropped" }, dropped)) : null,
    ...sections);
  await showPlayer(id, player).catch(() => {
    player.replaceChildren(el("p", { class: "muted" }, "Chưa có âm thanh."));
  });
}

// ---------- review shortcuts and one cue alone ----------

/// The audio of the article on screen and its cues, once a render exists.
let reviewAudio = null;

function readings() {
  return [...document.querySelectorAll("#review .reading")];
}

/// Plays the cue of `sentence` (a `.sentence` element) alone.
function playSentence(sentence) {
  if (!reviewAudio || !sentence) return false;
  const cue = reviewAudio.cues.find((c) => String(c.id) === sentence.dataset.cue);
  if (!cue) return false;
  document.querySelectorAll(".sentence.current").forEach((s) => s.classList.remove("current"));
  sentence.classList.add("current");
  playCue(reviewAudio.url, cue);
  return true;
}

document.addEventListener("keydown", (event) => {
  if (!document.getElementById("review")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
  const all = readings();
  const at = all.indexOf(document.activeElement);
  const key = event.key.toLowerCase();
  if (key === "j" || key === "k") {
    if (!all.length) return;
    const next = key === "j" ? (at < 0 ? 0 : Math.min(at + 1, all.length - 1)) : (at < 0 ? all.length - 1 : Math.max(at - 1, 0));
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
    event.preventDefault();
  } else if (key === "p") {
    const sentence = (at >= 0 ? all[at] : document.activeElement).closest(".sentence") || document.querySelector(".sentence.current") || document.querySelector(".sentence");
    if (!playSentence(sentence)) say("Bài chưa có âm thanh: bấm “Đọc thành âm thanh” trước.");
    event.preventDefault();
  } else if (key === "s" && at >= 0 && can("editor")) {
    all[at].click();
    event.preventDefault();
  }
});

// ---------- voice choice and cost ----------

const REGION_LABEL = { bac: "Bắc", trung: "Trung", nam: "Nam" };
const GENDER_LABEL = { nu: "nữ", nam: "nam" };

/// Selects for region and gender that narrow the voice select (`#voice`).
function voicePicker(voices) {
  const choice = (id, label, labels) => el("select", { id },
    el("option", { value: "" }, label),
    Object.entries(labels).map(([value, text]) => el("option", { value }, text)));
  const region = choice("voice-region", "Mọi miền", REGION_LABEL);
  const gender = choice("voice-gender", "Nam và nữ", GENDER_LABEL);
  const select = el("select", { id: "voice" });
  const fill = () => {
    const previous = select.value;
    const fits = voices.filter((v) => (!region.value || v.region === region.value) && (!gender.value || v.gender === gender.value));
    select.replaceChildren(...fits.map((v) => el("option", { value: v.name },
      [v.name,
        v.region ? `giọng ${REGION_LABEL[v.region] || v.region}` : "",
        v.gender ? GENDER_LABEL[v.gender] || v.gender : "",
        v.billable ? "tính phí theo ký tự" : "",
        v.description || ""].filter(Boolean).join(" – "))));
    if (fits.some((v) => v.name === previous)) select.value = previous;
    else {
      const preferred = fits.find((v) => v.default) || fits[0];
      if (preferred) select.value = preferred.name;
    }
    select.dispatchEvent(new Event("change"));
  };
  region.addEventListener("change", fill);
  gender.addEventListener("change", fill);
  fill();
  return {
    select,
    element: el("div", { class: "row" },
      el("div", { class: "grow" }, el("label", { for: "voice-region" }, "Miền"), region),
      el("div", { class: "grow" }, el("label", { for: "voice-gender" }, "Giới"), gender),
      el("div", { class: "grow" }, el("label", { for: "voice" }, "Giọng đọc"), select)),
  };
}

/// What rendering with `voice` costs, from the review's `bill`.
async function showVoiceBill(articleId, voice, node) {
  if (!voice) { node.textContent = ""; return; }
  const review = await api("GET", `/api/articles/${articleId}/review?voice=${encodeURIComponent(voice)}`);
  const bill = review.bill;
  if (!bill) { node.textContent = "Giọng này không tính phí theo ký tự."; return; }
  const cap = bill.daily_chars != null ? ` Hôm nay đã dùng ${number(bill.used_today_chars)}/${number(bill.daily_chars)} ký tự.` : "";
  node.textContent = `Tính phí ${number(bill.billable_chars)} ký tự; ${number(bill.cached_chars)} ký tự đã có sẵn (không tính lại); lần đọc này gửi ${number(bill.to_bill_chars)} ký tự.${cap}`;
}

async function followJob(jobId, progress, status) {
  for (;;) {
    const job = await api("GET", `/api/jobs/${jobId}`);
    const total = job.cue_total || 1;
    const done = job.cue_done || 0;
    progress.max = total;
    progress.value = done;
    status.textContent = `${STATUS_LABEL[job.state] || job.state} ${done}/${total}`;
    if (job.state === "done") {
      if (job.check) status.textContent += ` · ${listenCheckLabel(job.check)}`;
      return job;
    }
    if (job.state === "failed" || job.state === "cancelled") throw new ApiError(500, `Không đọc được: ${job.error || job.state}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/// The audio player with the cue being heard highlighted in the review.
async function showPlayer(id, container) {
  const { url, headers } = await fetchBlob(`/api/articles/${id}/audio`);
  // Audio older than the text: say so, so nobody airs the old version.
  const made = headers.get("X-Bantin-Revision");
  const current = headers.get("X-Bantin-Current-Revision");
  const stale = made && current && made !== current
    ? [el("p", { class: "muted", id: "audio-stale" }, `Âm thanh này đọc từ bản sửa ${made}; bài đã được sửa thành bản ${current}. Bấm “Đọc thành âm thanh” để đọc lại.`)]
    : [];
  const script = await api("GET", `/api/articles/${id}/script?format=json`);
  const audio = el("audio", { controls: true, id: "audio", src: url });
  const cues = script.cues || [];
  reviewAudio = { url, cues };
  // A button on each sentence plays that cue alone.
  document.querySelectorAll("#review .sentence").forEach((sentence) => {
    if (sentence.querySelector(".play-sentence")) return;
    sentence.prepend(el("button", {
      type: "button", class: "secondary play-sentence", "aria-label": `Nghe câu ${sentence.dataset.cue}`, title: "Nghe riêng câu này (phím P)",
      onclick: () => playSentence(sentence),
    }, "▶"));
  });
  audio.addEventListener("timeupdate", () => {
    const ms = audio.currentTime * 1000;
    const cue = cues.find((c) => ms >= c.start_ms && ms < c.end_ms + (c.pause_after_ms || 0));
    document.querySelectorAll(".sentence.current").forEach((s) => s.classList.remove("current"));
    if (cue) document.querySelector(`.sentence[data-cue="${cue.id}"]`)?.classList.add("current");
  });
  container.replaceChildren(
    audio,
    ...stale,
    el("p", { class: "row" },
      downloadButton("Tải WAV", `/api/articles/${id}/audio`, `bai-${id}.wav`),
      downloadButton("Tải MP3", `/api/articles/${id}/audio?format=mp3`, `bai-${id}.mp3`),
      downloadButton("Tải Opus", `/api/articles/${id}/audio?format=opus`, `bai-${id}.opus`),
      downloadButton("Tải kịch bản (txt)", `/api/articles/${id}/script?format=txt`, `bai-${id}.txt`),
      downloadButton("Tải phụ đề (srt)", `/api/articles/${id}/script?format=srt`, `bai-${id}.srt`)),
    el("div", { id: "listen-check" }));
  await showListenCheck(id, url, cues).catch(() => {});
}

// ---------- listen check: flagged cues, what was heard, play one cue ----------

/// The job status line of a listen check, in Vietnamese.
function listenCheckLabel(check) {
  if (check.state === "unavailable") return `Không kiểm tra nghe được: ${check.summary}`;
  if (!check.flagged) return "Đã kiểm tra nghe: không câu nào sai";
  return `Đã kiểm tra nghe: ${check.flagged} câu cần nghe lại`;
}

/// Marks the cues the recognizer heard wrong in the newest checked render
/// of article `id`: the heard text beside the script and a button that
/// plays that cue alone from the render at `audioUrl`.
async function showListenCheck(id, audioUrl, cues) {
  const box = document.getElementById("listen-check");
  document.querySelectorAll(".sentence.flagged").forEach((s) => s.classList.remove("flagged"));
  document.querySelectorAll(".heard").forEach((h) => h.remove());
  const jobs = await api("GET", `/api/articles/${id}/jobs`);
  const job = (jobs || []).find((j) => j.state === "done" && j.check);
  if (!job || !box) return;
  box.replaceChildren(el("p", { class: job.check.flagged ? "check-flagged" : "muted", id: "listen-summary" }, listenCheckLabel(job.check)));
  if (job.check.state !== "checked" || !job.check.flagged) return;
  const report = await api("GET", `/api/jobs/${job.id}/check`);
  for (const checked of report.cues || []) {
    if (!checked.flagged) continue;
    const cue = cues.find((c) => c.id === checked.id);
    const sentence = document.querySelector(`.sentence[data-cue="${checked.id}"]`);
    if (!cue || !sentence) continue;
    sentence.classList.add("flagged");
    sentence.append(el("div", { class: "heard", dataset: { cue: String(checked.id) } },
      el("span", { class: "reason" }, checked.reason || ""),
      el("span", {}, "Máy nghe được: "), el("q", { class: "heard-text" }, checked.heard || "(im lặng)"),
      el("button", { type: "button", class: "secondary play-cue", onclick: () => playCue(audioUrl, cue) }, "Nghe câu này")));
  }
}

/// Plays one cue of a render alone: an audio element on the cue's time
/// range (a media fragment), stopped at its end.
function playCue(audioUrl, cue) {
  document.querySelectorAll("audio.cue-audio").forEach((a) => { a.pause(); a.remove(); });
  const start = cue.start_ms / 1000;
  const end = cue.end_ms / 1000;
  const audio = el("audio", { class: "cue-audio", src: `${audioUrl}#t=${start},${end}`, hidden: true });
  audio.addEventListener("loadedmetadata", () => { audio.currentTime = start; });
  audio.addEventListener("timeupdate", () => { if (audio.currentTime >= end) audio.pause(); });
  document.body.append(audio);
  audio.play().catch(() => {});
  return audio;
}

function downloadButton(label, path, filename) {
  return el("button", { type: "button", class: "secondary", onclick: guard(async () => {
    const url = await blobUrl(path);
    const a = el("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }) }, label);
}

// ---------- bulletins ----------

function bulletinsView() {
  const date = el("input", { type: "date", id: "bulletin-date", value: today() });
  const slot = slotChoice("bulletin-slot", station.slots[0] ? station.slots[0].name : "");
  const form = el("form", { class: "card" },
    el("h1", {}, "Bản tin"),
    el("div", { class: "row" },
      el("div", { class: "grow" }, el("label", { for: "bulletin-date" }, "Ngày"), date),
      el("div", { class: "grow" }, el("label", { for: "bulletin-slot" }, "Buổi"), slot)),
    el("p", {}, el("button", { type: "submit" }, "Mở bản tin")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/bulletin/${date.value}/${encodeURIComponent(slot.value.trim())}`;
  });
  show(form);
}

const TRIGGER_LABEL = { schedule: "theo lịch", catch_up: "làm bù", manual: "làm tay" };

async function bulletinView(date, slot) {
  const path = `/api/bulletins/${date}/${encodeURIComponent(slot)}`;
  const [bulletin, articles] = await Promise.all([
    api("GET", path).catch((e) => {
      if (e.status === 404) return { items: [], runs: [] };
      throw e;
    }),
    api("GET", "/api/articles").catch(() => []),
  ]);
  const approvalOf = new Map(articles.map((a) => [a.id, a.approval]));
  const editor = can("editor");
  const items = bulletin.items || [];
  const ids = items.map((i) => i.article_id);
  const save = async (next) => {
    await api("PUT", path, { items: next });
    await bulletinView(date, slot);
  };
  const list = items.map((item, index) => {
    const status = item.deleted ? "deleted" : approvalOf.get(item.article_id) || "unapproved";
    return el("li", { class: `item ${status}` },
      el("div", { class: "row" },
        el("span", { class: "grow" },
          item.deleted ? el("span", {}, item.title, " ", el("span", { class: "badge failed" }, "Đã xóa")) : el("a", { href: `#/article/${item.article_id}` }, item.title),
          " ", item.deleted ? null : approvalBadge(status),
          " ", el("span", { class: "muted" }, duration(item.estimated_duration_ms))),
        editor ? el("span", { class: "item-actions" },
          el("button", { type: "button", class: "secondary", "aria-label": `Đưa “${item.title}” lên`, disabled: index === 0, onclick: guard(() => save(move(ids, index, -1))) }, "↑"),
          el("button", { type: "button", class: "secondary", "aria-label": `Đưa “${item.title}” xuống`, disabled: index === items.length - 1, onclick: guard(() => save(move(ids, index, 1))) }, "↓"),
          el("button", { type: "button", class: "danger", "aria-label": `Bỏ “${item.title}” khỏi bản tin`, onclick: guard(() => save(ids.filter((_, i) => i !== index))) }, "✕")) : null));
  });
  const unapproved = items.filter((i) => !i.deleted && approvalOf.get(i.article_id) !== "approved");
  const build = editor ? el("button", { type: "button", id: "build" }, "Làm bản tin ngay") : null;
  const player = el("div", { id: "bulletin-player" });
  if (build) {
    build.addEventListener("click", guard(async () => {
      build.disabled = true;
      try {
        await api("POST", `${path}/build`);
        say("Đã làm xong bản tin.", true);
        await bulletinView(date, slot);
      } finally {
        build.disabled = false;
      }
    }));
  }
  const total = bulletin.total_ms ?? items.reduce((sum, i) => sum + (i.estimated_duration_ms || 0), 0);
  const target = bulletin.target_ms;
  const runs = (bulletin.runs || []).map((r) => el("tr", {},
    el("td", { "data-label": "Lúc" }, when(r.started_at)),
    el("td", { "data-label": "Kết quả" }, statusBadge(r.status), " ", el("span", { class: "muted" }, TRIGGER_LABEL[r.trigger] || "")),
    el("td", { "data-label": "Chi tiết" }, r.error || (r.total_ms ? duration(r.total_ms) : ""))));
  show(
    el("h1", { id: "bulletin-title" }, bulletinName(date, slot)),
    el("p", { id: "bulletin-total" }, `Tổng ${duration(total)}`,
      target ? el("span", { class: total > target ? "over" : "under" }, ` / mục tiêu ${duration(target)}`) : ""),
    unapproved.length
      ? el("p", { class: "warning-box", id: "bulletin-unapproved", role: "status" },
        station.deliver_unapproved
          ? `Có ${unapproved.length} bài chưa được duyệt (đài cho phép vẫn giao).`
          : `Có ${unapproved.length} bài chưa được duyệt hoặc đã sửa sau khi duyệt: bản tin sẽ không được giao cho đến khi người duyệt duyệt lại.`)
      : null,
    el("div", { class: "card" },
      el("h2", {}, "Các bài"),
      items.length ? el("ol", { class: "items", id: "bulletin-items" }, list) : el("p", { class: "muted" }, "Chưa có bài nào được đưa vào bản tin này."),
      build ? el("p", {}, build) : null),
    el("div", { class: "card" }, el("h2", {}, "Nghe và tải về"), player),
    el("div", { class: "card" }, el("h2", {}, "Lịch sử"),
      runs.length
        ? el("table", { id: "runs", class: "stack" },
          el("thead", {}, el("tr", {}, ["Lúc", "Kết quả", "Chi tiết"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, runs))
        : el("p", { class: "muted" }, "Chưa lần nào.")));
  if (bulletin.audio) {
    try {
      const url = await blobUrl(`${path}/audio`);
      player.replaceChildren(el("audio", { controls: true, src: url, id: "bulletin-audio" }),
        el("p", { class: "row" },
          downloadButton("Tải WAV", `${path}/audio`, `ban-tin-${date}-${slot}.wav`),
          downloadButton("Tải MP3", `${path}/audio?format=mp3`, `ban-tin-${date}-${slot}.mp3`),
          downloadButton("Tải Opus", `${path}/audio?format=opus`, `ban-tin-${date}-${slot}.opus`),
          downloadButton("Tải kịch bản (txt)", `${path}/script?format=txt`, `ban-tin-${date}-${slot}.txt`)));
    } catch (e) {
      player.replaceChildren(el("p", { class: "muted" }, "Chưa có âm thanh."));
    }
  } else {
    player.replaceChildren(el("p", { class: "muted" }, "Chưa có âm thanh."));
  }
}

function move(ids, index, step) {
  const next = ids.slice();
  const [item] = next.splice(index, 1);
  next.splice(index + step, 0, item);
  return next;
}

// ---------- lexicon ----------

/// Adds a station entry, replacing one with the same key and context.
async function saveEntry(key, spoken, context) {
  const wanted = context.split("|").map((t) => t.trim().toLowerCase()).filter(Boolean).join("|");
  const existing = await api("GET", "/api/lexicon");
  for (const entry of existing) {
    if (entry.key === key && (entry.context || "") === wanted) await api("DELETE", `/api/lexicon/${entry.id}`);
  }
  await api("POST", "/api/lexicon", { key, spoken, context });
}

async function lexiconView(query) {
  const data = await api("GET", "/api/lexicon");
  const entries = Array.isArray(data) ? data : data.entries || [];
  const search = el("input", { type: "search", id: "lexicon-search", placeholder: "Tìm từ viết tắt hoặc cách đọc", value: query || "" });
  const key = el("input", { type: "text", id: "lexicon-key", required: true });
  const spoken = el("input", { type: "text", id: "lexicon-spoken", required: true });
  const context = el("input", { type: "text", id: "lexicon-context", placeholder: "Thành ủy|Tỉnh ủy" });
  const tbody = el("tbody", {});
  const fill = () => {
    const q = search.value.trim().toLowerCase();
    tbody.replaceChildren(...entries
      .filter((e) => !q || e.key.toLowerCase().includes(q) || e.spoken.toLowerCase().includes(q))
      .map((e) => el("tr", {},
        el("td", {}, e.key),
        el("td", {}, e.spoken),
        el("td", { class: "opt" }, Array.isArray(e.context) ? e.context.join("|") : e.context || ""),
        can("editor") && el("td", {},
          el("button", { type: "button", class: "secondary", onclick: () => { key.value = e.key; spoken.value = e.spoken; context.value = Array.isArray(e.context) ? e.context.join("|") : e.context || ""; spoken.focus(); } }, "Sửa"), " ",
          el("button", { type: "button", class: "danger", onclick: guard(async () => {
            await api("DELETE", `/api/lexicon/${e.id ?? encodeURIComponent(e.key)}`);
            say(`Đã xóa ${e.key}.`, true);
            await lexiconView(search.value);
          }) }, "Xóa")))));
  };
  search.addEventListener("input", fill);
  const form = el("form", { class: "card", id: "lexicon-form" },
    el("h2", {}, "Thêm hoặc sửa"),
    el("div", { class: "row" },
      el("div", { class: "grow" }, el("label", { for: "lexicon-key" }, "Chữ viết"), key),
      el("div", { class: "grow" }, el("label", { for: "lexicon-spoken" }, "Đọc là"), spoken),
      el("div", { class: "grow" }, el("label", { for: "lexicon-context" }, "Ngữ cảnh (không bắt buộc)"), context)),
    el("p", {}, el("button", { type: "submit" }, "Lưu")));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    await saveEntry(key.value.trim(), spoken.value.trim(), context.value.trim());
    say(`Đã lưu ${key.value.trim()}.`, true);
    await lexiconView(search.value);
  }));
  show(
    el("h1", {}, "Từ điển của đài"),
    el("p", { class: "muted" }, "Các mục ở đây thay cách đọc có sẵn cho mọi bài viết."),
    can("editor") ? form : null,
    el("div", { class: "card" }, el("label", { for: "lexicon-search" }, "Tìm trong từ điển"), search, el("table", { id: "lexicon" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Chữ viết"), el("th", { scope: "col" }, "Đọc là"), el("th", { class: "opt", scope: "col" }, "Ngữ cảnh"), can("editor") ? el("th", { scope: "col" }, "Sửa") : null)),
      tbody)));
  fill();
}

// ---------- webhooks ----------

const EVENT_LABELS = {
  "render.done": "Đọc xong",
  "render.failed": "Đọc lỗi",
  "bulletin.delivered": "Đã giao bản tin",
  "check.flagged": "Nghe lại có chỗ sai",
};
const DELIVERY_STATES = { pending: "Đang gửi lại", delivered: "Đã nhận", failed: "Thất bại" };

async function webhooksView() {
  const [hooks, deliveries] = await Promise.all([api("GET", "/api/webhooks"), api("GET", "/api/webhooks/deliveries?limit=50")]);
  const url = el("input", { type: "url", id: "webhook-url", required: true, placeholder: "https://…" });
  const description = el("input", { type: "text", id: "webhook-description", placeholder: "Cổng thông tin, loa phường…" });
  const boxes = Object.entries(EVENT_LABELS).map(([name, label]) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "event", value: name, checked: true }), " ", label));
  const form = el("form", { class: "card", id: "webhook-form" },
    el("h2", {}, "Thêm địa chỉ nhận"),
    el("div", { class: "row" },
      el("div", { class: "grow" }, el("label", { for: "webhook-url" }, "Địa chỉ (URL)"), url),
      el("div", { class: "grow" }, el("label", { for: "webhook-description" }, "Dùng cho"), description)),
    el("fieldset", {}, el("legend", {}, "Báo khi"), boxes),
    el("p", {}, el("button", { type: "submit" }, "Thêm")));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    const events = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const made = await api("POST", "/api/webhooks", { url: url.value.trim(), events, description: description.value.trim() });
    await webhooksView();
    show(...main.childNodes, el("div", { class: "card", id: "webhook-secret" },
      el("h2", {}, "Khóa ký của địa chỉ vừa thêm"),
      el("p", {}, "Chỉ hiện một lần. Bên nhận dùng khóa này để kiểm tra chữ ký X-Bantin-Signature."),
      el("code", {}, made.secret)));
    say("Đã thêm địa chỉ nhận.", true);
  }));
  const hookRows = hooks.map((h) => el("tr", {},
    el("td", { class: "url" }, h.url),
    el("td", {}, h.events.map((e) => EVENT_LABELS[e] || e).join(", ")),
    el("td", { class: "opt" }, h.description || ""),
    el("td", {}, el("button", { type: "button", class: "danger", onclick: guard(async () => {
      await api("DELETE", `/api/webhooks/${h.id}`);
      say("Đã xóa địa chỉ nhận.", true);
      await webhooksView();
    }) }, "Xóa"))));
  const deliveryRows = deliveries.map((d) => el("tr", { class: `delivery ${d.state}` },
    el("td", {}, when(d.created_at)),
    el("td", {}, EVENT_LABELS[d.event] || d.event),
    el("td", { class: "url" }, d.url),
    el("td", {}, DELIVERY_STATES[d.state] || d.state,
      d.state === "pending" && d.next_attempt_at ? el("span", { class: "muted" }, ` (lần tới ${when(d.next_attempt_at)})`) : null),
    el("td", {}, `${d.attempts} lần`),
    el("td", { class: "opt" }, d.last_error || (d.last_status ? `HTTP ${d.last_status}` : "")),
    el("td", {}, d.state === "failed" ? el("button", { type: "button", class: "secondary", onclick: guard(async () => {
      await api("POST", `/api/webhooks/deliveries/${d.id}/retry`);
      say("Sẽ gửi lại ngay.", true);
      await webhooksView();
    }) }, "Gửi lại") : null)));
  show(
    el("h1", {}, "Báo tin tự động (webhook)"),
    el("p", { class: "muted" }, "Hệ thống khác (cổng thông tin, loa thông minh…) được báo khi bài đọc xong hoặc bản tin đã giao."),
    form,
    el("div", { class: "card" }, el("h2", {}, "Địa chỉ nhận"),
      hooks.length ? el("table", { id: "webhooks" },
        el("thead", {}, el("tr", {}, el("th", {}, "Địa chỉ"), el("th", {}, "Báo khi"), el("th", { class: "opt" }, "Dùng cho"), el("th", {}, ""))),
        el("tbody", {}, hookRows)) : el("p", { class: "muted" }, "Chưa có địa chỉ nào.")),
    el("div", { class: "card" }, el("h2", {}, "Lần gửi gần đây"),
      deliveries.length ? el("table", { id: "deliveries" },
        el("thead", {}, el("tr", {}, el("th", {}, "Lúc"), el("th", {}, "Tin"), el("th", {}, "Địa chỉ"), el("th", {}, "Trạng thái"), el("th", {}, "Số lần"), el("th", { class: "opt" }, "Trả lời cuối"), el("th", {}, ""))),
        el("tbody", {}, deliveryRows)) : el("p", { class: "muted" }, "Chưa gửi lần nào.")));
}

// ---------- audit trail ----------

/// Who did what and when, filtered by article, person and day; the filters
/// live in the address (`#/audit?article=3&person=…&day=2021-07-29`).
async function auditView(query) {
  const params = new URLSearchParams(query || "");
  const [page, articles] = await Promise.all([
    api("GET", `/api/audit?${params.toString()}`),
    api("GET", "/api/articles").catch(() => []),
  ]);
  const titles = new Map(articles.map((a) => [a.id, a.title]));
  const article = el("select", { id: "audit-article" },
    el("option", { value: "" }, "Mọi bài"),
    articles.map((a) => el("option", { value: a.id, selected: String(a.id) === params.get("article") }, a.title)));
  const person = el("select", { id: "audit-person" },
    el("option", { value: "" }, "Mọi người"),
    page.persons.map((p) => el("option", { value: p, selected: p === params.get("person") }, p)));
  const day = el("input", { type: "date", id: "audit-day", value: params.get("day") || "" });
  const form = el("form", { class: "card row filters", id: "audit-form", role: "search" },
    el("div", { class: "grow" }, el("label", { for: "audit-article" }, "Bài"), article),
    el("div", { class: "grow" }, el("label", { for: "audit-person" }, "Người"), person),
    el("div", { class: "grow" }, el("label", { for: "audit-day" }, "Ngày"), day),
    el("div", {}, el("button", { type: "submit" }, "Lọc")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (article.value) next.set("article", article.value);
    if (person.value) next.set("person", person.value);
    if (day.value) next.set("day", day.value);
    location.hash = `#/audit?${next.toString()}`;
  });
  const rows = page.events.map((e) => el("tr", { class: `event ${e.action}` },
    el("td", { "data-label": "Lúc" }, when(e.at)),
    el("td", { "data-label": "Người", class: "person" }, e.person),
    el("td", { "data-label": "Việc", class: "action" }, e.action_label, e.revision ? ` (bản ${e.revision})` : ""),
    el("td", { "data-label": "Bài" }, e.article_id
      ? (titles.has(e.article_id) ? el("a", { href: `#/article/${e.article_id}` }, titles.get(e.article_id)) : "bài đã xóa")
      : ""),
    el("td", { "data-label": "Chi tiết", class: "detail" }, e.detail)));
  show(
    el("h1", {}, "Nhật ký"),
    el("p", { class: "muted" }, "Mọi lần tạo, sửa, duyệt bài, sửa cách đọc, đọc thành âm thanh và giao bản tin, với người làm và thời điểm. Nhật ký không sửa hay xóa được."),
    form,
    el("div", { class: "card" },
      rows.length
        ? el("table", { id: "audit", class: "stack", dataset: { query: params.toString() } },
          el("thead", {}, el("tr", {}, ["Lúc", "Người", "Việc", "Bài", "Chi tiết"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, rows))
        : el("p", { class: "muted" }, "Không có việc nào khớp bộ lọc.")));
}

// ---------- people and their tokens (admin) ----------

const ROLE_LABEL = { read: "Chỉ xem", editor: "Biên tập viên", approver: "Người duyệt", admin: "Quản trị" };

/// The station admin issues a token for a person with a role (its secret
/// shown once) and revokes tokens.
async function peopleView() {
  const tokens = await api("GET", "/api/tokens");
  const name = el("input", { type: "text", id: "person-token", required: true, pattern: "[A-Za-z0-9._-]+", placeholder: "vd: bien-tap-a" });
  const person = el("input", { type: "text", id: "person-name", required: true, placeholder: "Nguyễn Văn A" });
  const role = el("select", { id: "person-role" }, ROLES.map((r) => el("option", { value: r, selected: r === "editor" }, ROLE_LABEL[r])));
  const form = el("form", { class: "card", id: "person-form" },
    el("h2", {}, "Cấp mã đăng nhập"),
    el("div", { class: "row" },
      el("div", { class: "grow" }, el("label", { for: "person-name" }, "Họ tên"), person),
      el("div", { class: "grow" }, el("label", { for: "person-token" }, "Tên mã (chữ không dấu)"), name),
      el("div", { class: "grow" }, el("label", { for: "person-role" }, "Vai trò"), role)),
    el("p", {}, el("button", { type: "submit" }, "Cấp mã")));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    const issued = await api("POST", "/api/tokens", { name: name.value.trim(), scope: role.value, person: person.value.trim() });
    await peopleView();
    show(...main.childNodes, el("div", { class: "card", id: "person-secret" },
      el("h2", {}, `Mã đăng nhập của ${issued.token.person}`),
      el("p", {}, "Chỉ hiện một lần: hãy trao tận tay người dùng."),
      el("code", {}, issued.secret)));
    say(`Đã cấp mã cho ${issued.token.person}.`, true);
  }));
  const rows = tokens.map((t) => el("tr", {},
    el("td", { "data-label": "Người dùng" }, t.person),
    el("td", { "data-label": "Vai trò" }, t.role),
    el("td", { "data-label": "Tên mã" }, t.name),
    el("td", { "data-label": "Cấp lúc" }, when(t.created_at)),
    el("td", {}, t.name === me.name ? el("span", { class: "muted" }, "(đang dùng)") : el("button", { type: "button", class: "danger", "aria-label": `Thu hồi mã của ${t.person}`, onclick: guard(async () => {
      await api("DELETE", `/api/tokens/${encodeURIComponent(t.name)}`);
      say(`Đã thu hồi mã của ${t.person}.`, true);
      await peopleView();
    }) }, "Thu hồi"))));
  show(
    el("h1", {}, "Người dùng"),
    el("p", { class: "muted" }, "Mỗi mã đăng nhập thuộc về một người và một vai trò: chỉ xem < biên tập viên < người duyệt < quản trị."),
    form,
    el("div", { class: "card" },
      el("table", { id: "people", class: "stack" },
        el("thead", {}, el("tr", {}, ["Người dùng", "Vai trò", "Tên mã", "Cấp lúc", "Thu hồi"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows))));
}

// ---------- routing ----------

const routes = [
  [/^#\/signin$/, () => signInView()],
  [/^#\/?$/, () => listView()],
  [/^#\/new$/, () => newView()],
  [/^#\/article\/([^/]+)$/, (m) => articleView(m[1])],
  [/^#\/bulletins$/, () => bulletinsView()],
  [/^#\/bulletin\/([0-9-]+)\/([^/]+)$/, (m) => bulletinView(m[1], decodeURIComponent(m[2]))],
  [/^#\/lexicon$/, () => lexiconView("")],
  [/^#\/webhooks$/, () => webhooksView()],
  [/^#\/audit(?:\?(.*))?$/, (m) => auditView(m[1])],
  [/^#\/people$/, () => peopleView()],
];

/// Loads who is signed in and the station once per sign-in, and shows the
/// person and role in the header; links a role cannot use are hidden.
async function loadMe() {
  if (me) return;
  const [who, info] = await Promise.all([api("GET", "/api/me"), api("GET", "/api/station")]);
  me = who;
  station = info;
  document.getElementById("who").textContent = `${me.person} · ${me.role}`;
  document.getElementById("nav-new").hidden = !can("editor");
  document.getElementById("nav-webhooks").hidden = !can("admin");
  document.getElementById("nav-people").hidden = !can("admin");
}

async function route() {
  const hash = location.hash || "#/";
  if (!token() && hash !== "#/signin") {
    location.hash = "#/signin";
    return;
  }
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      try {
        if (token() && hash !== "#/signin") {
          await loadMe();
          nav.hidden = false;
        }
        await view(match);
      } catch (e) {
        say(e.message || String(e));
      }
      return;
    }
  }
  show(el("p", {}, "Không có trang này. ", el("a", { href: "#/" }, "Về danh sách bài.")));
}

document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => { say(""); route(); });
route();
