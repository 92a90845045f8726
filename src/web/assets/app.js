// bantin staff page: plain JavaScript over the JSON API, no build step.
// Every piece of article text reaches the page through textContent (the `el`
// helper) and is never parsed as markup, so an article containing tags shows as text.
// The sign-in token travels only in the Authorization header (never in a
// cookie), so another site cannot make the browser write on our behalf.
"use strict";

const TOKEN_KEY = "bantin.token";
const main = document.getElementById("main");
const flash = document.getElementById("flash");
const nav = document.getElementById("nav");

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

function clock(ms) {
  if (ms === undefined || ms === null) return "–";
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
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
  403: "Mã đăng nhập này chỉ có quyền xem, không được sửa",
  404: "Không tìm thấy",
  409: "Dữ liệu đã thay đổi, hãy tải lại trang",
  413: "Tệp quá lớn",
  415: "Định dạng tệp không được hỗ trợ (chỉ nhận .txt, .html, .docx)",
  422: "Nội dung không hợp lệ",
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
  nav.hidden = true;
  if (location.hash !== "#/signin") location.hash = "#/signin";
}

function signInView() {
  nav.hidden = true;
  const input = el("input", { type: "password", id: "token", autocomplete: "off", required: true });
  const form = el("form", { class: "card", id: "signin-form" },
    el("h1", {}, "Đăng nhập"),
    el("p", { class: "muted" }, "Nhập mã đăng nhập do kỹ thuật viên cấp (lệnh bantin token add)."),
    el("label", { for: "token" }, "Mã đăng nhập"),
    input,
    el("p", {}, el("button", { type: "submit" }, "Đăng nhập")));
  form.addEventListener("submit", guard(async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
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

async function listView() {
  const data = await api("GET", "/api/articles");
  const articles = Array.isArray(data) ? data : data.articles || [];
  const rows = articles.map((a) => el("tr", {},
    el("td", {}, el("a", { href: `#/article/${a.id}` }, a.title || `Bài ${a.id}`)),
    el("td", { class: "opt" }, a.published || (a.created_at || "").slice(0, 10)),
    el("td", {}, statusBadge(a.status || a.job_state)),
    el("td", { class: "opt" }, clock(a.duration_ms ?? a.estimated_duration_ms)),
    el("td", {}, (a.approvals || []).map((approval) => {
      const [date, slot] = approval.split(" ");
      return el("a", { class: "badge", href: `#/bulletin/${date}/${encodeURIComponent(slot)}` }, approval);
    }))));
  show(
    el("div", { class: "row" }, el("h1", { class: "grow" }, "Bài viết"), el("a", { class: "button", href: "#/new" }, "Thêm bài")),
    articles.length === 0
      ? el("p", { class: "muted" }, "Chưa có bài nào. Hãy thêm bài đầu tiên.")
      : el("div", { class: "card" }, el("table", { id: "articles" },
        el("thead", {}, el("tr", {}, el("th", {}, "Tiêu đề"), el("th", { class: "opt" }, "Ngày"), el("th", {}, "Trạng thái"), el("th", { class: "opt" }, "Thời lượng"), el("th", {}, "Bản tin"))),
        el("tbody", {}, rows))));
}

const STATUS_LABEL = {
  new: "mới", draft: "mới", queued: "chờ đọc", running: "đang đọc", done: "đã đọc", rendered: "đã đọc",
  failed: "lỗi", cancelled: "đã hủy", built: "đã làm", reused: "dùng lại",
};

function statusBadge(status) {
  const key = status || "new";
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
    role: "button",
    title: `${token.original} → ${token.spoken} (${token.rule})`,
    dataset: { rule: token.rule, original: token.original },
  }, token.spoken || "∅", el("span", { class: "orig" }, `[${token.original}]`));
  const pick = () => onPick(token, node);
  node.addEventListener("click", pick);
  node.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
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
    el("p", { class: "muted" }, `Hiện đọc là “${token.spoken}” (quy tắc ${token.rule}). Cách đọc mới được lưu vào từ điển của đài và áp dụng cho mọi bài sau.`),
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

async function articleView(id) {
  const review = await api("GET", `/api/articles/${id}/review`);
  const voices = await api("GET", "/api/voices").catch(() => []);
  const reload = () => articleView(id);
  const sentences = review.sentences || [];
  const paragraphs = [];
  let current = null;
  let lastParagraph = null;
  sentences.forEach((sentence, index) => {
    if (sentence.paragraph !== lastParagraph) {
      current = el("div", { class: "paragraph card" });
      paragraphs.push(current);
      lastParagraph = sentence.paragraph;
    }
    current.append(el("div", { class: "sentence", dataset: { cue: String(index + 1) } },
      el("span", { class: "time" }, clock(sentence.start_ms)),
      spokenSentence(sentence, (token, node) => correctionEditor(review, token, node, reload))));
  });
  const dropped = (review.dropped || []).map((d) => el("li", { class: "dropped" }, el("s", {}, d.text), el("span", { class: "reason" }, `— ${DROP_REASON[d.reason] || d.detail || d.reason}`)));
  const warnings = (review.warnings || []).map((w) => el("li", {}, w.message || w));
  const picker = voicePicker(Array.isArray(voices) ? voices : voices.voices || []);
  const voiceSelect = picker.select;
  const bill = el("p", { id: "voice-bill", class: "muted" });
  const updateBill = () => showVoiceBill(id, voiceSelect.value, bill).catch(() => { bill.textContent = ""; });
  voiceSelect.addEventListener("change", updateBill);
  updateBill();
  const renderButton = el("button", { type: "button", id: "render" }, "Đọc thành âm thanh");
  const progress = el("progress", { class: "progress", id: "render-progress", max: 1, value: 0, hidden: true });
  const status = el("span", { id: "render-status", class: "muted" });
  const player = el("div", { id: "player" });
  const approveDate = el("input", { type: "date", id: "approve-date", value: today() });
  const approveSlot = el("input", { type: "text", id: "approve-slot", value: "sang" });
  const approve = el("button", { type: "button", id: "approve" }, "Duyệt vào bản tin");

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
  approve.addEventListener("click", guard(async () => {
    const date = approveDate.value;
    const slot = approveSlot.value.trim();
    const bulletin = await api("GET", `/api/bulletins/${date}/${encodeURIComponent(slot)}`).catch((e) => {
      if (e.status === 404) return { items: [] };
      throw e;
    });
    const items = (bulletin.items || []).map((i) => i.article_id ?? i.id ?? i);
    if (!items.includes(Number(id)) && !items.includes(id)) items.push(Number(id));
    await api("PUT", `/api/bulletins/${date}/${encodeURIComponent(slot)}`, { items });
    say(`Đã duyệt vào bản tin ${slot} ngày ${date}.`, true);
    location.hash = `#/bulletin/${date}/${encodeURIComponent(slot)}`;
  }));

  show(
    el("h1", { id: "article-title" }, review.title || `Bài ${id}`),
    el("p", { class: "muted" },
      review.published ? `Ngày đăng ${review.published} · ` : "",
      `Bản ${review.revision ?? 1} · Thời lượng ước tính `, el("span", { id: "estimated" }, clock(review.estimated_duration_ms)),
      review.byline ? ` · ${review.byline}` : ""),
    el("p", { class: "muted" }, "Phần tô vàng là chỗ chuyển chữ viết thành lời đọc; bấm vào để sửa cách đọc."),
    warnings.length ? el("div", { class: "card" }, el("h2", {}, "Cần kiểm tra"), el("ul", { class: "warnings" }, warnings)) : null,
    el("div", { id: "review" }, paragraphs),
    dropped.length ? el("div", { class: "card" }, el("h2", {}, "Không đọc"), el("ul", { id: "dropped" }, dropped)) : null,
    el("div", { class: "card" },
      el("h2", {}, "Âm thanh"),
      picker.element,
      bill,
      el("p", { class: "row" }, renderButton, status),
      progress,
      player),
    el("div", { class: "card" },
      el("h2", {}, "Duyệt vào bản tin"),
      el("div", { class: "row" },
        el("div", { class: "grow" }, el("label", { for: "approve-date" }, "Ngày"), approveDate),
        el("div", { class: "grow" }, el("label", { for: "approve-slot" }, "Buổi"), approveSlot)),
      el("p", {}, approve)));
  await showPlayer(id, player).catch(() => {});
}

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
  const cap = bill.daily_chars != null ? ` Hôm nay đã dùng ${bill.used_today_chars}/${bill.daily_chars} ký tự.` : "";
  node.textContent = `Tính phí ${bill.billable_chars} ký tự; ${bill.cached_chars} ký tự đã có sẵn (không tính lại); lần đọc này gửi ${bill.to_bill_chars} ký tự.${cap}`;
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
  const slot = el("input", { type: "text", id: "bulletin-slot", value: "sang" });
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

async function bulletinView(date, slot) {
  const path = `/api/bulletins/${date}/${encodeURIComponent(slot)}`;
  const bulletin = await api("GET", path).catch((e) => {
    if (e.status === 404) return { items: [], runs: [] };
    throw e;
  });
  const items = bulletin.items || [];
  const ids = items.map((i) => i.article_id ?? i.id ?? i);
  const save = async (next) => {
    await api("PUT", path, { items: next });
    await bulletinView(date, slot);
  };
  const list = items.map((item, index) => el("li", {},
    el("div", { class: "row" },
      el("span", { class: "grow" }, el("a", { href: `#/article/${ids[index]}` }, item.title || `Bài ${ids[index]}`), " ", el("span", { class: "muted" }, clock(item.duration_ms ?? item.estimated_duration_ms ?? item.estimated_ms))),
      el("button", { type: "button", class: "secondary", title: "Lên", disabled: index === 0, onclick: guard(() => save(move(ids, index, -1))) }, "↑"),
      el("button", { type: "button", class: "secondary", title: "Xuống", disabled: index === items.length - 1, onclick: guard(() => save(move(ids, index, 1))) }, "↓"),
      el("button", { type: "button", class: "danger", title: "Bỏ khỏi bản tin", onclick: guard(() => save(ids.filter((_, i) => i !== index))) }, "✕"))));
  const build = el("button", { type: "button", id: "build" }, "Làm bản tin ngay");
  const player = el("div", { id: "bulletin-player" });
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
  const total = bulletin.total_ms ?? items.reduce((sum, i) => sum + (i.duration_ms ?? i.estimated_duration_ms ?? i.estimated_ms ?? 0), 0);
  const target = bulletin.target_ms;
  const runs = (bulletin.runs || []).map((r) => el("tr", {},
    el("td", {}, (r.started_at || r.at || "").replace("T", " ").slice(0, 19)),
    el("td", {}, statusBadge(r.status || r.outcome)),
    el("td", {}, r.error || r.detail || (r.total_ms ? clock(r.total_ms) : ""))));
  show(
    el("h1", { id: "bulletin-title" }, `Bản tin ${bulletin.slot_label || slot} ngày ${date}`),
    el("p", { id: "bulletin-total" }, `Tổng ${clock(total)}`,
      target ? el("span", { class: total > target ? "over" : "under" }, ` / mục tiêu ${clock(target)}`) : ""),
    el("div", { class: "card" },
      el("h2", {}, "Các bài"),
      items.length ? el("ol", { class: "items", id: "bulletin-items" }, list) : el("p", { class: "muted" }, "Chưa có bài nào được duyệt cho bản tin này."),
      el("p", {}, build)),
    el("div", { class: "card" }, el("h2", {}, "Nghe và tải về"), player),
    el("div", { class: "card" }, el("h2", {}, "Lịch sử"),
      runs.length ? el("table", { id: "runs" }, el("tbody", {}, runs)) : el("p", { class: "muted" }, "Chưa lần nào.")));
  if (bulletin.audio || (bulletin.runs || []).some((r) => (r.status || r.outcome) === "done")) {
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
        el("td", {},
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
    form,
    el("div", { class: "card" }, search, el("table", { id: "lexicon" },
      el("thead", {}, el("tr", {}, el("th", {}, "Chữ viết"), el("th", {}, "Đọc là"), el("th", { class: "opt" }, "Ngữ cảnh"), el("th", {}, ""))),
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

/// "05/12/2026 14:03" in the browser's time zone; "–" for nothing.
function when(text) {
  if (!text) return "–";
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return "–";
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

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
];

async function route() {
  const hash = location.hash || "#/";
  if (!token() && hash !== "#/signin") {
    location.hash = "#/signin";
    return;
  }
  if (token()) nav.hidden = false;
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      try {
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
