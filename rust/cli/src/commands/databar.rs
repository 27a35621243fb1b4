//! Data-bar exclusion shared by classify, threshold, texture and cluster: the
//! `--keep-data-bar` switch, detection with the core's defaults, and the JSON report.

use serde_json::{json, Value};
use visual_ccc_core::analysis::threshold::Labels;
use visual_ccc_core::image::databar::{
    detect, detect_rows, DataBar, DataBarParams, EXCLUDED_LABEL,
};
use visual_ccc_core::image::rows::RowSource;
use visual_ccc_core::ImageView;

use crate::args::Args;
use crate::failure::Failure;

/// The switch that turns exclusion off.
pub const KEEP_SWITCH: &str = "keep-data-bar";

/// The help paragraph of every command that excludes data bars.
pub const HELP: &str = "\
  --keep-data-bar     analyse every row: by default the instrument data bar (a strip of
                      text and scale bar along the bottom or top of an SEM image) is found
                      and left out; the JSON reports it under \"data_bar\"";

/// The data bar of `view`, or nothing when `--keep-data-bar` was given.
pub fn find(args: &Args, view: &ImageView) -> Result<DataBar, Failure> {
    if args.switch(KEEP_SWITCH) {
        return Ok(DataBar::none(view));
    }
    Ok(detect(view, &DataBarParams::default())?)
}

/// As [`find`] for rows streamed from a file.
pub fn find_rows(args: &Args, source: &mut dyn RowSource) -> Result<DataBar, Failure> {
    if args.switch(KEEP_SWITCH) {
        return Ok(DataBar::empty(source.width(), source.height()));
    }
    Ok(detect_rows(source, &DataBarParams::default())?)
}

/// `"data_bar"`: whether exclusion ran, the rows left out at each edge and the kept
/// rectangle; label images mark excluded pixels with `excluded_label`.
pub fn describe(args: &Args, bar: &DataBar) -> Value {
    json!({
        "excluded": !args.switch(KEEP_SWITCH),
        "excluded_rows": bar.excluded_rows(),
        "top_rows": bar.top_rows,
        "bottom_rows": bar.bottom_rows,
        "kept_region": bar.kept_region(),
        "excluded_label": EXCLUDED_LABEL,
    })
}

/// A command's help with the data-bar paragraph appended.
pub fn help(command_help: &str) -> String {
    format!("{command_help}\n\n{HELP}")
}

/// Full-size labels from labels of the kept rows: excluded rows get `EXCLUDED_LABEL`,
/// which class counts and area fractions do not count.
pub fn expand_labels(bar: &DataBar, kept: Labels) -> Labels {
    Labels {
        width: bar.width,
        height: bar.height,
        data: bar.expand(&kept.data, EXCLUDED_LABEL),
    }
}
