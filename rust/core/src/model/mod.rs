//! Loading a classifier that follows the model contract (docs/model-format.md) and
//! running it: class probabilities and class activation maps.

pub mod bioimageio;
pub mod calibration;
pub(crate) mod onnx_check;
pub(crate) mod onnx_edit;
pub(crate) mod onnx_head;
pub mod preprocess;
pub mod runtime;
pub mod tiling;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionOutputs};
use ort::value::{Tensor, ValueType};

use self::calibration::Calibration;
pub use self::onnx_edit::features_to_logits;
use self::onnx_head::{find_linear_head, LinearHead};
use self::preprocess::{InputMode, PreparedInput, Region};
use self::runtime::RuntimeConfig;
use crate::cam::{self, CamMap, CamMethod, CamTarget, RawMap};
use crate::error::{Error, Result};
use crate::image::pixels::ImageView;

const LOGITS: &str = "logits";
const FEATURES: &str = "features";

/// Whether a model was trained for real use or exists only to test the software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Fixed or random weights: its predictions mean nothing.
    Fixture,
    Trained,
    /// The model does not say.
    Unspecified,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Fixture => "fixture",
            ModelKind::Trained => "trained",
            ModelKind::Unspecified => "unspecified",
        }
    }
}

/// What a loaded model is and can do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub name: String,
    pub classes: Vec<String>,
    pub input_size: usize,
    /// Source pixels one tile covers in whole-image mode (`visualccc.tile_source_size`;
    /// `input_size`, i.e. native resolution, when absent).
    pub tile_source_size: usize,
    #[serde(serialize_with = "serialize_mode")]
    pub preprocessing: InputMode,
    pub kind: ModelKind,
    pub description: String,
    /// Why class activation maps are unavailable, if they are.
    pub cam_unavailable: Option<String>,
    /// Softmax temperature and unfamiliar-image threshold (`visualccc.temperature`,
    /// `visualccc.unfamiliar`).
    pub calibration: Calibration,
}

fn serialize_mode<S: serde::Serializer>(
    mode: &InputMode,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(mode.name())
}

impl ModelInfo {
    pub fn has_cam(&self) -> bool {
        self.cam_unavailable.is_none()
    }
}

/// Largest model input side S a model may declare: 4096 (a 64 MiB input plane), far
/// above any micrograph classifier, so that absurd metadata is refused at load instead
/// of allocating gigabytes per input.
pub const MAX_INPUT_SIZE: usize = 4096;

/// Smallest `visualccc.tile_source_size`: a tile must still hold some structure.
pub const MIN_TILE_SOURCE_SIZE: usize = 16;

/// Parses a tile source size (source pixels per whole-mode tile), at least
/// [`MIN_TILE_SOURCE_SIZE`].
pub fn parse_tile_source_size(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(size) if size >= MIN_TILE_SOURCE_SIZE => Ok(size),
        _ => Err(format!(
            "bad visualccc.tile_source_size '{text}': expected a whole number of source \
             pixels, at least {MIN_TILE_SOURCE_SIZE}"
        )),
    }
}

/// How to load a model.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// Threads ONNX Runtime may use inside one inference; 0 lets it decide.
    pub threads: usize,
    pub runtime: RuntimeConfig,
}

/// Raw outputs of one forward pass over a batch.
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// `[batch][classes]`, row-major.
    pub logits: Vec<f32>,
    /// `[batch][channels][height][width]` and its shape, when requested and available.
    pub features: Option<(Vec<usize>, Vec<f32>)>,
}

/// The result of classifying one image.
#[derive(Debug, Clone)]
pub struct Classification {
    pub class_index: usize,
    pub probabilities: Vec<f32>,
    pub logits: Vec<f32>,
    /// Energy score of the input (see [`Calibration::energy`]); higher is less familiar.
    pub unfamiliarity: f32,
    /// Whether the input is unlike the training data; `None` when the model has no
    /// threshold.
    pub unfamiliar: Option<bool>,
    /// Part of the image the model looked at, in input pixels.
    pub region: Region,
    /// Class activation map over `region`, when one was requested.
    pub cam: Option<CamMap>,
}

