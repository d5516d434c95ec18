#!/usr/bin/env python3
"""PyTorch reference for burn-zoo's `compare`: the PyTorch tutorial's seed models.

This script mirrors the seed code (the PyTorch tutorial's MLP, CNN, RNN, LSTM and GAN, with
PyTorch's default init, float32, on the CPU) that burn-zoo's crates port. It trains and times one
model on a workload that `compare` has already written to disk, so both frameworks see identical
data and batch sizes, and writes a JSON result:

    python reference/pytorch_seed.py --workload DIR --out RESULT.json
    python reference/pytorch_seed.py --check      # prints torch's version if torch imports
    python reference/pytorch_seed.py --export DIR # trained seed weights for the zoo to import
    python reference/pytorch_seed.py --verify DIR # the zoo's exports, loaded back into PyTorch

`--export DIR` trains every seed model briefly, as the tutorial does: the MLP (two moons), the CNN
(the bundled MNIST sample), the RNN (tanh), GRU, LSTM (1 and 2 layers, and 2 bidirectional) on the
seed's random sequences, the RNN and LSTM on row-MNIST (rnn_mnist, lstm_mnist: the zoo binaries'
default task), and the GAN (one epoch on the sample), plus the strong CNN and the DCGAN. For each
MODEL it writes MODEL.pt (torch.save of the state_dict), MODEL.safetensors (the same tensors) and
MODEL_io.safetensors (a fixed `input` batch and the model's `output` on it, in eval mode; the
discriminators' also have their `logits`). The MNIST models' MODEL_io metadata holds their test
accuracy on the sample.

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


def seq_model(torch, cell, features, hidden, classes, layers=1, bidirectional=False):
    """The tutorial's sequence classifier: `rnn` (nn.RNN tanh/relu, nn.GRU or nn.LSTM,
    batch_first) read at the last step, then `fc`. A bidirectional network's head reads the
    forward direction's last step and the reverse direction's first (each has seen the whole
    sequence), as burn-zoo's LstmNet does."""
    nn = torch.nn

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            kw = dict(num_layers=layers, batch_first=True, bidirectional=bidirectional)
            if cell in ("tanh", "relu"):
                self.rnn = nn.RNN(features, hidden, nonlinearity=cell, **kw)
            else:
                self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(features, hidden, **kw)
            self.fc = nn.Linear(hidden * (2 if bidirectional else 1), classes)

        def forward(self, x):
            out, _ = self.rnn(x)
            if bidirectional:
                return self.fc(torch.cat([out[:, -1, :hidden], out[:, 0, hidden:]], 1))
            return self.fc(out[:, -1, :])
    return Seq()


def strong_cnn(torch):
    """burn-zoo's strong CNN preset in PyTorch: the seed's layers with batch norm after each
    convolution and the hidden Linear, dropout 0.25 after pooling and 0.5 before the head."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 64, 3),
                         nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                         nn.Flatten(), nn.Linear(9216, 128), nn.BatchNorm1d(128), nn.ReLU(),
                         nn.Dropout(0.5), nn.Linear(128, 10))


def lenet5(torch, classes=10):
    """burn-zoo's LeNet-5 preset: the 1998 layout for 28x28 inputs (padding 2), ReLU, max pooling."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, classes))


