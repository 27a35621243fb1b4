#!/usr/bin/env python3
"""Montages of the synthetic training classes, one JPEG per generator class, for the
morphology model card (docs/models/morphology-synth-CLASS.jpg).

    python3 training/montage.py --synth-bin target/release/visual-ccc
    python3 training/montage.py --real --out /tmp/montage    # also real classes, NOT for the repo

Each montage shows 8 images (448 x 384, the training size) at the training feature scales,
every other one with burnt-in SEM annotations (--annotate), seeds 900000+ (never used in
training). With --real the real UHCS and EMPS images are montaged too, for a side-by-side
look; those images must not be committed (../shared/data/README.md), so --real refuses to
write into the repository.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (REPO, data helpers)

CLASSES = ["dendrite", "whisker", "mossy", "spheroid", "granular", "grains", "lamellar"]
THUMB = (224, 192)


def grid(images, cols=4):
    thumbs = [cv2.resize(im, THUMB, interpolation=cv2.INTER_AREA) for im in images]
    while len(thumbs) % cols:
        thumbs.append(np.zeros_like(thumbs[0]))
    rows = [np.hstack(thumbs[i:i + cols]) for i in range(0, len(thumbs), cols)]
    return np.vstack(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synth-bin")
    ap.add_argument("--out", default=os.path.join(train.REPO, "docs", "models"))
    ap.add_argument("--real", action="store_true", help="also montage real images (outside the repo only)")
    ap.add_argument("--data")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    if args.real and out.startswith(os.path.abspath(train.REPO) + os.sep):
        sys.exit("--real montages hold real images that must not enter the repository: choose --out elsewhere")
    os.makedirs(out, exist_ok=True)
    binary = train.find_synth_binary(args.synth_bin)
    with tempfile.TemporaryDirectory() as tmp:
        for ci, cls in enumerate(CLASSES):
            images = []
            for k in range(8):
                path = os.path.join(tmp, f"{cls}_{k}.png")
                scale = train.SYNTH_SCALES[k % len(train.SYNTH_SCALES)]
                cmd = [binary, "synth", "--class", cls, "--seed", str(900000 + 100 * ci + k), "--width", "448",
                       "--height", "384", "--scale", str(scale), "--out", path]
                subprocess.run(cmd + (["--annotate"] if k % 2 else []), check=True, stdout=subprocess.DEVNULL)
                images.append(cv2.imread(path, cv2.IMREAD_GRAYSCALE))
            target = os.path.join(out, f"morphology-synth-{cls}.jpg")
            cv2.imwrite(target, grid(images), [cv2.IMWRITE_JPEG_QUALITY, 75])
            print(target)
    if args.real:
        data = train.data_root(args.data)
        uhcs = train.uhcs_samples(data, {c: 0 for c in train.TASKS["uhcs"]["classes"]})
        emps = train.emps_round_samples(data, 2)
        for name, samples in (("uhcs", uhcs), ("emps-round", emps)):
            pick = [samples[i] for i in np.linspace(0, len(samples) - 1, 8).astype(int)]
            target = os.path.join(out, f"morphology-real-{name}.jpg")
            cv2.imwrite(target, grid([train.load_grey(s.path) for s in pick]), [cv2.IMWRITE_JPEG_QUALITY, 75])
            print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
