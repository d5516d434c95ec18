#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one:
#   provisions what is missing (Mesa's lavapipe Vulkan driver for wgpu; OpenBLAS for the
#   ndarray-blas feature; a Python venv with torch==2.9.0 whose libtorch the tch backend links),
#   then runs rustfmt, clippy, cargo doc and every crate's tests and doc examples with all three
#   backends compiled in, the downstream crate, a quick comparison run, and the backend tests
#   once more with ndarray on OpenBLAS.
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
step "tests and doc examples of every crate (ndarray, wgpu, tch)"
cargo test --workspace --no-fail-fast --features "$FEATURES"
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
step "ndarray alone, its products in OpenBLAS (ndarray-blas): the backend tests, and the dispatch tests that need a backend left out"
# One cargo invocation, so both test binaries share one build of the crates under them.
cargo test -p burn-zoo-examples -p zoo-cli --features burn-zoo-examples/ndarray-blas,zoo-cli/ndarray-blas \
  --test backends --lib
step "done"
