"""The workshop kit (`make test-kit`, part of `make test-images`): the archive `make kit` wrote,
unpacked outside the repository as an attendee would, then:

- the archive: size budget (5 MiB), one top folder, `sha256sum -c`, SHA256SUMS covering every file,
  what it must carry; no Cargo.toml; the root commands (doctor, load, lesson, check) executable and
  identical to k8s/scripts/*; every lesson folder whole (diff -r against the repository; a README
  differs only by the links images/kit-links points at the repository); kustomize works from the kit;
  every relative link of every README resolves inside the kit; nothing that needs make, bash or Python;
  the slides (the deck's HTML and PDF, the handout) as make slides wrote them, and the README saying
  how to present from them; the archive's SHA-256 beside it, checked by `sha256sum -c` and `shasum -a
  256 -c` (the handout's command), a changed byte refused;
- the kit's own doctor (real tools, and on the stand-ins under every shell: no bash line, no make line);
- images/build-kit's refusals (KIT_PLATFORMS, KIT_NODE_IMAGE=1 without the node image, no SBOMs,
  a VERSION that is not the workspace's): exit 2, one line, nothing written;
- the loader: POSIX sh under dash, bash --posix, posh and busybox sh, shellcheck -s sh, the shasum
  path (macOS: no sha256sum), a missing docker, bad arguments; DRY_RUN=1 `./load kind` / `./load
  minikube` print exactly the load commands; `./load kind` against the stand-ins (k8s/tests/sim.py)
  with and without a cluster; the node-image path;
- on the real engine, from a clean one (the plain tags removed): a damaged kit is refused with exit 2,
  one line naming the file, nothing loaded; the other architecture's archives loaded and run under
  QEMU; `./load docker` (timed) gives the image IDs make kit built, both run with --network none,
  `docker stop` exits 0; a `podman save` archive docker loads with the same ID;
- the classroom from the kit, under every shell, with stand-in kind and kubectl first on PATH:
  `DRY_RUN=1 ./lesson 1` and `./check 1` print exactly the repository's kubectl commands; `./lesson 1`
  passes on the simulated cluster; `./check N X` says "done: every condition met" on the simulated
  cluster seeded with each exercise's sim/pass.yaml.

    ONCE_IMAGE=hello-once:0.1.0 LOOP_IMAGE=hello-loop:0.1.0 KIT_ARCHIVE=dist/hello-k8s-kit-0.1.0.tar.gz \\
      python3 -B -m pytest -q -p no:cacheprovider images/tests/test_kit.py

The image names and the archive default to the pins (k8s/lib/facts). The expensive parts (unpacking
the kit, each step of the clean-engine sequence) are module fixtures, so every test also runs alone.
At the end the engine has the plain tags back on the kit's images for its own architecture, as make
kit left them; the containers started here are labelled and removed. Nothing is written into the
repository: everything goes to pytest's temporary folders.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "k8s" / "tests"))
from harness import FAKE_BIN, ROOT, SHELLS, SIM, calls, clean_env, facts, library, run, with_stand_ins  # noqa: E402

VERSION = facts()["HELLO_VERSION"]
ONCE = os.environ.get("ONCE_IMAGE") or f"hello-once:{VERSION}"
LOOP = os.environ.get("LOOP_IMAGE") or f"hello-loop:{VERSION}"
ARCHIVE = ROOT / (os.environ.get("KIT_ARCHIVE") or f"dist/hello-k8s-kit-{VERSION}.tar.gz")
NAME = f"hello-k8s-kit-{VERSION}"
BUDGET = 5 * 1024 * 1024
GREETING = "Hello, World!"
LABEL = "hello-k8s.test=test-kit"
COMMANDS = ("doctor", "load", "lesson", "check")  # the kit's root: copies of k8s/scripts/*
SLIDES = ("hello-k8s.html", "hello-k8s.pdf", "handout.pdf")  # the kit's slides/: from make slides
SHELLCHECK = ROOT / ".venv" / "bin" / "shellcheck"


def load_kit_links():
    loader = importlib.machinery.SourceFileLoader("kit_links", str(ROOT / "images" / "kit-links"))
    spec = importlib.util.spec_from_loader("kit_links", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


kit_links = load_kit_links()


# ------------------------------------------------------------------------------ the folders
def lesson_dirs() -> list[str]:
    return library("lesson_dirs").split()


def number(lesson: str) -> int:
    return int(Path(lesson).name.split("-")[0])


def exercises() -> list[tuple[int, str, str]]:
    """(lesson number, letter, folder) of every exercise, from the repository's folders (the kit
    carries them whole: a test checks that)."""
    return [(number(lesson), x, f"{lesson}/exercise-{x}") for lesson in lesson_dirs()
            for x in library(f'exercise_letters "{lesson}"').split()]


LESSONS = lesson_dirs()
FIRST_LESSON = LESSONS[0]
EXERCISES = exercises()


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(params=SHELLS)
def shell(request) -> list[str]:
    """The shell under test, as the words that start it: ["dash"], ["bash", "--posix"], ..."""
    return request.param.split()


@pytest.fixture(scope="module")
def archive() -> Path:
    if not ARCHIVE.is_file():
        pytest.fail(f"no kit at {ARCHIVE}: make kit writes it (make test-kit runs it first)")
    return ARCHIVE


@pytest.fixture(scope="module")
def kit(archive, tmp_path_factory) -> Path:
    """The kit unpacked with tar, outside the repository (like an attendee's Downloads). Read only:
    a test that changes a kit works on a copy (kit_copy)."""
    where = tmp_path_factory.mktemp("unpacked")
    result = run(["tar", "-xzf", str(archive), "-C", str(where)])
    assert result.returncode == 0, result.stderr
    return where / NAME


def copy_of(kit: Path, where: Path) -> Path:
    shutil.copytree(kit, where, symlinks=True)
    return where


@pytest.fixture
def kit_copy(kit, tmp_path) -> Path:
    return copy_of(kit, tmp_path / NAME)


def norm_arch(machine: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


HOST_ARCH = norm_arch(platform.machine())


def in_kit(kit: Path, cmd: list[str], env: dict[str, str] | None = None, timeout: float = 300):
    return run(cmd, env=env, cwd=kit, timeout=timeout)


def lines(text: str) -> list[str]:
    return text.splitlines()


def one_line(result: subprocess.CompletedProcess) -> bool:
    return len((result.stdout + result.stderr).strip().splitlines()) == 1


# ------------------------------------------------------------------------------ the archive
def test_kit_is_within_the_size_budget(archive):
    size = archive.stat().st_size
    assert size <= BUDGET, f"kit is {size} bytes ({size / 1048576:.2f} MiB), over the 5 MiB budget"


def test_kit_unpacks_to_one_folder(archive):
    with tarfile.open(archive) as tar:
        tops = {name.split("/")[0] for name in tar.getnames()}
    assert tops == {NAME}, f"top level: {sorted(tops)}"


def test_sha256sum_checks_the_unpacked_kit(kit):
    result = in_kit(kit, ["sha256sum", "-c", "--quiet", "SHA256SUMS"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_sha256sums_covers_every_other_file(kit):
    listed = sorted(line.split("  ", 1)[1] for line in (kit / "SHA256SUMS").read_text().splitlines())
    present = sorted(p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    assert listed == present


def test_kit_carries_the_images_sboms_licences_and_readme(kit):
    wanted = [f"images/{a}/{i}.tar" for a in ("amd64", "arm64") for i in ("hello-once", "hello-loop")]
    wanted += ["sbom/hello-once.cdx.json", "sbom/hello-loop.cdx.json", "LICENSE-MIT", "LICENSE-APACHE", "README.md"]
    wanted += [f"slides/{name}" for name in SLIDES]
    assert [f for f in wanted if not (kit / f).is_file()] == []


def test_the_kits_slides_are_the_ones_make_slides_wrote(kit):
    """The deck (HTML and PDF) and the handout, byte for byte; the PowerPoint file stays out (its
    slide images would not fit the budget)."""
    assert sorted(p.name for p in (kit / "slides").iterdir()) == sorted(SLIDES)
    for name in SLIDES:
        assert (kit / "slides" / name).read_bytes() == (ROOT / "dist" / "slides" / name).read_bytes(), name


def test_the_kit_readme_says_how_to_present(kit):
    text = " ".join((kit / "README.md").read_text().split())
    for words in ("slides/hello-k8s.html", "presenter view", "slides/hello-k8s.pdf", "slides/handout.pdf"):
        assert words in text, words


@pytest.mark.parametrize("check", [["sha256sum", "-c"], ["shasum", "-a", "256", "-c"]], ids=["sha256sum", "shasum"])
def test_the_archive_has_its_sha256_beside_it(archive, check, tmp_path):
    """make kit writes NAME.tar.gz.sha256; the handout's command checks a download with it."""
    line = Path(f"{archive}.sha256").read_text()
    assert re.fullmatch(rf"[0-9a-f]{{64}}  {re.escape(archive.name)}\n", line), line
    download = tmp_path / "Downloads"
    download.mkdir()
    shutil.copy(archive, download / archive.name)
    (download / f"{archive.name}.sha256").write_text(line)
    result = run([*check, f"{archive.name}.sha256"], cwd=download)
    assert result.returncode == 0 and result.stdout.strip() == f"{archive.name}: OK", result.stdout + result.stderr
    with (download / archive.name).open("r+b") as handle:  # one byte changed: refused
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    assert run([*check, f"{archive.name}.sha256"], cwd=download).returncode != 0


def test_kit_readme_names_this_version_and_the_pinned_kind(kit):
    text = (kit / "README.md").read_text()
    assert not re.search(r"<(kind-)?version>", text), "a placeholder was left"
    assert f"# hello-k8s workshop kit {VERSION}" in text and f"kind {facts()['KIND_VERSION']} or newer" in text
    for command in ("./doctor", "./load kind", "./lesson 1", "./check 1", "exercise-a/start", "solution/"):
        assert command in text, command


def test_kit_has_no_cargo_toml_and_knows_it_is_a_kit(kit):
    assert not (kit / "Cargo.toml").exists()
    pins = library('printf "%s %s %s\\n" "$HELLO_KIT" "$HELLO_VERSION" "$NODE_IMAGE"', root=kit).split()
    assert pins == ["1", VERSION, facts()["NODE_IMAGE"]]


def test_root_commands_are_the_repositorys_scripts_and_executable(kit):
    for cmd in COMMANDS:
        assert (kit / cmd).read_bytes() == (ROOT / "k8s" / "scripts" / cmd).read_bytes(), f"{cmd} differs"
        assert (kit / cmd).stat().st_mode & 0o777 == 0o755, f"{cmd}: mode {oct((kit / cmd).stat().st_mode)}"


def test_kit_k8s_holds_the_lessons_the_library_and_the_pins_only(kit):
    expected = {"README.md", "HOSTING.md", "kustomization.yaml", "kind-config.yaml", "versions.env", "namespace", "components",
                "lib", "scripts"} | {Path(lesson).name for lesson in LESSONS}
    assert {p.name for p in (kit / "k8s").iterdir()} == expected
    assert [p.name for p in (kit / "k8s" / "scripts").iterdir()] == ["README.md"], "k8s/scripts: its README only"


def repository_text_in_the_kit(kit: Path, path: str) -> bytes:
    """What the kit must hold at PATH: the repository's file, with images/kit-links' rewriting for
    Markdown (links to what the kit lacks point at the repository)."""
    data = (ROOT / path).read_bytes()
    if not path.endswith(".md"):
        return data
    text, _ = kit_links.rewrite(kit, path, data.decode(), facts()["HELLO_REPOSITORY"], f"v{VERSION}", lambda _: None)
    return text.encode()


def same_tree(kit: Path, folder: str) -> list[str]:
    """The differences between the repository's FOLDER and the kit's (diff -r, README links aside)."""
    result = run(["diff", "-r", "-q", str(ROOT / folder), str(kit / folder)])
    if result.returncode == 0:
        return []
    found = []
    for line in result.stdout.splitlines():
        m = re.match(r"^Files (\S+) and (\S+) differ$", line)
        if m and m.group(1).endswith(".md"):
            path = Path(m.group(1)).relative_to(ROOT).as_posix()
            if (kit / path).read_bytes() == repository_text_in_the_kit(kit, path):
                continue
        found.append(line)
    return found + [line for line in result.stderr.splitlines()]


@pytest.mark.parametrize("folder", LESSONS, ids=[Path(lesson).name for lesson in LESSONS])
def test_every_lesson_folder_is_in_the_kit_whole(kit, folder):
    """Exercises (start, solution, check.sh), simulated states and all: diff -r."""
    assert same_tree(kit, folder) == []


def test_the_rest_of_k8s_is_as_in_the_repository(kit):
    for folder in ("k8s/namespace", "k8s/components", "k8s/lib"):
        assert same_tree(kit, folder) == [], folder
    for file in ("k8s/README.md", "k8s/HOSTING.md", "k8s/kustomization.yaml", "k8s/kind-config.yaml", "k8s/versions.env",
                 "k8s/scripts/README.md"):
        assert (kit / file).read_bytes() == repository_text_in_the_kit(kit, file), file


def test_kustomize_works_from_the_kit(kit):
    result = in_kit(kit, ["kubectl", "kustomize", FIRST_LESSON])
    assert result.returncode == 0 and re.search(rf"image: hello-(once|loop):{re.escape(VERSION)}$", result.stdout, re.M), \
        result.stderr[-500:]
    result = in_kit(kit, ["kubectl", "kustomize", "k8s"])
    assert result.returncode == 0, result.stderr[-500:]


@pytest.mark.parametrize("n,x,folder", EXERCISES, ids=[f"{n}{x}" for n, x, _ in EXERCISES])
def test_every_exercise_start_and_solution_render_from_the_kit(kit, n, x, folder):
    for part in ("start", "solution"):
        result = in_kit(kit, ["kubectl", "kustomize", f"{folder}/{part}"])
        assert result.returncode == 0, f"{folder}/{part}: {result.stderr[-500:]}"


def relative_links(text: str) -> list[str]:
    """The relative link targets of a Markdown text, read independently of images/kit-links: inline
    links and reference definitions outside fenced blocks and code spans, without their #anchor."""
    prose, fence = [], ""
    for line in text.splitlines():
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
        elif m:
            fence = m.group(1)
        else:
            prose.append(line)
    body = re.sub(r"(`+).*?\1", "", "\n".join(prose), flags=re.S)
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)", body) + re.findall(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?$", body, re.M)
    return [t.split("#")[0] for t in targets
            if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", t) and not t.startswith(("#", "/")) and t.split("#")[0]]


def test_every_relative_link_of_every_readme_resolves_inside_the_kit(kit):
    broken = []
    readmes = sorted(kit.rglob("*.md"))
    assert len(readmes) >= len(LESSONS) + 2
    for readme in readmes:
        for target in relative_links(readme.read_text()):
            resolved = (readme.parent / target).resolve()
            if not resolved.exists() or not resolved.is_relative_to(kit.resolve()):
                broken.append(f"{readme.relative_to(kit)}: {target}")
    assert broken == []


def test_links_the_kit_lacks_point_at_the_repository_at_the_release_tag(kit):
    text = (kit / "k8s" / "README.md").read_text()
    base = f"{facts()['HELLO_REPOSITORY']}/blob/v{VERSION}/"
    assert f"({base}images/README.md)" in text, "k8s/README.md's link to ../images/README.md"


def test_nothing_in_the_kit_needs_bash_or_python(kit):
    """Every script starts with #!/bin/sh (a sourced one has no #! line); no Python file, and no code
    line names python. (make: the doctor asks for it only in the repository, a test below checks.)"""
    offenders = []
    for path in sorted(kit.rglob("*")):
        if not path.is_file() or path.suffix in (".tar", ".json") or path.name == "SHA256SUMS" or path.parent.name == "slides":
            # slides/: the rendered deck and handout (HTML and PDF), read by a browser, not run
            continue
        if path.name == "test_lesson.py" and path.parent.parent.name == "k8s":
            continue  # a lesson's own static checks (make check-k8s), carried with its folder, never run here
        text = path.read_text()
        first = text.splitlines()[0] if text else ""
        if path.suffix == ".py" or (first.startswith("#!") and first != "#!/bin/sh"):
            offenders.append(f"{path.relative_to(kit)}: {first}")
        if path.suffix not in (".md", ".yaml") and not path.name.startswith("LICENSE"):
            code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
            offenders += [f"{path.relative_to(kit)}: {line.strip()}" for line in code if "python" in line]
    assert offenders == []


# ------------------------------------------------------------------------------ the kit's doctor
def test_the_kits_own_doctor_checks_this_kit(kit):
    """With this machine's real tools (no kind here: that blocks, exit 1)."""
    result = in_kit(kit, ["dash", "./doctor"], timeout=180)
    out = result.stdout + result.stderr
    assert result.returncode <= 1, out
    assert re.search(r"^\[ ok \] kit ", out, re.M), out
    assert re.search(r"^doctor: ", out, re.M), out


def test_the_kits_doctor_on_stand_ins_has_no_bash_and_no_make_line(kit, shell, tmp_path):
    env = with_stand_ins(tmp_path / "state", FAKE_DOCKER_ROOT=str(tmp_path))
    result = in_kit(kit, [*shell, "./doctor"], env=env, timeout=180)
    out = result.stdout + result.stderr
    assert result.returncode <= 1, out
    assert not re.search(r"^\[[^]]*\] (bash|make) ", out, re.M), out
    summary = out.rstrip().splitlines()[-1]
    assert summary.startswith("doctor: ") and "bash" not in summary, summary
    assert re.search(rf"^\[ ok \] kit +{re.escape(str(kit))}: every file matches its checksum", out, re.M), out


AWKWARD = {"backslash": "back\\slash", "newline": "new\nline", "leading-dash": "-dash", "space": "with space"}


@pytest.mark.parametrize("where", list(AWKWARD), ids=list(AWKWARD))
def test_the_kit_unpacked_under_an_awkward_path(kit, tmp_path, where):
    """Issue 25: the kit in a folder with a backslash, a newline, a leading - or a space in its path,
    under dash and bash --posix: ./load verify from inside and by the relative path, and the kit's
    doctor by that path (stand-ins), [ ok ] kit on one line."""
    work = tmp_path / "work"
    rel = f"{AWKWARD[where]}/{NAME}"
    copy_of(kit, work / rel)
    count = len((kit / "SHA256SUMS").read_text().splitlines())
    env = with_stand_ins(tmp_path / "state", FAKE_DOCKER_ROOT=str(tmp_path))
    for shell in (["dash"], ["bash", "--posix"]):
        for cmd, cwd in ((["./load", "verify"], work / rel), (["--", f"{rel}/load", "verify"], work)):
            result = run([*shell, *cmd], env=env, cwd=cwd)
            assert result.returncode == 0 and result.stdout == f"load: SHA256SUMS: all {count} files verified\n", \
                result.stdout + result.stderr
        result = run([*shell, "--", f"{rel}/doctor"], env=env, cwd=work, timeout=180)
        out = result.stdout + result.stderr
        assert result.returncode <= 1, out  # this machine's own limits may warn or block; the kit line is the point
        kit_lines = [line for line in out.splitlines() if line.startswith("[ ok ] kit ")]
        assert len(kit_lines) == 1 and kit_lines[0].endswith(f"{NAME}: every file matches its checksum (load verify), "
                                                             f"images for linux/amd64"), out
        assert all(re.match(r"^(\[( ok |warn|FAIL|skip)\] |doctor: )", line) for line in out.splitlines()), out


# ------------------------------------------------------------------------------ refusals of build-kit
@pytest.fixture(scope="module")
def engine() -> None:
    result = run(["docker", "info"], timeout=60)
    if result.returncode != 0:
        pytest.fail(f"no Docker engine answers (docker info: {result.stderr.strip()[:300]}); as root: .ci/start-dockerd")


def refusal(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out"
    result = run([str(ROOT / "images" / "build-kit"), str(out)],
                 env=clean_env(ONCE_IMAGE=ONCE, LOOP_IMAGE=LOOP, **env), timeout=120)
    return result, out


@pytest.mark.parametrize("env,want", [
    ({"KIT_PLATFORMS": "linux/s390x"}, "KIT_PLATFORMS"),
    ({"KIT_SBOM_DIR": "/nonexistent/sbom"}, "/nonexistent/sbom"),
    ({"VERSION": "9.9.9"}, "VERSION"),
], ids=["platforms", "sbom", "version"])
def test_build_kit_refuses_with_one_line(engine, tmp_path, env, want):
    result, out = refusal(tmp_path, **env)
    assert result.returncode == 2 and one_line(result) and want in result.stderr, result.stdout + result.stderr
    assert not out.exists(), "nothing written"


def test_build_kit_refuses_a_node_image_it_does_not_have(engine, tmp_path):
    if run(["docker", "image", "inspect", facts()["NODE_IMAGE"]]).returncode == 0:
        pytest.skip(f"this engine has {facts()['NODE_IMAGE']}, so KIT_NODE_IMAGE=1 has its input")
    result, out = refusal(tmp_path, KIT_NODE_IMAGE="1")
    assert result.returncode == 2 and one_line(result) and "KIT_NODE_IMAGE" in result.stderr, result.stderr
    assert not out.exists(), "nothing written"


# ------------------------------------------------------------------------------ the loader
def test_shellcheck_the_kits_commands(kit):
    assert SHELLCHECK.exists(), "no .venv/bin/shellcheck: run make tools"
    for cmd in COMMANDS:
        result = in_kit(kit, [str(SHELLCHECK), "-s", "sh", "-x", cmd])
        assert result.returncode == 0, f"{cmd}:\n{result.stdout[-3000:]}"


def test_load_verify(kit, shell):
    result = in_kit(kit, [*shell, "./load", "verify"])
    assert result.returncode == 0, result.stdout + result.stderr
    count = len((kit / "SHA256SUMS").read_text().splitlines())
    assert result.stdout.strip() == f"load: SHA256SUMS: all {count} files verified"


@pytest.fixture(scope="module")
def nobin(tmp_path_factory) -> tuple[Path, Path]:
    """A PATH of every tool but sha256sum and the container tools, with a stand-in shasum (macOS has
    Perl's shasum and no sha256sum): it takes only `shasum -a 256 FILE`, whose output is sha256sum's,
    and logs each call. (The folder, the log.)"""
    where = tmp_path_factory.mktemp("nobin")
    folder, log = where / "bin", where / "shasum.calls"
    folder.mkdir()
    for source in ("/usr/bin", "/bin"):
        for tool in sorted(Path(source).iterdir()):
            if tool.name in ("sha256sum", "shasum", "docker", "kind", "kubectl", "minikube", "podman"):
                continue
            if not (folder / tool.name).exists():
                (folder / tool.name).symlink_to(tool)
    (folder / "shasum").write_text(f"""#!/bin/sh
[ "$1 $2" = "-a 256" ] && [ $# -le 3 ] || {{ echo "shasum stand-in: only -a 256 [FILE]" >&2; exit 2; }}
echo "${{3:--}}" >>{shlex.quote(str(log))}
shift 2
exec {shutil.which("sha256sum")} "$@"
""")
    (folder / "shasum").chmod(0o755)
    return folder, log


def test_no_sha256sum_load_verify_uses_shasum(kit, nobin):
    folder, log = nobin
    log.unlink(missing_ok=True)
    result = in_kit(kit, ["dash", "./load", "verify"], env=clean_env(PATH=str(folder)))
    assert result.returncode == 0, result.stdout + result.stderr
    # every listed file but the exercises' start folders, the learner's to edit (not checked)
    count = len([line for line in (kit / "SHA256SUMS").read_text().splitlines()
                 if not re.search(r"  k8s/[^/]+/exercise-[a-z]/start/", line)])
    assert len(log.read_text().splitlines()) == count, "one shasum -a 256 per checked file"


def test_no_docker_is_named_with_its_install_hint(kit, nobin):
    folder, _ = nobin
    result = in_kit(kit, ["dash", "./load", "docker"], env=clean_env(PATH=str(folder)))
    assert result.returncode == 1 and re.search(r"^load: docker not found; install", result.stderr, re.M), result.stderr


@pytest.mark.parametrize("args", ["bogus", "kind --name Bad_Name", "kind --nmae x"])
def test_bad_arguments_are_one_line_and_exit_2(kit, args):
    result = in_kit(kit, ["dash", "./load", *args.split()])
    assert result.returncode == 2 and one_line(result), result.stdout + result.stderr


def test_dry_run_load_kind_prints_exactly_the_commands(kit, shell):
    result = in_kit(kit, [*shell, "./load", "kind"], env=clean_env(DRY_RUN="1"))
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout) == [
        "$ kind version",
        "$ kind get clusters",
        "$ kubectl --context kind-hello get nodes -o 'jsonpath={.items[0].status.nodeInfo.architecture}'",
        f"$ kind load image-archive images/{HOST_ARCH}/hello-once.tar --name hello",
        f"$ kind load image-archive images/{HOST_ARCH}/hello-loop.tar --name hello",
        "load: dry run: nothing was loaded"]


def test_dry_run_load_minikube_prints_exactly_the_commands(kit, shell):
    result = in_kit(kit, [*shell, "./load", "minikube"], env=clean_env(DRY_RUN="1"))
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout) == [
        "$ minikube -p hello status --format '{{.Host}}'",
        "$ kubectl --context hello get nodes -o 'jsonpath={.items[0].status.nodeInfo.architecture}'",
        f"$ minikube -p hello image load images/{HOST_ARCH}/hello-once.tar",
        f"$ minikube -p hello image load images/{HOST_ARCH}/hello-loop.tar",
        "$ minikube -p hello image ls",
        "load: dry run: nothing was loaded"]


