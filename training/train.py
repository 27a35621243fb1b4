#!/usr/bin/env python3
"""Trains the shipped Visual-CCC classifiers and exports them per docs/model-format.md.

    python3 training/train.py --task uhcs         # -> models/uhcs.onnx + docs/models/uhcs.json
    python3 training/train.py --task morphology   # -> models/morphology.onnx + docs/models/morphology.json
    python3 training/train.py --smoke --out /tmp/smoke.onnx   # seconds; synthetic data only

Tasks
  uhcs        carbide_network / pearlite / spheroidite, real UHCS SEM images only.
  morphology  alloy / dendrite / spheroid. alloy = UHCS (all three classes) + synthetic
              grains and lamellar; spheroid = EMPS particle panels whose masks are round +
              synthetic spheroids and granular lithium; dendrite = synthetic dendrites,
              lithium whiskers and mossy deposits (no licensed real set). Synthetic images
              appear in every class, half of them with burnt-in SEM annotations (data bar,
              scale bar, panel letter), and every training crop's style is randomised
              (histogram matched to a random real micrograph of any class, percentile
              stretch, gamma, noise, blur, JPEG), so that neither "synthetic", annotations
              nor a source's grey statistics predicts a class.

Fine-tuning: --init MODEL starts from an exported model (same task and architecture);
--distill W keeps its predictions on the real crops it reads right. --relief-prob and
--texture-mix add relief rendering and cross-source texture to the augmentation;
--real-share S gives a class's real images that share of its draws
(docs/models/morphology.md, *Fine-tuning, relief and texture augmentation*).

Source-blind evaluation: --leave-out SOURCE (uhcs, emps; repeatable) trains without that
real source and tests on all of its images; --leave-out uhcs --leave-out emps is
synthetic-only -> real.

Calibration: a validation split (--val-frac of the training images) fits the temperature T
(visualccc.temperature) by minimising the whole-image negative log-likelihood; ECE before
and after is reported on the held-out test set. Unfamiliar images: the energy score
-logsumexp(logits / T), averaged over an image's tiles; the threshold
(visualccc.unfamiliar) is the --unfamiliar-quantile of the validation images' scores.

Real data is read from ../shared/data next to the repository (or $VISUALCCC_DATA /
--data); it is never copied. Synthetic images come from `visual-ccc synth` (the
repository's own generator, seeded, so the same command gives the same pixels).

Model: a small VGG-style CNN (conv3x3 + batch norm + ReLU blocks, max pooling), global
average pooling and one linear layer, so class activation maps are exact. Batch norm is
folded into the convolutions and the graph is written with the onnx helper API (Conv,
Relu, MaxPool, GlobalAveragePool, Flatten, Gemm), then checked against PyTorch with ONNX
Runtime. Everything is seeded; runs on CPU with two threads.

Evaluation: held-out and cross-validation images are scored the way the product scores them
by default, in whole-image mode (tiles of --tile-source-size source pixels, probabilities
averaged; the same tiling as rust/core/src/model/tiling.rs), and the held-out images also in the
published centre-crop mode.
"""

import argparse
import csv
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from augment import (RELIEF_PROB, STYLE_POOL, STYLE_PROB, TEXTURE_POOL, TEXTURE_PROB,  # noqa: E402
                     augment, sample_weights, style_quantiles)
from cnn import build_net, check_onnx, export_onnx, flops, freeze_batch_norm, load_onnx_weights  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACT_CROP = 1.2  # docs/model-format.md: shorter side -> 1.2*S, then centre S x S
# Training images are cached (uint8) at this shorter side, or larger where the smallest
# training crop would otherwise have fewer pixels than the network input.
MIN_CACHE_SHORT_SIDE = 384

TASKS = {
    "uhcs": {
        "classes": ["carbide_network", "pearlite", "spheroidite"],
        "description": "UHCS steel microconstituents (carbide network / pearlite / spheroidite), "
        "trained on the CMU-UHCS SEM data set (CC BY 3.0 US)",
        "invert": 0.0,
        # fine crops: pearlite's lamellae and spheroidite's particles are a few source
        # pixels wide, and whole-image mode averages many such tiles (docs/models/uhcs.md)
        "crop_scale": (0.1, 0.35),
        "tile_source_size": 107,  # the middle crop, 0.225 of a 475 px shorter side
        "epochs": 200,
    },
    "morphology": {
        "classes": ["alloy", "dendrite", "spheroid"],
        "description": "Morphology of a micrograph (alloy microstructure / dendrite / spheroidal "
        "particles), trained on real UHCS and EMPS images plus synthetic images of every class",
        "invert": 0.2,
        # sparse synthetic dendrites: small crops are often empty background
        "crop_scale": (0.45, 1.0),
        "tile_source_size": 320,
        "epochs": 100,
    },
}

