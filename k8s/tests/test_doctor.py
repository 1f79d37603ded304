"""Checks of k8s/scripts/doctor (`make test-doctor`, part of `make test`):
 - for real, on this machine: the engine answers, every check prints its line, kind is missing so the
   run exits 1 with kind's install hint, all in under 10 s;
 - one finding at a time, with the stand-ins (k8s/tests/sim.py) for docker, kind, kubectl, minikube and
   make, a /proc folder the test writes, and a tiny kit: each under every shell of the matrix;
 - the doctor copied to a kit's root (no make line there), and the kit checks with KIT=;
 - `make demo` with a too-old kind stops at the doctor before anything is built;
 - shellcheck -s sh (the doctor is POSIX sh: macOS's bash 3.2, dash, posh, busybox sh).
The expectations come from the pins as k8s/lib/hello.sh reads them (harness.facts, harness.library),
never from parsing them here. Every run gets its own folder under tmp_path; nothing is written into
the repository.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import FAKE_BIN, ROOT, SIM, calls, clean_env, facts, library, make_kit, run, with_stand_ins

DOCTOR = ROOT / "k8s" / "scripts" / "doctor"
# The kit's loader in the repository (a kit's ./load is a copy of it).
LOADER = ROOT / "k8s" / "scripts" / "load"
# The checks of a kind run, in the order the doctor prints them; in a kit no make, and kit for images.
CHECKS = ["make", "engine", "kind", "kubectl", "store", "node-image", "cluster", "wsl", "inotify", "rootless",
          "cgroups", "snap", "disk", "memory", "proxy", "images"]
KIT_CHECKS = [c for c in CHECKS if c not in ("make", "images")] + ["kit"]
MARK = re.compile(r"^\[( ok |warn|FAIL|skip)\] (\S+) ", re.M)


@dataclass
class Run:
    rc: int
    out: str  # stdout, then stderr
    seconds: float

    def has(self, pattern: str) -> None:
        assert re.search(pattern, self.out, re.M), f"no line matching {pattern!r} in:\n{self.out}"

    def lacks(self, pattern: str) -> None:
        assert not re.search(pattern, self.out, re.M), f"unexpected line matching {pattern!r} in:\n{self.out}"

    def checks(self) -> list[str]:
        """The checks that printed a line, in order."""
        return [m.group(2) for m in MARK.finditer(self.out)]

    def one_line_per_check(self, expected: list[str]) -> None:
        assert self.checks() == expected, f"checks printed: {self.checks()}, expected {expected}:\n{self.out}"
        last = self.out.rstrip("\n").splitlines()[-1]
        assert last.startswith("doctor: "), f"no summary line at the end:\n{self.out}"


def timed(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> Run:
    start = time.monotonic()
    res = run(cmd, env=env, cwd=cwd, timeout=timeout)
    return Run(res.returncode, res.stdout + res.stderr, time.monotonic() - start)


DEBIAN = "Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP"
WSL2 = "Linux version 5.15.167.4-microsoft-standard-WSL2 (root@f9c826d3017f) (gcc (GCC) 11.2.0) #1 SMP"


def proc_dir(path: Path, watches: int, instances: int, version: str = DEBIAN) -> Path:
    """A /proc with the given inotify limits, plenty of memory (KiB) and a kernel (/proc/version)."""
    (path / "sys" / "fs" / "inotify").mkdir(parents=True)
    (path / "sys" / "fs" / "inotify" / "max_user_watches").write_text(f"{watches}\n")
    (path / "sys" / "fs" / "inotify" / "max_user_instances").write_text(f"{instances}\n")
    (path / "meminfo").write_text("MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\n")
    (path / "version").write_text(version + "\n")
    return path


def sys_dir(path: Path, cgroup: int = 2, delegated: str | None = "cpuset cpu io memory pids") -> Path:
    """A /sys whose cgroup file system is v2 (cgroup.controllers at its root) or v1 (a tmpfs of
    controller folders), with DELEGATED the controllers systemd gives this user's user@UID.service
    (none: no such folder, as without a systemd user session)."""
    cgroup_fs = path / "fs" / "cgroup"
    if cgroup == 1:
        for controller in ("cpu", "memory", "pids", "unified"):
            (cgroup_fs / controller).mkdir(parents=True)
        return path
    cgroup_fs.mkdir(parents=True)
    (cgroup_fs / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    if delegated is not None:
        uid = os.getuid()
        user = cgroup_fs / "user.slice" / f"user-{uid}.slice" / f"user@{uid}.service"
        user.mkdir(parents=True)
        (user / "cgroup.controllers").write_text(delegated + "\n")
    return path


def doctor(shell: list[str], tmp_path: Path, *args: str, script: Path | str = DOCTOR, timeout: float = 60,
           path: str | None = None, cwd: Path | None = None, **env: str) -> Run:
    """The doctor under SHELL against the stand-ins, from a folder outside the repository (CWD, default
    tmp_path), with a fresh FAKE_STATE and, unless given, a /proc that asks for nothing and an engine
    data dir on this disk. PATH replaces the stand-ins' PATH altogether. SCRIPT may be relative to CWD
    (passed after --, so a path starting with - is the script's, not the shell's option)."""
    state = Path(tempfile.mkdtemp(prefix="state-", dir=tmp_path))
    if "DOCTOR_PROC" not in env:
        good = tmp_path / "proc-good"
        env["DOCTOR_PROC"] = str(good if good.is_dir() else proc_dir(good, 524288, 512))
    if "DOCTOR_SYS" not in env:
        good = tmp_path / "sys-good"
        env["DOCTOR_SYS"] = str(good if good.is_dir() else sys_dir(good))
    env.setdefault("FAKE_DOCKER_ROOT", str(tmp_path))
    full = with_stand_ins(state, **env)
    if path is not None:
        full["PATH"] = path
    return timed([*shell, "--", str(script), *args], full, cwd=cwd or tmp_path, timeout=timeout)


def node_minor() -> int:
    return int(facts()["NODE_K8S"].split(".")[1])


def hint(tool: str) -> str:
    """The install line of TOOL as the library prints it, as a regex."""
    return re.escape(library(f"install_hint {tool}").strip())


# ---- the kit: the layout images/README.md describes, with this repository's loader and doctor
# (harness.make_kit)
def write_sums(kit: Path) -> None:
    library(f"write_sums {shlex.quote(str(kit))}")


def tar_kit(kit: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(kit, arcname=kit.name)
    return archive


# ---- for real, on this machine (a Docker engine runs here; kind is not installed here nor on CI)
def test_real_run(shell, tmp_path):
    res = timed([*shell, str(DOCTOR)], clean_env(), cwd=tmp_path)
    res.one_line_per_check(CHECKS)
    res.has(r"^\[ ok \] engine +Docker .* answers")
    assert res.seconds < 10, f"took {res.seconds:.1f} s"
    if shutil.which("kind", path=clean_env()["PATH"]):
        res.has(r"^\[( ok |FAIL)\] kind +kind v")
    else:
        assert res.rc == 1, res.out
        res.has(rf"^\[FAIL\] kind +not found.*; fix: {hint('kind')}$")
        res.has(r"^doctor: [0-9]+ blocker\(s\) \([^)]*kind")


# ---- one finding at a time, on the stand-ins
def test_all_good(shell, tmp_path):
    res = doctor(shell, tmp_path)
    assert res.rc == 0, res.out
    res.one_line_per_check(CHECKS)
    res.lacks(r"^\[FAIL\]")
    res.has(r"^doctor: nothing blocks")
    res.has(rf"^\[ ok \] kind +kind {re.escape(facts()['KIND_VERSION'])}")
    for check in ("kubectl", "inotify", "proxy", "images", "node-image", "wsl", "rootless", "cgroups", "snap"):
        res.has(rf"^\[ ok \] {check} ")
    res.has(r"^\[ ok \] cluster +no kind cluster hello yet")


def test_kind_too_old(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_KIND_VERSION="v0.20.0")
    assert res.rc == 1, res.out
    kind = re.escape(facts()["KIND_VERSION"])
    res.has(rf"^\[FAIL\] kind +kind v0\.20\.0 is older than {kind}.*; fix: {hint('kind')}$")


def test_kubectl_skew(shell, tmp_path):
    old = f"v1.{node_minor() - 2}.3"
    res = doctor(shell, tmp_path, FAKE_KUBECTL_VERSION=old)
    assert res.rc == 0, res.out
    node = re.escape(facts()["NODE_K8S"])
    res.has(rf"^\[warn\] kubectl +kubectl {re.escape(old)} is 2 minors from the node's Kubernetes {node}.*"
            rf"; fix: {hint('kubectl')}$")


def test_containerd_store(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_DOCKER_STORE="containerd")
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] store +containerd image store \(overlayfs\).*kind #3795.*docker save --platform")


def test_engine_down(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_DOCKER_DOWN="1")
    assert res.rc == 1, res.out
    res.one_line_per_check(CHECKS)
    res.has(r"^\[FAIL\] engine +docker is installed but the engine does not answer.*"
            r"Cannot connect to the Docker daemon.*fix: start Docker")
    res.has(r"^\[skip\] images +cannot look for")


def test_engine_hangs(shell, tmp_path):
    """Bounded: an engine that never answers costs DOCTOR_TIMEOUT, not the run."""
    res = doctor(shell, tmp_path, FAKE_DOCKER_HANG="1", DOCTOR_TIMEOUT="1", timeout=30)
    assert res.rc == 1, res.out
    res.has(r"^\[FAIL\] engine .*'docker info' did not answer within 1s")
    each_line_is_a_check_or_the_summary(res)  # no "Terminated" from the shell
    assert res.seconds < 5, f"took {res.seconds:.1f} s"


def test_engine_ignores_sigterm(shell, tmp_path):
    """A docker that ignores SIGTERM is killed (the library's bounded escalates to SIGKILL): the run
    costs DOCTOR_TIMEOUT, a second of grace and the other checks (about 2 s of stand-ins), not the 8 s
    that docker would sleep (before: 8.2 s on an idle machine). The bound is generous, as for
    test_engine_hangs: this machine is shared."""
    res = doctor(shell, tmp_path, FAKE_DOCKER_HANG="ignore-term", DOCTOR_TIMEOUT="1", timeout=30)
    assert res.rc == 1, res.out
    res.has(r"^\[FAIL\] engine .*'docker info' did not answer within 1s")
    each_line_is_a_check_or_the_summary(res)  # no "Killed" from the shell
    assert res.seconds < 1 + 4, f"took {res.seconds:.1f} s"


def test_proxy_shell_only(shell, tmp_path):
    res = doctor(shell, tmp_path, HTTPS_PROXY="http://proxy.example:3128")
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] proxy +the shell has a proxy \(http://proxy\.example:3128\) but the engine has none.*"
            r"fix: .*docs\.docker\.com/engine/daemon/proxy")


def test_no_proxy_gap(shell, tmp_path):
    res = doctor(shell, tmp_path, HTTPS_PROXY="http://proxy.example:3128",
                 FAKE_DOCKER_PROXY="http://proxy.example:3128", NO_PROXY="localhost")
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] proxy +.*NO_PROXY \(localhost\) lacks 127\.0\.0\.1.*fix: export NO_PROXY=localhost,127\.0\.0\.1")


def test_inotify_low(shell, tmp_path):
    res = doctor(shell, tmp_path, DOCTOR_PROC=str(proc_dir(tmp_path / "proc-low", 8192, 128)))
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] inotify +max_user_watches 8192, max_user_instances 128.*too many open files.*"
            r"fix: sudo sysctl fs\.inotify\.max_user_watches=524288 && sudo sysctl fs\.inotify\.max_user_instances=512")


# ---- the host under the engine: WSL 2, rootless, cgroup v2 delegation, snap (kind's known issues)
def stand_in_bin(tmp_path: Path, name: str, script: str) -> Path:
    """A folder holding one executable NAME (a POSIX sh SCRIPT body), to put first on PATH."""
    folder = Path(tempfile.mkdtemp(prefix=f"bin-{name}-", dir=tmp_path))
    (folder / name).write_text(f"#!/bin/sh\n{script}\n")
    (folder / name).chmod(0o755)
    return folder


def test_wsl2_with_cgroup_v1_warns_with_the_fix(shell, tmp_path):
    res = doctor(shell, tmp_path, DOCTOR_PROC=str(proc_dir(tmp_path / "proc-wsl", 524288, 512, WSL2)),
                 DOCTOR_SYS=str(sys_dir(tmp_path / "sys-v1", cgroup=1)))
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] wsl +WSL 2 \(kernel 5\.15\.167\.4-microsoft-standard-WSL2\) with cgroup v1 .*"
            r"\"error adding pid \.\.\. to cgroups\" \(kind known issues: Failure to Create Cluster on WSL2; kind #2323\)"
            r"; fix: in PowerShell: wsl --update .*kernelCommandLine = cgroup_no_v1=all systemd\.unified_cgroup_hierarchy=1 "
            r"under \[wsl2\] in %UserProfile%\\\.wslconfig, then wsl --shutdown .*spurin/wsl-cgroupsv2")


def test_wsl2_with_cgroup_v2_is_ok_and_uname_is_read_without_proc_version(shell, tmp_path):
    """/proc/version first; without it, uname -r (a stand-in uname says WSL2 here)."""
    proc = proc_dir(tmp_path / "proc-no-version", 524288, 512)
    (proc / "version").unlink()
    uname = stand_in_bin(tmp_path, "uname", 'case $1 in -r) echo 6.6.87.2-microsoft-standard-WSL2 ;; -m) echo x86_64 ;;'
                                            ' *) echo Linux ;; esac')
    env = with_stand_ins(tmp_path / "path-state")
    res = doctor(shell, tmp_path, DOCTOR_PROC=str(proc), path=f"{uname}{os.pathsep}{env['PATH']}")
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] wsl +WSL 2 \(kernel 6\.6\.87\.2-microsoft-standard-WSL2\) with cgroup v2 only")


def test_rootless_docker_warns_with_the_fix(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_DOCKER_SECURITY="[name=seccomp,profile=builtin name=rootless name=cgroupns]")
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] rootless +Docker runs rootless \(docker info: name=rootless\): kind creates clusters on it only "
            r"with cgroup v2 and the cpu, memory and pids controllers delegated.*; fix: .*"
            r"ip6_tables ip6table_nat ip_tables iptable_nat in /etc/modules-load\.d/iptables\.conf \(kind docs, user/rootless\)$")
    res.has(r"^\[ ok \] cgroups +cgroup v2, and systemd delegates cpu, memory and pids to you \(user@[0-9]+\.service: ")


def test_rootless_podman_warns_with_the_fix(shell, tmp_path):
    podman = stand_in_bin(tmp_path, "podman", f'exec python3 {shlex.quote(str(SIM))} podman "$@"')
    env = with_stand_ins(tmp_path / "path-state")
    res = doctor(shell, tmp_path, FAKE_DOCKER_DOWN="1", FAKE_PODMAN_ROOTLESS="true",
                 path=f"{podman}{os.pathsep}{env['PATH']}")
    assert res.rc == 1, res.out  # docker does not answer: the engine blocks
    res.has(r"^\[warn\] rootless +Podman runs rootless \(podman info: rootless true\): kind uses it only with "
            r"KIND_EXPERIMENTAL_PROVIDER=podman.*; fix: export KIND_EXPERIMENTAL_PROVIDER=podman")


ROOTLESS = "[name=seccomp,profile=builtin name=rootless name=cgroupns]"


def test_rootless_without_cpu_and_memory_delegated_blocks(shell, tmp_path):
    """systemd before 252 delegates no cpu: kind refuses a rootless engine (its validateProvider)."""
    res = doctor(shell, tmp_path, FAKE_DOCKER_SECURITY=ROOTLESS,
                 DOCTOR_SYS=str(sys_dir(tmp_path / "sys-undelegated", delegated="io pids")))
    assert res.rc == 1, res.out
    res.has(r"^\[FAIL\] cgroups +systemd delegates only io pids to you \(user@[0-9]+\.service\), not cpu memory: "
            r"kind refuses a rootless engine.*Delegate=yes.*; fix: sudo mkdir -p /etc/systemd/system/user@\.service\.d "
            r"&& printf '\[Service\]\\nDelegate=yes\\n' \| sudo tee /etc/systemd/system/user@\.service\.d/delegate\.conf "
            r"&& sudo systemctl daemon-reload, then systemctl --user restart docker \(kind docs, user/rootless")
    res.has(r"^doctor: 1 blocker\(s\) \(cgroups\)")


def test_rootless_on_cgroup_v1_blocks_and_rootful_on_v1_warns(shell, tmp_path):
    v1 = str(sys_dir(tmp_path / "sys-v1", cgroup=1))
    res = doctor(shell, tmp_path, FAKE_DOCKER_SECURITY=ROOTLESS, DOCTOR_SYS=v1)
    assert res.rc == 1, res.out
    res.has(r"^\[FAIL\] cgroups +a rootless engine on cgroup v1: kind refuses it .*requires cgroup v2.*; "
            r"fix: boot with cgroup v2: GRUB_CMDLINE_LINUX=\"systemd\.unified_cgroup_hierarchy=1\"")
    res = doctor(shell, tmp_path, DOCTOR_SYS=v1)
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] cgroups +cgroup v1: kind warns that it is deprecated.*; fix: boot with cgroup v2")


def test_snap_docker_warns_with_the_fix(shell, tmp_path):
    """Docker from snap, told by its data dir (/var/snap/docker/...), then by the docker on PATH
    (.../snap/bin/docker); with TMPDIR in the home folder it is ok."""
    res = doctor(shell, tmp_path, FAKE_DOCKER_ROOT="/var/snap/docker/common/var-lib-docker", TMPDIR="/tmp")
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] snap +Docker is a snap \(the engine keeps its data in /var/snap/docker/common/var-lib-docker\): "
            r"the snap sees only your home folder.*kind #2535.*; fix: mkdir -p \"\$HOME/tmp\" && export TMPDIR=\"\$HOME/tmp\" "
            r"before kind.*\(kind known issues: Docker Installed with Snap\)$")
    snap_bin = tmp_path / "snap" / "bin"
    snap_bin.mkdir(parents=True)
    (snap_bin / "docker").write_text(f'#!/bin/sh\nexec python3 {shlex.quote(str(SIM))} docker "$@"\n')
    (snap_bin / "docker").chmod(0o755)
    env = with_stand_ins(tmp_path / "path-state")
    res = doctor(shell, tmp_path, TMPDIR="/tmp", path=f"{snap_bin}{os.pathsep}{env['PATH']}")
    res.has(rf"^\[warn\] snap +Docker is a snap \(docker is {re.escape(str(snap_bin))}/docker\)")
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    res = doctor(shell, tmp_path, HOME=str(home), TMPDIR=str(home / "tmp"), path=f"{snap_bin}{os.pathsep}{env['PATH']}")
    res.has(r"^\[ ok \] snap +Docker is a snap .*, and TMPDIR=.* is in your home folder")


def test_images_missing(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_DOCKER_NO_IMAGES="1")
    assert res.rc == 0, res.out
    res.has(rf"^\[warn\] node-image +kindest/node .* is not in the engine.*"
            rf"fix: pull it today.*docker pull {re.escape(facts()['NODE_IMAGE'])}$")
    version = re.escape(facts()["HELLO_VERSION"])
    res.has(rf"^\[warn\] images +not built yet: hello-once:{version} hello-loop:{version}.*fix: make images")


def test_cluster_context(shell, tmp_path):
    """The cluster exists; the current context is another one, then the right one."""
    res = doctor(shell, tmp_path, FAKE_KIND_CLUSTERS="hello", FAKE_KUBECTL_CONTEXT="kind-other")
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] cluster +kind cluster hello exists but the current context is kind-other.*"
            r"fix: kubectl config use-context kind-hello")
    res = doctor(shell, tmp_path, FAKE_KIND_CLUSTERS="hello")
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] cluster +kind cluster hello exists and the current context is kind-hello")


def test_pull_size(shell, tmp_path):
    """The registry answers: the pull is the engine platform's layers (amd64 in the stand-in: 123 MB)."""
    res = doctor(shell, tmp_path, FAKE_DOCKER_NO_IMAGES="1", FAKE_DOCKER_REGISTRY="1")
    assert res.rc == 0, res.out
    res.has(r"^\[warn\] node-image +.*kind create cluster pulls it: 123 MB for linux/amd64")


def test_minikube(shell, tmp_path):
    res = doctor(shell, tmp_path, CLUSTER="minikube")
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] minikube +minikube v1\.37\.0, driver docker")
    res.lacks(r"^\[....\] (kind|node-image) ")
    res.has(r"^\[ ok \] cluster +no minikube cluster hello yet")


