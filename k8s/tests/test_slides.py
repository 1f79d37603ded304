"""The deck and the handout (`make test-slides`, part of `make test`, after `make slides`):

- nothing rendered is committed; the PDF has one page per slide: at least three per lesson plus the
  opening and the close; the PowerPoint file has every slide with its notes; the handout is at most
  two A4 pages and names, for every lesson folder, the command that plays it and the one that checks
  each of its exercises;
- headless Chromium opens the HTML with every host unresolvable (--host-resolver-rules="MAP *
  ~NOTFOUND"): no request fails and none leaves the file (http, https or any other), the presenter view shows
  the notes; screenshots of the first slide, a diagram slide and a command slide are not blank, and
  the diagram is loaded and drawn; the same probe catches a deck that loads something over https;
- in a scratch copy of the repository, editing one lesson's slides.md changes the deck, and a new
  lesson folder with a slides.md is taken in, in lesson order (no list of lessons anywhere).

The slides' numbers and commands are checked with the READMEs' (k8s/checks/test_slides_facts.py,
make check-k8s). Nothing is written into the repository: the scratch copies and the screenshots go
to pytest's temporary folders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from harness import ROOT, clean_env, run

SLIDES = ROOT / "k8s" / "scripts" / "slides"
sys.path.insert(0, str(SLIDES))
sys.path.insert(0, str(ROOT / "k8s" / "scripts" / "diagrams"))
import slides as deck  # noqa: E402  (the assembler: the same sources, the same slide splitting)
from diagrams import colours  # noqa: E402

OUT = ROOT / "dist" / "slides"
HTML, PDF, PPTX, HANDOUT = (OUT / name for name in ("hello-k8s.html", "hello-k8s.pdf", "hello-k8s.pptx",
                                                    "handout.pdf"))
MODULES = ROOT / (os.environ.get("MARP_MODULES") or ".cache/marp/node_modules")  # make passes it relative
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
LESSONS = deck.lesson_dirs()


def slide_list() -> list[tuple[Path, str]]:
    """(source file, slide text) of every slide of the deck, in deck order."""
    return [(source, slide) for source in deck.sources() for slide in deck.split_slides(source.read_text())]


SLIDE_LIST = slide_list()


def first(where, what: str) -> int:
    """The deck number (1-based, as the HTML's #N) of the first slide for which WHERE(source, slide)."""
    for n, (source, slide) in enumerate(SLIDE_LIST, 1):
        if where(source, slide):
            return n
    raise AssertionError(f"no {what} in the deck")


FIRST = 1
DIAGRAM = first(lambda src, s: src.name == "slides.md" and "](diagram:" in s, "lesson slide with a diagram")
COMMAND = first(lambda src, s: src.name == "slides.md" and deck.commands(s), "lesson slide with a command")


@pytest.fixture(scope="module")
def built() -> None:
    missing = [p for p in (HTML, PDF, HANDOUT) if not p.is_file()]
    if missing:
        pytest.fail(f"missing {[str(p.relative_to(ROOT)) for p in missing]}: make slides writes them (make test-slides runs it)")


def pdfinfo(pdf: Path) -> dict[str, str]:
    out = run(["pdfinfo", str(pdf)])
    assert out.returncode == 0, out.stderr
    return dict(re.findall(r"^([^:]+):\s+(.*)$", out.stdout, re.M))


def probe(html: Path, where: Path, *slides: int) -> dict:
    result = run(["node", str(SLIDES / "probe.mjs"), str(html), str(where), *map(str, slides)],
                 env=clean_env(MARP_MODULES=str(MODULES), CHROMIUM=CHROMIUM), timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


# ------------------------------------------------------------------------------ the files
def test_every_lesson_has_three_to_six_slides_with_notes_and_its_picture():
    for folder in LESSONS:
        slides = deck.split_slides((folder / "slides.md").read_text())
        assert 3 <= len(slides) <= 6, f"{folder.name}/slides.md: {len(slides)} slides"
        assert any(deck.DIAGRAM.search(slide) for slide in slides), f"{folder.name}/slides.md shows no diagram"
        for i, slide in enumerate(slides, 1):
            notes = " ".join(deck.notes(slide))
            for part in ("Say:", "Point at:", "Time:"):
                assert part in notes, f"{folder.name}/slides.md slide {i}: its notes have no '{part}'"


def test_the_pdf_has_one_page_per_slide(built):
    pages = int(pdfinfo(PDF)["Pages"])
    assert pages == len(SLIDE_LIST)
    opening = len(deck.split_slides((SLIDES / "opening.md").read_text()))
    close = len(deck.split_slides((SLIDES / "close.md").read_text()))
    assert opening >= 1 and close >= 1
    assert pages >= 3 * len(LESSONS) + opening + close


def test_the_pdf_shows_each_lesson_in_order(built):
    text = run(["pdftotext", "-layout", str(PDF), "-"]).stdout.split("\f")
    at = [next(i for i, page in enumerate(text) if re.search(rf"Lesson {deck.lesson_number(f)}:", page))
          for f in LESSONS]
    assert at == sorted(at), f"lesson slides out of order: {at}"


def test_the_pptx_has_every_slide_with_its_notes(built):
    if not PPTX.is_file():
        pytest.fail("no hello-k8s.pptx: make slides writes it (Marp's PowerPoint export works offline here)")
    with zipfile.ZipFile(PPTX) as pptx:
        names = pptx.namelist()
        slides = [n for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
        notes = [n for n in names if re.fullmatch(r"ppt/notesSlides/notesSlide\d+\.xml", n)]
        assert len(slides) == len(SLIDE_LIST) and len(notes) == len(SLIDE_LIST)
        text = " ".join(pptx.read(n).decode() for n in notes)
    assert "Point at:" in text and "Time:" in text


def test_the_handout_is_at_most_two_a4_pages(built):
    info = pdfinfo(HANDOUT)
    assert 1 <= int(info["Pages"]) <= 2
    width, height = map(float, re.match(r"([\d.]+) x ([\d.]+) pts", info["Page size"]).groups())
    assert (round(width), round(height)) == (595, 842), info["Page size"]  # A4 in points


def test_the_handout_has_the_tested_commands(built):
    text = " ".join(run(["pdftotext", str(HANDOUT), "-"]).stdout.split())
    pins = deck.facts()
    kit = f"hello-k8s-kit-{pins['HELLO_VERSION']}"
    # The kit README's first commands (test_kit.py runs them from the kit), and the doctor.
    for command, _ in deck.kit_first_commands(pins):
        assert command in text, command
    for folder in LESSONS:
        n = deck.lesson_number(folder)
        assert f"./lesson {n}" in text
        for x in deck.exercise_letters(folder):
            assert f"./check {n}" + ("" if x == "a" else f" {x}") in text
    assert f"shasum -a 256 -c {kit}.tar.gz.sha256" in text and f"{kit}.tar.gz: OK" in text
    assert "./load verify" in text and pins["HELLO_REPOSITORY"] in text


def test_no_rendered_deck_is_committed():
    """The deck is only ever generated: no HTML, PDF or PowerPoint file is tracked, nothing under dist/."""
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert [p for p in out if p.startswith("dist/") or p.endswith((".pptx", ".pdf", ".html"))] == []


# ------------------------------------------------------------------------------ offline in a browser
@pytest.fixture(scope="module")
def offline(built, tmp_path_factory) -> tuple[dict, Path]:
    where = tmp_path_factory.mktemp("screenshots")
    return probe(HTML, where, FIRST, DIAGRAM, COMMAND), where


def test_the_html_makes_no_request_beyond_itself(offline):
    report, _ = offline
    assert report["failed"] == [] and report["errors"] == []
    assert all(url.startswith(HTML.as_uri()) for url in report["requests"]), report["requests"]
    assert report["dataUris"] > 0, "the diagrams are inlined as data URIs"


def test_the_html_names_nothing_to_fetch(built):
    found = sorted({m.group(0) for m in deck.REMOTE.finditer(HTML.read_text())})
    assert found == []


def test_screenshots_are_not_blank(offline):
    report, where = offline
    for n in (FIRST, DIAGRAM, COMMAND):
        assert report["slides"][str(n)]["active"], f"slide {n} is not shown"
        assert colours(where / f"slide-{n}.png") > 1, f"slide {n} is blank"


def test_the_diagram_is_loaded_and_drawn(offline):
    from PIL import Image

    report, where = offline
    (img,) = report["slides"][str(DIAGRAM)]["diagrams"]
    assert img["complete"] and img["naturalWidth"] > 0, img
    box = img["box"]
    assert box["width"] > 600 and box["height"] > 100, box
    assert 0 <= box["x"] and box["x"] + box["width"] <= 1280 and 0 <= box["y"] and box["y"] + box["height"] <= 720
    crop = where / "diagram.png"
    with Image.open(where / f"slide-{DIAGRAM}.png") as shot:
        shot.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))).save(crop)
    assert colours(crop) > 1, "the diagram's area is one flat colour"


