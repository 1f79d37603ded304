# shellcheck shell=sh
# The one library of facts and helpers: sourced by every script a learner, an attendee or CI runs
# (the loader, the doctor, the lesson runners, the cluster scripts, the kit builder) and read by the
# tests (through k8s/lib/facts). POSIX sh: dash, bash --posix, posh, busybox sh and macOS's bash 3.2
# run it with macOS's and Linux's tools alike.
#
#   ROOT=<the folder that holds k8s/>; . "$ROOT/k8s/lib/hello.sh"
#
# On load it reads the pins, so no other file parses them:
#   HELLO_VERSION    the workspace version (Cargo.toml's [workspace.package]); in a kit, which has no
#                    Cargo.toml, the image tag its lessons use (k8s/components/hello-demo)
#   HELLO_REPOSITORY the repository URL (Cargo.toml; empty in a kit)
#   KIND_VERSION, KUBECTL_VERSION (and the cargo tools' versions) from k8s/versions.env
#   NODE_IMAGE       the kind node image of k8s/kind-config.yaml (name:tag@digest), NODE_IMAGE_TAG
#                    (name:tag), NODE_K8S (its Kubernetes version, v1.36.1), NODE_DIGEST (sha256:…)
#   HELLO_KIT        1 in an unpacked workshop kit, 0 in the repository
# A pin that cannot be read leaves its variable empty; `need_pins` says which, in one line.
#
# `local` is not in POSIX, but every shell above has it (as Debian's policy for /bin/sh requires).
# shellcheck disable=SC3043,SC2034 # SC2034: the pins are for the scripts that source this file

ROOT=${ROOT:-.}
# `die STATUS MESSAGE`: one line on stderr, named after the script, then exit. Status 2 is bad usage
# or bad input (name the flag, variable or file and the accepted form), 1 anything else.
ME=${ME:-${0##*/}}
die() {
  local status
  status=$1
  shift
  printf '%s: %s\n' "$ME" "$*" >&2
  exit "$status"
}

# ---- the pins, read once ------------------------------------------------------------------------
# Cargo.toml: the first `version = "…"` and `repository = "…"` of [workspace.package].
hello_cargo_field() {
  [ -f "$ROOT/Cargo.toml" ] || return 0
  sed -n '/^\[workspace\.package\]/,/^\[/p' "$ROOT/Cargo.toml" |
    sed -n "s/^$1 *= *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}
if [ -f "$ROOT/Cargo.toml" ]; then
  HELLO_KIT=0
  HELLO_VERSION=$(hello_cargo_field version)
else
  HELLO_KIT=1
  HELLO_VERSION=$(sed -n 's/^ *newTag: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' \
    "$ROOT/k8s/components/hello-demo/kustomization.yaml" 2>/dev/null | head -n 1)
fi
HELLO_REPOSITORY=$(hello_cargo_field repository)
if [ -f "$ROOT/k8s/versions.env" ]; then
  # shellcheck source=k8s/versions.env
  . "$ROOT/k8s/versions.env"
fi
NODE_IMAGE=$(sed -n 's/^ *image: *\([^ ]*\).*/\1/p' "$ROOT/k8s/kind-config.yaml" 2>/dev/null | head -n 1)
NODE_IMAGE_TAG=${NODE_IMAGE%%@*}
NODE_DIGEST=''
case $NODE_IMAGE in *@*) NODE_DIGEST=${NODE_IMAGE#*@} ;; esac
NODE_K8S=$(printf '%s\n' "$NODE_IMAGE_TAG" | sed -n 's/^[^:]*:\(v[0-9][0-9.]*\)$/\1/p')
HELLO_ONCE_IMAGE=${ONCE_IMAGE:-hello-once:$HELLO_VERSION}
HELLO_LOOP_IMAGE=${LOOP_IMAGE:-hello-loop:$HELLO_VERSION}

# need_pins: stop (exit 2, one line) when a pin the caller relies on could not be read.
need_pins() {
  local missing
  missing=''
  [ -n "$HELLO_VERSION" ] || missing="$missing, the version (Cargo.toml or k8s/components/hello-demo)"
  [ -n "${KIND_VERSION:-}" ] || missing="$missing, KIND_VERSION (k8s/versions.env)"
  [ -n "$NODE_K8S" ] || missing="$missing, the node image (k8s/kind-config.yaml)"
  [ -z "$missing" ] || die 2 "cannot read${missing#,} under $ROOT"
}

# ---- names and versions -------------------------------------------------------------------------
# norm_arch x86_64 -> amd64, aarch64 -> arm64 (what image platforms call them); others as they are.
norm_arch() {
  case $1 in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "$1" ;;
  esac
}

# version_num v1.36.1 -> 1036001, so versions compare as numbers (a suffix such as -rc.1 is ignored).
version_num() {
  printf '%s\n' "$1" | sed 's/^v//; s/[^0-9.].*//' |
    awk -F. '{ printf "%d\n", $1 * 1000000 + $2 * 1000 + $3 }'
}
# version_ge HAVE WANT: true when HAVE is WANT or newer.
version_ge() { [ "$(version_num "$1")" -ge "$(version_num "$2")" ]; }
# first_version: the first version number in the text on stdin (v1.2.3, 1.2 or 1.2.3).
first_version() { grep -oE 'v?[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1; }

# install_hint TOOL: how to install a tool the workshop needs (the doctor, the loader and the
# cluster scripts print this same line).
install_hint() {
  case $1 in
    docker) echo "install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/" ;;
    kind) echo "install kind $KIND_VERSION or newer: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or: go install sigs.k8s.io/kind@$KIND_VERSION)" ;;
    kubectl) echo "install kubectl $KUBECTL_VERSION (within one minor of the cluster): https://kubernetes.io/docs/tasks/tools/" ;;
    minikube) echo "install minikube: https://minikube.sigs.k8s.io/docs/start/" ;;
    make) echo "install GNU make (Debian/Ubuntu: sudo apt-get install make; macOS: xcode-select --install)" ;;
    *) echo "install $1" ;;
  esac
}

