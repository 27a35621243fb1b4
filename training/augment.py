"""Training-time augmentation for training/train.py: random crops, flips, rotations, and the
style randomisation that makes the morphology task source-blind (histogram matching to a random
training micrograph of any class, percentile stretch, inversion, relief contrast, the texture
of another real micrograph, blur, JPEG, uneven illumination, contrast / gamma / noise), plus
class- and source-balanced sampling weights."""

import cv2
import numpy as np

STYLE_POOL = []  # sorted grey-level quantiles of training micrographs (any class)
STYLE_PROB = [0.35, 0.15]  # histogram matching, percentile stretch (--style-prob)
RELIEF_PROB = [0.0]  # --relief-prob
TEXTURE_POOL = []  # real training micrographs (uint8), for texture mixing
TEXTURE_PROB = [0.0]  # --texture-mix


def texture_mix(x, rng, size):
    """Adds the zero-mean grey texture of a random real training micrograph of any class
    at a fraction of the crop's contrast, so that a source's fine texture (noise, etching,
    JPEG blocks, figure-panel smoothness) appears in every class and only the morphology
    at larger scale tells them apart."""
    src = TEXTURE_POOL[int(rng.integers(len(TEXTURE_POOL)))]
    h, w = src.shape
    side = max(16, int(min(h, w) * rng.uniform(0.3, 1.0)))
    y0 = int(rng.integers(0, h - side + 1))
    x0 = int(rng.integers(0, w - side + 1))
    u = cv2.resize(src[y0:y0 + side, x0:x0 + side], (size, size),
                   interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    u -= float(u.mean())
    spread = max(float(u.std()), 1e-3)
    alpha = rng.uniform(0.3, 1.0) * max(float(x.std()), 0.02) / spread
    return np.clip(x + alpha * u, 0.0, 1.0).astype(np.float32)


def relief(x, rng):
    """Topographic (relief) contrast: the derivative of the smoothed crop along a random
    detector direction, on a flat mid-grey, with little or none of the original grey
    levels left. Secondary-electron images of a deposit of one material (lithium on
    lithium) show its shape mostly this way, as low-contrast relief, instead of a bright
    deposit on a dark substrate; without it a model learns "low-contrast grey texture =
    alloy" (docs/models/morphology.md)."""
    sigma = rng.uniform(0.6, 2.0)
    s = cv2.GaussianBlur(x, (0, 0), sigma)
    gx = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3)
    ang = rng.uniform(0.0, 2.0 * np.pi)
    d = np.cos(ang) * gx + np.sin(ang) * gy
    d = d / max(float(np.quantile(np.abs(d), 0.99)), 1e-4)
    keep = rng.uniform(0.0, 0.4)
    out = 0.5 + rng.uniform(0.1, 0.4) * d + keep * (x - float(x.mean()))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def style_quantiles(img):
    return np.quantile(img, np.linspace(0.0, 1.0, 65)).astype(np.float32) / 255.0


def match_histogram(x, ref_q):
    """Maps x's grey-level distribution onto the reference quantiles (monotone, so
    structure is kept and only the grey statistics change)."""
    q = np.quantile(x, np.linspace(0.0, 1.0, 65))
    q = q + np.arange(65) * 1e-6  # strictly increasing for np.interp
    return np.interp(x, q, ref_q).astype(np.float32)


def augment(img, size, rng, invert_p, scale_range):
    h, w = img.shape
    short = min(h, w)
    side = int(short * rng.uniform(*scale_range))
    side = max(16, min(side, short))
    aspect = rng.uniform(0.9, 1.1)
    cw, ch = min(w, int(side * aspect)), side
    x0 = rng.integers(0, w - cw + 1)
    y0 = rng.integers(0, h - ch + 1)
    crop = img[y0:y0 + ch, x0:x0 + cw]
    interp = cv2.INTER_AREA if cw > size else cv2.INTER_LINEAR
    x = cv2.resize(crop, (size, size), interpolation=interp)
    if rng.random() < 0.3:  # JPEG artefacts (on 8-bit, before the float stages)
        q = int(rng.integers(25, 90))
        ok, buf = cv2.imencode(".jpg", x, [cv2.IMWRITE_JPEG_QUALITY, q])
        x = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    x = x.astype(np.float32) / 255.0
    k = int(rng.integers(0, 4))
    x = np.rot90(x, k)
    if rng.random() < 0.5:
        x = x[:, ::-1]
    x = np.ascontiguousarray(x)
    if rng.random() < invert_p:
        x = 1.0 - x
    if rng.random() < RELIEF_PROB[0]:
        x = relief(x, rng)
    if TEXTURE_POOL and rng.random() < TEXTURE_PROB[0]:
        x = texture_mix(x, rng, size)
    # Style randomisation across classes: the grey statistics of a random real micrograph
    # (of any class), or a 16-bit-style percentile stretch, so that neither synthetic nor a
    # source's grey statistics says which class an image is.
    r = rng.random()
    if r < STYLE_PROB[0] and STYLE_POOL:
        x = match_histogram(x, STYLE_POOL[int(rng.integers(len(STYLE_POOL)))])
    elif r < STYLE_PROB[0] + STYLE_PROB[1]:
        lo, hi = np.quantile(x, [rng.uniform(0.0, 0.05), rng.uniform(0.95, 1.0)])
        x = np.clip((x - lo) / max(hi - lo, 1e-3), 0.0, 1.0).astype(np.float32)
    if rng.random() < 0.3:
        sigma = rng.uniform(0.4, 1.5)
        x = cv2.GaussianBlur(x, (0, 0), sigma)
    if rng.random() < 0.5:  # uneven illumination: a tilted plane or a broad bump
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
        if rng.random() < 0.5:
            ang = rng.uniform(0, 2 * np.pi)
            field = np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5)
        else:
            cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.3, 1.0)
            field = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) - 0.5
        x = x + rng.uniform(0.05, 0.3) * field
    # contrast, brightness, gamma
    m = x.mean()
    x = (x - m) * rng.uniform(0.6, 1.4) + m + rng.uniform(-0.15, 0.15)
    x = np.clip(x, 0.0, 1.0)
    x = x ** np.exp(rng.uniform(-0.5, 0.5))
    r = rng.random()
    if r < 0.35:
        x = x + rng.normal(0.0, rng.uniform(0.01, 0.08), x.shape).astype(np.float32)
    elif r < 0.55:
        peak = rng.uniform(15, 200)
        x = rng.poisson(np.clip(x, 0, 1) * peak).astype(np.float32) / peak
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def sample_weights(samples, n_classes, real_share=None):
    """Each class drawn equally often; within a class each source equally often, or, with
    `real_share`, the class's real sources together that share of its draws and its
    synthetic images the rest (where a class has both)."""
    counts = {}
    sources = {}
    for s in samples:
        counts[(s.label, s.source)] = counts.get((s.label, s.source), 0) + 1
        sources.setdefault(s.label, set()).add(s.source)

    def share(label, source):
        srcs = sources[label]
        real = [x for x in srcs if x != "synthetic"]
        if real_share is None or not real or "synthetic" not in srcs:
            return 1.0 / len(srcs)
        return real_share / len(real) if source != "synthetic" else 1.0 - real_share

    w = np.array([share(s.label, s.source) / (n_classes * counts[(s.label, s.source)]) for s in samples])
    return w / w.sum()
