"""Tests for the lesson manifests, run by `make check-k8s`.

They check the rendered output of every kustomization (what `kubectl apply -k` sends), so they
see exactly what a cluster would get: the Pod Security Standard "restricted" rule by rule, the
extra rules this project sets (read-only root, UID 65532, requests and limits, labels, pull
policy), image tags equal to the workspace version, the layout of every lesson and exercise
folder, and the names the lessons' and exercises' scripts look at. Lessons and exercises are found
by looking at the folders: no lesson is named here (what one lesson must hold is asked by its own
k8s/NN-name/test_lesson.py). The last class breaks a good pod spec on purpose to show each PSS
rule check can fail.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import unittest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import (  # noqa: E402
    COMPONENT, EXERCISE_COMPONENT, K8S, LESSON_COMPONENT, NAMESPACE, PUBLISHED, all_containers, exercises,
    kustomization_dirs, lesson_dirs, lesson_exercises, lesson_parts, load_yaml_docs, manifest_files, names,
    pod_template, render,
    repository_owner, solution_dirs, split_image, start_dirs, walk, workspace_version,
)

IMAGES = {"hello-once", "hello-loop"}
UID = 65532
MAX_MEMORY_LIMIT_MI = 64  # "a few MiB": the programs need far less; this catches a stray 1Gi

# ---------------------------------------------------------------------------------------------
# Pod Security Standards, as rules. Each function returns a list of violations (empty = pass).
# Baseline rules first (restricted includes them), then the restricted ones. Source: the
# Kubernetes "Pod Security Standards" page (restricted profile); see k8s/checks/facts.md.
# ---------------------------------------------------------------------------------------------
RESTRICTED_VOLUME_TYPES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
    "persistentVolumeClaim", "projected", "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def pss_host_namespaces(spec: dict[str, Any]) -> list[str]:
    return [f"{k} is true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]


def pss_host_process(spec: dict[str, Any]) -> list[str]:
    found = []
    for ctx in [spec.get("securityContext") or {}] + [c.get("securityContext") or {} for c in all_containers(spec)]:
        if (ctx.get("windowsOptions") or {}).get("hostProcess"):
            found.append("windowsOptions.hostProcess is true")
    return found


def pss_privileged(spec: dict[str, Any]) -> list[str]:
    return [f"{c['name']}: privileged" for c in all_containers(spec)
            if (c.get("securityContext") or {}).get("privileged")]


def pss_host_ports(spec: dict[str, Any]) -> list[str]:
    return [f"{c['name']}: hostPort {p['hostPort']}" for c in all_containers(spec)
            for p in c.get("ports") or [] if p.get("hostPort")]


def pss_volume_types(spec: dict[str, Any]) -> list[str]:
    found = []
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            found.append(f"volume {volume['name']}: type {sorted(kinds - RESTRICTED_VOLUME_TYPES)}")
    return found


def pss_apparmor(spec: dict[str, Any], annotations: dict[str, str]) -> list[str]:
    found = [f"annotation {k}={v}" for k, v in annotations.items()
             if k.startswith("container.apparmor.security.beta.kubernetes.io/")
             and v not in ("runtime/default",) and not v.startswith("localhost/")]
    for ctx in [spec.get("securityContext") or {}] + [c.get("securityContext") or {} for c in all_containers(spec)]:
        profile = (ctx.get("appArmorProfile") or {}).get("type")
        if profile not in (None, "RuntimeDefault", "Localhost"):
            found.append(f"appArmorProfile.type {profile}")
    return found


def pss_selinux(spec: dict[str, Any]) -> list[str]:
    found = []
    for ctx in [spec.get("securityContext") or {}] + [c.get("securityContext") or {} for c in all_containers(spec)]:
        options = ctx.get("seLinuxOptions") or {}
        if options.get("type") not in SELINUX_TYPES or options.get("user") or options.get("role"):
            found.append(f"seLinuxOptions {options}")
    return found


def pss_proc_mount(spec: dict[str, Any]) -> list[str]:
    return [f"{c['name']}: procMount {c['securityContext']['procMount']}" for c in all_containers(spec)
            if (c.get("securityContext") or {}).get("procMount", "Default") != "Default"]


def pss_sysctls(spec: dict[str, Any]) -> list[str]:
    return [f"sysctl {s['name']}" for s in (spec.get("securityContext") or {}).get("sysctls") or []
            if s["name"] not in SAFE_SYSCTLS]


def pss_allow_privilege_escalation(spec: dict[str, Any]) -> list[str]:
    return [f"{c['name']}: allowPrivilegeEscalation is not false" for c in all_containers(spec)
            if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False]


def pss_run_as_non_root(spec: dict[str, Any]) -> list[str]:
    pod = (spec.get("securityContext") or {}).get("runAsNonRoot")
    found = []
    for c in all_containers(spec):
        own = (c.get("securityContext") or {}).get("runAsNonRoot")
        if own is False or (own is None and pod is not True):
            found.append(f"{c['name']}: runAsNonRoot is not true")
    return found


def pss_run_as_user(spec: dict[str, Any]) -> list[str]:
    found = []
    for ctx in [spec.get("securityContext") or {}] + [c.get("securityContext") or {} for c in all_containers(spec)]:
        if ctx.get("runAsUser") == 0:
            found.append("runAsUser is 0")
    return found


def pss_seccomp(spec: dict[str, Any]) -> list[str]:
    allowed = ("RuntimeDefault", "Localhost")
    pod = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    found = [] if pod in (None, *allowed) else [f"pod seccompProfile {pod}"]
    for c in all_containers(spec):
        own = (((c.get("securityContext") or {}).get("seccompProfile")) or {}).get("type")
        effective = own or pod
        if effective not in allowed:
            found.append(f"{c['name']}: seccompProfile {effective}")
    return found


def pss_capabilities(spec: dict[str, Any]) -> list[str]:
    found = []
    for c in all_containers(spec):
        caps = (c.get("securityContext") or {}).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{c['name']}: capabilities.drop lacks ALL")
        extra = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
        if extra:
            found.append(f"{c['name']}: capabilities.add {sorted(extra)}")
    return found


PSS_RULES = [
    pss_host_process, pss_host_namespaces, pss_privileged, pss_host_ports, pss_volume_types,
    pss_selinux, pss_proc_mount, pss_sysctls, pss_allow_privilege_escalation,
    pss_run_as_non_root, pss_run_as_user, pss_seccomp, pss_capabilities,
]


def pss_violations(template: dict[str, Any]) -> list[str]:
    spec = template["spec"]
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    found = pss_apparmor(spec, annotations)
    for rule in PSS_RULES:
        found += rule(spec)
    return found


def parse_mi(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?)?", str(quantity))
    if not match:
        raise AssertionError(f"unparsed memory quantity {quantity!r}")
    return float(match.group(1)) * units.get(match.group(2) or "", 1 / 2**20)


def rendered_workloads():
    """(folder, object, pod template) for every workload in every rendered kustomization."""
    for folder in kustomization_dirs():
        for obj in render(folder):
            template = pod_template(obj)
            if template is not None:
                yield folder, obj, template


def where(folder: Path, obj: dict[str, Any]) -> str:
    return f"{folder.relative_to(K8S.parent)}: {obj['kind']}/{obj['metadata']['name']}"


def workload_names(folder: Path) -> set[str]:
    """The names of the workloads a folder renders: the app.kubernetes.io/instance of their pods."""
    return {o["metadata"]["name"] for o in render(folder) if pod_template(o) is not None}


def with_parts(folder: Path, of: Path) -> tuple[set[tuple[str, str]], set[str]]:
    """(names, workload names) of FOLDER and of the parts of lesson OF (lesson_parts): what a lesson's
    or an exercise's scripts may look at."""
    found, workloads = set(names(folder)), set(workload_names(folder))
    for part in lesson_parts(of):
        found |= names(part)
        workloads |= workload_names(part)
    return found, workloads


