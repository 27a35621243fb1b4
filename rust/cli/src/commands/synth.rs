//! `visual-ccc synth`: writes seeded synthetic micrographs as 8-bit PNG or TIFF files
//! and prints one JSON line per written file.

use std::path::{Path, PathBuf};

use visual_ccc_core::synth::{self, SynthClass, SynthParams};

use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;
use crate::output;

const HELP: &str = "\
usage: visual-ccc synth --class CLASS --out PATH_OR_DIR [options]

Generates seeded synthetic SEM-like micrographs (8-bit grey). The same options always
give the same pixels.

options:
  --class CLASS   dendrite, whisker, mossy (dendritic / filamentary deposits),
                  spheroid, granular (rounded particles / nodular deposits),
                  grains or lamellar (alloy microstructures) (required)
  --out PATH      output file ending in .png, or .tif/.tiff for TIFF (required);
                  with --count > 1, or when PATH has no extension, ends in '/' or
                  is an existing directory: a directory (created if missing) that
                  receives <class>_<seed>.png files
  --width W       image width in pixels, 16..=8192 (default 512)
  --height H      image height in pixels, 16..=8192 (default: the width)
  --seed S        seed of the first image (default 0); image i uses S + i
  --count N       number of images (default 1)
  --scale F       feature-size multiplier, 0.25..=4 (default 1)
  --format FMT    png or tiff, for files written into a directory (default png)
  --clean         skip the imaging model (no blur, noise, scan lines, illumination)
  --bits B        8 (default) or 16: 16-bit files hold detector counts with a
                  random dark level and gain (from the seed), as 16-bit SEM frames do
  --annotate      burn in SEM annotations: an instrument data bar (text, scale
                  bar) of random layout and/or a scale bar and panel letter
  --mask          also write the ground-truth mask as <name>_mask.<ext>

Prints one JSON object per written image on stdout:
  {\"file\":\"out/grains_7.png\",\"class\":\"grains\",\"seed\":7}";

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = [
        "class", "out", "width", "height", "seed", "count", "scale", "format", "bits",
    ];
    let Some(args) = Args::command("synth", raw, HELP, &["clean", "mask", "annotate"], &options)?
    else {
        return Ok(Outcome::Success);
    };
    if let Some(extra) = args.positional.first() {
        return Err(Failure::Usage(format!(
            "unexpected argument '{extra}' (see `visual-ccc synth --help`)"
        )));
    }
    let class: SynthClass = args
        .value("class")
        .ok_or("--class is required (see `visual-ccc synth --help` for the classes)")?
        .parse()?;
    let out = PathBuf::from(args.value("out").ok_or("--out is required")?);
    let width: usize = args.parsed_or("width", 512)?;
    let height: usize = args.parsed_or("height", width)?;
    let seed: u64 = args.parsed_or("seed", 0)?;
    let count: u64 = args.parsed_or("count", 1)?;
    if count == 0 {
        return Err("--count must be at least 1".into());
    }
    if seed.checked_add(count - 1).is_none() {
        return Err(Failure::Usage(format!(
            "--seed {seed} with --count {count} overflows the seed range"
        )));
    }
    let extension = match args.value("format").unwrap_or("png") {
        "png" => "png",
        "tif" | "tiff" => "tif",
        other => {
            return Err(Failure::Usage(format!(
                "--format must be png or tiff, not '{other}'"
            )))
        }
    };
    let mut params = SynthParams::new(class, width, height, seed);
    params.feature_scale = args.parsed_or("scale", 1.0f32)?;
    params.imaging = !args.switch("clean");
    params.annotate = args.switch("annotate");
    params.validate()?;
    let with_mask = args.switch("mask");
    let sixteen_bit = args.choice("bits", "8", &[("8", false), ("16", true)])?;

    let raw_out = args.value("out").unwrap_or_default();
    let into_directory = count > 1
        || out.is_dir()
        || raw_out.ends_with('/')
        || raw_out.ends_with(std::path::MAIN_SEPARATOR)
        || out.extension().is_none();
    if !into_directory {
        let ext = out
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(ext.as_str(), "png" | "tif" | "tiff") {
            return Err(Failure::Usage(format!(
                "--out {raw_out}: the file name must end in .png, .tif or .tiff"
            )));
        }
    }
    if into_directory {
        std::fs::create_dir_all(&out)
            .map_err(|e| format!("cannot create directory {}: {e}", out.display()))?;
    }
    for i in 0..count {
        params.seed = seed + i;
        let file = if into_directory {
            out.join(format!("{}_{}.{extension}", class.name(), params.seed))
        } else {
            out.clone()
        };
        let result = synth::generate_labeled(&params)?;
        if sixteen_bit {
            synth::save_gray16(&result.image, params.seed, &output::staged(&file))?;
        } else {
            synth::save_gray8(&result.image, &output::staged(&file))?;
        }
        // Keys in a fixed, documented order: file, class, seed[, mask].
        let mut line = format!(
            "{{\"file\":{},\"class\":{},\"seed\":{}",
            serde_json::Value::from(file.to_string_lossy().into_owned()),
            serde_json::Value::from(class.name()),
            params.seed
        );
        if with_mask {
            let mask_file = mask_path(&file);
            synth::save_mask(&result.mask, width, height, &output::staged(&mask_file))?;
            let mask_name = serde_json::Value::from(mask_file.to_string_lossy().into_owned());
            line.push_str(&format!(",\"mask\":{mask_name}"));
        }
        println!("{line}}}");
    }
    Ok(Outcome::Success)
}

/// `dir/name.png` → `dir/name_mask.png`.
fn mask_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match file.extension() {
        Some(ext) => format!("{stem}_mask.{}", ext.to_string_lossy()),
        None => format!("{stem}_mask"),
    };
    file.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_path_keeps_extension() {
        assert_eq!(
            mask_path(Path::new("out/a_1.tif")),
            PathBuf::from("out/a_1_mask.tif")
        );
    }
}
