"""The one stand-in for what cannot run here: a simulated cluster behind a stand-in kubectl, and
stand-ins for kind, minikube, docker and make, each written from the real tool's documented output.

The scripts under test find these through k8s/tests/fake-bin (each file there is a two-line shim:
`exec python3 sim.py TOOL "$@"`). Every call is appended to $FAKE_STATE/calls ("TOOL ARGS").

The cluster: `kubectl apply -k DIR` renders DIR with the real kubectl (so the objects' specs are the
manifests') and overlays the simulated state kept in the lesson's folder: DIR/sim/play.yaml for a
lesson; for an exercise's start or solution folder, wherever it was copied to, exercise-X/sim/pass.yaml
when it renders what the reference solution renders (the learner's start folder with the solution put
in), else exercise-X/sim/start.yaml if there is one (FAKE_STATES="k8s/NN-name=broken" picks another
file). The state is the cluster once the apply has settled: the applied workloads' other pods go. A state file lists objects in a compact form (see `expand`): their status, the pods
and their logs, events. An object may have `versions`: the Nth read of it answers the Nth version
(the last repeats), so the scripts' wait loops really loop. Reads are answered with kubectl's own
jsonpath engine (`kubectl annotate --local`, no server) and kubectl's messages for what is missing.
`sim.py seed STATE_FILE` puts a state's objects in the cluster without an apply (the graders' tests).
A state may say `later:`, what the cluster is once another folder of its lesson has been applied
after it, one entry per apply (lesson 9 applies its client/ twice, each time through a `kubectl rollout
restart`, which the simulation only acknowledges: the entry holds the pods the restart left).
A state may say `now:` (RFC 3339), the moment a grader looks at it: the tests pass it to the grader as
HELLO_NOW, the wall clock k8s/lib/flow.sh judges the cluster's timestamps with.

Simulated states, not captured output; the real answers come from a cluster in `make e2e`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FAKE_BIN = HERE / "fake-bin"
ROOT = HERE.parent.parent
NS = "hello-demo"
T0 = "2026-01-01T12:00:00Z"
STATE = Path(os.environ.get("FAKE_STATE", "/nonexistent"))


def log_call(tool: str, args: list[str]) -> None:
    if not STATE.is_dir():
        sys.exit(f"sim: FAKE_STATE must name a folder (got {STATE})")
    with (STATE / "calls").open("a") as calls:
        calls.write(" ".join([tool, *args]) + "\n")


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


# ----------------------------------------------------------------------------- the state on disk
def store() -> dict:
    path = STATE / "cluster.json"
    return json.loads(path.read_text()) if path.exists() else {"objects": {}, "reads": {}}


def save(cluster: dict) -> None:
    part = STATE / f"cluster.json.{os.getpid()}"
    part.write_text(json.dumps(cluster))
    part.replace(STATE / "cluster.json")  # atomic: a reader never sees half a file


@contextlib.contextmanager
def locked():
    """One kubectl at a time reads and changes the cluster (a lesson's background watch and log
    stream run beside its foreground commands). The calls that wait (a watch, logs -f, a pod's
    deletion) hold the lock only while they read or change it, never while they wait."""
    with (STATE / "cluster.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


# ----------------------------------------------------------------------------- compact states
def labels(instance: str | None, name: str | None = None) -> dict:
    found = {"app.kubernetes.io/part-of": "hello-k8s"}
    if instance is not None:  # `of: null`: a pod without the label (a learner's Job that never set it)
        found["app.kubernetes.io/instance"] = instance
    if name:
        found["app.kubernetes.io/name"] = name
    return found


def terminated(code: int, **extra) -> dict:
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error", **extra}}


def pod_object(spec: dict) -> dict:
    """{pod: NAME, of: INSTANCE, job: JOB, phase, exit, restarts, waiting, last_exit, state, lastState,
    deleting, created, grace, qos, log, previous_log, terminate: {seconds, exit, reason, log}}. `of` is its
    app.kubernetes.io/instance label (`of: null`: none); `job` the batch.kubernetes.io/job-name label
    the Job controller puts on its pods; `deleting` the pod's deletionTimestamp, the end of its grace
    period (`grace`, default 30 s)."""
    name, instance = spec["pod"], spec.get("of", spec["pod"])
    phase = spec.get("phase", "Running")
    if "state" in spec:
        state = spec["state"]
    elif spec.get("waiting"):
        state = {"waiting": {"reason": spec["waiting"], "message": "back-off restarting failed container"}}
    elif spec.get("exit") is not None:
        state = terminated(spec["exit"])
    else:
        state = {"running": {"startedAt": spec.get("created", T0)}}
    last = spec.get("lastState", terminated(spec["last_exit"]) if spec.get("last_exit") is not None else {})
    meta = {"name": name, "namespace": NS, "labels": labels(instance), "creationTimestamp": spec.get("created", T0)}
    if spec.get("job"):
        meta["labels"]["batch.kubernetes.io/job-name"] = spec["job"]
    if spec.get("deleting"):  # the end of its grace period, as the API server sets it on a delete
        meta["deletionTimestamp"] = spec["deleting"]
        meta["deletionGracePeriodSeconds"] = spec.get("grace", 30)
    # `qos`: status.qosClass, which the API server sets from the containers' requests and limits.
    qos = {"qosClass": spec["qos"]} if spec.get("qos") else {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"terminationGracePeriodSeconds": spec.get("grace", 30),
                     "containers": [{"name": "c", "image": "hello"}]},
            "status": {"phase": phase, **qos, "containerStatuses": [
                {"name": "c", "ready": phase == "Running" and "running" in state,
                 "restartCount": spec.get("restarts", 0), "state": state, "lastState": last}]},
            "x-sim": {k: spec[k] for k in ("log", "previous_log", "terminate") if k in spec}}


def job_status(spec: dict) -> dict:
    conditions = []
    if spec.get("complete"):
        conditions.append({"type": "Complete", "status": "True", "reason": "CompletionsReached"})
    if spec.get("failed_reason"):
        conditions.append({"type": "Failed", "status": "True", "reason": spec["failed_reason"]})
    status = {k: spec[k] for k in ("succeeded", "failed", "active") if k in spec}
    if spec.get("started"):  # status.startTime, status.completionTime (lesson 9's restart under load)
        status["startTime"] = spec["started"]
    if spec.get("completed"):
        status["completionTime"] = spec["completed"]
    if conditions:
        status["conditions"] = conditions
    return status


def expand(spec: dict) -> dict:
    """A compact object of a state file: its kind, name and what the simulation adds (status). A
    workload may carry `spec:` (say, a Job's parallelism, a Deployment's probes): taken as it is for a
    seeded object; an applied object's spec is always its rendered manifest's (see add_state)."""
    if "pod" in spec:
        return pod_object(spec)
    extra = {"spec": spec["spec"]} if "spec" in spec else {}
    if "job" in spec:
        return {"kind": "Job", "name": spec["job"], "status": job_status(spec), **extra}
    if "deployment" in spec:
        replicas = spec.get("replicas", 1)
        generation = spec.get("generation", 1)
        return {"kind": "Deployment", "name": spec["deployment"], "metadata": {"generation": generation},
                "status": {"observedGeneration": spec.get("observed", generation), "replicas": replicas,
                           "updatedReplicas": spec.get("updated", replicas),
                           "readyReplicas": spec.get("ready", replicas),
                           "availableReplicas": spec.get("ready", replicas)}, **extra}
    if "cronjob" in spec:
        status = {"lastSuccessfulTime": spec["last_success"]} if spec.get("last_success") else {}
        return {"kind": "CronJob", "name": spec["cronjob"], "status": status, **extra}
    if "endpointslice" in spec:  # {endpointslice: NAME, service: SVC, endpoints: [{pod: POD, ready: BOOL}]}
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": spec["endpointslice"], "namespace": NS,
                             "labels": {"kubernetes.io/service-name": spec["service"]}},
                "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                "endpoints": [{"addresses": [f"10.244.0.{i + 10}"],
                               "conditions": {"ready": e.get("ready", True), "serving": e.get("ready", True),
                                              "terminating": False},
                               "targetRef": {"kind": "Pod", "name": e["pod"], "namespace": NS}}
                              for i, e in enumerate(spec.get("endpoints", []))]}
    if "event" in spec:
        name = f"{spec['event']}.{zlib.crc32(spec['message'].encode()):08x}"
        return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": NS},
                "involvedObject": {"kind": "Pod", "name": spec["event"], "namespace": NS},
                "reason": spec.get("reason", "Unhealthy"), "type": "Warning", "message": spec["message"]}
    raise SystemExit(f"sim: unknown object in a state file: {spec}")


def merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def full(obj_or_extra: dict) -> dict:
    """A complete API object from an expanded compact one (workloads not in the manifests)."""
    if "apiVersion" in obj_or_extra:
        return obj_or_extra
    kind, name = obj_or_extra["kind"], obj_or_extra["name"]
    api = {"Job": "batch/v1", "CronJob": "batch/v1", "Deployment": "apps/v1"}[kind]
    base = {"apiVersion": api, "kind": kind,
            "metadata": {"name": name, "namespace": NS, "labels": labels(name), "creationTimestamp": T0},
            "spec": {"backoffLimit": 6} if kind == "Job" else
            {"replicas": obj_or_extra.get("status", {}).get("replicas", 1)} if kind == "Deployment" else {}}
    return merge(base, {k: v for k, v in obj_or_extra.items() if k not in ("kind", "name")})


def state_entries(path: Path) -> list[list[dict]]:
    """Each object of a state file as its versions (a list of one for an object that never changes)."""
    doc = yaml.safe_load(path.read_text()) or {}
    return spec_entries(doc.get("objects", []))


def spec_entries(specs: list[dict]) -> list[list[dict]]:
    found = []
    for spec in specs:
        versions = spec.pop("versions", None)
        first = expand(spec)
        if versions:
            found.append([expand({**spec, **v}) for v in versions])
        else:
            found.append([first])
    return found


def add_state(cluster: dict, path: Path, rendered: list[dict]) -> None:
    add_entries(cluster, state_entries(path), rendered)


def add_entries(cluster: dict, entries: list[list[dict]], rendered: list[dict]) -> None:
    by_key = {key(o["kind"], o["metadata"]["name"]): o for o in rendered}
    for k, obj in by_key.items():
        cluster["objects"][k] = [obj]
    for versions in entries:
        first = versions[0]
        kind = first.get("kind")
        name = first.get("name") or first["metadata"]["name"]
        k = key(kind, name)
        base = by_key.get(k)
        rendered = base is not None
        if base is None:
            base = full(first) if "apiVersion" not in first else first
        cluster["objects"][k] = [merge(base, strip(v, rendered)) if "apiVersion" not in v else v for v in versions]


def strip(extra: dict, rendered: bool = False) -> dict:
    """What a state adds to an object: everything but its kind and name, and for an object the apply
    rendered, not its spec either (the manifest is what was applied)."""
    return {k: v for k, v in extra.items() if k not in ("kind", "name") and not (rendered and k == "spec")}


# An exercise's folder, wherever it sits: the repository's, a classroom's copy, make e2e's walk copy.
EXERCISE_FOLDER = re.compile(r"(?:^|/)(k8s/\d\d-[^/]+/exercise-[a-z])/(start|solution)$")


def canonical(objects: list[dict]) -> list[str]:
    return sorted(json.dumps(o, sort_keys=True) for o in objects)


def state_for(folder: str, rendered: list[dict] | None = None) -> Path | None:
    """The state file an apply of FOLDER brings: FAKE_STATES's pick; for a lesson its sim/play.yaml;
    for an exercise's start or solution folder (by the tail of its path, so a copy counts too) the
    exercise's sim/pass.yaml when the folder renders what the reference solution renders (a learner's
    start folder with the solution in it), else its sim/start.yaml if there is one."""
    for override in env("FAKE_STATES").split():
        where, _, name = override.partition("=")
        if where.rstrip("/") == folder.rstrip("/"):
            return (ROOT / folder / "sim" / f"{name}.yaml") if (ROOT / folder / "sim").is_dir() else \
                (ROOT / folder).parent / "sim" / f"{name}.yaml"
    exercise = EXERCISE_FOLDER.search(folder.rstrip("/"))
    if exercise:
        home = ROOT / exercise.group(1)
        solution = rendered if rendered is not None else render(folder)
        if canonical(solution) == canonical(render(str(home / "solution"))):
            candidate = home / "sim" / "pass.yaml"
        else:
            candidate = home / "sim" / "start.yaml"
    else:
        candidate = ROOT / folder / "sim" / "play.yaml"
    return candidate if candidate.exists() else None


# ----------------------------------------------------------------------------- kubectl
def real_kubectl() -> str:
    for entry in env("PATH").split(os.pathsep):
        candidate = Path(entry) / "kubectl"
        if Path(entry).resolve() != FAKE_BIN and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("sim: no real kubectl on PATH (for kustomize and the jsonpath engine)")


def render(folder: str) -> list[dict]:
    result = subprocess.run([real_kubectl(), "kustomize", folder], capture_output=True, text=True,
                            cwd=os.getcwd())
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(1)
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def jsonpath(objects: list[dict], template: str) -> str:
    """kubectl's jsonpath engine on each object in turn (`annotate --local`, no server)."""
    if not objects:
        return ""
    clean = [{k: v for k, v in o.items() if k != "x-sim"} for o in objects]
    doc = clean[0] if len(clean) == 1 else {"apiVersion": "v1", "kind": "List", "items": clean}
    result = subprocess.run([real_kubectl(), "annotate", "--local", "-f", "-", "sim-", "-o", f"jsonpath={template}"],
                            input=json.dumps(doc), capture_output=True, text=True,
                            env={**os.environ, "KUBECONFIG": os.devnull})
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(1)
    return result.stdout


