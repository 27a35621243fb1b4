//! An image's output files: written under `.part-` names, then renamed into place
//! together, so that no output is ever seen half-written.

use std::path::{Path, PathBuf};

use tiff::encoder::colortype;

use super::part_path;
use crate::error::{Error, Result};
use crate::image::encode::write_tiff;
use crate::pipeline::Analysis;

/// Output paths relative to the output folder, as the summary lists them.
pub struct Written {
    pub heatmap: Option<String>,
    pub labels: Option<String>,
}

fn heatmap_name(relative: &str) -> String {
    format!("heatmaps/{relative}-CAM.tif")
}

fn labels_name(relative: &str) -> String {
    format!("labels/{relative}-clusters.tif")
}

/// Every output path an input file can have.
pub fn paths(output: &Path, relative: &str) -> [PathBuf; 2] {
    [
        output.join(heatmap_name(relative)),
        output.join(labels_name(relative)),
    ]
}

/// Writes the requested outputs of one image: the CAM as an image-sized 32-bit TIFF, the
/// cluster labels as an 8-bit TIFF.
pub fn write(
    output: &Path,
    relative: &str,
    analysis: &Analysis,
    save_heatmap: bool,
    save_labels: bool,
) -> Result<Written> {
    let cam = analysis
        .classification
        .as_ref()
        .and_then(|c| c.cam.as_ref().map(|cam| (cam, c.region)))
        .filter(|_| save_heatmap);
    let mut moves: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<Written> {
        let mut written = Written {
            heatmap: None,
            labels: None,
        };
        if let Some((cam, region)) = cam {
            let name = heatmap_name(relative);
            let target = output.join(&name);
            let part = begin(&target, &mut moves)?;
            // Image-sized, 0 outside the region the model analysed (as Fiji's heat maps).
            let (width, height) = (analysis.otsu_mask.width, analysis.otsu_mask.height);
            let mut map = vec![0.0f32; width * height];
            for (row, values) in cam.data.chunks(cam.width).enumerate() {
                let y = region.y + row;
                if y < height && region.x < width {
                    let n = values.len().min(width - region.x);
                    let start = y * width + region.x;
                    map[start..start + n].copy_from_slice(&values[..n]);
                }
            }
            write_tiff::<colortype::Gray32Float>(&part, width, height, &map)?;
            written.heatmap = Some(name);
        }
        if save_labels {
            let name = labels_name(relative);
            let target = output.join(&name);
            let part = begin(&target, &mut moves)?;
            let clustering = &analysis.clustering;
            write_tiff::<colortype::Gray8>(
                &part,
                clustering.width,
                clustering.height,
                &clustering.labels,
            )?;
            written.labels = Some(name);
        }
        for (part, target) in &moves {
            std::fs::rename(part, target).map_err(|e| Error::io(target, e))?;
        }
        Ok(written)
    })();
    if result.is_err() {
        for (part, _) in &moves {
            let _ = std::fs::remove_file(part);
        }
    }
    result
}

/// Creates the target's folder and registers its temporary name.
fn begin(target: &Path, moves: &mut Vec<(PathBuf, PathBuf)>) -> Result<PathBuf> {
    let dir = target.parent().expect("inside the output folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let part = part_path(target);
    moves.push((part.clone(), target.to_path_buf()));
    Ok(part)
}
