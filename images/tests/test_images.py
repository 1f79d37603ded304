"""What is about the two images, on a real Docker engine (issue 3): structure, size, the stop signal,
restart policies, a hardened run, the health check, a stop while Docker's copy of the output is
stalled, the OOM kill under a memory limit (the engine's record of it) and the listener's one
thread. The programs' behaviour (the greeting, exit codes, signals as PID 1, the drain, the
heartbeat) is proven once, by the Rust tests, which `make test-rust-images` runs against these
images too (issue 24). `make test-images-run` runs these after building; any pair of tags works:

    ONCE_IMAGE=hello-once:0.1.0 LOOP_IMAGE=hello-loop:0.1.0 \
      python3 -m pytest -q -p no:cacheprovider images/tests/test_images.py
    python3 -m pytest -q -p no:cacheprovider 'images/tests/test_images.py::test_size[hello-loop]'

Each test starts what it needs (a scenario several tests check, such as one docker stop, is a
module fixture run once); the containers carry a label of their own and are removed afterwards.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
import time
import urllib.request
from types import SimpleNamespace

import harness
import pytest
from dockerlib import IMAGES, MAX_BYTES, NOTES, last_lines

pytestmark = pytest.mark.timeout(180)

HARD = ["--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges", "--user", "123456:123456"]
# --health-interval only makes the test quicker; the command is the image's own.
FAST = ["--health-interval=1s", "--health-retries=1", "--health-start-period=0s"]


# ---- static checks: container-structure-test (user, entrypoint, labels, no /bin/sh, --version) ----
@pytest.mark.parametrize("name", IMAGES)
def test_structure(name, images):
    image = images[name]
    config = harness.ROOT / "images" / "structure-tests" / f"{name}.yaml"
    env = harness.clean_env()
    tool = shutil.which("container-structure-test", path=env["PATH"])
    assert tool, "container-structure-test not found: run 'make tools' (pinned in .ci/requirements.txt)"
    r = harness.run([tool, "test", "--image", image, "--config", str(config)], env=env)
    lines = (r.stdout + r.stderr).splitlines()
    hits = [i for i, line in enumerate(lines) if re.search("FAIL|rror", line)]
    # Each failing or erring line and the 3 after it (as grep -A3 shows them), else the last 15.
    shown = [lines[j] for j in sorted({j for i in hits for j in range(i, min(i + 4, len(lines)))})][:30] or lines[-15:]
    assert r.returncode == 0, f"structure tests ({config.relative_to(harness.ROOT)}) for {image}:\n" + "\n".join(shown)


# ---- size (budget 1.5 MiB each, goal 1 MiB) --------------------------------------------------------
@pytest.mark.parametrize("name", IMAGES)
def test_size(name, images, docker):
    image = images[name]
    size = int(docker.ok("image", "inspect", "-f", "{{.Size}}", image))
    NOTES.append(f"{image}: {size} bytes ({size / 1048576:.2f} MiB)")
    assert size <= MAX_BYTES, f"{image} is {size} bytes ({size / 1048576:.2f} MiB): over the 1.5 MiB budget ({MAX_BYTES})"


# ---- the stop signal: the one the Rust tests prove graceful ----------------------------------------
@pytest.mark.parametrize("name", IMAGES)
def test_docker_stop_sends_sigterm(name, images, docker):
    """docker stop sends the image's STOPSIGNAL: SIGTERM, the signal make test-rust-images proves the
    programs stop on in these images (as PID 1 of the container)."""
    signal = docker.ok("image", "inspect", "-f", "{{.Config.StopSignal}}", images[name])
    assert signal == "SIGTERM", f"{images[name]}: StopSignal is {signal!r}"


# ---- hello-loop: docker stop while its stdout is blocked (piped into a reader that never reads) ----
def test_blocked_stdout_docker_stop_exits_0_and_logs_the_dropped_line(loop_image, docker):
    """The attached client's pipe fills, Docker's copy of the output stalls, and the program's write
    blocks. It must still take SIGTERM at once: exit 0 and the dropped line logged, not SIGKILL (137)
    after the timeout. (dockerd itself returns from docker stop only once that pipe drains: at 8 s.)
    The Rust tests' blocked stdout is a pipe they hand the program, which docker run cannot hand a
    container: this is the one place a blocked stdout is proven through Docker's own plumbing."""
    name = f"hello-test-blocked-{docker.label.rsplit('-', 1)[-1]}"
    big = "x" * 100000
    # sleep never reads: that is the point.
    pipeline = subprocess.Popen(
        ["sh", "-c", 'docker run --label "$1" --name "$2" "$3" --interval 1ms --message "$4" 2>/dev/null | sleep 8',
         "sh", docker.label, name, loop_image, big],
        env=harness.clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)
        docker.ok("stop", "-t", "3", name, timeout=60)
    finally:
        pipeline.wait(timeout=60)
    rc = docker.exit_code(name)
    stderr = docker.logs(name).stderr
    assert rc == "0" and "the line being written is dropped" in stderr, f"exit code {rc}; {last_lines(stderr, 2)}"


