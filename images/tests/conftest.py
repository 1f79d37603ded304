"""pytest fixtures for images/tests: the images under test, the engine, labelled containers removed
at teardown.

    python3 -m pytest -q -p no:cacheprovider images/tests/test_images.py     (make test-images-run)

The images: ONCE_IMAGE / LOOP_IMAGE, by default hello-once:<version> / hello-loop:<version> (the
version from k8s/lib/facts). Nothing is written into the repository; what a test needs on disk goes
to pytest's temporary folders (/tmp).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Nothing written into the repository: no __pycache__ for the modules imported from here on
# (harness, dockerlib, the test modules; make also sets PYTHONDONTWRITEBYTECODE, for this file).
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "k8s" / "tests"))
import harness  # noqa: E402
from dockerlib import NOTES, Docker  # noqa: E402

ROOT = harness.ROOT


def pytest_terminal_summary(terminalreporter) -> None:
    if NOTES:
        terminalreporter.write_sep("-", "measured")
        for line in NOTES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def engine() -> None:
    """A Docker engine that answers."""
    r = harness.run(["docker", "info"], timeout=60)
    if r.returncode != 0:
        pytest.fail(f"no Docker engine answers (docker info: {r.stderr.strip()[:300]}); as root: .ci/start-dockerd")


@pytest.fixture(scope="session")
def images(engine) -> dict[str, str]:
    """{"hello-once": ONCE_IMAGE, "hello-loop": LOOP_IMAGE}, each present in the engine."""
    version = harness.facts()["HELLO_VERSION"]
    found = {"hello-once": os.environ.get("ONCE_IMAGE") or f"hello-once:{version}",
             "hello-loop": os.environ.get("LOOP_IMAGE") or f"hello-loop:{version}"}
    for image in found.values():
        if harness.run(["docker", "image", "inspect", image], timeout=60).returncode != 0:
            pytest.fail(f"image {image} not found in the engine (make images)")
    return found


@pytest.fixture(scope="session")
def once_image(images) -> str:
    return images["hello-once"]


@pytest.fixture(scope="session")
def loop_image(images) -> str:
    return images["hello-loop"]


@pytest.fixture
def docker(engine, request):
    """docker on the engine for one test; the containers it starts with run_d are removed after it."""
    d = Docker(request.node.name.split("[")[0])
    yield d
    d.remove_labelled()


@pytest.fixture(scope="module")
def module_docker(engine, request):
    """The same for a module's shared scenarios (a container run once, checked by several tests)."""
    d = Docker(request.module.__name__)
    yield d
    d.remove_labelled()
