#!/usr/bin/env python3
"""Trains the learned foreground map used by the default clustering (models/features/foreground.onnx).

    python3 training/train_foreground.py                    # all EMPS images -> models/features/foreground.onnx
    python3 training/train_foreground.py --train-on even    # train on even, score the odd half
    python3 training/train_foreground.py --smoke --out /tmp/fg.onnx   # seconds; synthetic blobs

What it learns. k-means on smoothed grey splits an image into a darker and a brighter
class; on particle micrographs that split cuts through grainy or shaded backgrounds and
through particles whose faces match the background. The network predicts, per pixel, the
probability of belonging to a particle (the ground-truth mask): what a compact object on a
background looks like (closed outlines, filled interiors, grain that is not an object).
Half of its training crops have their grey scale inverted, so it cannot rely on particles
being dark (TEM) or bright (SEM) and finds them from shape and surroundings instead.

Input normalisation (the same as rust/core/src/analysis/cluster/foreground.rs, which runs the model):
  1. grey (Rec. 601 luminance for colour), shrunk with an antialiasing triangle filter so
     the longer side is at most WORKING_SIZE (never enlarged);
  2. z = (v - median) / h, h = half the range between the 2 % and 98 % percentiles of the
     shrunk image, clipped to [-3, 3];
  3. edge-padded to a multiple of 32; the output is cropped back and bilinearly enlarged.

Model: a small U-Net (8-16-32-48-64 channels, four 2x poolings, bilinear 2x upsampling,
batch norm folded into the convolutions) written with the onnx helper API (Conv, Relu,
MaxPool, Resize, Concat, Sigmoid), checked against PyTorch with ONNX Runtime. Everything
is seeded and runs on CPU with two threads.

Data: ../shared/data/emps (or $VISUALCCC_DATA / --data), images/*.png with segmaps/*.png
(ground truth segmap > 0); never copied into the repository. Halves are alternate images
in file-name order, as in rust/core/examples/emps_iou.rs.
"""

import argparse
import glob
import json
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKING_SIZE = 192  # 256 and 384 scored lower on the unseen halves (docs/models/foreground.md)
MULTIPLE = 32  # the core pads to this: up to five 2x poolings
CLIP = 3.0
WIDTHS = (8, 16, 32, 48, 64)
BN_BATCHES = 100


# ---------------------------------------------------------------- input normalisation

def triangle_matrix(n_in, n_out):
    """Rows of the antialiasing triangle filter of rust/core/src/model/preprocess.rs (axis_taps)."""
    scale = n_out / n_in
    support = 1.0 / scale if scale < 1.0 else 1.0
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        centre = (o + 0.5) / scale
        first = max(int(np.floor(centre - support)), 0)
        last = min(int(np.ceil(centre + support)), n_in)
        first = min(first, max(last - 1, 0))
        idx = np.arange(first, max(last, first + 1))
        w = np.maximum(1.0 - np.abs((idx + 0.5 - centre) / support), 0.0)
        if w.sum() > 0:
            m[o, idx] = w / w.sum()
        else:
            m[o, idx[0] if centre < first else idx[-1]] = 1.0
    return m


def working_shape(h, w):
    scale = min(1.0, WORKING_SIZE / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def shrink(grey, shape):
    h, w = grey.shape
    if (h, w) == shape:
        return grey.astype(np.float64)
    return triangle_matrix(h, shape[0]) @ grey.astype(np.float64) @ triangle_matrix(w, shape[1]).T


def normalise(grey):
    """The network input (working size) for a grey image."""
    small = shrink(grey, working_shape(*grey.shape))
    median = np.median(small)
    low, high = np.percentile(small, [2, 98])
    z = (small - median) / max(0.5 * (high - low), 1e-6)
    return np.clip(z, -CLIP, CLIP).astype(np.float32)


def pad_to_multiple(a):
    h, w = a.shape
    return np.pad(a, ((0, -h % MULTIPLE), (0, -w % MULTIPLE)), mode="edge")


# ---------------------------------------------------------------- data

def load_grey(path):
    """Grey as the core reads it: Rec. 601 luminance of colour images, not rounded to
    8 bits (train.load_grey rounds for its uint8 image cache)."""
    import cv2
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"cannot read {path}")
    if img.ndim == 3:
        b, g, r = [img[:, :, i].astype(np.float64) for i in range(3)]
        img = 0.299 * r + 0.587 * g + 0.114 * b
    return img.astype(np.float64)