# ---- printing commands --------------------------------------------------------------------------
# quote WORD: the word as a shell reads it back. Plain words stay as they are; anything else is
# single-quoted (readable for jsonpath templates, unlike printf %q).
quote() {
  case $1 in
    '' | *[!A-Za-z0-9_./:=,@%+-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}
# command_words CMD...: the words, each quoted, joined by spaces: a command a shell reads back as
# these very words (a path with a space, a backslash or a newline included).
command_words() {
  local line word
  line=''
  for word in "$@"; do line="$line $(quote "$word")"; done
  printf '%s\n' "${line# }"
}
# command_line CMD...: "$ cmd args", every word quoted, so a printed command can be pasted back.
command_line() { printf '$ %s\n' "$(command_words "$@")"; }

# ---- checksums ----------------------------------------------------------------------------------
# sha256_of FILE: the file's SHA-256 in hex. sha256sum where there is one (Linux), else shasum
# (macOS ships Perl's shasum and no sha256sum).
sha256_of() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out=$(sha256sum <"$1") || return 1
  elif command -v shasum >/dev/null 2>&1; then
    out=$(shasum -a 256 <"$1") || return 1
  else
    die 1 "neither sha256sum nor shasum found; install coreutils (Linux) or perl (shasum)"
  fi
  printf '%s\n' "${out%% *}"
}

