//! What the training loop trains on: a [`Dataset`] makes device batches from sample indices,
//! and [`Predict`] is the one method a model must offer.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use serde::{Deserialize, Serialize};

/// What a model is trained to do; picks the loss and the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Objective {
    /// Cross-entropy over `num_classes` logits; accuracy, macro P/R/F1 (and AUC for two classes).
    Classification {
        /// Number of classes (the model's output width).
        num_classes: usize,
    },
    /// Mean squared error; MSE, RMSE, MAE and R².
    Regression,
}

/// Host-side targets of a whole dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One class index per sample.
    Classes(Vec<usize>),
    /// `dim` values per sample, row-major.
    Values {
        /// The values.
        values: Vec<f32>,
        /// Values per sample.
        dim: usize,
    },
}

impl Targets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values { values, dim } => values.len() / (*dim).max(1),
        }
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every class is below `num_classes` (regression values pass); the error names
    /// the first sample that is not.
    pub fn check_classes(&self, num_classes: usize) -> Result<(), String> {
        match self {
            Targets::Classes(c) => match c.iter().position(|&c| c >= num_classes) {
                Some(i) => Err(format!(
                    "sample {i} has class {}, outside the {num_classes} classes (0 to {})",
                    c[i],
                    num_classes.saturating_sub(1)
                )),
                None => Ok(()),
            },
            Targets::Values { .. } => Ok(()),
        }
    }

    /// The targets of `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes(c) => Targets::Classes(indices.iter().map(|&i| c[i]).collect()),
            Targets::Values { values, dim } => Targets::Values {
                values: gather_rows(values, *dim, indices),
                dim: *dim,
            },
        }
    }

    /// The targets of `indices` as the tensor the loss takes.
    pub fn tensor<B: Backend>(&self, indices: &[usize], device: &B::Device) -> TargetTensor<B> {
        match self.select(indices) {
            Targets::Classes(c) => {
                let v: Vec<i64> = c.into_iter().map(|x| x as i64).collect();
                let n = v.len();
                TargetTensor::Classes(Tensor::from_data(TensorData::new(v, [n]), device))
            }
            Targets::Values { values, dim } => {
                let n = values.len() / dim.max(1);
                TargetTensor::Values(Tensor::from_data(TensorData::new(values, [n, dim]), device))
            }
        }
    }
}

/// Targets of one batch, on the device.
#[derive(Clone, Debug)]
pub enum TargetTensor<B: Backend> {
    /// Class indices, shape `[batch]`.
    Classes(Tensor<B, 1, Int>),
    /// Values, shape `[batch, dim]`.
    Values(Tensor<B, 2>),
}

/// A training/evaluation set the loop can batch.
///
/// `Input<B>` is whatever the model's [`Predict::predict`] takes, generic over the backend so
/// one dataset serves the autodiff backend (training) and its inner backend (evaluation).
pub trait Dataset: Send + Sync {
    /// A batch of model inputs on backend `B`.
    type Input<B: Backend>;
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether the dataset is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Model inputs for the samples `indices`, in that order.
    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> Self::Input<B>;
    /// Training inputs of `epoch`: [`Dataset::inputs`] unless the dataset augments its samples
    /// (then the result must depend only on the indices, the epoch and the dataset's seed).
    fn train_inputs<B: Backend>(
        &self,
        indices: &[usize],
        epoch: usize,
        device: &B::Device,
    ) -> Self::Input<B> {
        let _ = epoch;
        self.inputs(indices, device)
    }
    /// All targets, host side.
    fn targets(&self) -> &Targets;
}

/// A model the shared loop can train: maps a batch of inputs to a `[batch, outputs]` tensor of
/// logits (classification) or predictions (regression).
pub trait Predict<B: Backend, I>: Module<B> {
    /// Forward pass.
    fn predict(&self, input: I) -> Tensor<B, 2>;
}

