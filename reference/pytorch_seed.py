#!/usr/bin/env python3
"""PyTorch reference for burn-zoo's `compare`: the PyTorch tutorial's seed models.

This script mirrors the seed code (the PyTorch tutorial's MLP, CNN, RNN, LSTM and GAN, with
PyTorch's default init, float32, on the CPU) that burn-zoo's crates port. It trains and times one
model on a workload that `compare` has already written to disk, so both frameworks see identical
data and batch sizes, and writes a JSON result:

    python reference/pytorch_seed.py --workload DIR --out RESULT.json
    python reference/pytorch_seed.py --check      # prints torch's version if torch imports
    python reference/pytorch_seed.py --export DIR # trained seed weights for the zoo to import

`--export DIR` trains the seed MLP (two moons) and CNN (the bundled MNIST sample) briefly, as the
tutorial does, and writes for each MODEL: MODEL.pt (torch.save of the state_dict), MODEL.safetensors
(the same tensors) and MODEL_io.safetensors (a fixed `input` batch and the model's `output` on it,
in eval mode). The CNN also gets its test accuracy on the sample in MODEL_io's metadata.

DIR holds spec.json, train_x.f32 / test_x.f32 (float32, row-major [n, *input_shape]) and
train_y.u8 / test_y.u8 (uint8 labels; absent for the gan). Only the standard library and torch.
"""
import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time
import warnings
from pathlib import Path

START = time.perf_counter()
MODELS = ("mlp", "cnn", "rnn", "lstm", "gan")
INT_KEYS = ("epochs", "batch_size", "seed", "classes", "hidden", "warmup_epochs",
            "eval_batch_size", "latent_dim", "gan_samples")
FLOAT_KEYS = ("lr", "beta1", "beta2", "min_infer_seconds")


class Fail(Exception):
    """A user-facing error: one line on stderr, exit 2."""


def import_torch():
    # torch warns on import when NumPy is absent; this script never needs NumPy.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install's OSError
        print(f"error: torch is not importable from {sys.executable}: {e}", file=sys.stderr)
        sys.exit(3)
    return torch


def load_spec(wdir):
    path = wdir / "spec.json"
    try:
        spec = json.loads(path.read_text())
    except OSError as e:
        raise Fail(f"cannot read {path}: {e.strerror or e}")
    except ValueError as e:
        raise Fail(f"{path} is not valid JSON: {e}")
    if not isinstance(spec, dict):
        raise Fail(f"{path} is not a JSON object")
    for k in ("model", "input_shape") + INT_KEYS + FLOAT_KEYS:
        if k not in spec:
            raise Fail(f"{path} has no field '{k}'")
    bad = [k for k in INT_KEYS if type(spec[k]) is not int or spec[k] < 0]
    bad += [k for k in FLOAT_KEYS
            if type(spec[k]) not in (int, float) or not math.isfinite(spec[k])]
    shape = spec["input_shape"]
    if not isinstance(shape, list) or not shape or any(type(d) is not int or d < 1 for d in shape):
        bad.append("input_shape")
    if bad:
        raise Fail(f"{path} has bad value(s) for {', '.join(bad)}")
    m = spec["model"]
    if m not in MODELS:
        raise Fail(f"{path}: unknown model {m!r} (expected one of {', '.join(MODELS)})")
    want = {"mlp": 1, "rnn": 2, "lstm": 2, "gan": 1}
    if (m == "cnn" and shape != [1, 28, 28]) or (m != "cnn" and len(shape) != want[m]):
        raise Fail(f"{path}: input_shape {shape} does not fit model {m}")
    for k in ("epochs", "warmup_epochs", "eval_batch_size", "hidden") + (
            ("latent_dim", "gan_samples") if m == "gan" else ("classes",)):
        if spec[k] < 1:
            raise Fail(f"{path}: {k} must be >= 1")
    return spec


