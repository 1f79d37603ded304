"""`make slides`: the workshop deck and the attendees' handout, assembled from the lesson folders.

    MARP_MODULES=.cache/marp/node_modules CHROMIUM=/usr/bin/chromium python3 k8s/scripts/slides/slides.py

The deck is opening.md (this folder), then every lesson folder's slides.md in lesson order (the
folders k8s/NN-*, found by looking: a new folder with a slides.md is in the next deck), then
close.md. A slide shows its lesson's picture with `![what it shows](diagram:N)`: the README's Nth
mermaid block as `make diagrams` rendered it (dist/diagrams/<stem>-N.svg), inlined as a data URI so
the HTML needs nothing but itself. Marp CLI (pinned in package-lock.json, installed into
.cache/marp) renders dist/slides/hello-k8s.html (the bespoke template: presenter view with the
speaker notes), hello-k8s.pdf (one page per slide) and hello-k8s.pptx (slide images and the notes),
with Debian's chromium, offline. The handout, dist/slides/handout.pdf (A4, at most two pages), is
written from the same folders: each lesson's title, the command that plays it, the command that
checks each exercise; the kit's first commands come from the kit's README (images/kit/README.md),
whose commands the kit tests run.

Theme: Marp's `default`, which has no @import (gaia and uncover @import web fonts); deck.css, this
folder's tweaks, has none either. The build fails when the HTML would fetch anything over http(s)
(an @import, a url(), a src or href), when a diagram is missing or older than its README, when the
PDF has not one page per slide, or when the handout is more than two pages.

SLIDES_FORMATS (default "html pdf pptx") picks the deck's formats; the handout is always written.
The deck's assembled Markdown is kept as dist/slides/hello-k8s.md (generated; never edit it).
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
K8S = REPO / "k8s"
OUT = REPO / "dist" / "slides"
DIAGRAMS = REPO / "dist" / "diagrams"
sys.path.insert(0, str(HERE.parent / "diagrams"))
from diagrams import mermaid_blocks, stem  # noqa: E402  (the same blocks, the same file names)

LESSON_DIR = re.compile(r"^\d\d-[a-z0-9-]+$")
EXERCISE_DIR = re.compile(r"^exercise-([a-z])$")
DIAGRAM = re.compile(r"!\[([^\]]*)\]\(diagram:(\d+)\)")
FENCE = re.compile(r"^(```|~~~)")
# What would make a browser fetch over the network: checked in the CSS and in the written HTML.
REMOTE = re.compile(r"""@import\s|url\(\s*['"]?\s*(?:https?:)?//"""
                    r"""|\b(?:src|srcset|poster)\s*=\s*['"]?\s*(?:https?:)?//"""
                    r"""|<link\b[^>]*\bhref\s*=\s*['"]?\s*(?:https?:)?//""", re.I)
FORMATS = ("html", "pdf", "pptx")


# ---------------------------------------------------------------------------------- the sources
def lesson_dirs() -> list[Path]:
    return sorted(p for p in K8S.iterdir() if p.is_dir() and LESSON_DIR.match(p.name))


def lesson_number(folder: Path) -> int:
    return int(folder.name[:2])


def exercise_letters(folder: Path) -> list[str]:
    """The letters of the lesson's exercises: its folders exercise-X with a check.sh (as the graders find them)."""
    return [m.group(1) for p in sorted(folder.iterdir())
            if (m := EXERCISE_DIR.match(p.name)) and (p / "check.sh").is_file()]


def lesson_title(folder: Path) -> str:
    """What follows "# Lesson N:" in the lesson's README."""
    match = re.match(r"# Lesson \d+:\s*(.+)", (folder / "README.md").read_text())
    return match.group(1).strip() if match else folder.name


def sources() -> list[Path]:
    """The deck's Markdown files in order: the opening, each lesson's slides.md, the close."""
    return [HERE / "opening.md"] + [d / "slides.md" for d in lesson_dirs()] + [HERE / "close.md"]


def split_slides(text: str) -> list[str]:
    """TEXT cut at its slide separators (a line `---` outside fenced blocks), front matter aside."""
    lines = text.splitlines()
    if lines and lines[0] == "---":  # front matter: up to the next ---
        end = lines.index("---", 1)
        lines = lines[end + 1:]
    slides, current, fence = [], [], False
    for line in lines:
        if FENCE.match(line):
            fence = not fence
        if line.strip() == "---" and not fence:
            slides.append("\n".join(current))
            current = []
        else:
            current.append(line)
    slides.append("\n".join(current))
    return [s for s in slides if s.strip()]


DIRECTIVE = re.compile(r"^\s*_?(header|footer|class|paginate|backgroundColor|color|style|theme)\s*:", re.M)


def notes(slide: str) -> list[str]:
    """The speaker notes of a slide: its HTML comments that are not Marp directives."""
    return [c.strip() for c in re.findall(r"<!--(.*?)-->", slide, re.S) if not DIRECTIVE.match(c)]


def body(slide: str) -> str:
    """A slide without its comments: what the audience sees."""
    return re.sub(r"<!--.*?-->", "", slide, flags=re.S)


def commands(slide: str) -> list[str]:
    """The command lines shown on a slide: every line of its ```sh blocks, comments cut off."""
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", body(slide), re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(" ".join(line.split()))
    return found


# ------------------------------------------------------------------------------------- the deck
def diagram_uri(readme: Path, n: int, problems: list[str]) -> str:
    """The Nth diagram of README as `make diagrams` rendered it, as a data URI ('' when missing/stale)."""
    blocks = mermaid_blocks(readme.read_text())
    base = DIAGRAMS / f"{stem(readme)}-{n}"
    rel = readme.relative_to(REPO)
    if not 1 <= n <= len(blocks):
        problems.append(f"{rel} has {len(blocks)} mermaid block(s); a slide asks for diagram:{n}")
        return ""
    svg, source = base.with_suffix(".svg"), base.with_suffix(".mmd")
    if not svg.is_file() or not source.is_file():
        problems.append(f"{svg.relative_to(REPO)} is missing: run make diagrams (make slides does)")
        return ""
    if source.read_text() != blocks[n - 1]:
        problems.append(f"{svg.relative_to(REPO)} is older than diagram {n} of {rel}: run make diagrams")
        return ""
    data = svg.read_bytes()
    if REMOTE.search(data.decode(errors="replace")):
        problems.append(f"{svg.relative_to(REPO)} would fetch something over the network")
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode()


def inline_diagrams(text: str, readme: Path, problems: list[str]) -> str:
    def img(m: re.Match) -> str:
        uri = diagram_uri(readme, int(m.group(2)), problems)
        return f'<img class="diagram" alt="{html.escape(m.group(1))}" src="{uri}">'

    return DIAGRAM.sub(img, text)


def assemble(problems: list[str]) -> tuple[str, int]:
    """The deck's Markdown and its number of slides."""
    opening = (HERE / "opening.md").read_text()
    css = (HERE / "deck.css").read_text()
    if REMOTE.search(re.sub(r"/\*.*?\*/", "", css, flags=re.S)):  # a comment fetches nothing
        problems.append("k8s/scripts/slides/deck.css has an @import or a remote url(): the deck must work offline")
    match = re.match(r"---\n.*?\n---\n", opening, re.S)
    if not match:
        problems.append("k8s/scripts/slides/opening.md must start with the deck's front matter")
        return "", 0
    front, rest = match.group(0), opening[match.end():]
    if not re.search(r"^theme: default$", front, re.M):
        problems.append("opening.md: theme must be default (gaia and uncover @import web fonts)")
    parts = [inline_diagrams(rest, REPO / "README.md", problems).strip()]
    count = len(split_slides(rest))
    for folder in lesson_dirs():
        source = folder / "slides.md"
        if not source.is_file():
            problems.append(f"{source.relative_to(REPO)} is missing: every lesson folder has its slides")
            continue
        text = source.read_text()
        slides = split_slides(text)
        if not 3 <= len(slides) <= 6:
            problems.append(f"{source.relative_to(REPO)} has {len(slides)} slides; a lesson has 3 to 6")
        for i, slide in enumerate(slides, 1):
            if not notes(slide):
                problems.append(f"{source.relative_to(REPO)}: slide {i} has no speaker notes")
        count += len(slides)
        header = f"Lesson {lesson_number(folder)}: {lesson_title(folder)}"
        parts.append(f"<!-- header: {yaml_string(header)} -->\n\n" + inline_diagrams(text, folder / "README.md",
                                                                                   problems).strip())
    close = (HERE / "close.md").read_text()
    parts.append("<!-- header: \"\" -->\n\n" + inline_diagrams(close, REPO / "README.md", problems).strip())
    count += len(split_slides(close))
    deck = front + f"\n<style>\n{css}</style>\n\n" + "\n\n---\n\n".join(parts) + "\n"
    return deck, count


def yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ----------------------------------------------------------------------------------- the handout
def facts() -> dict[str, str]:
    out = subprocess.run(["sh", str(K8S / "lib" / "facts")], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def kit_first_commands(pins: dict[str, str]) -> list[tuple[str, str]]:
    """(command, comment) of the kit README's "From unpacking to lesson 1" block, placeholders filled."""
    text = (REPO / "images" / "kit" / "README.md").read_text()
    text = text.replace("<version>", pins["HELLO_VERSION"]).replace("<kind-version>", pins["KIND_VERSION"])
    section = re.search(r"^## From unpacking to lesson 1\n(.*?)(?=^## )", text, re.M | re.S)
    block = re.search(r"^```sh\n(.*?)^```", section.group(1), re.M | re.S) if section else None
    if not block:
        raise SystemExit("slides: images/kit/README.md has no sh block under '## From unpacking to lesson 1'")
    found = []
    for line in block.group(1).splitlines():
        command, _, comment = line.partition(" # ")
        if command.strip():
            found.append((" ".join(command.split()), comment.strip()))
    return found


def handout_html(pins: dict[str, str]) -> str:
    version, repo = pins["HELLO_VERSION"], pins["HELLO_REPOSITORY"]
    kit = f"hello-k8s-kit-{version}"
    first = kit_first_commands(pins)
    doctor = [c for c, _ in first if c.startswith("./doctor")]
    steps = [(c, why) for c, why in first if not c.startswith("./doctor")]
    code = lambda s: f"<code>{html.escape(s)}</code>"  # noqa: E731
    rows = []
    for folder in lesson_dirs():
        n = lesson_number(folder)
        checks = " ".join(code(f"./check {n}" + ("" if x == "a" else f" {x}")) for x in exercise_letters(folder))
        rows.append(f"<tr><td>{n}</td><td>{html.escape(lesson_title(folder))}</td>"
                    f"<td>{code(f'./lesson {n}')}</td><td>{checks}</td></tr>")
    step_items = "".join(f"<li>{code(c)}<br><span>{html.escape(why)}</span></li>" for c, why in steps)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hello-k8s workshop {version}: handout</title>
<style>
@page {{ size: A4; margin: 12mm 14mm; }}
body {{ font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 9.5pt; line-height: 1.3; color: #1b1b1b; }}
section {{ break-inside: avoid; }}
h1 {{ font-size: 17pt; margin: 0 0 2mm; }}
h2 {{ font-size: 12pt; margin: 3.5mm 0 1.5mm; border-bottom: 1px solid #999; break-after: avoid; }}
pre {{ font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9.5pt; background: #eef1f5; padding: 1.5mm 2.5mm; margin: 1.5mm 0; break-inside: avoid; }}
td code {{ white-space: nowrap; }}
code {{ font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9pt; background: #eef1f5; padding: 0 2px; }}
ol li {{ margin-bottom: 1.5mm; }} ol li span {{ color: #444; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; }} th:nth-child(n+3) {{ white-space: nowrap; }} td, th {{ border: 1px solid #bbb; padding: 0.8mm 2mm; text-align: left; vertical-align: top; }}
th {{ background: #e4e8ee; }} td:first-child {{ width: 6mm; text-align: right; }}
p {{ margin: 1.5mm 0; }}
</style></head><body>
<h1>hello-k8s workshop {version}: handout</h1>
<p>Two tiny programs (<code>hello-once</code> prints <code>Hello, World!</code> and exits; <code>hello-loop</code>
prints it every 2 s until stopped), their images of about a megabyte, and {len(rows)} Kubernetes lessons.
You need Docker, kind {pins["KIND_VERSION"]} or newer (or minikube) and kubectl {pins["KUBECTL_VERSION"]}.
Nothing else: the kit's commands are POSIX <code>sh</code>.</p>

<section><h2>The day before: <code>./doctor</code></h2>
<p>In the unpacked kit run {code(doctor[0] if doctor else "./doctor")}: one line per check, marked
<code>[ ok ]</code>, <code>[warn]</code>, <code>[FAIL]</code> or <code>[skip]</code>, with the fix for anything
that is not ok. Fix every <code>[FAIL]</code> line before the workshop.</p></section>

<section><h2>From the kit to lesson 1 in three commands</h2>
<ol>{step_items}</ol>
<p>No cluster <code>hello</code> yet? <code>./load kind</code> loads nothing and prints the command that creates it;
run that, then <code>./load kind</code> again. With minikube: <code>./load minikube</code>.</p></section>

<section><h2>Each lesson: play it, then check your exercise</h2>
<table><tr><th>#</th><th>Lesson</th><th>Play it</th><th>Check your exercise</th></tr>
{"".join(rows)}
</table>
<p>The exercise is the lesson README's <b>Your turn</b>: edit <code>k8s/NN-…/exercise-X/start/</code>, apply it with
<code>kubectl apply -k</code>, then run the check (one line per condition, exit 0 when every one is met).
<code>solution/</code> next to it is the reference. <code>DRY_RUN=1 ./lesson N</code> prints a lesson's commands
without running them.</p></section>

<section><h2>Is my kit the real one?</h2>
<p>The kit's SHA-256 is published with it: the line for <code>{kit}.tar.gz</code> in the release's
<code>SHA256SUMS</code>, or the file <code>{kit}.tar.gz.sha256</code> that <code>make kit</code> writes beside the
archive (and prints). Save that line next to the download and check it:</p>
<pre>shasum -a 256 -c {kit}.tar.gz.sha256      # macOS (and Linux with Perl)
sha256sum -c {kit}.tar.gz.sha256          # Linux</pre>
<p>It must say <code>{kit}.tar.gz: OK</code>. Inside the unpacked kit, {code("./load verify")} checks every file
against the kit's own <code>SHA256SUMS</code>.</p></section>

<section><h2>Help</h2>
<p>Ask the presenter, and paste the output of <code>./doctor</code>: its marks read the same without colour.
The kit's <code>README.md</code> has the details (what is inside, exit codes, minikube, Docker only); each
lesson's folder has its README. Online: {html.escape(repo)} (issues: {html.escape(repo)}/issues).</p></section>
</body></html>
"""


# ------------------------------------------------------------------------------------ rendering
def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def marp(modules: Path, chromium: str, source: Path, out: Path, fmt: str) -> subprocess.CompletedProcess:
    binary = modules / ".bin" / "marp"
    args = [str(binary), "--no-stdin", "-c", str(HERE / "marp.config.json"), "--browser", "chrome",
            "--browser-path", chromium, "--browser-timeout", "120", str(source), "-o", str(out)]
    if fmt != "html":
        args.append(f"--{fmt}")
    # As root the browser needs --no-sandbox (Marp CLI adds it for CHROME_NO_SANDBOX); puppeteer's
    # default arguments already turn off background networking, sync and component updates.
    env = {**os.environ, "CHROME_NO_SANDBOX": "1", "NO_COLOR": "1"}
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False)


def print_to_pdf(chromium: str, page: Path, pdf: Path) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="slides-chromium-") as profile:
        return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                               page.as_uri()], capture_output=True, text=True, check=False, timeout=180)


def size(path: Path) -> str:
    return f"{path.stat().st_size:,} bytes"


def main() -> int:
    modules = Path(os.environ.get("MARP_MODULES", ""))
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    formats = os.environ.get("SLIDES_FORMATS", " ".join(FORMATS)).split()
    if not (modules / "@marp-team" / "marp-cli").is_dir():
        print(f"slides: MARP_MODULES={str(modules)!r} holds no @marp-team/marp-cli; run: make slides", file=sys.stderr)
        return 2
    if not formats or set(formats) - set(FORMATS):
        print(f"slides: SLIDES_FORMATS must be some of {' '.join(FORMATS)} (got {' '.join(formats)!r})", file=sys.stderr)
        return 2
    for tool in (chromium, "pdfinfo"):
        if not shutil.which(tool):
            print(f"slides: {tool} not found (Debian: apt-get install chromium poppler-utils; "
                  "elsewhere CHROMIUM=path/to/chrome)", file=sys.stderr)
            return 2
    started = time.monotonic()
    problems: list[str] = []
    deck, count = assemble(problems)
    if problems:
        for problem in problems:
            print(f"slides: {problem}", file=sys.stderr)
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    source = OUT / "hello-k8s.md"
    source.write_text(deck)
    written = []
    for fmt in formats:
        out = OUT / f"hello-k8s.{fmt}"
        result = marp(modules, chromium, source, out, fmt)
        if result.returncode != 0 or not out.is_file():
            problems.append(f"marp --{fmt} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()[-800:]}")
            continue
        if fmt == "html":
            page = out.read_text()
            # The deck's own text aside (a URL a slide shows is text, not a request), nothing remote.
            remote = sorted({m.group(0) for m in REMOTE.finditer(page)})
            if remote:
                problems.append(f"{out.relative_to(REPO)} would fetch over the network: {remote[:5]}")
            written.append(f"{out.relative_to(REPO)} ({size(out)}, {count} slides, self-contained)")
        elif fmt == "pdf":
            pages = pdf_pages(out)
            if pages != count:
                problems.append(f"{out.relative_to(REPO)} has {pages} pages for {count} slides")
            written.append(f"{out.relative_to(REPO)} ({size(out)}, {pages} pages)")
        else:
            written.append(f"{out.relative_to(REPO)} ({size(out)}, {count} slides with their notes)")
    page = OUT / "handout.html"
    page.write_text(handout_html(facts()))
    handout = OUT / "handout.pdf"
    result = print_to_pdf(chromium, page, handout)
    if result.returncode != 0 or not handout.is_file():
        problems.append(f"chromium --print-to-pdf failed (exit {result.returncode}): {result.stderr.strip()[-800:]}")
    else:
        pages = pdf_pages(handout)
        if pages > 2:
            problems.append(f"{handout.relative_to(REPO)} has {pages} pages; the handout is at most two A4 pages")
        written.append(f"{handout.relative_to(REPO)} ({size(handout)}, {pages} A4 page{'s' if pages > 1 else ''})")
    for line in written:
        print(f"slides: wrote {line}")
    for problem in problems:
        print(f"slides: {problem}", file=sys.stderr)
    print(f"slides: {count} slides from {len(lesson_dirs())} lessons, the opening and the close, in "
          f"{time.monotonic() - started:.1f} s{'; FAILED' if problems else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