/// A loaded classifier. One ONNX Runtime session is created per model and reused;
/// the model can be shared between threads (runs are serialised by a lock because
/// `ort` needs exclusive access to a session while it runs).
pub struct Model {
    info: ModelInfo,
    input_name: String,
    /// The batch size `N` when the model fixes it (often 1); `None` when symbolic.
    fixed_batch: Option<usize>,
    head: Option<LinearHead>,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).finish()
    }
}

pub(crate) fn model_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Model(format!("{}: {message}", path.display()))
}

/// Runs `session` (taking its lock: `ort` needs exclusive access while it runs) on one
/// float input of `shape` and hands the outputs, which borrow the session, to `read`.
pub(crate) fn run_locked<T>(
    session: &Mutex<Session>,
    input_name: &str,
    shape: [usize; 4],
    data: Vec<f32>,
    read: impl FnOnce(&SessionOutputs) -> Result<T>,
) -> Result<T> {
    let tensor = Tensor::from_array((shape, data))
        .map_err(|err| Error::ort("cannot make the input tensor", err))?;
    let mut session = session.lock().unwrap_or_else(|poison| poison.into_inner());
    let outputs = session
        .run(ort::inputs![input_name => tensor])
        .map_err(|err| Error::ort("inference failed", err))?;
    read(&outputs)
}

/// Loads ONNX Runtime if needed and creates a session for the ONNX model `bytes` (read
/// from `path`, named in errors).
pub(crate) fn new_session(bytes: &[u8], options: &ModelOptions, path: &Path) -> Result<Session> {
    if let Some(problem) = onnx_check::unsafe_attribute(bytes) {
        return Err(model_error(
            path,
            format!("not a usable ONNX model: {problem}"),
        ));
    }
    runtime::ensure_initialised(&options.runtime)?;
    let mut builder = Session::builder()
        .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3))
        .and_then(|b| b.with_inter_threads(1))
        .map_err(|err| Error::ort("cannot configure a session", err))?;
    if options.threads > 0 {
        builder = builder
            .with_intra_threads(options.threads)
            .map_err(|err| Error::ort("cannot set the thread count", err))?;
    }
    builder
        .commit_from_memory(bytes)
        .map_err(|err| model_error(path, format!("not a usable ONNX model: {err}")))
}

