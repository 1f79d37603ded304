"""The lesson READMEs against the sourced facts sheet and against their own manifests (the rules are
in readme_rules.py), for every README, found by looking at the folders: no lesson is named here.

A wrong number in a lesson is a bug, so `make check-k8s` reads every README under k8s/ and checks
its statements (restart back-offs, exit codes, defaults, GA versions, rollout times), its quotes of
its own manifests, `-n hello-demo` on its kubectl commands, sample output marked as illustrative,
the sections every lesson README has and a "Your turn" that names each exercise of its folder. The
statements one lesson must make are asked by that lesson's own test_lesson.py.
The last class feeds wrong statements to each rule and expects it to object.
"""

from __future__ import annotations

import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "diagrams"))
from diagrams import colours, mermaid_blocks  # noqa: E402  (what `make diagrams` renders is what is checked)
from lessons import K8S, REPO, course, lesson_dirs, lesson_exercises, lesson_number, render  # noqa: E402
from readme_rules import (  # noqa: E402
    FACT_RULES, FACTS_SHEET, LESSON_SECTIONS, check_against_manifests, check_against_objects, check_crash_loop_backoff,
    check_defaults, check_docker_restart, check_exit_codes, check_ga_versions, check_illustrative,
    check_kubectl_namespace, check_loop_starting_lines, check_reasons, check_rollout_time, check_stated_versions, guides,
    mermaid, number_word,
    pinned_versions, readmes, rolling_update, section,
)

# A flowchart's nodes (id, "label" in any shape) and edges (from, "label" or "", to).
NODE = re.compile(r'(\w+)(?:\(\[|\[|\{|\()"(.*?)"')
EDGE = re.compile(r'^\s*(\w+)(?:(?:\(\[|\[|\{|\()".*?"(?:\]\)|\]|\}|\)))?\s*-->(?:\|"(.*?)"\|)?\s*(\w+)', re.M)