# ---- restart policies: Docker's cousin of CrashLoopBackOff -----------------------------------------
def test_restart_always_keeps_restarting_a_run_that_exits_0(once_image, docker):
    c = docker.run_d("--restart=always", once_image)
    time.sleep(2)
    n1 = int(docker.inspect(c, "{{.RestartCount}}"))
    time.sleep(3)
    n2 = int(docker.inspect(c, "{{.RestartCount}}"))
    assert n1 >= 1 and n2 > n1, f"RestartCount {n1} after 2 s, then {n2} after 5 s (expected >= 1, then growing)"


def test_restart_on_failure_leaves_exit_0_alone(once_image, docker):
    c = docker.run_d("--restart=on-failure", once_image)
    time.sleep(3)
    n = docker.inspect(c, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}")
    assert n == "0 exited 0", f"RestartCount/status/exit: {n} (expected 0 exited 0)"


def test_restart_on_failure_restarts_exit_3(once_image, docker):
    c = docker.run_d("--restart=on-failure", "-e", "HELLO_EXIT_CODE=3", once_image)
    time.sleep(3)
    n = int(docker.inspect(c, "{{.RestartCount}}"))
    assert n >= 1, f"RestartCount {n} after 3 s"


# ---- hardened run: read-only root, no capabilities, no-new-privileges, arbitrary UID ---------------
# What the programs print is the Rust tests' to check; here, that they run to their normal end.
def test_hardened_once_runs_to_exit_0(once_image, docker):
    r = docker("run", "--rm", *HARD, once_image)
    assert r.returncode == 0 and "exiting code=0" in r.stderr, f"exit code {r.returncode}: {last_lines(r.stderr)}"


def test_hardened_loop_runs_its_count_and_exits_0(loop_image, docker):
    r = docker("run", "--rm", *HARD, loop_image, "--count", "2", "--interval", "100ms")
    assert r.returncode == 0 and "printed every line asked for" in r.stderr, \
        f"exit code {r.returncode}: {last_lines(r.stderr)}"


def test_hardened_loop_docker_stop_is_still_graceful(loop_image, docker):
    c = docker.run_d(*HARD, loop_image)
    docker.wait_log(c, "starting", 10)
    docker.ok("stop", c)
    rc = docker.exit_code(c)
    assert rc == "0", f"exit code {rc}"


# ---- hello-loop HEALTHCHECK: the binary checks its own heartbeat (no port, no shell) ---------------
def test_loop_declares_healthcheck_exec_check(loop_image, docker):
    hc = docker.ok("image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", loop_image)
    assert hc == '["CMD","/hello-loop","check"]', f"{loop_image}: Healthcheck.Test is {hc}"


@pytest.mark.parametrize("options", [
    pytest.param([], id="plain"),
    pytest.param(HARD, id="hardened-heartbeat-on-dev-shm"),
    pytest.param([*HARD, "--tmpfs", "/run/hello", "-e", "HELLO_HEARTBEAT_FILE=/run/hello/heartbeat"],
                 id="read-only-tmpfs-heartbeat"),
])
def test_loop_turns_healthy(options, loop_image, docker):
    c = docker.run_d(*FAST, *options, loop_image)
    ok, seen = docker.wait_health(c, "healthy", 15)
    assert ok and seen.startswith("starting"), f"health {seen}: expected starting → healthy within 15 s"


@pytest.fixture(scope="module")
def stalled(loop_image, module_docker):
    """One hello-loop that stops its heartbeat after 3 s: health awaited to unhealthy."""
    d = module_docker
    c = d.run_d(*FAST, "-e", "HELLO_INTERVAL=500ms", "-e", "HELLO_STALL_AFTER=3s", loop_image)
    ok, seen = d.wait_health(c, "unhealthy", 20)
    running = d.inspect(c, "{{.State.Running}}")
    return SimpleNamespace(ok=ok, seen=seen, running=running)


def test_stall_after_3s_turns_unhealthy_while_running(stalled):
    assert stalled.ok and re.fullmatch(r".*healthy.*unhealthy", stalled.seen) and stalled.running == "true", \
        f"health {stalled.seen}, running: {stalled.running}: expected starting → healthy → unhealthy while running"


def test_interval_flag_counts_for_the_probe(loop_image, docker):
    """The probe reads the maximum age from the heartbeat, so a flag the probe cannot see still counts:
    with --interval 1m and the old env-only check, the default 2 s interval made it stale after 6 s."""
    c = docker.run_d(*FAST, loop_image, "--interval", "1m")
    ok, seen = docker.wait_health(c, "healthy", 15)
    time.sleep(8)
    status = docker.inspect(c, "{{.State.Health.Status}} {{.State.Health.FailingStreak}}")
    checks = docker.inspect(c, "{{range .State.Health.Log}}{{.ExitCode}}: {{.Output}}|{{end}}")
    assert ok and status == "healthy 0", \
        f"health {seen}, then {status!r} 8 s later (expected 'healthy 0'); the last checks: {checks[-300:]}"


