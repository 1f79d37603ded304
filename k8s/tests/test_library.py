"""k8s/lib, the one library of facts and helpers (`make test-flows`): it reads the pins (and nothing
else does), and its helpers behave the same under every shell of the matrix. Also what keeps a
learner's path POSIX: shellcheck -s sh on every script of it, and a Makefile that make 3.81 runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from harness import ROOT, SHELLS, clean_env, facts, run

LIB = ROOT / "k8s" / "lib" / "hello.sh"


def tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    return [ROOT / p for p in out.stdout.splitlines() if (ROOT / p).is_file()]


def in_shell(shell: list[str], snippet: str, root: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return run([*shell, "-c", f'ROOT="$1"; . "$1/k8s/lib/hello.sh" && {snippet}', "sh", str(root)],
               env=clean_env(**env))


def pins(root: Path, cargo: str | None = None, tag: str = "0.9.0") -> Path:
    """A folder with the pins the library reads: the repository's shape, or a kit's (no Cargo.toml)."""
    (root / "k8s" / "components" / "hello-demo").mkdir(parents=True)
    shutil.copytree(ROOT / "k8s" / "lib", root / "k8s" / "lib")
    if cargo is not None:
        (root / "Cargo.toml").write_text(cargo)
    (root / "k8s" / "versions.env").write_text("KIND_VERSION=v0.40.1\nKUBECTL_VERSION=v1.41.2\n")
    (root / "k8s" / "kind-config.yaml").write_text(
        "kind: Cluster\nnodes:\n  - role: control-plane\n    image: kindest/node:v1.41.0@sha256:" + "ab" * 32 + "\n")
    (root / "k8s" / "components" / "hello-demo" / "kustomization.yaml").write_text(
        f'images:\n  - name: hello-once\n    newTag: "{tag}"\n')
    return root


CARGO = """[workspace]
members = ["crates/*"]

[workspace.package]
version = "2.3.4"
edition = "2021"
repository = "https://github.com/example/hello"

[workspace.dependencies]
clap = { version = "4.5" }
"""


# ------------------------------------------------------------------------------ the pins
def test_the_pins_as_the_library_reads_them(tmp_path, shell):
    root = pins(tmp_path, CARGO)
    out = in_shell(shell, 'printf "%s|" "$HELLO_VERSION" "$HELLO_REPOSITORY" "$HELLO_KIT" "$KIND_VERSION" '
                          '"$KUBECTL_VERSION" "$NODE_IMAGE_TAG" "$NODE_K8S" "$NODE_DIGEST"', root)
    assert out.stdout.split("|")[:-1] == ["2.3.4", "https://github.com/example/hello", "0", "v0.40.1", "v1.41.2",
                                          "kindest/node:v1.41.0", "v1.41.0", "sha256:" + "ab" * 32], out.stderr


def test_in_a_kit_the_version_is_the_lessons_image_tag(tmp_path, shell):
    root = pins(tmp_path, None, tag="0.9.0")
    out = in_shell(shell, 'printf "%s|%s|%s" "$HELLO_VERSION" "$HELLO_KIT" "$HELLO_REPOSITORY"', root)
    assert out.stdout == "0.9.0|1|"


def test_a_pin_that_cannot_be_read_is_one_line_and_exit_2(tmp_path):
    root = pins(tmp_path, CARGO)
    (root / "k8s" / "kind-config.yaml").write_text("kind: Cluster\n")
    out = in_shell(["sh"], "need_pins", root, ME="doctor")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith("doctor: cannot read the node image (k8s/kind-config.yaml)")


def test_facts_prints_every_pin_and_refuses_an_unknown_one():
    f = facts()
    assert set(f) >= {"HELLO_VERSION", "HELLO_REPOSITORY", "KIND_VERSION", "KUBECTL_VERSION", "NODE_IMAGE", "NODE_K8S"}
    assert all(f.values()), f
    out = run(["sh", str(ROOT / "k8s" / "lib" / "facts"), "BOGUS"])
    assert out.returncode == 2 and out.stderr == "facts: no fact 'BOGUS' (sh k8s/lib/facts lists them)\n"


# What parsing a pin looks like: a regex for Cargo.toml's version line or repository line, or for the
# image line of kind-config.yaml, or a TOML/YAML load of either file.
PARSES = [
    re.compile(r"""\^ *\*?\s*version|version = \\?"|version\\s\*=|\[workspace\\?\.package\\?\]"""),
    re.compile(r"""\^ *\*?\s*repository|repository = \\?"|repository\\s\*="""),
    re.compile(r"""image:\s*\*?\s*(kindest|\\\(|\[|\*|\\)|s/\^ \*image|kindest\\?/node:\\?\("""),
    re.compile(r"tomllib|toml\.load|kind-config\.yaml\"?\)?\.read_text|safe_load\([^)]*kind-config"),
]
ALLOWED = {ROOT / "k8s" / "lib" / "hello.sh", ROOT / "Cargo.toml", ROOT / "k8s" / "kind-config.yaml",
           Path(__file__).resolve()}


