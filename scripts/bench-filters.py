#!/usr/bin/env python3
"""Filters side by side: `visual-ccc preprocess --timings` (the op stage) against OpenCV
and scikit-image / SciPy with the same settings, on one 2048x1536 image at 8, 16 and 32 bits,
runs interleaved (ours, OpenCV, ours, OpenCV, ...) so that a shared machine's load hits
both alike. Prints the markdown table for docs/benchmarks.md.

    scripts/bench-filters.sh [--repeats 5] [--threads 2] [--cli PATH] [--many-levels]

Input: a real micrograph (uhcs/spheroidite/micrograph400.jpg from ../shared/data)
mirror-tiled to 2048x1536, else a synthetic one from `visual-ccc synth`; the 16-bit image
is the 8-bit one times 257, the 32-bit one its grey values as floats (as ImageJ converts an
8-bit image; OpenCV has no 32-bit CLAHE). --many-levels adds the images real 16- and 32-bit
data look like: the 16-bit one plus uniform noise of one 8-bit step (about 64 000 levels)
and the 8-bit one scaled to [0, 1] plus Gaussian noise (σ 0.05), both seeded. Ours uses every core the process may run on (run under
`taskset -c 0-1` for two); OpenCV gets cv2.setNumThreads(threads). Times are medians of
the repeats; scikit-image/SciPy run fewer repeats (they are 10-1000x slower) and the
bilateral one on a 256x256 crop, extrapolated per pixel.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
WIDTH, HEIGHT = 2048, 1536

# op: (CLI options, description)
OPS = {
    "median": (["--radius", "2"], "median 5×5"),
    "gaussian": (["--sigma", "2"], "Gaussian σ 2 (±4σ, float)"),
    "bilateral": (["--sigma", "2"], "bilateral (σ 2 px, σr 10 % of range, d 9)"),
    "clahe": (["--clip-limit", "2", "--tiles", "8x8"], "CLAHE 8×8, clip 2"),
}


def make_inputs(cli, work, many_levels):
    src = SHARED / "uhcs" / "spheroidite" / "micrograph400.jpg"
    if src.exists():
        grey = np.asarray(Image.open(src).convert("L"))
        h, w = grey.shape
        grey = np.pad(grey, ((0, max(0, HEIGHT - h)), (0, max(0, WIDTH - w))),
                      mode="symmetric")[:HEIGHT, :WIDTH]
        kind = "uhcs/spheroidite/micrograph400.jpg mirror-tiled to 2048×1536"
    else:
        print(f"note: {SHARED} not found; using `visual-ccc synth`", file=sys.stderr)
        path = work / "synth.png"
        subprocess.run([cli, "synth", "--class", "spheroid", "--seed", "1", "--width",
                        str(WIDTH), "--height", str(HEIGHT), "--out", path],
                       check=True, capture_output=True)
        grey = np.asarray(Image.open(path).convert("L"))
        kind = "synthetic spheroid micrograph (`visual-ccc synth --seed 1`)"
    grey16 = grey.astype(np.uint16) * 257
    # 32-bit as ImageJ converts an 8-bit image: the same grey values as floats
    grey32 = grey.astype(np.float32)
    p8, p16, p32 = work / "in8.png", work / "in16.png", work / "in32.tif"
    Image.fromarray(grey).save(p8)
    Image.fromarray(grey16).save(p16)
    Image.fromarray(grey32, mode="F").save(p32)
    # label: (bits, path, pixels)
    inputs = {"8-bit": (8, p8, grey), "16-bit": (16, p16, grey16), "32-bit": (32, p32, grey32)}
    if many_levels:
        rng = np.random.default_rng(1)
        noisy16 = (grey16 + rng.integers(0, 257, grey.shape)).clip(0, 65535).astype(np.uint16)
        noisy32 = (grey / np.float32(255) + rng.normal(0, 0.05, grey.shape)).astype(np.float32)
        p16n, p32n = work / "in16-noisy.png", work / "in32-noisy.tif"
        Image.fromarray(noisy16).save(p16n)
        Image.fromarray(noisy32, mode="F").save(p32n)
        levels = f"{len(np.unique(noisy16)):,}".replace(",", " ")
        inputs[f"16-bit, {levels} levels"] = (16, p16n, noisy16)
        inputs["32-bit, noisy"] = (32, p32n, noisy32)
    return inputs, kind


def ours(cli, path, op, work):
    out = work / "out.tif"
    cmd = [cli, "preprocess", str(path), "--op", op, *OPS[op][0], "--out", str(out),
           "--timings"]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["timings_ms"][op] / 1000.0


def opencv_call(op, img, bits):
    import cv2

    reflect = cv2.BORDER_REFLECT
    sigma_r = 25.5 * 257 if bits == 16 else 25.5
    if op == "median":
        return lambda: cv2.medianBlur(img, 5)
    if op == "gaussian":
        return lambda: cv2.GaussianBlur(img.astype(np.float32), (17, 17), 2.0,
                                        borderType=reflect)
    if op == "bilateral":
        if bits != 16:
            return lambda: cv2.bilateralFilter(img, 9, sigma_r, 2.0, borderType=reflect)
        # OpenCV's bilateral takes 8-bit or float only.
        return lambda: cv2.bilateralFilter(img.astype(np.float32), 9, sigma_r, 2.0,
                                           borderType=reflect)
    if bits == 32:
        return None  # OpenCV's CLAHE takes 8- and 16-bit images only
    clahe = cv2.createCLAHE(2.0, (8, 8))
    return lambda: clahe.apply(img)


def skimage_call(op, img, bits):
    from scipy import ndimage
    from skimage import exposure, restoration

    if op == "median":
        return lambda: ndimage.median_filter(img, size=5, mode="reflect"), 1.0
    if op == "gaussian":
        return lambda: ndimage.gaussian_filter(img.astype(np.float32), 2.0, mode="reflect",
                                               truncate=4.0), 1.0
    if op == "bilateral":
        crop = img[:256, :256]
        # float images are taken as they are; integer ones scaled to [0, 1]
        sigma_color = 25.5 if img.dtype == np.float32 else 0.1
        return (lambda: restoration.denoise_bilateral(
            crop, win_size=9, sigma_color=sigma_color, sigma_spatial=2.0, mode="reflect"),
            img.size / crop.size)
    if img.dtype == np.float32:
        img = img / 255.0
    return lambda: exposure.equalize_adapthist(
        img, kernel_size=(img.shape[0] // 8, img.shape[1] // 8), clip_limit=0.01), 1.0


def timed(call):
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def fmt(s):
    return f"{s * 1000:.1f} ms" if s < 10 else f"{s:.1f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cli", default=str(Path(
        __import__("os").environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" /
        "visual-ccc"))
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--skip-skimage", action="store_true")
    ap.add_argument("--many-levels", action="store_true",
                    help="also a 16-bit image with about 64 000 levels and a noisy 32-bit one")
    opts = ap.parse_args()
    import cv2
    import skimage

    cv2.setNumThreads(opts.threads)
    ops = opts.ops.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs, kind = make_inputs(opts.cli, work, opts.many_levels)
        rows = []
        for label, (bits, path, img) in inputs.items():
            for op in ops:
                cv_call = opencv_call(op, img, bits)
                if cv_call:
                    cv_call()  # warm-up (allocations, thread pool)
                ours_t, cv_t = [], []
                for _ in range(opts.repeats):
                    ours_t.append(ours(opts.cli, path, op, work))
                    if cv_call:
                        cv_t.append(timed(cv_call))
                sk = None
                if not opts.skip_skimage:
                    call, scale = skimage_call(op, img, bits)
                    sk = statistics.median(
                        timed(call) for _ in range(max(1, min(3, opts.repeats // 2)))) * scale
                o, c = statistics.median(ours_t), statistics.median(cv_t) if cv_t else None
                rows.append((label, op, o, c, sk))
                print(f"{label} {op}: ours {fmt(o)} {[round(t * 1000, 1) for t in ours_t]}"
                      f" OpenCV {fmt(c) if c else '—'} {[round(t * 1000, 1) for t in cv_t]}"
                      + (f" skimage {fmt(sk)}" if sk else ""), file=sys.stderr)
    ours8 = {op: o for label, op, o, _, _ in rows if label == "8-bit"}
    print(f"Input: {kind}. {opts.threads} threads, median of {opts.repeats} interleaved "
          f"runs. OpenCV {cv2.__version__}, scikit-image {skimage.__version__}, "
          f"numpy {np.__version__}.\n")
    print("| image | filter | ours (op stage) | OpenCV | scikit-image / SciPy | "
          "OpenCV ÷ ours | ours ÷ ours 8-bit |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, op, o, c, sk in rows:
        rel = f"{o / ours8[op]:.2f}" if op in ours8 else "—"
        print(f"| {label} | {OPS[op][1]} | {fmt(o)} | {fmt(c) if c else '—'} | "
              f"{fmt(sk) if sk else '—'} | " + (f"**{c / o:.2f}**" if c else "—") + f" | {rel} |")


if __name__ == "__main__":
    main()