@pytest.mark.parametrize("args, env, message", [
    ((), {"CLUSTER": "bogus"}, r"^doctor: CLUSTER must be kind or minikube \(got 'bogus'\)$"),
    (("--frobnicate",), {}, r"^doctor: unknown argument '--frobnicate'"),
    ((), {"KIT": "/nonexistent/kit.tar.gz"}, r"^doctor: KIT: no such file or folder"),
], ids=["cluster", "argument", "kit"])
def test_bad_usage(shell, tmp_path, args, env, message):
    res = doctor(shell, tmp_path, *args, **env)
    assert res.rc == 2, res.out
    assert len(res.out.splitlines()) == 1, res.out
    res.has(message)


def test_blockers_only(shell, tmp_path):
    """What make demo runs first: the blocker checks only, quickly."""
    res = doctor(shell, tmp_path, "--blockers-only")
    assert res.rc == 0, res.out
    res.one_line_per_check(["make", "engine", "kind", "kubectl"])
    res.has(r"^doctor: nothing blocks \(4 ok\); the full check: make doctor$")
    assert res.seconds < 1, f"took {res.seconds:.1f} s"


# ---- make: in the repository only, any GNU make
def test_make_381_is_ok(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_MAKE_VERSION="GNU Make 3.81")
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] make +GNU make 3\.81: ")