def parses_a_pin(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return []
    names = ("Cargo.toml" in text) or ("kind-config" in text)
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if names and any(p.search(line) for p in PARSES) and re.search(r"sed|grep|awk|re\.|search|match|load|read", line):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    return found


def test_no_other_file_parses_the_version_or_the_node_image():
    offenders = [hit for path in tracked() if path not in ALLOWED and path.suffix not in (".md", ".json", ".lock")
                 for hit in parses_a_pin(path)]
    assert offenders == []


@pytest.mark.parametrize("line", [
    """VERSION := $(shell sed -n 's/^version = "\\(.*\\)"/\\1/p' Cargo.toml | head -n1)""",
    """NODE=$(sed -n 's/^ *image: *//p' k8s/kind-config.yaml)""",
    """m = re.search(r'^version\\s*=\\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)""",
    """image = yaml.safe_load(open("k8s/kind-config.yaml"))["nodes"][0]["image"]""",
])
def test_the_parser_detector_catches_a_parse(tmp_path, line):
    planted = tmp_path / "planted.sh"
    planted.write_text(f"# reads a pin itself\n{line}\n")
    assert parses_a_pin_outside(planted)


def parses_a_pin_outside(path: Path) -> list[str]:
    text = path.read_text()
    names = ("Cargo.toml" in text) or ("kind-config" in text)
    return [line for line in text.splitlines()
            if names and any(p.search(line) for p in PARSES) and re.search(r"sed|grep|awk|re\.|search|match|load|read", line)]


# ------------------------------------------------------------------------------ the helpers
@pytest.mark.parametrize("have,want,ok", [("v0.32.0", "v0.32.0", True), ("v0.32.1", "v0.32.0", True),
                                          ("v0.40.0", "v0.32.0", True), ("v1.0.0", "v0.32.0", True),
                                          ("v0.31.9", "v0.32.0", False), ("v0.20.0", "v0.32.0", False),
                                          ("0.32.0-rc.1", "v0.32.0", True), ("v0.9.0", "v0.10.0", False)])
def test_version_comparison(have, want, ok):
    assert in_shell(["sh"], f'version_ge "{have}" "{want}"').returncode == (0 if ok else 1)


@pytest.mark.parametrize("arch,name", [("x86_64", "amd64"), ("amd64", "amd64"), ("aarch64", "arm64"),
                                       ("arm64", "arm64"), ("s390x", "s390x")])
def test_architecture_names(arch, name):
    assert in_shell(["sh"], f'norm_arch "{arch}"').stdout == f"{name}\n"


WORDS = ["plain", "two words", "it's", "{range .items[*]}{.metadata.name}{\"\\n\"}{end}", "$HOME", "", "a'b'c",
         "with\\backslash", "*", "--timeout=120s", "app.kubernetes.io/instance in (a,b)"]


def test_a_printed_command_pastes_back_to_the_same_words(shell):
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in WORDS)
    snippet = f"line=$(command_line printf '%s\\n' {quoted}) && eval \"${{line#\\$ }}\""
    out = in_shell(shell, snippet)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:-1] == WORDS


def test_sha256_with_sha256sum_and_with_shasum_only(tmp_path, shell):
    data = tmp_path / "data"
    data.write_bytes(b"hello kit\n")
    real = run(["sha256sum", str(data)]).stdout.split()[0]
    assert in_shell(shell, f'sha256_of "{data}"').stdout.strip() == real
    # macOS: no sha256sum, only Perl's shasum (a stand-in here that logs its calls and takes -a 256).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sed", "head", "cat", "printf"):
        if Path(f"/usr/bin/{tool}").exists():
            (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    (bin_dir / "shasum").write_text(f'#!/bin/sh\n[ "$1 $2" = "-a 256" ] || exit 2\necho "$*" >>"{tmp_path}/calls"\n'
                                    f'exec /usr/bin/sha256sum ${{3:+"$3"}}\n')
    (bin_dir / "shasum").chmod(0o755)
    out = in_shell(shell, f'PATH="{bin_dir}"; sha256_of "{data}"')
    assert out.stdout.strip() == real, out.stderr
    assert (tmp_path / "calls").read_text() == "-a 256\n"


def test_write_sums_is_what_sha256sum_checks(tmp_path):
    kit = tmp_path / "kit"
    (kit / "images" / "amd64").mkdir(parents=True)
    (kit / "images" / "amd64" / "a.tar").write_text("a\n")
    (kit / "load").write_text("b\n")
    assert in_shell(["sh"], f'write_sums "{kit}"').returncode == 0
    assert (kit / "SHA256SUMS").read_text().splitlines()[0].endswith("  images/amd64/a.tar")
    assert run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=kit).returncode == 0