def test_load_kind_without_a_cluster_prints_the_create_command(kit, shell, tmp_path):
    state = tmp_path / "state"
    result = in_kit(kit, [*shell, "./load", "kind"], env=with_stand_ins(state))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "    kind create cluster --name hello --config k8s/kind-config.yaml" in lines(result.stderr)
    assert not [c for c in calls(state) if c.startswith("kind load")], "nothing loaded"


@pytest.mark.parametrize("node_arch", ["amd64", "arm64"])
def test_load_kind_with_a_cluster_loads_both_archives(kit, shell, tmp_path, node_arch):
    state = tmp_path / "state"
    (tmp_path / "state").mkdir()
    (state / "kind-created").touch()
    result = in_kit(kit, [*shell, "./load", "kind"], env=with_stand_ins(state, FAKE_NODE_ARCH=node_arch))
    assert result.returncode == 0, result.stdout + result.stderr
    loads = [c for c in calls(state) if c.startswith("kind load")]
    assert loads == [f"kind load image-archive images/{node_arch}/{i}.tar --name hello" for i in ("hello-once", "hello-loop")]
    out = lines(result.stdout)
    assert f"    kubectl --context kind-hello apply -k {FIRST_LESSON}" in out
    assert any(line.startswith("    ./lesson 1 ") for line in out), "in a kit it suggests ./lesson 1"


