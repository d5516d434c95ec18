//! The tutorial's PyTorch MLP weights in and out (feature `pytorch`).
//!
//! PyTorch's seed MLP is `nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))`: its
//! `state_dict` keys are `0.weight`, `0.bias`, `2.weight`, `2.bias`. Deeper configurations
//! follow the same pattern, `Linear, activation[, Dropout]` per hidden layer, so with dropout
//! the Linear layers sit at 0, 3, 6, ….
//!
//! ```no_run
//! use zoo_mlp::MlpConfig;
//! use zoo_ndarray::NdArray;
//!
//! let config = MlpConfig::new();
//! let mlp = zoo_mlp::pytorch::load::<NdArray>(&config, "mlp.pt".as_ref(), &Default::default())?;
//! zoo_mlp::pytorch::save(&mlp, &config, "mlp.safetensors".as_ref())?;
//! # Ok::<(), zoo_weights::WeightsError>(())
//! ```

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_weights::WeightsError;
use zoo_weights::{TorchLayout, load_pytorch, save_safetensors};

use crate::{Mlp, MlpConfig};

/// Where each of the MLP's parameters lives in PyTorch's `nn.Sequential`.
pub fn layout(config: &MlpConfig) -> TorchLayout {
    let step = if config.dropout > 0.0 { 3 } else { 2 };
    (0..=config.hidden.len()).fold(TorchLayout::new(), |l, i| {
        l.linear(&format!("layers.{i}"), &(i * step).to_string())
    })
}

/// An MLP of `config`'s architecture with the weights of a PyTorch `state_dict` (`.pt`, `.pth`
/// or `.safetensors`).
pub fn load<B: Backend>(
    config: &MlpConfig,
    file: &Path,
    device: &B::Device,
) -> Result<Mlp<B>, WeightsError> {
    load_pytorch(config.init(device), file, &layout(config))
}

/// Writes `mlp` as a safetensors `state_dict` that PyTorch's module loads with
/// `load_state_dict(strict=True)`.
pub fn save<B: Backend>(mlp: &Mlp<B>, config: &MlpConfig, file: &Path) -> Result<(), WeightsError> {
    save_safetensors(mlp, file, &layout(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Tensor, TensorData};
    use zoo_ndarray::NdArray;

    /// A file of `reference/pytorch_seed.py --export`: the committed fixtures, or the directory
    /// in `ZOO_PYTORCH_FIXTURES` (the test command points it at a fresh export from torch).
    fn fixture(name: &str) -> std::path::PathBuf {
        std::env::var_os("ZOO_PYTORCH_FIXTURES")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pytorch")
            })
            .join(name)
    }

    /// The largest difference from PyTorch's outputs, relative to their largest magnitude.
    fn parity(file: &str) -> f32 {
        let io = zoo_weights::read_state_dict(&fixture("mlp_io.safetensors")).unwrap();
        let (input, want) = (&io["input"], &io["output"]);
        let device = Default::default();
        let mlp = load::<NdArray>(&MlpConfig::new(), &fixture(file), &device).unwrap();
        let x = Tensor::<NdArray, 2>::from_data(
            TensorData::new(input.values.clone(), input.shape.clone()),
            &device,
        );
        let got = mlp.forward(x).into_data().to_vec::<f32>().unwrap();
        let scale = want.values.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = got
            .iter()
            .zip(&want.values)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{file}: largest difference from PyTorch {diff:e} (scale {scale})");
        diff / scale
    }

    #[test]
    fn pytorch_trained_mlp_gives_pytorchs_logits() {
        for file in ["mlp.pt", "mlp.safetensors"] {
            let d = parity(file);
            assert!(d <= 1e-5, "{file}: relative difference {d}");
        }
    }

    #[test]
    fn export_writes_pytorchs_keys_and_reloads() {
        let device = Default::default();
        let config = MlpConfig::new();
        let mlp = load::<NdArray>(&config, &fixture("mlp.pt"), &device).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("zoo.safetensors");
        save(&mlp, &config, &out).unwrap();
        let back = zoo_weights::read_state_dict(&out).unwrap();
        let original = zoo_weights::read_state_dict(&fixture("mlp.safetensors")).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn another_architecture_is_named() {
        let config = MlpConfig::new().with_hidden(vec![8]);
        let e = load::<NdArray>(&config, &fixture("mlp.pt"), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "tensor '0.weight' has shape [16, 2], expected [8, 2] for this architecture"
            ),
            "{e}"
        );
    }
}
