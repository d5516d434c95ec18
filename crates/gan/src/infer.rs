//! Inference from a saved run: [`load_generator`] reads an artifact directory written by
//! [`crate::train::run`] (`config.json`, `generator.mpk`); [`write_samples`] draws images from
//! it and [`evaluate_saved`] measures it again.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use zoo_train::adversarial::{generate_pixels, latent_noise};
use zoo_train::artifacts::{atomic_write, write_json};
use zoo_train::checkpoint::load_model;
use zoo_train::train::{derive_seed, to_vec_f32};
use zoo_train::TrainError;

use crate::quality::{measure, Classifier, GanQuality};
use crate::train::{load_data, model_id, Assets, GanJob};
use crate::Generator;

/// A generator loaded from a run directory (`config.json` + `generator.mpk`).
pub struct SavedGenerator<B: Backend> {
    /// The run's configuration.
    pub job: GanJob,
    /// The generator.
    pub generator: Generator<B>,
}

/// Loads the generator a run saved in `dir`; a missing or foreign file is an error naming it.
pub fn load_generator<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<SavedGenerator<B>, TrainError> {
    let config = dir.join("config.json");
    let job: GanJob = zoo_train::artifacts::read_json(&config, "a GAN run configuration")?;
    job.model
        .validate()
        .map_err(|reason| TrainError::Checkpoint {
            path: config.clone(),
            reason,
        })?;
    let generator = load_model::<B, _>(
        job.model.init_generator::<B>(device),
        &dir.join("generator.mpk"),
        &model_id(&job, "f32"),
        device,
    )?;
    Ok(SavedGenerator { job, generator })
}

/// Measures the generator saved in `dir` again (e.g. with more samples or another classifier):
/// the run's data and seed, `samples` generated images (default: the run's), `classifier`
/// (default: the run's, else the bundled one). Writes `quality.json` into `dir`.
pub fn evaluate_saved<B: Backend>(
    dir: &Path,
    assets: &Assets<'_>,
    samples: Option<usize>,
    classifier: Option<&Path>,
    device: &B::Device,
) -> Result<GanQuality, TrainError> {
    let saved = load_generator::<B>(dir, device)?;
    let mut job = saved.job;
    if let Some(n) = samples {
        job.quality_samples = n;
    }
    if let Some(c) = classifier {
        job.classifier = Some(c.to_path_buf());
    }
    if job.quality_samples < 200 {
        return Err(TrainError::Invalid(format!(
            "quality_samples must be at least 200 to measure (got {})",
            job.quality_samples
        )));
    }
    let data = load_data(&job, assets.mnist_sample)?;
    let classifier = Classifier::<B>::load(&job.classifier_dir(assets.classifier), device)?;
    let q = measure(
        &saved.generator,
        &classifier,
        &data.train,
        &data.test,
        job.quality_samples,
        job.train.seed,
        device,
    )?;
    write_json(&dir.join("quality.json"), &q)?;
    Ok(q)
}

/// Writes `n` generated images as `sample_NNNN.png` (28×28 grayscale) into `out`, from noise
/// seeded by `seed`; `digit` picks the class of a conditional generator (required for one,
/// refused for an unconditional one). Returns the paths written.
pub fn write_samples<B: Backend>(
    generator: &Generator<B>,
    n: usize,
    digit: Option<usize>,
    out: &Path,
    seed: u64,
    device: &B::Device,
) -> Result<Vec<PathBuf>, TrainError> {
    use zoo_train::adversarial::ImageGenerator;
    let classes = generator.classes();
    let label =
        match (classes, digit) {
            (0, Some(_)) => return Err(TrainError::Invalid(
                "digit: this generator is not conditional (train a conditional GAN, Variant::Cgan)"
                    .into(),
            )),
            (0, None) => 0,
            (c, Some(d)) if d < c => d,
            (c, Some(d)) => {
                return Err(TrainError::Invalid(format!(
                    "digit {d}: the generator knows classes 0 to {}",
                    c - 1
                )))
            }
            (_, None) => {
                return Err(TrainError::Invalid(
                    "digit: this generator is conditional and needs a class".into(),
                ))
            }
        };
    std::fs::create_dir_all(out).map_err(|source| TrainError::Io {
        path: out.into(),
        source,
    })?;
    let mut rng =
        <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(derive_seed(seed, 0x6E4E));
    let mut paths = Vec::with_capacity(n);
    let idx: Vec<usize> = (0..n).collect();
    for chunk in idx.chunks(256) {
        let z = to_vec_f32(latent_noise::<B>(
            &mut rng,
            chunk.len(),
            generator.latent_dim(),
            device,
        ))?;
        let labels = vec![label; chunk.len()];
        let (px, dims) = generate_pixels(generator, &z, &labels, device)?;
        let (h, w) = (dims[2], dims[3]);
        for (k, &i) in chunk.iter().enumerate() {
            let path = out.join(format!("sample_{i:04}.png"));
            let mut bytes = Vec::new();
            image::ImageEncoder::write_image(
                image::codecs::png::PngEncoder::new(&mut bytes),
                &px[k * h * w..(k + 1) * h * w],
                w as u32,
                h as u32,
                image::ExtendedColorType::L8,
            )
            .map_err(|e| TrainError::Io {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            atomic_write(&path, &bytes)?;
            paths.push(path);
        }
    }
    Ok(paths)
}