def test_bounded_stops_a_command_that_does_not_end(tmp_path, shell):
    out = in_shell(shell, f'BOUNDED_DIR="{tmp_path}"; bounded 1 sleep 30; echo "status $?"')
    assert out.stdout.strip() == "status 124", out.stderr
    out = in_shell(shell, f'BOUNDED_DIR="{tmp_path}"; bounded 5 sh -c "echo out; echo err >&2; exit 3"; '
                          f'echo "status $?"; cat "{tmp_path}/out" "{tmp_path}/err"')
    assert out.stdout.split() == ["status", "3", "out", "err"], out.stderr


def test_bounded_kills_a_command_that_ignores_sigterm(tmp_path, shell):
    """SIGTERM first, then SIGKILL after a grace of about a second: a command that ignores SIGTERM
    (here a sleep 8 that inherits `trap '' TERM`) costs the bound and the grace, not its 8 s."""
    start = time.monotonic()
    out = in_shell(shell, f'BOUNDED_DIR="{tmp_path}"; bounded 1 sh -c \'trap "" TERM; exec sleep 8\'; echo "status $?"')
    seconds = time.monotonic() - start
    assert out.stdout.strip() == "status 124", out.stderr
    assert out.stderr == "", "no Killed line from the shell"
    assert seconds < 1 + 3, f"bounded 1 took {seconds:.1f} s"


def test_bounded_does_not_wait_out_the_grace_when_sigterm_works(tmp_path, shell):
    """A command that ends on SIGTERM ends the wait at once: no grace period spent for nothing."""
    start = time.monotonic()
    out = in_shell(shell, f'BOUNDED_DIR="{tmp_path}"; bounded 1 sleep 30; echo "status $?"')
    seconds = time.monotonic() - start
    assert out.stdout.strip() == "status 124", out.stderr
    assert out.stderr == "", "no Terminated line from the shell"
    assert seconds < 1 + 0.8, f"bounded 1 took {seconds:.1f} s"


def test_lessons_and_exercises_are_the_folders(shell):
    lessons = in_shell(shell, "lesson_dirs").stdout.split()
    assert lessons == sorted(str(p.relative_to(ROOT)) for p in (ROOT / "k8s").glob("[0-9][0-9]-*") if (p / "lesson.sh").is_file())
    first = lessons[0]
    assert in_shell(shell, f"lesson_dir {int(Path(first).name[:2])}").stdout.strip() == first
    letters = in_shell(shell, f'exercise_letters "{first}"').stdout.split()
    assert letters == sorted(p.name[-1] for p in (ROOT / first).glob("exercise-?") if (p / "check.sh").is_file())


@pytest.mark.parametrize("snippet,want", [("lesson_dir 0", "lesson must be one of"), ("lesson_dir abc", "lesson must be one of"),
                                          ("exercise_dir 1 z", "EXERCISE must be one of"),
                                          ("exercise_dir 1 ''", "EXERCISE must be one of")])
def test_a_lesson_or_exercise_that_does_not_exist_is_one_line_and_exit_2(snippet, want):
    out = in_shell(["sh"], snippet)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1 and want in out.stderr


# ------------------------------------------------------------------------------ a learner's path is POSIX
def learner_scripts() -> list[Path]:
    """Every script a learner or attendee runs: the library, the entry scripts, each lesson's and
    exercise's file, the docker demo."""
    found = sorted((ROOT / "k8s" / "lib").iterdir()) + sorted((ROOT / "k8s" / "scripts").iterdir())
    found += sorted(ROOT.glob("k8s/[0-9][0-9]-*/lesson.sh")) + sorted(ROOT.glob("k8s/[0-9][0-9]-*/exercise-*/check.sh"))
    found += [ROOT / "images" / "docker-demo"] + sorted((ROOT / "k8s" / "tests" / "fake-bin").iterdir())
    return [p for p in found if p.is_file() and not p.suffix in (".md", ".cjs", ".py", ".json", ".mjs")
            and "diagrams" not in p.parts]


