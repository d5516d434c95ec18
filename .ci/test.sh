#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one:
#   provisions what is missing (Mesa's lavapipe Vulkan driver for wgpu; OpenBLAS for the
#   ndarray-blas feature; a Python venv with torch==2.9.0 whose libtorch the tch backend links),
#   then runs rustfmt, clippy and cargo doc with all three backends compiled in, every crate's
#   tests and doc examples, the backend tests on all three backends, the downstream crate, a
#   quick comparison run, and zoo-ndarray's kernel tests with its products in OpenBLAS.
#
#   bash .ci/test.sh            # everything
#   ZOO_SKIP_PROVISION=1 ...    # use what is installed, install nothing
#   ZOO_TORCH_VENV=/path ...    # where the torch venv lives (default ~/.cache/burn-zoo/torch-venv)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# apt_install WHY PACKAGE...: installs Debian packages (unless ZOO_SKIP_PROVISION is set).
apt_install() {
  [ -z "${ZOO_SKIP_PROVISION:-}" ] || return 0
  step "installing $2 for $1"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${@:2}" >/dev/null
}

# --- wgpu: a Vulkan device. Without a GPU, Mesa's lavapipe is a software one.
have_vulkan_icd() { ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; }
have_vulkan_icd || apt_install "the wgpu backend (lavapipe)" mesa-vulkan-drivers

# --- ndarray-blas: ndarray's matrix products in the system OpenBLAS (the compare runs use it).
have_openblas() { ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; }
have_openblas || apt_install "the ndarray-blas feature" libopenblas-dev

# --- tch: libtorch from the PyPI wheel of torch 2.9.0 (what burn-tch 0.21 / tch 0.22 expect).
VENV="${ZOO_TORCH_VENV:-$HOME/.cache/burn-zoo/torch-venv}"
torch_ok() { "$VENV/bin/python" -c 'import torch, sys; sys.exit(0 if torch.__version__.startswith("2.9.0") else 1)' 2>/dev/null; }
if [ -z "${ZOO_SKIP_PROVISION:-}" ] && ! torch_ok; then
  step "installing torch==2.9.0 into $VENV for the tch backend (about 6.7 GB)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check torch==2.9.0
fi
torch_ok || { echo "error: $VENV has no torch 2.9.0 (unset ZOO_SKIP_PROVISION to install it)"; exit 1; }
export LIBTORCH_USE_PYTORCH=1
export PATH="$VENV/bin:$PATH"
TORCH_LIB="$("$VENV/bin/python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)"
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

FEATURES="ndarray,wgpu,tch"
step "rustfmt"
cargo fmt --all -- --check
cargo fmt --manifest-path tests/downstream/Cargo.toml -- --check
step "clippy (every crate, all backends)"
cargo clippy --workspace --all-targets --features "$FEATURES" -- -D warnings
step "cargo doc (every crate, no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --features "$FEATURES"
# ZOO_CARGO_TIMINGS=1: cargo's per-crate build timings (HTML under the target directory).
TIMINGS="${ZOO_CARGO_TIMINGS:+--timings}"
step "tests and doc examples of every crate; the example binaries with ndarray, the default backend"
# The CLI tests run the example binaries; built with ndarray alone they also check that a
# backend left out names its cargo feature. Each example compiled for three backends cost
# 4-5 minutes here, and wgpu and tch are proven by the backend tests below. `ci-backend-deps`
# compiles Burn's wgpu and tch backends in already (the binaries still dispatch to ndarray
# alone), so that the backend step below rebuilds only zoo-cli and the root package.
FIRST="ci-backend-deps"
cargo test --workspace --no-fail-fast --features "$FIRST" $TIMINGS
step "PyTorch weights: a fresh export from torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null) into every model, and the zoo's exports back into PyTorch"
# The committed fixtures (tests/fixtures/pytorch) came from the same command; this checks that
# today's torch still writes what the zoo reads, with the exports too large to commit (the
# CNN's .pt, the strong CNN, the GANs). tests/pytorch.rs has PyTorch load the zoo's exports.
PT_EXPORT="$(mktemp -d)"
"$VENV/bin/python" reference/pytorch_seed.py --export "$PT_EXPORT"
export ZOO_PYTORCH_FIXTURES="$PT_EXPORT" ZOO_TORCH_PYTHON="$VENV/bin/python"
cargo test --workspace --no-fail-fast --features "$FIRST" --lib --test pytorch pytorch -- --nocapture
step "the backend tests on ndarray, wgpu and tch (PyTorch parity on the fresh export); the compare binary with all three"
# cubecl's autotuner times several kernels per matmul shape before it picks one; on lavapipe
# each candidate is a JIT compile. Its minimal level took the backend tests from 353 s to 240 s
# here (2026-12-03) with the same results; speed runs (compare without --quick) keep the default.
export CUBECL_AUTOTUNE_LEVEL=minimal
cargo test --workspace --no-fail-fast --features "$FEATURES" $TIMINGS --test backends -- --nocapture
unset ZOO_PYTORCH_FIXTURES ZOO_TORCH_PYTHON
rm -rf "$PT_EXPORT"
cargo build --workspace --features "$FEATURES" --example compare
step "a crate outside the workspace (tests/downstream): trains the seed CNN and LSTM through the public APIs"
cargo run --manifest-path tests/downstream/Cargo.toml -- --epochs 1
step "compare --quick: every model on ndarray and tch and in PyTorch; the MLP on wgpu (smoke run)"
# On lavapipe (a CPU Vulkan driver) wgpu compiles each kernel on first use: the MLP's cell takes
# about a minute, the CNN's over ten; the backend tests check every model's outputs on wgpu.
COMPARE="${CARGO_TARGET_DIR:-target}/debug/examples/compare"
COMPARE_OUT="$(mktemp -d)"
"$COMPARE" --quick --backends ndarray,tch --out "$COMPARE_OUT/cpu"
"$COMPARE" --quick --backends wgpu --models mlp --no-pytorch --out "$COMPARE_OUT/wgpu"
rm -rf "$COMPARE_OUT"
step "ndarray's matrix products in OpenBLAS (ndarray-blas): zoo-ndarray's kernel tests on BLAS"
# zoo-ndarray reaches BLAS only through this matmul (ndarray's general_mat_mul); its test covers the BLAS-sized, batched,
# broadcast and transposed cases, without a second build of every model.
cargo test -p zoo-ndarray --features blas-openblas-system --lib
step "done"
