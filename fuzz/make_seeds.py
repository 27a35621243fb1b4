#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seeds from the test fixtures (not committed).

    python3 fuzz/make_seeds.py

decode: small images in every format and pixel type the decoder accepts (written
with Pillow and the hostile fixtures). model_load: the fixture models.
package_import: the tiny BioImage package zipped, plus a few broken variants.
"""

import io
import os
import shutil
import zipfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURES = os.path.join(REPO, "tests", "fixtures")


def corpus(target):
    path = os.path.join(HERE, "corpus", target)
    os.makedirs(path, exist_ok=True)
    return path


def decode_seeds():
    out = corpus("decode")
    ramp = (np.add.outer(np.arange(24), np.arange(32) * 3) % 256).astype(np.uint8)
    images = {
        "grey8": Image.fromarray(ramp),
        "grey16": Image.fromarray(ramp.astype(np.uint16) * 257),
        "float32": Image.fromarray(ramp.astype(np.float32) / 7.0),
        "rgb": Image.fromarray(np.dstack([ramp, 255 - ramp, ramp // 2])),
        "rgba": Image.fromarray(np.dstack([ramp, ramp, ramp, ramp])),
        "greya": Image.fromarray(ramp).convert("LA"),
    }
    for name, image in images.items():
        for fmt, ext in [("PNG", "png"), ("TIFF", "tif"), ("JPEG", "jpg"), ("BMP", "bmp")]:
            buffer = io.BytesIO()
            try:
                image.save(buffer, fmt)
            except (OSError, KeyError, ValueError):
                continue
            with open(os.path.join(out, f"{name}.{ext}"), "wb") as f:
                f.write(buffer.getvalue())
    buffer = io.BytesIO()
    images["grey8"].save(buffer, "TIFF", compression="tiff_deflate")
    with open(os.path.join(out, "grey8-deflate.tif"), "wb") as f:
        f.write(buffer.getvalue())
    for name in ["huge-declared.png", "huge-declared.tif", "empty-sample-format.tif"]:
        shutil.copy(os.path.join(FIXTURES, "hostile", name), out)


def model_seeds():
    out = corpus("model_load")
    for folder in ["models", "hostile"]:
        for name in os.listdir(os.path.join(FIXTURES, folder)):
            path = os.path.join(FIXTURES, folder, name)
            # bench-cnn is large and slow to load; the others cover the contract.
            if name.endswith(".onnx") and os.path.getsize(path) < 200_000:
                shutil.copy(path, out)


def package_seeds():
    out = corpus("package_import")
    package = os.path.join(FIXTURES, "bioimageio", "tiny-classifier")
    files = {n: open(os.path.join(package, n), "rb").read() for n in os.listdir(package)}

    def write(name, entries):
        with zipfile.ZipFile(os.path.join(out, name), "w", zipfile.ZIP_DEFLATED) as z:
            for entry, data in entries.items():
                z.writestr(entry, data)

    write("tiny-classifier.zip", files)
    rdf = files["rdf.yaml"].decode()
    write("outside.zip", {**files, "rdf.yaml": rdf.replace("test_input.npy", "../x.npy")})
    write("nested.zip", {f"pkg/{n}": d for n, d in files.items()})
    write("rdf-only.zip", {"rdf.yaml": files["rdf.yaml"]})


if __name__ == "__main__":
    decode_seeds()
    model_seeds()
    package_seeds()
    for target in ["decode", "model_load", "package_import"]:
        print(target, len(os.listdir(corpus(target))), "seeds")
