#!/usr/bin/env python3
"""Speed and memory of the image-analysis core: the `visual-ccc` release CLI side by side
with the Python stack a user would otherwise run, in one run, on the same images.

  (a) texture reference mode: scikit-image graycomatrix/graycoprops per 5x5 window on the
      Otsu mask of a 512-px-wide copy (the published tool) vs `texture --reference` at
      full resolution, per pixel
  (b) k-means, k=3, on a 2048x1536 image: scikit-learn KMeans(n_init=10) vs `cluster`, on
      the same standardised features (smoothed grey, sigma 2); both partitions' inertia
      evaluated in the same feature space
  (c) the whole published pipeline at 512 px (Otsu + per-window GLCM + KMeans(n_init=10))
      vs `analyze` at full resolution (2048x1536)
  (d) OpenCV / scikit-image / SciPy filters vs `preprocess` on 2048x1536
  (e) peak memory (max RSS from /usr/bin/time -v) of every process above

Every measured step runs in its own process: ours are whole CLI processes (wall time, and
the CLI's own `--timings` stage durations); each Python step is this script re-run as a
child (`--child ...`) that times its computation after its imports. Fast steps keep the
best of --repeats runs (the machine may be shared). Slow Python steps are timed on a
crop and extrapolated per pixel; the tables say where.

Usage: python3 scripts/bench-analysis.py [--images N] [--repeats R] [--update-docs]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
# Real micrographs, outside the repository; VISUAL_CCC_DATA overrides (e.g. to test the
# synthetic fallback).
SHARED = Path(os.environ.get("VISUAL_CCC_DATA", REPO.parent / "shared" / "data"))
WIDTH, HEIGHT = 2048, 1536
PUBLISHED_WIDTH = 512
DOCS = REPO / "docs" / "benchmarks.md"
SECTION = "## Image-analysis core"
K = 3
SEED = 42


# ---------------------------------------------------------------------------------------
# Child steps: run in a fresh interpreter, print one JSON object on stdout.


def child_published_glcm(mask, rows):
    """The published tool's texture step: per-pixel 5x5 window of the zero-padded 0/1 mask,
    graycomatrix(levels=2, distance 1, angle 0, symmetric, normed), graycoprops contrast."""
    from skimage.feature import graycomatrix, graycoprops

    padded = np.pad(mask, 2)
    width = mask.shape[1]
    out = np.zeros((rows, width))
    for i in range(rows):
        for j in range(width):
            glcm = graycomatrix(
                padded[i : i + 5, j : j + 5], [1], [0], levels=2, symmetric=True, normed=True
            )
            out[i, j] = graycoprops(glcm, "contrast")[0, 0]
    return out


def resize_published(grey8):
    """The 512-px-wide 8-bit copy, as PIL resizes an "L" image (bilinear, antialiased)."""
    h, w = grey8.shape
    height = round(h * PUBLISHED_WIDTH / w)
    return np.asarray(Image.fromarray(grey8).resize((PUBLISHED_WIDTH, height), Image.BILINEAR))


def load_grey(path):
    return np.asarray(Image.open(path).convert("L"))


def child_published(args):
    """Otsu + per-window GLCM contrast + KMeans(n_init=10) at 512 px wide."""
    from skimage.filters import threshold_otsu
    from sklearn.cluster import KMeans

    grey = load_grey(args["image"])
    t0 = time.perf_counter()
    small = resize_published(grey)
    t1 = time.perf_counter()
    mask = (small > threshold_otsu(small)).astype(np.uint8)
    t2 = time.perf_counter()
    rows = min(args["glcm_rows"], mask.shape[0])
    contrast = child_published_glcm(mask, rows)
    t3 = time.perf_counter()
    z = small.reshape(-1, 1).astype(np.float64)
    z = (z - z.mean()) / z.std()
    KMeans(n_clusters=K, n_init=10, random_state=0).fit(z)
    t4 = time.perf_counter()
    if args.get("contrast_out"):
        np.save(args["contrast_out"], contrast)
        Image.fromarray(small).save(args["small_out"])
    windows = mask.size
    glcm_per_window = (t3 - t2) / (rows * mask.shape[1])
    return {
        "resize_s": t1 - t0,
        "otsu_s": t2 - t1,
        "glcm_rows": rows,
        "glcm_measured_s": t3 - t2,
        "glcm_per_window_s": glcm_per_window,
        "glcm_full_s": glcm_per_window * windows,
        "kmeans_s": t4 - t3,
        "total_s": (t1 - t0) + (t2 - t1) + glcm_per_window * windows + (t4 - t3),
        "size": [mask.shape[1], mask.shape[0]],
    }


def smoothed_features(grey8):
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(grey8.astype(np.float32), sigma=2.0, mode="reflect", truncate=4.0)
    z = f.reshape(-1, 1).astype(np.float64)
    return (z - z.mean()) / z.std()


def partition_sse(z, labels):
    """Inertia of a partition with each cluster's mean as its centre."""
    total = 0.0
    for label in np.unique(labels):
        part = z[labels == label]
        total += ((part - part.mean(axis=0)) ** 2).sum()
    return float(total)


