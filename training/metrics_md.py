#!/usr/bin/env python3
"""Prints the metrics section of a model card from the JSON report train.py writes.

    python3 training/metrics_md.py docs/models/uhcs.json
    python3 training/metrics_md.py --source-blind RUN.json...   # train.py --leave-out reports
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
    cal = r.get("calibration")
    if cal:
        out += [f"Calibration: temperature T = {cal['temperature']:.3f} fitted on {r.get('validation_images', cal.get('validation_images'))} "
                f"validation images; on the held-out set ECE {cal['ece_before']:.3f} before, "
                f"{cal['ece_after']:.3f} after " + (f"(NLL {cal['nll_before']:.3f} → {cal['nll_after']:.3f})." if 'nll_before' in cal else ""), ""]
    unf = r.get("unfamiliar")
    if unf:
        out += [f"Unfamiliar images: energy threshold {unf['threshold']:.3f} (the {unf['quantile']:.0%} quantile "
                "of the validation images); share of held-out images flagged, by source: "
                + ", ".join(f"{k} {v:.0%}" for k, v in unf["flagged_by_source"].items()) + ".", ""]
    out += [f"Training: {r['train_images']} images ({', '.join(f'{k} {v}' for k, v in r['train_sources'].items())}), "
            f"{r['epochs']} epochs of {r['epoch_samples']} class-balanced augmented crops, "
            f"{r['training_seconds'] / 60:.1f} min for the final model on "
            f"{r['environment']['threads']} CPU thread(s) (torch {r['environment']['torch']}); "
            f"{r['total_seconds'] / 60:.1f} min for the whole command including cross-validation.",
            f"Training-data manifest SHA-256: `{r['training_manifest_sha256']}`."]
    print("\n".join(out))


def source_blind(paths):
    """One row per left-out real source of each --leave-out run: accuracy on all its images,
    the mean predicted class counts, and how many were flagged unfamiliar."""
    rows = ["| trained without | tested on | images | accuracy | predicted (alloy / dendrite / spheroid) "
            "| flagged unfamiliar |", "|---|---|---|---|---|---|"]
    for path in paths:
        r = json.load(open(path))
        left = r.get("leave_out") or []
        flagged = (r.get("unfamiliar") or {}).get("flagged_by_source", {})
        for src in left:
            m = r["held_out"]["by_source"][src]
            predicted = [sum(col) for col in zip(*m["confusion_matrix"])]
            rows.append(f"| {' + '.join(left)} | {src} | {m['n']} | {m['accuracy']:.3f} | "
                        f"{' / '.join(map(str, predicted))} | {flagged.get(src, float('nan')):.0%} |")
    print("\n".join(rows))


if __name__ == "__main__":
    if sys.argv[1] == "--source-blind":
        source_blind(sys.argv[2:])
    else:
        main(sys.argv[1])
