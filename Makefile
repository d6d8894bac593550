# The project's interface: `make lab` and `make test`, both starting from `make setup`.
#
# One cargo profile (release) builds the kernel, the tests and the benchmarks, so evcxr is
# compiled once. CARGO_TARGET_DIR may point outside the clone (CI reuses a cache that way).

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

ROOT        := $(CURDIR)
VENV        := $(ROOT)/.venv
PYTHON      := $(VENV)/bin/python
# Without CI in cargo's environment: rust-analyzer's crates (under evcxr) read it at compile
# time, so a CI=true build and a local one would each invalidate the other's evcxr build.
CARGO       ?= env -u CI cargo
CARGO_FLAGS := --release --locked
export CARGO_TARGET_DIR ?= $(ROOT)/target
KERNEL      := $(CARGO_TARGET_DIR)/release/dl-kernel
LAB_PORT    ?= 8888

# Jupyter's own state lives in the project's virtual environment, never in $HOME.
export JUPYTER_CONFIG_DIR       := $(VENV)/etc/jupyter
export JUPYTER_DATA_DIR         := $(VENV)/share/jupyter
export JUPYTER_RUNTIME_DIR      := $(VENV)/share/jupyter/runtime
export JUPYTERLAB_SETTINGS_DIR  := $(VENV)/share/jupyter/lab/user-settings
export JUPYTERLAB_WORKSPACES_DIR := $(VENV)/share/jupyter/lab/workspaces
export IPYTHONDIR               := $(VENV)/etc/ipython
export PATH                     := $(VENV)/bin:$(PATH)

.PHONY: setup kernel venv kernelspec warm-up lab test test-cargo test-example test-protocol \
        test-cells test-notebooks test-browser notebooks-html bench fmt lint clean-notebooks \
        hub-env install test-hub

## setup: build the kernel, create .venv, install the kernelspec into it, pre-build dl-core.
setup: venv kernel kernelspec warm-up hub-env

venv: $(VENV)/.requirements-installed

$(VENV)/.requirements-installed: requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# --workspace, as in test-cargo: the same feature set, so evcxr is compiled once, not twice.
kernel:
	$(CARGO) build $(CARGO_FLAGS) --workspace

kernelspec: venv kernel
	$(KERNEL) install --sys-prefix

warm-up: kernelspec
	$(KERNEL) warm-up --cache-dir $(VENV)/share/dl-kernel/cache

## hub-env: the hub test's environment, .venv/hub: JupyterHub (PyPI) and configurable-http-proxy
## (npm), from a Python that the test's readers (other Unix users) can run.
HUB_ENV    := $(VENV)/hub
HUB_PYTHON ?= /usr/bin/python3
hub-env: $(HUB_ENV)/.installed

$(HUB_ENV)/.installed: tests/hub/requirements.txt
	test -x $(HUB_ENV)/bin/python || $(HUB_PYTHON) -m venv $(HUB_ENV)
	$(HUB_ENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	npm install --silent --no-fund --no-audit --prefix $(HUB_ENV)/node configurable-http-proxy@5.3.0
	touch $@

## install: the kernel for every user of a machine, into PREFIX (a class on one server):
## make install PREFIX=/opt/rust-dl [KERNELSPEC_DIR=/usr/local/share/jupyter]
PREFIX ?= /usr/local
install: kernel
	scripts/install-standalone.sh --prefix $(PREFIX) --kernel $(KERNEL) \
	  $(if $(KERNELSPEC_DIR),--jupyter-data-dir $(KERNELSPEC_DIR))

## lab: JupyterLab on notebooks/, with the Rust (dl-core) kernel.
lab: setup
	echo "JupyterLab on http://127.0.0.1:$(LAB_PORT)/lab (the URL with its token follows)"
	exec $(VENV)/bin/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --port=$(LAB_PORT) \
	  --ServerApp.root_dir=$(ROOT)/notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

## test: every test. The slow notebook and browser runs are done once each.
test: setup lint test-cargo test-example test-protocol test-cells test-notebooks test-browser \
      test-hub
	echo "make test: all suites passed"

test-cargo:
	$(CARGO) test $(CARGO_FLAGS) --workspace

test-example:
	$(CARGO) run $(CARGO_FLAGS) --example train_and_save

test-protocol:
	$(PYTHON) -m pytest -q tests/protocol

# The cells a reader types, each case in a fresh kernel, with the output each must show.
test-cells:
	$(PYTHON) tests/cells/run_cells.py

test-notebooks:
	$(PYTHON) tests/notebooks/run_notebooks.py

test-browser:
	if tests/browser/ensure_chromium.sh; then $(PYTHON) tests/browser/test_jupyterlab.py; fi

# Three readers at once through a real JupyterHub, from a standalone install in a fresh prefix.
test-hub: hub-env kernel
	$(HUB_ENV)/bin/python tests/hub/test_hub.py --kernel $(KERNEL)

## notebooks-html: executed chapters rendered to HTML under build/html, for reading.
notebooks-html: setup
	$(PYTHON) tests/notebooks/run_notebooks.py --html $(ROOT)/build/html

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc $(CARGO_FLAGS) --workspace --no-deps
