//! Which files a batch processes: discovery under the input folder (optionally
//! recursive, a case-insensitive glob on the file name), one deterministic order, and
//! sharding by a stable rule.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Default file pattern: the formats the core decodes.
pub const DEFAULT_PATTERN: &str = "*.{tif,tiff,png,jpg,jpeg,bmp}";

/// Shard `index` of `count`: the sorted files whose position mod `count` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "shard: expected I/N with 0 ≤ I < N (e.g. 0/4), got '{text}'"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let shard = Shard {
            index: i.trim().parse().map_err(|_| bad())?,
            count: n.trim().parse().map_err(|_| bad())?,
        };
        shard.validate()?;
        Ok(shard)
    }

    pub fn validate(&self) -> Result<()> {
        if self.count == 0 || self.index >= self.count {
            return Err(Error::invalid(format!(
                "shard: index must be below the shard count (0 ≤ I < N), got {}/{}",
                self.index, self.count
            )));
        }
        Ok(())
    }

    /// Whether the file at `position` of the sorted list belongs to this shard.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index
    }
}

/// A file to process: its path and its name relative to the input folder (with `/`),
/// which identifies it in the summary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    pub relative: String,
    pub path: PathBuf,
}

/// The compiled file-name pattern; an error names the `pattern` field.
pub fn matcher(pattern: &str) -> Result<GlobMatcher> {
    let pattern = if pattern.trim().is_empty() {
        DEFAULT_PATTERN
    } else {
        pattern.trim()
    };
    GlobBuilder::new(pattern)
        .case_insensitive(true)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|e| Error::invalid(format!("pattern: {e}")))
}

/// Files under `input` whose name matches `pattern`, sorted by relative name; hidden files
/// and anything under `exclude` (the output folder) are left out.
pub fn discover(
    input: &Path,
    recursive: bool,
    pattern: &str,
    exclude: &Path,
) -> Result<Vec<InputFile>> {
    let glob = matcher(pattern)?;
    if !input.is_dir() {
        return Err(Error::invalid(format!(
            "input: {} is not a folder",
            input.display()
        )));
    }
    let mut found = Vec::new();
    let mut pending = vec![input.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || path.starts_with(exclude) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
            let kind = if kind.is_symlink() {
                std::fs::metadata(&path).map(|m| m.file_type()).ok()
            } else {
                Some(kind)
            };
            match kind {
                Some(kind) if kind.is_dir() && recursive => pending.push(path),
                Some(kind) if kind.is_file() && glob.is_match(name.as_ref()) => {
                    let relative = path
                        .strip_prefix(input)
                        .expect("found under input")
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    found.push(InputFile { relative, path });
                }
                _ => {}
            }
        }
    }
    found.sort();
    Ok(found)
}
