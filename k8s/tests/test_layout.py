"""A lesson is its folder: in a scratch copy of the repository, copying a lesson folder to
k8s/99-copy/ and editing no other file is enough for the demo, `make lesson-99`, `make check-99`,
the manifest checks, the kit and its slides to take it in (run by `make test-kit`, which has the engine and
the images the kit step needs). Also: no script or test outside a lesson's folder names a lesson folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from harness import ROOT, clean_env, facts, run


def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    return [p for p in out.stdout.splitlines() if (ROOT / p).is_file()]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """The repository's files (as the working tree has them) in a scratch folder, with a copy of
    the first lesson as k8s/99-copy; the installed tools (.venv, the cargo tools, the build cache)
    are linked in, not rebuilt."""
    root = tmp_path_factory.mktemp("repo")
    for path in tracked():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, root / path)
    first = sorted(p for p in (ROOT / "k8s").glob("[0-9][0-9]-*") if (p / "lesson.sh").is_file())[0]
    shutil.copytree(root / "k8s" / first.name, root / "k8s" / "99-copy")
    for linked in (".venv", "target", ".cache/cargo-tools", ".cache/mermaid", ".cache/marp"):
        if (ROOT / linked).exists():
            (root / linked).parent.mkdir(parents=True, exist_ok=True)
            (root / linked).symlink_to(ROOT / linked)
    return root


def make(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return run(["make", "--no-print-directory", *args], cwd=root, env=clean_env(), timeout=timeout)


def test_the_demo_plays_the_copied_lesson(scratch):
    result = make(scratch, "demo", "DRY_RUN=1")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert re.search(r"^==> Lesson 99: ", result.stdout, re.M)
    assert "apply -k k8s/99-copy\n" in result.stdout


def test_make_lesson_and_check_take_the_copied_lesson(scratch):
    lesson = make(scratch, "lesson-99", "DRY_RUN=1")
    assert lesson.returncode == 0, lesson.stdout + lesson.stderr
    assert "apply -k k8s/99-copy\n" in lesson.stdout
    check = make(scratch, "check-99", "DRY_RUN=1")
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"^exercise 99a: ", check.stdout, re.M) and "$ kubectl --context kind-hello" in check.stdout


def test_the_manifest_checks_take_the_copied_lesson(scratch):
    result = make(scratch, "check-k8s")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    rendered = run(["kubectl", "kustomize", "k8s/99-copy/exercise-a/solution"], cwd=scratch)
    assert rendered.returncode == 0, rendered.stderr
    assert "99-copy" in run([str(ROOT / ".venv" / "bin" / "python"), "-B", "-c",
                             "import sys; sys.path.insert(0, 'k8s/checks'); import lessons; "
                             "print([p.name for p in lessons.kustomization_dirs()])"], cwd=scratch).stdout


def test_make_kit_takes_the_copied_lesson(scratch):
    tag = f"{facts()['HELLO_VERSION']}-layout-test"
    try:
        result = make(scratch, "kit", "OFFLINE=1", "KIT_PLATFORMS=linux/amd64", f"IMAGE_TAG={tag}", timeout=1800)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        archive = scratch / result.stdout.strip().splitlines()[-1]
        with tarfile.open(archive) as kit:
            names = kit.getnames()
        top = names[0].split("/")[0]
        first = sorted(p.name for p in (scratch / "k8s").glob("[0-9][0-9]-*"))[0]

        def inside(folder: str) -> set[str]:
            prefix = f"{top}/k8s/{folder}/"
            return {n[len(prefix):] for n in names if n.startswith(prefix)}

        assert inside("99-copy") and inside("99-copy") == inside(first), "the kit carries the copied lesson whole"
        assert f"{top}/slides/hello-k8s.html" in names
        # make kit ran make slides: the deck has the copied lesson's slides too, after the others.
        deck = (scratch / "dist" / "slides" / "hello-k8s.md").read_text()
        headers = re.findall(r"^<!-- header: \"(Lesson \d+):", deck, re.M)
        assert headers[-1] == "Lesson 99" and len(headers) == len(set(headers)), headers  # named by its folder
    finally:
        for image in ("hello-once", "hello-loop"):
            subprocess.run(["docker", "image", "rm", f"{image}:{tag}"], capture_output=True)


def test_no_script_or_test_outside_a_lesson_names_a_lesson_folder():
    """The scripts and the tests find lessons by looking at the folders; a lesson's own files and
    the documents (READMEs, the aggregate kustomizations kustomize needs listed) may name them."""
    lesson = re.compile(r"\b0[1-9]-[a-z]+(-[a-z]+)+")
    offenders = []
    for path in tracked():
        if (path.endswith((".md", ".yaml", ".json", ".lock")) or re.match(r"k8s/\d\d-", path)
                or path == "k8s/tests/test_layout.py"):
            continue
        text = (ROOT / path).read_text(errors="replace")
        offenders += [f"{path}: {m.group(0)}" for m in lesson.finditer(text)]
    assert offenders == []