# Synthetic images per class for the morphology task: generator class -> (model class, count per scale).
SYNTH_SCALES = [0.6, 0.8, 1.0, 1.3, 1.7]
SYNTH_TRAIN = {"dendrite": ("dendrite", 24), "whisker": ("dendrite", 18), "mossy": ("dendrite", 18),
               "spheroid": ("spheroid", 20), "granular": ("spheroid", 20),
               "grains": ("alloy", 16), "lamellar": ("alloy", 16)}
SYNTH_TEST = {"dendrite": ("dendrite", 4), "whisker": ("dendrite", 4), "mossy": ("dendrite", 4),
              "spheroid": ("spheroid", 4), "granular": ("spheroid", 4),
              "grains": ("alloy", 4), "lamellar": ("alloy", 4)}
SYNTH_TEST_SEED = 100000  # test images use seeds far from the training ones


# --------------------------------------------------------------------------- data


def data_root(arg):
    root = arg or os.environ.get("VISUALCCC_DATA") or os.path.join(REPO, "..", "shared", "data")
    return os.path.abspath(root)


def find_synth_binary(arg):
    candidates = [arg] if arg else [
        os.path.join(REPO, "target", "release", "visual-ccc"),
        os.path.join(REPO, "target", "debug", "visual-ccc"),
        shutil.which("visual-ccc"),
    ]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("visual-ccc binary not found: run `cargo build --release -p visual-ccc-cli` "
             "or pass --synth-bin PATH")


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def load_grey(path):
    """Grey uint8 as the core reads it (Rec. 601 luminance for colour images)."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"cannot read {path}")
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = img[:, :, :3]
        b, g, r = [img[:, :, i].astype(np.float64) for i in range(3)]
        img = 0.299 * r + 0.587 * g + 0.114 * b
        if img.max() > 255:
            img = img / 257.0
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = img.astype(np.float64)
        lo, hi = img.min(), img.max()
        img = ((img - lo) / max(hi - lo, 1e-12) * 255.0).round().astype(np.uint8)
    return img


def shrink_to_short_side(img, short):
    h, w = img.shape
    s = short / min(h, w)
    if s >= 1.0:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def contract_tensor(img, size):
    """docs/model-format.md centre-crop: resize so the shorter side is 1.2*S, centre S x S.

    The core resamples with a triangle (antialiased bilinear) filter like PIL's BILINEAR,
    so PIL is used here; OpenCV's INTER_LINEAR does not antialias and scores differently.
    """
    from PIL import Image

    h, w = img.shape
    s = CONTRACT_CROP * size / min(h, w)
    nh, nw = max(size, round(h * s)), max(size, round(w * s))
    pil = Image.fromarray(img.astype(np.float32) / 255.0, mode="F")
    x = np.asarray(pil.resize((nw, nh), Image.BILINEAR), dtype=np.float32)
    y0, x0 = (nh - size) // 2, (nw - size) // 2
    return np.clip(x[y0:y0 + size, x0:x0 + size], 0.0, 1.0)


class Sample:
    __slots__ = ("path", "label", "source", "image", "eval", "tiles")

    def __init__(self, path, label, source):
        self.path, self.label, self.source = path, label, source
        self.image = None
        self.eval = None  # centre-crop input tensor
        self.tiles = None  # whole-image-mode input tensors (float16)


def uhcs_samples(root, classes_map):
    out = []
    base = os.path.join(root, "uhcs")
    for folder, label in classes_map.items():
        d = os.path.join(base, folder)
        for name in sorted(os.listdir(d)):
            if name.lower().endswith((".jpg", ".jpeg", ".png", ".tif", ".tiff")):
                out.append(Sample(os.path.join(d, name), label, "uhcs"))
    return out


def emps_round_samples(root, label):
    """EMPS panels whose mask statistics say round, with at least 2 particles of >= 150 px."""
    out = []
    with open(os.path.join(root, "emps", "shape_stats.csv")) as f:
        for row in csv.DictReader(f):
            if (row["derived_shape_label"] == "round" and int(row["n_instances_area>=30px"]) >= 2
                    and float(row["median_area_px"]) >= 150):
                out.append(Sample(os.path.join(root, "emps", "images", row["image"]), label, "emps"))
    return sorted(out, key=lambda s: s.path)


def synth_samples(binary, outdir, spec, seed0, classes):
    """Synthetic images of every generator class at every scale, half of them (seeds +500)
    with burnt-in SEM annotations; generated two processes at a time."""
    out, jobs = [], []
    for gi, (gen_class, (label, count)) in enumerate(sorted(spec.items())):
        for si, scale in enumerate(SYNTH_SCALES):
            seed = seed0 + 1000 * (gi * len(SYNTH_SCALES) + si)
            for annotate, n, s0 in ((False, count - count // 2, seed), (True, count // 2, seed + 500)):
                if n == 0:
                    continue
                d = os.path.join(outdir, f"{gen_class}_s{scale}" + ("_a" if annotate else ""))
                cmd = [binary, "synth", "--class", gen_class, "--seed", str(s0), "--width", "448",
                       "--height", "384", "--count", str(n), "--scale", str(scale), "--out", d + "/"]
                jobs.append((cmd + (["--annotate"] if annotate else []), d, label))
    running = []
    for cmd, d, _ in jobs:
        if os.path.isdir(d) and len(os.listdir(d)) == int(cmd[cmd.index("--count") + 1]):
            continue  # already in --synth-cache (same generator binary, same seeds)
        running.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
        if len(running) >= 2:
            if running.pop(0).wait() != 0:
                raise SystemExit("visual-ccc synth failed")
    for r in running:
        if r.wait() != 0:
            raise SystemExit("visual-ccc synth failed")
    for _, d, label in jobs:
        for name in sorted(os.listdir(d)):
            out.append(Sample(os.path.join(d, name), classes.index(label), "synthetic"))
    return out


def whole_image_tiles(img, size, tile_source_size):
    """The tiles the core's whole-image mode classifies (rust/core/src/model/tiling.rs): the image
    resampled by size / tile_source_size (area averaging when shrinking, bilinear when
    enlarging), cut into size x size tiles overlapping by size // 4 (the CLI's default),
    the last tile of a row or column shifted inward; an image whose shorter side is below
    tile_source_size gets the centre-crop tensor as its one tile."""
    h, w = img.shape
    if min(h, w) < tile_source_size:
        return contract_tensor(img, size)[None]
    sw, sh = (max(1, round(e * size / tile_source_size)) for e in (w, h))
    interp = cv2.INTER_AREA if tile_source_size > size else cv2.INTER_LINEAR
    x = cv2.resize(img.astype(np.float32) / 255.0, (sw, sh), interpolation=interp)
    step = size - size // 4

    def starts(extent):
        return [min(i * step, extent - size) for i in range(-(-(extent - size) // step) + 1)]

    return np.stack([x[y0:y0 + size, x0:x0 + size] for y0 in starts(sh) for x0 in starts(sw)])


def decode_all(samples, size, min_crop_fraction, tile_source_size):
    cache_short_side = max(MIN_CACHE_SHORT_SIDE, math.ceil(size / min_crop_fraction))
    for s in samples:
        img = load_grey(s.path)
        s.image = shrink_to_short_side(img, cache_short_side)
        s.eval = contract_tensor(img, size)
        s.tiles = np.clip(whole_image_tiles(img, size, tile_source_size), 0.0, 1.0).astype(np.float16)


def stratified_split(samples, frac, seed):
    """Image-wise split, stratified by (label, source)."""
    rng = np.random.default_rng(seed)
    groups = {}
    for i, s in enumerate(samples):
        groups.setdefault((s.label, s.source), []).append(i)
    test = set()
    for key in sorted(groups):
        idx = np.array(groups[key])
        rng.shuffle(idx)
        test.update(idx[: int(round(len(idx) * frac))].tolist())
    train = [s for i, s in enumerate(samples) if i not in test]
    held = [s for i, s in enumerate(samples) if i in test]
    return train, held


def kfold(samples, k, seed):
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(samples), int)
    groups = {}
    for i, s in enumerate(samples):
        groups.setdefault((s.label, s.source), []).append(i)
    for key in sorted(groups):
        idx = np.array(groups[key])
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold_of[i] = j % k
    return [([s for i, s in enumerate(samples) if fold_of[i] != f],
             [s for i, s in enumerate(samples) if fold_of[i] == f]) for f in range(k)]


def manifest(samples_by_split, data):
    """Lines 'split<TAB>class index<TAB>source<TAB>path<TAB>sha256' and their SHA-256."""
    lines = []
    for split, samples in samples_by_split.items():
        for s in samples:
            rel = os.path.relpath(s.path, data) if s.source != "synthetic" else \
                "synth/" + os.path.basename(os.path.dirname(s.path)) + "/" + os.path.basename(s.path)
            lines.append(f"{split}\t{s.label}\t{s.source}\t{rel}\t{file_sha256(s.path)}")
    lines.sort()
    text = "\n".join(lines) + "\n"
    return text, hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- training


def train_model(torch, samples, classes, args, epochs, seed, log_prefix=""):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_net(torch, args.widths, len(classes))
    if args.init:
        load_onnx_weights(torch, net, args.init)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = max(1, args.epoch_samples // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=epochs * steps_per_epoch,
                                                pct_start=0.15)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    teacher = None
    if args.init and args.distill > 0:
        # Learning without forgetting: on real images the fine-tuned model is also pulled
        # towards what the starting model said, so that new synthetic looks do not move
        # the real sources it already read right.
        teacher = build_net(torch, args.widths, len(classes))
        load_onnx_weights(torch, teacher, args.init)
        teacher.eval()
    p = sample_weights(samples, len(classes), args.real_share)
    invert = TASKS[args.task]["invert"]
    t0 = time.time()
    for epoch in range(epochs):
        net.train()
        if args.init:
            freeze_batch_norm(torch, net)
        total, correct, loss_sum = 0, 0, 0.0
        for _ in range(steps_per_epoch):
            idx = rng.choice(len(samples), size=args.batch, p=p)
            x = np.stack([augment(samples[i].image, args.size, rng, invert, args.crop_scale) for i in idx])
            y = torch.tensor([samples[i].label for i in idx])
            xt = torch.from_numpy(x[:, None])
            out = net(xt)
            loss = loss_fn(out, y)
            if teacher is not None:
                real = torch.tensor([samples[i].source != "synthetic" for i in idx])
                if real.any():
                    with torch.no_grad():
                        target = torch.softmax(teacher(xt), dim=1)
                    # only crops the starting model reads right: it is not kept where an
                    # augmented look (relief, inversion) fools it
                    keep = real & (target.argmax(1) == y)
                    if keep.any():
                        kl = torch.nn.functional.kl_div(torch.log_softmax(out[keep], dim=1), target[keep],
                                                        reduction="batchmean")
                        loss = loss + args.distill * kl * keep.float().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((out.argmax(1) == y).sum())
            total += len(idx)
        print(f"{log_prefix}epoch {epoch + 1}/{epochs} loss {loss_sum / total:.3f} "
              f"train acc {correct / total:.3f} ({time.time() - t0:.0f} s)", flush=True)
    net.eval()
    return net


def predict(torch, net, samples, mode):
    """Class probabilities per sample: of its centre crop, or (mode "whole", the product's
    default) the mean over its whole-image tiles."""
    net.eval()
    out = []
    with torch.no_grad():
        if mode == "whole":
            for s in samples:
                x = torch.from_numpy(s.tiles.astype(np.float32)[:, None])
                out.append(torch.softmax(net(x), 1).mean(0, keepdim=True).numpy())
        else:
            for i in range(0, len(samples), 64):
                x = np.stack([s.eval for s in samples[i:i + 64]])[:, None]
                out.append(torch.softmax(net(torch.from_numpy(x)), 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def tile_logits(torch, net, samples):
    """Logits of every whole-image-mode tile of every sample (float64 arrays)."""
    net.eval()
    with torch.no_grad():
        return [net(torch.from_numpy(s.tiles.astype(np.float32)[:, None])).numpy().astype(np.float64)
                for s in samples]


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def whole_probs(logits, temperature):
    """The product's whole-image probabilities: mean over tiles of softmax(logits / T)."""
    return np.stack([_softmax(l / temperature).mean(0) for l in logits])


