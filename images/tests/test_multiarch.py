"""Multi-arch proof on a real engine and a real registry (issue 6). `make test-multiarch` runs it (and
`make test-images` depends on that). The module's fixtures (conftest.py), once for all its tests:
  1. register QEMU user emulation for the foreign architecture (binfmt_misc), so arm64 images run
     on amd64 (and the reverse);
  2. start Debian's docker-registry (CNCF distribution) on a free loopback port, in a temp dir;
  3. run `images/push-images` (what `make push` runs): per-arch builds (cross-compiled, no
     emulation), per-arch tags and one manifest list per image;
and afterwards stop the registry and remove what it pushed and pulled, whatever happened. The tests:
the digests push-images reports are the registry's; `docker manifest inspect` names every platform;
for each image and platform: docker pull --platform, the architecture, the size, a run to exit 0
(hello-loop: under QEMU where foreign). What the programs do there, the Rust tests prove against the
per-arch images (make test-rust-images).

Environment from make: RUST_IMAGE, VERSION, REVISION, CREATED, SOURCE, PLATFORMS, IMAGE_TAG. One test:

    make test-multiarch OFFLINE=1      # all of them
    RUST_IMAGE=hello-rust-standin:1.95.0-bookworm python3 -m pytest -q -p no:cacheprovider \\
      'images/tests/test_multiarch.py::test_loop_runs_under_qemu_where_foreign[linux/arm64]'
"""

from __future__ import annotations

import json
import os
import urllib.request
from types import SimpleNamespace

import pytest
from dockerlib import IMAGES, MAX_BYTES, NOTES, PLATFORMS, last_lines

# The push builds both images for every platform: minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(3600)

LIST_TYPE = "application/vnd.docker.distribution.manifest.list.v2+json"


def arch_of(platform: str) -> str:
    return platform.removeprefix("linux/")


# ---- what push-images reported, what the registry serves -------------------------------------------
@pytest.mark.parametrize("image", IMAGES)
def test_pushed_digest_is_the_registrys(image, pushed):
    """The digests push-images reports (PUSHED_DIGESTS, what the release signs) are the registry's:
    it answers a HEAD for the tag with the digest of the manifest list it stores."""
    ref = pushed.refs[image]
    lines = [line for line in pushed.digests if line.startswith(f"{ref}@sha256:")]
    repo, tag = ref.removeprefix(f"{pushed.registry}/").rsplit(":", 1)
    request = urllib.request.Request(f"http://{pushed.registry}/v2/{repo}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": LIST_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            served = answer.headers.get("Docker-Content-Digest", "")
    except OSError as e:
        served = f"nothing ({e})"
    reported = lines[0].split("@", 1)[1] if len(lines) == 1 else None
    assert reported == served, f"push-images reported {lines or 'no line'} for {ref} in PUSHED_DIGESTS, the registry serves {served or 'no digest'}"


@pytest.mark.parametrize("image", IMAGES)
def test_manifest_list_names_every_platform(image, pushed, module_docker):
    ref = pushed.refs[image]
    listed = json.loads(module_docker.ok("manifest", "inspect", "--insecure", ref))
    got = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in listed["manifests"])
    assert got == sorted(PLATFORMS), f"docker manifest inspect {ref} lists {' '.join(got)}, expected {' '.join(sorted(PLATFORMS))}"