def test_load_kind_with_a_kit_node_image(kit_copy, tmp_path):
    """build-kit's side (KIT_NODE_IMAGE=1) needs the pinned node image, which this machine cannot
    pull; the loader's side is checked on a kit given an images/<arch>/kind-node.tar and fresh sums:
    it loads that archive first and makes kind use it by tag (docker load keeps no repo digest)."""
    arch = HOST_ARCH
    shutil.copy(kit_copy / "images" / arch / "hello-once.tar", kit_copy / "images" / arch / "kind-node.tar")
    library(f"write_sums {shlex.quote(str(kit_copy))}")
    state = tmp_path / "state"
    result = in_kit(kit_copy, ["dash", "./load", "kind"], env=with_stand_ins(state, FAKE_DOCKER_ARCH=arch))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"docker load -i images/{arch}/kind-node.tar" in calls(state)
    create = f"kind create cluster --name hello --config k8s/kind-config.yaml --image {facts()['NODE_IMAGE_TAG']}"
    assert create in result.stderr
    assert not [c for c in calls(state) if c.startswith("kind load")]


# ------------------------------------------------------------------------------ the classroom from the kit
def kubectl_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("$ kubectl")]


def kubectl_verbs(state: Path) -> set[str]:
    """The verbs of the kubectl calls the stand-in saw (get, logs, config, ...), global flags aside."""
    verbs = set()
    for call in calls(state):
        words = call.split()
        if words[0] != "kubectl":
            continue
        words, i = words[1:], 0
        while i < len(words) and words[i] in ("--context", "-n", "--namespace"):
            i += 2
        verbs.add(words[i] if i < len(words) else "")
    return verbs


