//! Inference from a saved run: [`load_generator`] reads an artifact directory written by
//! [`crate::train::run`] (`config.json`, `generator.mpk`); [`write_samples`] draws images from
//! it and [`evaluate_saved`] measures it again.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use zoo_train::TrainError;
use zoo_train::adversarial::{generate_pixels, latent_noise};
use zoo_train::artifacts::{atomic_write, write_json};
use zoo_train::checkpoint::load_model;
use zoo_train::train::{derive_seed, to_vec_f32};

use crate::Generator;
use crate::quality::{Classifier, GanQuality, measure};
use crate::train::{Assets, GanJob, load_data, model_id};

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
    job.validate().map_err(TrainError::Invalid)?;
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

/// How [`write_samples`] lays out and bounds what it writes.
#[derive(Clone, Copy, Debug)]
pub struct SampleLimits {
    /// Images per folder: up to this many go straight into `out`; more go into numbered
    /// sub-folders of this many each (`out/000/`, `out/001/`, …), so no folder grows past it.
    pub per_folder: usize,
    /// The most images one call writes; more is refused before anything is written.
    pub max_images: usize,
    /// Progress display (a bar on a terminal) for more than `per_folder` images.
    pub progress: zoo_train::ProgressMode,
}

impl Default for SampleLimits {
    /// 1,000 files per folder, at most 100,000 images (about 400 MB on a file system of 4 KiB
    /// blocks), no progress display.
    fn default() -> Self {
        Self {
            per_folder: 1000,
            max_images: 100_000,
            progress: zoo_train::ProgressMode::Quiet,
        }
    }
}

/// What [`write_samples`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    /// The output directory.
    pub out: PathBuf,
    /// Images written.
    pub count: usize,
    /// Their bytes.
    pub bytes: u64,
    /// `per_folder` of the limits they were written with.
    per_folder: usize,
}

impl Samples {
    /// Where image `i` (0-based) of `count` images is: `out/sample_NNNN.png`, or
    /// `out/FFF/sample_NNNNNN.png` past `per_folder` images.
    pub fn path(&self, i: usize) -> PathBuf {
        sample_path(&self.out, i, self.count, self.per_folder)
    }
}

fn digits(n: usize) -> usize {
    n.max(1).ilog10() as usize + 1
}

fn sample_path(out: &Path, i: usize, n: usize, per_folder: usize) -> PathBuf {
    let width = digits(n.saturating_sub(1)).max(4);
    let name = format!("sample_{i:0width$}.png");
    if n <= per_folder {
        out.join(name)
    } else {
        let folders = digits((n - 1) / per_folder).max(3);
        out.join(format!("{:0folders$}", i / per_folder)).join(name)
    }
}

/// Writes `n` generated images (28×28 grayscale PNG) into `out`, from noise seeded by `seed`;
/// `digit` picks the class of a conditional generator (required for one, refused for an
/// unconditional one). `limits` bounds it: more than `max_images` is refused, past
/// `per_folder` images they go into sub-folders ([`Samples::path`] says where each is), and
/// before the first file is written the space they need (estimated from the first batch's
/// encoded size, in whole blocks) is checked against the file system's free space. Each file
/// is written whole (temporary file, then rename). A stop asked for meanwhile
/// ([`zoo_train::interrupt`]) ends it after the current image with [`TrainError::Stopped`];
/// the images written by then are complete.
pub fn write_samples<B: Backend>(
    generator: &Generator<B>,
    n: usize,
    digit: Option<usize>,
    out: &Path,
    seed: u64,
    limits: &SampleLimits,
    device: &B::Device,
) -> Result<Samples, TrainError> {
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
                )));
            }
            (_, None) => {
                return Err(TrainError::Invalid(
                    "digit: this generator is conditional and needs a class".into(),
                ));
            }
        };
    if n > limits.max_images {
        return Err(TrainError::Invalid(format!(
            "max_images is {} and {n} images were asked for (one file each); raise it to \
             write more",
            limits.max_images
        )));
    }
    let per_folder = limits.per_folder.max(1);
    std::fs::create_dir_all(out).map_err(|source| TrainError::Io {
        path: out.into(),
        source,
    })?;
    let mut rng =
        <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(derive_seed(seed, 0x6E4E));
    let mut written = Samples {
        out: out.to_path_buf(),
        count: 0,
        bytes: 0,
        per_folder,
    };
    let mut progress =
        (n > per_folder).then(|| zoo_train::progress::Counter::new(limits.progress, n, "images"));
    let mut start = 0;
    while start < n {
        let len = (n - start).min(256);
        let z = to_vec_f32(latent_noise::<B>(
            &mut rng,
            len,
            generator.latent_dim(),
            device,
        ))?;
        let labels = vec![label; len];
        let (px, dims) = generate_pixels(generator, &z, &labels, device)?;
        let (h, w) = (dims[2], dims[3]);
        let mut files = Vec::with_capacity(len);
        for k in 0..len {
            let mut bytes = Vec::new();
            image::ImageEncoder::write_image(
                image::codecs::png::PngEncoder::new(&mut bytes),
                &px[k * h * w..(k + 1) * h * w],
                w as u32,
                h as u32,
                image::ExtendedColorType::L8,
            )
            .map_err(|e| TrainError::Invalid(format!("cannot encode a PNG: {e}")))?;
            files.push(bytes);
        }
        if start == 0 {
            check_space(out, n, &files)?;
        }
        for (k, bytes) in files.iter().enumerate() {
            let i = start + k;
            zoo_train::interrupt::check(|| {
                format!(
                    "after writing {i} of {n} images into {}; each of them is complete",
                    out.display()
                )
            })?;
            let path = sample_path(out, i, n, per_folder);
            if i % per_folder == 0
                && let Some(dir) = path.parent()
            {
                std::fs::create_dir_all(dir).map_err(|source| TrainError::Io {
                    path: dir.into(),
                    source,
                })?;
            }
            atomic_write(&path, bytes)?;
            written.count += 1;
            written.bytes += bytes.len() as u64;
        }
        if let Some(p) = &mut progress {
            p.inc(len);
        }
        start += len;
    }
    Ok(written)
}

/// Refuses to start when `n` files like `first` (whole blocks each, plus a block per folder of
/// a thousand) would not fit in the free space of `out`'s file system.
fn check_space(out: &Path, n: usize, first: &[Vec<u8>]) -> Result<(), TrainError> {
    let Ok((free, block)) = zoo_data::fs::free_space(out) else {
        return Ok(()); // Not measurable here: the writes report a full disk themselves.
    };
    let mean = first.iter().map(|b| b.len() as u64).sum::<u64>() / first.len().max(1) as u64;
    let per_file = mean.div_ceil(block).max(1) * block;
    let need = per_file * n as u64 + (n as u64 / 1000 + 1) * block;
    if need > free {
        let mb = |b: u64| b as f64 / 1e6;
        return Err(TrainError::Invalid(format!(
            "{}: {n} images need about {:.1} MB ({per_file} bytes each on this file system), \
             and only {:.1} MB are free",
            out.display(),
            mb(need),
            mb(free)
        )));
    }
    Ok(())
}
