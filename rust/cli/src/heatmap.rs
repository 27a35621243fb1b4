//! Writing class activation maps: the exact values as a 32-bit TIFF, and a coloured
//! overlay on the analysed region as a PNG for viewing.

use std::path::Path;

use visual_ccc_core::cam::CamMap;
use visual_ccc_core::preprocess::Region;
use visual_ccc_core::ImageView;

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
) -> Result<(String, String), String> {
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
    image::RgbImage::from_fn(cam.width as u32, cam.height as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let source_x = (region.x + x).min(view.width() - 1);
        let source_y = (region.y + y).min(view.height() - 1);
        let grey = (view.gray_at(source_y * view.width() + source_x) - lo) * gain;
        let colour = heat(cam.data[y * cam.width + x]);
        image::Rgb(colour.map(|c| {
            (grey * (1.0 - OVERLAY_OPACITY) + c * OVERLAY_OPACITY).clamp(0.0, 255.0) as u8
        }))
    })
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