# ---- bounded commands ---------------------------------------------------------------------------
# bounded SECS CMD...: run CMD with stdin from /dev/null, stdout in $BOUNDED_DIR/out and stderr in
# $BOUNDED_DIR/err (a folder the caller owns); status 124 when it was still running after SECS and
# was stopped: SIGTERM, then SIGKILL when it is still there a second later (a command that ignores
# or traps SIGTERM cannot outlast the bound). macOS has no timeout(1), so a watchdog does it: a
# subshell runs `sleep SECS` and writes down its pid; once CMD ends that sleep is stopped, so the
# watchdog ends at once and kills nothing. (Signalling the subshell itself races with it dropping
# this shell's traps: dash then swallows the signal and sleeps on.) After the SIGTERM the watchdog
# looks every 0.1 s whether CMD is gone (this shell reaps it as soon as it ends), so a command that
# obeys SIGTERM costs no grace. `sleep 0.1`: GNU, BSD (macOS) and busybox sleep take fractions.
bounded() {
  local secs cmd_pid watch_pid rc dir
  secs=$1 dir=${BOUNDED_DIR:?bounded needs BOUNDED_DIR}
  shift
  rm -f "$dir/timedout" "$dir/sleep.pid"
  "$@" >"$dir/out" 2>"$dir/err" </dev/null &
  cmd_pid=$!
  (
    sleep "$secs" &
    echo "$!" >"$dir/sleep.pid"
    wait "$!" || exit 0                       # stopped: CMD ended in time
    kill -TERM "$cmd_pid" 2>/dev/null || exit 0 # CMD ended just now
    : >"$dir/timedout"
    tries=0
    while kill -0 "$cmd_pid" 2>/dev/null; do
      if [ "$tries" -ge 10 ]; then
        kill -KILL "$cmd_pid" 2>/dev/null
        break
      fi
      sleep 0.1
      tries=$((tries + 1))
    done
  ) >/dev/null 2>&1 &
  watch_pid=$!
  wait "$cmd_pid" 2>/dev/null # not the shell's "Terminated" / "Killed" line for a stopped command
  rc=$?
  while [ ! -s "$dir/sleep.pid" ] && kill -0 "$watch_pid" 2>/dev/null; do :; done
  [ -f "$dir/timedout" ] || kill "$(cat "$dir/sleep.pid" 2>/dev/null)" 2>/dev/null
  wait "$watch_pid"
  [ ! -f "$dir/timedout" ] || return 124
  return "$rc"
}

# ---- lessons and exercises, found by looking at the folders -------------------------------------
# lesson_dirs: every lesson folder (k8s/NN-name), in order, one per line, relative to ROOT.
lesson_dirs() {
  local dir
  for dir in "$ROOT"/k8s/[0-9][0-9]-*/; do
    [ -f "$dir/lesson.sh" ] && printf 'k8s/%s\n' "$(basename "$dir")"
  done
}
# lesson_numbers: the lessons' numbers (1 2 ... 8), space-separated.
lesson_numbers() {
  lesson_dirs | sed 's|^k8s/0*\([0-9]*\)-.*|\1|' | tr '\n' ' ' | sed 's/ $//'
}
# lesson_dir N: the folder of lesson N; anything else is one line and exit 2.
lesson_dir() {
  local found
  found=''
  case $1 in
    '' | *[!0-9]*) ;;
    *) found=$(lesson_dirs | grep "^k8s/0*$1-" | head -n 1) ;;
  esac
  [ -n "$found" ] || die 2 "lesson must be one of $(lesson_numbers) (got '$1')"
  echo "$found"
}
# instances DIR: the app.kubernetes.io/instance labels of every object a folder's manifests create,
# comma-separated, read from the files (no cluster needed, so a dry run prints the same command).
instances() {
  local file
  for file in "$1"/*.yaml; do
    [ "${file##*/}" = kustomization.yaml ] || cat "$file"
  done | sed -n 's/^ *app\.kubernetes\.io\/instance: *//p' | sort -u | paste -sd , -
}
# exercise_letters DIR: the letters of the lesson folder's exercises (DIR/exercise-a ...): "a b".
exercise_letters() {
  local ex letters
  letters=''
  for ex in "$ROOT/$1"/exercise-[a-z]; do
    [ -f "$ex/check.sh" ] && letters="$letters ${ex##*-}"
  done
  echo "${letters# }"
}
# exercise_dir N X: the folder of exercise X of lesson N; anything else is one line and exit 2.
exercise_dir() {
  local lesson letters
  lesson=$(lesson_dir "$1") || exit 2
  letters=$(exercise_letters "$lesson")
  case " $letters " in
    *" $2 "*) [ -n "$2" ] && echo "$lesson/exercise-$2" && return 0 ;;
  esac
  die 2 "EXERCISE must be one of: ${letters:-none} for lesson $1 (got '$2')"
}

