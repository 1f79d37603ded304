"""pytest fixtures for images/tests: the images under test, the engine, labelled containers removed
at teardown, and (test_multiarch.py) QEMU, a throwaway loopback registry and the push into it.

    python3 -m pytest -q -p no:cacheprovider images/tests/test_images.py     (make test-images-run)

The images: ONCE_IMAGE / LOOP_IMAGE, by default hello-once:<version> / hello-loop:<version> (the
version from k8s/lib/facts). Nothing is written into the repository; what a test needs on disk goes
to pytest's temporary folders (/tmp).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

# Nothing written into the repository: no __pycache__ for the modules imported from here on
# (harness, dockerlib, the test modules; make also sets PYTHONDONTWRITEBYTECODE, for this file).
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "k8s" / "tests"))
import harness  # noqa: E402
from dockerlib import IMAGES, NOTES, PLATFORMS, Docker  # noqa: E402

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


# ---- test_multiarch.py: QEMU, the registry, the push ---------------------------------------------
@pytest.fixture(scope="module")
def platforms() -> list[str]:
    """PLATFORMS (make passes it), default linux/amd64 linux/arm64."""
    return PLATFORMS


@pytest.fixture(scope="module")
def engine_arch(engine) -> str:
    return harness.library("engine_arch").strip()


@pytest.fixture(scope="module")
def qemu(engine, platforms) -> None:
    """QEMU user emulation registered (binfmt_misc) for every foreign platform."""
    r = harness.run([str(ROOT / "images" / "register-qemu"), *(p.removeprefix("linux/") for p in platforms)],
                    timeout=120)
    if r.returncode != 0:
        pytest.fail(f"images/register-qemu failed (exit {r.returncode}): {(r.stdout + r.stderr).strip()}")
    NOTES.extend(f"register-qemu: {line}" for line in r.stdout.splitlines())


@pytest.fixture(scope="module")
def registry(engine, tmp_path_factory):
    """Debian's docker-registry (CNCF distribution) on a free loopback port, its storage in a
    temporary folder; stopped and its storage removed afterwards. Its address, host:port."""
    if not shutil.which("docker-registry"):
        pytest.fail("docker-registry not found (Debian package: docker-registry)")
    work = tmp_path_factory.mktemp("registry")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    (work / "config.yml").write_text(f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {work / 'data'}
http:
  addr: {address}
""")
    log = work / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["docker-registry", "serve", str(work / "config.yml")], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"http://{address}/v2/", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None:
                    pytest.fail(f"docker-registry exited ({proc.returncode}): {log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"registry on {address} does not answer after 10 s: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def pushed(registry, qemu, platforms, module_docker, tmp_path_factory):
    """`images/push-images` (what make push runs) into the registry: per-arch builds, per-arch tags,
    one manifest list per image. refs: {"hello-once": REGISTRY/hello-once:TAG, ...}; digests: the
    lines it wrote to PUSHED_DIGESTS. Afterwards the manifest lists and every tag it made (and
    test_multiarch.py's pulled tags) are removed from the engine."""
    facts = harness.facts()
    version = os.environ.get("VERSION") or facts["HELLO_VERSION"]
    tag = os.environ.get("IMAGE_TAG") or version
    if not os.environ.get("RUST_IMAGE"):
        pytest.fail("RUST_IMAGE is not set: run make test-multiarch (OFFLINE=1), which passes the build environment")
    refs = {image: f"{registry}/{image}:{tag}" for image in IMAGES}
    digests = tmp_path_factory.mktemp("push") / "digests.txt"
    env = harness.clean_env(VERSION=version, PLATFORMS=" ".join(platforms), PUSHED_DIGESTS=str(digests),
                            CARGO_AUDITABLE_VERSION=os.environ.get("CARGO_AUDITABLE_VERSION")
                            or facts["CARGO_AUDITABLE_VERSION"])
    local = list(refs.values())
    local += [f"{ref}-{p.removeprefix('linux/')}" for ref in refs.values() for p in platforms]
    local += [f"{ref}-pulled-{p.removeprefix('linux/')}" for ref in refs.values() for p in platforms]
    try:
        started = time.monotonic()
        r = harness.run([str(ROOT / "images" / "push-images"), refs["hello-once"], refs["hello-loop"]], env=env,
                        timeout=3000)
        NOTES.append(f"push-images to {registry} took {time.monotonic() - started:.0f} s")
        if r.returncode != 0:
            pytest.fail(f"images/push-images failed (exit {r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
        yield SimpleNamespace(refs=refs, registry=registry,
                              digests=digests.read_text().splitlines() if digests.exists() else [])
    finally:
        module_docker.remove_labelled()
        for ref in refs.values():
            harness.run(["docker", "manifest", "rm", ref], timeout=60)
        harness.run(["docker", "image", "rm", "-f", *local], timeout=120)
