#!/usr/bin/env python3
"""Stores the `morphology` model's replay set (rust/core/src/train/replay.rs) in it:
prototypes of the pooled tile features of images of the kinds it was trained on, which
`visual-ccc train` fits a residual head on together with the labelled images, so that a
few labelled images of a new appearance do not move what the base reads right.

    python3 training/make_replay.py [--bin target/release/visual-ccc] [--model models/morphology.onnx]

Images (the base's own classes; half of each real source, so that the other half stays
unseen by the replay set for scripts/eval-train-few-shot.py):
  alloy     every other UHCS image (../shared/data/uhcs, all three classes, sorted by path)
  spheroid  every other EMPS panel (../shared/data/emps/images, sorted by name)
  dendrite  60 synthetic dendrites (`visual-ccc synth --class dendrite`, 1024x768, seeds
            30000-30059), as the base's dendrite class was learnt from synthetic images
Writes docs/models/morphology.replay.tsv (class, image) and rewrites the model with the
set in its metadata (`visualccc.replay`); the weights are not touched.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
MANIFEST = ROOT / "docs" / "models" / "morphology.replay.tsv"


def replay_images():
    """{class: [paths]} of the real images in the replay set."""
    uhcs = sorted(f for c in (SHARED / "uhcs").iterdir() if c.is_dir() for f in c.iterdir())
    emps = sorted((SHARED / "emps" / "images").glob("*.png"))
    return {"alloy": uhcs[0::2], "spheroid": emps[0::2]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "visual-ccc"))
    parser.add_argument("--model", default=str(ROOT / "models" / "morphology.onnx"))
    args = parser.parse_args()
    if not (SHARED / "uhcs").is_dir() or not (SHARED / "emps").is_dir():
        print(f"make_replay: {SHARED} lacks uhcs/ or emps/", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        lines = []
        for cls, files in replay_images().items():
            (data / cls).mkdir(parents=True)
            for f in files:
                (data / cls / f"{f.parent.name}-{f.name}").symlink_to(f)
                lines.append(f"{cls}\t{f.relative_to(SHARED)}")
        subprocess.run([args.bin, "synth", "--class", "dendrite", "--count", "60", "--seed", "30000",
                        "--width", "1024", "--height", "768", "--out", f"{data / 'dendrite'}/"],
                       check=True, stdout=subprocess.DEVNULL)
        MANIFEST.write_text("class\timage (under ../shared/data, or synth)\n" + "\n".join(lines) +
                            "\ndendrite\tsynth --class dendrite --count 60 --seed 30000 --width 1024 --height 768\n")
        out = Path(tmp) / "with-replay.onnx"
        subprocess.run([args.bin, "train", str(data), "--base", args.model, "--make-replay", "--out", str(out)],
                       check=True)
        Path(args.model).write_bytes(out.read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