def child_kmeans(args):
    """scikit-learn KMeans(n_init=10) on every pixel's standardised smoothed grey."""
    from sklearn.cluster import KMeans

    grey = load_grey(args["image"])
    t0 = time.perf_counter()
    z = smoothed_features(grey)
    t1 = time.perf_counter()
    model = KMeans(n_clusters=K, n_init=10, random_state=0).fit(z)
    t2 = time.perf_counter()
    result = {
        "features_s": t1 - t0,
        "fit_s": t2 - t1,
        "inertia": float(model.inertia_),
        "partition_sse": partition_sse(z, model.labels_),
    }
    for name, path in args.get("ours", {}).items():
        labels = np.asarray(Image.open(path)).reshape(-1)
        result[f"partition_sse_{name}"] = partition_sse(z, labels)
    return result


def child_filter(args):
    """One Python filter on a 2048x1536 image (or a crop, extrapolated per pixel)."""
    grey8 = load_grey(args["image"])
    crop = args.get("crop")
    if crop:
        grey8 = grey8[: crop[1], : crop[0]]
    op, lib = args["op"], args["lib"]
    run = filter_function(lib, op, grey8)
    best = float("inf")
    for _ in range(args["repeats"]):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    scale = (WIDTH * HEIGHT) / grey8.size
    return {"seconds": best * scale, "measured_s": best, "extrapolated": scale != 1.0}