def restart_picture_problems(text: str) -> list[str]:
    """The top README's "Three ways a container restarts" picture: from an exit (or an OOM kill) the
    way to a new start goes through the documented back-off; from a failed liveness probe it does not
    (the kubelet starts it again in the same step unless the back-off, measured from the run before,
    is longer than a run), and says so ("at once")."""
    blocks = [b for b in mermaid_blocks(text) if 'title: "Three ways a container restarts"' in b]
    if len(blocks) != 1:
        return ["no picture titled 'Three ways a container restarts'"]
    labels = {node: " ".join(re.sub(r"<br\s*/?>", " ", label).split()) for node, label in NODE.findall(blocks[0])}
    edges = EDGE.findall(blocks[0])

    def reachable(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for a, _, b in edges:
                if a == here and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    def node(words: str) -> str | None:
        return next((n for n, label in labels.items() if words in label), None)

    problems = []
    exits, probe, backoff = node("exits"), node("liveness probe"), node("10 s, 20 s")
    if not (exits and probe and backoff):
        return ["the picture needs an exit, a failed liveness probe and the back-off (10 s, 20 s ...)"]
    if backoff not in reachable(exits):
        problems.append("an exit does not lead through the back-off")
    if backoff in reachable(probe):
        problems.append("a failed liveness probe is drawn through the exit's back-off: it restarts at once "
                        "while the back-off, measured from the run before, is shorter than a run")
    if not any("at once" in label for a, label, _ in edges if a in reachable(probe)):
        problems.append("the probe's way to a new start does not say it comes at once")
    return problems


# ------------------------------------------------------------------------------------ tests
def readme_number(text: str) -> int | None:
    """N of the README's title, `# Lesson N: ...`."""
    match = re.match(r"# Lesson (\d+):", text)
    return int(match.group(1)) if match else None


# What a quote written through a shell leaves in a text: '"'"' and '\'' (an apostrophe closed,
# quoted, reopened), as lesson 7's README once had ("container'"'"'s").
SHELL_QUOTING = re.compile(r"'\"'\"'|'\\''")


def shell_quoting_leftovers(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if SHELL_QUOTING.search(line)]


class ReadmeFactsTest(unittest.TestCase):
    def test_readmes_agree_with_the_facts_sheet(self):
        for path in readmes() + guides():
            text = path.read_text()
            for rule in FACT_RULES:
                with self.subTest(readme=str(path.relative_to(REPO)), rule=rule.__name__):
                    self.assertEqual(rule(text, FACTS_SHEET), [])


class RolloutTest(unittest.TestCase):
    # A made-up Deployment: two replicas, one new pod at a time, each ready for 5 s first.
    deployment = {"kind": "Deployment", "spec": {"replicas": 2, "minReadySeconds": 5, "strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}}

    def test_rollout_times_fit_each_lessons_deployments(self):
        for folder in lesson_dirs():
            text = (folder / "README.md").read_text()
            for deployment in (o for o in render(folder) if o["kind"] == "Deployment"):
                with self.subTest(lesson=folder.name, deployment=deployment["metadata"]["name"]):
                    self.assertEqual(check_rollout_time(text, deployment, FACTS_SHEET), [])

    def test_wrong_rollout_time_is_caught(self):
        self.assertEqual(rolling_update(self.deployment, FACTS_SHEET), (2, 1, 0, 5))
        self.assertNotEqual(check_rollout_time("A rollout takes about a second.", self.deployment, FACTS_SHEET), [])
        self.assertNotEqual(check_rollout_time("The rollout takes about 3–5 s.", self.deployment, FACTS_SHEET), [])
        self.assertEqual(check_rollout_time("The rollout takes about 12–15 s.", self.deployment, FACTS_SHEET), [])

    def test_the_default_strategy_is_resolved_as_the_controller_does(self):
        # 25 % of one replica: surge rounds up to 1, unavailable down to 0.
        one = {"kind": "Deployment", "spec": {"replicas": 1}}
        self.assertEqual(rolling_update(one, FACTS_SHEET), (1, 1, 0, 0))
        self.assertEqual(number_word(rolling_update(one, FACTS_SHEET)[0] + 1), "two")


class PinnedVersionsTest(unittest.TestCase):
    def test_readme_states_the_pinned_versions(self):
        self.assertEqual(check_stated_versions((REPO / "README.md").read_text(), pinned_versions()), [])

    def test_a_wrong_version_is_caught(self):
        pins = {"KIND_VERSION": "v0.32.0", "KUBECTL_VERSION": "v1.36.1"}
        self.assertNotEqual(check_stated_versions("kind v0.32.0 and kubectl v1.34.0", pins), [])
        self.assertNotEqual(check_stated_versions("[kind](https://x) v0.31.0, kubectl v1.36.1", pins), [])
        self.assertNotEqual(check_stated_versions("kind v0.32.0, kubectl v1.36.1: any kubectl 1.34–1.36", pins), [])
        self.assertNotEqual(check_stated_versions("kind v0.32.0 only", pins), [])
        self.assertEqual(check_stated_versions("kind v0.32.0, kubectl v1.36.1: any kubectl 1.35–1.37", pins), [])


class DiagramsTest(unittest.TestCase):
    """The pictures: one per lesson and in the top-level README, their numbers held to the facts
    (by the rules above, which read diagram lines as units), and the delays the measured restart
    timelines are drawn beside (k8s/lib/timeline.sh) equal to the facts sheet's."""

    def test_every_lesson_and_the_top_readme_have_a_diagram(self):
        for path in [REPO / "README.md"] + [d / "README.md" for d in lesson_dirs()]:
            with self.subTest(readme=str(path.relative_to(REPO))):
                self.assertTrue(mermaid_blocks(path.read_text()), f"{path.relative_to(REPO)} has no ```mermaid diagram")

    def test_a_blank_png_is_told_from_a_drawn_one(self):
        import tempfile

        from PIL import Image

        with tempfile.TemporaryDirectory() as scratch:
            png = Path(scratch) / "d.png"
            image = Image.new("RGB", (40, 20), "white")
            image.save(png)
            self.assertEqual(colours(png), 1)
            image.putpixel((3, 4), (0, 0, 0))
            image.save(png)
            self.assertEqual(colours(png), 2)

    def test_the_three_ways_picture_waits_out_the_back_off_only_after_an_exit(self):
        # facts.md, Kubelet restarts: a probe-killed container is started again in the same sync,
        # the back-off measured from the run before; an exit or an OOM kill waits the whole back-off.
        problems = restart_picture_problems((REPO / "README.md").read_text())
        self.assertEqual(problems, [])
        first = mermaid("---", 'title: "Three ways a container restarts"', "---", "flowchart LR",
                        '    exits["the program exits"] --> kubelet',
                        '    probe["a liveness probe fails"] -->|"SIGTERM, then SIGKILL"| kubelet',
                        '    oom["more memory than its limit"] -->|"SIGKILL"| kubelet',
                        '    kubelet(["the kubelet starts it again"]) --> backoff["CrashLoopBackOff in between: '
                        '10 s, 20 s, 40 s … up to 300 s"]')
        self.assertNotEqual(restart_picture_problems(first), [], "the picture as it was first drawn")

    def test_the_timeline_chart_uses_the_documented_delays(self):
        script = (K8S / "lib" / "timeline.sh").read_text()
        constants = {k: int(v) for k, v in re.findall(r"^([A-Z_]+_MS)=(\d+)", script, re.M)}
        f = FACTS_SHEET
        self.assertEqual(constants, {"DOCKER_INITIAL_MS": f.docker_initial_ms, "DOCKER_MAX_MS": f.docker_max_ms,
                                     "KUBELET_INITIAL_MS": f.crash_initial * 1000, "KUBELET_MAX_MS": f.crash_max * 1000})


class ReadmeShapeTest(unittest.TestCase):
    def test_lesson_readmes_match_their_manifests(self):
        for folder in lesson_dirs():
            with self.subTest(lesson=folder.name):
                self.assertEqual(check_against_manifests((folder / "README.md").read_text(), folder), [])

    def test_samples_of_the_loops_starting_line_show_what_the_lesson_runs(self):
        for folder in lesson_dirs():
            with self.subTest(lesson=folder.name):
                self.assertEqual(check_loop_starting_lines((folder / "README.md").read_text(), render(folder), folder.name), [])

    def test_a_starting_line_without_the_images_heartbeat_is_caught(self):
        # Lesson 7's sample as first written: the binary's own default, not what the image runs with.
        job = {"kind": "Job", "metadata": {"name": "finite-loop"}, "spec": {"template": {"spec": {"containers": [
            {"name": "hello-loop", "image": "hello-loop:0.1.0",
             "env": [{"name": "HELLO_COUNT", "value": "5"}, {"name": "HELLO_INTERVAL", "value": "1s"}]}]}}}}
        line = ('2026-11-26T16:49:38.298154Z  INFO starting text="Hello, World!" interval=1s count=5 shutdown_delay=0s '
                'signals=handle heartbeat_file={} stall_after=never pid=1')
        self.assertNotEqual(check_loop_starting_lines(line.format("none"), [job], "x"), [])
        self.assertEqual(check_loop_starting_lines(line.format("/dev/shm/hello-loop.heartbeat"), [job], "x"), [])
        self.assertNotEqual(check_loop_starting_lines(line.format("/dev/shm/hello-loop.heartbeat").replace("count=5 ", ""),
                                                      [job], "x"), [])

    def test_kubectl_commands_name_the_namespace(self):
        for path in readmes():
            with self.subTest(readme=str(path.relative_to(K8S))):
                self.assertEqual(check_kubectl_namespace(path.read_text()), [])

    def test_sample_output_is_marked_illustrative(self):
        for path in readmes():
            with self.subTest(readme=str(path.relative_to(K8S))):
                self.assertEqual(check_illustrative(path.read_text()), [])

    def test_lesson_readmes_have_the_four_sections(self):
        for folder in lesson_dirs():
            text = (folder / "README.md").read_text()
            with self.subTest(lesson=folder.name):
                self.assertEqual([s for s in LESSON_SECTIONS if not re.search(rf"^{s}$", text, re.M)], [])

    def test_your_turn_is_last_and_names_each_exercise(self):
        # Each exercise of the folder: its task, success on the cluster, one hint, the command that
        # grades it (make in the repository, ./check in a kit), its start and solution folders.
        for folder in lesson_dirs():
            text = (folder / "README.md").read_text()
            n = readme_number(text)
            found = lesson_exercises(folder)
            with self.subTest(lesson=folder.name):
                self.assertIsNotNone(n, "the README's title is '# Lesson N: ...'")
                self.assertEqual(re.findall(r"^## .*$", text, re.M)[-1], "## Your turn")
                turn = " ".join(section(text, "Your turn").split())
                self.assertTrue(found, "every lesson has an exercise")
                for exercise in found.values():
                    x = exercise.name[-1]
                    make = f"make check-{n}" + ("" if x == "a" else f" EXERCISE={x}")
                    kit = f"./check {n}" + ("" if x == "a" else f" {x}")
                    self.assertIn(f"**Exercise {n}{x}.**", turn)
                    self.assertIn(f"`{make}`", turn)
                    self.assertIn(f"`{kit}`", turn)
                    self.assertIn(f"](exercise-{x}/start/)", turn)
                    self.assertIn(f"](exercise-{x}/solution/)", turn)
                    self.assertRegex(turn, rf"`kubectl apply -k \S*exercise-{x}/start`", "how to apply the start folder")
                self.assertEqual(re.findall(r"\*\*Exercise \d+([a-z])\.\*\*", turn), [e.name[-1] for e in found.values()],
                                 "the exercises the README names are the folder's, in order")
                self.assertEqual(turn.count("Success on the cluster:"), len(found))
                self.assertEqual(turn.count("Hint:"), len(found))

    def test_the_course_is_numbered_as_its_folders(self):
        # In the course, a README's number is its folder's, so `make check-N` grades that lesson's
        # exercises; the exercise names follow it (Exercise 3a is make check-3).
        for folder in course():
            with self.subTest(lesson=folder.name):
                self.assertEqual(readme_number((folder / "README.md").read_text()), lesson_number(folder))

    def test_top_readme_links_every_lesson_of_the_course(self):
        text = (K8S / "README.md").read_text()
        linked = re.findall(r"\]\((\d\d-[a-z0-9-]+)/\)", text)
        self.assertEqual(linked, [folder.name for folder in course()])

    def test_no_shell_quoting_leftovers(self):
        for path in readmes() + guides():
            with self.subTest(readme=str(path.relative_to(REPO))):
                self.assertEqual(shell_quoting_leftovers(path.read_text()), [])
        self.assertNotEqual(shell_quoting_leftovers("the container'\"'\"'s `env`"), [])
        self.assertNotEqual(shell_quoting_leftovers("the container'\\''s `env`"), [])
        self.assertEqual(shell_quoting_leftovers("the container's `env`; '\"quoted\"'"), [])

    # Links (every README's, the host's and the contributors' guides'): test_docs.py.


class RulesCanFailTest(unittest.TestCase):
    """Each rule must object to a wrong statement (and accept the right one)."""

    WRONG = {
        check_crash_loop_backoff: [
            "After that the kubelet waits 5 s before each restart.",
            "The delay doubles up to a cap of 600 s while the status is CrashLoopBackOff.",
            "The restart delay resets once a container has run for 5 minutes.",
            "The first restart happens after 10 s; the kubelet waits.",
            "The Job controller waits 15 s after the first failure before a replacement pod.",
            "The Job controller caps its back-off for a replacement pod at 6 minutes.",
            "Restarts back off faster with `ReduceDefaultCrashLoopBackOffDecay` (alpha since 1.31): 1 s, "
            "doubling to 60 s.",
        ],
        check_exit_codes: [
            "SIGKILL ends it: 137 = 128 + 15.",
            "The container was stopped by SIGTERM and shows exit code 137.",
            "SIGTERM is signal 9.",
            "A second signal gives 143 (SIGINT).",
        ],
        check_reasons: [
            "Last State shows `Error` (exit 0).",
            "Its final state is exit code 137, reason `Completed`.",
            "reason `OOMKilled`, exit code 143",
        ],
        check_defaults: [
            "The grace period is 60 s by default.",
            "`backoffLimit` counts retries and defaults to 3.",
            "`successfulJobsHistoryLimit: 5` is the default.",
            "The defaults for maxSurge and maxUnavailable are 50 % each.",
            "The default, `Forbid`, skips a run (concurrencyPolicy).",
        ],
        check_ga_versions: ["`podFailurePolicy` is GA since Kubernetes 1.29."],
        check_docker_restart: [
            "`docker run --restart=always` restarts it with delays that start at 50 ms and double.",
            "Docker's restart delay doubles up to 5 min.",
        ],
    }
    RIGHT = {
        check_crash_loop_backoff: "The first restart happens at once. After that the kubelet waits before each "
                                  "restart: 10 s, then doubling up to a cap of 300 s (5 minutes). The delay resets "
                                  "once a container has run for 10 minutes.",
        check_exit_codes: "SIGKILL is signal 9, so 137 = 128 + 9; SIGTERM gives 143.",
        check_reasons: "`Completed` for exit 0, `Error` for any other exit code; reason `OOMKilled`, exit code 137.",
        check_defaults: "`backoffLimit` defaults to 6 and the grace period is 30 s by default.",
        check_ga_versions: "`podFailurePolicy` (GA since Kubernetes 1.31).",
        check_docker_restart: "With `--restart=always` the delay starts at 100 ms and doubles (200 ms, 400 ms) "
                              "up to a minute.",
    }

    def test_wrong_statements_are_caught(self):
        for rule, statements in self.WRONG.items():
            for statement in statements:
                with self.subTest(rule=rule.__name__, statement=statement):
                    self.assertNotEqual(rule(statement, FACTS_SHEET), [])

    def test_right_statements_pass(self):
        for rule, statement in self.RIGHT.items():
            with self.subTest(rule=rule.__name__):
                self.assertEqual(rule(statement, FACTS_SHEET), [])

    # Made-up objects for the manifest rules, as a lesson renders them: a Job with an env and a TTL,
    # a Deployment with a grace period and a drain that outlasts it.
    JOB = {"kind": "Job", "metadata": {"name": "finite-loop"}, "spec": {"ttlSecondsAfterFinished": 300, "template": {
        "spec": {"containers": [{"name": "c", "env": [{"name": "HELLO_COUNT", "value": "5"}]}]}}}}
    DEPLOYMENT = {"kind": "Deployment", "metadata": {"name": "grace"}, "spec": {"template": {"spec": {
        "terminationGracePeriodSeconds": 10,
        "containers": [{"name": "c", "env": [{"name": "HELLO_SHUTDOWN_DELAY", "value": "15s"}]}]}}}}

    def test_manifest_drift_is_caught(self):
        objs = [self.JOB]
        self.assertNotEqual(check_against_objects("Runs with `HELLO_COUNT=7`.", objs, "x"), [])
        self.assertNotEqual(check_against_objects("It sets `ttlSecondsAfterFinished: 60`.", objs, "x"), [])
        self.assertNotEqual(check_against_objects("```sh\nkubectl -n hello-demo logs job/finite\n```\n", objs, "x"), [])
        self.assertNotEqual(check_against_objects("```sh\nkubectl -n hello-demo get pods -l app.kubernetes.io/instance=finite\n```\n",
                                                  objs, "x"), [])
        self.assertEqual(check_against_objects("Runs with `HELLO_COUNT=5`; `ttlSecondsAfterFinished: 300`.", objs, "x"), [])
        self.assertEqual(check_against_objects("```sh\nkubectl -n hello-demo logs job/finite-loop\n```\n", objs, "x"), [])
        self.assertEqual(check_against_objects("## Try next\n\nSet `HELLO_COUNT=7`.\n", objs, "x"), [])
        self.assertEqual(check_against_objects("## Your turn\n\nSet `HELLO_COUNT=3`.\n", objs, "x"), [])

    def test_wrong_numbers_in_diagrams_are_caught(self):
        wrong = {
            check_crash_loop_backoff: [
                mermaid("---", 'title: "CrashLoopBackOff"', "---", "gantt", "    back-off 15 s : w1, 0, 15s"),
                mermaid("---", 'title: "CrashLoopBackOff"', "---", "gantt", "    back-off 10 s, then run 3 : w1, 0, 10s",
                        "    back-off 25 s, then run 4 : w2, after w1, 25s"),
                mermaid("flowchart LR", '    a["the kubelet restarts it"] --> b["CrashLoopBackOff: waits 10 s … up to 600 s"]'),
            ],
            check_exit_codes: [mermaid("sequenceDiagram", "    I-->>K: SIGKILL: exit code 143 = 128 + 9")],
            check_defaults: [mermaid("flowchart LR", '    w["the kubelet waits the grace period (60 s by default)"]')],
        }
        for rule, texts in wrong.items():
            for text in texts:
                with self.subTest(rule=rule.__name__, text=text[-80:]):
                    self.assertNotEqual(rule(text, FACTS_SHEET), [])
        right = mermaid("---", 'title: "CrashLoopBackOff"', "---", "gantt", "    back-off 10 s, then run 3 : w1, 0, 10s",
                        "    back-off 20 s, then run 4 : w2, after w1, 20s")
        self.assertEqual(check_crash_loop_backoff(right, FACTS_SHEET), [])
        objs = [self.DEPLOYMENT]
        for text in [mermaid("sequenceDiagram", "    Note over K: waits terminationGracePeriodSeconds 7"),
                     mermaid("sequenceDiagram", "    Note over G: drains for HELLO_SHUTDOWN_DELAY=20s")]:
            with self.subTest(manifest=text):
                self.assertNotEqual(check_against_objects(text, objs, "x"), [])
        for text in [mermaid("sequenceDiagram", "    Note over K: waits terminationGracePeriodSeconds 10"),
                     mermaid("sequenceDiagram", "    Note over G: drains for HELLO_SHUTDOWN_DELAY=15s")]:
            with self.subTest(manifest=text):
                self.assertEqual(check_against_objects(text, objs, "x"), [])

    def test_missing_namespace_and_unmarked_output_are_caught(self):
        self.assertNotEqual(check_kubectl_namespace("```sh\nkubectl get pods\n```\n"), [])
        self.assertEqual(check_kubectl_namespace("```sh\nkubectl apply -k k8s/namespace\n```\n"), [])
        self.assertNotEqual(check_illustrative("Output:\n\n```text\nNAME READY\n```\n"), [])
        self.assertEqual(check_illustrative("Illustrative output:\n\n```text\nNAME READY\n```\n"), [])


if __name__ == "__main__":
    unittest.main()