# exercise_steps N X: the steps the lesson README's "Your turn" gives for exercise X, read from the
# README itself (make e2e walks them; k8s/tests/test_learner_path.py checks this reading against its
# own): each `kubectl apply -k FOLDER` or `kubectl delete -k FOLDER` in the exercise's paragraph and
# list, in order, as VERB-start (FOLDER is the exercise's start folder, whatever its path) or
# VERB-lesson (a lesson folder: the one the README belongs to), one per line. A command may wrap
# across lines. The exercise is "**Exercise MX.**", M the README's own number (`# Lesson M:`), so a
# copied lesson folder still finds its text.
exercise_steps() {
  local readme
  readme="$ROOT/$(lesson_dir "$1")/README.md" || exit 2
  [ -f "$readme" ] || return 0
  awk -v x="$2" '
    NR == 1 { number = $0; sub(/^# Lesson /, "", number); sub(/:.*/, "", number) }
    /^## / { turn = ($0 == "## Your turn") }
    turn && /^\*\*Exercise / { mine = (index($0, "**Exercise " number x ".**") == 1) }
    turn && mine { text = text " " $0 }
    END {
      gsub(/[ \t]+/, " ", text)
      while (match(text, /`kubectl (apply|delete) -k [^` ]+`/)) {
        n = split(substr(text, RSTART + 1, RLENGTH - 2), word, " ")
        folder = word[4]; sub(/\/$/, "", folder)
        kind = folder ~ /(^|\/)exercise-[a-z]\/start$/ ? "start" : folder ~ /(^|\/)k8s\/[0-9][0-9]-[a-z0-9-]+$/ ? "lesson" : folder
        print word[2] "-" kind
        text = substr(text, RSTART + RLENGTH)
      }
    }' "$readme"
}

# ---- engines and kits ---------------------------------------------------------------------------
# engine_arch: the container engine's CPU architecture as amd64 or arm64: the engine's, not this
# shell's, since a remote or emulated engine can differ. ENGINE=docker (default) or podman.
engine_arch() {
  local arch
  case ${ENGINE:-docker} in
    docker) arch=$(docker version --format '{{.Server.Arch}}') || return 1 ;;
    podman) arch=$(podman info --format '{{.Host.Arch}}') || return 1 ;;
    *) die 2 "ENGINE must be docker or podman (got '$ENGINE')" ;;
  esac
  norm_arch "$arch"
}
# write_sums DIR: DIR/SHA256SUMS, the SHA-256 of every other file under DIR, one "HASH  PATH" line
# each, paths relative to DIR, sorted: the one writer of a kit's checksums (make kit, and the kit
# folder make kind-load stages); the loader is the one reader. `sha256sum -c` and `shasum -a 256 -c`
# read it too.
write_sums() {
  (
    cd "$1" || exit 1
    rm -f SHA256SUMS SHA256SUMS.part
    # shellcheck disable=SC2094 # find lists every file but the one being written
    find . -type f ! -name SHA256SUMS.part | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r file; do
      printf '%s  %s\n' "$(sha256_of "$file")" "$file" || exit 1
    done >SHA256SUMS.part && mv SHA256SUMS.part SHA256SUMS
  )
}