impl Model {
    /// Loads ONNX Runtime if needed, then the model at `path`, checking it meets the contract.
    pub fn open(path: &Path, options: &ModelOptions) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
        if bytes.is_empty() {
            return Err(model_error(path, "the model file is empty"));
        }
        let session = new_session(&bytes, options, path)?;
        Self::from_session(path, &bytes, session)
    }

    /// Loads a model held in memory (a bundled model, say); `name` stands for the file in
    /// messages and names the model as a file stem would.
    pub fn from_bytes(name: &str, bytes: &[u8], options: &ModelOptions) -> Result<Self> {
        let path = Path::new(name);
        if bytes.is_empty() {
            return Err(model_error(path, "the model is empty"));
        }
        let session = new_session(bytes, options, path)?;
        Self::from_session(path, bytes, session)
    }

    fn from_session(path: &Path, bytes: &[u8], session: Session) -> Result<Self> {
        let input = match session.inputs.as_slice() {
            [input] => input,
            inputs => {
                return Err(model_error(
                    path,
                    format!("expected one input [N,1,H,W], found {}", inputs.len()),
                ))
            }
        };
        let input_dims = tensor_dims(&input.input_type)
            .filter(|d| d.len() == 4 && (d[1] == 1 || d[1] == -1))
            .ok_or_else(|| {
                model_error(
                    path,
                    format!("input '{}' is not a [N,1,H,W] float tensor", input.name),
                )
            })?;
        let output_dims = |name: &str| {
            session
                .outputs
                .iter()
                .find(|o| o.name == name)
                .and_then(|o| tensor_dims(&o.output_type))
        };
        let logits_dims = output_dims(LOGITS).ok_or_else(|| {
            let names: Vec<&str> = session.outputs.iter().map(|o| o.name.as_str()).collect();
            model_error(
                path,
                format!("no output named 'logits' (outputs: {names:?})"),
            )
        })?;
        let features_dims = output_dims(FEATURES);

        let [meta_input_size, meta_preprocessing, meta_kind, meta_description, meta_class_list, meta_tile_source, meta_temperature, meta_unfamiliar] = {
            let metadata = session
                .metadata()
                .map_err(|err| model_error(path, format!("cannot read metadata: {err}")))?;
            [
                "visualccc.input_size",
                "visualccc.preprocessing",
                "visualccc.kind",
                "visualccc.description",
                "visualccc.classes",
                "visualccc.tile_source_size",
                "visualccc.temperature",
                "visualccc.unfamiliar",
            ]
            .map(|key| metadata.custom(key).ok().flatten())
        };
        let input_size = match meta_input_size {
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| model_error(path, format!("bad visualccc.input_size '{text}'")))?,
            None if input_dims[2] > 0 && input_dims[2] == input_dims[3] => input_dims[2] as usize,
            None => {
                return Err(model_error(
                    path,
                    "input size unknown: set metadata visualccc.input_size or a fixed square input",
                ))
            }
        };
        if input_size > MAX_INPUT_SIZE {
            return Err(model_error(
                path,
                format!(
                    "visualccc.input_size {input_size} is over the limit of {MAX_INPUT_SIZE} \
                     pixels per side"
                ),
            ));
        }
        if let [_, _, h, w] = input_dims[..] {
            let fixed = |d: i64| d > 0 && d as usize != input_size;
            if fixed(h) || fixed(w) {
                return Err(model_error(
                    path,
                    format!(
                        "input '{}' is fixed at {h}×{w} but visualccc.input_size is {input_size}",
                        input.name
                    ),
                ));
            }
        }
        let tile_source_size = match meta_tile_source {
            Some(text) => parse_tile_source_size(&text).map_err(|err| model_error(path, err))?,
            None => input_size,
        };
        let preprocessing = match meta_preprocessing {
            Some(text) => InputMode::parse(text.trim()).map_err(|err| model_error(path, err))?,
            None => InputMode::CenterCrop,
        };
        let kind = match meta_kind.as_deref().map(str::trim) {
            Some("fixture") => ModelKind::Fixture,
            Some("trained") => ModelKind::Trained,
            _ => ModelKind::Unspecified,
        };
        let description = meta_description.unwrap_or_default();
        let calibration =
            Calibration::from_metadata(meta_temperature.as_deref(), meta_unfamiliar.as_deref())
                .map_err(|err| model_error(path, err))?;

        let (head, cam_unavailable) = match features_dims {
            None => (
                None,
                Some("the model has no 'features' output, so class activation maps are not \
                      available for it"
                    .to_string()),
            ),
            Some(dims) => match find_linear_head(bytes, LOGITS) {
                Ok(head) if dims.len() == 4 && (dims[1] < 0 || dims[1] as usize == head.channels) => {
                    (Some(head), None)
                }
                Ok(head) => (
                    None,
                    Some(format!(
                        "'features' has shape {dims:?} but the final linear layer expects {} channels",
                        head.channels
                    )),
                ),
                Err(err) => (None, Some(err.to_string())),
            },
        };

        let class_count = if logits_dims.len() == 2 && logits_dims[1] > 0 {
            Some(logits_dims[1] as usize)
        } else {
            head.as_ref().map(|h| h.classes)
        };
        let classes = match meta_classes(meta_class_list, path)? {
            Some(classes) => classes,
            None => {
                let count = class_count.ok_or_else(|| {
                    model_error(path, "number of classes unknown: set visualccc.classes")
                })?;
                (0..count).map(|i| format!("class_{i}")).collect()
            }
        };
        if let Some(count) = class_count {
            if count != classes.len() {
                return Err(model_error(
                    path,
                    format!(
                        "metadata lists {} classes but 'logits' has {count}",
                        classes.len()
                    ),
                ));
            }
        }
        if let Some(head) = &head {
            if head.classes != classes.len() {
                return Err(model_error(
                    path,
                    format!(
                        "final layer has {} outputs for {} classes",
                        head.classes,
                        classes.len()
                    ),
                ));
            }
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        log::info!(
            "opened model '{name}' ({}): {} classes {classes:?}, input {input_size} px, tiles of \
             {tile_source_size} source px, CAM {}",
            path.display(),
            classes.len(),
            if cam_unavailable.is_none() {
                "exact"
            } else {
                "by occlusion only"
            }
        );
        Ok(Self {
            info: ModelInfo {
                path: path.to_path_buf(),
                name,
                classes,
                input_size,
                tile_source_size,
                preprocessing,
                kind,
                description,
                cam_unavailable,
                calibration,
            },
            input_name: input.name.clone(),
            fixed_batch: (input_dims[0] > 0).then_some(input_dims[0] as usize),
            head,
            session: Mutex::new(session),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Weights from each feature channel to `class`, when the model supports CAM.
    pub fn linear_head_row(&self, class: usize) -> Option<&[f32]> {
        self.head
            .as_ref()
            .filter(|h| class < h.classes)
            .map(|h| h.row(class))
    }

    /// The largest batch one run accepts: the model's fixed `N`, or `wanted` when `N`
    /// is symbolic. [`Model::forward`] pads smaller batches for a fixed `N`.
    pub fn batch_size(&self, wanted: usize) -> usize {
        self.fixed_batch.unwrap_or(wanted.max(1))
    }

    /// Runs the network on `batch` inputs of `input_size`² grey values each.
    pub fn forward(
        &self,
        inputs: Vec<f32>,
        batch: usize,
        want_features: bool,
    ) -> Result<ForwardOutput> {
        let size = self.info.input_size;
        if batch == 0 || inputs.len() != batch * size * size {
            return Err(Error::invalid(format!(
                "expected {batch}×{size}×{size} input values, got {}",
                inputs.len()
            )));
        }
        // A model that fixes its batch size gets exactly that many inputs: a smaller batch
        // is padded with blank inputs whose outputs are dropped below.
        let run_batch = match self.fixed_batch {
            Some(fixed) if batch > fixed => {
                return Err(Error::invalid(format!(
                    "the model takes batches of {fixed}, not {batch}"
                )))
            }
            Some(fixed) => fixed,
            None => batch,
        };
        let mut inputs = inputs;
        inputs.resize(run_batch * size * size, 0.0);
        let shape = [run_batch, 1, size, size];
        run_locked(&self.session, &self.input_name, shape, inputs, |outputs| {
            self.read_outputs(outputs, batch, run_batch, want_features)
        })
    }

    /// Logits (and features, if asked) of the first `batch` of `run_batch` inputs.
    fn read_outputs(
        &self,
        outputs: &SessionOutputs,
        batch: usize,
        run_batch: usize,
        want_features: bool,
    ) -> Result<ForwardOutput> {
        let (_, logits) = outputs[LOGITS]
            .try_extract_tensor::<f32>()
            .map_err(|err| Error::Model(format!("'logits' is not a float tensor: {err}")))?;
        let classes = self.info.classes.len();
        if logits.len() != run_batch * classes {
            return Err(Error::Model(format!(
                "'logits' has {} values, expected {run_batch}×{classes}",
                logits.len()
            )));
        }
        let logits = logits[..batch * classes].to_vec();
        if logits.iter().any(|l| !l.is_finite()) {
            return Err(Error::invalid(
                "the model's logits are not finite (NaN or infinite), so no probabilities \
                 can be given; the input's grey values probably overflow the model's range",
            ));
        }
        let features = if want_features && self.head.is_some() {
            let (shape, values) = outputs[FEATURES]
                .try_extract_tensor::<f32>()
                .map_err(|err| Error::Model(format!("'features' is not a float tensor: {err}")))?;
            let mut shape: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
            if shape.len() != 4 || shape[0] != run_batch {
                return Err(Error::Model(format!(
                    "'features' has shape {shape:?}, expected [N,K,h,w]"
                )));
            }
            shape[0] = batch;
            let kept = batch * shape[1] * shape[2] * shape[3];
            Some((shape, values[..kept].to_vec()))
        } else {
            None
        };
        Ok(ForwardOutput { logits, features })
    }

    /// Classifies an image and, if asked, explains it with a class activation map.
    pub fn classify(&self, view: &ImageView, target: CamTarget) -> Result<Classification> {
        self.check_cam_target(target)?;
        let prepared = self.prepare(view)?;
        self.classify_prepared(prepared, target)
    }

    /// Turns an image into this model's input. Split from [`Model::classify_prepared`]
    /// so callers can release borrowed pixels (a pinned Java array) before inference.
    pub fn prepare(&self, view: &ImageView) -> Result<PreparedInput> {
        preprocess::prepare(view, self.info.preprocessing, self.info.input_size)
    }

    /// Fails early when `target` names no class or the model cannot explain it.
    pub fn check_cam_target(&self, target: CamTarget) -> Result<()> {
        self.check_cam(target, &CamMethod::Cam)
    }

    /// Fails early when `target` names no class, `method`'s parameters are bad, or the
    /// model lacks what `method` needs ([`Error::CamUnavailable`] names the alternative).
    pub fn check_cam(&self, target: CamTarget, method: &CamMethod) -> Result<()> {
        if let CamTarget::Class(c) = target {
            if c >= self.info.classes.len() {
                return Err(Error::invalid(format!(
                    "class index {c} is out of range: the model has {} classes",
                    self.info.classes.len()
                )));
            }
        }
        if target == CamTarget::None {
            return Ok(());
        }
        method.validate(self.info.input_size)?;
        match &self.info.cam_unavailable {
            Some(reason) if method.needs_features() => Err(Error::CamUnavailable {
                model: self.info.name.clone(),
                method: method.name(),
                reason: reason.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Classifies an image and explains it with `method`, as [`Model::classify`].
    pub fn classify_with(
        &self,
        view: &ImageView,
        target: CamTarget,
        method: &CamMethod,
    ) -> Result<Classification> {
        self.check_cam(target, method)?;
        let prepared = self.prepare(view)?;
        self.classify_prepared_with(prepared, target, method)
    }

    /// A function giving the probability of `class` for a batch of inputs, run in as few
    /// passes as the model's batch size allows.
    pub fn class_scorer(&self, class: usize) -> impl FnMut(&[f32], usize) -> Result<Vec<f32>> + '_ {
        move |inputs, count| {
            let plane = self.info.input_size * self.info.input_size;
            let per_run = self.batch_size(count);
            let classes = self.info.classes.len();
            let mut scores = Vec::with_capacity(count);
            for chunk in inputs.chunks(per_run * plane) {
                let logits = self
                    .forward(chunk.to_vec(), chunk.len() / plane, false)?
                    .logits;
                scores.extend(logits.chunks_exact(classes).map(|l| softmax(l)[class]));
            }
            Ok(scores)
        }
    }

    /// The map of `method` for `class` at the method's own resolution, for the model
    /// `input` whose forward pass gave `output` (with features if the method needs them),
    /// normalised to [0, 1]. Only methods that [perturb the input](CamMethod::perturbs_input)
    /// read `input`; the others may be given an empty slice.
    pub fn raw_map(
        &self,
        input: &[f32],
        output: &ForwardOutput,
        class: usize,
        method: &CamMethod,
    ) -> Result<RawMap> {
        let mut map = self.unnormalised_map(input, output, class, method)?;
        cam::normalise(&mut map.data);
        Ok(map)
    }

    /// [`Model::raw_map`] before normalisation, so that maps of several inputs (the tiles
    /// of one image) keep their relative strength.
    pub(crate) fn unnormalised_map(
        &self,
        input: &[f32],
        output: &ForwardOutput,
        class: usize,
        method: &CamMethod,
    ) -> Result<RawMap> {
        let size = self.info.input_size;
        let features = || match (&output.features, &self.head) {
            (Some((shape, values)), Some(head)) => Ok((shape, values.as_slice(), head)),
            _ => Err(Error::CamUnavailable {
                model: self.info.name.clone(),
                method: method.name(),
                reason: self
                    .info
                    .cam_unavailable
                    .clone()
                    .unwrap_or_else(|| "the forward pass returned no 'features'".into()),
            }),
        };
        Ok(match method {
            CamMethod::Cam => {
                let (shape, values, head) = features()?;
                RawMap {
                    width: shape[3],
                    height: shape[2],
                    data: cam::class_activation(values, shape[1], head.row(class))?,
                }
            }
            CamMethod::ScoreCam(params) => {
                let (shape, values, _) = features()?;
                cam::score::score_cam(
                    input,
                    size,
                    values,
                    shape[1],
                    (shape[3], shape[2]),
                    params,
                    &mut self.class_scorer(class),
                )?
            }
            CamMethod::EigenCam => {
                let (shape, values, _) = features()?;
                cam::eigen::eigen_cam(values, shape[1], (shape[3], shape[2]))?
            }
            CamMethod::Occlusion(params) => {
                let classes = self.info.classes.len();
                let reference = softmax(&output.logits[..classes])[class];
                cam::occlusion::occlusion(
                    input,
                    size,
                    reference,
                    params,
                    &mut self.class_scorer(class),
                )?
            }
        })
    }

    /// Classifies an input made by [`Model::prepare`].
    pub fn classify_prepared(
        &self,
        prepared: PreparedInput,
        target: CamTarget,
    ) -> Result<Classification> {
        self.classify_prepared_with(prepared, target, &CamMethod::Cam)
    }

    /// Classifies an input made by [`Model::prepare`], explaining it with `method`.
    /// Eigen-CAM ignores the class; its map is reported under the target class.
    pub fn classify_prepared_with(
        &self,
        prepared: PreparedInput,
        target: CamTarget,
        method: &CamMethod,
    ) -> Result<Classification> {
        self.check_cam(target, method)?;
        let want_features = target != CamTarget::None && method.needs_features();
        // Only the methods that perturb the input need it after the forward pass.
        let kept_input =
            (target != CamTarget::None && method.perturbs_input()).then(|| prepared.data.clone());
        let output = self.forward(prepared.data, 1, want_features)?;
        let calibration = &self.info.calibration;
        let probabilities = calibration.probabilities(&output.logits);
        let unfamiliarity = calibration.energy(&output.logits);
        let class_index = argmax(&probabilities);
        let region = prepared.region;
        let cam = match target {
            CamTarget::None => None,
            CamTarget::Predicted | CamTarget::Class(_) => {
                let class = match target {
                    CamTarget::Class(c) => c,
                    _ => class_index,
                };
                let input = kept_input.as_deref().unwrap_or_default();
                let map = self.raw_map(input, &output, class, method)?;
                let data = crate::image::resample::upsample(
                    &map.data,
                    map.width,
                    map.height,
                    region.width,
                    region.height,
                );
                Some(CamMap {
                    class_index: class,
                    width: region.width,
                    height: region.height,
                    data,
                })
            }
        };
        Ok(Classification {
            class_index,
            probabilities,
            logits: output.logits,
            unfamiliarity,
            unfamiliar: calibration.is_unfamiliar(unfamiliarity),
            region,
            cam,
        })
    }
}

fn tensor_dims(value_type: &ValueType) -> Option<Vec<i64>> {
    match value_type {
        ValueType::Tensor { shape, .. } => Some(shape.iter().copied().collect()),
        _ => None,
    }
}

fn meta_classes(text: Option<String>, path: &Path) -> Result<Option<Vec<String>>> {
    let Some(text) = text else { return Ok(None) };
    let classes: Vec<String> = serde_json::from_str(&text).map_err(|err| {
        model_error(
            path,
            format!("visualccc.classes is not a JSON list of names: {err}"),
        )
    })?;
    if classes.is_empty() {
        return Err(model_error(path, "visualccc.classes is empty"));
    }
    Ok(Some(classes))
}

/// Numerically stable softmax.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|&e| (e / total) as f32).collect()
}

/// Index of the largest value (the first one on ties).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let p = softmax(&[1000.0, 1001.0, 999.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&p), 1);
    }
}