def test_the_presenter_view_shows_the_notes(offline):
    report, _ = offline
    (source, slide) = SLIDE_LIST[FIRST - 1]
    assert any(deck.notes(slide)[0].split("\n")[0] in note for note in report["presenterNotes"]), report["presenterNotes"]


def test_the_probe_catches_a_deck_that_loads_over_https(built, tmp_path):
    doctored = tmp_path / "doctored.html"
    doctored.write_text(HTML.read_text().replace("</head>", '<link rel="stylesheet" href="https://fonts.example.com/a.css">'
                                                 "</head>", 1))
    report = probe(doctored, tmp_path / "shots", FIRST)
    assert [u for u in report["requests"] if u.startswith("https://fonts.example.com/")], report["requests"]
    assert [f for f in report["failed"] if "fonts.example.com" in f and "NAME_NOT_RESOLVED" in f], report["failed"]
    assert deck.REMOTE.search(doctored.read_text())


# ------------------------------------------------------------------------------ from the folders
def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    return [p for p in out.stdout.splitlines() if (ROOT / p).is_file()]


@pytest.fixture(scope="module")
def scratch(built, tmp_path_factory) -> Path:
    """The repository's files in a scratch folder, with the rendered diagrams copied in (make slides
    made them) and the installed Marp CLI linked in."""
    root = tmp_path_factory.mktemp("repo")
    for path in tracked():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, root / path)
    shutil.copytree(ROOT / "dist" / "diagrams", root / "dist" / "diagrams")
    return root


