//! Writing class activation maps: the exact values as a 32-bit TIFF, and a coloured
//! overlay on the analysed region as a PNG for viewing.

use std::path::Path;

use visual_ccc_core::cam::CamMap;
use visual_ccc_core::model::preprocess::Region;
use visual_ccc_core::model::tiling::WholeImageClassification;
use visual_ccc_core::model::Model;
use visual_ccc_core::ImageView;

use crate::failure::Failure;
use crate::output;

/// Stops of a black–red–yellow–white heat scale.
const HEAT: [(f32, [f32; 3]); 4] = [
    (0.0, [0.0, 0.0, 0.0]),
    (0.4, [200.0, 0.0, 0.0]),
    (0.75, [255.0, 200.0, 0.0]),
    (1.0, [255.0, 255.0, 255.0]),
];

/// Opacity of the heat colours over the grey image in the PNG.
const OVERLAY_OPACITY: f32 = 0.5;

fn heat(value: f32) -> [f32; 3] {
    let v = value.clamp(0.0, 1.0);
    for pair in HEAT.windows(2) {
        let ((a, ca), (b, cb)) = (pair[0], pair[1]);
        if v <= b {
            let t = (v - a) / (b - a);
            return [0, 1, 2].map(|i| ca[i] + (cb[i] - ca[i]) * t);
        }
    }
    HEAT[HEAT.len() - 1].1
}

/// Writes `<stem>-cam.tif` and `<stem>-cam.png` into `dir`; returns both paths.
pub fn write(
    dir: &Path,
    source: &Path,
    view: &ImageView,
    region: Region,
    cam: &CamMap,
) -> Result<(String, String), Failure> {
    let stem = output::stem(source);
    let tiff_path = output::named(dir, &stem, "cam.tif");
    output::write_float_tiff(&tiff_path, cam.width, cam.height, &cam.data)?;
    let png_path = output::named(dir, &stem, "cam.png");
    overlay(view, region, cam)
        .save(&png_path)
        .map_err(|err| format!("{}: {err}", png_path.display()))?;
    Ok((
        tiff_path.display().to_string(),
        png_path.display().to_string(),
    ))
}

fn overlay(view: &ImageView, region: Region, cam: &CamMap) -> image::RgbImage {
    let (lo, hi) = view.unit_range();
    let gain = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    overlay_with(cam, |x, y| {
        let source_x = (region.x + x).min(view.width() - 1);
        let source_y = (region.y + y).min(view.height() - 1);
        (view.gray_at(source_y * view.width() + source_x) - lo) * gain
    })
}

/// Heat colours of `cam` over the grey values 0–255 that `grey(x, y)` gives.
fn overlay_with(cam: &CamMap, grey: impl Fn(usize, usize) -> f32) -> image::RgbImage {
    image::RgbImage::from_fn(cam.width as u32, cam.height as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let grey = grey(x, y);
        let colour = heat(cam.data[y * cam.width + x]);
        image::Rgb(colour.map(|c| {
            (grey * (1.0 - OVERLAY_OPACITY) + c * OVERLAY_OPACITY).clamp(0.0, 255.0) as u8
        }))
    })
}

/// Whole-image outputs: the stitched CAM (`-cam.tif`, `-cam.png` over the image's
/// thumbnail, both at the map's scale) when one was computed, and the tile results as
/// `-tiles.csv` and `-tiles.tif` (class index per tile, one pixel per tile).
pub fn write_whole(
    dir: &Path,
    source: &Path,
    model: &Model,
    result: &WholeImageClassification,
) -> Result<Vec<String>, Failure> {
    let stem = output::stem(source);
    let mut written = Vec::new();
    if let Some(map) = &result.map {
        let cam = &map.cam;
        let tiff_path = output::named(dir, &stem, "cam.tif");
        output::write_float_tiff(&tiff_path, cam.width, cam.height, &cam.data)?;
        let png_path = output::named(dir, &stem, "cam.png");
        overlay_with(cam, |x, y| map.thumbnail[y * cam.width + x] * 255.0)
            .save(&png_path)
            .map_err(|err| format!("{}: {err}", png_path.display()))?;
        written.extend([tiff_path, png_path]);
    }
    let classes = &model.info().classes;
    let mut csv = format!("x,y,width,height,class,{}\n", classes.join(","));
    for tile in &result.tiles {
        let r = tile.region;
        let p: Vec<String> = tile.probabilities.iter().map(|p| p.to_string()).collect();
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.x,
            r.y,
            r.width,
            r.height,
            classes[tile.class_index],
            p.join(",")
        ));
    }
    let csv_path = output::named(dir, &stem, "tiles.csv");
    std::fs::write(&csv_path, csv).map_err(|err| format!("{}: {err}", csv_path.display()))?;
    let labels: Vec<u8> = result
        .tiles
        .iter()
        .map(|t| t.class_index.min(255) as u8)
        .collect();
    let labels_path = output::named(dir, &stem, "tiles.tif");
    output::write_gray8(&labels_path, result.columns, result.rows, labels)?;
    written.extend([csv_path, labels_path]);
    Ok(written.iter().map(|p| p.display().to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::heat;

    #[test]
    fn heat_scale_runs_from_black_to_white() {
        assert_eq!(heat(0.0), [0.0, 0.0, 0.0]);
        assert_eq!(heat(1.0), [255.0, 255.0, 255.0]);
        assert_eq!(heat(-3.0), heat(0.0));
    }
}