def test_make_not_gnu_warns(shell, tmp_path):
    res = doctor(shell, tmp_path, FAKE_MAKE_VERSION="bmake-20240711")
    assert res.rc == 0, res.out
    res.has(rf"^\[warn\] make +.* is not GNU make.*; fix: {hint('make')}$")


def test_make_missing_blocks(shell, tmp_path):
    """No make on PATH: every other tool there, the stand-ins called by their absolute sim.py path."""
    env = clean_env()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "kind", "kubectl", "minikube"):
        shim = bin_dir / tool
        shim.write_text(f'#!/bin/sh\nexec python3 {shlex.quote(str(SIM))} {tool} "$@"\n')
        shim.chmod(0o755)
    for entry in env["PATH"].split(os.pathsep):
        if not os.path.isdir(entry) or Path(entry).resolve() == FAKE_BIN:
            continue
        for name in os.listdir(entry):
            src = Path(entry) / name
            if name == "make" or (bin_dir / name).exists() or not os.access(src, os.X_OK) or src.is_dir():
                continue
            if name.startswith("python"):  # a venv's python finds its venv from its own path
                (bin_dir / name).write_text(f'#!/bin/sh\nexec {shlex.quote(str(src))} "$@"\n')
                (bin_dir / name).chmod(0o755)
            else:
                (bin_dir / name).symlink_to(src)
    res = doctor(shell, tmp_path, path=str(bin_dir))
    assert res.rc == 1, res.out
    res.has(rf"^\[FAIL\] make +not found.*; fix: {hint('make')}$")
    res.has(r"^doctor: 1 blocker\(s\) \(make\)")


