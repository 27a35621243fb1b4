//! Saving a trained model and its card, and the checks before training starts.

use std::path::Path;

use super::{TrainReport, TrainedModel};
use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same folder, so a failed
/// write leaves no half-written model.
pub fn save_model(bytes: &[u8], path: &Path) -> Result<()> {
    let temporary = partial_path(path)?;
    std::fs::write(&temporary, bytes).map_err(|err| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, err)
    })?;
    std::fs::rename(&temporary, path).map_err(|err| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, err)
    })
}

/// Writes the model to `path` (see [`save_model`]) and its card, a Markdown summary of
/// the data, counts, cross-validation, base model and date, next to it as `<name>.md`.
/// Returns the card's path.
pub fn save_with_card(trained: &TrainedModel, path: &Path) -> Result<std::path::PathBuf> {
    let card_path = path.with_extension("md");
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    save_model(trained.bytes.as_slice(), path)?;
    save_model(model_card(&name, &trained.report).as_bytes(), &card_path)?;
    Ok(card_path)
}

/// The model card of a trained model.
pub fn model_card(name: &str, report: &TrainReport) -> String {
    let mut card = format!(
        "# {name}\n\nA Visual-CCC classifier trained on {} labelled images on {}: the \
         `{}` model's backbone (sha256 `{}`) with a new linear head (L2 penalty {}, base logits \
         as a prior with weight {}, {}seed {}).\n\n## Data\n\n| class | images |\n|---|---|\n",
        report.image_counts.iter().sum::<usize>(),
        report.date,
        report.base_model,
        report.base_sha256,
        report.lambda,
        report.prior_weight,
        if report.residual {
            "fitted as a correction of the base model's calibrated logits, "
        } else {
            ""
        },
        report.seed,
    );
    for (class, count) in report.classes.iter().zip(&report.image_counts) {
        card += &format!("| {class} | {count} |\n");
    }
    card += &format!(
        "\n{} tiles, {} feature vectors (with augmentation, if any).\n\n## Cross-validation\n\n",
        report.tiles, report.samples
    );
    match (
        &report.cross_validation,
        &report.cross_validation_unavailable,
    ) {
        (Some(cv), _) => {
            card += &format!(
                "{}-fold, by image: accuracy {:.3}, balanced accuracy {:.3}.\n\n\
                 Confusion matrix (rows: true class, columns: predicted):\n\n| |{}|\n|---|{}\n",
                cv.folds,
                cv.accuracy,
                cv.balanced_accuracy,
                report.classes.join("|"),
                "---|".repeat(report.classes.len()),
            );
            for (class, row) in report.classes.iter().zip(&cv.confusion) {
                let cells: Vec<String> = row.iter().map(usize::to_string).collect();
                card += &format!("| {class} |{}|\n", cells.join("|"));
            }
        }
        (None, reason) => card += &format!("Not done: {}.\n", reason.clone().unwrap_or_default()),
    }
    if !report.skipped.is_empty() {
        card += "\n## Skipped\n\n";
        for skipped in &report.skipped {
            card += &format!("- {}: {}\n", skipped.file, skipped.reason);
        }
    }
    card += "\nThe training files and their sha256 are in the model's metadata \
             (`visualccc.train.files`).\n";
    card
}

/// Fails with the reason when `path` cannot be written, before any work is done.
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "{}: is a folder; give the model's file name (…/name.onnx)",
            path.display()
        )));
    }
    let probe = partial_path(path)?;
    std::fs::write(&probe, b"").map_err(|err| Error::io(path, err))?;
    std::fs::remove_file(&probe).map_err(|err| Error::io(&probe, err))
}

/// The temporary file a model is written to before it is renamed into place.
fn partial_path(path: &Path) -> Result<std::path::PathBuf> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{}: not a file path", path.display())))?;
    Ok(folder.join(format!(".{}.partial", name.to_string_lossy())))
}

/// Today's date in UTC (or `SOURCE_DATE_EPOCH`'s) as YYYY-MM-DD.
pub(super) fn today() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    // Days to the civil calendar (H. Hinnant's algorithm).
    let z = (seconds / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        std::env::set_var("SOURCE_DATE_EPOCH", "1796515200");
        assert_eq!(super::today(), "2026-12-06");
        std::env::remove_var("SOURCE_DATE_EPOCH");
    }
}
