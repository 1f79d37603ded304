"""The rules the lesson READMEs are held to: statements against the sourced facts sheet, and quotes
against their own manifests. Each rule takes a README's text and returns its problems (empty =
none); test_readme_facts.py runs them on every README, and each lesson's test_lesson.py asks its
own README for the statements that lesson must make.

A wrong number in a lesson is a bug, so the rules check:
- restart back-off statements (first restart at once, 10 s doubling, cap, reset) and the Job
  back-off against the facts sheet, which is parsed, not copied: change a fact there and a README
  that disagrees fails;
- exit codes 130/137/143 against the signal named next to them, and every "128 + N" sum;
- defaults stated as defaults (grace period, backoffLimit, history limits, rolling update,
  completions, concurrencyPolicy) and the reason a given exit code produces;
- GA versions of the Job features the lessons mention;
- values a README quotes from its own manifests (`HELLO_X=...`, `field: value`), the resource
  names its commands use, and `-n hello-demo` on every kubectl command that needs it;
- sample output marked as illustrative; a rollout time that fits the Deployment's strategy; the
  pinned kind and kubectl versions.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "diagrams"))
from diagrams import mermaid_blocks  # noqa: E402  (what `make diagrams` renders is what is checked)
from diagrams import readmes as diagram_readmes  # noqa: E402  (the READMEs it renders)
from lessons import FACTS, K8S, NAMESPACE, REPO, facts, image_env, lesson_dirs, render, walk  # noqa: E402


# ------------------------------------------------------------------------------------- facts
class Facts:
    """Numbers parsed from k8s/checks/facts.md (a parse failure fails the tests)."""

    def __init__(self, text: str):
        flat = " ".join(text.split())

        def grab(pattern: str) -> re.Match:
            match = re.search(pattern, flat)
            if not match:
                raise AssertionError(f"facts.md no longer says /{pattern}/; update the parser")
            return match

        m = grab(r"Restart delay after a container exits: (\d+) s, doubling .*? up to (\d+) s; "
                 r"reset after the container has run (\d+) minutes")
        self.crash_initial, self.crash_max, self.crash_reset_min = map(int, m.groups())
        grab(r"The very first restart happens at once")
        # A probe-killed container: restarted in the same sync, the back-off from the run before
        # (lesson 8 works its timeline out from this; the top README's picture is held to it).
        grab(r"After a failed liveness probe the kubelet kills the container and starts it again in the same sync")
        grab(r"measures from the finish time of the latest container that has exited")
        m = grab(r"`ReduceDefaultCrashLoopBackOffDecay`, alpha since (1\.\d+), off by default: "
                 r"(\d+) s initial, max (\d+) s")
        self.decay_alpha, self.decay_initial, self.decay_max = m.group(1), int(m.group(2)), int(m.group(3))
        m = grab(r"`crashLoopBackOff\.maxContainerRestartPeriod`, (\d+)–(\d+) s\), beta and on by default since (1\.\d+)")
        self.max_period_range = (int(m.group(1)), int(m.group(2)))
        self.max_period_since = m.group(3)
        self.backoff_limit_default = int(grab(r"`backoffLimit` defaults to (\d+)").group(1))
        m = grab(r"Failed-pod backoff for Jobs: (\d+) s, doubling; the docs say capped at (\d+) minutes, "
                 r"current controller source caps it at (\d+) minutes")
        self.job_initial, self.job_cap_docs_min, self.job_cap_source_min = map(int, m.groups())
        self.ga = {"podFailurePolicy": grab(r"`podFailurePolicy` GA in (1\.\d+)").group(1)}
        m = grab(r"`backoffLimitPerIndex` and `successPolicy` GA in (1\.\d+)")
        self.ga.update(backoffLimitPerIndex=m.group(1), successPolicy=m.group(1))
        self.ga["preStop sleep"] = grab(r"preStop `sleep` action: GA in (1\.\d+)").group(1)
        m = grab(r"`completions` and `parallelism` default to (\d+)")
        self.defaults = {"completions": int(m.group(1)), "parallelism": int(m.group(1))}
        m = grab(r"`successfulJobsHistoryLimit` (\d+), `failedJobsHistoryLimit` (\d+)")
        self.defaults.update(successfulJobsHistoryLimit=int(m.group(1)), failedJobsHistoryLimit=int(m.group(2)))
        self.concurrency_default = grab(r"`concurrencyPolicy` (\w+) \(default\)").group(1)
        self.defaults["backoffLimit"] = self.backoff_limit_default
        self.defaults["terminationGracePeriodSeconds"] = int(
            grab(r"`terminationGracePeriodSeconds` \(default (\d+)\)").group(1))
        m = grab(r"maxSurge (\d+) %, maxUnavailable (\d+) %")
        self.rolling_default_pct = {"maxSurge": int(m.group(1)), "maxUnavailable": int(m.group(2))}
        self.exit_signal = {}  # 137 -> ("SIGKILL", 9)
        for code, number, name in re.findall(r"(\d+) = 128 \+ (\d+) \((SIG[A-Z]+)\)", flat):
            if int(code) != 128 + int(number):
                raise AssertionError(f"facts.md arithmetic: {code} = 128 + {number}")
            self.exit_signal[int(code)] = (name, int(number))
        if {c for c in self.exit_signal} != {130, 137, 143}:
            raise AssertionError(f"facts.md exit codes parsed as {self.exit_signal}")
        grab(r"Terminated reasons: `Completed` \(exit 0\), `Error` \(non-zero\), `OOMKilled`")
        m = grab(r"Delay before each restart starts at (\d+) ms and doubles, capped at (\d+) minute")
        self.docker_initial_ms, self.docker_max_ms = int(m.group(1)), int(m.group(2)) * 60_000

    @property
    def crash_sequence(self) -> set[int]:
        values, delay = set(), self.crash_initial
        while delay < self.crash_max:
            values.add(delay)
            delay *= 2
        return values | {self.crash_max}

    @property
    def signal_number(self) -> dict[str, int]:
        return {name: number for name, number in self.exit_signal.values()}


FACTS_SHEET = Facts(FACTS.read_text())

# ----------------------------------------------------------------------------- text helpers
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
DURATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(s|seconds?|min|minutes?)\b")
RANGE = re.compile(r"(\d+)\s*[–-]\s*(\d+)\s*s\b")


def prose(text: str) -> str:
    """The README without fenced blocks (sample output and commands are checked separately)."""
    return FENCE.sub("", text)


# Mermaid lines that only configure the drawing (their numbers are layout, not statements).
DIAGRAM_SETUP = re.compile(r"^\s*(---|config:|\w+:$|dateFormat|axisFormat|tickInterval|todayMarker|displayMode|"
                           r"direction|participant|actor|section|gantt$|flowchart|graph |sequenceDiagram|"
                           r"stateDiagram|end$|%%)")


def diagram_units(text: str) -> list[str]:
    """The statements in the README's ```mermaid diagrams, checked like prose: each line's words
    (labels, notes, edge texts, gantt durations) as one unit, after the diagram's title, so a
    number drawn on a slide is held to the same facts as a number in a sentence."""
    found = []
    for block in mermaid_blocks(text):
        title = re.search(r"^title:\s*\"?(.*?)\"?\s*$", block, re.M)
        lead = f"{title.group(1)}." if title else ""
        for line in block.splitlines():
            if not line.strip() or DIAGRAM_SETUP.match(line) or line.startswith("title:"):
                continue
            words = re.sub(r"<br\s*/?>", " ", line)
            words = re.sub(r"\b[\w-]+(?=[\[({])", " ", words)  # a node's id, right before its shape
            words = re.sub(r"[\[({]+\"|\"[\])}]+|[\[\]{}]|-+>>?|-\.|\.-|==>|[|\"]", " ", words)  # shapes, arrows
            words = re.sub(r"\s:\s", ". ", words)  # a gantt task: label : timing
            found.append(" ".join(f"{lead} {words}".split()))
    return found


def units(text: str) -> list[str]:
    """Paragraphs, list items, table rows and diagram lines, whitespace-flattened: the unit a
    statement lives in."""
    pieces = re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )|\n(?=\|)|\n(?=#)", prose(text))
    return [" ".join(p.split()) for p in pieces if p.strip()] + diagram_units(text)


def sentences(unit: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", unit) if s]


def seconds(value: str, unit: str) -> float:
    return float(value) * (60 if unit.startswith("min") else 1)


def durations(text: str) -> list[float]:
    found = [seconds(v, u) for v, u in DURATION.findall(text)]
    for low, high in RANGE.findall(text):
        found += [float(low), float(high)]
    return found


def section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def without_section(text: str, title: str) -> str:
    return re.sub(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", "", text, flags=re.M | re.S)


# ------------------------------------------------------------------------------------ rules
def check_crash_loop_backoff(text: str, f: Facts) -> list[str]:
    problems = []
    allowed = f.crash_sequence | {f.crash_reset_min * 60}
    for unit in units(text):
        job = re.search(r"\bJob controller|replacement pod", unit)  # not "the CronJob controller"
        kubelet = ("CrashLoopBackOff" in unit or "restart" in unit.lower()) and re.search(
            r"wait|delay|back-?off|doubling", unit, re.I)
        if job:
            for d in durations(unit):
                ok = d in {f.job_initial * 2**k for k in range(8)} or d in {
                    f.job_cap_docs_min * 60, f.job_cap_source_min * 60}
                if not ok:
                    problems.append(f"Job back-off duration {d:g} s not in facts: {unit[:90]}")
            if re.search(rf"\b{f.job_cap_docs_min} minutes", unit) and "docs" not in unit:
                problems.append(f"Job back-off cap of {f.job_cap_docs_min} minutes must be attributed to the docs")
            if re.search(rf"\b{f.job_cap_source_min} minutes", unit) and "source" not in unit:
                problems.append(f"Job back-off cap of {f.job_cap_source_min} minutes must be attributed to the source")
            first = re.search(r"(\d+)\s*s after the first failure", unit)
            if first and int(first.group(1)) != f.job_initial:
                problems.append(f"Job back-off starts at {f.job_initial} s, README says {first.group(1)} s")
            continue
        if not kubelet or re.search(r"--restart|Docker's", unit):  # Docker's delays: check_docker_restart
            continue
        extra = set()
        if "ReduceDefaultCrashLoopBackOffDecay" in unit:
            extra |= {f.decay_initial, f.decay_max}
            alpha = re.search(r"alpha since (1\.\d+)", unit)
            if not alpha or alpha.group(1) != f.decay_alpha:
                problems.append(f"ReduceDefaultCrashLoopBackOffDecay is alpha since {f.decay_alpha}")
        if "maxContainerRestartPeriod" in unit:
            extra |= set(f.max_period_range)
            if f"since {f.max_period_since}" not in unit:
                problems.append(f"maxContainerRestartPeriod: say 'since {f.max_period_since}'")
            for low, high in RANGE.findall(unit):
                if (int(low), int(high)) != f.max_period_range:
                    problems.append(f"maxContainerRestartPeriod range is {f.max_period_range}")
        for d in durations(unit):
            if d not in allowed | extra:
                problems.append(f"restart back-off duration {d:g} s not in facts: {unit[:90]}")
        if not extra:
            for value, unit_ in re.findall(r"(?:up to|cap(?:ped)? (?:of|at)|doubling to)\s+(?:a cap of\s+)?"
                                           r"(\d+)\s*(s|min|minutes)\b", unit):
                if seconds(value, unit_) != f.crash_max:
                    problems.append(f"restart back-off cap is {f.crash_max} s, README says {value} {unit_}")
        for value, unit_ in re.findall(r"reset[^.]*?(\d+)\s*(s|seconds|min|minutes)\b", unit):
            if seconds(value, unit_) != f.crash_reset_min * 60:
                problems.append(f"back-off resets after {f.crash_reset_min} minutes, README says {value} {unit_}")
        first = re.search(r"first restart[^.]*", unit, re.I)
        if first and (DURATION.search(first.group(0)) or not re.search(r"at once|immediately", first.group(0))):
            problems.append(f"the first restart happens at once: {first.group(0)}")
    return problems


def check_docker_restart(text: str, f: Facts) -> list[str]:
    """Docker's restart delay (--restart=always/on-failure): 100 ms doubling, capped at a minute."""
    problems = []
    allowed_ms, delay = set(), f.docker_initial_ms
    while delay < f.docker_max_ms:
        allowed_ms.add(delay)
        delay *= 2
    for unit in units(text):
        if not (re.search(r"--restart|Docker's", unit) and re.search(r"delay|doubl", unit)):
            continue
        for value in re.findall(r"(?<![\w.])(\d+)\s*ms\b", unit):
            if int(value) not in allowed_ms:
                problems.append(f"Docker's restart delay starts at {f.docker_initial_ms} ms and doubles; README says {value} ms")
        for value, unit_ in re.findall(r"(?:up to|capped at)\s+(?:a\s+)?(\d+|minute)\s*(s|min|minutes?)?\b", unit):
            ms = 60_000 if value == "minute" else int(value) * (60_000 if (unit_ or "").startswith("min") else 1000)
            if ms != f.docker_max_ms:
                problems.append(f"Docker's restart delay is capped at {f.docker_max_ms // 1000} s; README says {value} {unit_}")
    return problems


