#!/usr/bin/env python3
"""Re-scores a model's held-out real images through the product's own inference path
(`visual-ccc classify`, Rust + ONNX Runtime) and prints accuracy, the confusion matrix and,
for models with an unfamiliar-image threshold, the fraction of images of each source flagged.

    python3 training/eval_cli.py --bin target/release/visual-ccc --model uhcs docs/models/uhcs.manifest.tsv

Reads the `test` rows of the manifest that train.py wrote; synthetic rows are skipped (their
files are generated in a temporary folder), real ones are read from ../shared/data.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import data_root  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/visual-ccc")
    ap.add_argument("--model", required=True)
    ap.add_argument("--data")
    ap.add_argument("--mode", default="whole", choices=["whole", "center-crop"],
                    help="the CLI's classification mode (default: whole, the product's default)")
    ap.add_argument("manifest")
    args = ap.parse_args()
    root = data_root(args.data)
    rows = [line.rstrip("\n").split("\t") for line in open(args.manifest)]
    test = [(int(label), os.path.join(root, rel)) for split, label, src, rel, _ in rows
            if split == "test" and src != "synthetic"]
    source_of = {os.path.join(root, rel): src for split, _, src, rel, _ in rows}
    out = subprocess.run([args.bin, "classify", "--mode", args.mode, "--model", args.model] + [p for _, p in test],
                         capture_output=True, text=True)
    results = {}
    flagged = {}
    classes = None
    for line in out.stdout.splitlines():
        r = json.loads(line)
        classes = classes or list(r["probabilities"])
        results[r["file"]] = classes.index(r["class"])
        if r.get("unfamiliar") is not None:
            flagged.setdefault(source_of[r["file"]], []).append(bool(r["unfamiliar"]))
    n = len(classes)
    cm = [[0] * n for _ in range(n)]
    for label, path in test:
        cm[label][results[path]] += 1
    correct = sum(cm[i][i] for i in range(n))
    print(json.dumps({"model": args.model, "mode": args.mode, "n": len(test), "accuracy": correct / len(test),
                      "classes": classes, "confusion_matrix": cm,
                      "unfamiliar_by_source": {src: sum(f) / len(f) for src, f in sorted(flagged.items())} or None}))


if __name__ == "__main__":
    main()