def canonical(folder: Path) -> list[str]:
    """What a folder renders, in a form that compares equal exactly when the objects are equal."""
    return sorted(json.dumps(o, sort_keys=True) for o in render(folder))


# What the lessons' and exercises' scripts look at, read from their text (k8s/lib/flow.sh defines the
# functions). The conditions take the object's name first (an instance: the workload's name), except
# cond_absent (KIND NAME, which must not exist) and the ones about one pod (a variable, not a name).
CALL = re.compile(r"(?<![\w-])(cond_\w+|crashloop_seen|running_pod)[ \t]+((?:\"[^\"]*\"|'[^']*'|[^\s;|&)]+)"
                  r"(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|[^\s;|&)]+))?)")
ARGUMENT = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s;|&)]+")
REFERENCE = re.compile(r"(?<![\w./-])(deploy|deployment|job|cronjob)/([a-z0-9][a-z0-9-]*)")
GET = re.compile(r"\bget[ \t]+(deployment|job|cronjob)[ \t]+([a-z0-9][a-z0-9-]*)")
SELECTOR = re.compile(r"app\.kubernetes\.io/instance=([a-z0-9][a-z0-9-]*)")
KINDS = {"deploy": "Deployment", "deployment": "Deployment", "job": "Job", "cronjob": "CronJob"}
COND_KIND = {"cond_job_complete": "Job", "cond_job_count": "Job", "cond_job_failed_with": "Job",
             "cond_failjob_rule": "Job", "cond_rolled_out": "Deployment", "cond_probes": "Deployment",
             "cond_cron_succeeded": "CronJob", "cond_http_probe": "Deployment", "cond_drain_fits": "Deployment",
             "cond_shutdown_delay_at_least": "Deployment", "cond_ready_endpoints": "Service",
             "cond_client_reported": "Job", "cond_client_failed_at_most": "Job", "cond_restart_during": "Job"}
