"""The cluster flows without a cluster (`make test-flows`): the lessons' and exercises' scripts
(k8s/scripts/lesson, check, demo, e2e, cluster, load) in dry-run mode, and for real against the
simulated cluster of sim.py, whose states live in each lesson's and exercise's sim/ folder.

Every lesson and exercise is found by looking at the folders, as the scripts find them: a new lesson
folder is covered without editing this file. Expectations come from the folder (its manifests, its
states' `expect`) or from one template for all lessons, never from a list kept here.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from harness import FAKE_BIN, ROOT, SHELLS, calls, clean_env, facts, library, make_kit, run, with_stand_ins

SCRIPTS = ROOT / "k8s" / "scripts"


# ------------------------------------------------------------------------------ the folders
def lesson_dirs() -> list[str]:
    return library("lesson_dirs").split()


def number(lesson: str) -> int:
    return int(Path(lesson).name.split("-")[0])


def exercises() -> list[tuple[int, str, str]]:
    """(lesson number, letter, folder) of every exercise, from the folders."""
    found = []
    for lesson in lesson_dirs():
        for letter in library(f'exercise_letters "{lesson}"').split():
            found.append((number(lesson), letter, f"{lesson}/exercise-{letter}"))
    return found


def states(folder: str) -> list[Path]:
    return sorted((ROOT / folder / "sim").glob("*.yaml"))


def expect(state: Path) -> dict:
    return yaml.safe_load(state.read_text())["expect"]


def instances(folder: str) -> str:
    return library(f'instances "{folder}"').strip()


def title(folder: str, file: str) -> str:
    out = subprocess.run(["sh", "-c", f'. "$1" && printf "%s" "$title"', "sh", str(ROOT / folder / file)],
                         capture_output=True, text=True, check=True)
    return out.stdout


LESSONS = lesson_dirs()
EXERCISES = exercises()
LESSON_STATES = [(lesson, s) for lesson in LESSONS for s in states(lesson)]
# The states in which a lesson must fail: its play state is played by the demo test, every lesson in one run.
BROKEN_STATES = [(lesson, s) for lesson, s in LESSON_STATES if s.stem != "play"]
EXERCISE_STATES = [(n, x, folder, s) for n, x, folder in EXERCISES for s in states(folder)]


def dry_env(**extra: str) -> dict[str, str]:
    return clean_env(**{"DRY_RUN": "1", "PAUSE": "0", "KEEP": "0", "LOAD_PLATFORM": "linux/amd64",
                         "CLUSTER_NAME": "hello", **extra})


def sim_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return with_stand_ins(tmp_path / "state", POLL_INTERVAL="0", CLUSTER_NAME="hello", HELLO_WORK_DIR=str(work),
                          MAKE="make", **extra)


def fail_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


def no_watch_left(state: Path) -> None:
    pids = state / "watch-pids"
    for pid in pids.read_text().split() if pids.exists() else []:
        assert not Path(f"/proc/{pid}").exists(), f"the watch {pid} is still running"


# ------------------------------------------------------------------------------ dry runs
def frame(lesson: str, context: str = "kind-hello") -> list[str]:
    """What every lesson prints around its own steps, in this order: the one template."""
    k = f"$ kubectl --context {context} -n hello-demo"
    names = instances(lesson)
    remove = [f"{k} delete -k {lesson} --ignore-not-found --cascade=foreground --wait=true --timeout=120s",
              f"{k} wait --for=delete pods -l 'app.kubernetes.io/instance in ({names})' --timeout=120s"]
    return ([f"==> Lesson {number(lesson)}: {title(lesson, 'lesson.sh')}"] + remove + [f"{k} apply -k {lesson}"]
            + [f"==> cleaning up {lesson}"] + remove)


def in_order(lines: list[str], wanted: list[str]) -> list[str]:
    """The wanted lines that do not appear in order in lines (empty: all do)."""
    at, missing = 0, []
    for want in wanted:
        try:
            at = lines.index(want, at) + 1
        except ValueError:
            missing.append(want)
    return missing


@pytest.mark.parametrize("lesson", LESSONS)
def test_dry_run_lesson_is_the_same_in_every_shell(lesson):
    outputs = {}
    for shell in SHELLS:
        result = run([*shell.split(), str(SCRIPTS / "lesson"), str(number(lesson))], env=dry_env())
        assert result.returncode == 0, f"{shell}: exit {result.returncode}\n{result.stderr}"
        outputs[shell] = result.stdout
    assert len(set(outputs.values())) == 1, "the shells print different commands"
    lines = outputs["dash"].splitlines()
    assert in_order(lines, frame(lesson)) == []
    assert any(line.startswith("    check: ") for line in lines), "a lesson checks what its README promises"


@pytest.mark.parametrize("cluster,context", [("kind", "kind-hello"), ("minikube", "hello")])
def test_dry_run_demo_plays_every_lesson_in_order(cluster, context):
    result = run(["dash", str(SCRIPTS / "demo")], env=dry_env(CLUSTER=cluster))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    head = ["$ make images", f"==> Cluster: {cluster}, name hello, kubectl context {context}",
            f"$ kubectl --context {context} -n hello-demo apply -k k8s/namespace"]
    wanted = head + [line for lesson in LESSONS for line in frame(lesson, context)]
    assert in_order(lines, wanted) == []
    assert lines[-2] == f"==> That was all {len(LESSONS)} lessons. Replay one with: make lesson-N (KEEP=1 to keep its objects)."
    load = "kind load image-archive" if cluster == "kind" else "minikube -p hello image load"
    assert [line for line in lines if line.startswith(f"$ {load}")] == [
        f"$ {load} .cache/flows/kit/images/amd64/hello-once.tar" + (" --name hello" if cluster == "kind" else ""),
        f"$ {load} .cache/flows/kit/images/amd64/hello-loop.tar" + (" --name hello" if cluster == "kind" else "")]
    assert "Your turn" not in result.stdout, "without PAUSE=1 the demo runs straight through"


def test_dry_run_demo_with_pause_names_every_exercise():
    result = run(["dash", str(SCRIPTS / "demo")], env=dry_env(PAUSE="1"))
    assert result.returncode == 0, result.stderr
    for n, x, folder in EXERCISES:
        command = f"make check-{n}" + ("" if x == "a" else f" EXERCISE={x}")
        line = f"    Your turn ({n}{x}): {title(folder, 'check.sh')}. Check it with: {command}"
        assert line in result.stdout.splitlines()


def rendered_workloads(folder: str) -> list[tuple[str, str]]:
    out = run(["kubectl", "kustomize", folder])
    assert out.returncode == 0, out.stderr
    return [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(out.stdout)
            if d and d["kind"] in ("Deployment", "Job", "CronJob")]


# Where make e2e puts each exercise's start folder with the solution in it (k8s/lib/flow.sh's
# learner_copy; .cache/flows is its scratch folder unless HELLO_WORK_DIR moves it).
WALK_COPY = re.compile(r"\.cache/flows/walk/\d+[a-z]/(k8s/\S+?)/start\b")


def test_dry_run_e2e_applies_checks_and_cleans_up_every_lesson_and_exercise():
    result = run(["dash", str(SCRIPTS / "e2e")], env=dry_env())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for folder in LESSONS + [f"{f}/start" for _, _, f in EXERCISES]:
        assert f"apply -k {folder}\n" in out, f"e2e never applies {folder}"
        assert f"delete -k {folder} " in out, f"e2e never cleans up {folder}"
    for n, x, folder in EXERCISES:  # the learner's path: the start folder with the solution put in, applied
        copy = f".cache/flows/walk/{n}{x}/{folder}/start"
        assert f"$ cp -R {folder}/solution/. {copy}/\n" in out, f"e2e never puts {folder}/solution in a copy of start"
        assert f"apply -k {copy}\n" in out, f"e2e never applies {copy}"
        assert f"delete -k {folder}/solution " in out, f"e2e never cleans up {folder}/solution"
    for folder in LESSONS + [f"{f}/solution" for _, _, f in EXERCISES]:
        for kind, name in rendered_workloads(folder):
            assert re.search(rf"(/| |=){re.escape(name)}( |$|')", out, re.M), f"e2e never looks at {kind} {name}"
    assert "delete -k k8s/namespace" in out


# ------------------------------------------------------------------------------ kubectl accepts them
@functools.lru_cache(maxsize=None)
def printed_kubectl_commands() -> tuple[str, ...]:
    """Every distinct kubectl command the dry runs print (demo on kind and minikube, e2e, graders)."""
    runs = [["dash", str(SCRIPTS / "demo")], ["dash", str(SCRIPTS / "e2e")]]
    found = set()
    for cmd in runs:
        for cluster in ("kind", "minikube"):
            out = run(cmd, env=dry_env(CLUSTER=cluster)).stdout
            found |= {m.group(1) for m in re.finditer(r"^\$ (kubectl .*?)(?: > \S+ &)?$", out, re.M)}
    return tuple(sorted(found))


def test_every_printed_kubectl_command_parses(tmp_path):
    """Each is run against a kubeconfig whose server is a closed local port: it must get as far as
    connecting, so an unknown flag, a bad --for or a broken kustomization fails here."""
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-hello",
        "clusters": [{"name": "closed", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": n, "context": {"cluster": "closed", "user": "nobody"}} for n in ("kind-hello", "hello")],
        "users": [{"name": "nobody", "user": {"token": "none"}}]}))
    commands = printed_kubectl_commands()
    assert len(commands) > 20
    rejected = []
    for line in commands:
        # A dry run makes no copies: e2e's walk copy of a start folder is the solution's files over
        # the start's, which renders as the solution does.
        line = WALK_COPY.sub(r"\1/solution", line)
        result = run(shlex.split(line), env=clean_env(KUBECONFIG=str(config)), timeout=60)
        text = result.stdout + result.stderr
        if result.returncode == 0 or not re.search(r"connect: connection refused|was refused", text):
            rejected.append(f"{line}\n  -> {text.strip().splitlines()[-1:] if text.strip() else result.returncode}")
    assert rejected == []


def test_every_printed_jsonpath_template_parses():
    templates = {m for line in printed_kubectl_commands() for m in re.findall(r"'jsonpath=([^']*)'", line)}
    assert len(templates) > 5
    for template in templates:
        result = run(["kubectl", "create", "configmap", "x", "--dry-run=client", "-o", f"jsonpath={template}"])
        assert result.returncode == 0, f"{template}: {result.stderr}"


# ------------------------------------------------------------------------------ on the simulated cluster
def play(tmp_path: Path, lesson: str, state: Path, shell: list[str] = ("dash",)) -> subprocess.CompletedProcess:
    # A wait that must time out is cut short; any other wait ends as soon as the state is reached
    # (POLL_INTERVAL=0), however loaded the machine is.
    bound = {"POLL_TIMEOUT_OVERRIDE": "3"} if "timed out" in expect(state).get("fail", "") else {}
    env = sim_env(tmp_path, FAKE_STATES=f"{lesson}={state.stem}", **bound)
    return run([*shell, str(SCRIPTS / "lesson"), str(number(lesson))], env=env, timeout=180)


@pytest.mark.parametrize("lesson,state", BROKEN_STATES, ids=[f"{Path(l).name}/{s.stem}" for l, s in BROKEN_STATES])
def test_lesson_fails_alone_on_a_simulated_cluster_that_misbehaves(tmp_path, lesson, state):
    result = play(tmp_path, lesson, state)
    want = expect(state)
    out = result.stdout + result.stderr
    assert result.returncode == want["status"], out
    if want["status"] == 0:
        assert fail_lines(out) == [], out
    else:
        assert len(fail_lines(out)) == 1, out
        assert want["fail"] in fail_lines(out)[0], out
        assert "--- diagnostics" in out
    no_watch_left(tmp_path / "state")


def test_every_lesson_has_a_state_where_it_plays_as_its_readme_says():
    for lesson in LESSONS:
        assert (ROOT / lesson / "sim" / "play.yaml").is_file(), f"{lesson}/sim/play.yaml"
        assert expect(ROOT / lesson / "sim" / "play.yaml")["status"] == 0


def test_lesson_with_background_streams_under_every_shell(tmp_path, shell):
    """Lesson 3 watches and follows a pod while it deletes it: background jobs, traps, waits."""
    lesson = next(l for l in LESSONS if "delete_and_watch" in (ROOT / l / "lesson.sh").read_text())
    result = play(tmp_path, lesson, ROOT / lesson / "sim" / "play.yaml", shell)
    assert result.returncode == 0, result.stdout + result.stderr
    no_watch_left(tmp_path / "state")


def test_demo_on_a_simulated_cluster(tmp_path):
    result = run(["dash", str(SCRIPTS / "demo")], env=sim_env(tmp_path), timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert fail_lines(out) == []
    log = calls(tmp_path / "state")
    assert "make images" in log
    assert any(c.startswith("kind create cluster --name hello --config k8s/kind-config.yaml") for c in log)
    for image in ("hello-once", "hello-loop"):
        archive = f"{tmp_path}/work/kit/images/amd64/{image}.tar"
        assert f"kind load image-archive {archive} --name hello" in log
    no_watch_left(tmp_path / "state")
    # Replays: before every apply of a folder, its previous objects were deleted in the foreground
    # and their pods waited for; a terminating pod (lesson 3's state has one) was never picked.
    kubectl = [c.split(" -n hello-demo ", 1)[-1] for c in log if c.startswith("kubectl --context")]
    for lesson in LESSONS:
        delete = f"delete -k {lesson} --ignore-not-found --cascade=foreground --wait=true --timeout=120s"
        wait = f"wait --for=delete pods -l app.kubernetes.io/instance in ({instances(lesson)}) --timeout=120s"
        at = kubectl.index(f"apply -k {lesson}")
        assert kubectl[at - 2: at] == [delete, wait], lesson
    assert not [c for c in log if "-7f00" in c], "a terminating pod was picked"


def test_e2e_on_a_simulated_cluster_grades_every_exercise(tmp_path):
    result = run(["dash", str(SCRIPTS / "e2e")], env=sim_env(tmp_path), timeout=900)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"e2e: {len(LESSONS) + len(EXERCISES)} passed, 0 failed" in out.splitlines()
    assert "delete -k k8s/namespace --ignore-not-found --wait=true --timeout=180s" in "\n".join(calls(tmp_path / "state"))


def test_e2e_fails_a_broken_lesson_alone(tmp_path):
    lesson, state = next((l, s) for l, s in LESSON_STATES if expect(s)["status"] == 1 and "timed out" not in expect(s)["fail"])
    other = next(l for l in LESSONS if l != lesson)
    env = sim_env(tmp_path, FAKE_STATES=f"{lesson}={state.stem}", E2E_LESSONS=f"{number(other)} {number(lesson)}",
                  E2E_EXERCISES="0")
    result = run(["dash", str(SCRIPTS / "e2e")], env=env, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "e2e: 1 passed, 1 failed" in out.splitlines()
    assert f"failed: lesson {number(lesson)}" in out.splitlines()


# ------------------------------------------------------------------------------ the graders
def clock(state: Path) -> dict[str, str]:
    """HELLO_NOW for a state that says when the grader looks at it (`now:`, RFC 3339): the library's
    wall clock for judging the cluster's timestamps (a grace period's end, a restart's back-off)."""
    now = yaml.safe_load(state.read_text()).get("now")
    if not now:
        return {}
    return {"HELLO_NOW": str(int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()))}


