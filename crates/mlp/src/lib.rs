//! # zoo-mlp
//!
//! The seed multi-layer perceptron — `Linear(2,16) → ReLU → Linear(16,2)` on two moons — with
//! configurable hidden sizes, activation, dropout and initialisation, and the data pipelines of
//! its two tasks: two-moons classification and tabular (CSV) regression.

use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::activation::{Activation, ActivationConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{backend::Backend, Tensor};
use zoo_training::data::{FeatureDataset, Predict, Targets};
use zoo_training::preprocess::{train_test_split, StandardScaler};
use zoo_training::synthetic::make_moons;
use zoo_training::table::read_csv;
use zoo_training::DataError;

pub mod run;

/// Hidden-layer non-linearity.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum MlpActivation {
    /// max(0, x)
    Relu,
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// tanh(x)
    Tanh,
}

/// Weight initialisation.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum MlpInit {
    /// PyTorch's `nn.Linear` default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Default,
    /// Xavier/Glorot uniform (gain 1), suited to sigmoid/tanh.
    Xavier,
    /// He/Kaiming normal (gain sqrt 2), suited to ReLU.
    He,
}

impl MlpInit {
    fn initializer(self) -> Initializer {
        match self {
            MlpInit::Default => Initializer::KaimingUniform {
                gain: 1.0 / 3f64.sqrt(),
                fan_out_only: false,
            },
            MlpInit::Xavier => Initializer::XavierUniform { gain: 1.0 },
            MlpInit::He => Initializer::KaimingNormal {
                gain: 2f64.sqrt(),
                fan_out_only: false,
            },
        }
    }
}

/// Architecture of an [`Mlp`]. The defaults are the seed's `2 → 16 → 2` ReLU network.
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Input features.
    #[config(default = 2)]
    pub input: usize,
    /// Hidden layer widths, in order.
    #[config(default = "vec![16]")]
    pub hidden: Vec<usize>,
    /// Outputs: classes (classification) or target values (regression).
    #[config(default = 2)]
    pub output: usize,
    /// Hidden activation.
    #[config(default = "MlpActivation::Relu")]
    pub activation: MlpActivation,
    /// Dropout probability after each hidden activation (0 disables it).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Weight initialisation.
    #[config(default = "MlpInit::Default")]
    pub init: MlpInit,
}

impl MlpConfig {
    /// Checks sizes and probabilities, naming the flag at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.input == 0 || self.output == 0 {
            return Err("an MLP needs at least one input and one output".into());
        }
        if self.hidden.contains(&0) {
            return Err("--hidden sizes must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "--dropout must be in [0, 1) (got {})",
                self.dropout
            ));
        }
        Ok(())
    }

    /// Builds the network on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Mlp<B> {
        let widths: Vec<usize> = std::iter::once(self.input)
            .chain(self.hidden.iter().copied())
            .chain([self.output])
            .collect();
        let layers = widths
            .windows(2)
            .map(|w| {
                LinearConfig::new(w[0], w[1])
                    .with_initializer(self.init.initializer())
                    .init(device)
            })
            .collect();
        let activation = match self.activation {
            MlpActivation::Relu => ActivationConfig::Relu,
            MlpActivation::Sigmoid => ActivationConfig::Sigmoid,
            MlpActivation::Tanh => ActivationConfig::Tanh,
        };
        Mlp {
            layers,
            activation: activation.init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// A multi-layer perceptron: `Linear → activation → dropout` per hidden layer, then `Linear`.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
    activation: Activation<B>,
    dropout: Dropout,
}

impl<B: Backend> Mlp<B> {
    /// `[batch, input]` → `[batch, output]` logits or predictions.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut x = x;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.dropout.forward(self.activation.forward(x));
            }
        }
        x
    }
}