# ---- the kit
def test_kit_good(shell, tmp_path):
    """A kit that verifies is ok: as a folder, and as a .tar.gz extracted to a temp dir removed after."""
    kit = make_kit(tmp_path / "kit")
    res = doctor(shell, tmp_path, KIT=str(kit))
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] kit +.*: every file matches its checksum \(load verify\), images for linux/amd64$")
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    res = doctor(shell, tmp_path, KIT=str(tar_kit(kit, tmp_path / "kit.tar.gz")), TMPDIR=str(temp))
    assert res.rc == 0, res.out
    res.has(r"^\[ ok \] kit +.*kit\.tar\.gz: every file matches")
    assert not list(temp.iterdir()), f"left behind in TMPDIR: {list(temp.iterdir())}"


def test_kit_bad_checksum(shell, tmp_path):
    kit = make_kit(tmp_path / "kit")
    victim = "images/amd64/hello-once.tar"
    with (kit / victim).open("a") as f:
        f.write("x")
    # KIT_DIR from the caller's shell must not make the loader verify another (good) kit.
    good = make_kit(tmp_path / "good")
    res = doctor(shell, tmp_path, KIT=str(kit), KIT_DIR=str(good))
    assert res.rc == 1, res.out
    res.has(rf"^\[FAIL\] kit +{re.escape(str(kit))}: .*{re.escape(victim)}.*fix: download the kit again")


