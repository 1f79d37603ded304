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

# ---------------------------------------------------------------- k8s
.PHONY: check-k8s

# Hooked into both aggregate targets from here, so this section stays self-contained.
test: check-k8s
lint: check-k8s

check-k8s: tools ## Lesson manifests: yamllint, strict schemas 1.29..newest, checkov PSS, manifest and README-fact tests
	k8s/checks/check-k8s.sh

# ---------------------------------------------------------------- cluster
