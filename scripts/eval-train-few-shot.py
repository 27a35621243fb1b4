#!/usr/bin/env python3
"""Few-shot accuracy of `visual-ccc train` (docs/benchmarks.md, "Training a classifier"):
sample K labelled images per class, train with the CLI, classify the rest with
`visual-ccc classify --model` (whole-image mode), print the weighted accuracy (the
fraction of test images right: recall weighted by class size) and the balanced one.
Runs over several seeds and prints mean and spread (min-max) per proxy.

Proxies (the issue's held-back test, 5 real images per source, cannot be run here):
  uhcs        the three UHCS steel classes (../shared/data/uhcs): carbide network,
              pearlite, spheroidite; test: every image not sampled (463 for K = 5).
  morphology  sources as classes: alloy (UHCS, any class), spheroid (EMPS particle
              panels), dendrite (synthetic, `visual-ccc synth --class dendrite`, 1024x768);
              test: 60 not-sampled images per class. The default base model was trained on
              UHCS and EMPS images, so this proxy is optimistic for those two classes.

    scripts/eval-train-few-shot.py [--k 5] [--seeds 0 1 2] [--proxy uhcs morphology]
                                   [--bin PATH] [--base-only] [-- TRAIN OPTIONS...]

Needs a release build (cargo build --release -p visual-ccc-cli) and ../shared/data;
exits 0 with a message when the data is absent. Classification runs as two processes of
one ONNX Runtime thread each.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
TEST_PER_CLASS = 60
DENDRITES = TEST_PER_CLASS + 20


def uhcs_pool(work):
    return {c: sorted((SHARED / "uhcs" / c).iterdir()) for c in ("carbide_network", "pearlite", "spheroidite")}


def morphology_pool(work, binary):
    dendrites = work / "dendrite"
    if not dendrites.is_dir():
        subprocess.run([binary, "synth", "--class", "dendrite", "--count", str(DENDRITES), "--seed", "7",
                        "--width", "1024", "--height", "768", "--out", f"{dendrites}/"],
                       check=True, stdout=subprocess.DEVNULL)
    uhcs = [f for c in sorted((SHARED / "uhcs").iterdir()) if c.is_dir() for f in sorted(c.iterdir())]
    return {
        "alloy": uhcs,
        "spheroid": sorted((SHARED / "emps" / "images").glob("*.png")),
        "dendrite": sorted(dendrites.glob("*.png")),
    }


def run_once(binary, pool, k, seed, work, train_options, test_per_class, base_only):
    rng = random.Random(seed)
    train_dir = work / f"train-{seed}"
    test = []
    for cls, files in pool.items():
        files = list(files)
        rng.shuffle(files)
        (train_dir / cls).mkdir(parents=True, exist_ok=True)
        for f in files[:k]:
            (train_dir / cls / f.name).symlink_to(f)
        rest = files[k:]
        test += [(f, cls) for f in (rest[:test_per_class] if test_per_class else rest)]
    model = work / f"model-{seed}.onnx"
    if base_only:
        model, report = "morphology", {"lambda": None}
    else:
        trained = subprocess.run([binary, "train", str(train_dir), "--out", str(model), "--seed", str(seed),
                                  *train_options], check=True, capture_output=True, text=True)
        report = json.loads(trained.stdout)
    truth = {str(f): cls for f, cls in test}
    halves = [[str(f) for f, _ in test[i::2]] for i in range(2)]
    runs = [subprocess.Popen([binary, "classify", "--threads", "1", "--model", str(model), *half],
                             stdout=subprocess.PIPE, text=True) for half in halves]
    right, total = {}, {}
    for run in runs:
        out, _ = run.communicate()
        for line in out.splitlines():
            r = json.loads(line)
            cls = truth[r["file"]]
            total[cls] = total.get(cls, 0) + 1
            right[cls] = right.get(cls, 0) + (r.get("class") == cls)
    weighted = sum(right.values()) / sum(total.values())
    balanced = statistics.mean(right.get(c, 0) / total[c] for c in total)
    cv = (report.get("cross_validation") or {}).get("accuracy")
    detail = ", ".join(f"{c} {right.get(c, 0)}/{total[c]}" for c in sorted(total))
    print(f"  seed {seed}: weighted {weighted:.3f}, balanced {balanced:.3f}, cv {cv}, "
          f"lambda {report['lambda']}; {detail}", flush=True)
    return weighted, balanced


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--proxy", nargs="+", default=["uhcs", "morphology"], choices=["uhcs", "morphology"])
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "visual-ccc"))
    parser.add_argument("--base-only", action="store_true",
                        help="no training: score the shipped morphology model (morphology proxy only)")
    parser.add_argument("train_options", nargs="*")
    args = parser.parse_args()
    if not (SHARED / "uhcs").is_dir() or not (SHARED / "emps").is_dir():
        print(f"eval-train-few-shot: {SHARED} lacks uhcs/ or emps/, skipping")
        return 0
    if not Path(args.bin).is_file():
        print(f"eval-train-few-shot: {args.bin} missing: cargo build --release -p visual-ccc-cli", file=sys.stderr)
        return 1
    options = " ".join(args.train_options) or "(defaults)"
    with tempfile.TemporaryDirectory() as tmp:
        for proxy in args.proxy:
            work = Path(tmp) / proxy
            work.mkdir()
            pool = uhcs_pool(work) if proxy == "uhcs" else morphology_pool(work, args.bin)
            print(f"eval-train-few-shot: {proxy}, k = {args.k}, train options {options}", flush=True)
            per_class = 0 if proxy == "uhcs" else TEST_PER_CLASS
            scores = [run_once(args.bin, pool, args.k, seed, work, args.train_options, per_class, args.base_only)
                      for seed in args.seeds]
            for name, values in zip(("weighted", "balanced"), zip(*scores)):
                print(f"  {proxy} {name} accuracy: mean {statistics.mean(values):.3f}, "
                      f"range {min(values):.3f}-{max(values):.3f} over seeds {args.seeds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
