//! `visual-ccc preprocess`: one filter on one image, written at the input's bit depth
//! (or as 32-bit float).

use std::path::PathBuf;

use serde_json::{json, Map, Value};
use visual_ccc_core::analysis::filters::{
    self, BackgroundParams, BilateralParams, ClaheParams, ContrastParams, GaussianParams,
    MedianParams,
};
use visual_ccc_core::image::pixels::OwnedImage;
use visual_ccc_core::{GrayImage, ImageView};

use super::common;
use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;
use crate::output;

const HELP: &str = "\
usage: visual-ccc preprocess IMAGE --op OP [op options] --out FILE
                             [--bit-depth same|8|16|32] [--timings]

Applies one filter and writes the result. Borders are reflected (dcba|abcd) unless
noted.

operations and their options:
  median       --radius R        square (2R+1)² window median (default R {radius})
  gaussian     --sigma S         Gaussian blur, sigma in px, kernel ±4 sigma (default {sigma})
  bilateral    --sigma S         spatial sigma in px, disc window of radius ⌈2S⌉ (default {bilateral_sigma})
               --sigma-range G   range sigma in grey units (default {range_percent}% of the grey range:
                                 {range_8bit} for 8-bit)
  clahe        --clip-limit C    OpenCV-style CLAHE clip limit (default {clip_limit})
               --tiles N|NxM     tile grid across × down (default {tiles}x{tiles})
  background   --radius R        rolling-paraboloid background subtraction (default {rolling})
               --light           light background, dark objects
               --create-background  write the background instead of subtracting it
  stretch      --saturated P     linear stretch saturating P % of pixels (default {saturated})

  --out FILE           .png (8/16-bit) or .tif/.tiff (8/16/32-bit)
  --bit-depth D        same (default: 8-bit and RGB in → 8-bit, 16 → 16, 32 → 32-bit
                       float), or 8, 16, 32; 8/16-bit results are rounded and clamped
  --timings            add stage durations (ms) to the JSON
  --max-pixels N       refuse larger images before decoding (default {max_pixels})

Prints one JSON object: {\"file\", \"op\", \"params\", \"out\", \"bit_depth\", \"min\",
\"max\", \"mean\"} (statistics of the written values).";

/// The help text with the filters' defaults filled in from [`FilterDefaults::default`].
fn help() -> String {
    let d = visual_ccc_core::analysis::filters::FilterDefaults::default();
    common::fill(
        HELP,
        &[
            ("radius", d.radius.to_string()),
            ("sigma", d.sigma.to_string()),
            ("bilateral_sigma", d.bilateral_sigma.to_string()),
            ("range_percent", (d.range_fraction * 100.0).to_string()),
            ("range_8bit", (d.range_fraction * 255.0).to_string()),
            ("clip_limit", d.clip_limit.to_string()),
            ("tiles", d.tiles.to_string()),
            ("rolling", d.rolling.to_string()),
            ("saturated", d.saturated.to_string()),
        ],
    )
}

/// Options each operation accepts.
const OP_OPTIONS: [(&str, &[&str]); 6] = [
    ("median", &["radius"]),
    ("gaussian", &["sigma"]),
    ("bilateral", &["sigma", "sigma-range"]),
    ("clahe", &["clip-limit", "tiles"]),
    ("background", &["radius", "light", "create-background"]),
    ("stretch", &["saturated"]),
];

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let switches = ["light", "create-background"];
    let options = [
        "op",
        "out",
        "bit-depth",
        "radius",
        "sigma",
        "sigma-range",
        "clip-limit",
        "tiles",
        "saturated",
    ];
    let Some(args) = common::parse("preprocess", raw, &help(), &switches, &options)? else {
        return Ok(Outcome::Success);
    };
    let file = common::input_path("preprocess", &args)?;
    let op = common::required(
        &args,
        "op",
        "median, gaussian, bilateral, clahe, background or stretch",
    )?;
    let Some((_, accepted)) = OP_OPTIONS.iter().find(|(name, _)| *name == op) else {
        let names: Vec<&str> = OP_OPTIONS.iter().map(|(name, _)| *name).collect();
        return Err(Failure::Usage(format!(
            "--op must be one of {}, not '{op}'",
            names.join(", ")
        )));
    };
    let op_specific: Vec<&str> = OP_OPTIONS
        .iter()
        .flat_map(|(_, opts)| opts.iter().copied())
        .filter(|o| !accepted.contains(o))
        .collect();
    if let Some(name) = args.first_present(&op_specific) {
        return Err(Failure::Usage(format!(
            "--{name} does not apply to --op {op}"
        )));
    }
    let out = PathBuf::from(common::required(&args, "out", "the file to write")?);
    let depth = args.choice(
        "bit-depth",
        "same",
        &[
            ("same", None),
            ("8", Some(8)),
            ("16", Some(16)),
            ("32", Some(32)),
        ],
    )?;
    if let Some(depth) = depth {
        output::format_for(&out, depth == 32)?;
    }
    let filter = Filter::from_args(op, &args)?;

    let (mut timings, image, mut summary) = common::start(&args, &file)?;
    let view = image.view();
    if depth.is_none() {
        output::format_for(&out, view.pixels().bit_depth() == 32)?;
    }
    let input_depth = filters::to_input_depth_bits(&view);
    let same_depth = depth.is_none_or(|d| d == input_depth);
    let params = filter.describe(&view)?;
    let result = timings.time(op, || filter.apply(image, same_depth))?;
    let converted = match result {
        Filtered::SameDepth(image) => image,
        Filtered::Float(result) => filters::to_bit_depth(&result, depth.unwrap_or(input_depth))?,
    };
    timings.time("write", || output::write_image(&out, &converted))?;
    summary.insert("op".into(), json!(op));
    summary.insert("params".into(), params);
    summary.insert("out".into(), json!(out));
    summary.insert(
        "bit_depth".into(),
        json!(converted.view().pixels().bit_depth()),
    );
    summary.insert("width".into(), json!(converted.width));
    summary.insert("height".into(), json!(converted.height));
    summary.extend(statistics(&converted.view()));
    timings.report(&mut summary);
    common::print(summary);
    Ok(Outcome::Success)
}