impl<B: Backend> Predict<B, Tensor<B, 2>> for Mlp<B> {
    fn predict(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

/// A train/validation/test split of standardised features, with the scaler fitted on train.
#[derive(Clone, Debug)]
pub struct Splits {
    /// Training set.
    pub train: FeatureDataset,
    /// Validation set (carved from train), if asked for.
    pub valid: Option<FeatureDataset>,
    /// Test set.
    pub test: FeatureDataset,
    /// Feature scaler fitted on the training rows.
    pub scaler: StandardScaler,
    /// Target scaler (regression), fitted on the training targets.
    pub target_scaler: Option<StandardScaler>,
    /// Feature names.
    pub feature_names: Vec<String>,
}

/// How to split a dataset.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitSpec {
    /// Fraction held out for test (scikit-learn's `train_test_split`, same rows for the same seed).
    pub test_fraction: f64,
    /// Fraction of the remaining training rows held out for validation.
    pub valid_fraction: f64,
    /// Split seed (the seed's `random_state=42`).
    pub seed: u32,
}

impl SplitSpec {
    fn validate(&self) -> Result<(), String> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(format!(
                "--test-fraction must be in (0, 1) (got {})",
                self.test_fraction
            ));
        }
        if !(0.0..1.0).contains(&self.valid_fraction) {
            return Err(format!(
                "--valid-fraction must be in [0, 1) (got {})",
                self.valid_fraction
            ));
        }
        Ok(())
    }
}

fn split_standardise(
    features: Vec<f64>,
    n_features: usize,
    targets: Targets,
    scale_targets: bool,
    spec: SplitSpec,
    feature_names: Vec<String>,
) -> Result<Splits, String> {
    spec.validate()?;
    let n = targets.len();
    let (mut train_idx, test_idx) = train_test_split(n, spec.test_fraction, spec.seed);
    let mut valid_idx = Vec::new();
    if spec.valid_fraction > 0.0 {
        let (tr, va) = train_test_split(
            train_idx.len(),
            spec.valid_fraction,
            spec.seed.wrapping_add(1),
        );
        valid_idx = va.iter().map(|&i| train_idx[i]).collect();
        train_idx = tr.iter().map(|&i| train_idx[i]).collect();
    }
    if train_idx.is_empty() || test_idx.is_empty() {
        return Err(format!("{n} rows are too few to split"));
    }
    let train_rows = zoo_training::data::gather_rows(&features, n_features, &train_idx);
    let scaler = StandardScaler::fit(&train_rows, n_features);
    let mut scaled = features;
    scaler.transform(&mut scaled);
    let scaled: Vec<f32> = scaled.iter().map(|&v| v as f32).collect();

    let (targets, target_scaler) = match targets {
        Targets::Values { values, dim } if scale_targets => {
            let train_t: Vec<f64> = zoo_training::data::gather_rows(&values, dim, &train_idx)
                .iter()
                .map(|&v| v as f64)
                .collect();
            let ts = StandardScaler::fit(&train_t, dim);
            let mut v: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            ts.transform(&mut v);
            (
                Targets::Values {
                    values: v.iter().map(|&x| x as f32).collect(),
                    dim,
                },
                Some(ts),
            )
        }
        t => (t, None),
    };
    let all = FeatureDataset::new(scaled, n_features, targets)?;
    Ok(Splits {
        train: all.subset(&train_idx),
        valid: (!valid_idx.is_empty()).then(|| all.subset(&valid_idx)),
        test: all.subset(&test_idx),
        scaler,
        target_scaler,
        feature_names,
    })
}

/// The seed's data: `make_moons(n, noise, seed)`, split 80/20 and standardised on the train rows.
pub fn moons(
    n_samples: usize,
    noise: f64,
    data_seed: u32,
    spec: SplitSpec,
) -> Result<Splits, String> {
    if n_samples < 10 {
        return Err(format!("--n-samples must be at least 10 (got {n_samples})"));
    }
    if !noise.is_finite() || noise < 0.0 {
        return Err(format!(
            "--noise must be a finite number >= 0 (got {noise})"
        ));
    }
    let (x, y) = make_moons(n_samples, noise, data_seed);
    let features: Vec<f64> = x.iter().flat_map(|p| p.iter().copied()).collect();
    split_standardise(
        features,
        2,
        Targets::Classes(y),
        false,
        spec,
        vec!["x1".into(), "x2".into()],
    )
}

