//! The tutorial's PyTorch GAN weights in and out (feature `pytorch`): each network its own
//! `state_dict`, as the tutorial saves `G` and `D`.
//!
//! The seed networks are `nn.Sequential`s, so their Linear layers sit at 0, 2, 4:
//!
//! ```text
//! G: 0 Linear(100+classes, 256) 1 ReLU 2 Linear(256, 512) 3 ReLU 4 Linear(512, 784) 5 Tanh
//! D: 0 Linear(784+classes, 512) 1 LeakyReLU(0.2) 2 Linear(512, 256) 3 LeakyReLU(0.2)
//!    4 Linear(256, 1) 5 Sigmoid
//! ```
//!
//! The DCGAN (`Arch::Conv`) follows the usual PyTorch DCGAN `nn.Sequential`, convolutions
//! without bias:
//!
//! ```text
//! G: 0 ConvTranspose2d(latent+classes, 2w, size/4) 1 BatchNorm2d 2 ReLU
//!    3 ConvTranspose2d(2w, w, 4, 2, 1) 4 BatchNorm2d 5 ReLU 6 ConvTranspose2d(w, 1, 4, 2, 1) 7 Tanh
//! D: 0 Conv2d(1+classes, w, 4, 2, 1) 1 LeakyReLU(0.2) 2 Conv2d(w, 2w, 4, 2, 1) 3 BatchNorm2d
//!    4 LeakyReLU(0.2) 5 Conv2d(2w, 1, size/4) 6 Sigmoid
//! ```
//!
//! The zoo's discriminator returns the logit before PyTorch's final `Sigmoid`
//! ([`Discriminator::probability`] applies it); neither has parameters there.
//!
//! ```no_run
//! use zoo_gan::GanConfig;
//! use zoo_ndarray::NdArray;
//!
//! let config = GanConfig::new();
//! let g = zoo_gan::pytorch::load_generator::<NdArray>(&config, "G.pt".as_ref(), &Default::default())?;
//! zoo_gan::pytorch::save_generator(&g, &config, "G.safetensors".as_ref())?;
//! # Ok::<(), zoo_weights::WeightsError>(())
//! ```

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_weights::WeightsError;
use zoo_weights::{TorchLayout, load_pytorch, save_safetensors};

use crate::{Arch, Discriminator, GanConfig, Generator};

/// Where each of the generator's parameters lives in PyTorch's `nn.Sequential`.
pub fn generator_layout(config: &GanConfig) -> TorchLayout {
    let l = TorchLayout::new();
    match config.arch {
        Arch::Mlp => l
            .linear("body.Mlp.fc1", "0")
            .linear("body.Mlp.fc2", "2")
            .linear("body.Mlp.fc3", "4"),
        Arch::Conv => l
            .same("body.Conv.project.weight", "0.weight")
            .batch_norm("body.Conv.bn0", "1")
            .same("body.Conv.up1.weight", "3.weight")
            .batch_norm("body.Conv.bn1", "4")
            .same("body.Conv.up2.weight", "6.weight"),
    }
}

/// Where each of the discriminator's parameters lives in PyTorch's `nn.Sequential`.
pub fn discriminator_layout(config: &GanConfig) -> TorchLayout {
    let l = TorchLayout::new();
    match config.arch {
        Arch::Mlp => l
            .linear("body.Mlp.fc1", "0")
            .linear("body.Mlp.fc2", "2")
            .linear("body.Mlp.fc3", "4"),
        Arch::Conv => l
            .same("body.Conv.down1.weight", "0.weight")
            .same("body.Conv.down2.weight", "2.weight")
            .batch_norm("body.Conv.bn2", "3")
            .same("body.Conv.head.weight", "5.weight"),
    }
}

/// A generator of `config`'s architecture with the weights of a PyTorch `state_dict`.
pub fn load_generator<B: Backend>(
    config: &GanConfig,
    file: &Path,
    device: &B::Device,
) -> Result<Generator<B>, WeightsError> {
    load_pytorch(
        config.init_generator(device),
        file,
        &generator_layout(config),
    )
}

/// A discriminator of `config`'s architecture with the weights of a PyTorch `state_dict`.
pub fn load_discriminator<B: Backend>(
    config: &GanConfig,
    file: &Path,
    device: &B::Device,
) -> Result<Discriminator<B>, WeightsError> {
    load_pytorch(
        config.init_discriminator(device),
        file,
        &discriminator_layout(config),
    )
}

/// Writes `generator` as a safetensors `state_dict` for PyTorch's `load_state_dict(strict=True)`.
pub fn save_generator<B: Backend>(
    generator: &Generator<B>,
    config: &GanConfig,
    file: &Path,
) -> Result<(), WeightsError> {
    save_safetensors(generator, file, &generator_layout(config))
}

