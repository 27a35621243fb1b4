//! Joining the shards' parts into one summary, refusing when a shard is missing or has
//! not finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::table::{self, csv_line};
use super::{PARTS_DIR, SKIPPED_FILE, SUMMARY_FILE};
use crate::error::{Error, Result};

/// What [`merge`] joined.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    pub shards: usize,
    pub rows: usize,
    pub skipped: usize,
    pub summary: PathBuf,
}

/// Written by a shard when it has handled every one of its files.
#[derive(Debug, Serialize, Deserialize)]
struct DoneMarker {
    files: usize,
    rows: usize,
    skipped: usize,
}

/// `parts/summary-I-of-N.done` next to `parts/summary-I-of-N.csv`.
pub(super) fn done_marker(summary: &Path) -> PathBuf {
    summary.with_extension("done")
}

pub(super) fn write_done_marker(
    path: &Path,
    files: usize,
    rows: usize,
    skipped: usize,
) -> Result<()> {
    let marker = DoneMarker {
        files,
        rows,
        skipped,
    };
    table::write_atomically(
        path,
        &(serde_json::to_string(&marker).expect("plain struct") + "\n"),
    )
}

/// `(index, count)` of a `summary-I-of-N.csv` name.
fn shard_of(name: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("summary-")?.strip_suffix(".csv")?;
    let (i, n) = rest.split_once("-of-")?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// Merges `output/parts/summary-*-of-N.csv` into `output/visual-ccc-summary.csv` (rows
/// sorted by file) and the skipped lists into `output/visual-ccc-skipped.csv`.
pub fn merge(output: &Path) -> Result<MergeReport> {
    let parts = output.join(PARTS_DIR);
    let mut found: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let entries = match std::fs::read_dir(&parts) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::invalid(format!(
                "{} has no parts folder: no shard (batch --shard I/N) has written there",
                output.display()
            )))
        }
        Err(e) => return Err(Error::io(&parts, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&parts, e))?;
        if let Some((i, n)) = shard_of(&entry.file_name().to_string_lossy()) {
            found.entry(n).or_default().push(i);
        }
    }
    let count = match found.keys().collect::<Vec<_>>().as_slice() {
        [] => {
            return Err(Error::invalid(format!(
                "no shard summaries (summary-I-of-N.csv) in {}",
                parts.display()
            )))
        }
        [n] => **n,
        several => {
            return Err(Error::invalid(format!(
                "{} holds parts of runs with different shard counts ({several:?}); \
                 remove the stale ones",
                parts.display()
            )))
        }
    };
    let mut header: Option<String> = None;
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for index in 0..count {
        let summary = parts.join(format!("summary-{index}-of-{count}.csv"));
        if !summary.exists() {
            return Err(Error::invalid(format!(
                "shard {index}/{count} is missing ({} does not exist); run it with \
                 --shard {index}/{count}",
                summary.display()
            )));
        }
        let marker_path = done_marker(&summary);
        let marker: DoneMarker = match std::fs::read_to_string(&marker_path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| Error::invalid(format!("{}: {e}", marker_path.display())))?,
            Err(_) => {
                return Err(Error::invalid(format!(
                    "shard {index}/{count} is incomplete (no {}: it was interrupted or \
                     is still running); run it again with --shard {index}/{count}",
                    marker_path.display()
                )))
            }
        };
        let (part_header, part_rows) = table::read_rows(&summary)?;
        if part_rows.len() != marker.rows {
            return Err(Error::invalid(format!(
                "shard {index}/{count} is incomplete: {} lists {} rows, its run \
                 finished with {}; run it again with --shard {index}/{count}",
                summary.display(),
                part_rows.len(),
                marker.rows
            )));
        }
        match &header {
            None => header = Some(part_header),
            Some(h) if *h == part_header => {}
            Some(_) => {
                return Err(Error::invalid(format!(
                    "shard {index}/{count} was run with other settings (its columns \
                     differ from shard 0's)"
                )))
            }
        }
        rows.extend(part_rows);
        let skipped_path = parts.join(format!("skipped-{index}-of-{count}.csv"));
        if let Ok((_, lines)) = table::read_rows(&skipped_path) {
            skipped.extend(lines);
        }
    }
    let rows = table::sort_rows(rows)?;
    let skipped = table::sort_rows(skipped)?;
    let summary = output.join(SUMMARY_FILE);
    let header = header.expect("at least one shard");
    table::write_atomically(&summary, &(header + &rows.concat()))?;
    table::write_atomically(
        &output.join(SKIPPED_FILE),
        &(csv_line(&["File", "Reason"]) + &skipped.concat()),
    )?;
    Ok(MergeReport {
        shards: count,
        rows: rows.len(),
        skipped: skipped.len(),
        summary,
    })
}
