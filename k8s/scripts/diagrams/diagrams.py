"""`make diagrams`: every ```mermaid block of every README, rendered to SVG and PNG for slides.

    MERMAID_MODULES=.cache/mermaid/node_modules python3 k8s/scripts/diagrams/diagrams.py

writes dist/diagrams/<folder>-<n>.{mmd,svg,png} (the top-level README's are hello-k8s-<n>), using
the pinned mermaid-cli (render.mjs, one chromium for all) with Debian's chromium, offline. Fails
when a diagram does not parse, or a PNG is missing or blank (a single colour). The README facts
test (k8s/checks/test_readme_facts.py) imports readmes() and mermaid_blocks() from here, so the
diagrams it checks are exactly the ones rendered.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUT = REPO / "dist" / "diagrams"
SKIP = {"target", "dist", "node_modules"}  # build output; dot-folders (.cache, .venv, .git) too
MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.M | re.S)


def readmes() -> list[Path]:
    """Every README.md of the repository (not of build output or caches)."""
    found = []
    for path in REPO.rglob("README.md"):
        folders = path.relative_to(REPO).parts[:-1]
        if not any(part in SKIP or part.startswith(".") for part in folders):
            found.append(path)
    return sorted(found)


def mermaid_blocks(text: str) -> list[str]:
    return MERMAID.findall(text)


def stem(readme: Path) -> str:
    folder = readme.parent.relative_to(REPO)
    return "hello-k8s" if folder == Path(".") else str(folder).replace("/", "-")


def colours(png: Path) -> int:
    """How many colours the image has: 1 is blank, 2 means at least two (enough to know)."""
    from PIL import Image  # pinned in .ci/requirements.txt; only this check needs it

    with Image.open(png) as image:
        return 1 if image.convert("RGBA").getcolors(maxcolors=1) else 2


def main() -> int:
    modules = os.environ.get("MERMAID_MODULES", "")
    if not (Path(modules) / "@mermaid-js" / "mermaid-cli").is_dir():
        print(f"diagrams: MERMAID_MODULES={modules!r} holds no @mermaid-js/mermaid-cli; run: make diagrams",
              file=sys.stderr)
        return 2
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    sources = []
    for readme in readmes():
        for n, block in enumerate(mermaid_blocks(readme.read_text()), 1):
            source = OUT / f"{stem(readme)}-{n}.mmd"
            source.write_text(block)
            sources.append(source)
    started = time.monotonic()
    rendered = subprocess.run(["node", str(HERE / "render.mjs"), str(HERE / "puppeteer-config.json"),
                               *map(str, sources)], check=False)
    problems = [] if rendered.returncode == 0 else ["render.mjs failed (above)"]
    if not sources:
        problems.append("no ```mermaid block in any README")
    for source in sources:
        svg, png = source.with_suffix(".svg"), source.with_suffix(".png")
        if not svg.is_file() or "<svg" not in svg.read_text():
            problems.append(f"{svg.relative_to(REPO)}: missing or not an SVG")
        if not png.is_file():
            problems.append(f"{png.relative_to(REPO)}: missing")
        elif colours(png) < 2:
            problems.append(f"{png.relative_to(REPO)}: blank (a single colour)")
    for problem in problems:
        print(f"diagrams: {problem}", file=sys.stderr)
    print(f"diagrams: {len(sources)} diagrams from {len({s.name.rsplit('-', 1)[0] for s in sources})} READMEs "
          f"rendered to {OUT.relative_to(REPO)}/ in {time.monotonic() - started:.1f} s; "
          f"{'FAILED' if problems else 'every PNG has more than one colour'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