def lose_a_line(kit: Path, file: str) -> None:
    sums = kit / "SHA256SUMS"
    lines = sums.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.endswith(f"  {file}\n")]
    assert len(kept) == len(lines) - 1, f"no line for {file}"
    sums.write_text("".join(kept))


LESSONS = library("lesson_dirs").split()
FIRST_LESSON_MANIFEST = sorted(str(p.relative_to(ROOT)) for p in (ROOT / LESSONS[0]).glob("*.yaml")
                               if p.name != "kustomization.yaml")[0]


@pytest.mark.parametrize("file", ["images/amd64/hello-once.tar", FIRST_LESSON_MANIFEST], ids=["archive", "lesson-file"])
def test_a_sha256sums_that_lost_a_line_is_damage(shell, tmp_path, file):
    """Issue 25: with the line of images/amd64/hello-once.tar deleted, load verify said every file
    verified and the doctor [ ok ] kit, while ./load docker found no images for linux/amd64. Now
    verify, the doctor and ./load docker refuse it: exit 2, one line naming the file, nothing loaded."""
    kit = make_kit(tmp_path / "kit")
    lose_a_line(kit, file)
    want = f"load: {file} is not listed in SHA256SUMS (it lost a line): get a fresh copy of the kit\n"
    state = tmp_path / "state"
    for target in ("verify", "docker"):
        res = run([*shell, "./load", target], env=with_stand_ins(state), cwd=kit)
        assert (res.returncode, res.stdout, res.stderr) == (2, "", want), f"./load {target}: {res.stdout}{res.stderr}"
    assert [c for c in calls(state) if c.startswith("docker load")] == [], "nothing loaded"
    res = doctor(shell, tmp_path, KIT=str(kit))
    assert res.rc == 1, res.out
    res.has(rf"^\[FAIL\] kit +{re.escape(str(kit))}: load: {re.escape(file)} is not listed in SHA256SUMS.*"
            r"fix: download the kit again")