# ---- issue 22: one static binary in scratch, the OOM kill, one thread with the listener ------------
def elf_interpreter(data: bytes) -> bool:
    """Whether an ELF file asks for a dynamic loader (a PT_INTERP program header)."""
    assert data[:4] == b"\x7fELF", "not an ELF file"
    wide, order = data[4] == 2, "little" if data[5] == 1 else "big"

    def num(offset: int, size: int) -> int:
        return int.from_bytes(data[offset:offset + size], order)

    phoff, phentsize, phnum = (num(0x20, 8), num(0x36, 2), num(0x38, 2)) if wide else \
        (num(0x1C, 4), num(0x2A, 2), num(0x2C, 2))
    return any(num(phoff + i * phentsize, 4) == 3 for i in range(phnum))  # 3: PT_INTERP


@pytest.mark.parametrize("name", IMAGES)
def test_image_is_one_static_binary_in_scratch_as_65532(name, images, docker, tmp_path):
    """The image's layers, as `docker save` writes them, hold exactly one file, /NAME: a statically
    linked ELF executable (no PT_INTERP), run as user 65532:65532, the image ≤ 1.5 MiB."""
    image = images[name]
    saved = tmp_path / "image.tar"
    docker.ok("save", "-o", str(saved), image)
    files: dict[str, bytes] = {}
    with tarfile.open(saved) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        assert len(manifest) == 1, f"{image}: docker save wrote {len(manifest)} images"
        layers = manifest[0]["Layers"]
        for layer in layers:
            with tarfile.open(fileobj=io.BytesIO(outer.extractfile(layer).read())) as tar:
                for member in tar.getmembers():
                    if not member.isdir():
                        data = tar.extractfile(member).read() if member.isfile() else b""
                        files[member.name] = data
    assert list(files) == [name], f"{image}: its {len(layers)} layer(s) hold {sorted(files)}, expected only {name}"
    binary = files[name]
    static = not elf_interpreter(binary)
    user = docker.ok("image", "inspect", "-f", "{{.Config.User}}", image)
    size = int(docker.ok("image", "inspect", "-f", "{{.Size}}", image))
    NOTES.append(f"{image}: {len(layers)} layer, one file /{name} ({len(binary)} bytes, "
                 f"{'static' if static else 'DYNAMIC'} ELF), user {user}, image {size} bytes ({size / 1048576:.2f} MiB)")
    assert static, f"{image}: /{name} has a PT_INTERP (a dynamic loader), expected a static binary"
    assert user == "65532:65532", f"{image}: Config.User is {user!r}, expected 65532:65532"
    assert size <= MAX_BYTES, f"{image} is {size} bytes: over the 1.5 MiB budget ({MAX_BYTES})"


def test_leak_under_a_16m_limit_is_oomkilled_with_137(loop_image, docker):
    """docker run --memory 16m LOOP --leak 4Mi: the kernel's OOM killer ends it; the engine records
    OOMKilled true and exit code 137 (128 + SIGKILL). Bounded: 60 s (about 4 lines of 4 MiB, 2 s apart)."""
    t0 = time.monotonic()
    c = docker.run_d("--memory", "16m", loop_image, "--leak", "4Mi")
    deadline = t0 + 60
    while docker.inspect(c, "{{.State.Running}}") == "true" and time.monotonic() < deadline:
        time.sleep(0.2)
    took = time.monotonic() - t0
    state = docker.inspect(c, "{{.State.Running}} {{.State.OOMKilled}} {{.State.ExitCode}}")
    lines = len(docker.logs(c).stdout.splitlines())
    NOTES.append(f"{loop_image} --memory 16m --leak 4Mi: {lines} lines, gone after {took:.1f} s, "
                 f"running/OOMKilled/exit code: {state}")
    assert state == "false true 137", \
        f"running, OOMKilled, exit code: {state!r} after {took:.0f} s, expected 'false true 137'; logs: {last_lines(docker.all_logs(c))}"


def test_loop_with_the_listener_runs_one_thread(loop_image, docker):
    """With --listen (the current-thread runtime, no worker pool) the program is one thread, after
    it has answered a request: Threads in /proc/PID/status of the container's process, seen from
    the host (docker inspect's State.Pid)."""
    c = docker.run_d("-p", "127.0.0.1::8080", "-e", "HELLO_LISTEN=0.0.0.0:8080", loop_image)
    assert docker.wait_log(c, "listening", 10), f"no 'listening' log line: {last_lines(docker.all_logs(c))}"
    port = docker.ok("port", c, "8080/tcp").splitlines()[0].rsplit(":", 1)[1]
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    with direct.open(f"http://127.0.0.1:{port}/", timeout=5) as answer:
        served = answer.status
    pid = docker.inspect(c, "{{.State.Pid}}")
    status = open(f"/proc/{pid}/status").read()
    threads = re.search(r"^Threads:\s*(\d+)", status, re.M).group(1)
    exe = re.search(r"^Name:\s*(\S+)", status, re.M).group(1)
    NOTES.append(f"{loop_image} --listen: {exe} (host PID {pid}) runs {threads} thread(s) after answering GET /")
    assert served == 200, f"GET / answered HTTP {served}"
    assert threads == "1", f"{exe} (host PID {pid}) runs {threads} threads with the listener, expected 1"