def emps_pairs(root):
    """(grey, truth mask) of every EMPS image, in file-name order."""
    import cv2
    names = sorted(glob.glob(os.path.join(root, "emps", "images", "*.png")))
    if not names:
        sys.exit(f"no EMPS images under {root}/emps/images (set --data or $VISUALCCC_DATA)")
    pairs = []
    for p in names:
        mask = cv2.imread(os.path.join(root, "emps", "segmaps", os.path.basename(p)), cv2.IMREAD_UNCHANGED)
        if mask.ndim == 3:
            mask = mask.max(axis=2)
        pairs.append((load_grey(p), mask > 0))
    return pairs


def smoke_pairs(n=12, seed=0):
    """Bright or dark discs on a noisy shaded background."""
    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(n):
        h, w = 96, 128
        yy, xx = np.mgrid[0:h, 0:w]
        mask = np.zeros((h, w), bool)
        for _ in range(rng.integers(2, 6)):
            cy, cx, r = rng.uniform(10, h - 10), rng.uniform(10, w - 10), rng.uniform(5, 14)
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        grey = 120 + 0.3 * xx + rng.normal(0, 12, (h, w)) + np.where(mask, 70 if i % 2 else -70, 0)
        pairs.append((np.clip(grey, 0, 255), mask))
    return pairs


def prepared(pairs):
    xs, ys = [], []
    for grey, truth in pairs:
        z = normalise(grey)
        xs.append(z)
        ys.append((shrink(truth.astype(np.float64), z.shape) > 0.5).astype(np.float32))
    return xs, ys


# ---------------------------------------------------------------- model

def build_net(torch, widths):
    nn, F = torch.nn, torch.nn.functional

    def block(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                             nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.enc = nn.ModuleList([block(1, c[0])] + [block(c[i], c[i + 1]) for i in range(len(c) - 1)])
            self.dec = nn.ModuleList([block(c[i + 1] + c[i], c[i]) for i in range(len(c) - 1)])
            self.out = nn.Conv2d(c[0], 1, 1)

        def forward(self, x):
            skips = []
            for i, b in enumerate(self.enc):
                x = b(x if i == 0 else F.max_pool2d(x, 2))
                skips.append(x)
            for i in reversed(range(len(self.dec))):
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                x = self.dec[i](torch.cat([x, skips[i]], 1))
            return self.out(x)

    return UNet(tuple(widths))


def train(torch, xs, ys, steps, seed, widths, crop=128, batch=12, log=print):
    from scipy import ndimage as ndi
    F = torch.nn.functional
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_net(torch, widths)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)

    def sample():
        i = rng.integers(len(xs))
        x, y = xs[i], ys[i]
        s = rng.uniform(0.6, 1.3)
        if abs(s - 1) > 0.05:
            x, y = ndi.zoom(x, s, order=1), ndi.zoom(y, s, order=0)
        h, w = x.shape
        if h < crop or w < crop:
            pad = ((0, max(crop - h, 0)), (0, max(crop - w, 0)))
            x, y = np.pad(x, pad, mode="reflect"), np.pad(y, pad, mode="reflect")
            h, w = x.shape
        r, c = rng.integers(h - crop + 1), rng.integers(w - crop + 1)
        x, y = x[r:r + crop, c:c + crop], y[r:r + crop, c:c + crop]
        k = rng.integers(4)
        x, y = np.rot90(x, k), np.rot90(y, k)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        x = x * rng.uniform(0.7, 1.3) + rng.normal(0, 0.1)
        if rng.random() < 0.5:
            x = -x  # polarity: particles must be found whether dark or bright
        return x.copy(), y.copy()

    t0 = time.time()
    net.train()
    for step in range(steps):
        pairs = [sample() for _ in range(batch)]
        x = torch.from_numpy(np.stack([p[0] for p in pairs])[:, None].astype(np.float32))
        y = torch.from_numpy(np.stack([p[1] for p in pairs])[:, None].astype(np.float32))
        out = net(x)
        prob = torch.sigmoid(out)
        dice = 1 - (2 * (prob * y).sum() + 1) / (prob.sum() + y.sum() + 1)
        loss = F.binary_cross_entropy_with_logits(out, y) + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - t0:.0f} s")
    recalibrate_batch_norm(torch, net, sample, batch, batches=min(steps, BN_BATCHES))
    net.eval()
    return net