def resnet(torch, classes=10, channels=(16, 32, 64), blocks=2):
    """burn-zoo's residual preset (He et al. 2016, section 4.2): a 3x3 stem, three stages of basic
    blocks (the first of stages 2 and 3 with stride 2 and a 1x1 projection shortcut), global
    average pooling, a linear classifier. Layer names are the zoo's."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, i, o, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(o)
            self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(o)
            self.projection = (nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False),
                                             nn.BatchNorm2d(o))
                               if stride != 1 or i != o else None)

        def forward(self, x):
            s = x if self.projection is None else self.projection(x)
            y = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(y)) + s)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, channels[0], 3, 1, 1, bias=False)
            self.stem_bn = nn.BatchNorm2d(channels[0])
            layers, i = [], channels[0]
            for stage, o in enumerate(channels):
                for b in range(blocks):
                    layers.append(Block(i, o, 2 if stage > 0 and b == 0 else 1))
                    i = o
            self.blocks = nn.Sequential(*layers)
            self.fc = nn.Linear(i, classes)

        def forward(self, x):
            x = torch.relu(self.stem_bn(self.stem(x)))
            return self.fc(self.blocks(x).mean((2, 3)))

    return ResNet()


def dcgan(torch, latent=100, w=64, size=28):
    """The DCGAN of burn-zoo's `Arch::Conv` as PyTorch's DCGAN example writes it (no conv bias)."""
    nn = torch.nn
    g = nn.Sequential(nn.ConvTranspose2d(latent, 2 * w, size // 4, bias=False),
                      nn.BatchNorm2d(2 * w), nn.ReLU(),
                      nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                      nn.ConvTranspose2d(w, 1, 4, 2, 1, bias=False), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                      nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w),
                      nn.LeakyReLU(0.2), nn.Conv2d(2 * w, 1, size // 4, bias=False), nn.Flatten(),
                      nn.Sigmoid())
    return g, d


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
        return seq_model(torch, "tanh" if m == "rnn" else "lstm", shape[1], h, c)
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


def gan_train(torch, g, d, x, batch, gen):
    """One epoch of the tutorial's GAN loop: BCE, Adam lr 2e-4 for both, non-saturating G loss."""
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4)
    bce = torch.nn.BCELoss()
    order = torch.randperm(len(x), generator=gen)
    for i in range(0, len(x), batch):
        real = x[order[i:i + batch]]
        ones, zeros = torch.ones(len(real), 1), torch.zeros(len(real), 1)
        opt_d.zero_grad()
        fake = g(torch.randn(len(real), 100, generator=gen)).detach()
        (bce(d(real), ones) + bce(d(fake), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad()
        bce(d(g(torch.randn(len(real), 100, generator=gen))), ones).backward()
        opt_g.step()


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
    # Sequence models: the seed's task (random [n, 10, 8] sequences, Adam lr 0.01, full batch;
    # 50 epochs for the RNNs, 30 for the LSTMs), labelled by the sign of the first feature's sum.
    sx = torch.randn(100, 10, 8, generator=gen)
    sy = (sx[:, :, 0].sum(1) > 0).long()
    for name, cell, layers, bi, epochs in [("rnn", "tanh", 1, False, 50), ("gru", "gru", 1, False, 50),
                                           ("lstm", "lstm", 1, False, 30),
                                           ("lstm2", "lstm", 2, False, 30),
                                           ("bilstm", "lstm", 2, True, 30)]:
        net = fit(torch, seq_model(torch, cell, 8, 32, 2, layers, bi), sx, sy, epochs, 100, 0.01, gen)
        jobs[name] = (net, torch.randn(8, 10, 8, generator=gen), {})
    # The same cells on row-MNIST, the zoo binaries' default task (28 steps of 28 pixels, 10
    # classes; the zoo's seed training, Adam lr 1e-3 batch 64, for 3 epochs on the sample): the
    # weights `cargo run --example rnn|lstm -- --weights` takes, with their test accuracy.
    rows, vrows = tx.view(-1, 28, 28), vx.view(-1, 28, 28)
    for name, cell in [("rnn_mnist", "tanh"), ("lstm_mnist", "lstm")]:
        net = fit(torch, seq_model(torch, cell, 28, 32, 10), rows, ty, 3, 64, 1e-3, gen)
        with torch.inference_mode():
            correct = int((net(vrows).argmax(1) == vy).sum())
        jobs[name] = (net, vrows[:16], {"test_accuracy": correct / len(vy),
                                        "test_images": len(vy)})
    # GAN: one epoch of the tutorial's loop on the bundled sample (flattened, in [-1, 1]); the
    # discriminator's batch is real images, its outputs probabilities (`logits` before Sigmoid).
    g, d = build(torch, {**spec, "model": "gan", "input_shape": [784], "latent_dim": 100})
    gan_train(torch, g, d, tx.view(-1, 784), 64, gen)
    jobs["gan_generator"] = (g.eval(), torch.randn(8, 100, generator=gen), {})
    real = vx[:8].reshape(8, 784)
    with torch.inference_mode():
        logits = d.eval()[:-1](real)
    jobs["gan_discriminator"] = (d, real, {}, {"logits": logits})
    # The strong preset: ten training steps on the sample move its batch norm statistics.
    strong = fit(torch, strong_cnn(torch), tx[:640], ty[:640], 1, 64, 1e-3, gen)
    jobs["cnn_strong"] = (strong, vx[:16], {})
    # The DCGAN at PyTorch's init; three training-mode passes give its batch norms statistics.
    g, d = dcgan(torch)
    with torch.no_grad():
        for _ in range(3):
            d(g(torch.randn(16, 100, 1, 1, generator=gen)))
    z = torch.randn(8, 100, generator=gen)
    jobs["dcgan_generator"] = (g.eval(), z, {}, {}, z.view(8, 100, 1, 1))
    with torch.inference_mode():
        fake = g(z.view(8, 100, 1, 1))
        logits = d.eval()[:-1](fake)
    jobs["dcgan_discriminator"] = (d, fake, {}, {"logits": logits})
    for name, (model, batch, meta, *extra) in jobs.items():
        state = model.state_dict()
        tmp = out / f".{name}.pt.tmp{os.getpid()}"
        torch.save(state, tmp)
        os.replace(tmp, out / f"{name}.pt")
        write_safetensors(torch, out / f"{name}.safetensors", state)
        with torch.inference_mode():
            output = model(extra[1] if len(extra) > 1 else batch)
        io = {"input": batch, "output": output, **(extra[0] if extra else {})}
        write_safetensors(torch, out / f"{name}_io.safetensors", io,
                          {"torch_version": torch.__version__, **meta})


def read_safetensors(torch, path):
    """A safetensors file's float32 tensors, by hand (see write_safetensors)."""
    try:
        raw = path.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
    except (OSError, ValueError) as e:
        raise Fail(f"{path} is not a readable safetensors file: {e}")
    out, base = {}, 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info.get("dtype") != "F32":
            raise Fail(f"{path}: tensor '{name}' is {info.get('dtype')}, not F32")
        a, b = info["data_offsets"]
        if base + b > len(raw) or a > b:
            raise Fail(f"{path}: tensor '{name}' lies outside the file")
        t = torch.frombuffer(bytearray(raw[base + a:base + b]), dtype=torch.float32)
        out[name] = t.view(info["shape"]) if info["shape"] else t.reshape(())
    return out


def zoo_exports(torch):
    """Each export's tutorial module and how it maps burn-zoo's input batch to the outputs the
    zoo writes (the discriminators: logits, before the final Sigmoid)."""
    seq = lambda cell, layers=1, bi=False: (lambda: seq_model(torch, cell, 8, 32, 2, layers, bi),
                                            lambda m, x: m(x))
    spec = {"input_shape": [2], "classes": 2, "hidden": 16, "latent_dim": 100}
    return {
        "mlp": (lambda: build(torch, {**spec, "model": "mlp"}), lambda m, x: m(x)),
        "cnn": (lambda: build(torch, {**spec, "model": "cnn", "classes": 10,
                                      "input_shape": [1, 28, 28]}), lambda m, x: m(x)),
        "cnn_strong": (lambda: strong_cnn(torch), lambda m, x: m(x)),
        "cnn_lenet5": (lambda: lenet5(torch), lambda m, x: m(x)),
        "cnn_resnet": (lambda: resnet(torch), lambda m, x: m(x)),
        "rnn": seq("tanh"), "gru": seq("gru"), "lstm": seq("lstm"), "lstm2": seq("lstm", 2),
        "bilstm": seq("lstm", 2, True),
        "rnn_mnist": (lambda: seq_model(torch, "tanh", 28, 32, 10), lambda m, x: m(x)),
        "lstm_mnist": (lambda: seq_model(torch, "lstm", 28, 32, 10), lambda m, x: m(x)),
        "gan_generator": (lambda: build(torch, {**spec, "model": "gan", "input_shape": [784]})[0],
                          lambda m, x: m(x)),
        "gan_discriminator": (lambda: build(torch, {**spec, "model": "gan",
                                                    "input_shape": [784]})[1],
                              lambda m, x: m[:-1](x.reshape(len(x), 784))),
        "dcgan_generator": (lambda: dcgan(torch)[0], lambda m, x: m(x.view(len(x), -1, 1, 1))),
        "dcgan_discriminator": (lambda: dcgan(torch)[1], lambda m, x: m[:-1](x)),
    }


def verify(torch, wdir):
    """Loads every burn-zoo export in DIR (MODEL.safetensors, with MODEL_io.safetensors holding
    the zoo's `input` batch and its `output`) into the tutorial's module with
    load_state_dict(strict=True), and checks PyTorch's outputs against the zoo's. A CNN without
    MODEL_io (a binary's --export-weights) gets its test accuracy on the bundled sample, as do
    rnn_mnist and lstm_mnist (the rnn and lstm binaries' row-MNIST models)."""
    found = 0
    for name, (make, forward) in zoo_exports(torch).items():
        weights, io = wdir / f"{name}.safetensors", wdir / f"{name}_io.safetensors"
        if not weights.is_file():
            continue
        model = make()
        try:
            model.load_state_dict(read_safetensors(torch, weights), strict=True)
        except RuntimeError as e:
            raise Fail(f"{weights} does not load into the tutorial's {name}: "
                       f"{' '.join(str(e).split())}")
        found += 1
        if not io.is_file():
            if name.startswith("cnn") or name.endswith("_mnist"):
                # A zoo binary's --export-weights: the test accuracy on the bundled sample
                # (the sequence models read each image as 28 rows).
                vx, vy = mnist_sample(torch, "t10k")
                if name.endswith("_mnist"):
                    vx = vx.view(-1, 28, 28)
                with torch.inference_mode():
                    correct = int((model.eval()(vx).argmax(1) == vy).sum())
                print(f"{name}: loaded strictly; test accuracy {correct / len(vx):.4f} on "
                      f"{len(vx)} images (the bundled sample)")
            else:
                print(f"{name}: loaded strictly")
            continue
        batch = read_safetensors(torch, io)
        with torch.inference_mode():
            got = forward(model.eval(), batch["input"]).reshape(-1)
        want = batch["output"].reshape(-1)
        if got.shape != want.shape:
            raise Fail(f"{name}: PyTorch gives {got.numel()} outputs, the zoo {want.numel()}")
        diff, scale = float((got - want).abs().max()), float(want.abs().max())
        rel = diff / scale if scale > 0 else diff
        print(f"{name}: loaded strictly; largest difference from the zoo {diff:.3e} at scale "
              f"{scale:.4g} (relative {rel:.3e})")
        if not rel <= 1e-5:
            raise Fail(f"{name}: PyTorch's outputs differ from the zoo's by {rel:.3e} (relative)")
    if not found:
        raise Fail(f"{wdir} holds no burn-zoo export (MODEL.safetensors: one of "
                   f"{', '.join(zoo_exports(torch))})")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {message} (usage: --workload DIR --out RESULT.json, --export DIR, --verify DIR, or --check)",
              file=sys.stderr)
        sys.exit(2)


def main():
    p = Parser(description="PyTorch reference run of one burn-zoo seed model.")
    p.add_argument("--workload", type=Path, help="directory written by burn-zoo's compare")
    p.add_argument("--out", type=Path, help="where to write the result JSON")
    p.add_argument("--check", action="store_true", help="print torch's version and exit")
    p.add_argument("--export", type=Path, metavar="DIR",
                   help="train every seed model briefly and write its weights to DIR")
    p.add_argument("--verify", type=Path, metavar="DIR",
                   help="load burn-zoo's exports in DIR into the tutorial's modules (strict) "
                        "and check their outputs")
    a = p.parse_args()
    modes = [m for m in ("verify", "export", "check") if getattr(a, m)]
    if len(modes) > 1 or (modes and (a.workload or a.out)):
        p.error(f"--{modes[0]} takes no other arguments")
    if not modes and not (a.workload and a.out):
        p.error("--workload and --out are both required")
    torch = import_torch()
    try:
        if a.verify:
            verify(torch, a.verify)
        elif a.export:
            export(torch, a.export)
        elif a.check:
            print(torch.__version__)
        else:
            run(torch, a.workload, a.out)
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0

if __name__ == "__main__":
    sys.exit(main())
