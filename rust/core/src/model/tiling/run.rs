//! Running the model over the tiles in batches, with the thumbnail the CAM needs.

use super::*;

/// Tiles waiting for one batched ONNX Runtime run, and the results so far.
pub(super) struct TileRun<'m> {
    pub(super) model: &'m Model,
    pub(super) batch: usize,
    pub(super) inputs: Vec<f32>,
    pub(super) regions: Vec<Region>,
    pub(super) tiles: Vec<TileResult>,
    pub(super) method: CamMethod,
    /// The one class whose map a method other than the exact CAM makes.
    pub(super) explained: Option<usize>,
    pub(super) stitcher: Option<Stitcher>,
}

impl TileRun<'_> {
    /// Maps per tile: every class's for the exact CAM, else the explained class's.
    pub(super) fn planes(&self) -> usize {
        match self.explained {
            Some(_) => 1,
            None => self.model.info().classes.len(),
        }
    }

    pub(super) fn push(&mut self, tile: &[f32], region: Region) -> Result<()> {
        self.inputs.extend_from_slice(tile);
        self.regions.push(region);
        if self.regions.len() == self.batch {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<()> {
        let count = self.regions.len();
        if count == 0 {
            return Ok(());
        }
        let per_tile = self.inputs.len() / count;
        // `forward` pads a short batch for a model that fixes its batch size.
        let inputs = std::mem::take(&mut self.inputs);
        let kept_inputs =
            (self.explained.is_some() && self.method.perturbs_input()).then(|| inputs.clone());
        let want_features = self.stitcher.is_some() && self.method.needs_features();
        let output = self.model.forward(inputs, count, want_features)?;
        let classes = self.model.info().classes.len();
        for (i, region) in self.regions.drain(..).enumerate() {
            let logits = &output.logits[i * classes..][..classes];
            let calibration = &self.model.info().calibration;
            let probabilities = calibration.probabilities(logits);
            let unfamiliarity = calibration.energy(logits);
            if let (Some(stitcher), Some(class)) = (self.stitcher.as_mut(), self.explained) {
                let features = output.features.as_ref().map(|(shape, values)| {
                    let plane = shape[1] * shape[2] * shape[3];
                    (
                        vec![1, shape[1], shape[2], shape[3]],
                        values[i * plane..][..plane].to_vec(),
                    )
                });
                let tile_output = ForwardOutput {
                    logits: logits.to_vec(),
                    features,
                };
                let tile_input = kept_inputs
                    .as_ref()
                    .map_or(&[][..], |inputs| &inputs[i * per_tile..][..per_tile]);
                let map =
                    self.model
                        .unnormalised_map(tile_input, &tile_output, class, &self.method)?;
                stitcher.add(region, &map.data, map.width, map.height);
            } else if let (Some(stitcher), Some((shape, features))) =
                (self.stitcher.as_mut(), output.features.as_ref())
            {
                let (channels, map_h, map_w) = (shape[1], shape[2], shape[3]);
                let plane = channels * map_h * map_w;
                let tile_features = &features[i * plane..][..plane];
                let mut maps = Vec::with_capacity(classes * map_h * map_w);
                for class in 0..classes {
                    let row = self.model.linear_head_row(class).ok_or_else(|| {
                        Error::Model("the model's linear head has no row for a class".into())
                    })?;
                    maps.extend(cam::class_activation(tile_features, channels, row)?);
                }
                stitcher.add(region, &maps, map_w, map_h);
            }
            self.tiles.push(TileResult {
                region,
                class_index: argmax(&probabilities),
                probabilities,
                unfamiliarity,
            });
        }
        self.inputs = Vec::with_capacity(self.batch * per_tile);
        Ok(())
    }
}

/// Grey values at map-cell centres, sampled as bands of rows stream past.
pub(super) struct Thumbnail {
    pub(super) scale: usize,
    pub(super) width: usize,
    pub(super) image_width: usize,
    pub(super) image_height: usize,
    pub(super) next_row: usize,
    pub(super) values: Vec<f32>,
}

impl Thumbnail {
    pub(super) fn new(
        scale: usize,
        width: usize,
        height: usize,
        image: (usize, usize),
        wanted: bool,
    ) -> Self {
        Self {
            scale,
            width,
            image_width: image.0,
            image_height: image.1,
            next_row: if wanted { 0 } else { height },
            values: if wanted {
                vec![0.0; width * height]
            } else {
                Vec::new()
            },
        }
    }

    /// The image rows the remaining cells sample, in order.
    pub(super) fn rows_wanted(&self) -> Vec<usize> {
        let height = self.values.len() / self.width.max(1);
        (self.next_row..height)
            .map(|row| (row * self.scale + self.scale / 2).min(self.image_height - 1))
            .collect()
    }

    /// Takes the cells whose centre row lies in rows `y..y + count` held in `band`.
    pub(super) fn take_rows(&mut self, y: usize, count: usize, band: &[f32]) {
        let height = self.values.len() / self.width.max(1);
        while self.next_row < height {
            let source_row = self.next_row * self.scale + self.scale / 2;
            let source_row = source_row.min(self.image_height - 1);
            if source_row < y || source_row >= y + count {
                break;
            }
            let line = &band[(source_row - y) * self.image_width..][..self.image_width];
            let out = &mut self.values[self.next_row * self.width..][..self.width];
            for (mx, v) in out.iter_mut().enumerate() {
                *v = line[(mx * self.scale + self.scale / 2).min(self.image_width - 1)];
            }
            self.next_row += 1;
        }
    }
}
