"""Tests for the lesson manifests, run by `make check-k8s`.

They check the rendered output of every kustomization (what `kubectl apply -k` sends), so they
see exactly what a cluster would get: the Pod Security Standard "restricted" rule by rule, the
extra rules this project sets (read-only root, UID 65532, requests and limits, labels, pull
policy), image tags equal to the workspace version, and the folder/resource names that the
cluster scripts use. The last class breaks a good pod spec on purpose to show each PSS rule
check can fail.
"""

from __future__ import annotations

import copy
import re
import sys
import unittest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import (  # noqa: E402
    COMPONENT, K8S, NAMESPACE, PUBLISHED, all_containers, exercises, kustomization_dirs, lesson_dirs,
    load_yaml_docs, manifest_files, pod_template, render, repository_owner, solution_dirs, split_image, walk,
    workspace_version,
)

# The names other scripts (make demo, lesson-N targets, the e2e script) rely on. Renaming one
# here means telling them.
EXPECTED = {
    "namespace": {("Namespace", "hello-demo"), ("NetworkPolicy", "deny-all")},
    "01-deployment-crashloop": {("Deployment", "once-as-deployment")},
    "02-job-completes": {("Job", "once-as-job")},
    "03-loop-deployment": {("Deployment", "loop-deployment")},
    "04-cronjob": {("CronJob", "once-cronjob")},
    "05-failing-job": {("Job", "failing-job"), ("Job", "failing-job-policy")},
    "06-grace-period": {("Deployment", "grace-drain-too-long"), ("Deployment", "grace-ignore-sigterm")},
    "07-finite-loop-job": {("Job", "finite-loop")},
    "08-liveness-heartbeat": {("Deployment", "liveness-heartbeat")},
}
# What each exercise's grader (k8s/scripts/exercises.sh) reads: the reference solution must create it.
EXERCISE_OBJECTS = {
    "1a": ("Job", "once-as-deployment"),
    "2a": ("Job", "once-as-job"),
    "3a": ("Deployment", "loop-deployment"),
    "4a": ("CronJob", "once-cronjob"),
    "5a": ("Job", "failing-job"),
    "5b": ("Job", "failing-job-policy"),
    "6a": ("Deployment", "grace-ignore-sigterm"),
    "7a": ("Job", "finite-loop"),
    "7b": ("Deployment", "finite-loop-deployment"),
    "8a": ("Deployment", "liveness-heartbeat"),
}
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