# ---- pull, inspect and run each image on each platform ---------------------------------------------
@pytest.fixture(scope="module")
def pull(pushed, module_docker):
    """pull(platform, image): docker pull --platform by the multi-arch tag (the engine picks the
    entry for the platform from the list), once per pair; the pulled image is tagged
    <ref>-pulled-<arch>, so what a test runs does not depend on which pull came last."""
    d = module_docker
    done: dict[tuple[str, str], SimpleNamespace] = {}

    def pull_one(platform: str, image: str) -> SimpleNamespace:
        if (platform, image) not in done:
            ref = pushed.refs[image]
            d("image", "rm", "-f", ref)
            r = d("pull", "-q", "--platform", platform, ref, timeout=600)
            if r.returncode != 0:
                done[platform, image] = SimpleNamespace(ok=False, ref=ref, error=(r.stdout + r.stderr).strip())
            else:
                local = f"{ref}-pulled-{arch_of(platform)}"
                d.ok("tag", ref, local)
                done[platform, image] = SimpleNamespace(
                    ok=True, ref=ref, local=local,
                    platform=d.ok("image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", local),
                    size=int(d.ok("image", "inspect", "-f", "{{.Size}}", local)))
        return done[platform, image]

    return pull_one


def pulled(pull, platform: str, image: str) -> SimpleNamespace:
    """The pull the other checks of this pair build on; they fail with the pull's reason if it failed."""
    p = pull(platform, image)
    if not p.ok:
        pytest.fail(f"docker pull --platform {platform} {p.ref} failed: {p.error}")
    return p


PAIRS = [pytest.param(platform, image, id=f"{platform}-{image}") for platform in PLATFORMS for image in IMAGES]


@pytest.mark.parametrize("platform, image", PAIRS)
def test_pull(platform, image, pull):
    p = pull(platform, image)
    assert p.ok, f"docker pull --platform {platform} {p.ref} failed: {p.error}"


@pytest.mark.parametrize("platform, image", PAIRS)
def test_pulled_architecture(platform, image, pull):
    p = pulled(pull, platform, image)
    assert p.platform == platform, f"{p.ref} pulled for {platform} is {p.platform}: wrong architecture"


@pytest.mark.parametrize("platform, image", PAIRS)
def test_pulled_size(platform, image, pull):
    p = pulled(pull, platform, image)
    NOTES.append(f"{p.ref} {platform}: {p.size} bytes")
    assert p.size <= MAX_BYTES, f"{p.ref} ({platform}) is {p.size} bytes: over the 1.5 MiB budget ({MAX_BYTES})"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_once_runs(platform, pull, module_docker):
    p = pulled(pull, platform, "hello-once")
    r = module_docker("run", "--rm", "--platform", platform, p.local)
    assert r.returncode == 0, \
        f"docker run --platform {platform} hello-once: exit code {r.returncode}: {last_lines(r.stderr)}"


@pytest.fixture(scope="module")
def loop_run(pull, module_docker):
    """loop_run(platform): hello-loop run once per platform, until it runs: the process the container
    runs (/proc/PID/exe: QEMU's interpreter when emulated), then the container removed."""
    d = module_docker
    done: dict[str, SimpleNamespace] = {}

    def run_one(platform: str) -> SimpleNamespace:
        if platform not in done:
            p = pulled(pull, platform, "hello-loop")
            c = d.run_d("--platform", platform, p.local)
            started = d.wait_log(c, "starting", 10)
            pid = d.inspect(c, "{{.State.Pid}}")
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                exe = "unknown"
            done[platform] = SimpleNamespace(started=started, pid=pid, exe=exe, logs=d.all_logs(c))
            NOTES.append(f"hello-loop on {platform}: process {pid} ran {exe}")
            d("rm", "-f", c)
        return done[platform]

    return run_one


@pytest.mark.parametrize("platform", PLATFORMS)
def test_loop_runs_under_qemu_where_foreign(platform, engine_arch, loop_run):
    """Evidence of emulation: the container's process is the QEMU interpreter running the binary."""
    run = loop_run(platform)
    assert run.started, f"hello-loop on {platform}: not started within 10 s: {last_lines(run.logs)}"
    if arch_of(platform) == engine_arch:
        assert "qemu" not in run.exe, f"hello-loop on {platform}: process {run.pid} runs {run.exe}"
        return
    assert "qemu" in run.exe, f"hello-loop on {platform}: process {run.pid} runs {run.exe}, not QEMU"