/// A filter's result: float, or already in the input's depth where the filter can
/// write it directly (median, bilateral and CLAHE).
enum Filtered {
    Float(GrayImage),
    SameDepth(OwnedImage),
}

/// A validated filter with its parameters.
enum Filter {
    Median(MedianParams),
    Gaussian(GaussianParams),
    /// Range sigma `None`: 10 % of the image's grey range, fixed once the image is read.
    Bilateral {
        spatial_sigma: f64,
        range_sigma: Option<f64>,
    },
    Clahe(ClaheParams),
    Background {
        params: BackgroundParams,
        create: bool,
    },
    Stretch(ContrastParams),
}

impl Filter {
    fn from_args(op: &str, args: &Args) -> Result<Self, String> {
        let filter = match op {
            "median" => Filter::Median(MedianParams {
                radius: args.parsed_or("radius", MedianParams::default().radius)?,
            }),
            "gaussian" => Filter::Gaussian(GaussianParams {
                sigma: args.parsed_or("sigma", GaussianParams::default().sigma)?,
            }),
            "bilateral" => Filter::Bilateral {
                spatial_sigma: args.parsed_or("sigma", BilateralParams::DEFAULT_SPATIAL_SIGMA)?,
                range_sigma: args.parsed("sigma-range")?,
            },
            "clahe" => {
                let defaults = ClaheParams::default();
                let (tiles_x, tiles_y) = match args.value("tiles") {
                    None => (defaults.tiles_x, defaults.tiles_y),
                    Some(text) => parse_tiles(text)?,
                };
                Filter::Clahe(ClaheParams {
                    tiles_x,
                    tiles_y,
                    clip_limit: args.parsed_or("clip-limit", defaults.clip_limit)?,
                })
            }
            "background" => Filter::Background {
                params: BackgroundParams {
                    radius: args.parsed_or("radius", BackgroundParams::default().radius)?,
                    light_background: args.switch("light"),
                },
                create: args.switch("create-background"),
            },
            _ => Filter::Stretch(ContrastParams {
                saturated_percent: args
                    .parsed_or("saturated", ContrastParams::default().saturated_percent)?,
            }),
        };
        filter.validate()?;
        Ok(filter)
    }

    /// Bilateral parameters; without `--sigma-range`, 10 % of the image's grey range.
    fn bilateral_params(
        spatial_sigma: f64,
        range_sigma: Option<f64>,
        view: &ImageView,
    ) -> BilateralParams {
        let defaults = BilateralParams::default_for(view);
        BilateralParams {
            spatial_sigma,
            range_sigma: range_sigma.unwrap_or(defaults.range_sigma),
        }
    }