def build_html(root: Path) -> tuple[str, str]:
    """slides.py in ROOT, the HTML only: (its output, the HTML)."""
    result = run(["python3", "-B", str(root / "k8s" / "scripts" / "slides" / "slides.py")], cwd=root, timeout=300,
                 env=clean_env(MARP_MODULES=str(MODULES), CHROMIUM=CHROMIUM, SLIDES_FORMATS="html"))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, (root / "dist" / "slides" / "hello-k8s.html").read_text()


def slide_count(output: str) -> int:
    return int(re.search(r"hello-k8s\.html \([\d,]+ bytes, (\d+) slides", output).group(1))


def test_editing_one_lessons_slides_changes_the_deck(scratch):
    before_out, before = build_html(scratch)
    assert slide_count(before_out) == len(SLIDE_LIST)
    lesson = scratch / "k8s" / LESSONS[-1].name / "slides.md"
    text = lesson.read_text()
    lesson.write_text(text.replace("## Why", "## Why, edited in a scratch copy", 1) if "## Why" in text
                      else text + "\n---\n\n## Edited in a scratch copy\n\n<!-- Say: x. Point at: y. Time: 1 min. -->\n")
    try:
        after_out, after = build_html(scratch)
    finally:
        lesson.write_text(text)
    assert after != before
    assert "edited in a scratch copy" in after.lower() and "edited in a scratch copy" not in before.lower()


def test_a_new_lesson_folder_with_slides_is_in_the_deck_in_order(scratch):
    source = LESSONS[0]
    copy = scratch / "k8s" / "99-copy"
    shutil.copytree(scratch / "k8s" / source.name, copy)
    for rendered in (scratch / "dist" / "diagrams").glob(f"k8s-{source.name}-*"):
        shutil.copy(rendered, rendered.with_name(rendered.name.replace(source.name, "99-copy")))
    slides = copy / "slides.md"
    slides.write_text(slides.read_text().replace("## Play it", "## Play the copied lesson", 1))
    try:
        out, html = build_html(scratch)
    finally:
        shutil.rmtree(copy)
    assert slide_count(out) == len(SLIDE_LIST) + len(deck.split_slides((source / "slides.md").read_text()))
    assert "Play the copied lesson" in html
    # After every lesson of the repository and before the close.
    last = deck.split_slides((LESSONS[-1] / "slides.md").read_text())[0].splitlines()
    close = [line for line in deck.split_slides((SLIDES / "close.md").read_text())[0].splitlines() if line.startswith("## ")][0]
    heading = next(line for line in last if line.startswith("# "))
    assert html.index(heading[2:].strip()) < html.index("Play the copied lesson") < html.index(close[3:].strip())