/// A CSV regression task: every column but `target` is a feature; features and target are
/// standardised on the training rows (metrics are reported in the target's own units).
pub fn csv_regression(
    path: &std::path::Path,
    target: &str,
    spec: SplitSpec,
) -> Result<Splits, DataError> {
    let table = read_csv(path, target)?;
    let dim_err = |reason: String| DataError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let n_features = table.n_features();
    let targets = Targets::Values {
        values: table.targets.iter().map(|&v| v as f32).collect(),
        dim: 1,
    };
    split_standardise(
        table.features,
        n_features,
        targets,
        true,
        spec,
        table.feature_names,
    )
    .map_err(dim_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn seed_architecture_shapes_and_parameter_count() {
        let m = MlpConfig::new().init::<NdArray>(&Default::default());
        // 2*16 + 16 + 16*2 + 2
        assert_eq!(m.num_params(), 82);
        let y = m.forward(Tensor::zeros([5, 2], &Default::default()));
        assert_eq!(y.dims(), [5, 2]);
    }

    #[test]
    fn deeper_config_shapes() {
        let cfg = MlpConfig::new()
            .with_input(10)
            .with_hidden(vec![32, 8])
            .with_output(1)
            .with_activation(MlpActivation::Tanh)
            .with_init(MlpInit::Xavier);
        let m = cfg.init::<NdArray>(&Default::default());
        assert_eq!(m.num_params(), 10 * 32 + 32 + 32 * 8 + 8 + 8 + 1);
        assert_eq!(
            m.forward(Tensor::ones([3, 10], &Default::default())).dims(),
            [3, 1]
        );
    }

    #[test]
    fn activations_are_applied() {
        // One hidden unit with weight 1, bias 0, output weight 1: f(-1) must be act(-1).
        for (act, want) in [
            (MlpActivation::Relu, 0.0f32),
            (MlpActivation::Sigmoid, 1.0 / (1.0 + 1f32.exp())),
            (MlpActivation::Tanh, (-1f32).tanh()),
        ] {
            let cfg = MlpConfig::new()
                .with_input(1)
                .with_hidden(vec![1])
                .with_output(1)
                .with_activation(act);
            let mut m = cfg.init::<NdArray>(&Default::default());
            for layer in m.layers.iter_mut() {
                layer.weight = layer.weight.clone().map(|w| w.ones_like());
                if let Some(b) = &layer.bias {
                    layer.bias = Some(b.clone().map(|b| b.zeros_like()));
                }
            }
            let y = m.forward(Tensor::from_floats([[-1.0]], &Default::default()));
            let got = y.into_data().to_vec::<f32>().unwrap()[0];
            assert!((got - want).abs() < 1e-6, "{act:?}: {got} vs {want}");
        }
    }

    #[test]
    fn config_validation() {
        assert!(MlpConfig::new().validate().is_ok());
        assert!(MlpConfig::new()
            .with_dropout(1.0)
            .validate()
            .unwrap_err()
            .contains("--dropout"));
        assert!(MlpConfig::new()
            .with_hidden(vec![0])
            .validate()
            .unwrap_err()
            .contains("--hidden"));
    }

    #[test]
    fn moons_split_is_the_seed_split() {
        let s = moons(
            1000,
            0.2,
            42,
            SplitSpec {
                test_fraction: 0.2,
                valid_fraction: 0.0,
                seed: 42,
            },
        )
        .unwrap();
        assert_eq!((s.train.targets.len(), s.test.targets.len()), (800, 200));
        assert!(s.valid.is_none());
        // Standardised on train: each training column has mean 0 and unit variance.
        for c in 0..2 {
            let col: Vec<f64> = (0..800).map(|i| s.train.row(i)[c] as f64).collect();
            let mean = col.iter().sum::<f64>() / 800.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 800.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
        let v = moons(
            1000,
            0.2,
            42,
            SplitSpec {
                test_fraction: 0.2,
                valid_fraction: 0.1,
                seed: 42,
            },
        )
        .unwrap();
        assert_eq!(
            v.train.targets.len() + v.valid.as_ref().unwrap().targets.len(),
            800
        );
    }
}
