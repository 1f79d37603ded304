"""The cluster behind the stand-in kubectl when FAKE_CLUSTER is set (test-flows, the graders).

A cluster state is a folder of API objects as JSON, in the shapes of the Pod, Job, Deployment,
CronJob and Event APIs (`<kind>/<name>.json`, logs in `logs/<pod>`), built by `scenario NAME DIR`
from the states below: for every exercise one where its grader passes and at least two where it
fails. `kubectl ARGS...` answers the reads the graders make (get, logs) from such a folder, with
kubectl's own jsonpath engine (`kubectl annotate --local`, which needs no server) and kubectl's
messages for a missing object. Simulated states, not captured output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NS = "hello-demo"
T0 = "2026-01-01T12:00:00Z"


def meta(name, instance, **extra):
    labels = {"app.kubernetes.io/instance": instance, "app.kubernetes.io/part-of": "hello-k8s"}
    return {"name": name, "namespace": NS, "labels": labels, "creationTimestamp": T0, **extra}


def terminated(code):
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}


def pod(name, instance, phase="Running", exit_code=None, restarts=0, deleting=None, created=T0, log="",
        waiting=None, last_exit=None):
    state = terminated(exit_code) if exit_code is not None else {"running": {"startedAt": created}}
    if waiting:
        state = {"waiting": {"reason": waiting, "message": "back-off restarting failed container"}}
    m = meta(name, instance, creationTimestamp=created)
    if deleting:
        m["deletionTimestamp"] = deleting
    return ("pod", name, {"apiVersion": "v1", "kind": "Pod", "metadata": m,
                          "spec": {"containers": [{"name": "c", "image": "hello"}]},
                          "status": {"phase": phase, "containerStatuses": [
                              {"name": "c", "ready": phase == "Running" and not waiting,
                               "restartCount": restarts, "state": state,
                               "lastState": terminated(last_exit) if last_exit is not None else {}}]}}), (name, log)


def job(name, complete=False, failed_reason=None, succeeded=None, failed=None):
    conditions = []
    if complete:
        conditions.append({"type": "Complete", "status": "True", "reason": "CompletionsReached"})
    if failed_reason:
        conditions.append({"type": "Failed", "status": "True", "reason": failed_reason})
    status = {k: v for k, v in (("succeeded", succeeded), ("failed", failed)) if v is not None}
    if conditions:
        status["conditions"] = conditions
    return ("job", name, {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta(name, name),
                          "spec": {"backoffLimit": 2}, "status": status}), None


def deployment(name, replicas=2, updated=None, ready=None, generation=2, observed=None):
    updated = replicas if updated is None else updated
    ready = replicas if ready is None else ready
    observed = generation if observed is None else observed
    return ("deployment", name, {"apiVersion": "apps/v1", "kind": "Deployment",
                                 "metadata": {**meta(name, name), "generation": generation},
                                 "spec": {"replicas": replicas},
                                 "status": {"observedGeneration": observed, "replicas": replicas,
                                            "updatedReplicas": updated, "readyReplicas": ready,
                                            "availableReplicas": ready}}), None


def cronjob(name, last_success=None):
    status = {"lastSuccessfulTime": last_success} if last_success else {}
    return ("cronjob", name, {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(name, name),
                              "spec": {"schedule": "* * * * *"}, "status": status}), None


def event(pod_name, message, n=0):
    name = f"{pod_name}.{n}"
    return ("event", name, {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": NS},
                            "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": NS},
                            "reason": "Unhealthy", "type": "Warning", "message": message}), None


def starting(signals="handle"):
    return (f'2026-01-01T12:00:00.000000Z  INFO starting text="Hello, World!" interval=1s count=unlimited '
            f"shutdown_delay=0s signals={signals} heartbeat_file=none stall_after=never pid=1\n")


def lines(text, n):
    return "".join(f"{text}\n" for _ in range(n))


HELLO = "Hello, World!"
ONCE_LOG = "INFO starting\n{}\nINFO exiting code=0\n"
DEPLOY_1 = deployment("once-as-deployment", replicas=1, ready=0)
STALL = "Liveness probe failed: unhealthy: heartbeat /heartbeat/hello-loop.heartbeat is 9s old (max 6s)"

SCENARIOS = {
    # 1a: lesson 1's program as a Job that completes.
    "1a-pass": [job("once-as-deployment", complete=True, succeeded=1),
                pod("once-as-deployment-x1", "once-as-deployment", "Succeeded", 0, log=ONCE_LOG.format(HELLO))],
    "1a-deployment-left": [DEPLOY_1, job("once-as-deployment", complete=True, succeeded=1),
                           pod("once-as-deployment-x1", "once-as-deployment", "Succeeded", 0,
                               log=ONCE_LOG.format(HELLO))],
    "1a-no-job": [DEPLOY_1, pod("once-as-deployment-7d9f-q4k2x", "once-as-deployment", "Running", None, restarts=3,
                                log=ONCE_LOG.format(HELLO))],
    # 2a: three pods, three lines.
    "2a-pass": [job("once-as-job", complete=True, succeeded=3)]
    + [pod(f"once-as-job-{i}", "once-as-job", "Succeeded", 0, log=ONCE_LOG.format("Hello, three times!"))
       for i in "abc"],
    "2a-one-pod": [job("once-as-job", complete=True, succeeded=1),
                   pod("once-as-job-a", "once-as-job", "Succeeded", 0, log=ONCE_LOG.format("Hello, three times!"))],
    "2a-old-message": [job("once-as-job", complete=True, succeeded=3)]
    + [pod(f"once-as-job-{i}", "once-as-job", "Succeeded", 0, log=ONCE_LOG.format(HELLO)) for i in "abc"],
    # 3a: a rolled-out new message.
    "3a-pass": [deployment("loop-deployment")]
    + [pod(f"loop-deployment-new{i}", "loop-deployment", log=starting() + lines("Hello, rollout!", 3)) for i in "12"],
    "3a-old-message": [deployment("loop-deployment", generation=1)]
    + [pod(f"loop-deployment-old{i}", "loop-deployment", log=starting() + lines(HELLO, 3)) for i in "12"],
    "3a-mid-rollout": [deployment("loop-deployment", updated=1, ready=2, generation=2, observed=2),
                       pod("loop-deployment-new1", "loop-deployment", log=starting() + lines("Hello, rollout!", 2)),
                       pod("loop-deployment-old1", "loop-deployment", deleting="2026-01-01T12:00:30Z",
                           log=starting("ignore") + lines(HELLO, 9))],
    # 4a: the CronJob's newest run prints the new message.
    "4a-pass": [cronjob("once-cronjob", "2026-01-01T12:02:03Z"),
                pod("once-cronjob-29000001-a", "once-cronjob", "Succeeded", 0, created="2026-01-01T12:01:00Z",
                    log=ONCE_LOG.format("Hello from a CronJob!")),
                pod("once-cronjob-29000002-b", "once-cronjob", "Succeeded", 0, created="2026-01-01T12:02:00Z",
                    log=ONCE_LOG.format("Hello on my schedule!"))],
    "4a-old-message": [cronjob("once-cronjob", "2026-01-01T12:02:03Z"),
                       pod("once-cronjob-29000002-b", "once-cronjob", "Succeeded", 0, created="2026-01-01T12:02:00Z",
                           log=ONCE_LOG.format("Hello from a CronJob!")),
                       pod("once-cronjob-29000001-a", "once-cronjob", "Succeeded", 0, created="2026-01-01T12:01:00Z",
                           log=ONCE_LOG.format("Hello on my schedule!"))],
    "4a-no-run-yet": [cronjob("once-cronjob")],
    # 5a: fail at once on exit code 1.
    "5a-pass": [job("failing-job", failed_reason="PodFailurePolicy", failed=1),
                pod("failing-job-a", "failing-job", "Failed", 1)],
    "5a-retried": [job("failing-job", failed_reason="BackoffLimitExceeded", failed=3)]
    + [pod(f"failing-job-{i}", "failing-job", "Failed", 1) for i in "abc"],
    "5a-exit-42": [job("failing-job", failed_reason="PodFailurePolicy", failed=1),
                   pod("failing-job-a", "failing-job", "Failed", 42)],
    # 5b: exit code 1 is retried until backoffLimit.
    "5b-pass": [job("failing-job-policy", failed_reason="BackoffLimitExceeded", failed=3)]
    + [pod(f"failing-job-policy-{i}", "failing-job-policy", "Failed", 1) for i in "abc"],
    "5b-still-42": [job("failing-job-policy", failed_reason="PodFailurePolicy", failed=1),
                    pod("failing-job-policy-a", "failing-job-policy", "Failed", 42)],
    "5b-default-limit": [job("failing-job-policy", failed_reason="BackoffLimitExceeded", failed=7)]
    + [pod(f"failing-job-policy-{i}", "failing-job-policy", "Failed", 1) for i in "abcdefg"],
    # 6a: SIGTERM handled again.
    "6a-pass": [deployment("grace-ignore-sigterm", replicas=1),
                pod("grace-ignore-sigterm-new", "grace-ignore-sigterm", log=starting() + lines(HELLO, 4))],
    "6a-still-ignoring": [deployment("grace-ignore-sigterm", replicas=1),
                          pod("grace-ignore-sigterm-old", "grace-ignore-sigterm", log=starting("ignore") + lines(HELLO, 4))],
    "6a-stuck-terminating": [deployment("grace-ignore-sigterm", replicas=1),
                             pod("grace-ignore-sigterm-new", "grace-ignore-sigterm", log=starting() + lines(HELLO, 4)),
                             pod("grace-ignore-sigterm-old", "grace-ignore-sigterm", deleting="2026-01-01T12:00:30Z",
                                 log=starting("ignore") + lines(HELLO, 40))],
    # 7a: three lines of a new message, then exit 0.
    "7a-pass": [job("finite-loop", complete=True, succeeded=1),
                pod("finite-loop-a", "finite-loop", "Succeeded", 0, log=starting() + lines("Counting!", 3))],
    "7a-five-lines": [job("finite-loop", complete=True, succeeded=1),
                      pod("finite-loop-a", "finite-loop", "Succeeded", 0, log=starting() + lines("Counting!", 5))],
    "7a-not-found": [],
    # 7b: the finite loop under a Deployment crash-loops after exiting 0.
    "7b-pass": [deployment("finite-loop-deployment", replicas=1, ready=0),
                pod("finite-loop-deployment-x", "finite-loop-deployment", restarts=3, waiting="CrashLoopBackOff",
                    last_exit=0, log=starting() + lines(HELLO, 5))],
    "7b-runs-forever": [deployment("finite-loop-deployment", replicas=1),
                        pod("finite-loop-deployment-x", "finite-loop-deployment", log=starting() + lines(HELLO, 30))],
    "7b-exit-1": [deployment("finite-loop-deployment", replicas=1, ready=0),
                  pod("finite-loop-deployment-x", "finite-loop-deployment", restarts=2, waiting="CrashLoopBackOff",
                      last_exit=1, log="hello-loop: invalid value\n")],
    # 8a: healthy for 40 s.
    "8a-pass": [deployment("liveness-heartbeat", replicas=1),
                pod("liveness-heartbeat-a", "liveness-heartbeat", log=starting() + lines(HELLO, 21))],
    "8a-restarted": [deployment("liveness-heartbeat", replicas=1),
                     pod("liveness-heartbeat-a", "liveness-heartbeat", restarts=1, log=starting() + lines(HELLO, 21)),
                     event("liveness-heartbeat-a", STALL)],
    "8a-stalled": [deployment("liveness-heartbeat", replicas=1, ready=0),
                   pod("liveness-heartbeat-a", "liveness-heartbeat", log=starting() + lines(HELLO, 15)),
                   event("liveness-heartbeat-a", STALL)],
}


def write_scenario(name: str, folder: Path) -> None:
    for (kind, obj_name, obj), log in SCENARIOS[name]:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        (folder / kind / f"{obj_name}.json").write_text(json.dumps(obj))
        if log is not None:
            (folder / "logs").mkdir(exist_ok=True)
            (folder / "logs" / log[0]).write_text(log[1])


# ------------------------------------------------------------------------------ kubectl reads
KINDS = {"pod": "pods", "pods": "pods", "job": "jobs.batch", "deployment": "deployments.apps",
         "cronjob": "cronjobs.batch", "events": "events"}


def real_kubectl() -> str:
    here = str(Path(__file__).resolve().parent / "fake-bin")
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(entry) / "kubectl"
        if entry.rstrip("/") != here and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("fake_cluster: no real kubectl on PATH for the jsonpath engine")


def jsonpath(obj: dict, template: str) -> str:
    result = subprocess.run([real_kubectl(), "annotate", "--local", "-f", "-", "fake-", "-o", f"jsonpath={template}"],
                            input=json.dumps(obj), capture_output=True, text=True, check=False,
                            env={**os.environ, "KUBECONFIG": os.devnull})
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(1)
    return result.stdout


def option(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1:]
    return None


def objects(folder: Path, kind: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((folder / kind).glob("*.json"))]


def selected(folder: Path, kind: str, args: list[str]) -> list[dict]:
    items = objects(folder, kind)
    label = option(args, "-l")
    if label:
        key, value = label.split("=", 1)
        items = [o for o in items if o["metadata"].get("labels", {}).get(key) == value]
    for cond in (option(args, "--field-selector") or "").split(","):
        if cond.startswith("status.phase="):
            items = [o for o in items if o["status"]["phase"] == cond.split("=", 1)[1]]
        elif cond.startswith("involvedObject.name="):
            items = [o for o in items if o["involvedObject"]["name"] == cond.split("=", 1)[1]]
        elif cond.startswith("reason="):
            items = [o for o in items if o["reason"] == cond.split("=", 1)[1]]
    if option(args, "--sort-by") == ".metadata.creationTimestamp":
        items.sort(key=lambda o: o["metadata"].get("creationTimestamp", ""))
    return items


def get(folder: Path, args: list[str]) -> int:
    kind = args[1]
    kind = "event" if kind == "events" else kind.rstrip("s") if kind != "pods" else "pod"
    output = option(args, "-o") or ""
    name = args[2] if len(args) > 2 and not args[2].startswith("-") else None
    if name:
        path = folder / kind / f"{name}.json"
        if not path.exists():
            if "--ignore-not-found" in args:
                return 0
            sys.stderr.write(f'Error from server (NotFound): {KINDS[kind]} "{name}" not found\n')
            return 1
        obj = json.loads(path.read_text())
        if output == "name":
            print(f"{KINDS[kind].split('.')[0].rstrip('s') if kind != 'pod' else 'pod'}/{name}")
            return 0
        sys.stdout.write(jsonpath(obj, output[len("jsonpath="):]))
        return 0
    return each(selected(folder, kind, args), output)


def each(items: list[dict], output: str) -> int:
    """A list answer: the per-item part of a `{range .items[*]}…{end}` template for every item."""
    template = output[len("jsonpath="):]
    head, tail = "{range .items[*]}", "{end}"
    if not (template.startswith(head) and template.endswith(tail)):
        sys.stderr.write(f"fake_cluster: list template not supported: {template}\n")
        return 1
    for obj in items:
        sys.stdout.write(jsonpath(obj, template[len(head):-len(tail)]))
    return 0


def logs(folder: Path, args: list[str]) -> int:
    if option(args, "-l"):
        names = [o["metadata"]["name"] for o in selected(folder, "pod", args)]
        if not names:
            print("No resources found in hello-demo namespace.", file=sys.stderr)
        for name in names:
            sys.stdout.write((folder / "logs" / name).read_text())
        return 0
    path = folder / "logs" / args[1]
    if not (folder / "pod" / f"{args[1]}.json").exists():
        sys.stderr.write(f'Error from server (NotFound): pods "{args[1]}" not found\n')
        return 1
    sys.stdout.write(path.read_text() if path.exists() else "")
    return 0


def main(argv: list[str]) -> int:
    if argv[0] == "scenario":
        write_scenario(argv[1], Path(argv[2]))
        return 0
    if argv[0] == "list":
        print("\n".join(SCENARIOS))
        return 0
    if argv[0] == "answer-list":  # answer-list FILE KUBECTL_ARGS...: a recorded `get -o json` List
        return each(json.loads(Path(argv[1]).read_text())["items"], option(argv[2:], "-o") or "")
    folder = Path(os.environ["FAKE_CLUSTER"])
    if argv[0] == "get":
        return get(folder, argv)
    if argv[0] == "logs":
        return logs(folder, argv)
    sys.stderr.write(f"fake_cluster: the graders only read; no answer for: kubectl {' '.join(argv)}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