def load_array(torch, path, dtype, row):
    """A raw little-endian array of `row` elements per sample: [n, row], or [n] when row is 1."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise Fail(f"cannot read {path}: {e.strerror or e}")
    width = row * (4 if dtype == torch.float32 else 1)
    if not raw or len(raw) % width:
        raise Fail(f"{path} has {len(raw)} bytes, not a positive multiple of {width} (one sample)")
    t = torch.frombuffer(bytearray(raw), dtype=dtype)
    return t if row == 1 else t.view(-1, row)


def load_split(torch, wdir, spec, split, labels):
    shape, row = spec["input_shape"], math.prod(spec["input_shape"])
    x = load_array(torch, wdir / f"{split}_x.f32", torch.float32, row).view(-1, *shape)
    if not labels:
        return x, None
    ypath = wdir / f"{split}_y.u8"
    y = load_array(torch, ypath, torch.uint8, 1).long()
    if len(y) != len(x):
        raise Fail(f"{ypath} has {len(y)} labels but {split}_x.f32 has {len(x)} samples")
    if int(y.max()) >= spec["classes"]:
        raise Fail(f"{ypath} has label {int(y.max())}, but classes is {spec['classes']}")
    return x, y


def build(torch, spec):
    nn, m, shape = torch.nn, spec["model"], spec["input_shape"]
    c, h = spec["classes"], spec["hidden"]
    if m == "mlp":
        return nn.Sequential(nn.Linear(shape[0], 16), nn.ReLU(), nn.Linear(16, c))
    if m == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(),
                             nn.Linear(128, c))
    if m in ("rnn", "lstm"):
        class Seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = (nn.RNN(shape[1], h, num_layers=1, nonlinearity="tanh", batch_first=True)
                            if m == "rnn" else nn.LSTM(shape[1], h, batch_first=True))
                self.fc = nn.Linear(h, c)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.fc(out[:, -1, :])
        return Seq()
    d, z = shape[0], spec["latent_dim"]
    g = nn.Sequential(nn.Linear(z, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                      nn.Linear(512, d), nn.Tanh())
    dis = nn.Sequential(nn.Linear(d, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
                        nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())
    return g, dis


def train(torch, spec, model, x, y):
    """Returns (epoch_seconds, mean loss of the last epoch). As in burn-zoo, a classifier's is
    per sample (batch losses weighted by batch size), the gan's is its D loss per step."""
    n, bs = len(x), spec["batch_size"] or len(x)
    adam = lambda p: torch.optim.Adam(p, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]))
    if spec["model"] == "gan":
        g, d = model
        opt_g, opt_d, bce = adam(g.parameters()), adam(d.parameters()), torch.nn.BCELoss()
        lat = spec["latent_dim"]
    else:
        opt, ce = adam(model.parameters()), torch.nn.CrossEntropyLoss()
    seconds = []
    for _ in range(spec["epochs"]):
        t0, loss_sum, steps = time.perf_counter(), 0.0, 0
        order = torch.randperm(n)
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            xb, b = x[idx], len(idx)
            if spec["model"] == "gan":
                ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
                opt_d.zero_grad()
                fake = g(torch.randn(b, lat)).detach()
                loss_d = bce(d(xb), ones) + bce(d(fake), zeros)
                loss_d.backward()
                opt_d.step()
                opt_g.zero_grad()
                loss_g = bce(d(g(torch.randn(b, lat))), ones)
                loss_g.backward()
                opt_g.step()
                loss_g.item()
                loss_sum += loss_d.item()
            else:
                loss = ce(model(xb), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss_sum += loss.item() * b
            steps += 1
        seconds.append(time.perf_counter() - t0)
    return seconds, loss_sum / (steps if spec["model"] == "gan" else n)


def timed_passes(min_seconds, one_pass):
    """One untimed warm-up pass, then timed passes until min_seconds (at least one): samples/s."""
    one_pass()
    done, t0 = 0, time.perf_counter()
    while True:
        done += one_pass()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return done / elapsed


def finite(v):
    return v if math.isfinite(v) else None


def write_atomic(path, data):
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def run(torch, wdir, out):
    spec = load_spec(wdir)
    gan = spec["model"] == "gan"
    if not out.parent.is_dir():
        raise Fail(f"the directory of --out {out} does not exist")
    x, y = load_split(torch, wdir, spec, "train", labels=not gan)
    if not gan:
        tx, ty = load_split(torch, wdir, spec, "test", labels=True)
    torch.manual_seed(spec["seed"])
    model = build(torch, spec)
    seconds, final_loss = train(torch, spec, model, x, y)
    warm = spec["warmup_epochs"] if spec["epochs"] > spec["warmup_epochs"] else 0
    train_sps = len(x) * len(seconds[warm:]) / sum(seconds[warm:])
    eb, extra = spec["eval_batch_size"], {}
    with torch.inference_mode():
        if gan:
            g = model[0].eval()
            z = torch.randn(eb, spec["latent_dim"])
            infer_sps = timed_passes(spec["min_infer_seconds"], lambda: len(g(z)))
            torch.manual_seed(spec["seed"] + 1)
            zs = torch.randn(spec["gan_samples"], spec["latent_dim"])
            t = torch.cat([g(zs[i:i + eb]) for i in range(0, len(zs), eb)])
            pix = torch.round((t + 1) / 2 * 255).clamp(0, 255).to(torch.uint8).contiguous()
            gen = out.resolve().parent / "generated.u8"
            write_atomic(gen, ctypes.string_at(pix.data_ptr(), pix.numel()))
            metric, extra = {"name": "fid", "value": None}, {"generated": str(gen)}
        else:
            model.eval()
            chunks = [tx[i:i + eb] for i in range(0, len(tx), eb)]
            correct = sum(int((model(c).argmax(1) == ty[i * eb:i * eb + len(c)]).sum())
                          for i, c in enumerate(chunks))  # the untimed pass for the metric
            infer_sps = timed_passes(spec["min_infer_seconds"],
                                     lambda: sum(len(model(c)) for c in chunks))
            metric = {"name": "test_accuracy", "value": correct / len(tx)}
    result = {
        "framework": "pytorch", "model": spec["model"], "torch_version": torch.__version__,
        "threads": torch.get_num_threads(), "python": sys.version.split()[0],
        "epochs": spec["epochs"], "batch_size": spec["batch_size"], "epoch_seconds": seconds,
        "train_samples_per_sec": train_sps, "infer_samples_per_sec": infer_sps,
        "final_train_loss": finite(final_loss), "metric": metric, **extra,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_seconds": time.perf_counter() - START,
    }
    write_atomic(out, (json.dumps(result, indent=2) + "\n").encode())


# --- --export: the tutorial's trained weights, for the zoo's PyTorch import (zoo-weights) ---

def write_safetensors(torch, path, tensors, metadata=None):
    """The safetensors format by hand (8-byte header length, JSON header, raw little-endian
    data), so the script keeps needing only torch; float32 tensors only."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        raw = ctypes.string_at(t.data_ptr(), t.numel() * 4) if t.numel() else b""
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    write_atomic(path, len(head).to_bytes(8, "little") + head + b"".join(chunks))


def read_idx_gz(path):
    import gzip
    try:
        raw = gzip.decompress(path.read_bytes())
    except OSError as e:
        raise Fail(f"cannot read {path}: {e}")
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return raw[4 + 4 * dims:], shape


def mnist_sample(torch, split):
    """The bundled MNIST sample, Normalize(0.5, 0.5) as the tutorial (and the zoo's CNN) does."""
    root = Path(__file__).resolve().parent.parent / "assets" / "mnist-sample"
    pix, shape = read_idx_gz(root / f"{split}-images-idx3-ubyte.gz")
    lab, _ = read_idx_gz(root / f"{split}-labels-idx1-ubyte.gz")
    x = torch.frombuffer(bytearray(pix), dtype=torch.uint8).view(shape[0], 1, 28, 28)
    y = torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()
    return (x.float() / 255 - 0.5) / 0.5, y


def moons(torch, n, noise, gen):
    """make_moons(n, noise): two interleaving half circles (as scikit-learn draws them)."""
    a, b = n // 2, n - n // 2
    ta, tb = torch.linspace(0, math.pi, a), torch.linspace(0, math.pi, b)
    x = torch.cat([torch.stack([ta.cos(), ta.sin()], 1),
                   torch.stack([1 - tb.cos(), 1 - tb.sin() - 0.5], 1)])
    y = torch.cat([torch.zeros(a), torch.ones(b)]).long()
    return x + noise * torch.randn(x.shape, generator=gen), y


def fit(torch, model, x, y, epochs, batch, lr, gen):
    opt, ce = torch.optim.Adam(model.parameters(), lr=lr), torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            ce(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def export(torch, out):
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(42)
    spec = {"input_shape": [2], "classes": 2, "hidden": 16}
    jobs = {}
    # MLP: two moons (standardised), 200 full-batch epochs of Adam lr 0.01, as in the tutorial.
    x, y = moons(torch, 1000, 0.2, gen)
    x = (x - x.mean(0)) / x.std(0, unbiased=False)
    mlp = fit(torch, build(torch, {**spec, "model": "mlp"}), x[:800], y[:800], 200, 800, 0.01, gen)
    jobs["mlp"] = (mlp, x[800:832], {})
    # CNN: one epoch on the bundled 3,000-image sample, batch 64, Adam lr 1e-3 (short run).
    tx, ty = mnist_sample(torch, "train")
    cnn = build(torch, {**spec, "model": "cnn", "input_shape": [1, 28, 28], "classes": 10})
    cnn = fit(torch, cnn, tx, ty, 1, 64, 1e-3, gen)
    vx, vy = mnist_sample(torch, "t10k")
    with torch.inference_mode():
        correct = int((cnn(vx).argmax(1) == vy).sum())
    jobs["cnn"] = (cnn, vx[:16], {"test_accuracy": correct / len(vx), "test_images": len(vx)})
    for name, (model, batch, meta) in jobs.items():
        state = model.state_dict()
        tmp = out / f".{name}.pt.tmp{os.getpid()}"
        torch.save(state, tmp)
        os.replace(tmp, out / f"{name}.pt")
        write_safetensors(torch, out / f"{name}.safetensors", state)
        with torch.inference_mode():
            output = model(batch)
        write_safetensors(torch, out / f"{name}_io.safetensors", {"input": batch, "output": output},
                          {"torch_version": torch.__version__, **meta})


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {message} (usage: --workload DIR --out RESULT.json, --export DIR, or --check)",
              file=sys.stderr)
        sys.exit(2)


def main():
    p = Parser(description="PyTorch reference run of one burn-zoo seed model.")
    p.add_argument("--workload", type=Path, help="directory written by burn-zoo's compare")
    p.add_argument("--out", type=Path, help="where to write the result JSON")
    p.add_argument("--check", action="store_true", help="print torch's version and exit")
    p.add_argument("--export", type=Path, metavar="DIR",
                   help="train the seed MLP and CNN briefly and write their weights to DIR")
    a = p.parse_args()
    if a.export:
        if a.workload or a.out or a.check:
            p.error("--export takes no other arguments")
        torch = import_torch()
        try:
            export(torch, a.export)
        except Fail as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if a.check:
        if a.workload or a.out:
            p.error("--check takes no other arguments")
        print(import_torch().__version__)
        return 0
    if not (a.workload and a.out):
        p.error("--workload and --out are both required")
    torch = import_torch()
    try:
        run(torch, a.workload, a.out)
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
