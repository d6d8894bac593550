# A single-user image for JupyterHub (Zero to JupyterHub on Kubernetes, docs/jupyterhub-kubernetes.md),
# following the Jupyter Docker Stacks conventions: built on one of their images, the notebook
# user (NB_USER, uid NB_UID) runs the server, root only installs.
#
#   docker build -t rust-dl .
#
# The kernel is installed by scripts/install-standalone.sh, the script the hub test
# (tests/hub/) runs: the kernel into /opt/rust-dl, its kernelspec into the image's Jupyter
# environment (${CONDA_DIR}/share/jupyter), dl-core built here, once, at image build time.
# Every reader's sessions go to ~/.cache/dl-kernel (their home volume), a few MiB each.
ARG BASE_IMAGE=quay.io/jupyter/minimal-notebook:latest
FROM ${BASE_IMAGE}

# The toolchain version the project builds with (kernel and cells use the same one).
ARG RUST_VERSION=1.95.0

USER root

# Cells are compiled in the session: a C linker and the Rust toolchain, for every user.
RUN apt-get update --yes && \
    apt-get install --yes --no-install-recommends build-essential ca-certificates curl && \
    rm -rf /var/lib/apt/lists/*

# rustup into /opt/rustup; at run time the toolchain's own bin/ is on PATH (no rustup, no
# CARGO_HOME of the image: each user's cargo home is ~/.cargo, which sessions barely use since
# dl-core's dependencies are vendored into the install).
RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | \
      RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo sh -s -- -y --no-modify-path \
        --profile minimal --component rust-src --default-toolchain "${RUST_VERSION}" && \
    ln -s "/opt/rustup/toolchains/${RUST_VERSION}-$(uname -m)-unknown-linux-gnu" /opt/rust && \
    chmod -R a+rX /opt/rustup
ENV PATH=/opt/rust/bin:${PATH}

# The install the hub test runs, then the checkout and cargo's build state are removed.
COPY . /tmp/rust-dl
RUN cd /tmp/rust-dl && \
    CARGO_HOME=/tmp/cargo-home CARGO_TARGET_DIR=/tmp/rust-dl-target \
      scripts/install-standalone.sh --prefix /opt/rust-dl \
        --jupyter-data-dir "${CONDA_DIR}/share/jupyter" && \
    rm -rf /tmp/rust-dl /tmp/rust-dl-target /tmp/cargo-home /opt/cargo && \
    fix-permissions "${CONDA_DIR}/share/jupyter"

USER ${NB_UID}
WORKDIR "${HOME}"