/// Writes `discriminator` as a safetensors `state_dict` for PyTorch's
/// `load_state_dict(strict=True)`.
pub fn save_discriminator<B: Backend>(
    discriminator: &Discriminator<B>,
    config: &GanConfig,
    file: &Path,
) -> Result<(), WeightsError> {
    save_safetensors(discriminator, file, &discriminator_layout(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Tensor, TensorData};
    use zoo_ndarray::NdArray;
    use zoo_weights::{Difference, TorchTensor, fixtures, read_state_dict};

    fn tensor<const D: usize>(t: &TorchTensor) -> Tensor<NdArray, D> {
        Tensor::from_data(
            TensorData::new(t.values.clone(), t.shape.clone()),
            &Default::default(),
        )
    }

    fn values<const D: usize>(t: Tensor<NdArray, D>) -> Vec<f32> {
        t.into_data().to_vec::<f32>().unwrap()
    }

    /// The exports of `name` that exist, with its input and outputs.
    fn exports(name: &str) -> Vec<(std::path::PathBuf, zoo_weights::StateDict)> {
        let Some(io) = fixtures::exported(&format!("{name}_io.safetensors")) else {
            return vec![];
        };
        let io = read_state_dict(&io).unwrap();
        ["pt", "safetensors"]
            .iter()
            .filter_map(|ext| fixtures::exported(&format!("{name}.{ext}")))
            .map(|f| (f, io.clone()))
            .collect()
    }

    #[test]
    fn pytorch_trained_gan_gives_pytorchs_outputs() {
        for (prefix, config) in [
            ("gan", GanConfig::new()),
            ("dcgan", GanConfig::new().with_arch(Arch::Conv)),
        ] {
            parity(prefix, &config);
        }
    }

    /// `{prefix}_generator` and `{prefix}_discriminator` against PyTorch's outputs.
    fn parity(prefix: &str, config: &GanConfig) {
        for (file, io) in exports(&format!("{prefix}_generator")) {
            let g = load_generator::<NdArray>(config, &file, &Default::default()).unwrap();
            let got = values(g.forward(tensor(&io["input"]), None));
            let d = Difference::between(&got, &io["output"].values);
            eprintln!("{} on ndarray: {d}", file.display());
            assert!(d.relative() <= 1e-5, "{}: {d}", file.display());
        }
        for (file, io) in exports(&format!("{prefix}_discriminator")) {
            let d = load_discriminator::<NdArray>(config, &file, &Default::default()).unwrap();
            // The seed's batch is flattened `[n, 784]`, the DCGAN's `[n, 1, 28, 28]`.
            let input = &io["input"];
            let x = Tensor::<NdArray, 4>::from_data(
                TensorData::new(input.values.clone(), [input.shape[0], 1, 28, 28]),
                &Default::default(),
            );
            let logits =
                Difference::between(&values(d.forward(x.clone(), None)), &io["logits"].values);
            let p = Difference::between(&values(d.probability(x, None)), &io["output"].values);
            eprintln!(
                "{} on ndarray: logits {logits}; probabilities {p}",
                file.display()
            );
            assert!(logits.relative() <= 1e-5, "{}: {logits}", file.display());
            assert!(p.relative() <= 1e-5, "{}: {p}", file.display());
        }
    }

    #[test]
    fn every_architecture_round_trips_under_pytorchs_names() {
        let dir = tempfile::tempdir().unwrap();
        let device = Default::default();
        for config in [
            GanConfig::new(),
            GanConfig::new().with_classes(10),
            GanConfig::new().with_arch(Arch::Conv).with_width(4),
        ] {
            let g = config.init_generator::<NdArray>(&device);
            let d = config.init_discriminator::<NdArray>(&device);
            let (gf, df) = (
                dir.path().join("g.safetensors"),
                dir.path().join("d.safetensors"),
            );
            save_generator(&g, &config, &gf).unwrap();
            save_discriminator(&d, &config, &df).unwrap();
            let z = Tensor::<NdArray, 2>::ones([2, config.latent_dim], &device);
            let labels = (config.classes > 0)
                .then(|| Tensor::<NdArray, 2>::ones([2, config.classes], &device));
            let image = g.forward(z.clone(), labels.clone());
            let g2 = load_generator::<NdArray>(&config, &gf, &device).unwrap();
            assert_eq!(
                g2.forward(z, labels.clone()).into_data(),
                image.clone().into_data()
            );
            let d2 = load_discriminator::<NdArray>(&config, &df, &device).unwrap();
            assert_eq!(
                d2.forward(image.clone(), labels.clone()).into_data(),
                d.forward(image, labels).into_data()
            );
        }
        let state = read_state_dict(&dir.path().join("g.safetensors")).unwrap();
        assert_eq!(state["0.weight"].shape, vec![100, 8, 7, 7]);
        assert_eq!(state["4.running_var"].shape, vec![4]);
    }

    #[test]
    fn a_discriminator_file_is_not_a_generator() {
        let dir = tempfile::tempdir().unwrap();
        let config = GanConfig::new();
        let file = dir.path().join("d.safetensors");
        let d = config.init_discriminator::<NdArray>(&Default::default());
        save_discriminator(&d, &config, &file).unwrap();
        let e = load_generator::<NdArray>(&config, &file, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "tensor '0.weight' has shape [512, 784], expected [256, 100] for this architecture"
            ),
            "{e}"
        );
    }
}