def test_an_exercise_start_folder_edited_by_the_learner_is_not_damage(shell, tmp_path):
    """The learner edits exercise-X/start in the kit and adds files to it (exercise 1a's job.yaml):
    ./load verify still passes; the same edit anywhere else in the kit is damage."""
    kit = make_kit(tmp_path / "kit")
    start = next(kit.glob("k8s/*/exercise-*/start"))
    edited = next(p for p in start.iterdir() if p.name != "kustomization.yaml")
    edited.write_text(edited.read_text() + "# edited by the learner\n")
    (start / "job.yaml").write_text("---\n# a new file of the learner's\n")
    res = run([*shell, "./load", "verify"], env=with_stand_ins(tmp_path / "state"), cwd=kit)
    assert res.returncode == 0, res.stdout + res.stderr
    solution = next(p for p in (start.parent / "solution").iterdir() if p.name != "kustomization.yaml")
    solution.write_text(solution.read_text() + "# not the learner's to edit\n")
    res = run([*shell, "./load", "verify"], env=with_stand_ins(tmp_path / "state"), cwd=kit)
    assert res.returncode == 2 and "is altered or truncated" in res.stderr, res.stdout + res.stderr


@pytest.mark.parametrize("gone", ["images/amd64/hello-loop.tar", f"{LESSONS[1]}/lesson.sh", "k8s/kustomization.yaml",
                                  "check"], ids=["archive", "lesson-steps", "lesson-list", "command"])