KINDS = {"pod": "Pod", "pods": "Pod", "job": "Job", "jobs": "Job", "deployment": "Deployment",
         "deployments": "Deployment", "deploy": "Deployment", "cronjob": "CronJob", "cronjobs": "CronJob",
         "event": "Event", "events": "Event", "endpointslice": "EndpointSlice", "endpointslices": "EndpointSlice"}
RESOURCE = {"Pod": "pods", "Job": "jobs.batch", "Deployment": "deployments.apps", "CronJob": "cronjobs.batch",
            "Event": "events", "EndpointSlice": "endpointslices.discovery.k8s.io"}


def option(args: list[str], *flags: str) -> str | None:
    for i, arg in enumerate(args):
        for flag in flags:
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(flag + "="):
                return arg[len(flag) + 1:]
    return None


def positional(args: list[str]) -> list[str]:
    """The arguments that are not flags or flag values."""
    with_value = {"-l", "-o", "--field-selector", "--sort-by", "--timeout", "--for", "--tail", "-k", "-f"}
    found, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in with_value and arg != "-f":
            skip = True
        elif not arg.startswith("-"):
            found.append(arg)
    return found


def current(cluster: dict, k: str, count: bool = True) -> dict:
    versions = cluster["objects"][k]
    n = cluster["reads"].get(k, 0)
    if count:
        cluster["reads"][k] = n + 1
    return versions[min(n, len(versions) - 1)]