def recalibrate_batch_norm(torch, net, sample, batch, batches):
    """Replaces the batch-norm running statistics (a momentum average over the last few
    noisy batches of 12 crops, which made the exported network differ from run to run)
    by their plain average over `batches` fresh batches of the final weights."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    with torch.no_grad():
        for _ in range(batches):
            x = np.stack([sample()[0] for _ in range(batch)])[:, None].astype(np.float32)
            net(torch.from_numpy(x))


def torch_runner(torch, net):
    """The network as a function from a padded working-size input to its probability."""
    def run(padded):
        with torch.no_grad():
            return torch.sigmoid(net(torch.from_numpy(padded)[None, None]))[0, 0].numpy()
    return run


def onnx_runner(path):
    """An exported network (ONNX Runtime, one thread) as a function like torch_runner's."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return lambda padded: session.run(["probability"], {"input": padded[None, None]})[0][0, 0]


def predict_working(run, grey):
    """Foreground probability at the working size, as the core computes it: the mean of
    the network's maps of the input mirrored left-right and top-bottom (each mirrored,
    then padded; each map turned back)."""
    z = normalise(grey)
    out = np.zeros_like(z)
    for axes in ((), (1,), (0,), (0, 1)):  # the core's ORIENTATIONS
        out += np.flip(run(pad_to_multiple(np.flip(z, axes)))[: z.shape[0], : z.shape[1]], axes)
    return out / 4


def enlarge(working, shape):
    """A working-size map enlarged bilinearly to the image `shape` (rows, columns)."""
    import cv2
    return cv2.resize(working, shape[::-1], interpolation=cv2.INTER_LINEAR)


# The core's clustering_weight (rust/core/src/analysis/cluster/foreground.rs): a map whose
# mean |2p - 1| reaches CONFIDENT_MAP, with at least MIN_SIDE_FRACTION of the image on each
# side of 0.5, weighs CONFIDENT_MAP_WEIGHT against smoothed grey, other maps 1.
CONFIDENT_MAP, MIN_SIDE_FRACTION, CONFIDENT_MAP_WEIGHT = 0.85, 0.002, 1.5


def clustering_weight(working_map):
    confidence = np.abs(2 * working_map - 1).mean()
    foreground = (working_map > 0.5).mean()
    both_sides = MIN_SIDE_FRACTION <= foreground <= 1 - MIN_SIDE_FRACTION
    return CONFIDENT_MAP_WEIGHT if confidence >= CONFIDENT_MAP and both_sides else 1.0


SCORE_KEYS = ("mean_iou_probability_over_half", "mean_iou_kmeans_probability",
              "mean_iou_kmeans_smoothed_and_probability", "mean_iou_kmeans_smoothed")


def held_out_scores(run, grey, truth):
    """IoU of: probability > 0.5; 2-means on the probability; 2-means on standardised
    (smoothed grey sigma 2, probability weighted by clustering_weight), as the core's
    default clustering; 2-means on smoothed grey alone."""
    from scipy import ndimage as ndi
    from sklearn.cluster import KMeans
    working = predict_working(run, grey)
    prob = enlarge(working, grey.shape)
    smooth = ndi.gaussian_filter(grey, 2.0, mode="reflect")
    out = [iou_better_polarity(prob > 0.5, truth)]
    map_weight = clustering_weight(working)
    for feats, weights in (([prob], [1.0]), ([smooth, prob], [1.0, map_weight]), ([smooth], [1.0])):
        f = np.stack([(a - a.mean()) / max(a.std(), 1e-12) * wt for a, wt in zip(feats, weights)],
                     -1).reshape(-1, len(feats))
        sample = f[np.random.default_rng(0).choice(len(f), min(len(f), 100_000), replace=False)]
        km = KMeans(2, n_init=4, random_state=42).fit(sample)
        out.append(iou_better_polarity(km.predict(f).reshape(grey.shape) == 1, truth))
    return out