def test_every_script_on_the_learners_path_is_posix_sh():
    for path in learner_scripts():
        first = path.read_text().splitlines()[0]
        assert first in ("#!/bin/sh", "# shellcheck shell=sh"), f"{path.relative_to(ROOT)}: {first}"


def test_shellcheck_as_posix_sh():
    files = [str(p.relative_to(ROOT)) for p in learner_scripts()]
    out = run(["shellcheck", "-s", "sh", "-x", "-P", "SCRIPTDIR", *files])
    assert out.returncode == 0, out.stdout[-3000:]


def recipe_lines(makefile: str) -> list[str]:
    """Each recipe command of the Makefile, its backslash-continued lines joined: the tab lines that
    follow a rule (a variable's continued definition is not a recipe)."""
    found, in_rule, joined = [], False, ""
    for line in makefile.splitlines():
        if line.startswith("\t") and in_rule:
            joined += line[1:].rstrip("\\") + " "
            if not line.endswith("\\"):
                found.append(joined.strip())
                joined = ""
            continue
        in_rule = bool(re.match(r"^[^\t#=]*[^:=]:([^=]|$)", line)) or (in_rule and line.startswith("\t"))
    return found


def test_the_makefile_needs_nothing_beyond_make_3_81():
    """macOS ships GNU make 3.81: no .SHELLFLAGS (it ignores them, so no `-e -o pipefail`), no
    .ONESHELL, no $(file); and every recipe line is one command (no ; && || | between commands),
    so a failure stops make without them."""
    text = (ROOT / "Makefile").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for feature in (".SHELLFLAGS", ".ONESHELL", "$(file ", "::=", "!="):
        assert feature not in code, feature
    assert chained_recipes(text) == []


def chained_recipes(makefile: str) -> list[str]:
    """The recipe commands that chain commands (; && || |) outside quotes and $(...)."""
    return [line for line in recipe_lines(makefile)
            if re.search(r";|&&|\|\||\|", re.sub(r"'[^']*'|\"[^\"]*\"|\$\([^)]*\)", "''", line))]


def test_the_recipe_check_catches_chained_commands_and_not_variables():
    makefile = ("V = a \\\n\tb || c\nx: ## x\n\tone arg \\\n\t  two\ny:\n\tfoo && bar\nz:\n\t@sh s '$(A)' | x\n")
    assert chained_recipes(makefile) == ["foo && bar", "@sh s '$(A)' | x"]


def test_make_help_is_the_table_of_contents():
    out = run(["make", "--no-print-directory", "help"])
    assert out.returncode == 0
    for target in ("demo", "test", "doctor", "lesson-%", "check-%", "kit", "e2e"):
        assert re.search(rf"^  {re.escape(target)} +\S", out.stdout, re.M), target
    assert run(["make", "--no-print-directory", "check-help"]).returncode == 0


# GNU-only forms that macOS's tools lack, and bash features its bash 3.2 lacks (in a POSIX script
# they would be bugs anyway). A use that checks the result and falls back says so in the same
# function (the docker demo's clock), and is listed here.
GNU_ONLY = {
    r"readlink -f": "macOS readlink has no -f",
    r"stat -c": "BSD stat takes -f",
    r"sed -i(\s+-e)?\s+['\"s]": "BSD sed -i needs a suffix argument ('')",
    r"grep -P": "BSD grep has no -P",
    r"%N": "BSD date has no %N",
    r"\bmapfile\b|\breadarray\b|declare -A|\$\{\w+,,\}|\$\{\w+\^\^\}|\[\[": "not in bash 3.2 or POSIX sh",
    r"\bsort -V\b": "BSD sort has no -V",
    r"\bxargs -r\b": "BSD xargs has no -r",
}
FALLS_BACK = {("images/docker-demo", r"%N")}


def test_no_gnu_only_tool_or_newer_bash_on_the_learners_path():
    found = []
    for path in learner_scripts():
        name = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for pattern, why in GNU_ONLY.items():
                if re.search(pattern, line) and (name, pattern) not in FALLS_BACK:
                    found.append(f"{name}:{number}: {why}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize("line", ["x=$(readlink -f \"$0\")", "sed -i 's/a/b/' f", "date +%s%N", "[[ -n $x ]]",
                                  "mapfile -t a < f", "stat -c %s f", "printf '%s' \"${x,,}\""])
def test_the_gnu_only_guard_catches(line):
    assert any(re.search(p, line) for p in GNU_ONLY), line