def test_what_a_kit_must_carry_is_checked_not_only_what_sha256sums_lists(tmp_path, gone):
    """A file a kit must carry, gone with its line: the archive's pair, a lesson's steps, the list of
    lessons, a root command. Each is named, exit 2."""
    kit = make_kit(tmp_path / "kit")
    lose_a_line(kit, gone)
    (kit / gone).unlink()
    res = run(["dash", "./load", "verify"], env=clean_env(), cwd=kit)
    assert res.returncode == 2 and res.stderr.startswith(f"load: {gone} is missing ("), res.stderr
    assert len(res.stderr.splitlines()) == 1, res.stderr


def test_the_scratch_folder_and_finders_files_are_not_the_kits(tmp_path):
    """./lesson writes its scratch files to the kit's .cache; macOS's Finder adds .DS_Store and ._*
    files: none of them is a file SHA256SUMS lost."""
    kit = make_kit(tmp_path / "kit")
    (kit / ".cache" / "flows").mkdir(parents=True)
    (kit / ".cache" / "flows" / "last-stderr").write_text("")
    (kit / ".DS_Store").write_text("finder")
    (kit / "k8s" / "._kind-config.yaml").write_text("appledouble")
    res = run(["dash", "./load", "verify"], env=clean_env(), cwd=kit)
    assert res.returncode == 0, res.stderr


def test_kit_other_arch(shell, tmp_path):
    """A kit made for arm64 only, on an amd64 engine (the stand-in's)."""
    kit = make_kit(tmp_path / "arm")
    (kit / "images" / "amd64").rename(kit / "images" / "arm64")
    write_sums(kit)
    res = doctor(shell, tmp_path, KIT=str(kit))
    assert res.rc == 1, res.out
    res.has(r"^\[FAIL\] kit +.*: the checksums verify, but it has no images for this engine.s linux/amd64 \(only: arm64\)")


def test_in_a_kit(shell, tmp_path):
    """The doctor at a kit's root checks that kit: HELLO_KIT=1, no make line (and no bash line)."""
    kit = make_kit(tmp_path / "kit")
    assert library("echo $HELLO_KIT", root=kit).strip() == "1"
    res = doctor(shell, tmp_path, script=kit / "doctor")
    assert res.rc == 0, res.out
    res.one_line_per_check(KIT_CHECKS)
    res.lacks(r"^\[....\] (bash|make) |^doctor: .*blocker.*bash")
    res.has(rf"^\[ ok \] kit +{re.escape(str(kit))}: every file matches its checksum")
    res.has(r"^doctor: nothing blocks")
    res = doctor(shell, tmp_path, "--blockers-only", script=kit / "doctor")
    assert res.rc == 0, res.out
    res.one_line_per_check(["engine", "kind", "kubectl"])
    res.has(r"^doctor: nothing blocks \(3 ok\); the full check: \./doctor$")


# ---- a kit anywhere (issue 25): the folder it was unpacked in may have a backslash, a newline, a
# leading - or a space in its name. The kit is run from inside (./load), from the folder above by a
# relative path (sh -- FOLDER/hello-k8s-kit/load), and checked by the doctor both ways.
AWKWARD = {"backslash": "back\\slash", "newline": "new\nline", "leading-dash": "-dash", "space": "with space"}


@pytest.fixture(params=list(AWKWARD), ids=list(AWKWARD))
def awkward(request, tmp_path) -> tuple[Path, str]:
    """(the folder the commands are typed in, the kit's path relative to it), the kit a classroom."""
    work = tmp_path / "work"
    make_kit(work / AWKWARD[request.param])
    return work, f"{AWKWARD[request.param]}/hello-k8s-kit"


def test_load_verify_under_an_awkward_path(shell, tmp_path, awkward):
    work, rel = awkward
    count = len((work / rel / "SHA256SUMS").read_text().splitlines())
    env = with_stand_ins(tmp_path / "state")
    for cmd, cwd, extra in ((["./load", "verify"], work / rel, {}),
                            (["--", f"{rel}/load", "verify"], work, {}),
                            (["--", str(LOADER), "verify"], work, {"KIT_DIR": rel})):
        res = timed([*shell, *cmd], {**env, **extra}, cwd=cwd)
        assert res.rc == 0, f"{cmd} in {cwd}: {res.out}"
        assert res.out == f"load: SHA256SUMS: all {count} files verified\n", f"{cmd} in {cwd}: {res.out}"


def each_line_is_a_check_or_the_summary(res: Run) -> None:
    lines = res.out.rstrip("\n").split("\n")
    stray = [line for line in lines if not MARK.match(line) and not line.startswith("doctor: ")]
    assert stray == [], f"lines that are neither a check nor the summary: {stray}\n{res.out}"


