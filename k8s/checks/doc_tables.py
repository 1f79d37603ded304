#!/usr/bin/env python3
"""The two tables the documents copy from the lesson folders, so that a new lesson folder reaches them
with one command and a stale copy fails `make check-k8s` (test_docs.py) instead of drifting:

- the top-level README's lesson table: k8s/README.md's (one row per lesson of the course, which
  test_readme_facts.py holds to k8s/kustomization.yaml), its links made relative to the top;
- k8s/HOSTING.md's time per lesson: the minutes each slides.md of the course (the lessons
  k8s/kustomization.yaml lists) gives in its speaker notes (`Time: N min`), summed, with the
  opening and the close of the deck.

    python3 k8s/checks/doc_tables.py           exit 0 when both are up to date, else 1 naming the file
    python3 k8s/checks/doc_tables.py --write   rewrite them (make doc-tables)

Each table sits between `<!-- BEGIN name ... -->` and `<!-- END name -->`; nothing else is touched.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import K8S, REPO, course, lesson_number  # noqa: E402

SLIDES = K8S / "scripts" / "slides"
sys.path.insert(0, str(SLIDES))
from slides import split_slides  # noqa: E402  (a slide is what the deck's build calls one)
ROW = re.compile(r"^\| (\d+) \| \[(\d\d-[a-z0-9-]+)\]\(\2/\) \| (.+) \|$", re.M)
TIME = re.compile(r"\bTime: (\d+) min\b")
BLOCK = r"(<!-- BEGIN {name}\b[^\n]*-->\n)(.*?)(<!-- END {name} -->)"


def lesson_rows(k8s_readme: str) -> list[tuple[int, str, str]]:
    """(number, folder, what it shows) of each row of k8s/README.md's lesson table."""
    return [(int(n), folder, text) for n, folder, text in ROW.findall(k8s_readme)]


def lesson_table(k8s_readme: str) -> str:
    rows = [f"| {n} | [{folder}](k8s/{folder}/) | {text} |" for n, folder, text in lesson_rows(k8s_readme)]
    return "\n".join(["| # | Lesson | What it shows |", "| --- | --- | --- |", *rows]) + "\n"


def minutes(slides: str) -> tuple[int, int]:
    """(slides, minutes) of a slides.md: its slides and the sum of their notes' `Time: N min`."""
    return len(split_slides(slides)), sum(int(m) for m in TIME.findall(slides))


def time_table() -> str:
    rows = []
    total = 0
    parts = [("the opening", SLIDES / "opening.md")]
    parts += [(f"[{lesson_number(d)}: {d.name}]({d.name}/)", d / "slides.md") for d in course()
              if (d / "slides.md").is_file()]
    parts += [("the close", SLIDES / "close.md")]
    for name, path in parts:
        count, mins = minutes(path.read_text())
        total += mins
        rows.append(f"| {name} | {count} | {mins} min |")
    rows.append(f"| all of it | | {total} min |")
    return "\n".join(["| Part | Slides | Time in the notes |", "| --- | --- | --- |", *rows]) + "\n"


def targets() -> dict[Path, dict[str, str]]:
    """File -> {block name: what the block must hold}."""
    return {REPO / "README.md": {"lessons": lesson_table((K8S / "README.md").read_text())},
            K8S / "HOSTING.md": {"times": time_table()}}


def fill(text: str, name: str, body: str) -> str | None:
    """TEXT with block NAME holding BODY, or None when TEXT has no such block."""
    pattern = re.compile(BLOCK.format(name=re.escape(name)), re.S)
    if not pattern.search(text):
        return None
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def problems() -> list[str]:
    found = []
    for path, blocks in targets().items():
        text = path.read_text()
        for name, body in blocks.items():
            filled = fill(text, name, body)
            where = path.relative_to(REPO)
            if filled is None:
                found.append(f"{where} has no <!-- BEGIN {name} --> ... <!-- END {name} --> block")
            elif filled != text:
                found.append(f"{where}: the {name} table is not what the lesson folders give: run make doc-tables")
    return found


def write() -> list[Path]:
    changed = []
    for path, blocks in targets().items():
        text = original = path.read_text()
        for name, body in blocks.items():
            filled = fill(text, name, body)
            if filled is None:
                raise SystemExit(f"doc-tables: {path.relative_to(REPO)} has no <!-- BEGIN {name} --> block")
            text = filled
        if text != original:
            path.write_text(text)
            changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        for path in write():
            print(f"doc-tables: rewrote {path.relative_to(REPO)}")
        return 0
    if argv:
        print("usage: doc_tables.py [--write]", file=sys.stderr)
        return 2
    found = problems()
    for line in found:
        print(f"doc-tables: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
