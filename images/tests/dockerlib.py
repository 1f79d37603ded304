"""The real Docker engine, as images/tests uses it: docker commands with their output captured, the
containers a test starts labelled (so the clean-up removes those and no others on a shared engine),
and the bounded waits the checks need. Shared by conftest.py and the test modules."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import harness

MAX_BYTES = 3 * 1024 * 1024 // 2  # 1.5 MiB budget per image (goal: 1 MiB)
IMAGES = ["hello-once", "hello-loop"]
# The platforms test_multiarch.py proves: PLATFORMS (make passes it), by default both.
PLATFORMS = (os.environ.get("PLATFORMS") or "linux/amd64 linux/arm64").split()
# Lines for the end of the run (conftest.py prints them): the sizes measured, how long a push took.
NOTES: list[str] = []


class Docker:
    """`docker` on the engine; every container run_d starts carries this object's own label."""

    def __init__(self, what: str) -> None:
        self.label = f"hello-k8s.test={what}-{uuid.uuid4().hex[:12]}"

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return harness.run(["docker", *args], timeout=timeout)

    def ok(self, *args: str, timeout: float = 120) -> str:
        """stdout of a docker command that must succeed, without the trailing newline."""
        r = self(*args, timeout=timeout)
        assert r.returncode == 0, f"docker {' '.join(args)[:200]} failed (exit {r.returncode}): {r.stderr.strip()}"
        return r.stdout.rstrip("\n")

    def run_d(self, *args: str) -> str:
        """docker run -d --label LABEL ARGS...: the container's ID."""
        return self.ok("run", "-d", "--label", self.label, *args)

    def inspect(self, container: str, fmt: str) -> str:
        return self.ok("inspect", "-f", fmt, container)

    def exit_code(self, container: str) -> str:
        return self.inspect(container, "{{.State.ExitCode}}")

    def logs(self, container: str) -> subprocess.CompletedProcess:
        """docker logs: the container's stdout in .stdout, its stderr in .stderr."""
        return self("logs", container)

    def all_logs(self, container: str) -> str:
        r = self.logs(container)
        return r.stdout + r.stderr

    def wait_log(self, container: str, text: str, seconds: float) -> bool:
        """Wait (bounded) until the container's logs contain TEXT, so signals arrive after start-up."""
        deadline = time.monotonic() + seconds
        while True:
            if text in self.all_logs(container):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def health(self, container: str) -> str:
        return self.inspect(container, "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}")

    def wait_health(self, container: str, status: str, seconds: float) -> tuple[bool, str]:
        """Wait (bounded) for a health status: whether it came, and the statuses seen on the way
        ("starting → healthy")."""
        seen: list[str] = []
        deadline = time.monotonic() + seconds
        while True:
            s = self.health(container)
            if not seen or seen[-1] != s:
                seen.append(s)
            if s == status:
                return True, " → ".join(seen)
            if time.monotonic() > deadline:
                return False, " → ".join(seen)
            time.sleep(0.2)

    def timed(self, *args: str) -> float:
        """Seconds a docker command that must succeed took (docker stop: how long the stop took)."""
        t0 = time.monotonic()
        self.ok(*args)
        return time.monotonic() - t0

    def remove_labelled(self) -> None:
        ids = self("ps", "-aq", "--filter", f"label={self.label}").stdout.split()
        if ids:
            self("rm", "-f", *ids)


def last_lines(text: str, n: int = 3) -> str:
    """The last N lines of TEXT on one line, separated by |."""
    return "|".join(text.rstrip("\n").splitlines()[-n:])