def grade(tmp_path: Path, n: int, x: str, state: Path, shell: list[str] = ("dash",)) -> subprocess.CompletedProcess:
    env = with_stand_ins(tmp_path / "state", **clock(state))
    seeded = run(["python3", str(ROOT / "k8s" / "tests" / "sim.py"), "seed", str(state)], env=env)
    assert seeded.returncode == 0, seeded.stderr
    return run([*shell, str(SCRIPTS / "check"), str(n), x], env=env)


@pytest.mark.parametrize("n,x,folder,state", EXERCISE_STATES,
                         ids=[f"{n}{x}-{s.stem}" for n, x, _, s in EXERCISE_STATES])
def test_grader_on_a_simulated_cluster(tmp_path, n, x, folder, state):
    result = grade(tmp_path, n, x, state)
    want = expect(state)
    assert result.returncode == want["status"], result.stdout + result.stderr
    for line in want.get("lines", [want.get("line")]):
        line = line.format(lesson=str(Path(folder).parent), exercise=folder)
        assert line in result.stdout.splitlines(), result.stdout
    verbs = {verb(c) for c in calls(tmp_path / "state") if c.startswith("kubectl ")}
    assert verbs <= {"get", "logs", "config"}, f"the grader only reads; it ran {verbs}"


def verb(call: str) -> str:
    """The verb of a logged kubectl call, after its global flags (--context X, -n X)."""
    words, i = call.split()[1:], 0
    while i < len(words) and words[i] in ("--context", "-n", "--namespace"):
        i += 2
    return words[i]


