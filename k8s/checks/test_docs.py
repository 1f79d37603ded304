"""The documents as a reader follows them (`make check-k8s`): README.md short, every relative link of
every README, the host's guide and the contributors' guide resolving (the file, and the heading an
#anchor names), each reference one click from the top, and the tables copied from the lesson folders
up to date (doc_tables.py). The facts in these documents are test_readme_facts.py's."""

from __future__ import annotations

import re
import sys
import unittest
from pathlib import Path
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import doc_tables  # noqa: E402
from lessons import K8S, REPO  # noqa: E402
from readme_rules import documents, mermaid, mermaid_blocks, prose  # noqa: E402

MAX_README_LINES = 150
CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def too_long(text: str, limit: int = MAX_README_LINES) -> list[str]:
    lines = len(text.splitlines())
    return [f"{lines} lines, more than {limit}: move the detail to a reference and link it"] if lines > limit else []


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The #anchors of TEXT's headings (outside fenced blocks); a repeated heading gets -1, -2, ..."""
    found: set[str] = set()
    for heading in HEADING.findall(prose(text)):
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(text: str) -> list[str]:
    """The targets of TEXT's inline links that point into the repository or into TEXT (#anchor),
    outside fenced blocks and code spans."""
    body = CODE_SPAN.sub("", prose(text))
    return [t for t in LINK.findall(body) if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", t) and not t.startswith("/")]


# The kit's README is read at the kit's root, which mirrors the repository's (KIT/k8s is k8s/), so
# its links are resolved from there (images/build-kit copies it; test_kit.py checks the kit itself).
READ_AT = {REPO / "images" / "kit" / "README.md": REPO / "README.md"}


def broken_links(path: Path, text: str) -> list[str]:
    """The relative links of the document at PATH (holding TEXT) that lead nowhere: a missing file or
    folder, a file outside the repository, or an #anchor that is not one of the target's headings."""
    problems = []
    base = READ_AT.get(path, path).parent
    for target in relative_links(text):
        file, _, anchor = target.partition("#")
        resolved = (base / unquote(file)).resolve() if file else path
        if not resolved.exists() or not resolved.is_relative_to(REPO):
            problems.append(f"{target}: no such file or folder")
        elif anchor and resolved.suffix == ".md":
            heads = anchors(text if resolved == path else resolved.read_text())
            if unquote(anchor) not in heads:
                problems.append(f"{target}: {resolved.relative_to(REPO)} has no heading #{anchor}")
    return problems


class DocumentsTest(unittest.TestCase):
    def test_readme_is_at_most_150_lines(self):
        self.assertEqual(too_long((REPO / "README.md").read_text()), [])

    def test_every_relative_link_resolves(self):
        docs = documents()
        for must in (REPO / "README.md", REPO / "crates" / "README.md", REPO / "images" / "README.md",
                     K8S / "HOSTING.md", REPO / ".github" / "CONTRIBUTING.md"):
            self.assertIn(must, docs)
        for path in docs:
            with self.subTest(document=str(path.relative_to(REPO))):
                self.assertEqual(broken_links(path, path.read_text()), [])

    def test_every_reference_is_one_click_from_the_top(self):
        # What moved out of README.md: the programs', the images', the host's and the contributors'.
        linked = {(REPO / t.split("#")[0]).resolve() for t in relative_links((REPO / "README.md").read_text())}
        for reference in ("crates/README.md", "images/README.md", "k8s/HOSTING.md", ".github/CONTRIBUTING.md",
                          "k8s/README.md", "k8s/scripts/README.md", "crates/hello-bench/README.md"):
            self.assertIn(REPO / reference, linked, reference)

    def test_the_references_have_their_sections(self):
        wanted = {
            "crates/README.md": ["hello-once", "hello-loop", "Both", "A blocked stdout", "Exit codes", "Correct as PID 1"],
            "k8s/HOSTING.md": ["The day before: `make doctor`", "The kit: one file for a room with no network and no Rust",
                               "The deck: `make slides`", "Time per lesson", "When the Wi-Fi fails", "Troubleshooting"],
            ".github/CONTRIBUTING.md": ["Change a lesson", "Add a lesson", "Run one test alone", "Style"],
            "images/README.md": ["Released images: where, how to verify, what is inside",
                                 "Supply chain: what is in the images, and how a release is published"],
        }
        for path, headings in wanted.items():
            found = HEADING.findall(prose((REPO / path).read_text()))
            with self.subTest(document=path):
                self.assertEqual([h for h in headings if h not in found], [])

    def test_diagrams_are_in_readmes(self):
        # make diagrams renders the ```mermaid blocks of README.md files only; one anywhere else
        # would be drawn nowhere and checked by no slide.
        for path in documents():
            if path.name != "README.md":
                with self.subTest(document=str(path.relative_to(REPO))):
                    self.assertEqual(mermaid_blocks(path.read_text()), [])

    def test_the_copied_tables_are_up_to_date(self):
        self.assertEqual(doc_tables.problems(), [])


class DocumentChecksCanFailTest(unittest.TestCase):
    def test_a_long_readme_is_caught(self):
        self.assertNotEqual(too_long("line\n" * 151), [])
        self.assertEqual(too_long("line\n" * 150), [])

    def test_broken_links_are_caught(self):
        here = REPO / "README.md"
        self.assertNotEqual(broken_links(here, "[gone](k8s/no-such-folder/)\n"), [])
        self.assertNotEqual(broken_links(here, "[up](../outside.md)\n"), [])
        self.assertNotEqual(broken_links(here, "[anchor](crates/README.md#no-such-heading)\n"), [])
        self.assertNotEqual(broken_links(here, "## A\n\n[self](#b)\n"), [])
        self.assertEqual(broken_links(here, "## A: `b`\n\n[self](#a-b) [file](crates/README.md#exit-codes)\n"), [])
        # Code is text, not a link; a scheme is not relative.
        self.assertEqual(broken_links(here, "`[x](gone/)`\n\n```sh\n[y](gone/)\n```\n[z](https://example.com/gone)\n"), [])

    def test_anchors_are_githubs(self):
        self.assertEqual(slug("Workshop kit: `make kit`"), "workshop-kit-make-kit")
        self.assertEqual(slug("Releases: `.github/workflows/release.yml`"), "releases-githubworkflowsreleaseyml")
        self.assertEqual(anchors("## Run\n\n## Run\n"), {"run", "run-1"})
        self.assertEqual(anchors("```sh\n# not a heading\n```\n"), set())

    def test_a_diagram_outside_a_readme_is_caught(self):
        self.assertNotEqual(mermaid_blocks(mermaid("flowchart LR", "    a --> b")), [])

    def test_a_stale_table_is_caught(self):
        text = "x\n<!-- BEGIN t (generated) -->\nold\n<!-- END t -->\ny\n"
        self.assertEqual(doc_tables.fill(text, "t", "new\n"), "x\n<!-- BEGIN t (generated) -->\nnew\n<!-- END t -->\ny\n")
        self.assertIsNone(doc_tables.fill("no block\n", "t", "new\n"))
        rows = doc_tables.lesson_rows("| 1 | [01-a](01-a/) | One. |\n| 2 | [02-b](02-b/) | Two. |\n")
        self.assertEqual(rows, [(1, "01-a", "One."), (2, "02-b", "Two.")])
        self.assertIn("| 2 | [02-b](k8s/02-b/) | Two. |", doc_tables.lesson_table("| 2 | [02-b](02-b/) | Two. |\n"))
        self.assertEqual(doc_tables.minutes("a\n\nTime: 2 min.\n\n---\n\nb\n\nTime: 3 min, then questions.\n"), (2, 5))


if __name__ == "__main__":
    unittest.main()