class LayoutTest(unittest.TestCase):
    def test_each_lesson_has_manifests_kustomization_and_readme(self):
        for folder in lesson_dirs():
            with self.subTest(folder=folder.name):
                self.assertTrue((folder / "kustomization.yaml").is_file())
                self.assertTrue((folder / "README.md").is_file())
                self.assertTrue(any(p.name != "kustomization.yaml" for p in folder.glob("*.yaml")))

    def test_top_kustomization_applies_namespace_and_every_lesson_in_order(self):
        (doc,) = load_yaml_docs(K8S / "kustomization.yaml")
        lessons = [p.name for p in lesson_dirs()]
        self.assertEqual(doc["resources"], ["namespace", *lessons])

    def test_folders_hold_exactly_the_expected_resources(self):
        self.assertEqual(sorted(EXPECTED), sorted(["namespace", *[p.name for p in lesson_dirs()]]))
        for name, expected in EXPECTED.items():
            with self.subTest(folder=name):
                got = {(o["kind"], o["metadata"]["name"]) for o in render(K8S / name)}
                self.assertEqual(got, expected)
        everything = {(o["kind"], o["metadata"]["name"]) for o in render(K8S)}
        self.assertEqual(everything, set().union(*EXPECTED.values()))

    def test_every_exercise_has_a_solution_that_renders_its_graded_object(self):
        self.assertEqual(sorted(exercises()), sorted(EXERCISE_OBJECTS))
        lessons = {p.name[:2] for p in lesson_dirs()}
        for exercise, folder in exercises().items():
            with self.subTest(solution=folder.name):
                self.assertIn(f"0{exercise[0]}", lessons, "a solution belongs to an existing lesson")
                got = {(o["kind"], o["metadata"]["name"]) for o in render(folder)}
                self.assertIn(EXERCISE_OBJECTS[exercise], got)
                workloads = [o for o in render(folder) if pod_template(o) is not None]
                self.assertTrue(workloads, "a solution runs something")

    def test_solutions_use_the_shared_component(self):
        for folder in solution_dirs():
            with self.subTest(folder=folder.name):
                (doc,) = load_yaml_docs(folder / "kustomization.yaml")
                self.assertEqual(doc.get("components"), ["../../components/hello-demo"])
                self.assertNotIn("namespace", doc)
                self.assertNotIn("images", doc)

    def test_every_lesson_uses_the_shared_component(self):
        for folder in lesson_dirs() + [K8S / "namespace"]:
            with self.subTest(folder=folder.name):
                (doc,) = load_yaml_docs(folder / "kustomization.yaml")
                self.assertEqual(doc.get("components"), ["../components/hello-demo"])
                self.assertNotIn("namespace", doc, "the namespace is set once, in the component")
                self.assertNotIn("images", doc, "the image tag is set once, in the component")


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
        (policy,) = [o for o in render(K8S) if o["kind"] == "NetworkPolicy"]
        self.assertEqual(policy["spec"]["podSelector"], {})
        self.assertEqual(sorted(policy["spec"]["policyTypes"]), ["Egress", "Ingress"])
        self.assertNotIn("ingress", policy["spec"])
        self.assertNotIn("egress", policy["spec"])


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

    def test_lesson_specific_behaviour_is_wired(self):
        objs = {(o["kind"], o["metadata"]["name"]): o for o in render(K8S)}

        def env(kind, name):
            (c,) = pod_template(objs[(kind, name)])["spec"]["containers"]
            return {e["name"]: e["value"] for e in c.get("env") or []}

        def grace(name):
            return pod_template(objs[("Deployment", name)])["spec"]["terminationGracePeriodSeconds"]

        def seconds(text):
            return float(re.fullmatch(r"(\d+)s?", text).group(1))

        # 06: the drain must outlast the grace period, or there is no SIGKILL to see.
        drain = env("Deployment", "grace-drain-too-long")["HELLO_SHUTDOWN_DELAY"]
        self.assertGreater(seconds(drain), grace("grace-drain-too-long"))
        self.assertEqual(env("Deployment", "grace-ignore-sigterm").get("HELLO_SIGNALS"), "ignore")
        self.assertLessEqual(grace("grace-ignore-sigterm"), 15, "keep the workshop wait short")
        # 05: exit 1 with a small backoffLimit; exit 42 matched by a FailJob rule.
        failing = objs[("Job", "failing-job")]
        self.assertEqual(env("Job", "failing-job")["HELLO_EXIT_CODE"], "1")
        self.assertLess(failing["spec"]["backoffLimit"], 6)
        policy = objs[("Job", "failing-job-policy")]["spec"]["podFailurePolicy"]["rules"]
        code = int(env("Job", "failing-job-policy")["HELLO_EXIT_CODE"])
        self.assertEqual(policy[0]["action"], "FailJob")
        self.assertIn(code, policy[0]["onExitCodes"]["values"])
        self.assertEqual(policy[1], {"action": "Ignore", "onPodConditions": [
            {"type": "DisruptionTarget", "status": "True"}]})
        # 07: a loop that ends.
        self.assertEqual(env("Job", "finite-loop")["HELLO_COUNT"], "5")
        # 08: heartbeat on a writable mount, exec probes running the binary's own check.
        spec = pod_template(objs[("Deployment", "liveness-heartbeat")])["spec"]
        (c,) = spec["containers"]
        beat = env("Deployment", "liveness-heartbeat")["HELLO_HEARTBEAT_FILE"]
        (mount,) = c["volumeMounts"]
        self.assertTrue(beat.startswith(mount["mountPath"].rstrip("/") + "/"))
        (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
        self.assertIn("emptyDir", volume)
        self.assertIn("HELLO_STALL_AFTER", env("Deployment", "liveness-heartbeat"))
        for probe in ("livenessProbe", "readinessProbe"):
            self.assertEqual(c[probe]["exec"]["command"], ["/hello-loop", "check"])


class SolutionBehaviourTest(unittest.TestCase):
    """Each reference solution has the change its exercise asks for (the graders judge the outcome on
    a cluster, in make e2e; this catches a solution that lost its change before any cluster runs)."""

    def objs(self, exercise):
        return {(o["kind"], o["metadata"]["name"]): o for o in render(exercises()[exercise])}

    def env(self, exercise, kind, name):
        (c,) = pod_template(self.objs(exercise)[(kind, name)])["spec"]["containers"]
        return {e["name"]: e["value"] for e in c.get("env") or []}

    def test_each_solution_makes_its_change(self):
        self.assertNotIn(("Deployment", "once-as-deployment"), self.objs("1a"))
        self.assertEqual(pod_template(self.objs("1a")[("Job", "once-as-deployment")])["spec"]["restartPolicy"], "Never")
        job = self.objs("2a")[("Job", "once-as-job")]["spec"]
        self.assertEqual((job["completions"], job["parallelism"]), (3, 3))
        self.assertEqual(self.env("2a", "Job", "once-as-job")["HELLO_MESSAGE"], "Hello, three times!")
        self.assertEqual(self.env("3a", "Deployment", "loop-deployment")["HELLO_MESSAGE"], "Hello, rollout!")
        self.assertEqual(self.env("4a", "CronJob", "once-cronjob")["HELLO_MESSAGE"], "Hello on my schedule!")
        rules = self.objs("5a")[("Job", "failing-job")]["spec"]["podFailurePolicy"]["rules"]
        self.assertEqual((rules[0]["action"], rules[0]["onExitCodes"]["values"]), ("FailJob", [1]))
        self.assertEqual(self.env("5a", "Job", "failing-job")["HELLO_EXIT_CODE"], "1")
        policy = self.objs("5b")[("Job", "failing-job-policy")]["spec"]
        self.assertEqual((policy["backoffLimit"], self.env("5b", "Job", "failing-job-policy")["HELLO_EXIT_CODE"]), (2, "1"))
        self.assertEqual(policy["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"], [42])
        self.assertNotIn("HELLO_SIGNALS", self.env("6a", "Deployment", "grace-ignore-sigterm"))
        self.assertEqual({k: v for k, v in self.env("7a", "Job", "finite-loop").items() if k != "HELLO_INTERVAL"},
                         {"HELLO_COUNT": "3", "HELLO_MESSAGE": "Counting!"})
        self.assertEqual(self.env("7b", "Deployment", "finite-loop-deployment")["HELLO_COUNT"], "5")
        spec = pod_template(self.objs("8a")[("Deployment", "liveness-heartbeat")])["spec"]
        self.assertNotIn("HELLO_STALL_AFTER", self.env("8a", "Deployment", "liveness-heartbeat"))
        self.assertIn("livenessProbe", spec["containers"][0])
        self.assertIn("readinessProbe", spec["containers"][0])


class PssRulesCanFailTest(unittest.TestCase):
    """Break a compliant pod spec in one way at a time; the PSS check must notice every one."""

    good = pod_template(next(o for o in load_yaml_docs(K8S / "08-liveness-heartbeat" / "deployment.yaml")))

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