POD_ARGUMENT = {"cond_restarted", "cond_event"}


def script_text(path: Path) -> str:
    """A sh file without its comment lines, continuation lines joined."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).replace("\\\n", " ")


def looked_at(path: Path) -> tuple[set[tuple[str, str]], set[str], set[tuple[str, str]]]:
    """(kind, name) of the objects a lesson.sh or check.sh names with their kind; the instances it
    names without one; and the (kind, name) it says must be absent."""
    typed, instances, absent = set(), set(), set()
    text = script_text(path)
    for function, arguments in CALL.findall(text):
        args = [a.strip("\"'") for a in ARGUMENT.findall(arguments)]
        if function == "cond_absent":
            absent.add((KINDS.get(args[0].lower(), args[0]), args[1]))
        elif function == "cond_field":  # cond_field KIND NAME FIELD WANT
            typed.add((KINDS.get(args[0].lower(), args[0]), args[1]))
        elif args[0].startswith("job/"):  # a Job's pods, by the Job controller's label: REFERENCE has it
            continue
        elif function not in POD_ARGUMENT and "$" not in args[0]:
            if function in COND_KIND:
                typed.add((COND_KIND[function], args[0]))
            else:
                instances.add(args[0])
    for kind, name in REFERENCE.findall(text) + GET.findall(text):
        typed.add((KINDS[kind], name))
    instances |= set(SELECTOR.findall(text))
    return typed, instances, absent


class LayoutTest(unittest.TestCase):
    def test_each_lesson_folder_is_complete(self):
        for folder in lesson_dirs():
            with self.subTest(folder=folder.name):
                for part in ("README.md", "kustomization.yaml", "lesson.sh", "sim/play.yaml"):
                    self.assertTrue((folder / part).is_file(), f"{folder.name}/{part}")
                self.assertTrue(any(p.name != "kustomization.yaml" for p in folder.glob("*.yaml")), "a manifest")
                self.assertTrue(workload_names(folder), "a lesson runs something")
                self.assertTrue(lesson_exercises(folder), "an exercise (exercise-X/check.sh)")

    def test_every_exercise_folder_has_a_grader(self):
        # exercises() goes by check.sh; an exercise-X folder without one would be silently left out.
        for folder in lesson_dirs():
            for part in sorted(folder.glob("exercise*")):
                with self.subTest(folder=str(part.relative_to(K8S))):
                    self.assertRegex(part.name, r"^exercise-[a-z]$")
                    self.assertTrue((part / "check.sh").is_file(), "check.sh")

    def test_top_kustomization_applies_the_namespace_then_lessons_in_order(self):
        # Not necessarily every lesson folder: a copy renders the same names as its original, so it
        # cannot be listed beside it (and kustomize cannot glob, so the list is written out).
        (doc,) = load_yaml_docs(K8S / "kustomization.yaml")
        self.assertEqual(doc["resources"][0], "namespace")
        listed = doc["resources"][1:]
        self.assertTrue(listed, "at least one lesson")
        self.assertEqual(sorted(set(listed)), listed, "each lesson once, in the order of their folders")
        for name in listed:
            self.assertIn(K8S / name, lesson_dirs(), f"{name} is a lesson folder (k8s/NN-name)")

    def test_the_aggregate_renders_exactly_its_folders(self):
        (doc,) = load_yaml_docs(K8S / "kustomization.yaml")
        owner: dict[tuple[str, str], str] = {}
        for name in doc["resources"]:
            for key in names(K8S / name):
                with self.subTest(folder=name, object=key):
                    self.assertNotIn(key, owner, f"{key} is rendered by {owner.get(key)} too")
                owner[key] = name
        self.assertEqual(names(K8S), set(owner))
        # `kubectl apply -k k8s` applies every lesson: each folder is listed, or is a copy of one that is.
        for folder in lesson_dirs():
            with self.subTest(folder=folder.name):
                self.assertLessEqual(names(folder), set(owner), "list the lesson in k8s/kustomization.yaml")
        # The namespace folder: the namespace everything lands in, and the policy that denies all traffic.
        self.assertEqual(names(K8S / "namespace"), {("Namespace", NAMESPACE), ("NetworkPolicy", "deny-all")})

    def test_every_lesson_uses_the_shared_component(self):
        for folder in lesson_dirs() + [K8S / "namespace"]:
            with self.subTest(folder=folder.name):
                (doc,) = load_yaml_docs(folder / "kustomization.yaml")
                self.assertEqual(doc.get("components"), [LESSON_COMPONENT])
                self.assertNotIn("namespace", doc, "the namespace is set once, in the component")
                self.assertNotIn("images", doc, "the image tag is set once, in the component")

    def test_lesson_scripts_look_at_what_the_lesson_creates(self):
        for folder in lesson_dirs():
            typed, instances, absent = looked_at(folder / "lesson.sh")
            found, workloads = with_parts(folder, folder)
            with self.subTest(folder=folder.name):
                self.assertTrue(typed | instances, "lesson.sh looks at something")
                self.assertLessEqual(typed, found)
                self.assertLessEqual(instances, workloads)
                self.assertFalse(absent & names(folder))


class ExerciseTest(unittest.TestCase):
    """Every exercise-X folder: start/ is the lesson as it is, solution/ is start/ done, check.sh grades
    objects the solution creates."""

    def test_every_exercise_has_start_solution_and_grader(self):
        for exercise, folder in exercises().items():
            for part in ("start/kustomization.yaml", "solution/kustomization.yaml", "check.sh"):
                with self.subTest(exercise=exercise, part=part):
                    self.assertTrue((folder / part).is_file(), f"{folder.relative_to(K8S)}/{part}")

    def test_start_and_solution_use_the_shared_component(self):
        for folder in start_dirs() + solution_dirs():
            with self.subTest(folder=str(folder.relative_to(K8S))):
                self.assertIn(folder, kustomization_dirs(), "render, schemas, checkov and the pod rules see it")
                (doc,) = load_yaml_docs(folder / "kustomization.yaml")
                self.assertEqual(doc.get("components"), [EXERCISE_COMPONENT])
                self.assertNotIn("namespace", doc)
                self.assertNotIn("images", doc)

    def test_start_is_the_lesson_as_it_is(self):
        # The learner starts from what the lesson ran: some of its objects, each one unchanged.
        for folder in start_dirs():
            lesson = render(folder.parent.parent)
            with self.subTest(folder=str(folder.relative_to(K8S))):
                self.assertTrue(render(folder), "a start folder renders something")
                for obj in render(folder):
                    self.assertIn(obj, lesson, f"{obj['kind']}/{obj['metadata']['name']} differs from the lesson's")

    def test_solution_makes_a_change(self):
        for exercise, folder in exercises().items():
            with self.subTest(exercise=exercise):
                self.assertNotEqual(canonical(folder / "solution"), canonical(folder / "start"),
                                    "the solution renders what the start folder does")
                self.assertTrue(workload_names(folder / "solution"), "a solution runs something")

    def test_the_grader_grades_what_the_solution_creates(self):
        for exercise, folder in exercises().items():
            typed, instances, absent = looked_at(folder / "check.sh")
            solution = folder / "solution"
            found, workloads = with_parts(solution, folder.parent)
            with self.subTest(exercise=exercise):
                self.assertTrue(typed | instances, "check.sh grades something")
                self.assertLessEqual(typed, found)
                self.assertLessEqual(instances, workloads)
                self.assertFalse(absent & names(solution), "what check.sh wants gone, the solution leaves out")

    def test_the_script_reader_sees_every_kind_of_reference(self):
        # looked_at() on a made-up check.sh: each way a script names an object is found.
        import tempfile

        script = "\n".join([
            "# cond_job_complete not-this-one (a comment)",
            'settle() { wait_for "x" --for=condition=Complete job/a-job --timeout=9s; }',
            "grade() {",
            '  verify "it" "hint: kubectl -n hello-demo rollout status deploy/a-deployment" \\',
            "    cond_rolled_out b-deployment",
            "  verify \"gone\" '' cond_absent deployment old-one",
            '  poll 9 "seen" crashloop_seen an-instance 4',
            '  verify "p" \'\' cond_restarted "$POD"',
            "  kcap x get cronjob a-cronjob -o 'jsonpath={.spec}'",
            "  k get pods -l app.kubernetes.io/instance=selected",
            "  verify \"its pods\" '' cond_log_lines job/b-job 'Hello' 1 1",
            "  verify \"spec\" '' cond_field job c-job spec.parallelism 3 1",
            "  verify \"probes\" '' cond_probes c-deployment",
            "}",
        ])
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "check.sh"
            path.write_text(script + "\n")
            typed, instances, absent = looked_at(path)
        self.assertEqual(typed, {("Job", "a-job"), ("Deployment", "a-deployment"), ("Deployment", "b-deployment"),
                                 ("CronJob", "a-cronjob"), ("Job", "b-job"), ("Job", "c-job"),
                                 ("Deployment", "c-deployment")})
        self.assertEqual(instances, {"an-instance", "selected"})
        self.assertEqual(absent, {("Deployment", "old-one")})


class NamespaceTest(unittest.TestCase):
    def test_everything_lands_in_the_lesson_namespace(self):
        for folder in kustomization_dirs():
            for obj in render(folder):
                with self.subTest(where=where(folder, obj)):
                    if obj["kind"] == "Namespace":
                        self.assertEqual(obj["metadata"]["name"], NAMESPACE)
                    else:
                        self.assertEqual(obj["metadata"].get("namespace"), NAMESPACE)

    def test_namespace_enforces_warns_and_audits_restricted(self):
        (ns,) = [o for o in render(K8S) if o["kind"] == "Namespace"]
        labels = ns["metadata"]["labels"]
        for mode in ("enforce", "warn", "audit"):
            self.assertEqual(labels.get(f"pod-security.kubernetes.io/{mode}"), "restricted", mode)
            version = labels.get(f"pod-security.kubernetes.io/{mode}-version")
            self.assertTrue(version == "latest" or re.fullmatch(r"v1\.\d+", version or ""), version)

    def test_network_policy_denies_all_traffic(self):
        policies = {o["metadata"]["name"]: o for o in render(K8S) if o["kind"] == "NetworkPolicy"}
        policy = policies.pop("deny-all")
        self.assertEqual(policy["spec"]["podSelector"], {})
        self.assertEqual(sorted(policy["spec"]["policyTypes"]), ["Egress", "Ingress"])
        self.assertNotIn("ingress", policy["spec"])
        self.assertNotIn("egress", policy["spec"])
        # A lesson that needs traffic allows it for its own pods only, never for the whole namespace.
        for name, other in policies.items():
            with self.subTest(policy=name):
                self.assertTrue(other["spec"]["podSelector"].get("matchLabels"), "selects some pods, not all")
                for rule in other["spec"].get("ingress", []) + other["spec"].get("egress", []):
                    self.assertTrue(rule.get("ports"), "names its ports")
                    peers = rule.get("from", rule.get("to"))
                    self.assertTrue(peers and all(p.get("podSelector", {}).get("matchLabels") for p in peers),
                                    "names its peers")


class ImageTest(unittest.TestCase):
    version = workspace_version()

    def test_component_tag_is_the_workspace_version(self):
        (doc,) = load_yaml_docs(COMPONENT)
        self.assertEqual({i["name"] for i in doc["images"]}, IMAGES)
        for entry in doc["images"]:
            with self.subTest(image=entry["name"]):
                self.assertEqual(str(entry["newTag"]), self.version,
                                 f"{COMPONENT.relative_to(K8S.parent)} newTag != the workspace version "
                                 "(sh k8s/lib/facts HELLO_VERSION)")

    def test_rendered_images_carry_the_workspace_version_never_latest(self):
        for folder, obj, template in rendered_workloads():
            for c in all_containers(template["spec"]):
                with self.subTest(where=where(folder, obj), container=c["name"]):
                    name, tag, _digest = split_image(c["image"])
                    self.assertIn(name.rsplit("/", 1)[-1], IMAGES)
                    self.assertNotEqual(tag, "latest")
                    self.assertEqual(tag, self.version)
                    self.assertEqual(c.get("imagePullPolicy"), "IfNotPresent")

    def test_published_overlay_is_every_lesson_with_the_released_images(self):
        # k8s/overlays/published: what `kubectl apply -k` of it deploys is exactly `kubectl apply -k
        # k8s` (same objects, same list of folders), with ghcr.io/<owner>/<image>:<version> images.
        (doc,) = load_yaml_docs(PUBLISHED / "kustomization.yaml")
        (top,) = load_yaml_docs(K8S / "kustomization.yaml")
        self.assertEqual(doc["resources"], [f"../../{name}" for name in top["resources"]])
        self.assertIn(PUBLISHED, kustomization_dirs(), "make check-k8s renders and checks it")
        released = render(PUBLISHED)
        self.assertEqual({(o["kind"], o["metadata"]["name"]) for o in released},
                         {(o["kind"], o["metadata"]["name"]) for o in render(K8S)})
        want = {f"ghcr.io/{repository_owner()}/{name}:{self.version}" for name in IMAGES}
        seen = set()
        for obj in released:
            template = pod_template(obj)
            for c in all_containers(template["spec"]) if template else []:
                with self.subTest(object=obj["metadata"]["name"], container=c["name"]):
                    self.assertIn(c["image"], want)
                    self.assertEqual(c.get("imagePullPolicy"), "IfNotPresent")
                    seen.add(c["image"])
        self.assertEqual(seen, want)

    def test_repository_owner_is_read_from_the_facts(self):
        self.assertRegex(repository_owner(), r"^[a-z0-9][a-z0-9-]*$")

    def test_manifests_name_images_without_a_tag(self):
        # The tag lives in one place (the component); a tag in a manifest would be a second one.
        for path in manifest_files():
            for doc in load_yaml_docs(path):
                template = pod_template(doc)
                for c in all_containers(template["spec"]) if template else []:
                    with self.subTest(file=path.name, container=c["name"]):
                        self.assertEqual(split_image(c["image"]), (c["image"], None, None))
                        self.assertIn(c["image"], IMAGES)


class PodStandardsTest(unittest.TestCase):
    def test_pod_security_standard_restricted(self):
        count = 0
        for folder, obj, template in rendered_workloads():
            count += 1
            with self.subTest(where=where(folder, obj)):
                self.assertEqual(pss_violations(template), [])
        self.assertGreaterEqual(count, 10)

    def test_project_hardening_beyond_the_standard(self):
        for folder, obj, template in rendered_workloads():
            spec = template["spec"]
            with self.subTest(where=where(folder, obj)):
                pod_ctx = spec.get("securityContext") or {}
                self.assertIs(pod_ctx.get("runAsNonRoot"), True)
                self.assertEqual(pod_ctx.get("runAsUser"), UID)
                self.assertEqual(pod_ctx.get("runAsGroup"), UID)
                self.assertEqual((pod_ctx.get("seccompProfile") or {}).get("type"), "RuntimeDefault")
                self.assertIs(spec.get("automountServiceAccountToken"), False)
                for c in all_containers(spec):
                    ctx = c.get("securityContext") or {}
                    self.assertIs(ctx.get("readOnlyRootFilesystem"), True, c["name"])
                    self.assertEqual(ctx.get("capabilities"), {"drop": ["ALL"]}, c["name"])

    def test_requests_and_limits(self):
        for folder, obj, template in rendered_workloads():
            for c in all_containers(template["spec"]):
                with self.subTest(where=where(folder, obj), container=c["name"]):
                    resources = c.get("resources") or {}
                    for kind in ("requests", "limits"):
                        self.assertEqual(set(resources.get(kind) or {}), {"cpu", "memory"}, kind)
                    request = parse_mi(resources["requests"]["memory"])
                    limit = parse_mi(resources["limits"]["memory"])
                    self.assertLessEqual(request, limit)
                    self.assertLessEqual(limit, MAX_MEMORY_LIMIT_MI)

    def test_recommended_labels_and_selectors(self):
        for folder, obj, template in rendered_workloads():
            name = obj["metadata"]["name"]
            with self.subTest(where=where(folder, obj)):
                for labels in (obj["metadata"]["labels"], template["metadata"]["labels"]):
                    self.assertEqual(labels.get("app.kubernetes.io/instance"), name)
                    self.assertIn(labels.get("app.kubernetes.io/name"), IMAGES)
                    self.assertEqual(labels.get("app.kubernetes.io/part-of"), "hello-k8s")
                # The image's own name, without a registry path (the published overlay adds one).
                images = {split_image(c["image"])[0].rsplit("/", 1)[-1] for c in all_containers(template["spec"])}
                self.assertEqual(images, {template["metadata"]["labels"]["app.kubernetes.io/name"]})
                if obj["kind"] == "Deployment":
                    selector = obj["spec"]["selector"]["matchLabels"]
                    self.assertLessEqual(selector.items(), template["metadata"]["labels"].items())
                    self.assertEqual(selector.get("app.kubernetes.io/instance"), name)

    def test_restart_policy_fits_the_controller(self):
        for folder, obj, template in rendered_workloads():
            policy = template["spec"].get("restartPolicy")
            with self.subTest(where=where(folder, obj)):
                if obj["kind"] == "Deployment":
                    self.assertIn(policy, (None, "Always"))
                else:  # Job and CronJob: Never, so every attempt is its own pod with its own logs
                    self.assertEqual(policy, "Never")

    def test_jobs_clean_up_after_themselves(self):
        for folder, obj, _template in rendered_workloads():
            with self.subTest(where=where(folder, obj)):
                if obj["kind"] == "Job":
                    self.assertIsInstance(obj["spec"].get("ttlSecondsAfterFinished"), int)
                if obj["kind"] == "CronJob":
                    spec = obj["spec"]
                    self.assertEqual(spec.get("concurrencyPolicy"), "Forbid")
                    self.assertIsInstance(spec.get("startingDeadlineSeconds"), int)
                    self.assertIsInstance(spec.get("successfulJobsHistoryLimit"), int)
                    self.assertIsInstance(spec.get("failedJobsHistoryLimit"), int)
                    # History limits do the cleanup; a TTL would delete the history they keep.
                    self.assertNotIn("ttlSecondsAfterFinished", spec["jobTemplate"]["spec"])

    def test_long_running_programs_state_their_grace_period(self):
        for folder, obj, template in rendered_workloads():
            if obj["kind"] == "Deployment" and template["metadata"]["labels"]["app.kubernetes.io/name"] == "hello-loop":
                with self.subTest(where=where(folder, obj)):
                    self.assertIsInstance(template["spec"].get("terminationGracePeriodSeconds"), int)


class PssRulesCanFailTest(unittest.TestCase):
    """Break a compliant pod spec in one way at a time; the PSS check must notice every one."""

    # A small pod template as the lessons write theirs: restricted and hardened, one container, one
    # emptyDir. Built here, so no lesson's manifest is a fixture of this test.
    good = {
        "metadata": {"labels": {"app.kubernetes.io/name": "hello-loop"}},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "hello-loop",
                "image": "hello-loop",
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": "state", "mountPath": "/tmp/state"}],
            }],
            "volumes": [{"name": "state", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}],
        },
    }

    BREAKS = {
        "hostNetwork": lambda s: s.update(hostNetwork=True),
        "hostPID": lambda s: s.update(hostPID=True),
        "hostIPC": lambda s: s.update(hostIPC=True),
        "hostProcess": lambda s: s["securityContext"].update(windowsOptions={"hostProcess": True}),
        "privileged": lambda s: s["containers"][0]["securityContext"].update(privileged=True),
        "hostPort": lambda s: s["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]),
        "hostPath volume": lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        "seLinux user": lambda s: s["securityContext"].update(seLinuxOptions={"user": "root"}),
        "procMount": lambda s: s["containers"][0]["securityContext"].update(procMount="Unmasked"),
        "unsafe sysctl": lambda s: s["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
        "apparmor unconfined": lambda s: s["securityContext"].update(appArmorProfile={"type": "Unconfined"}),
        "privilege escalation unset": lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
        "runAsNonRoot unset": lambda s: s["securityContext"].pop("runAsNonRoot"),
        "container runAsNonRoot false": lambda s: s["containers"][0]["securityContext"].update(runAsNonRoot=False),
        "runAsUser 0": lambda s: s["containers"][0]["securityContext"].update(runAsUser=0),
        "seccomp unset": lambda s: s["securityContext"].pop("seccompProfile"),
        "seccomp unconfined": lambda s: s["containers"][0]["securityContext"].update(
            seccompProfile={"type": "Unconfined"}),
        "capabilities not dropped": lambda s: s["containers"][0]["securityContext"].pop("capabilities"),
        "capability added": lambda s: s["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
        "init container escalates": lambda s: s.update(initContainers=[{"name": "init", "image": "x",
                                                                        "securityContext": {}}]),
    }

    def test_the_good_spec_passes(self):
        self.assertEqual(pss_violations(self.good), [])

    def test_each_break_is_caught(self):
        for label, breaker in self.BREAKS.items():
            with self.subTest(break_=label):
                bad = copy.deepcopy(self.good)
                breaker(bad["spec"])
                self.assertNotEqual(pss_violations(bad), [], f"{label} went unnoticed")

    def test_apparmor_annotation_is_caught(self):
        bad = copy.deepcopy(self.good)
        bad["metadata"]["annotations"] = {"container.apparmor.security.beta.kubernetes.io/hello-loop": "unconfined"}
        self.assertNotEqual(pss_violations(bad), [])

    def test_image_helpers(self):
        self.assertEqual(split_image("hello-once"), ("hello-once", None, None))
        self.assertEqual(split_image("reg:5000/a/hello-once:0.1.0"), ("reg:5000/a/hello-once", "0.1.0", None))
        self.assertEqual(split_image("hello-once@sha256:ab"), ("hello-once", None, "sha256:ab"))
        self.assertEqual(parse_mi("32Mi"), 32)
        self.assertGreater(parse_mi("1Gi"), MAX_MEMORY_LIMIT_MI)
        self.assertTrue(any(k == "runAsUser" for k, _ in walk(self.good)))


if __name__ == "__main__":
    unittest.main()
