//! The summary table: CSV lines (RFC 4180 through the `csv` crate), the number format,
//! the append-only file that marks finished images, and sorting rows by file.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// One CSV line (with its newline) from `fields`.
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer
        .write_record(fields.iter().map(|f| f.as_ref()))
        .expect("writing to memory");
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("fields are UTF-8")
}

/// The fields of one CSV line.
pub fn parse_line(line: &str) -> Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => Ok(record.iter().map(String::from).collect()),
        Some(Err(e)) => Err(Error::invalid(format!("malformed summary line: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// Six significant digits (C's `%.6g`): exponent form outside 1e-4 ≤ |v| < 1e6,
/// trailing zeros removed.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if value == 0.0 {
        return "0".into();
    }
    let scientific = format!("{value:.5e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("has an exponent");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    if !(-4..6).contains(&exponent) {
        let mantissa = trim_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        let decimals = (5 - exponent).max(0) as usize;
        trim_zeros(&format!("{value:.decimals$}")).to_string()
    }
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// An append-only summary file: a header line, then one line per finished image.
pub struct SummaryFile {
    file: File,
}

impl SummaryFile {
    /// Opens (or creates) the summary at `path` with `header`, and returns it with the
    /// files it already lists. A last line without its newline (a run killed while
    /// appending) is cut off; a summary with another header is refused.
    pub fn open(path: &Path, header: &str) -> Result<(Self, BTreeSet<String>)> {
        let mut done = BTreeSet::new();
        let existing = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        let complete = existing
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        if complete < existing.len() {
            file.set_len(complete as u64)
                .map_err(|e| Error::io(path, e))?;
        }
        let mut summary = SummaryFile { file };
        let text = String::from_utf8_lossy(&existing[..complete]);
        let mut lines = text.lines();
        match lines.next() {
            None => summary.append(header, path)?,
            Some(first) if format!("{first}\n") == header => {}
            Some(_) => {
                return Err(Error::invalid(format!(
                    "output: {} was made with other settings (other model, k or texture \
                     features); choose another output folder",
                    path.display()
                )))
            }
        }
        for line in lines.filter(|l| !l.is_empty()) {
            if let Some(file) = parse_line(line)?.into_iter().next() {
                done.insert(file);
            }
        }
        Ok((summary, done))
    }

    /// Appends one whole line in a single write, synced to the disk, so that the line
    /// exists only when complete.
    pub fn append(&mut self, line: &str, path: &Path) -> Result<()> {
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(path, e))
    }
}

/// The header and the data lines of a summary, in file order.
pub fn read_rows(path: &Path) -> Result<(String, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| Error::invalid(format!("{} is empty", path.display())))?;
    Ok((
        format!("{header}\n"),
        lines
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect(),
    ))
}

/// Sorts data lines by their file (first field), refusing duplicates.
pub fn sort_rows(rows: Vec<String>) -> Result<Vec<String>> {
    let mut keyed = rows
        .into_iter()
        .map(|line| {
            let file = parse_line(&line)?.into_iter().next().unwrap_or_default();
            Ok((file, line))
        })
        .collect::<Result<Vec<_>>>()?;
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = keyed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(Error::invalid(format!(
            "the summary lists {} twice",
            pair[0].0
        )));
    }
    Ok(keyed.into_iter().map(|(_, line)| line).collect())
}

/// Writes `text` to `path` under a temporary name, then renames it into place.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let part = super::part_path(path);
    std::fs::write(&part, text).map_err(|e| Error::io(&part, e))?;
    std::fs::rename(&part, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_six_significant_digits() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.0 / 3.0), "0.333333");
        assert_eq!(number(123456.7), "123457");
        assert_eq!(number(1234567.0), "1.23457e+06");
        assert_eq!(number(0.0001234), "0.0001234");
        assert_eq!(number(0.00001234), "1.234e-05");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(0.0), "0");
    }

    #[test]
    fn csv_lines_quote_what_needs_it() {
        assert_eq!(csv_line(&["a", "b,c", "d\"e"]), "a,\"b,c\",\"d\"\"e\"\n");
        assert_eq!(
            parse_line("a,\"b,c\",\"d\"\"e\"").unwrap(),
            vec!["a", "b,c", "d\"e"]
        );
    }
}