def final(cluster: dict, k: str) -> dict:
    return cluster["objects"][k][-1]


def matches(obj: dict, selector: str | None, fields: str | None) -> bool:
    lab = obj.get("metadata", {}).get("labels", {})
    if selector:
        m = re.fullmatch(r"([\w./-]+) in \(([^)]*)\)", selector)
        if m:
            if lab.get(m.group(1)) not in [v.strip() for v in m.group(2).split(",")]:
                return False
        else:
            for term in selector.split(","):
                k, _, v = term.partition("=")
                if lab.get(k) != v:
                    return False
    for cond in (fields or "").split(","):
        if not cond:
            continue
        path, _, want = cond.partition("=")
        value = {"status.phase": lambda o: o.get("status", {}).get("phase"),
                 "involvedObject.name": lambda o: o.get("involvedObject", {}).get("name"),
                 "reason": lambda o: o.get("reason"),
                 "metadata.name": lambda o: o["metadata"]["name"]}[path](obj)
        if value != want:
            return False
    return True


def listed(cluster: dict, kind: str, args: list[str]) -> list[dict]:
    found = [current(cluster, k) for k in sorted(cluster["objects"]) if k.startswith(kind + "/")]
    found = [o for o in found if matches(o, option(args, "-l"), option(args, "--field-selector"))]
    if option(args, "--sort-by") == ".metadata.creationTimestamp":
        found.sort(key=lambda o: o["metadata"].get("creationTimestamp", ""))
    return found