/// Fixed-width feature vectors in memory: tabular data, two moons, flattened images.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureDataset {
    /// Row-major `[len, n_features]` features.
    pub features: Vec<f32>,
    /// Features per sample.
    pub n_features: usize,
    /// Targets, one entry (or `dim` values) per sample.
    pub targets: Targets,
}

impl FeatureDataset {
    /// Builds a dataset, checking that features and targets agree in length.
    pub fn new(features: Vec<f32>, n_features: usize, targets: Targets) -> Result<Self, String> {
        if n_features == 0 {
            return Err("a dataset needs at least one feature".into());
        }
        if !features.len().is_multiple_of(n_features)
            || features.len() / n_features != targets.len()
        {
            return Err(format!(
                "{} feature values do not make {} samples of {} features",
                features.len(),
                targets.len(),
                n_features
            ));
        }
        Ok(Self {
            features,
            n_features,
            targets,
        })
    }

    /// The samples `indices`, as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            features: gather_rows(&self.features, self.n_features, indices),
            n_features: self.n_features,
            targets: self.targets.select(indices),
        }
    }

    /// Features of sample `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }
}

impl Dataset for FeatureDataset {
    type Input<B: Backend> = Tensor<B, 2>;

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> Tensor<B, 2> {
        let rows = gather_rows(&self.features, self.n_features, indices);
        Tensor::from_data(
            TensorData::new(rows, [indices.len(), self.n_features]),
            device,
        )
    }

    fn targets(&self) -> &Targets {
        &self.targets
    }
}

/// A seeded random hold-out: `(train, valid)` indices of `0..n`, each sorted, with
/// `round(n * fraction)` of them in `valid`.
pub fn validation_split(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let n_valid = ((n as f64) * fraction).round() as usize;
    let (valid, train) = idx.split_at(n_valid.min(n));
    let (mut train, mut valid) = (train.to_vec(), valid.to_vec());
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

/// Copies rows `indices` of a row-major matrix with `width` columns.
pub fn gather_rows<T: Copy>(data: &[T], width: usize, indices: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(indices.len() * width);
    for &i in indices {
        out.extend_from_slice(&data[i * width..(i + 1) * width]);
    }
    out
}

/// SplitMix64 of `seed` and `stream`: independent, reproducible seeds per epoch and purpose.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed
        ^ stream
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x6A09_E667_F3BC_C909);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    #[test]
    fn feature_dataset_checks_lengths() {
        assert!(FeatureDataset::new(vec![0.0; 6], 2, Targets::Classes(vec![0, 1, 0])).is_ok());
        let err = FeatureDataset::new(vec![0.0; 6], 2, Targets::Classes(vec![0, 1])).unwrap_err();
        assert!(err.contains("6 feature values"), "{err}");
        assert!(FeatureDataset::new(vec![], 0, Targets::Classes(vec![])).is_err());
    }

    #[test]
    fn batches_follow_indices() {
        let ds = FeatureDataset::new(
            vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
            2,
            Targets::Classes(vec![0, 1, 2]),
        )
        .unwrap();
        let x = ds.inputs::<NdArray>(&[2, 0], &Default::default());
        assert_eq!(
            x.into_data().to_vec::<f32>().unwrap(),
            vec![20.0, 21.0, 0.0, 1.0]
        );
        match ds.targets().tensor::<NdArray>(&[2, 0], &Default::default()) {
            TargetTensor::Classes(t) => {
                assert_eq!(
                    t.into_data().convert::<i64>().to_vec::<i64>().unwrap(),
                    vec![2, 0]
                )
            }
            TargetTensor::Values(_) => panic!("expected classes"),
        }
        let sub = ds.subset(&[1]);
        assert_eq!(sub.row(0), &[10.0, 11.0]);
        assert_eq!(sub.targets, Targets::Classes(vec![1]));
    }

    #[test]
    fn value_targets_select_rows() {
        let t = Targets::Values {
            values: vec![1.0, 2.0, 3.0, 4.0],
            dim: 2,
        };
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.select(&[1]),
            Targets::Values {
                values: vec![3.0, 4.0],
                dim: 2
            }
        );
    }
}