def check_exit_codes(text: str, f: Facts) -> list[str]:
    problems = []
    numbers = f.signal_number
    for unit in units(text):
        for code, n in re.findall(r"\b(\d{3})\s*=\s*128\s*\+\s*(\d+)", unit) + [
                (b, a) for a, b in re.findall(r"128\s*\+\s*(\d+)\s*=\s*(\d{3})\b", unit)]:
            if int(code) != 128 + int(n):
                problems.append(f"arithmetic: {code} != 128 + {n}")
            elif int(code) in f.exit_signal and f.exit_signal[int(code)][1] != int(n):
                problems.append(f"{code} is 128 + {f.exit_signal[int(code)][1]}")
        for name, n in re.findall(r"\b(SIG[A-Z]+) is (?:signal )?(\d+)", unit):
            if name in numbers and numbers[name] != int(n):
                problems.append(f"{name} is signal {numbers[name]}, README says {n}")
        for sentence in sentences(unit):
            # A code next to signal names must have its own signal among them: first look in its
            # clause (split at ";"), then in the whole sentence.
            for clause in re.split(r";", sentence):
                for m in re.finditer(r"(?<![\w.+])(1[34][037])(?!\w|\.\d)", clause):
                    code = int(m.group(1))
                    if code not in f.exit_signal:
                        continue
                    named = set(re.findall(r"\bSIG[A-Z]+\b", clause)) or set(re.findall(r"\bSIG[A-Z]+\b", sentence))
                    if named and f.exit_signal[code][0] not in named:
                        problems.append(f"exit code {code} is {f.exit_signal[code][0]}, "
                                        f"the text names {sorted(named)}: {sentence[:100]}")
    return problems