def not_found(kind: str, name: str) -> int:
    sys.stderr.write(f'Error from server (NotFound): {RESOURCE[kind]} "{name}" not found\n')
    return 1


def print_output(objects: list[dict], output: str, single: bool) -> int:
    if output.startswith("jsonpath="):
        template = output[len("jsonpath="):]
        if not single:
            head, tail = "{range .items[*]}", "{end}"
            if not (template.startswith(head) and template.endswith(tail)):
                if "{.items[0]" in template and not objects:
                    sys.stderr.write('error: error executing jsonpath "%s": Error executing template: array index '
                                     'out of bounds: index 0, length 0.\n' % template)
                    return 1
                sys.stderr.write(f"sim: list template not supported: {template}\n")
                return 1
            template = template[len(head):-len(tail)]
        sys.stdout.write(jsonpath(objects, template))
        return 0
    if output == "name":
        for o in objects:
            plural, _, group = RESOURCE[o["kind"]].partition(".")
            print(f"{plural.removesuffix('s')}{'.' + group if group else ''}/{o['metadata']['name']}")
        return 0
    if output in ("", "wide"):  # a table, as a person reads it (simulated; nothing asserts it)
        if not objects:
            sys.stderr.write(f"No resources found in {NS} namespace.\n")
        for o in objects:
            status = o.get("status", {})
            print(f"{o['kind'].lower()}/{o['metadata']['name']}  {status.get('phase', '')}".rstrip())
        return 0
    sys.stderr.write(f"sim: output {output} not supported\n")
    return 1


def cmd_get(cluster: dict, args: list[str]) -> int:
    words = positional(args)
    output = option(args, "-o") or ""
    if not words:
        return 1
    kinds = [KINDS[w] for w in words[0].split(",")]
    if "--watch" in args:
        return watch(cluster, words[1], output)
    if len(words) > 1:
        kind, name = kinds[0], words[1]
        k = key(kind, name)
        if k not in cluster["objects"]:
            if "--ignore-not-found" in args:
                return 0
            return not_found(kind, name)
        return print_output([current(cluster, k)], output, True)
    objects = [o for kind in kinds for o in listed(cluster, kind, args)]
    return print_output(objects, output, len(kinds) == 1 and False)


def pod_log(cluster: dict, name: str, previous: bool = False) -> str | None:
    k = key("Pod", name)
    if k not in cluster["objects"]:
        return None
    sim = current(cluster, k, count=False).get("x-sim", {})
    return sim.get("previous_log" if previous else "log", "")


def cmd_logs(cluster: dict, args: list[str]) -> int:
    selector = option(args, "-l")
    if selector:
        pods = listed(cluster, "Pod", args)
        if not pods:
            sys.stderr.write(f"No resources found in {NS} namespace.\n")
        for pod in pods:
            sys.stdout.write(pod.get("x-sim", {}).get("log", ""))
        return 0
    (name,) = positional(args)
    if name.startswith("job/"):  # kubectl picks one pod of the Job, by the label its controller sets
        pods = listed(cluster, "Pod", ["-l", f"batch.kubernetes.io/job-name={name[4:]}"])
        if not pods:
            return not_found("Job", name[4:])
        name = pods[0]["metadata"]["name"]
    log = pod_log(cluster, name, "--previous" in args)
    if log is None:
        return not_found("Pod", name)
    tail = option(args, "--tail")
    if tail is not None and tail.isdigit():  # --tail=N: the last N lines (-1, the default for a pod: all)
        log = "".join(log.splitlines(keepends=True)[-int(tail):]) if int(tail) else ""
    sys.stdout.write(log)
    if "-f" in args:  # follow: the rest arrives when the container ends (its pod is deleted)
        sys.stdout.flush()
        wait_deleted(name)
        sys.stdout.write(current(cluster, key("Pod", name), count=False).get("x-sim", {}).get(
            "terminate", {}).get("log", ""))
    return 0


