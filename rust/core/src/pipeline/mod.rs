//! The published Visual-CCC workflow on one image, defined once: classification with the
//! class activation map of the predicted class, Otsu segmentation, whole-image GLCM
//! texture, k-means clustering and the target cluster's area fraction.
//!
//! [`AnalysisParams::default`] is the single definition of every default of the recipe;
//! the CLI (`analyze`, `batch`), the Fiji commands (through JNI, which hands these
//! defaults to the dialogs as JSON) and the batch engine pass only what the user set.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analysis::cluster::{cluster, Calibration, ClusterParams, Clustering, MAX_K};
use crate::analysis::glcm::{
    glcm_features, texture_maps, Feature, FeatureValue, GlcmParams, TextureMap, TextureParams,
};
use crate::analysis::threshold::{apply_thresholds, otsu, Labels};
use crate::cam::CamTarget;
use crate::error::{Error, Result};
use crate::image::databar::{self, DataBar, DataBarParams, EXCLUDED_LABEL};
use crate::image::pixels::ImageView;
use crate::model::runtime::RuntimeConfig;
use crate::model::{Classification, Model};

/// Settings of the published workflow. Deserialised from JSON with every missing field
/// taking its default, so callers send only what the user changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisParams {
    /// Number of k-means clusters, 2..=255.
    pub k: usize,
    /// Seed of the clustering's sample and k-means++ starts.
    pub seed: u64,
    /// Cluster whose area fraction is reported; `None` = the brightest (k − 1).
    pub target_cluster: Option<usize>,
    /// Grey levels of the whole-image GLCM.
    pub texture_levels: usize,
    /// Whole-image GLCM features, in scikit-image's spelling.
    pub texture_features: Vec<String>,
    /// Compute the class activation map of the predicted class (when the model has one).
    pub cam: bool,
    /// Threads for the clustering; 0 = all cores. Results do not depend on it.
    pub threads: usize,
    /// Leave an instrument data bar (text strip along the top or bottom) out of every
    /// step: classification, Otsu, texture and clustering see the micrograph rows only,
    /// and label images mark the bar rows 255.
    pub exclude_data_bar: bool,
    /// Compute the published tool's texture map ([`ReferenceTexture`]); runs that show or
    /// save no maps (batch) turn it off.
    pub texture_map: bool,
}

impl Default for AnalysisParams {
    fn default() -> Self {
        Self {
            k: 3,
            seed: 42,
            target_cluster: None,
            texture_levels: GlcmParams::default().levels,
            texture_features: Feature::DEFAULT.map(|f| f.name().to_string()).to_vec(),
            cam: true,
            threads: 0,
            exclude_data_bar: true,
            texture_map: true,
        }
    }
}

impl AnalysisParams {
    /// Parses the JSON a bridge sends (only the fields the user set) and validates it.
    pub fn from_json(text: &str) -> Result<Self> {
        let params: Self = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("analysis settings: {e}")))?;
        params.validate()?;
        Ok(params)
    }

    /// The defaults as JSON, for dialogs.
    pub fn defaults_json() -> String {
        serde_json::to_string(&Self::default()).expect("plain struct serialises")
    }

    /// Checks every field; the error names the field.
    pub fn validate(&self) -> Result<()> {
        if !(2..=MAX_K).contains(&self.k) {
            return Err(Error::invalid(format!(
                "k: the number of clusters must be between 2 and {MAX_K}, got {}",
                self.k
            )));
        }
        if let Some(target) = self.target_cluster {
            if target >= self.k {
                return Err(Error::invalid(format!(
                    "target_cluster: cluster {target} does not exist; with k = {} the \
                     clusters are 0..{}",
                    self.k,
                    self.k - 1
                )));
            }
        }
        self.glcm_params()
            .and_then(|glcm| glcm.validate())
            .map_err(|e| Error::invalid(format!("texture: {e}")))?;
        if self.texture_features.is_empty() {
            return Err(Error::invalid(
                "texture_features: at least one GLCM feature is needed",
            ));
        }
        Ok(())
    }

    /// The cluster whose area fraction is reported.
    pub fn target(&self) -> usize {
        self.target_cluster.unwrap_or(self.k - 1)
    }

    /// The clustering part of the recipe (default features: smoothed grey and the
    /// learned foreground probability).
    pub fn cluster_params(
        &self,
        calibration: Calibration,
        runtime: RuntimeConfig,
    ) -> ClusterParams {
        ClusterParams {
            k: self.k,
            seed: self.seed,
            threads: self.threads,
            calibration,
            runtime,
            ..ClusterParams::default()
        }
    }

    /// The whole-image GLCM: distance 1, mean over 0/45/90/135°.
    pub fn glcm_params(&self) -> Result<GlcmParams> {
        let features = self
            .texture_features
            .iter()
            .map(|name| Feature::from_name(name))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| Error::invalid(format!("texture_features: {e}")))?;
        Ok(GlcmParams {
            levels: self.texture_levels,
            features,
            ..GlcmParams::default()
        })
    }
}

/// The published tool's texture step on the Otsu mask ([`TextureParams::reference`]:
/// GLCM contrast of 5×5 windows, 2 levels, distance 1, angle 0).
#[derive(Debug, Clone)]
pub struct ReferenceTexture {
    /// The contrast map, full size, NaN in data-bar rows.
    pub map: TextureMap,
    /// The same GLCM over the whole kept mask.
    pub features: Vec<FeatureValue>,
}