@pytest.mark.parametrize("command", [["lesson", "1"], ["check", "1"], ["check", "5", "b"]],
                         ids=["lesson-1", "check-1", "check-5b"])
def test_dry_run_prints_the_repositorys_kubectl_commands(kit, shell, tmp_path, command):
    repo = run(["sh", str(ROOT / "k8s" / "scripts" / command[0]), *command[1:]],
               env=with_stand_ins(tmp_path / "repo-state", DRY_RUN="1"))
    assert repo.returncode == 0, repo.stderr
    state = tmp_path / "state"
    result = in_kit(kit, [*shell, f"./{command[0]}", *command[1:]], env=with_stand_ins(state, DRY_RUN="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert kubectl_lines(result.stdout) == kubectl_lines(repo.stdout)
    assert len(kubectl_lines(repo.stdout)) > 1, "a dry run prints the kubectl commands it would run"
    if command[0] == "check":  # and the grader the conditions it would judge
        assert "check: " in result.stdout
    assert result.stdout == repo.stdout, "the same dry run, word for word"
    assert calls(state) == [], "a dry run runs nothing"


def test_lesson_1_on_the_simulated_cluster(kit_copy, shell, tmp_path):
    """./lesson 1 as an attendee runs it (its scratch files in the kit's .cache), on the simulated
    cluster behind stand-in kind and kubectl."""
    state = tmp_path / "state"
    env = with_stand_ins(state, POLL_INTERVAL="0")
    result = in_kit(kit_copy, [*shell, "./lesson", "1"], env=env, timeout=180)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert not [line for line in out.splitlines() if line.startswith("FAIL")], out
    assert f"kubectl --context kind-hello -n hello-demo apply -k {FIRST_LESSON}" in calls(state)


def grade(kit: Path, tmp_path: Path, n: int, x: str, folder: str, shell: list[str]) -> subprocess.CompletedProcess:
    env = with_stand_ins(tmp_path / "state")
    pass_state = kit / folder / "sim" / "pass.yaml"
    assert pass_state.is_file(), f"the kit has no {folder}/sim/pass.yaml"
    seeded = run(["python3", str(SIM), "seed", str(pass_state)], env=env)
    assert seeded.returncode == 0, seeded.stderr
    return in_kit(kit, [*shell, "./check", str(n), x], env=env)


@pytest.mark.parametrize("n,x,folder", EXERCISES, ids=[f"{n}{x}" for n, x, _ in EXERCISES])
def test_check_grades_every_exercise_on_its_passing_state(kit, tmp_path, n, x, folder):
    result = grade(kit, tmp_path, n, x, folder, ["dash"])
    assert result.returncode == 0 and "done: every condition met" in lines(result.stdout), result.stdout + result.stderr
    verbs = kubectl_verbs(tmp_path / "state")
    assert "get" in verbs and verbs <= {"get", "logs", "config"}, f"the grader only reads; it ran {verbs}"


def test_check_under_every_shell(kit, shell, tmp_path):
    n, x, folder = EXERCISES[0]
    result = grade(kit, tmp_path, n, x, folder, shell)
    assert result.returncode == 0 and "done: every condition met" in lines(result.stdout), result.stdout + result.stderr


# ------------------------------------------------------------------------------ images/kit-links
def links_kit(tmp_path: Path, readme: str, text: str) -> Path:
    kit = tmp_path / "kit"
    (kit / "k8s" / "01-x").mkdir(parents=True)
    (kit / readme).parent.mkdir(parents=True, exist_ok=True)
    (kit / readme).write_text(text)
    return kit


def kit_links_cli(*args: str) -> subprocess.CompletedProcess:
    return run(["python3", str(ROOT / "images" / "kit-links"), *args])


def test_kit_links_rewrites_only_what_the_kit_lacks(tmp_path):
    repo = "https://example.test/hello-k8s"
    text = "\n".join([
        "[in](01-x/) [file](../images/README.md#workshop-kit-make-kit) [folder](overlays/published/)",
        '[titled](../Makefile "the Makefile") ![img](checks/facts.md) [web](https://x.test/a) [here](#top)',
        "`[code](../Cargo.toml)` and [self](README.md)",
        "```sh", "[fenced](../Cargo.toml)", "```",
        "[ref]: ../LICENSE-MIT",
        ""])
    kit = links_kit(tmp_path, "k8s/README.md", text)
    result = kit_links_cli(str(kit), repo, "v1.2.3")
    assert result.returncode == 0, result.stderr
    assert "5 link(s)" in result.stdout
    assert (kit / "k8s" / "README.md").read_text() == "\n".join([
        f"[in](01-x/) [file]({repo}/blob/v1.2.3/images/README.md#workshop-kit-make-kit) "
        f"[folder]({repo}/tree/v1.2.3/k8s/overlays/published)",
        f'[titled]({repo}/blob/v1.2.3/Makefile "the Makefile") ![img]({repo}/blob/v1.2.3/k8s/checks/facts.md) '
        "[web](https://x.test/a) [here](#top)",
        "`[code](../Cargo.toml)` and [self](README.md)",
        "```sh", "[fenced](../Cargo.toml)", "```",
        f"[ref]: {repo}/blob/v1.2.3/LICENSE-MIT",
        ""])
    again = kit_links_cli(str(kit), repo, "v1.2.3")
    assert again.returncode == 0 and "0 link(s)" in again.stdout, "a second run changes nothing"


def test_kit_links_warns_about_a_target_the_repository_lacks_too(tmp_path):
    kit = links_kit(tmp_path, "k8s/01-x/README.md", "[gone](../solutions/1a/) [file](gone.txt)\n")
    result = kit_links_cli(str(kit), "https://example.test/r", "v1")
    assert result.returncode == 0, result.stderr
    assert (kit / "k8s/01-x/README.md").read_text() == (
        "[gone](https://example.test/r/tree/v1/k8s/solutions/1a) [file](https://example.test/r/blob/v1/k8s/01-x/gone.txt)\n")
    assert len(result.stderr.splitlines()) == 2 and "in neither the kit nor the repository" in result.stderr


def test_kit_links_refuses_a_link_above_the_root(tmp_path):
    kit = links_kit(tmp_path, "README.md", "[up](../elsewhere.md)\n")
    result = kit_links_cli(str(kit), "https://example.test/r", "v1")
    assert result.returncode == 1 and "leads out of the kit's root" in result.stderr, result.stderr


def test_kit_links_links_to(tmp_path):
    kit = links_kit(tmp_path, "k8s/README.md", "see [the scripts](scripts/README.md#kind-load)\n")
    assert kit_links_cli("--links-to", "k8s/scripts/README.md", str(kit)).returncode == 0
    assert kit_links_cli("--links-to", "k8s/lib/hello.sh", str(kit)).returncode == 1
    assert kit_links_cli(str(kit)).returncode == 2


# ------------------------------------------------------------------------------ the real engine
def image_id(ref: str) -> str:
    result = run(["docker", "image", "inspect", "-f", "{{.Id}}", ref], timeout=60)
    return result.stdout.strip() if result.returncode == 0 else ""


def image_platform(ref: str) -> str:
    result = run(["docker", "image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", ref], timeout=60)
    return result.stdout.strip() if result.returncode == 0 else ""


def remove_plain_tags() -> None:
    for ref in (ONCE, LOOP):
        if image_id(ref):
            run(["docker", "image", "rm", ref], timeout=60)


@pytest.fixture(scope="module")
def arch(engine) -> str:
    return library("engine_arch").strip()


@pytest.fixture(scope="module")
def other(arch) -> str:
    return "arm64" if arch == "amd64" else "amd64"


@pytest.fixture(scope="module")
def built(engine, arch, other, kit) -> dict[str, str]:
    """The image IDs as make kit left them: the plain tags (this engine's architecture) and the
    -<other> ones. At teardown: the labelled containers removed, and the plain tags back on the
    kit's images for this engine wherever a test left them missing or of the other architecture."""
    ids = {"once": image_id(ONCE), "loop": image_id(LOOP),
           "once-other": image_id(f"{ONCE}-{other}"), "loop-other": image_id(f"{LOOP}-{other}")}
    if not ids["once"] or not ids["loop"]:
        pytest.fail(f"{ONCE} / {LOOP} not in the engine (make kit builds them)")
    yield ids
    listed = run(["docker", "ps", "-aq", "--filter", f"label={LABEL}"]).stdout.split()
    if listed:
        run(["docker", "rm", "-f", *listed], timeout=120)
    for image, ref in (("hello-once", ONCE), ("hello-loop", LOOP)):
        archive = kit / "images" / arch / f"{image}.tar"
        if archive.is_file() and image_platform(ref) != f"linux/{arch}":
            run(["docker", "load", "-q", "-i", str(archive)], timeout=120)


@pytest.fixture(scope="module")
def clean(built) -> dict[str, str]:
    """The engine without the plain tags; what still answers to their names or IDs (should be nothing)."""
    remove_plain_tags()
    return {what: image_id(what) for what in (ONCE, LOOP, built["once"], built["loop"])}


def test_the_plain_tags_are_the_images_in_the_kit(kit, built, arch):
    """The kit's archives for this engine hold the very images make kit built (same config digest)."""
    for image, key in (("hello-once", "once"), ("hello-loop", "loop")):
        with tarfile.open(kit / "images" / arch / f"{image}.tar") as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        config = manifest[0]["Config"]
        digest = re.search(r"([0-9a-f]{64})", config).group(1)
        assert built[key] == f"sha256:{digest}", f"{image}: the engine has {built[key]}, the kit {config}"


def test_a_clean_engine_has_no_hello_images(clean):
    assert {k: v for k, v in clean.items() if v} == {}, "still there (another tag holding the same image?)"


DAMAGES = [("altered", "images/{arch}/hello-loop.tar"), ("truncated", "images/{arch}/hello-loop.tar"),
           ("deleted", "k8s/kind-config.yaml"), ("unlisted", "images/{arch}/hello-once.tar")]


@pytest.fixture(scope="module")
def damaged(clean, kit, arch, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path, bool]]:
    """For each damage, on a copy of the kit: `bash --posix ./load docker` on a clean engine, and
    whether anything got loaded. hello-loop.tar is the second archive: a loader that checked each
    archive only before loading it would load hello-once first. "unlisted": SHA256SUMS without
    hello-once.tar's line, which a loader checking only the listed files took for a whole kit."""
    found = {}
    for how, file in DAMAGES:
        file = file.format(arch=arch)
        remove_plain_tags()
        copy = copy_of(kit, tmp_path_factory.mktemp(f"damaged-{how}") / NAME)
        target = copy / file
        if how == "altered":
            with target.open("r+b") as f:
                f.seek(1000)
                f.write(b"\xff")
        elif how == "truncated":
            os.truncate(target, target.stat().st_size - 512)
        elif how == "unlisted":  # SHA256SUMS lost the archive's line (issue 25)
            sums = copy / "SHA256SUMS"
            sums.write_text("".join(line for line in sums.read_text().splitlines(keepends=True)
                                    if not line.endswith(f"  {file}\n")))
        else:
            target.unlink()
        result = in_kit(copy, ["bash", "--posix", "./load", "docker"])
        found[how] = (result, copy, bool(image_id(ONCE) or image_id(LOOP)))
    return found


@pytest.mark.parametrize("how,file", DAMAGES, ids=[how for how, _ in DAMAGES])
def test_a_damaged_kit_is_refused_and_nothing_loaded(damaged, arch, how, file):
    result, _, loaded = damaged[how]
    file = file.format(arch=arch)
    assert result.returncode == 2 and one_line(result) and file in result.stderr, result.stdout + result.stderr
    assert not loaded, f"{ONCE} or {LOOP} was loaded"


def test_shasum_path_refuses_the_altered_kit(damaged, nobin, arch):
    _, copy, _ = damaged["altered"]
    result = in_kit(copy, ["dash", "./load", "verify"], env=clean_env(PATH=str(nobin[0])))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"images/{arch}/hello-loop.tar is altered or truncated" in result.stderr


def run_checks(platform_: str) -> dict[str, object]:
    """hello-once prints the greeting and exits 0; hello-loop prints it, then `docker stop` ends it
    with exit 0; both with --network none."""
    once = run(["docker", "run", "--rm", "--network", "none", "--platform", platform_, ONCE], timeout=120)
    started = run(["docker", "run", "-d", "--network", "none", "--platform", platform_, "--label", LABEL, LOOP])
    cid = started.stdout.strip()
    logs = ""
    for _ in range(100):
        logs = run(["docker", "logs", cid]).stdout if cid else ""
        if GREETING in logs:
            break
        time.sleep(0.1)
    if not cid:
        return {"once": (once.returncode, once.stdout.strip()), "loop-greeted": False, "loop-stop": None,
                "loop-exit": started.stderr.strip()}
    stop = run(["docker", "stop", cid], timeout=60)
    code = run(["docker", "inspect", "-f", "{{.State.ExitCode}}", cid]).stdout.strip()
    run(["docker", "rm", "-f", cid])
    return {"once": (once.returncode, once.stdout.strip()), "loop-greeted": GREETING in logs,
            "loop-stop": stop.returncode, "loop-exit": code}


@pytest.fixture(scope="module")
def other_loaded(clean, kit, other):
    """The other architecture's archives loaded (LOAD_PLATFORM) and run under QEMU; removed after."""
    remove_plain_tags()
    qemu = run([str(ROOT / "images" / "register-qemu"), other], timeout=120)
    assert qemu.returncode == 0, qemu.stderr
    result = in_kit(kit, ["dash", "./load", "docker"], env=clean_env(LOAD_PLATFORM=f"linux/{other}"))
    found = {"load": result, "platform": image_platform(ONCE), "once": image_id(ONCE), "loop": image_id(LOOP),
             "runs": run_checks(f"linux/{other}")}
    remove_plain_tags()
    return found


def test_other_architecture_loads(other_loaded, other):
    result = other_loaded["load"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert other_loaded["platform"] == f"linux/{other}"


def test_other_architecture_images_are_the_ones_make_kit_built(other_loaded, built):
    if not built["once-other"]:
        pytest.skip(f"the engine has no {ONCE}-<other>: nothing to compare with")
    assert (other_loaded["once"], other_loaded["loop"]) == (built["once-other"], built["loop-other"])


def test_other_architecture_runs_under_qemu(other_loaded):
    runs = other_loaded["runs"]
    assert runs["once"] == (0, GREETING)
    assert runs["loop-greeted"] and runs["loop-stop"] == 0 and runs["loop-exit"] == "0", runs


@pytest.fixture(scope="module")
def native_loaded(clean, kit, arch):
    """`dash ./load docker` from the unpacked kit on an engine without the images, timed."""
    remove_plain_tags()
    start = time.monotonic()
    result = in_kit(kit, ["dash", "./load", "docker"])
    seconds = time.monotonic() - start
    return {"load": result, "seconds": seconds, "once": image_id(ONCE), "loop": image_id(LOOP),
            "runs": run_checks(f"linux/{arch}")}


def test_load_docker_loads_and_says_what_to_run_next(native_loaded):
    result = native_loaded["load"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"docker run --rm --network none {ONCE}" in result.stdout
    assert native_loaded["seconds"] < 60, f"./load docker took {native_loaded['seconds']:.2f}s"


def test_load_docker_gives_the_image_ids_make_kit_built(native_loaded, built):
    assert (native_loaded["once"], native_loaded["loop"]) == (built["once"], built["loop"])


def test_the_loaded_images_run(native_loaded):
    runs = native_loaded["runs"]
    assert runs["once"] == (0, GREETING)
    assert runs["loop-greeted"] and runs["loop-stop"] == 0 and runs["loop-exit"] == "0", runs


def test_a_podman_saved_archive_is_one_docker_loads(kit, built, arch, tmp_path):
    """ENGINE=podman images/save-image writes an archive docker load accepts, with the same image ID."""
    if not shutil.which("podman"):
        pytest.fail("podman not found (Debian: apt-get install podman)")
    loaded = run(["podman", "load", "-q", "-i", str(kit / "images" / arch / "hello-once.tar")], timeout=300)
    ref = next((line.split("Loaded image: ", 1)[1].split(",")[0].strip() for line in loaded.stdout.splitlines()
                if line.startswith("Loaded image")), "")
    assert loaded.returncode == 0 and ref, loaded.stdout + loaded.stderr
    tag = "hello-once:kit-podman-test"
    try:
        saved = run([str(ROOT / "images" / "save-image"), ref, arch, str(tmp_path / "podman-once.tar"), tag],
                    env=clean_env(ENGINE="podman"), timeout=300)
        assert saved.returncode == 0, saved.stdout + saved.stderr
        into = run(["docker", "load", "-q", "-i", str(tmp_path / "podman-once.tar")], timeout=120)
        assert into.returncode == 0, into.stderr
        assert image_id(tag) == built["once"], f"docker has {image_id(tag)}, make kit built {built['once']}"
    finally:
        run(["docker", "image", "rm", tag])
        run(["podman", "image", "rm", "-f", ref], timeout=120)