def wait_deleted(name: str, limit: float = 60) -> None:
    end = time.time() + limit
    while not (STATE / f"deleted-{name}").exists() and time.time() < end:
        time.sleep(0.05)


def watch(cluster: dict, name: str, output: str) -> int:
    k = key("Pod", name)
    if k not in cluster["objects"]:
        return not_found("Pod", name)
    with (STATE / "watch-pids").open("a") as pids:
        pids.write(f"{os.getpid()}\n")
    pod = current(cluster, k, count=False)
    template = output[len("jsonpath="):].replace("{.object.", "{.")

    def event(kind: str, obj: dict) -> None:
        sys.stdout.write(jsonpath([obj], template.replace("{.type}", '{"%s"}' % kind)))
        sys.stdout.flush()

    event("ADDED", pod)
    wait_deleted(name)
    end = pod.get("x-sim", {}).get("terminate", {})
    gone = merge(pod, {"status": {"containerStatuses": [
        {**pod["status"]["containerStatuses"][0],
         "state": terminated(end.get("exit", 0), reason=end.get("reason", "Completed"))}]}})
    event("MODIFIED", gone)
    event("DELETED", gone)
    time.sleep(60)  # a real watch does not end by itself
    return 0


def owned(pod: dict, rendered: list[dict]) -> bool:
    """Whether a pod belongs to one of the rendered workloads: by its app.kubernetes.io/instance label,
    or, for a Job, by the batch.kubernetes.io/job-name label the Job controller sets."""
    pod_labels = pod["metadata"].get("labels", {})
    instances = {o["metadata"].get("labels", {}).get("app.kubernetes.io/instance") for o in rendered} - {None}
    jobs = {o["metadata"]["name"] for o in rendered if o["kind"] == "Job"}
    return pod_labels.get("app.kubernetes.io/instance") in instances or pod_labels.get("batch.kubernetes.io/job-name") in jobs


def cmd_delete(cluster: dict, args: list[str]) -> int:
    folder = option(args, "-k")
    if folder:
        for obj in render(folder):
            cluster["objects"].pop(key(obj["kind"], obj["metadata"]["name"]), None)
        for k in [k for k in cluster["objects"] if k.startswith("Pod/")]:
            if owned(final(cluster, k), render(folder)):
                cluster["objects"].pop(k)
        print(f"(simulated) deleted the objects of {folder}")
        return 0
    words = positional(args)
    if words[:1] == ["pod"]:
        name = words[1]
        k = key("Pod", name)
        if k not in cluster["objects"]:
            return not_found("Pod", name)
        end = current(cluster, k, count=False).get("x-sim", {}).get("terminate", {})
        time.sleep(float(end.get("seconds", 1)))
        with locked():
            cluster = store()
            cluster["objects"].pop(k, None)
            save(cluster)
        (STATE / f"deleted-{name}").touch()
        print(f'pod "{name}" deleted')
        return 0
    sys.stderr.write(f"sim: delete {' '.join(args)} is not simulated\n")
    return 1


def cmd_apply(cluster: dict, args: list[str]) -> int:
    folder = option(args, "-k")
    if not folder:
        sys.stderr.write("sim: only apply -k is simulated\n")
        return 1
    rendered = render(folder)
    with (STATE / "applied").open("a") as applied:
        applied.write(folder.rstrip("/") + "\n")
    state = state_for(folder.rstrip("/"), rendered)
    later = next_later(cluster, folder.rstrip("/")) if not state else None
    if state:
        keep_later(cluster, state)
    if later is not None:
        apply_later(cluster, later, rendered)
    elif state:
        cluster.setdefault("errors", []).extend((yaml.safe_load(state.read_text()) or {}).get("errors", []))
        add_state(cluster, state, [o for o in rendered if o["kind"] not in ("Namespace", "NetworkPolicy")])
        # The state is the cluster once this apply has settled: the pods of the workloads it applied
        # are the state's (a rollout replaced the others, a replaced Job took its pods with it).
        kept = {key(v[0]["kind"], v[0].get("name") or v[0]["metadata"]["name"]) for v in state_entries(state)}
        jobs = [full(v[0]) for v in state_entries(state) if v[0].get("kind") == "Job"]  # a Job the state lists
        for k in [k for k in cluster["objects"] if k.startswith("Pod/") and k not in kept]:
            if owned(final(cluster, k), rendered + jobs):
                cluster["objects"].pop(k)
    else:
        for obj in rendered:
            cluster["objects"][key(obj["kind"], obj["metadata"]["name"])] = [obj]
    for obj in rendered:
        print(f"{obj['kind'].lower()}/{obj['metadata']['name']} configured (simulated)")
    return 0


# A state's `later`: what the cluster is once another folder has been applied after it, by that folder's
# path in the state's lesson folder, one entry per apply (lesson 9 applies its client/ twice, each run
# during a restart):   later: {client: [{objects: [...]}, {objects: [...]}]}
def lesson_of(state: Path) -> Path:
    return next(p for p in state.parents if re.fullmatch(r"\d\d-[a-z0-9-]+", p.name))


