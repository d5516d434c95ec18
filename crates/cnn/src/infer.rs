//! Inference from a saved run: [`load`] reads an artifact directory written by
//! [`crate::train::run`] (`config.json`, `model.mpk`); [`SavedCnn::probabilities`] classifies
//! one image, [`load_image`] reads a user's PNG or PGM/PPM as the network's grayscale square
//! input, and [`top_k`] ranks the classes.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::tensor::activation::softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use zoo_data::DataError;
use zoo_data::data::Dataset;
use zoo_data::images::ImageDataset;
use zoo_train::checkpoint::{ModelId, load_model};
use zoo_train::train::{Evaluation, to_vec_f32};
use zoo_train::{Objective, TrainError};

use crate::Network;
use crate::data::{MEAN, STD};
use crate::train::CnnJob;

/// A trained CNN loaded from an artifact directory (`config.json` + `model.mpk`).
pub struct SavedCnn<B: Backend> {
    /// The run's configuration.
    pub job: CnnJob,
    /// The model.
    pub model: Network<B>,
}

/// Loads the model a run saved in `dir`. A missing or foreign `config.json`, or a model file of
/// another architecture, is an error naming the file.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<SavedCnn<B>, TrainError> {
    let config = dir.join("config.json");
    let job: CnnJob = zoo_train::artifacts::read_json(&config, "a CNN run configuration")?;
    job.model
        .validate()
        .map_err(|reason| TrainError::Checkpoint {
            path: config.clone(),
            reason,
        })?;
    let id = ModelId::new("cnn", &job.model, "f32");
    let file = dir.join("model.mpk");
    // The file holds the record of the architecture's own network type (see `Network`).
    let model = match job.model.init::<B>(device) {
        Network::Tutorial(m) => Network::Tutorial(load_model::<B, _>(m, &file, &id, device)?),
        Network::LeNet5(m) => Network::LeNet5(load_model::<B, _>(m, &file, &id, device)?),
        Network::ResNet(m) => Network::ResNet(load_model::<B, _>(m, &file, &id, device)?),
    };
    Ok(SavedCnn { job, model })
}

impl<B: Backend> SavedCnn<B> {
    /// Class probabilities of one grayscale image (`size x size` pixels, 0–255).
    pub fn probabilities(&self, pixels: &[u8], device: &B::Device) -> Result<Vec<f32>, TrainError> {
        let s = self.job.model.image_size;
        let set = zoo_data::idx::ImageSet {
            images: pixels.to_vec(),
            labels: vec![0],
            rows: s,
            cols: s,
        };
        let x = ImageDataset::new(&set, MEAN, STD).inputs::<B>(&[0], device);
        to_vec_f32(softmax(self.model.forward(x), 1))
    }
}

/// The test-set evaluation of `model` (a CNN of `job.model`'s architecture: a saved run's, or
/// PyTorch's weights through [`crate::pytorch::load`]) on `job`'s data: loss, accuracy and
/// the other classification metrics, and the confusion matrix.
pub fn evaluate<B: Backend>(
    job: &CnnJob,
    model: &Network<B>,
    bundled: &Path,
    device: &B::Device,
) -> Result<Evaluation, TrainError> {
    let data = crate::data::load_data(job, bundled)?;
    let objective = Objective::Classification {
        num_classes: job.model.num_classes,
    };
    zoo_train::train::evaluate(model, &data.test, objective, 256, None, device)
}

/// The model of an autodiff run on its inner backend (for inference after training).
pub fn inference_model<B: AutodiffBackend>(m: &Network<B>) -> Network<B::InnerBackend> {
    m.valid()
}

/// Loads an image, converts it to 8-bit grayscale and resizes it to `size x size`. MNIST digits
/// are light on dark: an image whose border is mostly light (a dark digit on white paper) is
/// inverted.
pub fn load_image(path: &Path, size: u32) -> Result<Vec<u8>, DataError> {
    if path.is_dir() {
        return Err(DataError::format(path, "is a directory, not an image"));
    }
    let reader = image::ImageReader::open(path).map_err(|e| DataError::io(path, e))?;
    let reader = reader
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?;
    let img = reader
        .decode()
        .map_err(|e| DataError::format(path, format!("not a readable PNG or PGM image: {e}")))?;
    let gray = image::imageops::resize(
        &img.to_luma8(),
        size,
        size,
        image::imageops::FilterType::Triangle,
    );
    let mut px = gray.into_raw();
    let s = size as usize;
    let border: Vec<u8> = (0..s)
        .flat_map(|i| [px[i], px[(s - 1) * s + i], px[i * s], px[i * s + s - 1]])
        .collect();
    let mean = border.iter().map(|&v| v as f64).sum::<f64>() / border.len() as f64;
    if mean > 127.0 {
        px.iter_mut().for_each(|v| *v = 255 - *v);
    }
    Ok(px)
}

/// The `k` most probable classes, most probable first.
pub fn top_k(probs: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut idx: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
    idx.sort_by(|a, b| b.1.total_cmp(&a.1));
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_to_the_same_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.png");
        let pixels: Vec<u8> = (0..28 * 28)
            .map(|i| {
                if (i / 28) % 7 == 3 {
                    255
                } else {
                    (i % 5) as u8
                }
            })
            .collect();
        image::GrayImage::from_raw(28, 28, pixels.clone())
            .unwrap()
            .save(&p)
            .unwrap();
        assert_eq!(load_image(&p, 28).unwrap(), pixels);
    }

    #[test]
    fn dark_on_light_is_inverted_and_resized() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.pgm");
        let mut img = image::GrayImage::from_pixel(56, 56, image::Luma([255]));
        for y in 20..36 {
            for x in 26..30 {
                img.put_pixel(x, y, image::Luma([0]));
            }
        }
        img.save(&p).unwrap();
        let px = load_image(&p, 28).unwrap();
        assert_eq!(px.len(), 784);
        assert_eq!(px[0], 0, "white background becomes black");
        assert!(px[14 * 28 + 14] > 200, "the black stroke becomes white");
    }

    #[test]
    fn non_images_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.png");
        std::fs::write(&p, b"this is text").unwrap();
        let e = load_image(&p, 28).unwrap_err().to_string();
        assert!(
            e.contains("notes.png") && e.contains("not a readable"),
            "{e}"
        );
        let e = load_image(dir.path(), 28).unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");
        let e = load_image(&dir.path().join("missing.png"), 28)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.png"), "{e}");
    }

    #[test]
    fn top_k_orders_by_probability() {
        assert_eq!(top_k(&[0.1, 0.6, 0.3], 2), vec![(1, 0.6), (2, 0.3)]);
    }
}