    /// Checks the parameters before the image is read.
    fn validate(&self) -> Result<(), String> {
        match self {
            Filter::Median(p) => p.validate(),
            Filter::Gaussian(p) => p.validate(),
            Filter::Bilateral {
                spatial_sigma,
                range_sigma,
            } => BilateralParams {
                spatial_sigma: *spatial_sigma,
                range_sigma: range_sigma.unwrap_or(1.0),
            }
            .validate(),
            Filter::Clahe(p) => p.validate(),
            Filter::Background { params, .. } => params.validate(),
            Filter::Stretch(p) => p.validate(),
        }
        .map_err(|e| e.to_string())
    }

    /// Runs the filter; with `same_depth`, in the input's depth where the filter has
    /// such a path (the median and CLAHE over the image itself). The options were
    /// validated before, so what fails here is the image (an input failure, exit 1).
    fn apply(&self, mut image: OwnedImage, same_depth: bool) -> Result<Filtered, Failure> {
        let view = &image.view();
        match self {
            Filter::Median(p) if same_depth => {
                filters::median_in_place(&mut image, p)?;
                return Ok(Filtered::SameDepth(image));
            }
            Filter::Clahe(p) if same_depth => {
                filters::clahe_in_place(&mut image, p)?;
                return Ok(Filtered::SameDepth(image));
            }
            Filter::Bilateral {
                spatial_sigma,
                range_sigma,
            } if same_depth => {
                let params = Self::bilateral_params(*spatial_sigma, *range_sigma, view);
                let filtered = filters::bilateral_same_depth(view, &params)?;
                return Ok(Filtered::SameDepth(filtered));
            }
            _ => {}
        }
        match self {
            Filter::Median(p) => filters::median(view, p),
            Filter::Gaussian(p) => filters::gaussian(view, p),
            Filter::Bilateral {
                spatial_sigma,
                range_sigma,
            } => filters::bilateral(
                view,
                &Self::bilateral_params(*spatial_sigma, *range_sigma, view),
            ),
            Filter::Clahe(p) => filters::clahe(view, p),
            Filter::Background {
                params,
                create: true,
            } => filters::background(view, params),
            Filter::Background { params, .. } => filters::subtract_background(view, params),
            Filter::Stretch(p) => filters::stretch_contrast(view, p),
        }
        .map(Filtered::Float)
        .map_err(Failure::from)
    }

    /// The parameters used on `view`, for the JSON (outside the timed filter: the
    /// stretch limits are computed again here).
    fn describe(&self, view: &ImageView) -> Result<Value, Failure> {
        Ok(match self {
            Filter::Median(p) => json!({ "radius": p.radius }),
            Filter::Gaussian(p) => json!({ "sigma": p.sigma }),
            Filter::Bilateral {
                spatial_sigma,
                range_sigma,
            } => {
                let p = Self::bilateral_params(*spatial_sigma, *range_sigma, view);
                json!({ "sigma": p.spatial_sigma, "sigma_range": p.range_sigma,
                        "radius": p.radius() })
            }
            Filter::Clahe(p) => {
                json!({ "tiles": [p.tiles_x, p.tiles_y], "clip_limit": p.clip_limit })
            }
            Filter::Background { params, create } => json!({
                "radius": params.radius,
                "light_background": params.light_background,
                "create_background": create,
            }),
            Filter::Stretch(p) => {
                let (lo, hi) = filters::contrast_limits(view, p)?;
                json!({ "saturated_percent": p.saturated_percent, "limits": [lo, hi] })
            }
        })
    }
}

/// `N` (N×N tiles) or `NxM` (N across, M down).
fn parse_tiles(text: &str) -> Result<(usize, usize), String> {
    let read = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("--tiles: cannot read '{text}'; use N or NxM, e.g. 8x8"))
    };
    match text.split_once(['x', 'X', ',']) {
        Some((a, b)) => Ok((read(a)?, read(b)?)),
        None => read(text).map(|n| (n, n)),
    }
}

/// Minimum, maximum and mean of the written values.
fn statistics(view: &ImageView) -> Map<String, Value> {
    let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
    let n = view.width() * view.height();
    for i in 0..n {
        let v = view.gray_at(i) as f64;
        lo = lo.min(v);
        hi = hi.max(v);
        sum += v;
    }
    common::fields(json!({ "min": lo, "max": hi, "mean": sum / n as f64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_parse_as_square_or_grid() {
        assert_eq!(parse_tiles("8"), Ok((8, 8)));
        assert_eq!(parse_tiles("4x6"), Ok((4, 6)));
        assert!(parse_tiles("4y6").is_err());
    }
}
