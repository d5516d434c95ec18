//! The tutorial's PyTorch CNN weights in and out (feature `pytorch`).
//!
//! PyTorch's seed CNN is the `nn.Sequential` of the tutorial:
//!
//! ```text
//! 0 Conv2d(1, 32, 3)  1 ReLU  2 Conv2d(32, 64, 3)  3 ReLU  4 MaxPool2d(2)  5 Flatten
//! 6 Linear(9216, 128)  7 ReLU  8 Linear(128, 10)
//! ```
//!
//! The strong preset adds batch norm and dropout in the same order as [`Cnn`]'s forward pass:
//! `0 Conv2d, 1 BatchNorm2d, 2 ReLU, 3 Conv2d, 4 BatchNorm2d, 5 ReLU, 6 MaxPool2d, 7 Dropout,
//! 8 Flatten, 9 Linear, 10 BatchNorm1d, 11 ReLU, 12 Dropout, 13 Linear`. Batch norm's running
//! statistics travel with the weights, so eval-mode outputs match.
//!
//! LeNet-5 ([`crate::lenet`]) is `0 Conv2d(1, 6, 5, padding=2) 1 ReLU 2 MaxPool2d(2)
//! 3 Conv2d(6, 16, 5) 4 ReLU 5 MaxPool2d(2) 6 Flatten 7 Linear(400, 120) 8 ReLU
//! 9 Linear(120, 84) 10 ReLU 11 Linear(84, 10)`. The residual network ([`crate::resnet`]) has
//! no `nn.Sequential` of its own in the tutorial: its PyTorch module (`resnet` in
//! `reference/pytorch_seed.py`) names its layers as the zoo does — `stem`, `stem_bn`,
//! `blocks.{i}.conv1` / `bn1` / `conv2` / `bn2`, a projection shortcut as
//! `blocks.{i}.projection.0` (1×1 conv) and `.1` (batch norm), and `fc`.
//!
//! ```no_run
//! use zoo_cnn::CnnConfig;
//! use zoo_ndarray::NdArray;
//!
//! let config = CnnConfig::new();
//! let cnn = zoo_cnn::pytorch::load::<NdArray>(&config, "cnn.pt".as_ref(), &Default::default())?;
//! zoo_cnn::pytorch::save(&cnn, &config, "cnn.safetensors".as_ref())?;
//! # Ok::<(), zoo_weights::WeightsError>(())
//! ```

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_weights::WeightsError;
use zoo_weights::{TorchLayout, load_pytorch, save_safetensors};

use crate::resnet::{BLOCKS_PER_STAGE, STAGE_CHANNELS};
use crate::{CnnConfig, CnnPreset, Network};

#[cfg(doc)]
use crate::Cnn;

/// Where each of the network's parameters lives in its PyTorch module's `state_dict`.
pub fn layout(config: &CnnConfig) -> TorchLayout {
    let l = TorchLayout::new();
    match config.preset {
        CnnPreset::Seed => l
            .conv("conv1", "0")
            .conv("conv2", "2")
            .linear("fc1", "6")
            .linear("fc2", "8"),
        CnnPreset::Strong => l
            .conv("conv1", "0")
            .batch_norm("bn1", "1")
            .conv("conv2", "3")
            .batch_norm("bn2", "4")
            .linear("fc1", "9")
            .batch_norm("bn3", "10")
            .linear("fc2", "13"),
        CnnPreset::Lenet5 => l
            .conv("conv1", "0")
            .conv("conv2", "3")
            .linear("fc1", "7")
            .linear("fc2", "9")
            .linear("fc3", "11"),
        CnnPreset::Resnet => {
            // Bias-free convolutions: their weight only.
            let weight = |l: TorchLayout, at: &str, torch: &str| {
                l.same(format!("{at}.weight"), format!("{torch}.weight"))
            };
            let mut l = weight(l, "stem", "stem").batch_norm("stem_bn", "stem_bn");
            let mut channels = STAGE_CHANNELS[0];
            for (stage, &o) in STAGE_CHANNELS.iter().enumerate() {
                for b in 0..BLOCKS_PER_STAGE {
                    let i = format!("blocks.{}", stage * BLOCKS_PER_STAGE + b);
                    for part in ["1", "2"] {
                        l = weight(l, &format!("{i}.conv{part}"), &format!("{i}.conv{part}"))
                            .batch_norm(&format!("{i}.bn{part}"), &format!("{i}.bn{part}"));
                    }
                    if (stage > 0 && b == 0) || channels != o {
                        let (p, t) = (format!("{i}.projection"), format!("{i}.projection"));
                        l = weight(l, &format!("{p}.conv"), &format!("{t}.0"))
                            .batch_norm(&format!("{p}.bn"), &format!("{t}.1"));
                    }
                    channels = o;
                }
            }
            l.linear("fc", "fc")
        }
    }
}