def check_reasons(text: str, f: Facts) -> list[str]:
    problems = []
    expected = {"Completed": lambda c: c == "0", "Error": lambda c: c != "0",
                "OOMKilled": lambda c: c == str(next(k for k, v in f.exit_signal.items() if v[0] == "SIGKILL"))}
    flat = " ".join(prose(text).split() + diagram_units(text))
    pairs = re.findall(r"`(Completed|Error|OOMKilled)`(?:\s*\(|,\s*|\s+(?:for|with)\s+)"
                       r"(?:exit(?: code)?\s+)?(\d+|non-zero|any other exit code)", flat)
    pairs += [(r, c) for c, r in re.findall(r"exit code (\d+), reason `(Completed|Error|OOMKilled)`", flat)]
    pairs += re.findall(r"reason `(Completed|Error|OOMKilled)`, exit code (\d+)", flat)
    for reason, code in pairs:
        code = "1" if not code.isdigit() else code  # "non-zero", "any other exit code"
        if not expected[reason](code):
            problems.append(f"reason `{reason}` does not go with exit code {code}")
    return problems


def check_defaults(text: str, f: Facts) -> list[str]:
    problems = []
    for unit in units(text):
        for sentence in sentences(unit):
            if "default" not in sentence:
                continue
            keys = [k for k in f.defaults if k in sentence]
            if re.search(r"grace period", sentence, re.I):
                keys.append("terminationGracePeriodSeconds")
            for key, value in re.findall(r"`(\w+): (\d+)`", sentence):
                if key in f.defaults and int(value) != f.defaults[key] and "default" in sentence:
                    problems.append(f"{key} defaults to {f.defaults[key]}, README says {value}")
            values = {f.defaults[k] for k in keys}
            for clause in re.split(r"[;:()]|, (?=\w+ )", sentence):
                if "default" not in clause or len(values) != 1:
                    continue
                for n in re.findall(r"(?<![\w.+-])(\d+)(?:\s*s\b|\b)(?!\s*%)", clause):
                    if int(n) not in values:
                        problems.append(f"{'/'.join(sorted(set(keys)))} default is {values}, README says {n}: "
                                        f"{clause.strip()[:90]}")
            if re.search(r"maxSurge|maxUnavailable|rolling", sentence):
                for pct in re.findall(r"(\d+)\s*%", sentence):
                    if int(pct) not in set(f.rolling_default_pct.values()):
                        problems.append(f"rolling update defaults are {f.rolling_default_pct}, README says {pct} %")
            if "concurrencyPolicy" in unit or "Forbid" in unit:
                for policy in re.findall(r"[Tt]he default,?\s*`(\w+)`", sentence):
                    if policy != f.concurrency_default:
                        problems.append(f"concurrencyPolicy default is {f.concurrency_default}, README says {policy}")
    return problems