def keep_later(cluster: dict, state: Path) -> None:
    later = (yaml.safe_load(state.read_text()) or {}).get("later") or {}
    home = lesson_of(state).relative_to(ROOT)
    cluster["later"] = {str(home / name): entries for name, entries in later.items()}


def next_later(cluster: dict, folder: str) -> list[dict] | None:
    for where, entries in cluster.get("later", {}).items():
        if (folder == where or folder.endswith("/" + where)) and entries:
            return entries.pop(0).get("objects", [])
    return None


def apply_later(cluster: dict, specs: list[dict], rendered: list[dict]) -> None:
    """One `later` entry: its objects over the rendered ones; the pods it lists replace the other pods
    of the same workloads (a restart replaced them)."""
    entries = spec_entries([dict(spec) for spec in specs])
    add_entries(cluster, entries, [o for o in rendered if o["kind"] not in ("Namespace", "NetworkPolicy")])
    pods = [v[0] for v in entries if v[0].get("kind") == "Pod"]
    kept = {key("Pod", p["metadata"]["name"]) for p in pods}
    for k in [k for k in cluster["objects"] if k.startswith("Pod/") and k not in kept]:
        if owned(final(cluster, k), pods):
            cluster["objects"].pop(k)


def cmd_patch(cluster: dict, args: list[str]) -> int:
    """`kubectl patch KIND NAME --patch-file FILE`: the real kubectl's strategic merge (--local) on
    every version of the object."""
    kind, name = positional(args)[:2]
    patch = option(args, "--patch-file")
    k = key(KINDS[kind], name)
    if k not in cluster["objects"]:
        return not_found(KINDS[kind], name)
    patched = []
    for version in cluster["objects"][k]:
        result = subprocess.run([real_kubectl(), "patch", "--local", "-f", "-", "--patch-file", patch, "-o", "json"],
                                input=json.dumps(version), capture_output=True, text=True,
                                env={**os.environ, "KUBECONFIG": os.devnull})
        if result.returncode:
            sys.stderr.write(result.stderr)
            return 1
        patched.append(json.loads(result.stdout))
    cluster["objects"][k] = patched
    print(f"{RESOURCE[KINDS[kind]].split('.')[0]}/{name} patched (simulated)")
    return 0


def condition_holds(obj: dict, condition: str) -> bool:
    for cond in obj.get("status", {}).get("conditions", []):
        if cond.get("type") == condition and cond.get("status") == "True":
            return True
    return False


def cmd_wait(cluster: dict, args: list[str]) -> int:
    waiting_for = option(args, "--for") or ""
    if waiting_for == "delete":  # the pods are gone once their owners are (cmd_delete)
        return 0
    condition = waiting_for.removeprefix("condition=")
    (target,) = positional(args)
    kind, _, name = target.partition("/")
    k = key(KINDS[kind], name)
    if k not in cluster["objects"]:
        return not_found(KINDS[kind], name)
    if condition_holds(final(cluster, k), condition):
        print(f"{RESOURCE[KINDS[kind]]}/{name} condition met")
        return 0
    sys.stderr.write(f"error: timed out waiting for the condition on {RESOURCE[KINDS[kind]].split('.')[0]}/{name}\n")
    return 1


def cmd_rollout(cluster: dict, args: list[str]) -> int:
    (action, target) = positional(args)[:2]
    name = target.partition("/")[2]
    k = key("Deployment", name)
    if k not in cluster["objects"]:
        return not_found("Deployment", name)
    if action == "restart":  # the new pods are the state's (a `later` entry), as after any apply
        print(f"deployment.apps/{name} restarted")
        return 0
    status = final(cluster, k).get("status", {})
    want = final(cluster, k).get("spec", {}).get("replicas", 1)
    if status.get("availableReplicas") == want and status.get("updatedReplicas") == want:
        print(f'deployment "{name}" successfully rolled out')
        return 0
    sys.stderr.write(f'error: deployment "{name}" exceeded its progress deadline\n')
    return 1


