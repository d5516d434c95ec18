//! Inference from a saved run: [`load`] reads an artifact directory written by
//! [`crate::train::run`] (`config.json`, `scalers.json`, `model.mpk`), and [`SavedMlp::predict`]
//! maps raw feature rows, in the units of the training data, to class probabilities or to
//! predictions in the target's units.

use std::path::Path;

use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use zoo_data::preprocess::StandardScaler;
use zoo_train::artifacts::read_json;
use zoo_train::checkpoint::{ModelId, load_model};
use zoo_train::train::to_vec_f32;
use zoo_train::{Evaluation, Objective, TrainError, evaluate as evaluate_on};

use crate::Mlp;
use crate::train::{MlpJob, MlpTask};

/// The scalers a run fitted on its training rows (`scalers.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scalers {
    /// Feature standardisation.
    pub features: StandardScaler,
    /// Target standardisation (regression).
    pub target: Option<StandardScaler>,
}

/// A trained MLP loaded from its artifact directory.
pub struct SavedMlp<B: Backend> {
    /// The run's configuration (`config.json`).
    pub job: MlpJob,
    /// The network.
    pub model: Mlp<B>,
    /// The training rows' scalers.
    pub scalers: Scalers,
}

/// Loads the run saved in `dir`. A missing or foreign file, or a model of another
/// architecture, is an error naming the file.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<SavedMlp<B>, TrainError> {
    let config = dir.join("config.json");
    let job: MlpJob = read_json(&config, "an MLP run configuration")?;
    job.model
        .validate()
        .map_err(|reason| TrainError::Checkpoint {
            path: config.clone(),
            reason,
        })?;
    let scalers: Scalers = read_json(&dir.join("scalers.json"), "the scalers of an MLP run")?;
    let id = ModelId::new("mlp", &job.model, "f32");
    let model = load_model::<B, _>(
        job.model.init::<B>(device),
        &dir.join("model.mpk"),
        &id,
        device,
    )?;
    Ok(SavedMlp {
        job,
        model,
        scalers,
    })
}

/// The test-set evaluation of `model` (of [`crate::train::architecture`]'s configuration: a
/// saved run's, or PyTorch's weights through [`crate::pytorch::load`]) on `job`'s data — the
/// test split [`crate::train::run`] reports on: loss and metrics (regression: in the target's
/// units), outputs and confusion matrix.
pub fn evaluate<B: Backend>(
    job: &MlpJob,
    model: &Mlp<B>,
    device: &B::Device,
) -> Result<Evaluation, TrainError> {
    let splits = crate::train::load_data(job)?;
    let objective = match job.task {
        MlpTask::Moons { .. } => Objective::Classification { num_classes: 2 },
        MlpTask::Regression { .. } => Objective::Regression,
    };
    let width = model.widths().first().copied().unwrap_or(0);
    if width != splits.test.n_features {
        return Err(TrainError::Invalid(format!(
            "the MLP reads {width} features, the job's data has {}",
            splits.test.n_features
        )));
    }
    evaluate_on(
        model,
        &splits.test,
        objective,
        256,
        splits.target_scaler.as_ref(),
        device,
    )
}

impl<B: Backend> SavedMlp<B> {
    /// For row-major `rows` of raw features (`input` values each): class probabilities
    /// (`[n, classes]`, two moons) or predictions in the target's units (`[n, 1]`,
    /// regression), flattened.
    pub fn predict(&self, rows: &[f64], device: &B::Device) -> Result<Vec<f32>, TrainError> {
        let width = self.job.model.input;
        if rows.is_empty() || !rows.len().is_multiple_of(width) {
            return Err(TrainError::Invalid(format!(
                "features: {} values do not make rows of {width}",
                rows.len()
            )));
        }
        let mut x = rows.to_vec();
        self.scalers.features.transform(&mut x);
        let n = x.len() / width;
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let out = self
            .model
            .forward(Tensor::from_data(TensorData::new(x, [n, width]), device));
        match (&self.job.task, &self.scalers.target) {
            (MlpTask::Moons { .. }, _) => to_vec_f32(softmax(out, 1)),
            (MlpTask::Regression { .. }, scaler) => {
                let mut y: Vec<f64> = to_vec_f32(out)?.iter().map(|&v| v as f64).collect();
                if let Some(s) = scaler {
                    s.inverse_transform(&mut y);
                }
                Ok(y.iter().map(|&v| v as f32).collect())
            }
        }
    }
}