def filter_function(lib, op, img):
    """The closest equivalent of each `preprocess` op with its default parameters."""
    if lib == "opencv":
        import cv2

        reflect = cv2.BORDER_REFLECT
        return {
            "median": lambda: cv2.medianBlur(img, 5),
            "gaussian": lambda: cv2.GaussianBlur(img.astype(np.float32), (17, 17), 2.0,
                                                 borderType=reflect),
            "bilateral": lambda: cv2.bilateralFilter(img, 9, 25.5, 2.0, borderType=reflect),
            "clahe": lambda: cv2.createCLAHE(2.0, (8, 8)).apply(img),
        }[op]
    from scipy import ndimage
    from skimage import exposure, restoration

    f = img.astype(np.float32)
    return {
        "median": lambda: ndimage.median_filter(img, size=5, mode="reflect"),
        "gaussian": lambda: ndimage.gaussian_filter(f, 2.0, mode="reflect", truncate=4.0),
        "bilateral": lambda: restoration.denoise_bilateral(
            img, win_size=9, sigma_color=0.1, sigma_spatial=2.0, mode="reflect"),
        "clahe": lambda: exposure.equalize_adapthist(
            img, kernel_size=(img.shape[0] // 8, img.shape[1] // 8), clip_limit=0.01),
        "background": lambda: restoration.rolling_ball(img, radius=50),
        "stretch": lambda: exposure.rescale_intensity(
            img, in_range=tuple(np.percentile(img, (0.175, 99.825))), out_range=(0, 255)),
        "imports": lambda: None,
    }[op]


CHILDREN = {
    "published": child_published,
    "kmeans": child_kmeans,
    "filter": child_filter,
}


# Modules each child step needs, imported before its memory baseline is taken.
CHILD_IMPORTS = {
    "published": ["skimage.feature", "skimage.filters", "sklearn.cluster"],
    "kmeans": ["scipy.ndimage", "sklearn.cluster"],
    "opencv": ["cv2"],
    "skimage": ["scipy.ndimage", "skimage.exposure", "skimage.restoration"],
}


def current_rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(name, args):
    """One Python step, with its memory: RSS after the imports, and the process peak
    (`resource` ru_maxrss), so that the step's own increase can be told apart from the
    interpreter and libraries."""
    import importlib
    import resource

    for module in CHILD_IMPORTS[args.get("lib", name)]:
        importlib.import_module(module)
    result = {"rss_after_imports_mb": current_rss_mb()}
    result.update(CHILDREN[name](args))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------
# Running and measuring processes


def measured(cmd):
    """Runs `cmd`; returns (wall seconds, max RSS in MiB or None, stdout)."""
    time_v = Path("/usr/bin/time").exists()
    full = (["/usr/bin/time", "-v"] if time_v else []) + [str(c) for c in cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr}")
    rss = None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if m:
        rss = int(m.group(1)) / 1024
    return wall, rss, proc.stdout


def ours(cli, args, repeats):
    """Best wall time of `repeats` CLI runs, their max RSS, and the best run's JSON."""
    best = None
    for _ in range(repeats):
        wall, rss, out = measured([cli, *args, "--timings"])
        summary = json.loads(out.strip().splitlines()[-1])
        if best is None or wall < best[0]:
            best = (wall, rss, summary)
    return {"wall_s": best[0], "rss_mb": best[1], "json": best[2]}


def python(step, args):
    wall, rss, out = measured([sys.executable, __file__, "--child", step, json.dumps(args)])
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_s"], result["rss_mb"] = wall, rss
    return result


# ---------------------------------------------------------------------------------------
# Inputs


def real_sources(n):
    """Up to n real micrographs, alternating UHCS classes and EMPS, or [] when absent."""
    groups = [sorted((SHARED / "uhcs" / c).glob("*.jpg"))
              for c in ("spheroidite", "pearlite", "carbide_network")]
    groups.append(sorted((SHARED / "emps" / "images").glob("*.png")))
    groups = [g for g in groups if g]
    picked = []
    for i in range(n):
        if not groups:
            break
        group = groups[i % len(groups)]
        picked.append(group[(i // len(groups)) % len(group)])
    return picked


def make_inputs(cli, n, work):
    """2048x1536 8-bit PNGs: real micrographs mirror-tiled to size, else synthetic ones."""
    sources = real_sources(n)
    paths = []
    if sources:
        for i, src in enumerate(sources):
            grey = np.asarray(Image.open(src).convert("L"))
            h, w = grey.shape
            tiled = np.pad(grey, ((0, max(0, HEIGHT - h)), (0, max(0, WIDTH - w))),
                           mode="symmetric")[:HEIGHT, :WIDTH]
            path = work / f"input{i}.png"
            Image.fromarray(tiled).save(path)
            paths.append(path)
        kind = ("real micrographs ({}), mirror-tiled (not rescaled) to 2048x1536, 8-bit grey"
                .format(", ".join(f"{s.parent.parent.name}/{s.parent.name}/{s.name}"
                                  if s.parent.parent.name == "uhcs" else f"emps/{s.name}"
                                  for s in sources)))
        return paths, kind
    print(f"note: {SHARED} not found; using synthetic micrographs from `visual-ccc synth`",
          file=sys.stderr)
    classes = ["spheroid", "dendrite", "grains", "lamellar"]
    for i in range(n):
        path = work / f"input{i}.png"
        subprocess.run([cli, "synth", "--class", classes[i % 4], "--seed", str(i), "--width",
                        str(WIDTH), "--height", str(HEIGHT), "--out", path],
                       check=True, capture_output=True)
        paths.append(path)
    return paths, "synthetic micrographs (`visual-ccc synth`, classes {})".format(
        ", ".join(classes[i % 4] for i in range(n)))


# ---------------------------------------------------------------------------------------
# The benchmark


def fmt_s(s):
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_ratio(r, bold=False):
    """A speed-up: `12×`, or for a slow-down `0.25× (4.0× slower)`."""
    text = f"{r:,.0f}×" if r >= 10 else f"{r:.2g}×" if r >= 1 else f"{r:.2f}× ({1 / r:.1f}× slower)"
    return f"**{text}**" if bold else text


def target(ratio, goal):
    verdict = "met" if ratio >= goal else "**not met**"
    return f"Target ≥ {goal}×: {verdict} ({ratio:,.1f}×)."


def fmt_mb(mb):
    return "n/a" if mb is None else f"{mb:.0f} MiB"


def stage_ms(summary, *names):
    t = summary["timings_ms"]
    return sum(t.get(n, 0.0) for n in names) / 1e3


def bench(opts):
    cli = Path(opts.cli)
    if not cli.exists():
        subprocess.run(["cargo", "build", "--release", "-p", "visual-ccc-cli"], cwd=REPO,
                       check=True)
    work = Path(tempfile.mkdtemp(prefix="vccc-bench-analysis-"))
    try:
        return run_benchmarks(cli, opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_benchmarks(cli, opts, work):
    started = time.perf_counter()
    inputs, kind = make_inputs(cli, opts.images, work)
    r = opts.repeats
    lines = []
    out = lines.append
    mem = []  # (stage, ours max RSS, Python child result(s))

    # (a) + (c): the published pipeline per image, and our texture/analyze.
    published, tex, ana, ana_model = [], [], [], []
    for i, img in enumerate(inputs):
        # The first image's GLCM loop covers the whole 512-px copy; the others a strip.
        rows = 100_000 if i == 0 else opts.glcm_rows
        extra = {}
        if i == 0:
            extra = {"contrast_out": str(work / "contrast.npy"),
                     "small_out": str(work / "small.png")}
        published.append(python("published", {"image": str(img), "glcm_rows": rows, **extra}))
        tex.append(ours(cli, ["texture", img, "--reference", "--out-dir", work / "tex"], r))
        ana.append(ours(cli, ["analyze", img, "--no-model", "--out-dir", work / "an"], r))
        model = REPO / "tests/fixtures/models/fixture-tiny.onnx"
        ana_model.append(ours(cli, ["analyze", img, "--model", model, "--out-dir",
                                    work / "anm"], r))
        print(f"image {i}: published {published[-1]['total_s']:.2f} s, analyze "
              f"{ana[-1]['wall_s']:.3f} s", file=sys.stderr)

    # Correctness of the reference texture: our map of the same 512-px copy vs skimage.
    small_tex = ours(cli, ["texture", work / "small.png", "--reference", "--out-dir",
                           work / "small"], 1)
    ours_map = np.asarray(Image.open(work / "small" / "small-reference-contrast.tif"),
                          dtype=np.float64)
    theirs = np.load(work / "contrast.npy")
    max_diff = float(np.abs(ours_map[: theirs.shape[0]] - theirs).max())

    n_full = WIDTH * HEIGHT
    py_per_px = np.mean([p["glcm_per_window_s"] for p in published])
    ours_px_proc = np.mean([t["wall_s"] for t in tex]) / n_full
    ours_px_stage = np.mean([stage_ms(t["json"], "texture_maps") for t in tex]) / n_full
    out("### (a) Texture, reference mode (Otsu mask → 5×5 GLCM contrast), per pixel\n")
    out("| | time per pixel | 2048×1536 image | speed-up |")
    out("| --- | --- | --- | --- |")
    out(f"| scikit-image `graycomatrix`/`graycoprops` per window (published method) | "
        f"{py_per_px * 1e6:.1f} µs | {fmt_s(py_per_px * n_full)} (extrapolated) | 1× |")
    out(f"| `visual-ccc texture --reference`, whole process (decode, Otsu, map, write TIFF) | "
        f"{ours_px_proc * 1e9:.1f} ns | {fmt_s(ours_px_proc * n_full)} | "
        f"{fmt_ratio(py_per_px / ours_px_proc, True)} |")
    out(f"| ↳ its `texture_maps` stage | {ours_px_stage * 1e9:.2f} ns | "
        f"{fmt_s(ours_px_stage * n_full)} | {fmt_ratio(py_per_px / ours_px_stage)} |")
    out("")
    others = (f", the first {opts.glcm_rows} rows of the copies of the other "
              f"{len(inputs) - 1}" if len(inputs) > 1 else "")
    out(f"scikit-image timed on the whole 512×{published[0]['size'][1]} copy of the first "
        f"image ({fmt_s(published[0]['glcm_measured_s'])}){others}; the mean time per window "
        f"is extrapolated to 2048×1536. Same map: on the first image's 512-px copy our reference contrast map "
        f"equals scikit-image's within {max_diff:.1e} (max abs difference over every "
        f"window). {target(py_per_px / ours_px_proc, 1000)}\n")
    mem.append(("texture, reference mode (Python: the pipeline process below)",
                np.max([t["rss_mb"] or 0 for t in tex]), None))

    # (b) k-means on the first image.
    img = inputs[0]
    # The same single feature as scikit-learn's run (the default features add the learned
    # foreground map, timed separately below).
    smoothed = ["--features", "smoothed:2"]
    default = ours(cli, ["cluster", img, "--k", K, *smoothed, "--labels-out", work / "c-default.png"], r)
    full = ours(cli, ["cluster", img, "--k", K, *smoothed, "--n-init", "10", "--sample", n_full,
                      "--labels-out", work / "c-full.png"], 1)
    learned = ours(cli, ["cluster", img, "--k", K, "--labels-out", work / "c-learned.png"], r)
    sk = python("kmeans", {"image": str(img), "ours": {
        "default": str(work / "c-default.png"), "full": str(work / "c-full.png")}})
    out("### (b) k-means, k = 3, 2048×1536, standardised smoothed grey (σ = 2)\n")
    out("| | fit + assign | whole process | inertia reported | inertia of the partition "
        "(same space) | speed-up (fit) |")
    out("| --- | --- | --- | --- | --- | --- |")
    out(f"| scikit-learn `KMeans(n_init=10)`, all {n_full:,} pixels | {fmt_s(sk['fit_s'])} | "
        f"{fmt_s(sk['wall_s'])} | {sk['inertia']:.6g} | {sk['partition_sse']:.6g} | 1× |")
    for name, label, res in [
        ("default", "`visual-ccc cluster --features smoothed:2` (defaults otherwise: n_init 4, "
                    "100 000-pixel sample)", default),
        ("full", "`visual-ccc cluster --features smoothed:2 --n-init 10 --sample 3145728` (every pixel)",
         full),
    ]:
        stage = stage_ms(res["json"], "cluster")
        out(f"| {label} | {fmt_s(stage)} | {fmt_s(res['wall_s'])} | "
            f"{res['json']['inertia']:.6g} | {sk['partition_sse_' + name]:.6g} | "
            f"{fmt_ratio(sk['fit_s'] / stage, True)} |")
    out("")
    out("Features in Python: `scipy.ndimage.gaussian_filter(σ=2, mode='reflect', truncate=4)`"
        " (the core's definition), standardised over the image; scikit-learn's time excludes"
        " them, ours includes computing them. \"Inertia of the partition\" recomputes, in"
        " Python and in the same feature space, the sum of squared distances of every pixel"
        " to its cluster's mean for each labelling (ours read back from the label PNG);"
        " relative difference to scikit-learn: default "
        f"{sk['partition_sse_default'] / sk['partition_sse'] - 1:+.2e}, every pixel "
        f"{sk['partition_sse_full'] / sk['partition_sse'] - 1:+.2e}. "
        f"{target(sk['fit_s'] / stage_ms(default['json'], 'cluster'), 20)} "
        f"With the default features (smoothed grey + the learned foreground map, "
        f"docs/models/foreground.md) `visual-ccc cluster` takes {fmt_s(stage_ms(learned['json'], 'cluster'))} "
        f"(whole process {fmt_s(learned['wall_s'])}), "
        f"{fmt_ratio(sk['fit_s'] / stage_ms(learned['json'], 'cluster'), True)} scikit-learn's "
        f"single-feature fit.\n")
    mem.append(("k-means (ours: smoothed grey / every pixel, n_init 10 / default features)",
                f"{fmt_mb(default['rss_mb'])} / {fmt_mb(full['rss_mb'])} / {fmt_mb(learned['rss_mb'])}",
                [sk]))

    # (c) whole pipeline.
    pub_total = np.mean([p["total_s"] for p in published])
    ana_wall = np.mean([a["wall_s"] for a in ana])
    anam_wall = np.mean([a["wall_s"] for a in ana_model])
    out("### (c) Whole pipeline on one image\n")
    out("| | resolution | time per image | speed-up |")
    out("| --- | --- | --- | --- |")
    p0 = published[0]
    out(f"| published pipeline (scikit-image Otsu + per-window GLCM + scikit-learn "
        f"`KMeans(n_init=10)`) | 512×{p0['size'][1]} | {fmt_s(pub_total)} "
        f"(GLCM {fmt_s(np.mean([p['glcm_full_s'] for p in published]))}, k-means "
        f"{fmt_s(np.mean([p['kmeans_s'] for p in published]))}) | 1× |")
    out(f"| `visual-ccc analyze --no-model` (Otsu, reference texture + whole-image GLCM, "
        f"k-means, all images and summary written) | 2048×1536 (12× the pixels) | "
        f"{fmt_s(ana_wall)} | {fmt_ratio(pub_total / ana_wall, True)} |")
    out(f"| `visual-ccc analyze` with the fixture model (adds classification + CAM) | "
        f"2048×1536 | {fmt_s(anam_wall)} | {fmt_ratio(pub_total / anam_wall)} |")
    out("")
    stages = ana[0]["json"]["timings_ms"]
    out("Our stages on the first image (ms): " + ", ".join(
        f"{k} {v:.1f}" for k, v in stages.items()) + ". The published pipeline's GLCM time "
        "is the measured per-window time × windows (the first image ran every window). "
        "`analyze` clusters on its own thread while another does Otsu and texture, so the "
        "stages overlap and do not add up to the total; cluster + write_clusters is "
        f"{100 * (stages['cluster'] + stages.get('write_clusters', 0)) / stages['total']:.0f} % "
        "of it. "
        f"{target(pub_total / ana_wall, 40)}\n")
    mem.append(("whole pipeline (ours at 2048×1536, Python at 512 px)",
                np.max([a["rss_mb"] or 0 for a in ana]), published))

    # (d) filters on the first image.
    ops = [
        ("median", ["--radius", "2"], "5×5 median"),
        ("gaussian", ["--sigma", "2"], "σ 2, ±4σ"),
        ("bilateral", ["--sigma", "2", "--sigma-range", "25.5"], "σ 2 px, σ_r 25.5, d 9"),
        ("clahe", ["--tiles", "8", "--clip-limit", "2"], "8×8 tiles, clip 2"),
        ("background", ["--radius", "50"], "radius 50"),
        ("stretch", ["--saturated", "0.35"], "0.35 % saturated"),
    ]
    slow = {("skimage", "bilateral"): [512, 512], ("skimage", "background"): [256, 256]}
    out("### (d) Filters, 2048×1536 8-bit\n")
    out("| op | ours: op stage | ours: whole process | OpenCV | scikit-image / SciPy | "
        "speed-up vs fastest Python |")
    out("| --- | --- | --- | --- | --- | --- |")
    baseline = python("filter", {"image": str(img), "lib": "skimage", "op": "imports",
                                 "repeats": 1})
    for op, params, what in ops:
        res = ours(cli, ["preprocess", img, "--op", op, *params, "--out",
                         work / f"{op}.png"], r)
        stage = stage_ms(res["json"], op)
        py = {}
        for lib in ("opencv", "skimage"):
            if lib == "opencv" and op in ("background", "stretch"):
                continue
            crop = slow.get((lib, op))
            py[lib] = python("filter", {"image": str(img), "lib": lib, "op": op,
                                        "repeats": 1 if crop else r, "crop": crop})
        cells = []
        for lib in ("opencv", "skimage"):
            if lib not in py:
                cells.append("—")
                continue
            p = py[lib]
            note = f" (on {slow[(lib, op)][0]}² crop, extrapolated)" if p["extrapolated"] else ""
            cells.append(fmt_s(p["seconds"]) + note)
        fastest = min(p["seconds"] for p in py.values())
        out(f"| {op} ({what}) | {fmt_s(stage)} | {fmt_s(res['wall_s'])} | {cells[0]} | "
            f"{cells[1]} | {fmt_ratio(fastest / stage)} |")
        mem.append((f"preprocess {op}", res["rss_mb"], list(py.values())))
    out("")
    out("Python equivalents: OpenCV `medianBlur(5)`, `GaussianBlur((17,17), 2)` on float32, "
        "`bilateralFilter(d=9, 25.5, 2)`, `createCLAHE(2, (8,8))` (all `BORDER_REFLECT`); "
        "SciPy `median_filter(size=5)`, `gaussian_filter(2, truncate=4)`; scikit-image "
        "`denoise_bilateral(win_size=9)`, `equalize_adapthist(kernel_size=shape/8)`, "
        "`rolling_ball(radius=50)` (a true ball; ours is ImageJ's rolling paraboloid), "
        "`rescale_intensity` between the 0.175/99.825 percentiles. Ratios compare our op "
        "stage with the fastest Python call.\n")

    out("### (e) Peak memory\n")
    out("| stage | ours: max RSS | Python: max RSS | Python: increase over its imports |")
    out("| --- | --- | --- | --- |")
    for stage, o, children in mem:
        o = o if isinstance(o, str) else fmt_mb(o)
        if children is None:
            out(f"| {stage} | {o} | — | — |")
            continue
        peak = max(c["rss_mb"] or 0 for c in children)
        rise = max(c["peak_rss_mb"] - c["rss_after_imports_mb"] for c in children)
        out(f"| {stage} | {o} | {fmt_mb(peak)} | {fmt_mb(rise)} |")
    out("")
    out(f"Max RSS from `/usr/bin/time -v` for every process; the Python increase is "
        f"`resource.getrusage` ru_maxrss minus the RSS after importing the step's libraries "
        f"(filters: the larger of the OpenCV and scikit-image/SciPy processes). A Python "
        f"process that has only imported SciPy and scikit-image peaks at "
        f"{fmt_mb(baseline['rss_mb'])}.\n")

    elapsed = time.perf_counter() - started
    header = [
        f"Inputs: {kind}. Machine: {os.cpu_count()} cores ({platform_line()}), load average "
        f"{os.getloadavg()[0]:.1f} at the end (shared with other work); fast steps: best of "
        f"{r} runs. Python {sys.version.split()[0]}, {library_versions()}.",
        f"Benchmark run time: {elapsed:.0f} s.\n",
    ]
    return "\n".join(header + lines)


def library_versions():
    import importlib.metadata as md

    names = ["numpy", "scipy", "scikit-image", "scikit-learn", "opencv-python-headless"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(found)


def platform_line():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def update_docs(body, command):
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    section = (f"{SECTION}\n\nSpeed of `visual-ccc preprocess|texture|cluster|analyze` "
               f"(release build) against the Python stack, measured by\n\n```sh\n{command}\n"
               f"```\n\n{body}\n")
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)
    print(f"updated {DOCS.relative_to(REPO)}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=3, help="number of images (default 3)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each fast step, the best is kept (default 3)")
    parser.add_argument("--glcm-rows", type=int, default=48,
                        help="rows of the 512-px copy the per-window GLCM loop is timed on, "
                             "after the first image (default 48)")
    parser.add_argument("--cli", default=str(REPO / "target/release/visual-ccc"),
                        help="the visual-ccc binary (built with cargo if missing)")
    parser.add_argument("--update-docs", action="store_true",
                        help=f"write the results into the '{SECTION}' section of "
                             "docs/benchmarks.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        run_child(opts.child[0], json.loads(opts.child[1]))
        return
    if opts.images < 1:
        parser.error("--images must be at least 1")
    body = bench(opts)
    print(body)
    if opts.update_docs:
        command = "python3 scripts/bench-analysis.py " + " ".join(
            a for a in sys.argv[1:] if a != "--update-docs")
        update_docs(body, command.strip())


if __name__ == "__main__":
    main()