/// Everything the workflow measured on one image.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// `None` when no model was given.
    pub classification: Option<Classification>,
    /// Otsu threshold and its mask (1 where value > threshold).
    pub otsu_threshold: f64,
    pub otsu_mask: Labels,
    /// Whole-image GLCM features, in the order of [`AnalysisParams::texture_features`].
    pub texture: Vec<FeatureValue>,
    /// With [`AnalysisParams::texture_map`].
    pub reference_texture: Option<ReferenceTexture>,
    pub clustering: Clustering,
    /// The cluster whose area fraction is reported.
    pub target_cluster: usize,
    /// Wall-clock seconds of each stage (`classify`, `otsu`, `texture`, `texture_maps`,
    /// `cluster`); the clustering overlaps the others.
    pub stage_seconds: Vec<(&'static str, f64)>,
    /// The rows left out as an instrument data bar (none when there is none or
    /// [`AnalysisParams::exclude_data_bar`] is off). The masks and labels are full size,
    /// [`EXCLUDED_LABEL`] in those rows; fractions and texture are of the kept rows.
    pub data_bar: DataBar,
}

impl Analysis {
    /// Area fraction of the target cluster.
    pub fn target_fraction(&self) -> f64 {
        self.clustering.clusters[self.target_cluster].area_fraction
    }

    /// Fraction of the kept pixels above the Otsu threshold.
    pub fn otsu_fraction(&self) -> f64 {
        let kept = self.otsu_mask.data.iter().filter(|&&v| v != EXCLUDED_LABEL);
        let (above, total) = kept.fold((0usize, 0usize), |(a, t), &v| {
            (a + usize::from(v > 0), t + 1)
        });
        above as f64 / total.max(1) as f64
    }
}

/// Runs the published workflow on `view`. The clustering runs on its own thread while
/// this one classifies and measures Otsu and texture; every stage is deterministic, so the
/// result is the same as in sequence.
pub fn analyze(
    view: &ImageView,
    model: Option<&Model>,
    params: &AnalysisParams,
    calibration: Calibration,
    runtime: RuntimeConfig,
) -> Result<Analysis> {
    params.validate()?;
    view.ensure_finite()?;
    let data_bar = if params.exclude_data_bar {
        databar::detect(view, &DataBarParams::default())?
    } else {
        DataBar::none(view)
    };
    let full_view = view;
    let kept_view = data_bar.kept(full_view)?;
    let view = &kept_view;
    let cluster_params = params.cluster_params(calibration, runtime);
    let glcm = params.glcm_params()?;
    let (others, clustering) = std::thread::scope(|scope| {
        let clustering = scope.spawn(|| {
            let start = Instant::now();
            cluster(view, &cluster_params, &[]).map(|c| (c, start.elapsed().as_secs_f64()))
        });
        let others = (|| -> Result<_> {
            let mut lap = Instant::now();
            let mut seconds = Vec::new();
            let mut time = |stage| {
                seconds.push((stage, lap.elapsed().as_secs_f64()));
                lap = Instant::now();
            };
            let classification = match model {
                Some(model) => {
                    let target = if params.cam && model.info().has_cam() {
                        CamTarget::Predicted
                    } else {
                        CamTarget::None
                    };
                    Some(model.classify(view, target)?)
                }
                None => None,
            };
            time("classify");
            let threshold = otsu(view)?;
            let mask = apply_thresholds(view, &[threshold])?;
            time("otsu");
            let texture = glcm_features(view, &glcm)?;
            time("texture");
            let reference_texture = if params.texture_map {
                let reference = reference_texture(&mask, params.threads)?;
                time("texture_maps");
                Some(reference)
            } else {
                None
            };
            Ok((
                classification,
                threshold,
                mask,
                texture,
                reference_texture,
                seconds,
            ))
        })();
        let clustering = match clustering.join() {
            Ok(result) => result,
            Err(_) => Err(Error::invalid("clustering failed unexpectedly (panic)")),
        };
        (others, clustering)
    });
    let (
        mut classification,
        otsu_threshold,
        mut otsu_mask,
        texture,
        mut reference_texture,
        mut stage_seconds,
    ) = others?;
    let (mut clustering, cluster_seconds) = clustering?;
    stage_seconds.push(("cluster", cluster_seconds));
    // Back to the whole image's coordinates: bar rows are excluded in the label images.
    if let Some(c) = classification.as_mut() {
        c.region.y += data_bar.top_rows;
    }
    otsu_mask.data = data_bar.expand(&otsu_mask.data, EXCLUDED_LABEL);
    otsu_mask.height = data_bar.height;
    clustering.labels = data_bar.expand(&clustering.labels, EXCLUDED_LABEL);
    clustering.height = data_bar.height;
    if let Some(reference) = reference_texture.as_mut() {
        let image = &mut reference.map.image;
        image.data = data_bar.expand(&image.data, f32::NAN);
        image.height = data_bar.height;
    }
    Ok(Analysis {
        classification,
        otsu_threshold,
        otsu_mask,
        texture,
        reference_texture,
        clustering,
        target_cluster: params.target(),
        stage_seconds,
        data_bar,
    })
}

/// The published tool's texture step on a 0/1 Otsu mask.
fn reference_texture(mask: &Labels, threads: usize) -> Result<ReferenceTexture> {
    let params = TextureParams {
        threads,
        ..TextureParams::reference()
    };
    let view = mask.view();
    let map = texture_maps(&view, &params)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("the reference texture step made no map"))?;
    let features = glcm_features(&view, &params.glcm)?;
    Ok(ReferenceTexture { map, features })
}
