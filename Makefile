# hello-k8s: two tiny programs, their images and Kubernetes lessons.
# `make help` lists every target. Sections below are owned by area: workspace, images, k8s, cluster.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# One source of truth for the version: the workspace Cargo.toml.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
REGISTRY ?=
IMAGE_TAG ?= $(VERSION)
IMAGE_PREFIX := $(if $(REGISTRY),$(REGISTRY)/,)
ONCE_IMAGE := $(IMAGE_PREFIX)hello-once:$(IMAGE_TAG)
LOOP_IMAGE := $(IMAGE_PREFIX)hello-loop:$(IMAGE_TAG)

VENV := .venv
TOOLS_STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help
help: ## Show this table of contents
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.%-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- workspace
.PHONY: build release test test-rust lint fmt bench tools

build: ## Build both programs (debug)
	cargo build --workspace

release: ## Build both programs (release, size-tuned)
	cargo build --workspace --release

test: test-rust lint ## Run every check CI runs (Rust tests, lints, image and manifest checks)

test-rust: ## Rust unit and integration tests (signal tests as PID 1 when root)
	cargo test --workspace --locked

lint: tools ## cargo fmt --check, clippy -D warnings, and the static checks
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt: ## Format the Rust code
	cargo fmt --all

bench: ## Benchmark the release musl binaries against a Python baseline (table of medians; PID-1 row needs root)
	t=$$(uname -m)-unknown-linux-musl; rustup target add "$$t" >/dev/null; \
	cargo build --release --locked --target "$$t" -p hello-once -p hello-loop; \
	cargo run --release --locked -q -p hello-bench -- --bin-dir "$${CARGO_TARGET_DIR:-target}/$$t/release"

tools: $(TOOLS_STAMP) ## Install the pinned lint tools into ./.venv

$(TOOLS_STAMP): .ci/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r .ci/requirements.txt
	touch $@

# ---------------------------------------------------------------- images
# Docs: images/README.md. Build image: the official Rust image, or (OFFLINE=1) the stand-in that
# `make rust-image` builds from Debian packages and the local toolchain when no registry is reachable.
.PHONY: rust-image images test-images lint-images test-images-run test-multiarch run-once run-loop push images-multiarch docker-demo

RUST_IMAGE ?= rust:1.95-slim-bookworm
RUST_STANDIN = hello-rust-standin:$(shell rustc --version | awk '{print $$2}')-bookworm
OFFLINE ?=
ifeq ($(OFFLINE),1)
RUST_IMAGE := $(RUST_STANDIN)
IMAGES_DEPS := rust-image
endif
PLATFORM ?=
PLATFORMS ?= linux/amd64 linux/arm64
IMAGE_ENV = RUST_IMAGE='$(RUST_IMAGE)' VERSION='$(VERSION)' PLATFORM='$(PLATFORM)' \
	REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
	CREATED="$$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null || echo 1970-01-01T00:00:00Z)" \
	SOURCE='$(shell sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml | head -n1)'
# PLATFORM=linux/arm64 tags hello-once:<tag>-arm64, so the plain tag always runs on this machine.
PLATFORM_SUFFIX = $(if $(PLATFORM),-$(notdir $(PLATFORM)),)

rust-image: ## Build the offline stand-in for the Rust build image (debootstrap + local toolchain; reused)
	images/build-rust-image $(RUST_STANDIN)

images: $(IMAGES_DEPS) ## Build hello-once and hello-loop images (PLATFORM=linux/arm64 cross-builds; OFFLINE=1)
	$(IMAGE_ENV) images/build-images $(ONCE_IMAGE)$(PLATFORM_SUFFIX) $(LOOP_IMAGE)$(PLATFORM_SUFFIX)

test-images: lint-images images test-images-run test-multiarch ## Images: hadolint, structure tests, behaviour on the engine, multi-arch via a registry

lint-images: tools ## hadolint the Dockerfile, shellcheck the image scripts
	hadolint images/Dockerfile
	shellcheck .ci/start-dockerd images/build-rust-image images/build-images images/test-images images/test-multiarch images/push-images images/docker-demo

test-images-run: images tools ## Run the image checks (structure tests, docker run/stop/kill/restart, sizes) on the built images
	images/test-images $(ONCE_IMAGE) $(LOOP_IMAGE)

test-multiarch: $(IMAGES_DEPS) tools ## Build amd64+arm64, push to a throwaway loopback registry, pull, inspect and run both (arm64 under QEMU)
	$(IMAGE_ENV) PLATFORMS='$(PLATFORMS)' IMAGE_TAG='$(IMAGE_TAG)' images/test-multiarch

run-once: ## docker run hello-once once (ARGS='--message hi')
	docker run --rm $(ONCE_IMAGE) $(ARGS)

run-loop: ## docker run hello-loop in the foreground; Ctrl-C stops it gracefully (ARGS='--interval 1s')
	docker run --rm --name hello-loop $(LOOP_IMAGE) $(ARGS)

push: $(IMAGES_DEPS) ## Push per-arch images and one multi-arch tag per image (REGISTRY=host:port; PLATFORMS)
	@test -n "$(REGISTRY)" || { echo "push: REGISTRY is empty: use make push REGISTRY=host:port (e.g. 127.0.0.1:5000)" >&2; exit 2; }
	$(IMAGE_ENV) PLATFORMS='$(PLATFORMS)' images/push-images $(ONCE_IMAGE) $(LOOP_IMAGE)

images-multiarch: ## With buildx: build and push linux/amd64+linux/arm64 in one go (REGISTRY=host:port)
	@test -n "$(REGISTRY)" || { echo "images-multiarch: REGISTRY is empty: use make images-multiarch REGISTRY=host:port" >&2; exit 2; }
	@docker buildx version >/dev/null 2>&1 || { echo "images-multiarch: needs docker buildx; without it use make push REGISTRY=$(REGISTRY) (same result)" >&2; exit 1; }
	for target in hello-once hello-loop; do \
	  $(IMAGE_ENV); docker buildx build -f images/Dockerfile --platform $(shell echo $(PLATFORMS) | tr ' ' ,) \
	    --build-arg RUST_IMAGE="$$RUST_IMAGE" --build-arg VERSION="$$VERSION" --build-arg REVISION="$$REVISION" \
	    --build-arg CREATED="$$CREATED" --build-arg SOURCE="$$SOURCE" \
	    --target $$target -t $(IMAGE_PREFIX)$$target:$(IMAGE_TAG) --push . ; \
	done

docker-demo: ## Narrated docker-only walk-through: restart loop vs. a run that completes, graceful vs. naive stop
	images/docker-demo $(ONCE_IMAGE) $(LOOP_IMAGE)

# ---------------------------------------------------------------- k8s
.PHONY: check-k8s

# Hooked into both aggregate targets from here, so this section stays self-contained.
test: check-k8s
lint: check-k8s

check-k8s: tools ## Lesson manifests: yamllint, strict schemas 1.29..newest, checkov PSS, manifest and README-fact tests
	k8s/checks/check-k8s.sh

# ---------------------------------------------------------------- cluster