def test_grader_under_every_shell(tmp_path, shell):
    n, x, folder = EXERCISES[0]
    result = grade(tmp_path, n, x, ROOT / folder / "sim" / "pass.yaml", shell)
    assert result.returncode == 0 and "done: every condition met" in result.stdout, result.stdout + result.stderr


def test_a_grader_that_must_wait_says_so_under_every_shell(tmp_path, shell):
    """Status 3 and a `wait:` line with the seconds to give it, from the clock arithmetic (RFC 3339
    in awk) every shell runs the same way."""
    n, x, folder, state = next((n, x, f, s) for n, x, f, s in EXERCISE_STATES if expect(s)["status"] == 3)
    result = grade(tmp_path, n, x, state, shell)
    assert result.returncode == 3, result.stdout + result.stderr
    for line in expect(state)["lines"]:
        assert line.format(lesson=str(Path(folder).parent), exercise=folder) in result.stdout.splitlines(), result.stdout


def test_every_grader_state_that_judges_time_says_when_it_is_looked_at():
    """A state with a pod being deleted is judged against the clock: without its `now` the grader
    would judge it against today's date."""
    for n, x, folder, state in EXERCISE_STATES:
        doc = yaml.safe_load(state.read_text())
        if any("deleting" in o for o in doc.get("objects", [])):
            assert doc.get("now"), f"{state.relative_to(ROOT)} has a pod being deleted and no `now`"


