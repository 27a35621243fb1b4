#!/usr/bin/env python3
"""Prints the metrics section of a model card from the JSON report train.py writes.

    python3 training/metrics_md.py docs/models/uhcs.json
"""
import json
import sys


def confusion(cm, classes):
    lines = ["| true \\ predicted | " + " | ".join(classes) + " |",
             "|---" * (len(classes) + 1) + "|"]
    for name, row in zip(classes, cm):
        lines.append(f"| **{name}** | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def main(path):
    r = json.load(open(path))
    classes = r["classes"]
    h = r["held_out"]
    crop = r.get("held_out_center_crop")
    # reports before whole-image evaluation scored the centre crop only
    mode = "whole-image mode, the product's default" if crop else "centre-crop preprocessing"
    out = [f"Held-out test set: {h['n']} images never used in training or model selection, "
           f"scored in {mode}.", "",
           "| metric | value |", "|---|---|",
           f"| accuracy | {h['accuracy']:.3f} |",
           f"| balanced accuracy (mean per-class recall) | {h['balanced_accuracy']:.3f} |",
           f"| F1, support-weighted | {h['f1_weighted']:.3f} |",
           f"| F1, macro | {h['f1_macro']:.3f} |", "",
           f"Confusion matrix (rows: true class, columns: predicted; {mode}):", "",
           confusion(h["confusion_matrix"], classes), ""]
    if crop:
        out += [f"Centre-crop mode (the published method) on the same images: accuracy {crop['accuracy']:.3f}, "
                f"F1 weighted {crop['f1_weighted']:.3f}.", "",
                confusion(crop["confusion_matrix"], classes), ""]
    if len(h["by_source"]) > 1:
        out += ["By source:", ""]
        for src, m in h["by_source"].items():
            out += [f"- **{src}** ({m['n']} images): accuracy {m['accuracy']:.3f}", "",
                    confusion(m["confusion_matrix"], classes), ""]
    cv = r.get("cross_validation")
    if cv:
        out += [f"Cross-validation on the training part ({mode}): {cv['folds']}-fold, stratified, image-wise, "
                f"{cv['epochs_per_fold']} epochs per fold (the final model gets {r['epochs']}), "
                f"{cv['seconds'] / 60:.0f} min in all:", "",
                "| metric | mean ± sd | folds |", "|---|---|---|"]
        for key in ("accuracy", "balanced_accuracy", "f1_weighted"):
            m = cv[key]
            out.append(f"| {key.replace('_', ' ')} | {m['mean']:.3f} ± {m['sd']:.3f} | "
                       + ", ".join(f"{v:.3f}" for v in m["folds"]) + " |")
        out.append("")
    out += [f"Training: {r['train_images']} images ({', '.join(f'{k} {v}' for k, v in r['train_sources'].items())}), "
            f"{r['epochs']} epochs of {r['epoch_samples']} class-balanced augmented crops, "
            f"{r['training_seconds'] / 60:.1f} min for the final model on "
            f"{r['environment']['threads']} CPU thread(s) (torch {r['environment']['torch']}); "
            f"{r['total_seconds'] / 60:.1f} min for the whole command including cross-validation.",
            f"Training-data manifest SHA-256: `{r['training_manifest_sha256']}`."]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
