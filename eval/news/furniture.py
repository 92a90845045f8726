#!/usr/bin/env python3
"""Page furniture check for `bantin ingest`.

Puts each page of the yardstick together as the article an editor would paste:
the page title, the furniture lines of `furniture*.jsonl` where pages show
them (datelines and coverage labels opening the lead; date lines, time stamps
and section labels under the title; captions, credits and image names after
the first paragraph; bylines and credits at the end, then related links,
counters and comment prompts), and every story row of `part-*.jsonl` as one
paragraph each, in order. Runs it through `CMD` (e.g. `target/release/bantin
ingest --format json -`) and reports:

- furniture: how many lines are dropped with a right reason for their kind,
  dropped with another reason, or kept (read on air: a miss); `published`
  lines count only when `published` of the article is set as well;
- false drops: story rows not found whole in the kept text, both with the
  furniture and for the rows alone (these must be 0: a dropped story
  sentence is worse than a read caption).

Usage: python3 eval/news/furniture.py [--show N] CMD [ARG...]
Standard library only; the command reads the article on stdin and prints
the JSON of `bantin ingest --format json`.
"""

import glob
import re
import json
import os
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))

# Reasons that are right for each kind of furniture.
RIGHT = {
    "dateline": {"dateline"},
    "byline": {"byline"},
    "timestamp": {"date-line", "date-views"},
    "published": {"date-line", "date-views"},
    "caption": {"photo-caption", "photo-credit", "duplicate-title"},
    "credit": {"photo-credit", "photo-caption", "source-line", "byline"},
    "image-file": {"image-file", "photo-caption"},
    "related": {"see-also", "tag-list"},
    "video-prompt": {"video-prompt"},
    "comment-prompt": {"comments"},
    "section": {"section-label", "site-chrome", "share-buttons", "duplicate-title"},
    "view-counter": {"view-counter", "date-views"},
}
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}")
HEAD = {"published", "timestamp", "section"}
MIDDLE = {"caption", "image-file"}
END = ["byline", "credit", "related", "view-counter", "comment-prompt", "video-prompt"]


def fold(text):
    """Compare text with no diacritics, case or spacing differences (the
    ingest clean-up moves tone marks)."""
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("đ", "d").replace("Đ", "D").lower().split())


def load(pattern):
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, pattern))):
        with open(path, encoding="utf-8") as f:
            out.extend(json.loads(line) for line in f if line.strip())
    return out


def twice(item):
    note = item.get("note", "")
    return "twice" in note and "title" not in note


def build(page_rows, furniture):
    """The pasted article as paragraphs, and which paragraph is which line."""
    title = page_rows[0]["page"]
    rows = [r["input"] for r in page_rows]
    if rows and rows[0] == title:
        rows = rows[1:]
    head, prefix, middle, end = [], [], [], {k: [] for k in END}
    for item in furniture:
        line, kind = item["line"], item["kind"]
        if kind == "dateline" or (line.rstrip() != line and line.rstrip().endswith(("-", "–"))):
            prefix.append(line)
        elif kind in HEAD:
            head.append(line)
        elif kind == "credit" and not fold(line).startswith("theo"):
            middle.append(line)
        elif kind in MIDDLE:
            # Alt text and caption of one image sit together.
            middle.append(line + "\n\n" + line if twice(item) else line)
        else:
            end[kind if kind in end else "related"].append(line)
    paragraphs = [title] + head
    lead = "".join(prefix) + rows[0] if rows else "".join(prefix).strip()
    body = [lead] + rows[1:]
    paragraphs.append(body[0])
    # Captions and image names one after each paragraph from the first on.
    for i, paragraph in enumerate(body[1:]):
        if i < len(middle):
            paragraphs.append(middle[i])
        paragraphs.append(paragraph)
    paragraphs.extend(middle[len(body) - 1 :])
    for kind in END:
        paragraphs.extend(end[kind])
    return "\n\n".join(paragraphs) + "\n", rows


def ingest(cmd, text):
    run = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=60)
    if run.returncode != 0:
        return None, run.stderr.decode(errors="replace").strip()
    return json.loads(run.stdout), None


def false_drops(article, rows):
    kept = fold(" ".join(b["text"] for b in article["blocks"]))
    return [r for r in rows if fold(r) not in kept]


def main():
    args = sys.argv[1:]
    show = 0
    if args[:1] == ["--show"]:
        show, args = int(args[1]), args[2:]
    if not args:
        sys.exit(__doc__)
    rows = defaultdict(list)
    for row in load("part-*.jsonl"):
        rows[row["url"]].append(row)
    furniture = defaultdict(list)
    for item in load("furniture*.jsonl"):
        furniture[item["url"]].append(item)
    tally = defaultdict(Counter)
    misses, drops_with, drops_alone, errors = [], [], [], []
    for url, page_rows in rows.items():
        alone, story = build(page_rows, [])
        article, error = ingest(args, alone)
        if error:
            errors.append((url, error))
        else:
            drops_alone += [(url, r, article) for r in false_drops(article, story)]
        if url not in furniture:
            continue
        text, story = build(page_rows, furniture[url])
        article, error = ingest(args, text)
        if error:
            errors.append((url, error))
            continue
        drops_with += [(url, r, article) for r in false_drops(article, story)]
        dropped = defaultdict(list)
        for d in article["dropped"]:
            dropped[fold(d["text"])].append(d["reason"])
        for item in furniture[url]:
            kind = item["kind"]
            reasons = dropped.get(fold(item["line"]), [])
            if any(r in RIGHT[kind] for r in reasons):
                if kind == "published" and not article.get("published") and FULL_DATE.search(item["line"]):
                    tally[kind]["no-date"] += 1
                    misses.append((kind, item["line"], "dropped, published not set"))
                else:
                    tally[kind]["right"] += 1
            elif reasons:
                tally[kind]["other"] += 1
                misses.append((kind, item["line"], "dropped as " + ",".join(reasons)))
            else:
                tally[kind]["kept"] += 1
                misses.append((kind, item["line"], "kept"))
    total = Counter()
    print(f"{'kind':<16}{'lines':>6}{'right':>7}{'other':>7}{'kept':>6}")
    for kind in sorted(tally):
        t = tally[kind]
        n = sum(t.values())
        total.update(t)
        print(f"{kind:<16}{n:>6}{t['right']:>7}{t['other'] + t['no-date']:>7}{t['kept']:>6}")
    n = sum(total.values())
    print(f"{'all':<16}{n:>6}{total['right']:>7}{total['other'] + total['no-date']:>7}{total['kept']:>6}")
    for kind, line, why in misses[:show]:
        print(f"  miss {kind}: {line!r} ({why})")
    story_rows = sum(len(r) for r in rows.values())
    print(f"false drops: {len(drops_with)} with furniture, {len(drops_alone)} rows alone "
          f"(of {story_rows} story rows, {len(rows)} pages)")
    for url, row, article in (drops_with + drops_alone)[: max(show, 20)]:
        reasons = [f"{d['reason']}: {d['text'][:60]}" for d in article["dropped"]]
        print(f"  DROPPED {url}\n    {row!r}\n    dropped: {reasons}")
    for url, error in errors:
        print(f"  ERROR {url}: {error}")
    print(f"furniture dropped right {total['right']}/{n} ({100 * total['right'] / max(n, 1):.1f}%), "
          f"false drops {len(drops_with) + len(drops_alone)}")
    sys.exit(1 if errors or drops_with or drops_alone else 0)


if __name__ == "__main__":
    main()