def test_every_simulated_starting_line_is_the_programs():
    """Simulated, not captured, but in the program's shape (no count= unless a count is set) and with
    the heartbeat file a container runs with: the image's, or the one a lesson's manifest sets."""
    import sys
    sys.path.insert(0, str(ROOT / "k8s" / "checks"))
    from lessons import image_env
    from readme_rules import LOOP_STARTING
    heartbeats = {image_env()["HELLO_HEARTBEAT_FILE"]} | set(re.findall(
        r"HELLO_HEARTBEAT_FILE\n\s+value: \"([^\"]+)\"", "".join(p.read_text() for p in ROOT.glob("k8s/[0-9][0-9]-*/*.yaml"))))
    for state in sorted(ROOT.glob("k8s/*/sim/*.yaml")) + sorted(ROOT.glob("k8s/*/exercise-*/sim/*.yaml")):
        for obj in yaml.safe_load(state.read_text()).get("objects", []):
            for line in (obj.get("log") or "").splitlines():
                if "INFO starting" in line and "interval=" in line:
                    match = LOOP_STARTING.search(line)
                    assert match, f"{state.relative_to(ROOT)}: {line}"
                    assert match.group(3) in heartbeats, f"{state.relative_to(ROOT)}: heartbeat_file={match.group(3)}"