def test_doctor_checks_a_kit_under_an_awkward_path(shell, tmp_path, awkward):
    """[ ok ] kit, one line per check: the kit's own doctor by its relative path, and the repository's
    doctor with KIT= that relative path (./doctor from inside: test_in_a_kit)."""
    work, rel = awkward
    for script, cwd, env in ((f"{rel}/doctor", work, {}), (DOCTOR, work, {"KIT": rel})):
        res = doctor(shell, tmp_path, script=script, cwd=cwd, **env)
        assert res.rc == 0, f"{script} in {cwd}: {res.out}"
        res.has(r"^\[ ok \] kit +/.*/hello-k8s-kit: every file matches its checksum")
        each_line_is_a_check_or_the_summary(res)


def printed_after(text: str, line: str) -> str:
    """What the loader printed after LINE: the commands it asks to paste, as a shell would read them."""
    _, found, rest = text.partition(line + "\n")
    assert found, f"no line {line!r} in:\n{text}"
    return rest


def test_printed_commands_paste_back(shell, tmp_path, awkward):
    """The loader's hints are commands to paste: run as a shell reads them (with the stand-ins), they
    work. `load kind` without a cluster prints the create command; pasted, it creates the cluster
    (the stand-in kind reads --config, as kind does); `load kind` then prints the next steps, which
    pasted (DRY_RUN=1 for ./lesson, which only prints then) apply the namespace and lesson 1."""
    work, rel = awkward
    state = tmp_path / "state"
    env = with_stand_ins(state)
    res = run([*shell, "--", f"{rel}/load", "kind"], env=env, cwd=work)
    assert res.returncode == 1, res.stdout + res.stderr
    create = printed_after(res.stderr, "create it, then run this again:")
    pasted = run([*shell, "-c", f"set -e\n{create}"], env=env, cwd=work)
    assert pasted.returncode == 0 and (state / "kind-created").exists(), f"pasted:\n{create}\n{pasted.stderr}"
    res = run([*shell, "--", f"{rel}/load", "kind"], env=env, cwd=work)
    assert res.returncode == 0, res.stdout + res.stderr
    steps = printed_after(res.stdout, "load: loaded hello-once and hello-loop (linux/amd64) into kind cluster hello. "
                                      "Next, the first lesson:")
    pasted = run([*shell, "-c", f"set -e\n{steps}"], env={**env, "DRY_RUN": "1"}, cwd=work)
    assert pasted.returncode == 0, f"pasted:\n{steps}\n{pasted.stdout}{pasted.stderr}"
    applied = [c for c in calls(state) if re.match(r"kubectl --context kind-hello apply -k ", c)]
    assert len(applied) == 2, f"pasted:\n{steps}\ncalls: {calls(state)}"


# ---- make demo runs the blocker checks first
def real_make() -> str:
    make = shutil.which("make", path=clean_env()["PATH"])
    assert make, "no make on PATH"
    return make


def test_demo_stops_at_the_doctor(tmp_path):
    """make demo with kind v0.20.0 stops at the doctor: no docker build, no make images."""
    state = tmp_path / "state"
    env = with_stand_ins(state, FAKE_KIND_VERSION="v0.20.0",
                         DOCTOR_PROC=str(proc_dir(tmp_path / "proc", 524288, 512)))
    res = timed([real_make(), "demo"], env, cwd=ROOT, timeout=120)
    assert res.rc != 0, res.out
    res.has(rf"^\[FAIL\] kind +kind v0\.20\.0 is older than {re.escape(facts()['KIND_VERSION'])}")
    built = [c for c in calls(state) if re.match(r"docker (build|save)|make images|kind (create|load)", c)]
    assert not built, f"ran before the doctor stopped it: {built}"
    res.lacks(r"Building the images")


def test_dry_demo_skips_the_doctor(tmp_path):
    """DRY_RUN=1 make demo needs none of the tools, so it does not run the doctor."""
    state = tmp_path / "state"
    env = with_stand_ins(state, FAKE_KIND_VERSION="v0.20.0", DRY_RUN="1")
    res = timed([real_make(), "demo"], env, cwd=ROOT, timeout=120)
    res.lacks(r"^\[(FAIL|warn| ok )\]|^doctor: ")
    asked = [c for c in calls(state) if re.match(r"(docker info|kind version|make --version)( |$)", c)]
    assert not asked, f"the doctor ran: {asked}"


def test_shellcheck():
    shellcheck = ROOT / ".venv" / "bin" / "shellcheck"
    assert shellcheck.exists(), "no .venv/bin/shellcheck: run make tools"
    res = run([str(shellcheck), "-s", "sh", "-x", "k8s/scripts/doctor"], cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