def kubectl(args: list[str]) -> int:
    # Global flags first: --context and -n (the scripts always name both).
    rest, i = [], 0
    while i < len(args):
        if args[i] in ("--context", "-n", "--namespace"):
            i += 2
            continue
        rest.append(args[i])
        i += 1
    line = " ".join(rest)
    if line == "config get-contexts -o name":
        print(env("FAKE_CONTEXTS", "kind-hello\nhello").replace("\\n", "\n"))
        return 0
    if line == "config current-context":
        print(env("FAKE_KUBECTL_CONTEXT", "kind-hello"))
        return 0
    if line == "version --client":
        print(f"Client Version: {env('FAKE_KUBECTL_VERSION', 'v1.36.1')}\nKustomize Version: v5.7.1")
        return 0
    if line == "get --raw /version":
        minor = env("FAKE_K8S_MINOR", "36")
        print(json.dumps({"major": "1", "minor": minor, "gitVersion": f"v1.{minor}.1"}))
        return 0
    if line.startswith("get nodes -o wide"):
        print("NAME                  STATUS   ROLES           VERSION   (simulated)\nhello-control-plane   Ready    control-plane   v1.36.1")
        return 0
    if line == "get nodes -o jsonpath={.items[0].status.nodeInfo.architecture}":
        print(env("FAKE_NODE_ARCH", "amd64"))
        return 0
    verbs = {"get": cmd_get, "logs": cmd_logs, "delete": cmd_delete, "apply": cmd_apply, "wait": cmd_wait,
             "rollout": cmd_rollout, "patch": cmd_patch}
    if not rest or rest[0] not in verbs:
        sys.stderr.write(f"sim: no answer for: kubectl {' '.join(args)}\n")
        return 1
    waits = "--watch" in rest or (rest[0] == "logs" and "-f" in rest) or rest[:2] == ["delete", "pod"]
    with locked():
        cluster = store()
        for error in cluster.get("errors", []):  # a state's simulated API errors: what the reads answer
            if error["match"] in line:
                sys.stderr.write(error["message"] + "\n")
                return int(error.get("status", 1))
        if not waits:
            rc = verbs[rest[0]](cluster, rest[1:])
            save(cluster)  # reads count too: the Nth read of an object answers its Nth version
            return rc
    return verbs[rest[0]](cluster, rest[1:])  # on the snapshot; it changes the cluster under the lock itself


# ----------------------------------------------------------------------------- kind, minikube, make
def kind(args: list[str]) -> int:
    created = STATE / "kind-created"
    if args[:1] == ["version"]:
        print(f"kind {env('FAKE_KIND_VERSION', 'v0.32.0')} go1.25.1 linux/amd64")
    elif args[:2] == ["get", "clusters"]:
        if created.exists() or env("FAKE_KIND_CLUSTERS"):
            print(env("FAKE_KIND_CLUSTERS", "hello"))
        else:
            print("No kind clusters found.", file=sys.stderr)
    elif args[:2] == ["create", "cluster"]:
        config = option(args, "--config")
        if config is not None and not Path(config).is_file():  # kind reads its config first
            print(f"ERROR: failed to create cluster: error reading file: open {config}: no such file or directory",
                  file=sys.stderr)
            return 1
        created.touch()
    elif args[:2] == ["export", "kubeconfig"]:
        pass
    elif args[:2] == ["load", "image-archive"]:
        if not Path(args[2]).is_file():
            print(f"ERROR: no such archive {args[2]}", file=sys.stderr)
            return 1
    elif args[:2] == ["delete", "cluster"]:
        created.unlink(missing_ok=True)
    else:
        print(f"sim: no answer for: kind {' '.join(args)}", file=sys.stderr)
        return 1
    return 0


def minikube(args: list[str]) -> int:
    line = " ".join(args)
    if line == "version --short":
        print("v1.37.0")
    elif line == "config get driver":
        print("docker")
    elif re.fullmatch(r"-p \S+ status --format \{\{\.Host\}\}", line):
        if (STATE / "minikube-started").exists() or env("FAKE_MINIKUBE_RUNNING") == "1":
            print("Running")
            return 0
        print(f'Profile "{args[1]}" not found. Run "minikube profile list" to view all profiles.')
        return 85
    elif re.fullmatch(r"-p \S+ start .*", line):
        (STATE / "minikube-started").touch()
    elif re.fullmatch(r"-p \S+ image (load \S+|ls)", line):
        pass
    elif re.fullmatch(r"-p \S+ delete", line):
        (STATE / "minikube-started").unlink(missing_ok=True)
    else:
        print(f"sim: no answer for: minikube {line}", file=sys.stderr)
        return 1
    return 0


def podman(args: list[str]) -> int:
    """`podman info` as the doctor asks it: FAKE_PODMAN_ROOTLESS=true for a rootless Podman. (Not in
    fake-bin: a test that wants a podman puts a shim for it on PATH.)"""
    if args == ["info", "--format", "{{.Host.Security.Rootless}}"]:
        print(env("FAKE_PODMAN_ROOTLESS", "false"))
        return 0
    print(f"sim: no answer for: podman {' '.join(args)}", file=sys.stderr)
    return 1


def make(args: list[str]) -> int:
    if args == ["--version"]:
        print(env("FAKE_MAKE_VERSION", "GNU Make 4.4.1"))
        return 0
    if args == ["images"]:
        return 0
    print(f"sim: only 'make images' and 'make --version' are stood in for, got: {args}", file=sys.stderr)
    return 1