def check_ga_versions(text: str, f: Facts) -> list[str]:
    problems = []
    for unit in units(text):
        for sentence in sentences(unit):
            if not re.search(r"\bGA\b|stable", sentence):
                continue
            for feature, version in f.ga.items():
                if feature in sentence:
                    for stated in re.findall(r"(?:GA|stable)\s+(?:since|in)\s+(?:Kubernetes\s+)?v?(1\.\d+)", sentence):
                        if stated != version:
                            problems.append(f"{feature} is GA in {version}, README says {stated}")
    return problems


def check_against_manifests(text: str, folder: Path) -> list[str]:
    """Values and names a lesson README quotes must be the ones in its folder's manifests."""
    return check_against_objects(text, render(folder), folder.name)


def check_against_objects(text: str, objs: Iterable[dict[str, Any]], lesson: str) -> list[str]:
    """check_against_manifests on rendered objects (LESSON names the folder in the messages)."""
    problems = []
    objs = list(objs)
    pairs = [(k, v) for obj in objs for k, v in walk(obj)]
    keys = {k for k, _ in pairs}
    env = {(e["name"], str(e["value"])) for k, v in pairs if k == "env" for e in v} | set(image_env().items())
    names = {o["metadata"]["name"] for o in objs}
    # "Try next" and "Your turn" ask for changes, so they quote values the manifests do not have yet.
    body = without_section(without_section(text, "Try next"), "Your turn")
    for name, value in re.findall(r"`(HELLO_[A-Z_]+)=([^`\s]+)`", body):
        if (name, value) not in env:
            problems.append(f"{lesson}/README.md quotes {name}={value}; the manifests do not set it")
    quoted = re.findall(r"`(\w+): ([\w./\"-]+)`", body)
    for unit in diagram_units(body):  # a diagram names a field and its value without backticks
        quoted += re.findall(r"\b([a-z]\w+):? (\d+)\b", unit)
        for name, value in re.findall(r"\b(HELLO_[A-Z_]+)=([\w.]+)", unit):
            if (name, value) not in env:
                problems.append(f"{lesson}/README.md draws {name}={value}; the manifests do not set it")
    for key, value in quoted:
        value = value.strip('"')
        if key in keys and not any(k == key and str(v) == value for k, v in pairs):
            problems.append(f"{lesson}/README.md quotes {key}: {value}; the manifests differ")
    for block_lang, block in FENCE.findall(text):
        if block_lang != "sh":
            continue
        for ref in re.findall(r"\b(?:deploy|deployment|job|cronjob)/([a-z0-9-]+)\b", block):
            if ref not in names:
                problems.append(f"{lesson}/README.md runs a command on {ref}, which this lesson does not create")
        for ref in re.findall(r"app\.kubernetes\.io/instance=([a-z0-9-]+)", block):
            if ref not in names:
                problems.append(f"{lesson}/README.md selects instance={ref}, not a resource of this lesson")
        for group in re.findall(r"app\.kubernetes\.io/instance in \(([^)]*)\)", block):
            for ref in group.split(","):
                if ref.strip() not in names:
                    problems.append(f"{lesson}/README.md selects instance {ref}, not a resource of this lesson")
    return problems


