#!/usr/bin/env bash
# Training throughput of a crate outside the workspace (tests/downstream) against the zoo's
# own binaries, on the same jobs: the seed CNN and the seed LSTM (row-MNIST) on the bundled
# MNIST sample, Autodiff<zoo_ndarray::NdArray>, release builds. Rounds interleave the two, so
# both see the same machine load; prints every round and the medians.
#
#   bash scripts/downstream-speed.sh [ROUNDS] [EPOCHS]      # default 3 rounds, 2 epochs
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
EPOCHS="${2:-2}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --example cnn --example lstm
cargo build --release --manifest-path tests/downstream/Cargo.toml
DOWN="${CARGO_TARGET_DIR:-tests/downstream/target}/release/zoo-downstream"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
speed() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["train_samples_per_sec"],1), round(r["test"]["metrics"]["accuracy"],4))' "$1"; }
for model in cnn lstm; do
  : > "$WORK/$model.bin"; : > "$WORK/$model.down"
  for round in $(seq "$ROUNDS"); do
    "$TARGET/release/examples/$model" --data assets/mnist-sample --epochs "$EPOCHS" \
      --artifact-dir "$WORK/run-$model" --overwrite --quiet >/dev/null
    speed "$WORK/run-$model/report.json" >> "$WORK/$model.bin"
    "$DOWN" --models "$model" --epochs "$EPOCHS" --data assets/mnist-sample \
      | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r["train_samples_per_sec"], r["test_accuracy"])' >> "$WORK/$model.down"
    echo "$model round $round: binary $(tail -1 "$WORK/$model.bin"), downstream $(tail -1 "$WORK/$model.down") (samples/s, test accuracy)"
  done
  python3 - "$model" "$WORK/$model.bin" "$WORK/$model.down" <<'PY'
import statistics, sys
model, b, d = sys.argv[1:]
rows = lambda p: [tuple(map(float, l.split())) for l in open(p) if l.strip()]
bs, ds = rows(b), rows(d)
mb, md = statistics.median(r[0] for r in bs), statistics.median(r[0] for r in ds)
print(f"{model}: binary median {mb:.1f} samples/s (accuracy {bs[0][1]:.4f}), downstream median {md:.1f} "
      f"(accuracy {ds[0][1]:.4f}): {md / mb:.2f}x")
PY
done