/// A network of `config`'s architecture with the weights of a PyTorch `state_dict` (`.pt`,
/// `.pth` or `.safetensors`).
pub fn load<B: Backend>(
    config: &CnnConfig,
    file: &Path,
    device: &B::Device,
) -> Result<Network<B>, WeightsError> {
    let layout = layout(config);
    Ok(match config.init(device) {
        Network::Tutorial(m) => Network::Tutorial(load_pytorch(m, file, &layout)?),
        Network::LeNet5(m) => Network::LeNet5(load_pytorch(m, file, &layout)?),
        Network::ResNet(m) => Network::ResNet(load_pytorch(m, file, &layout)?),
    })
}

/// Writes `net` as a safetensors `state_dict` that its PyTorch module loads with
/// `load_state_dict(strict=True)`.
pub fn save<B: Backend>(
    net: &Network<B>,
    config: &CnnConfig,
    file: &Path,
) -> Result<(), WeightsError> {
    let layout = layout(config);
    match net {
        Network::Tutorial(m) => save_safetensors(m, file, &layout),
        Network::LeNet5(m) => save_safetensors(m, file, &layout),
        Network::ResNet(m) => save_safetensors(m, file, &layout),
    }
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

    fn tensor(t: &zoo_weights::TorchTensor) -> Tensor<NdArray, 4> {
        Tensor::from_data(
            TensorData::new(t.values.clone(), t.shape.clone()),
            &Default::default(),
        )
    }

    #[test]
    fn pytorch_trained_cnn_gives_pytorchs_logits() {
        let io = zoo_weights::read_state_dict(&fixture("cnn_io.safetensors")).unwrap();
        // The repository holds the CNN as safetensors only (4.8 MB; the .pt would double it);
        // a fresh export (ZOO_PYTORCH_FIXTURES) has the .pt too, and the MLP's tests read both.
        let files: Vec<_> = ["cnn.safetensors", "cnn.pt"]
            .into_iter()
            .filter(|f| *f == "cnn.safetensors" || fixture(f).is_file())
            .collect();
        for file in files {
            let cnn =
                load::<NdArray>(&CnnConfig::new(), &fixture(file), &Default::default()).unwrap();
            let got = cnn.forward(tensor(&io["input"])).into_data();
            let got = got.to_vec::<f32>().unwrap();
            let want = &io["output"].values;
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = got
                .iter()
                .zip(want)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            eprintln!("{file}: largest difference from PyTorch {diff:e} (scale {scale})");
            assert!(
                diff / scale <= 1e-5,
                "{file}: relative difference {}",
                diff / scale
            );
        }
    }

    /// The strong preset in eval mode: batch norm's running statistics came from PyTorch.
    /// A fresh export has it (4.8 MB, not committed).
    #[test]
    fn pytorch_trained_strong_cnn_gives_pytorchs_logits() {
        let config = CnnConfig::new().with_preset(CnnPreset::Strong);
        let (Some(weights), Some(io)) = (
            zoo_weights::fixtures::exported("cnn_strong.safetensors"),
            zoo_weights::fixtures::exported("cnn_strong_io.safetensors"),
        ) else {
            return;
        };
        let io = zoo_weights::read_state_dict(&io).unwrap();
        let cnn = load::<NdArray>(&config, &weights, &Default::default()).unwrap();
        let got = cnn.forward(tensor(&io["input"])).into_data();
        let d =
            zoo_weights::Difference::between(&got.to_vec::<f32>().unwrap(), &io["output"].values);
        eprintln!("cnn_strong on ndarray: {d}");
        assert!(d.relative() <= 1e-5, "{d}");
    }

    /// PyTorch's test accuracy on the bundled sample, recorded by the exporter, to the digit.
    #[cfg(feature = "train")]
    #[test]
    fn pytorch_trained_cnn_reaches_pytorchs_test_accuracy() {
        let meta = zoo_weights::read_metadata(&fixture("cnn_io.safetensors")).unwrap();
        let want: f64 = meta["test_accuracy"].parse().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist-sample");
        let set = zoo_data::idx::load_image_set(
            &root.join("t10k-images-idx3-ubyte.gz"),
            &root.join("t10k-labels-idx1-ubyte.gz"),
            10,
        )
        .unwrap();
        let pixels: Vec<f32> = set
            .images
            .iter()
            .map(|&p| (p as f32 / 255.0 - crate::data::MEAN) / crate::data::STD)
            .collect();
        let n = set.len();
        let x = Tensor::<NdArray, 4>::from_data(
            TensorData::new(pixels, [n, 1, 28, 28]),
            &Default::default(),
        );
        let cnn = load::<NdArray>(
            &CnnConfig::new(),
            &fixture("cnn.safetensors"),
            &Default::default(),
        )
        .unwrap();
        let predicted = cnn.forward(x).argmax(1).into_data().convert::<i64>();
        let correct = predicted
            .to_vec::<i64>()
            .unwrap()
            .iter()
            .zip(&set.labels)
            .filter(|&(p, &l)| *p == l as i64)
            .count();
        assert_eq!(correct as f64 / n as f64, want);
    }

    #[test]
    fn export_reloads_to_the_same_tensors() {
        let config = CnnConfig::new();
        let cnn =
            load::<NdArray>(&config, &fixture("cnn.safetensors"), &Default::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("zoo.safetensors");
        save(&cnn, &config, &out).unwrap();
        assert_eq!(
            zoo_weights::read_state_dict(&out).unwrap(),
            zoo_weights::read_state_dict(&fixture("cnn.safetensors")).unwrap()
        );
    }

    #[test]
    fn strong_preset_round_trips_its_batch_norm_statistics() {
        let config = CnnConfig::new().with_preset(CnnPreset::Strong);
        let cnn = config.init::<NdArray>(&Default::default());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("strong.safetensors");
        save(&cnn, &config, &out).unwrap();
        let state = zoo_weights::read_state_dict(&out).unwrap();
        assert_eq!(state["10.running_var"].values, vec![1.0; 128]);
        assert_eq!(state["4.weight"].shape, vec![64]);
        let back = load::<NdArray>(&config, &out, &Default::default()).unwrap();
        let x = Tensor::<NdArray, 4>::ones([2, 1, 28, 28], &Default::default());
        assert_eq!(
            back.forward(x.clone()).into_data(),
            cnn.forward(x).into_data()
        );
    }

    #[test]
    fn lenet5_and_resnet_round_trip_under_their_pytorch_names() {
        let d = Default::default();
        let x =
            Tensor::<NdArray, 4>::random([2, 1, 28, 28], burn::tensor::Distribution::Default, &d);
        for (preset, key, shape) in [
            (CnnPreset::Lenet5, "11.weight", vec![10, 84]),
            (
                CnnPreset::Resnet,
                "blocks.2.projection.0.weight",
                vec![32, 16, 1, 1],
            ),
        ] {
            let config = CnnConfig::new().with_preset(preset);
            let net = config.init::<NdArray>(&d);
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("net.safetensors");
            save(&net, &config, &out).unwrap();
            let state = zoo_weights::read_state_dict(&out).unwrap();
            assert_eq!(state[key].shape, shape, "{preset:?}");
            let back = load::<NdArray>(&config, &out, &d).unwrap();
            assert_eq!(
                back.forward(x.clone()).into_data(),
                net.forward(x.clone()).into_data(),
                "{preset:?}"
            );
        }
        // A LeNet-5 file is not a residual network: one line naming the file.
        let lenet = CnnConfig::new().with_preset(CnnPreset::Lenet5);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lenet.safetensors");
        save(&lenet.init::<NdArray>(&d), &lenet, &out).unwrap();
        let resnet = CnnConfig::new().with_preset(CnnPreset::Resnet);
        let e = load::<NdArray>(&resnet, &out, &d)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("lenet.safetensors") && !e.contains('\n'), "{e}");
    }
}
