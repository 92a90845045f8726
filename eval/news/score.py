"""Score a Vietnamese text normalizer on the real-news yardstick (eval/news/part-*.jsonl).

Usage:
    python3 eval/news/score.py [--show-failures N] [--dump PATH] [--include-unsure]
                               [--files a.jsonl b.jsonl ...] [--timeout S] [--check]
                               CMD [ARG...]

The command is started ONCE.  Every `input` of the selected rows is written to its stdin,
one per line (UTF-8, "\\n"-terminated), and stdin is then closed.  It must print exactly one
output line per input line, in order (e.g. `bantin normalize --lines`).  Writing and reading
run concurrently, so a command that answers line by line works as well as one that reads
everything first.  If the number of output lines differs, the scorer says so, scores by
position (missing lines fail) and exits with status 2.

Scores (rows marked "unsure": true are left out unless --include-unsure):
  sentences  the canonical output matches the canonical gold exactly, with the gold's
             {a|b} alternatives (one level of nesting, empty options allowed) as choices;
  tokens     every non-standard word of the input (the row's "tokens") is right when one of
             its "spoken" forms, canonicalized, occurs in the canonical output after the end
             of the previous token's match (falling back to anywhere when not found in order).
Tables per topic and per token class follow; the last line is always
    news sentences X% tokens Y% (n=N sentences, M tokens)

Canonical form (both output and gold): Unicode NFC, lowercase, a hyphen between two letters
becomes a space, every other punctuation character (Unicode category P*) becomes a space,
whitespace collapsed; then these equivalences (see README.md):
  E1  ngàn = nghìn
  E2  lẻ = linh, only when the next word is a unit digit word
  E3  mươi bốn = mươi tư
  E4  tỉ = tỷ
  E5  "không trăm" directly after nghìn/ngàn/triệu/tỷ/tỉ may be present or absent
  E6  old/new tone-mark placement in open oa/oe/uy syllables (hòa = hoà, thủy = thuỷ)

--check validates the data files (fields, classes, NFC, every token's spoken form inside the
gold) and exits without running a command (no CMD needed).

Python 3.11 standard library only.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time
import unicodedata

CLASSES = (
    "date time number decimal percent money unit range fraction ratio score phone code "
    "roman abbrev letter loanword signed symbol other"
).split()

# --------------------------------------------------------------------------------------
# canonical form
# --------------------------------------------------------------------------------------

_DIGIT_WORDS = {"một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "sáu", "bảy", "tám", "chín"}
_MAGNITUDES = {"nghìn", "ngàn", "triệu", "tỷ", "tỉ"}
_TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền sắc hỏi ngã nặng (NFD combining marks)
_WORDCHAR = r"[\w\u0300-\u036f]"


def _tone_placement(word: str) -> str:
    """Old-style tone placement in open oa/oe/uy syllables -> new style (hòa -> hoà)."""
    d = unicodedata.normalize("NFD", word)
    end = r"(?!" + _WORDCHAR + r")"
    d = re.sub(r"o([" + _TONES + r"])([ae])" + end, r"o\2\1", d)
    d = re.sub(r"u([" + _TONES + r"])y" + end, r"uy\1", d)
    return unicodedata.normalize("NFC", d)


def _surface_words(s: str) -> list:
    """NFC, lowercase, hyphen between letters -> space, punctuation -> space, split."""
    s = unicodedata.normalize("NFC", s).lower()
    chars = []
    n = len(s)
    for i, ch in enumerate(s):
        cat = unicodedata.category(ch)
        if cat.startswith("P"):
            chars.append(" ")
        else:
            chars.append(ch)
    s = "".join(chars)
    return [_tone_placement(w) for w in s.split()]


def _rules(words: list, prev=None, nxt=None) -> list:
    """Apply E1-E5 to a word list; prev/nxt are context words just outside the list."""
    out = []
    i = 0
    while i < len(words):
        t = words[i]
        after = words[i + 1] if i + 1 < len(words) else nxt
        before = out[-1] if out else (prev if i == 0 else None)
        if t == "không" and i + 1 < len(words) and words[i + 1] == "trăm" and before in _MAGNITUDES | {"nghìn", "tỷ"}:
            i += 2
            continue
        if t == "ngàn":
            t = "nghìn"
        elif t == "tỉ":
            t = "tỷ"
        elif t == "lẻ" and after in _DIGIT_WORDS:
            t = "linh"
        elif t == "bốn" and before == "mươi":
            t = "tư"
        out.append(t)
        i += 1
    return out


def canon(s: str) -> str:
    return " ".join(_rules(_surface_words(s)))


# --------------------------------------------------------------------------------------
# gold alternatives -> regex over canonical words
# --------------------------------------------------------------------------------------


class GoldSyntaxError(ValueError):
    pass


def _parse_alts(text: str):
    """Parse 'a {b|c {d|}} e' into a Seq: list of str | list[Seq] (an Alt)."""
    pos = 0

    def seq(depth):
        nonlocal pos
        items = []
        buf = []
        while pos < len(text):
            ch = text[pos]
            if ch == "{":
                if depth >= 2:
                    raise GoldSyntaxError(f"alternatives nested deeper than one level: {text!r}")
                if buf:
                    items.append("".join(buf))
                    buf = []
                pos += 1
                options = [seq(depth + 1)]
                while pos < len(text) and text[pos] == "|":
                    pos += 1
                    options.append(seq(depth + 1))
                if pos >= len(text) or text[pos] != "}":
                    raise GoldSyntaxError(f"unclosed {{ in {text!r}")
                pos += 1
                items.append(options)
            elif ch in "|}":
                if depth == 0:
                    raise GoldSyntaxError(f"stray {ch!r} in {text!r}")
                break
            else:
                buf.append(ch)
                pos += 1
        if buf:
            items.append("".join(buf))
        return items

    result = seq(0)
    if pos != len(text):
        raise GoldSyntaxError(f"unbalanced braces in {text!r}")
    return result


def _edge_word(items, k, side):
    """The surface word adjacent to items[k] on `side` (-1 left, +1 right), if a literal."""
    j = k + side
    if 0 <= j < len(items) and isinstance(items[j], str):
        ws = _surface_words(items[j])
        if ws:
            return ws[-1] if side < 0 else ws[0]
    return None


def _seq_regex(items, prev=None, nxt=None) -> str:
    parts = []
    for k, it in enumerate(items):
        p = _edge_word(items, k, -1) if k > 0 else prev
        n = _edge_word(items, k, +1) if k + 1 < len(items) else nxt
        if isinstance(it, str):
            words = _rules(_surface_words(it), p, n)
            parts.append("".join(re.escape(w) + " " for w in words))
        else:
            opts = sorted({_seq_regex(o, p, n) for o in it}, key=len, reverse=True)
            parts.append("(?:" + "|".join(opts) + ")")
    return "".join(parts)


_regex_cache = {}


def gold_regex(text: str):
    """Compiled regex matching canonical text + ' ' (every word followed by one space)."""
    r = _regex_cache.get(text)
    if r is None:
        r = re.compile(_seq_regex(_parse_alts(text)))
        _regex_cache[text] = r
    return r


def expansions(text: str, limit=64) -> list:
    """Up to `limit` plain expansions of a gold string (for messages and checks)."""

    def exp(items):
        outs = [""]
        for it in items:
            if isinstance(it, str):
                outs = [o + it for o in outs]
            else:
                alts = []
                for o in it:
                    alts.extend(exp(o))
                outs = [o + a for o in outs for a in alts][:limit]
        return outs

    return [" ".join(x.split()) for x in exp(_parse_alts(text))]


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


def load_rows(paths):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: bad JSON: {e}")
                row["_where"] = f"{os.path.basename(path)}:{n}"
                rows.append(row)
    return rows


def check_rows(rows) -> int:
    problems = 0
    ids = set()

    def bad(row, msg):
        nonlocal problems
        problems += 1
        print(f"{row.get('_where')} [{row.get('id')}]: {msg}")

    for row in rows:
        for key in ("id", "url", "page", "topic", "input", "gold", "tokens", "unsure", "note"):
            if key not in row:
                bad(row, f"missing field {key!r}")
        if row.get("id") in ids:
            bad(row, "duplicate id")
        ids.add(row.get("id"))
        for key in ("input", "gold", "page"):
            v = row.get(key, "")
            if v != unicodedata.normalize("NFC", v):
                bad(row, f"{key} is not NFC")
        if "\n" in row.get("input", ""):
            bad(row, "input has a newline")
        gold = row.get("gold", "")
        if gold != gold.lower():
            bad(row, "gold is not lowercase")
        stripped = re.sub(r"[{}|]", "", gold)
        if any(unicodedata.category(c).startswith("P") and c != "-" for c in stripped):
            bad(row, "gold has punctuation")
        try:
            gold_regex(gold)
        except GoldSyntaxError as e:
            bad(row, str(e))
            continue
        if row.get("unsure") and not row.get("note"):
            bad(row, "unsure without a note")
        for tok in row.get("tokens", []):
            if tok.get("class") not in CLASSES:
                bad(row, f"token {tok.get('text')!r}: unknown class {tok.get('class')!r}")
            if tok.get("text", "") not in row.get("input", ""):
                bad(row, f"token {tok.get('text')!r} not in input")
            sp = tok.get("spoken", "")
            if not sp or sp not in gold:
                bad(row, f"token {tok.get('text')!r}: spoken {sp!r} not in gold")
            try:
                gold_regex(sp)
            except GoldSyntaxError as e:
                bad(row, f"token {tok.get('text')!r}: {e}")
        # each expansion of the gold must be matched by its own regex (sanity)
        for e in expansions(gold, 8):
            if not gold_regex(gold).fullmatch(canon(e) + " " if canon(e) else ""):
                bad(row, f"gold expansion does not match its own regex: {e!r}")
                break
    print(f"checked {len(rows)} rows: {problems} problem(s)")
    return problems


# --------------------------------------------------------------------------------------
# running and scoring
# --------------------------------------------------------------------------------------


def run_command(cmd, inputs, timeout):
    data = "".join(x + "\n" for x in inputs).encode("utf-8")
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except OSError as e:
        print(f"error: cannot start {cmd[0]!r}: {e}", file=sys.stderr)
        return [], 127, 0.0
    try:
        out, _ = proc.communicate(data, timeout=timeout)  # writes and reads concurrently
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        print(f"error: command timed out after {timeout} s", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    lines = out.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [x.rstrip("\r") for x in lines], proc.returncode, elapsed


def score_tokens(tokens, out_c):
    """Return a list of (token, ok) in order; out_c is the canonical output."""
    hay = " " + out_c + " " if out_c else " "
    pos = 0
    res = []
    for tok in tokens:
        rx = re.compile(" " + gold_regex(tok["spoken"]).pattern)
        m = rx.search(hay, pos)
        if m is None:
            m = rx.search(hay)
            ok = m is not None
        else:
            ok = True
            pos = m.end() - 1
        res.append((tok, ok))
    return res


def pct(a, b):
    return 100.0 * a / b if b else 0.0


USAGE = """usage: score.py [--show-failures N] [--dump PATH] [--include-unsure] [--timeout S]
                [--files A.jsonl [B.jsonl ...]] [--check] CMD [ARG...]"""


def parse_args(argv):
    """Options come first; the first other word starts CMD (or after '--').  --files takes
    the following words that end in .jsonl, so `--files a.jsonl b.jsonl cmd -x` works."""
    ns = argparse.Namespace(files=None, show_failures=0, dump=None, include_unsure=False,
                            timeout=600.0, check=False, cmd=[])
    i = 0

    def value(name):
        nonlocal i
        if i + 1 >= len(argv):
            sys.exit(f"{name} needs a value\n{USAGE}")
        i += 1
        return argv[i]

    while i < len(argv):
        a = argv[i]
        if a == "--":
            ns.cmd = argv[i + 1:]
            break
        if a in ("-h", "--help"):
            print(USAGE)
            print(__doc__)
            sys.exit(0)
        if a == "--files":
            ns.files = []
            while i + 1 < len(argv) and argv[i + 1].endswith(".jsonl"):
                i += 1
                ns.files.append(argv[i])
            if not ns.files:
                sys.exit(f"--files needs at least one .jsonl file\n{USAGE}")
        elif a == "--show-failures":
            ns.show_failures = int(value(a))
        elif a == "--dump":
            ns.dump = value(a)
        elif a == "--timeout":
            ns.timeout = float(value(a))
        elif a == "--include-unsure":
            ns.include_unsure = True
        elif a == "--check":
            ns.check = True
        elif a.startswith("--") and "=" in a:
            k, v = a.split("=", 1)
            argv = argv[:i] + [k, v] + argv[i + 1:]
            continue
        elif a.startswith("-"):
            sys.exit(f"unknown option {a}\n{USAGE}")
        else:
            ns.cmd = argv[i:]
            break
        i += 1
    return ns


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    args = parse_args(sys.argv[1:] if argv is None else argv)
    files = args.files or sorted(glob.glob(os.path.join(here, "part-*.jsonl")))
    if not files:
        sys.exit("no data files (eval/news/part-*.jsonl)")
    rows = load_rows(files)
    if args.check:
        return 1 if check_rows(rows) else 0
    if not args.cmd:
        sys.exit(f"no command given\n{USAGE}")
    if not args.include_unsure:
        rows = [r for r in rows if not r.get("unsure")]
    if not rows:
        sys.exit("no rows selected")

    lines, rc, elapsed = run_command(args.cmd, [r["input"] for r in rows], args.timeout)
    status = 0
    if rc != 0:
        print(f"warning: command exited with status {rc}", file=sys.stderr)
        status = 2
    if len(lines) != len(rows):
        print(f"error: {len(rows)} input lines but {len(lines)} output lines; scoring by "
              "position, missing lines count as failures", file=sys.stderr)
        status = 2

    results = []
    for i, row in enumerate(rows):
        got = lines[i] if i < len(lines) else None
        out_c = canon(got) if got is not None else ""
        if got is None:
            exact = False
            toks = [(t, False) for t in row["tokens"]]
        else:
            exact = gold_regex(row["gold"]).fullmatch(out_c + " " if out_c else "") is not None
            toks = score_tokens(row["tokens"], out_c)
        results.append((row, got, exact, toks))

    # tables
    topics, classes = {}, {}
    for row, got, exact, toks in results:
        t = topics.setdefault(row.get("topic", "?"), [0, 0, 0, 0])
        t[0] += 1
        t[1] += exact
        t[2] += len(toks)
        t[3] += sum(ok for _, ok in toks)
        for tok, ok in toks:
            c = classes.setdefault(tok["class"], [0, 0])
            c[0] += 1
            c[1] += ok
    n = len(results)
    n_exact = sum(r[2] for r in results)
    m = sum(len(r[3]) for r in results)
    m_ok = sum(ok for r in results for _, ok in r[3])

    w = max([len(k) for k in topics] + [len("overall")])
    print(f"{'topic':<{w}}  {'rows':>5}  {'sent%':>6}  {'tokens':>6}  {'tok%':>6}")
    for k in sorted(topics):
        a, b, c, d = topics[k]
        print(f"{k:<{w}}  {a:>5}  {pct(b, a):>5.1f}%  {c:>6}  {pct(d, c):>5.1f}%")
    print(f"{'overall':<{w}}  {n:>5}  {pct(n_exact, n):>5.1f}%  {m:>6}  {pct(m_ok, m):>5.1f}%")
    print()
    w = max([len(k) for k in classes] + [len("class")])
    print(f"{'class':<{w}}  {'tokens':>6}  {'right':>6}  {'tok%':>6}")
    for k in sorted(classes, key=lambda k: (-classes[k][0], k)):
        a, b = classes[k]
        print(f"{k:<{w}}  {a:>6}  {b:>6}  {pct(b, a):>5.1f}%")
    chars = sum(len(r["input"]) + 1 for r in rows)
    print(f"\ntime {elapsed:.3f} s for {n} lines / {chars} input chars (whole command, start-up included)")

    if args.show_failures > 0:
        fails = [r for r in results if not r[2]]
        print(f"\n--- {min(len(fails), args.show_failures)} of {len(fails)} failing rows")
        for row, got, exact, toks in fails[: args.show_failures]:
            print(f"[{row['id']}] {row.get('topic', '')}  {row.get('url', '')}")
            print(f"    input:  {row['input']}")
            print(f"    output: {got if got is not None else '<missing line>'}")
            print(f"    gold:   {row['gold']}")
            for tok, ok in toks:
                if not ok:
                    print(f"    token {tok['class']}: {tok['text']!r} -> {tok['spoken']!r}")

    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for row, got, exact, toks in results:
                f.write(json.dumps({
                    "id": row["id"], "topic": row.get("topic"), "input": row["input"],
                    "output": got, "gold": row["gold"], "exact": exact,
                    "tokens": [{"text": t["text"], "class": t["class"], "spoken": t["spoken"],
                                "ok": ok} for t, ok in toks],
                }, ensure_ascii=False) + "\n")

    print(f"news sentences {pct(n_exact, n):.1f}% tokens {pct(m_ok, m):.1f}% (n={n} sentences, {m} tokens)")
    return status


if __name__ == "__main__":
    sys.exit(main())