def iou_better_polarity(pred, truth):
    def one(p):
        union = (p | truth).sum()
        return (p & truth).sum() / union if union else 1.0
    return max(one(pred), one(~pred))


# ---------------------------------------------------------------- ONNX export

def export_onnx(net, meta, path):
    from onnx import TensorProto, helper, numpy_helper

    from cnn import save_onnx

    inits, nodes = [], []
    counter = [0]

    def conv(x, conv_layer, bn=None, kernel=3):
        counter[0] += 1
        n = counter[0]
        w = conv_layer.weight.detach().double().numpy()
        b = conv_layer.bias.detach().double().numpy()
        if bn is not None:
            scale = bn.weight.detach().double().numpy() / np.sqrt(bn.running_var.detach().double().numpy() + bn.eps)
            b = bn.bias.detach().double().numpy() + (b - bn.running_mean.detach().double().numpy()) * scale
            w = w * scale[:, None, None, None]
        inits.extend([numpy_helper.from_array(w.astype(np.float32), f"conv{n}.weight"),
                      numpy_helper.from_array(b.astype(np.float32), f"conv{n}.bias")])
        pad = kernel // 2
        nodes.append(helper.make_node("Conv", [x, f"conv{n}.weight", f"conv{n}.bias"], [f"conv{n}"],
                                      name=f"Conv_{n}", kernel_shape=[kernel, kernel], pads=[pad] * 4))
        return f"conv{n}"

    def relu(x):
        nodes.append(helper.make_node("Relu", [x], [x + ".relu"], name=f"Relu_{x}"))
        return x + ".relu"

    def block(x, seq):
        x = relu(conv(x, seq[0], seq[1]))
        return relu(conv(x, seq[3], seq[4]))

    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scale2"))
    x, skips = "input", []
    for i, b in enumerate(net.enc):
        if i > 0:
            nodes.append(helper.make_node("MaxPool", [x], [f"pool{i}"], name=f"MaxPool_{i}",
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x = f"pool{i}"
        x = block(x, b)
        skips.append(x)
    for i in reversed(range(len(net.dec))):
        nodes.append(helper.make_node("Resize", [x, "", "scale2"], [f"up{i}"], name=f"Resize_{i}",
                                      mode="linear", coordinate_transformation_mode="half_pixel"))
        nodes.append(helper.make_node("Concat", [f"up{i}", skips[i]], [f"cat{i}"], name=f"Concat_{i}", axis=1))
        x = block(f"cat{i}", net.dec[i])
    logits = conv(x, net.out, kernel=1)
    nodes.append(helper.make_node("Sigmoid", [logits], ["probability"], name="Sigmoid_0"))
    graph = helper.make_graph(
        nodes, "visualccc_foreground",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, "H", "W"])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1, "H", "W"])],
        initializer=inits)
    save_onnx(graph, "visual-ccc training/train_foreground.py", meta, path)


def check_onnx(torch, net, path, sample):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = pad_to_multiple(sample)[None, None]
    got = sess.run(["probability"], {"input": x})[0]
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(x))).numpy()
    diff = float(np.abs(got - want).max())
    if diff > 1e-4:
        raise SystemExit(f"ONNX export differs from PyTorch: max |probability diff| = {diff}")
    return diff


# ---------------------------------------------------------------- main