# hello-loop's starting line, as the program writes it (count= only when a count is set).
LOOP_STARTING = re.compile(r'INFO starting text="[^"]*" interval=(\S+) (?:count=(\d+) )?shutdown_delay=\S+ '
                           r'signals=(?:handle|ignore) heartbeat_file=(\S+) stall_after=\S+ pid=\d+')


def check_loop_starting_lines(text: str, objs: Iterable[dict[str, Any]], lesson: str) -> list[str]:
    """A sample of hello-loop's starting line shows what the lesson's containers run with: their
    HELLO_INTERVAL and HELLO_COUNT, and the heartbeat file their manifest or else the image sets
    (the binary alone defaults to none; the image does not)."""
    problems = []
    envs = []
    for obj in objs:
        spec = obj.get("spec", {})
        template = spec.get("jobTemplate", {}).get("spec", spec).get("template", {})
        for container in template.get("spec", {}).get("containers", []):
            if container.get("image", "").split(":")[0].endswith("hello-loop"):
                envs.append({**image_env(), **{e["name"]: str(e.get("value", "")) for e in container.get("env", [])}})
    for line in [line for line in text.splitlines() if "INFO starting" in line and "interval=" in line]:
        match = LOOP_STARTING.search(line)
        if not match:
            problems.append(f"{lesson}/README.md: not hello-loop's starting line: {line.strip()[:120]}")
            continue
        interval, count, heartbeat = match.groups()
        if not any(e.get("HELLO_INTERVAL", "2s") == interval and e.get("HELLO_COUNT") == count
                   and e.get("HELLO_HEARTBEAT_FILE", "none") == heartbeat for e in envs):
            problems.append(f"{lesson}/README.md shows hello-loop starting with interval={interval} count={count} "
                            f"heartbeat_file={heartbeat}; its containers run with "
                            + "; ".join(f"interval={e.get('HELLO_INTERVAL', '2s')} count={e.get('HELLO_COUNT')} "
                                        f"heartbeat_file={e.get('HELLO_HEARTBEAT_FILE', 'none')}" for e in envs))
    return problems