def fit_temperature(logits, labels):
    """T minimising the negative log-likelihood of the whole-image probabilities (grid
    search over 0.25..8, log-spaced; the mean over tiles has no closed-form gradient)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 241))
    idx = np.arange(len(labels))
    nll = [-np.mean(np.log(whole_probs(logits, t)[idx, labels] + 1e-12)) for t in grid]
    return float(grid[int(np.argmin(nll))])


def expected_calibration_error(probs, labels, bins=15):
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs((pred[m] == labels[m]).mean() - conf[m].mean())
    return float(total)


def energy_scores(logits, temperature):
    """Unfamiliarity per image: the energy -T logsumexp(logits / T) averaged over its tiles
    (higher = less like the training data); rust/core/src/model computes the same."""
    out = []
    for l in logits:
        z = l / temperature
        m = z.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
        out.append(float((-temperature * lse).mean()))
    return np.array(out)


def metrics(samples, probs, classes):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

    y = np.array([s.label for s in samples])
    pred = probs.argmax(1)
    lab = list(range(len(classes)))
    res = {
        "n": int(len(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "f1_weighted": float(f1_score(y, pred, labels=lab, average="weighted", zero_division=0)),
        "f1_macro": float(f1_score(y, pred, labels=lab, average="macro", zero_division=0)),
        "confusion_matrix": confusion_matrix(y, pred, labels=lab).tolist(),
    }
    by_source = {}
    for src in sorted({s.source for s in samples}):
        m = np.array([s.source == src for s in samples])
        by_source[src] = {"n": int(m.sum()), "accuracy": float((pred[m] == y[m]).mean()),
                          "confusion_matrix": confusion_matrix(y[m], pred[m], labels=lab).tolist()}
    res["by_source"] = by_source
    return res


# --------------------------------------------------------------------------- main


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(TASKS), default="morphology")
    ap.add_argument("--smoke", action="store_true", help="tiny run on a few synthetic images (CI)")
    ap.add_argument("--data", help="real data folder (default ../shared/data or $VISUALCCC_DATA)")
    ap.add_argument("--synth-bin", help="visual-ccc binary used for synthetic images")
    ap.add_argument("--synth-cache", help="keep the synthetic images in this folder and reuse them "
                                          "(runs that share the generator binary)")
    ap.add_argument("--out", help="ONNX file (default models/TASK.onnx)")
    ap.add_argument("--report", help="JSON metrics file (default docs/models/TASK.json)")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--tile-source-size", type=int,
                    help="source pixels one whole-image-mode tile covers, written as "
                         "visualccc.tile_source_size (>= 16; default per task: the middle of "
                         "the training crops' source sizes on the 645x475 UHCS fields)")
    ap.add_argument("--crop-scale", type=float, nargs=2, metavar=("MIN", "MAX"),
                    help="training crops' side as fractions of the image's shorter side "
                         "(default per task)")
    ap.add_argument("--init", metavar="MODEL.onnx",
                    help="fine-tune: start from this model's weights (written by this script, same "
                         "task and architecture; batch norm stays on the folded statistics) "
                         "instead of a random initialisation")
    ap.add_argument("--distill", type=float, default=0.0, metavar="W",
                    help="with --init: weight of a distillation loss that keeps the predictions "
                         "on real training crops that the --init model reads right close to its own")
    ap.add_argument("--epochs", type=int, help="training epochs of the final model (default per task)")
    ap.add_argument("--epoch-samples", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--cv-folds", type=int, default=3)
    ap.add_argument("--cv-epochs", type=int, default=25)
    ap.add_argument("--test-frac", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--style-prob", type=float, nargs=2, default=[0.35, 0.15], metavar=("MATCH", "STRETCH"),
                    help="probabilities of histogram matching to a random training image and of a "
                         "percentile stretch per crop (0 0 turns style randomisation off)")
    ap.add_argument("--relief-prob", type=float, default=0.0,
                    help="probability of rendering a training crop as topographic relief "
                         "(augment.relief)")
    ap.add_argument("--texture-mix", type=float, default=0.0, metavar="P",
                    help="probability of adding the fine texture of a random real training "
                         "micrograph (any class) to a training crop (augment.texture_mix)")
    ap.add_argument("--real-share", type=float, metavar="S",
                    help="share of a class's training draws that go to its real images where it "
                         "has real and synthetic ones (default: each source equally)")
    ap.add_argument("--leave-out", action="append", choices=["uhcs", "emps"], default=[],
                    help="morphology: train without this real source and test on all of its "
                         "images (repeatable; both = synthetic-only -> real)")
    ap.add_argument("--val-frac", type=float, default=0.1,
                    help="training images set aside to fit the temperature and the "
                         "unfamiliar threshold")
    ap.add_argument("--unfamiliar-quantile", type=float, default=0.95,
                    help="validation quantile of the energy score above which an image is "
                         "flagged unfamiliar")
    args = ap.parse_args(argv)
    if args.epochs is None:
        args.epochs = TASKS[args.task]["epochs"]
    if args.tile_source_size is None:
        args.tile_source_size = TASKS[args.task]["tile_source_size"]
    if args.tile_source_size < 16:
        ap.error("--tile-source-size must be at least 16 source pixels")
    args.widths = [(1, 16), (1, 32), (2, 48), (2, 96)]
    if args.distill > 0 and not args.init:
        ap.error("--distill needs --init (the model whose predictions it keeps)")
    if args.init and args.cv_folds > 1:
        ap.error("--init: cross-validation folds would start from weights that already saw "
                 "their validation images; add --cv-folds 0")
    args.crop_scale = tuple(args.crop_scale or TASKS[args.task]["crop_scale"])
    if not 0.0 < args.crop_scale[0] <= args.crop_scale[1] <= 1.0:
        ap.error("--crop-scale needs 0 < MIN <= MAX <= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        print("SKIP: training needs PyTorch (pip install -r training/requirements.txt)")
        return 0
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    if args.smoke:
        args.task = "morphology"
        args.size, args.epochs, args.epoch_samples, args.batch = 64, 1, 16, 8
        args.cv_folds = 0
        args.widths = [(1, 8), (1, 16)]
    task = TASKS[args.task]
    classes = task["classes"]
    out = args.out or os.path.join(REPO, "models", f"{args.task}.onnx")
    report_path = args.report or (None if args.smoke else os.path.join(REPO, "docs", "models", f"{args.task}.json"))
    cmd = "python3 training/train.py " + " ".join(argv if argv is not None else sys.argv[1:])
    t_start = time.time()

    # SIGTERM -> SystemExit, so that the `finally` below removes the synthetic images
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="visualccc-train-")
    try:
        data = data_root(args.data)
        if args.smoke:
            binary = find_synth_binary(args.synth_bin)
            train_s, test_s = [], []
            for gi, (gen, label) in enumerate([("grains", 0), ("dendrite", 1), ("spheroid", 2)]):
                d = os.path.join(tmp, gen)
                subprocess.run([binary, "synth", "--class", gen, "--seed", str(gi * 10), "--width", "96",
                                "--height", "80", "--count", "3", "--out", d + "/"],
                               check=True, stdout=subprocess.DEVNULL)
                names = sorted(os.listdir(d))
                train_s += [Sample(os.path.join(d, n), label, "synthetic") for n in names[:2]]
                test_s += [Sample(os.path.join(d, n), label, "synthetic") for n in names[2:]]
        else:
            if not os.path.isdir(data):
                sys.exit(f"real data folder not found: {data} (set --data or $VISUALCCC_DATA)")
            if args.task == "uhcs":
                real = uhcs_samples(data, {c: i for i, c in enumerate(classes)})
                train_s, test_s = stratified_split(real, args.test_frac, args.seed)
            else:
                binary = find_synth_binary(args.synth_bin)
                uhcs = uhcs_samples(data, {c: 0 for c in TASKS["uhcs"]["classes"]})
                # the same image-wise UHCS split as the uhcs task (same seed, same strata
                # up to the label), so neither model trains on the other's test images
                uhcs_by_class = uhcs_samples(data, {c: i for i, c in enumerate(TASKS["uhcs"]["classes"])})
                _, uhcs_test = stratified_split(uhcs_by_class, args.test_frac, args.seed)
                test_paths = {s.path for s in uhcs_test}
                emps = emps_round_samples(data, 2)
                emps_train, emps_test = stratified_split(emps, args.test_frac, args.seed)
                synth_dir = args.synth_cache or tmp
                synth_train = synth_samples(binary, os.path.join(synth_dir, "train"), SYNTH_TRAIN, 1, classes)
                synth_test = synth_samples(binary, os.path.join(synth_dir, "test"), SYNTH_TEST, SYNTH_TEST_SEED,
                                           classes)
                train_s = [s for s in uhcs if s.path not in test_paths] + emps_train + synth_train
                test_s = [s for s in uhcs if s.path in test_paths] + emps_test + synth_test
                if args.leave_out:  # source-blind evaluation: the whole source is test data
                    left = set(args.leave_out)
                    test_s = [s for s in test_s if s.source not in left] + \
                        [s for s in train_s + test_s if s.source in left]
                    train_s = [s for s in train_s if s.source not in left]
        val_s = []
        if args.val_frac > 0 and not args.smoke:
            train_s, val_s = stratified_split(train_s, args.val_frac, args.seed + 7)
        print(f"train {len(train_s)} images, validation {len(val_s)}, held-out test {len(test_s)}; "
              "decoding...", flush=True)
        decode_all(train_s + val_s + test_s, args.size, args.crop_scale[0], args.tile_source_size)
        STYLE_POOL[:] = [style_quantiles(s.image) for s in train_s]
        STYLE_PROB[:] = args.style_prob
        RELIEF_PROB[:] = [args.relief_prob]
        TEXTURE_POOL[:] = [s.image for s in train_s if s.source != "synthetic"]
        TEXTURE_PROB[:] = [args.texture_mix]
        manifest_text, manifest_hash = manifest({"train": train_s, "validation": val_s, "test": test_s}, data)
        gflop = flops(args.widths, args.size) / 1e9
        print(f"model {args.widths}, input {args.size}, {gflop:.3f} GFLOP per tile", flush=True)

        t_train = time.time()
        net = train_model(torch, train_s, classes, args, args.epochs, args.seed)
        train_seconds = time.time() - t_train
        test_labels = np.array([s.label for s in test_s])
        test_logits = tile_logits(torch, net, test_s)
        temperature, threshold = 1.0, None
        if val_s:
            val_logits = tile_logits(torch, net, val_s)
            temperature = fit_temperature(val_logits, np.array([s.label for s in val_s]))
            threshold = float(np.quantile(energy_scores(val_logits, temperature), args.unfamiliar_quantile))
        test_energy = energy_scores(test_logits, temperature)
        calibration = {
            "temperature": temperature,
            "ece_before": expected_calibration_error(whole_probs(test_logits, 1.0), test_labels),
            "ece_after": expected_calibration_error(whole_probs(test_logits, temperature), test_labels),
            "nll_before": float(-np.mean(np.log(whole_probs(test_logits, 1.0)[np.arange(len(test_s)), test_labels] + 1e-12))),
            "nll_after": float(-np.mean(np.log(whole_probs(test_logits, temperature)[np.arange(len(test_s)), test_labels] + 1e-12))),
        }
        unfamiliar = None
        if threshold is not None:
            unfamiliar = {"score": "energy", "threshold": threshold, "quantile": args.unfamiliar_quantile,
                          "flagged_by_source": {src: float(np.mean([e > threshold for e, s in zip(test_energy, test_s)
                                                                    if s.source == src]))
                                                for src in sorted({s.source for s in test_s})}}
        print(f"calibration: {calibration}\nunfamiliar: {unfamiliar}", flush=True)
        test_m = metrics(test_s, whole_probs(test_logits, temperature), classes)
        test_crop_m = metrics(test_s, predict(torch, net, test_s, "center-crop"), classes)
        for name, m in (("whole", test_m), ("centre-crop", test_crop_m)):
            print(f"held-out ({name}): acc {m['accuracy']:.3f} balanced {m['balanced_accuracy']:.3f} "
                  f"F1w {m['f1_weighted']:.3f}\n{np.array(m['confusion_matrix'])}", flush=True)

        def finish(cv):
            report = {
                "task": args.task, "classes": classes, "command": cmd,
                "input_size": args.size, "architecture": {"stages": args.widths, "gflop_per_tile": gflop},
                "train_images": len(train_s), "test_images": len(test_s),
                "train_sources": {src: sum(1 for s in train_s if s.source == src) for src in sorted({s.source for s in train_s})},
                "epochs": args.epochs, "epoch_samples": args.epoch_samples, "seed": args.seed,
                "training_seconds": round(train_seconds), "total_seconds": None,
                "held_out": test_m, "held_out_center_crop": test_crop_m, "cross_validation": cv,
                "leave_out": args.leave_out, "validation_images": len(val_s),
                "calibration": calibration, "unfamiliar": unfamiliar,
                "training_manifest_sha256": manifest_hash,
                "environment": {"python": platform.python_version(), "torch": torch.__version__,
                                "threads": args.threads},
            }
            metrics_meta = {"held_out_accuracy": round(test_m["accuracy"], 4),
                            "held_out_balanced_accuracy": round(test_m["balanced_accuracy"], 4),
                            "held_out_f1_weighted": round(test_m["f1_weighted"], 4), "held_out_n": test_m["n"]}
            if cv:
                metrics_meta["cv_accuracy_mean"] = round(cv["accuracy"]["mean"], 4)
                metrics_meta["cv_accuracy_sd"] = round(cv["accuracy"]["sd"], 4)
            meta = {
                "visualccc.format": "1",
                "visualccc.classes": json.dumps(classes),
                "visualccc.input_size": str(args.size),
                "visualccc.preprocessing": "center-crop",
                "visualccc.tile_source_size": str(args.tile_source_size),
                "visualccc.kind": "fixture" if args.smoke else "trained",
                "visualccc.description": ("smoke-test model: one tiny epoch on 6 synthetic images, meaningless"
                                          if args.smoke else task["description"]),
                "visualccc.input_scale": (f"trained on square crops of {args.crop_scale[0]}-{args.crop_scale[1]} "
                                      f"of the image's shorter side "
                                          f"resized to {args.size} px (centre-crop mode sees 0.83)"),
                "visualccc.training_manifest_sha256": manifest_hash,
                "visualccc.training_command": cmd,
                "visualccc.metrics": json.dumps(metrics_meta, sort_keys=True),
            }
            if val_s:
                meta["visualccc.temperature"] = f"{temperature:.4f}"
                meta["visualccc.unfamiliar"] = json.dumps(
                    {"score": "energy", "threshold": round(threshold, 4),
                     "quantile": args.unfamiliar_quantile}, sort_keys=True)
            export_onnx(net, args.widths, args.size, classes, meta, out)
            probe = np.stack([s.eval for s in test_s[:4]])[:, None].astype(np.float32)
            diff = check_onnx(out, torch, net, probe)
            report["onnx_max_logit_diff"] = diff
            report["total_seconds"] = round(time.time() - t_start)
            print(f"wrote {out} ({os.path.getsize(out) / 1e6:.2f} MB; ONNX vs PyTorch max diff {diff:.2e}); "
                  f"total {report['total_seconds']} s", flush=True)
            if report_path:
                os.makedirs(os.path.dirname(report_path), exist_ok=True)
                with open(report_path, "w") as f:
                    json.dump(report, f, indent=1)
                    f.write("\n")
                with open(os.path.splitext(report_path)[0] + ".manifest.tsv", "w") as f:
                    f.write(manifest_text)

        finish(None)  # a usable model on disk before the (long) cross-validation
        if args.cv_folds > 1:
            fold_metrics = []
            t_cv = time.time()
            for f, (tr, va) in enumerate(kfold(train_s, args.cv_folds, args.seed)):
                fold_net = train_model(torch, tr, classes, args, args.cv_epochs, args.seed + 100 + f,
                                       log_prefix=f"[cv {f + 1}/{args.cv_folds}] ")
                m = metrics(va, predict(torch, fold_net, va, "whole"), classes)
                print(f"[cv {f + 1}] acc {m['accuracy']:.3f} balanced {m['balanced_accuracy']:.3f}", flush=True)
                fold_metrics.append(m)
            cv = {"folds": args.cv_folds, "epochs_per_fold": args.cv_epochs,
                  "seconds": round(time.time() - t_cv)}
            for key in ("accuracy", "balanced_accuracy", "f1_weighted"):
                vals = np.array([m[key] for m in fold_metrics])
                cv[key] = {"mean": float(vals.mean()), "sd": float(vals.std(ddof=1)),
                           "folds": [float(v) for v in vals]}

            finish(cv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
