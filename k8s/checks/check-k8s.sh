#!/usr/bin/env bash
# Every static check of the Kubernetes lessons; `make check-k8s` runs it with ./.venv/bin on PATH.
# No cluster needed: it renders each kustomization locally and checks the result.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$(date +%s)
step() { printf '\n== k8s: %s (+%ss)\n' "$*" "$(($(date +%s) - started))"; }

for tool in yamllint kubectl kubernetes-validate checkov python3; do
  command -v "$tool" >/dev/null || { echo "check-k8s: $tool not found on PATH (run: make tools)" >&2; exit 2; }
done

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT

step "yamllint"
yamllint --strict -c k8s/.yamllint k8s

step "kubectl kustomize (every kustomization)"
# Every folder whose kustomization.yaml is a Kustomization; components are rendered through them.
mapfile -t dirs < <(grep -l '^kind: Kustomization$' -r --include=kustomization.yaml k8s | xargs -n1 dirname | sort)
files=()
for dir in "${dirs[@]}"; do
  out="$rendered/$(echo "$dir" | tr / _).yaml"
  kubectl kustomize "$dir" >"$out"
  files+=("$out")
done
echo "${#dirs[@]} kustomizations rendered"

step "kubernetes-validate --strict (1.29 .. newest shipped)"
python3 k8s/checks/validate_schemas.py "${files[@]}"

step "checkov (Kubernetes checks, offline)"
checkov --config-file k8s/.checkov.yaml "${files[@]/#/--file=}"

step "tests: manifests and README facts (k8s/checks), each lesson's own (k8s/NN-name/test_lesson.py)"
# importlib: every lesson's file is test_lesson.py, so pytest must not import them by their base name.
python3 -B -m pytest -q -p no:cacheprovider k8s/checks k8s/[0-9][0-9]-*/test_lesson.py --import-mode=importlib

step "done"