def check_kubectl_namespace(text: str) -> list[str]:
    problems = []
    for lang, block in FENCE.findall(text):
        if lang != "sh":
            continue
        for line in block.replace("\\\n", " ").splitlines():
            for cmd in re.findall(r"\bkubectl\s+[^|&;)]*", line):
                if re.match(r"kubectl\s+(apply|delete)\s+-k\b", cmd) or re.match(r"kubectl\s+delete\s+namespace\b", cmd):
                    continue
                if f"-n {NAMESPACE}" not in cmd and f"--namespace {NAMESPACE}" not in cmd:
                    problems.append(f"kubectl without -n {NAMESPACE}: {cmd.strip()}")
    return problems


def check_illustrative(text: str) -> list[str]:
    problems = []
    for match in FENCE.finditer(text):
        if match.group(1) in ("sh", "yaml", "mermaid"):  # commands, manifests and drawings, not output
            continue
        before = [line for line in text[: match.start()].splitlines() if line.strip()][-3:]
        if not re.search(r"illustrative", " ".join(before), re.I):
            problems.append(f"sample output not marked illustrative: {match.group(2)[:60]!r}")
    return problems


def rolling_update(deployment: dict, f: Facts) -> tuple[int, int, int, int]:
    """replicas, maxSurge, maxUnavailable (percentages resolved as the Deployment controller does:
    surge rounds up, unavailable rounds down) and minReadySeconds of a rendered Deployment."""
    spec = deployment["spec"]
    replicas = spec.get("replicas", 1)
    rolling = spec.get("strategy", {}).get("rollingUpdate", {})

    def resolve(key: str, round_up: bool) -> int:
        value = rolling.get(key, f"{f.rolling_default_pct[key]}%")
        if isinstance(value, str) and value.endswith("%"):
            exact = replicas * int(value[:-1]) / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        return int(value)

    return replicas, resolve("maxSurge", True), resolve("maxUnavailable", False), spec.get("minReadySeconds", 0)


