#!/usr/bin/env python3
"""Compares `morphology` models on what the random split cannot show: synthetic deposits in
appearances that no model was trained on, next to the random split's real test images, all
through the product's own path (`visual-ccc classify`, whole-image mode, calibrated).

    python3 training/eval_shift.py --bin target/release/visual-ccc \\
        --manifest docs/models/morphology.manifest.tsv models/morphology.onnx /tmp/new.onnx

Groups (accuracy per group and per model, one JSON object per model, then a Markdown table):
  uhcs, emps        the `test` rows of --manifest (train.py's random split; real images)
  CLASS             synthetic images of each generator class (1024 x 768, seeds 7000+,
                    half annotated), in the imaging model's own look
  CLASS/emboss      the same images through PIL's 3 x 3 emboss filter: a relief-shaded look
                    that no training recipe uses. The shipped weights read embossed whiskers
                    and granular deposits as alloy and embossed dendrites half as alloy, as
                    they read the real SEM of lithium whiskers, granular lithium and
                    electrodeposited dendrites (scripts/eval-train-few-shot.py, `novel`)
  CLASS/edges       the same images with secondary-electron-like edge glow (the image plus its
                    blurred gradient magnitude, renormalised), another look nobody trains on
  CLASS/laplacian  the same images as the negative Laplacian of Gaussian (sigma 2 px) on
                    mid-grey: isotropic outline contrast, also a look nobody trains on
                    (train.py's --relief-prob renders crops as *directional* relief, which
                    makes `emboss` a near, no longer unseen, look for models trained with it)
A model that reads morphology rather than a source's look keeps its accuracy across the
looks. These are proxies: nothing here is a real dendrite or lithium micrograph.
Needs numpy, OpenCV, Pillow and ../shared/data (the real groups are skipped without it).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import SYNTH_TRAIN, data_root  # noqa: E402

CLASSES = ["alloy", "dendrite", "spheroid"]
SEED0 = 7000


def edge_glow(img):
    a = np.asarray(img, dtype=np.float32) / 255.0
    gy, gx = np.gradient(cv2.GaussianBlur(a, (0, 0), 1.5))
    out = a + 6.0 * cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 1.0)
    lo, hi = np.percentile(out, [0.5, 99.5])
    return Image.fromarray(np.clip((out - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8))


def laplacian_look(img):
    a = np.asarray(img, dtype=np.float32) / 255.0
    lap = cv2.Laplacian(cv2.GaussianBlur(a, (0, 0), 2.0), cv2.CV_32F, ksize=3)
    out = 0.5 - 0.35 * lap / max(float(np.quantile(np.abs(lap), 0.99)), 1e-6)
    return Image.fromarray(np.clip(out * 255, 0, 255).astype(np.uint8))


def synthetic_groups(binary, work, count):
    groups = {}
    for i, (gen, (cls, _)) in enumerate(sorted(SYNTH_TRAIN.items())):
        plain = work / gen
        if not plain.is_dir():
            half = count // 2
            for j, extra in enumerate(([], ["--annotate"])):
                n = half if j == 0 else count - half
                subprocess.run([binary, "synth", "--class", gen, "--count", str(n), "--seed",
                                str(SEED0 + 1000 * i + 500 * j), "--width", "1024", "--height", "768",
                                "--out", f"{plain}/"] + extra, check=True, stdout=subprocess.DEVNULL)
        files = sorted(plain.glob("*.png"))
        groups[gen] = (cls, files)
        for look, fn in (("emboss", lambda im: im.filter(ImageFilter.EMBOSS)), ("edges", edge_glow),
                         ("laplacian", laplacian_look)):
            d = work / f"{gen}-{look}"
            if not d.is_dir():
                d.mkdir()
                for f in files:
                    fn(Image.open(f).convert("L")).save(d / f.name)
            groups[f"{gen}/{look}"] = (cls, sorted(d.glob("*.png")))
    return groups


def real_groups(manifest, data):
    groups = {}
    for line in open(manifest):
        split, label, src, rel, _ = line.rstrip("\n").split("\t")
        if split == "test" and src != "synthetic":
            groups.setdefault(src, (CLASSES[int(label)], []))[1].append(Path(data) / rel)
    return groups


def classify(binary, model, files):
    out = subprocess.run([binary, "classify", "--model", model] + [str(f) for f in files],
                         capture_output=True, text=True, check=True)
    return {r["file"]: r for r in map(json.loads, out.stdout.splitlines())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/visual-ccc")
    ap.add_argument("--manifest", help="train.py's manifest whose test rows are the real groups")
    ap.add_argument("--data")
    ap.add_argument("--count", type=int, default=12, help="synthetic images per generator class")
    ap.add_argument("--work", help="keep the generated images here (default: a temporary folder)")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        groups = {}
        data = data_root(args.data)
        if args.manifest and os.path.isdir(data):
            groups.update(real_groups(args.manifest, data))
        groups.update(synthetic_groups(args.bin, work, args.count))
        table = {}
        for model in args.models:
            res = classify(args.bin, model, [f for _, files in groups.values() for f in files])
            row = {}
            for name, (cls, files) in groups.items():
                got = [res[str(f)] for f in files]
                row[name] = {"n": len(files), "accuracy": sum(r["class"] == cls for r in got) / len(files),
                             "predicted": {c: sum(r["class"] == c for r in got) for c in CLASSES},
                             "unfamiliar": sum(bool(r.get("unfamiliar")) for r in got) / len(files)}
            shifted = [v["accuracy"] for k, v in row.items() if "/" in k]
            row["mean_shifted"] = sum(shifted) / len(shifted)
            print(json.dumps({"model": model, "groups": row}), flush=True)
            table[model] = row
        names = [n for n in groups] + ["mean_shifted"]
        print("\n| group | " + " | ".join(os.path.basename(m) for m in args.models) + " |")
        print("|---|" + "---|" * len(args.models))
        for n in names:
            cells = []
            for m in args.models:
                v = table[m][n]
                cells.append(f"{v:.3f}" if isinstance(v, float) else
                             f"{v['accuracy']:.2f} ({'/'.join(str(v['predicted'][c]) for c in CLASSES)})")
            print(f"| {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