def main(argv=None):
    global WORKING_SIZE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="real data folder (default ../shared/data or $VISUALCCC_DATA)")
    ap.add_argument("--train-on", choices=["all", "even", "odd"], default="all",
                    help="images to train on; with even/odd the other half is scored")
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS),
                    help="channels per U-Net level (default %(default)s)")
    ap.add_argument("--working-size", type=int, default=WORKING_SIZE,
                    help="longer side of the network input in pixels (default %(default)s; the core reads "
                         "it from the model's visualccc.working_size)")
    ap.add_argument("--crop", type=int, default=128, help="training crop side at working size (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="ONNX file (default models/features/foreground.onnx for --train-on all; none for a half unless given)")
    ap.add_argument("--report", help="JSON metrics file (default docs/models/foreground[-HALF].json)")
    ap.add_argument("--smoke", action="store_true", help="tiny run on synthetic discs (CI)")
    ap.add_argument("--score", metavar="ONNX",
                    help="no training: score this network, exported by an earlier --train-on even|odd run, "
                         "on the other half again and update the scores in its report (--report)")
    args = ap.parse_args(argv)
    if not 2 <= len(args.widths) <= 6:
        ap.error(f"--widths: 2 to 6 levels (the core pads to multiples of {MULTIPLE}), got {len(args.widths)}")

    if args.score and args.train_on == "all":
        ap.error("--score needs --train-on even or odd (the half the network was trained on)")
    WORKING_SIZE = args.working_size
    import torch
    torch.set_num_threads(args.threads)
    started = time.time()
    if args.smoke:
        pairs = smoke_pairs()
        steps = min(args.steps, 20)
    else:
        from train import data_root
        pairs = emps_pairs(data_root(args.data))
        steps = args.steps
    n = len(pairs)
    train_idx = {"all": range(n), "even": range(0, n, 2), "odd": range(1, n, 2)}[args.train_on]
    test_idx = [] if args.train_on == "all" else [i for i in range(n) if i not in set(train_idx)]
    report_path = args.report or (None if args.smoke else os.path.join(
        REPO, "docs", "models", "foreground.json" if args.train_on == "all" else f"foreground-{args.train_on}.json"))
    command = "python3 training/train_foreground.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    if args.score:
        return rescore(args.score, pairs, test_idx, report_path, command)
    xs, ys = prepared([pairs[i] for i in train_idx])
    print(f"training on {len(xs)} images ({args.train_on}), {steps} steps", flush=True)
    net = train(torch, xs, ys, steps, args.seed, args.widths, crop=args.crop, log=lambda m: print(m, flush=True))
    minutes = (time.time() - started) / 60

    report = {"train_on": args.train_on, "images": len(xs), "steps": steps, "seed": args.seed,
              "working_size": WORKING_SIZE, "crop": args.crop, "widths": args.widths, "training_minutes": round(minutes, 1),
              "command": command}
    if test_idx:
        report.update(half_scores(torch_runner(torch, net), pairs, test_idx))

    out = args.out or (os.path.join(REPO, "models", "features", "foreground.onnx") if args.train_on == "all" and not args.smoke
                       else None)
    if out:
        meta = {
            "visualccc.kind": "fixture" if args.smoke else "trained",
            "visualccc.task": "foreground",
            "visualccc.working_size": str(WORKING_SIZE),
            "visualccc.description": "Foreground probability for the default clustering: a small U-Net "
                                     "trained on EMPS particle masks (training/train_foreground.py)",
        }
        export_onnx(net, meta, out)
        diff = check_onnx(torch, net, out, xs[0])
        report["onnx"] = os.path.relpath(out, REPO) if out.startswith(REPO) else out
        report["onnx_max_diff"] = diff
        print(f"wrote {out} (ONNX vs PyTorch max diff {diff:.2e})", flush=True)
    if report_path:
        write_report(report, report_path)


def half_scores(run, pairs, test_idx):
    """The mean held-out scores (SCORE_KEYS) of the network `run` on `pairs[test_idx]`."""
    scores = np.array([held_out_scores(run, *pairs[i]) for i in test_idx])
    report = {"scored_on": "even" if test_idx[0] % 2 == 0 else "odd", "scored_images": len(scores)}
    for key, column in zip(SCORE_KEYS, scores.T):
        report[key] = round(float(column.mean()), 4)
        print(f"{key}: {column.mean():.4f}", flush=True)
    return report


def rescore(path, pairs, test_idx, report_path, command):
    """Scores an exported half network again (e.g. after a change to the scoring) and
    updates its report, keeping what the report says of its training."""
    global WORKING_SIZE
    import onnx
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    WORKING_SIZE = int(meta["visualccc.working_size"])
    report = {}
    if report_path and os.path.exists(report_path):
        with open(report_path) as f:
            report = json.load(f)
    report.update(half_scores(onnx_runner(path), pairs, test_idx))
    report["scored_by"] = command
    if report_path:
        write_report(report, report_path)


def write_report(report, path):
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