def test_every_exercise_has_a_passing_and_two_failing_states():
    for n, x, folder in EXERCISES:
        found = {s.stem: expect(s)["status"] for s in states(folder)}
        assert found.get("pass") == 0, f"{folder}/sim/pass.yaml"
        assert sum(1 for name, status in found.items() if name != "pass" and status == 1) >= 2, folder


def test_every_exercise_is_complete():
    for n, x, folder in EXERCISES:
        for part in ("start/kustomization.yaml", "solution/kustomization.yaml", "check.sh"):
            assert (ROOT / folder / part).is_file(), f"{folder}/{part}"
        text = (ROOT / folder / "check.sh").read_text()
        for function in ("grade()", "settle()"):
            assert function in text, f"{folder}/check.sh has no {function}"


# ------------------------------------------------------------------------------ bad input
def one_line_exit_2(result: subprocess.CompletedProcess, want: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert want in result.stderr


@pytest.mark.parametrize("script,args,env,want", [
    ("demo", [], {"CLUSTER": "bogus"}, "CLUSTER must be kind or minikube"),
    ("e2e", [], {"DRY_RUN": "yes"}, "DRY_RUN must be 0 or 1"),
    ("lesson", ["99"], {}, "lesson must be one of"),
    ("lesson", ["x1"], {}, "lesson must be one of"),
    ("e2e", [], {"E2E_LESSONS": "0"}, "lesson must be one of"),
    ("e2e", [], {"E2E_EXERCISES": "2"}, "E2E_EXERCISES must be 0 or 1"),
    ("cluster", [], {}, "usage: cluster up|load|down"),
    ("cluster", ["load"], {"LOAD_PLATFORM": "linux/s390x"}, "LOAD_PLATFORM must be linux/amd64 or linux/arm64"),
    ("check", ["99"], {}, "lesson must be one of"),
    ("check", ["3", "z"], {}, "EXERCISE must be one of"),
    ("check", [], {}, "usage: check N"),
    ("demo", [], {"CLUSTER_NAME": "Bad_Name"}, "CLUSTER_NAME must be"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, script, args, env, want):
    environment = with_stand_ins(tmp_path / "state", **{"DRY_RUN": "1", **env})
    result = run(["dash", str(SCRIPTS / script), *args], env=environment)
    one_line_exit_2(result, want)
    assert calls(tmp_path / "state") == [], "nothing was run"


@pytest.mark.parametrize("args,want", [(["check-99"], "lesson must be one of"),
                                       (["check-1", "EXERCISE=q"], "EXERCISE must be one of")])
def test_make_check_with_bad_input_exits_2(args, want):
    result = run(["make", "--no-print-directory", *args])
    assert result.returncode == 2, result.stdout + result.stderr
    assert want in result.stderr


def test_make_check_targets_run_the_grader_of_each_lesson():
    help_text = run(["make", "--no-print-directory", "help"]).stdout
    assert re.search(r"^  check-% +Grade ", help_text, re.M), help_text
    for lesson in LESSONS:
        dry = run(["make", "--no-print-directory", "-n", f"check-{number(lesson)}"]).stdout
        assert f"k8s/scripts/check '{number(lesson)}' 'a'" in dry, dry


def test_a_missing_tool_is_named_with_its_install_hint(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/bin", "/bin"):
        for tool in Path(folder).iterdir():
            if tool.name not in ("docker", "kind", "minikube", "kubectl") and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    result = run(["dash", str(SCRIPTS / "cluster"), "up"], env=clean_env(PATH=str(bin_dir)))
    assert result.returncode == 1
    for tool, hint in [("docker", "install Docker"), ("kind", f"install kind {facts()['KIND_VERSION']}"),
                       ("kubectl", "install kubectl")]:
        assert f"cluster: {tool} not found; {hint}" in result.stderr
    assert not [line for line in result.stdout.splitlines() if line.startswith("$ ")], "nothing was run"


# ------------------------------------------------------------------------------ the cluster scripts
def test_kind_up_is_idempotent(tmp_path):
    env = sim_env(tmp_path)
    for _ in range(2):
        result = run(["dash", str(SCRIPTS / "cluster"), "up"], env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "kind cluster hello already exists; using it" in result.stdout
    assert len([c for c in calls(tmp_path / "state") if c.startswith("kind create cluster")]) == 1


def test_kind_load_without_a_cluster_prints_the_command_that_creates_it(tmp_path):
    result = run(["dash", str(SCRIPTS / "cluster"), "load"], env=sim_env(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "load: there is no kind cluster hello to load into; create it, then run this again:" in result.stderr
    assert "    kind create cluster --name hello --config k8s/kind-config.yaml" in result.stderr.splitlines()
    assert not [c for c in calls(tmp_path / "state") if c.startswith("kind load")]


def test_demo_from_a_kit_folder_loads_through_the_kits_loader_and_builds_nothing(tmp_path):
    kit = make_kit(tmp_path)
    result = run(["dash", str(SCRIPTS / "demo")], env=dry_env(KIT=str(kit)))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"$ sh {kit}/load kind --name hello" in lines
    assert f"$ kind load image-archive {kit}/images/amd64/hello-loop.tar --name hello" in lines
    assert "$ make images" not in lines and "save-image" not in result.stdout


# ------------------------------------------------------------------------------ the restart timeline
@pytest.fixture(scope="module")
def looks(tmp_path_factory) -> Path:
    """Lesson 1's looks at its pod, as it keeps them while it plays on the simulated cluster."""
    tmp = tmp_path_factory.mktemp("lesson-1")
    lesson = next(l for l in LESSONS if "show_restart_timeline" in (ROOT / l / "lesson.sh").read_text())
    result = play(tmp, lesson, ROOT / lesson / "sim" / "play.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp / "work" / "lesson-1-restarts.txt"


def timeline(shell: list[str], text: str, mode: str = "kubelet") -> subprocess.CompletedProcess:
    return run([*shell, "-c", f'ROOT="$1"; . "$1/k8s/lib/timeline.sh"; restart_timeline {mode}', "sh", str(ROOT)],
               stdin=text)


def test_restart_timeline_charts_the_gaps_under_every_shell(looks, shell):
    result = timeline(shell, looks.read_text())
    assert result.returncode == 0, result.stdout + result.stderr
    for row in (r"^ +2 +11 s +10 s +#+\|#$", r"^ +3 +21 s +20 s +#+\|#$", r"^ +4 +41 s +40 s +#+\|#$",
                r"^ +1 +\? +at once +not measured: run 1 was over"):
        assert re.search(row, result.stdout, re.M), result.stdout


def test_restart_timeline_reports_a_malformed_timestamp(looks):
    lines = looks.read_text().splitlines()
    lines[3] = lines[3].replace("2026-01-01T12:00:14Z", "2026-01-01 12:00:14")
    result = timeline(["sh"], "\n".join(lines) + "\n")
    assert result.returncode == 1
    assert "is not an RFC 3339 time" in result.stdout
    assert re.search(r"^ +3 +\? .*not measured: a timestamp of run 3 or 4 is malformed", result.stdout, re.M)
    assert not re.search(r"^ +[23] +[0-9]", result.stdout, re.M)


def test_restart_timeline_reports_runs_it_never_saw(looks):
    text = "".join(line + "\n" for line in looks.read_text().splitlines() if "|3|" not in line)
    result = timeline(["sh"], text)
    assert re.search(r"^ +3 +\? .*not measured: the start of run 4 was not seen", result.stdout, re.M)
    assert re.search(r"^ +4 +\? .*not measured: run 4 was over before a look saw it", result.stdout, re.M)


def test_restart_timeline_fails_a_restart_sooner_than_documented(looks):
    result = timeline(["sh"], looks.read_text().replace("12:00:14Z", "12:00:08Z"))
    assert result.returncode == 1
    assert "restart 2 came after 5 s, sooner than the documented 10 s" in result.stdout


def test_restart_timeline_without_looks_or_with_a_bad_mode():
    assert timeline(["sh"], "").returncode == 1
    assert "no restart in the input" in timeline(["sh"], "").stdout
    assert timeline(["sh"], "", "bogus").returncode == 2