# ----------------------------------------------------------------------------- docker
def docker(args: list[str]) -> int:
    """`docker` as the doctor and the loader ask it: FAKE_DOCKER_DOWN=1 (no engine), FAKE_DOCKER_HANG=1
    (an engine that never answers), FAKE_DOCKER_HANG=ignore-term (a docker that ignores SIGTERM and
    sleeps 8 s: only SIGKILL ends it early), FAKE_DOCKER_STORE=containerd, FAKE_DOCKER_PROXY (the engine's
    proxy), FAKE_DOCKER_ROOT (its data dir), FAKE_DOCKER_SECURITY (its SecurityOptions as the Go template
    prints them: "[name=seccomp,profile=builtin name=rootless name=cgroupns]" for rootless Docker),
    FAKE_DOCKER_NO_IMAGES=1, FAKE_DOCKER_REGISTRY=1. The fields are docker info's (Engine API
    SystemInfo); the values are made up."""
    if env("FAKE_DOCKER_HANG") == "1":
        os.execvp("sleep", ["sleep", "60"])
    if env("FAKE_DOCKER_HANG") == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(8)
        return 1
    if env("FAKE_DOCKER_DOWN") == "1":
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
              file=sys.stderr)
        return 1
    head = " ".join(args[:2])
    if head == "info --format":
        if env("FAKE_DOCKER_STORE") == "containerd":
            driver, status = "overlayfs", "[[driver-type io.containerd.snapshotter.v1]]"
        else:
            driver, status = "overlay2", "[[Backing Filesystem extfs] [Supports d_type true]]"
        proxy = env("FAKE_DOCKER_PROXY")
        print("\n".join(["server=29.1.3", "arch=x86_64", "osname=Ubuntu 24.04 LTS", f"driver={driver}",
                         f"driverstatus={status}", f"root={env('FAKE_DOCKER_ROOT', '/var/lib/docker')}",
                         f"httpproxy={proxy}", f"httpsproxy={proxy}", "noproxy=", "mem=8326701056",
                         f"security={env('FAKE_DOCKER_SECURITY', '[name=seccomp,profile=builtin name=cgroupns]')}"]))
    elif args[:1] == ["info"]:
        print("fake docker info")
    elif head == "manifest inspect":
        if env("FAKE_DOCKER_REGISTRY") != "1":
            print("failed to configure transport: error pinging v2 registry: dial tcp: lookup "
                  "registry-1.docker.io: no such host", file=sys.stderr)
            return 1
        # The shape of `docker manifest inspect -v` for a multi-platform image.
        sizes = {"amd64": (100000000, 23000000), "arm64": (200000000, 1000000)}
        print(json.dumps([{"Ref": f"docker.io/kindest/node@sha256:00{a}",
                           "Descriptor": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                          "digest": f"sha256:00{a}", "size": 1234,
                                          "platform": {"architecture": a, "os": "linux"}},
                           "OCIManifest": {"schemaVersion": 2,
                                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                                      "digest": f"sha256:c0{a}", "size": 5678},
                                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                                       "digest": f"sha256:{n}{a}", "size": s}
                                                      for n, s in zip(("a1", "b2"), sizes[a])]}}
                          for a in ("amd64", "arm64")], indent=8))
    elif head == "version --format":
        print(env("FAKE_DOCKER_ARCH", "amd64"))
    elif head == "save --help":
        print("      --platform stringArray   Save only the given platform(s)")
    elif head == "image inspect":
        if env("FAKE_DOCKER_NO_IMAGES") == "1":
            print(f"Error response from daemon: No such image: {args[-1]}", file=sys.stderr)
            return 1
        print("sha256:0123 linux/amd64")
    elif head == "load -i":
        if not Path(args[2]).is_file():
            print(f"open {args[2]}: no such file or directory", file=sys.stderr)
            return 1
        print(f"Loaded image: fake-loaded:{Path(args[2]).stem}")
    elif args[:1] == ["save"]:
        return docker_save(args[1:])
    else:
        print(f"sim: no answer for: docker {' '.join(args)}", file=sys.stderr)
        return 1
    return 0


def docker_save(args: list[str]) -> int:
    """The layout `docker save` (20.10, classic store) writes: manifest.json naming the config and one
    layer.tar per layer, plus the legacy repositories file. Empty layer, amd64 config."""
    import io
    import tarfile

    out = option(args, "-o")
    ref = [a for a in positional(args) if a != "linux/amd64"][-1]
    digest = "0123456789abcdef" * 4
    layer = io.BytesIO()
    tarfile.open(fileobj=layer, mode="w").close()
    repo, _, tag = ref.rpartition(":")
    files = {f"{digest}/layer.tar": layer.getvalue(),
             f"{digest}.json": json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode(),
             "manifest.json": json.dumps([{"Config": f"{digest}.json", "RepoTags": [ref],
                                           "Layers": [f"{digest}/layer.tar"]}]).encode(),
             "repositories": json.dumps({repo: {tag: digest}}).encode()}
    with tarfile.open(out, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return 0


# ----------------------------------------------------------------------------- entry
def seed(path: Path) -> int:
    STATE.mkdir(parents=True, exist_ok=True)
    cluster = store()
    cluster.setdefault("errors", []).extend((yaml.safe_load(path.read_text()) or {}).get("errors", []))
    for versions in state_entries(path):
        first = versions[0]
        name = first.get("name") or first["metadata"]["name"]
        cluster["objects"][key(first["kind"], name)] = [full(v) for v in versions]
    save(cluster)
    return 0


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    if tool == "seed":
        return seed(Path(args[0]))
    log_call(tool, args)
    tools = {"kubectl": kubectl, "kind": kind, "minikube": minikube, "make": make, "docker": docker, "podman": podman}
    try:
        return tools[tool](args)
    except BrokenPipeError:  # a reader that stopped reading (| head): a graceful end, as for the real tools
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