def check_rollout_time(text: str, deployment: dict, f: Facts) -> list[str]:
    """A rollout statement must not call it 'about a second', and a stated range must be at least the
    rounds the strategy needs times minReadySeconds (each new pod must stay ready that long)."""
    problems = []
    replicas, surge, unavailable, min_ready = rolling_update(deployment, f)
    rounds = math.ceil(replicas / max(surge + unavailable, 1))
    for unit in units(text):
        for sentence in sentences(unit):
            if not re.search(r"\brollouts?\b", sentence, re.I):
                continue
            if re.search(r"\brollouts?\b[^.;]*\btakes? about a second", sentence, re.I):
                problems.append(f"a rollout is not 'about a second': {sentence[:100]}")
            for low, high in RANGE.findall(sentence):
                if int(low) < rounds * min_ready or int(high) < int(low):
                    problems.append(f"rollout of {replicas} replicas, {rounds} round(s) of minReadySeconds "
                                    f"{min_ready}: at least {rounds * min_ready} s, README says {low}–{high} s")
    return problems


def number_word(n: int) -> str:
    return ["no", "one", "two", "three", "four"][n] if n < 5 else str(n)


LESSON_SECTIONS = ["## Run", "## What you will see", "## Why", "## Try next", "## Your turn"]


def readmes() -> list[Path]:
    return [K8S / "README.md"] + [d / "README.md" for d in lesson_dirs()]


def guides() -> list[Path]:
    """Every other document that states Kubernetes or container facts: the top-level README, the
    programs' reference, the images' and the scripts' how-tos, the host's guide, the contributors'."""
    return [REPO / "README.md", REPO / "crates" / "README.md", REPO / "images" / "README.md",
            K8S / "scripts" / "README.md", K8S / "HOSTING.md", REPO / ".github" / "CONTRIBUTING.md"]


def documents() -> list[Path]:
    """Every document a reader follows links through: each README.md of the repository (as `make
    diagrams` finds them: not in build output, caches or dot-folders), the host's guide and the
    contributors' guide (GitHub shows it from .github/)."""
    return sorted(set(diagram_readmes()) | {K8S / "HOSTING.md", REPO / ".github" / "CONTRIBUTING.md"})


FACT_RULES = [check_crash_loop_backoff, check_docker_restart, check_exit_codes, check_reasons, check_defaults,
              check_ga_versions]


def pinned_versions() -> dict[str, str]:
    """The pins (sh k8s/lib/facts: KIND_VERSION, KUBECTL_VERSION, ...); k8s/versions.env is where the
    kind and kubectl versions are set."""
    return facts()


def check_stated_versions(text: str, pins: dict[str, str]) -> list[str]:
    """Every kind/kubectl version the README states is the pinned one; the kubectl range is the
    pinned minor plus or minus one (kubectl's supported skew)."""
    problems = []
    flat = " ".join(text.split())
    stated = {"KIND_VERSION": re.findall(r"\bkind(?:\]\([^)]*\))?\s+(v\d+\.\d+\.\d+)", flat),
              "KUBECTL_VERSION": re.findall(r"\bkubectl\s+(v\d+\.\d+\.\d+)", flat)}
    for key, versions in stated.items():
        if not versions:
            problems.append(f"README states no {key} (k8s/versions.env: {pins[key]})")
        problems += [f"README says {v}, k8s/versions.env has {key}={pins[key]}" for v in versions if v != pins[key]]
    minor = int(pins["KUBECTL_VERSION"].split(".")[1])
    for low, high in re.findall(r"\bkubectl\s+1\.(\d+)\s*[–-]\s*1\.(\d+)", flat):
        if (int(low), int(high)) != (minor - 1, minor + 1):
            problems.append(f"kubectl range 1.{low}–1.{high}: one minor either side of 1.{minor} is "
                            f"1.{minor - 1}–1.{minor + 1}")
    return problems


def mermaid(*lines: str) -> str:
    """A README snippet holding one ```mermaid diagram of LINES (the tests draw wrong ones)."""
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"


def says(text: str, pattern: str) -> bool:
    """Whether TEXT states PATTERN, whitespace-flattened on both sides (a statement may wrap)."""
    return re.search(" ".join(pattern.split()), " ".join(text.split())) is not None
