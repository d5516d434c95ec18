//! How good a generator's samples are, measured with the zoo's own MNIST classifier.
//!
//! - **Classifier-feature FID** (not Inception FID, and not comparable to published Inception
//!   numbers): the Fréchet distance between Gaussian fits of the seed CNN's penultimate-layer
//!   features (128 ReLU units) of real test images and of generated images,
//!   `‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁^½ Σ₂ Σ₁^½)^½)`, computed in f64 with symmetric
//!   eigen-decompositions. The same distance between real training and real test images is
//!   reported as the floor.
//! - **Mode coverage**: the classifier's predicted-digit histogram of the generated images, its
//!   entropy (log₂ 10 ≈ 3.32 bits is uniform), the digits covered, the mean confidence, and for
//!   a conditional generator how often the classifier reads the digit that was asked for.
//! - **Classifier score**: the Inception Score formula with the same classifier.

use std::path::Path;

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use nalgebra::{DMatrix, SymmetricEigen};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use zoo_cnn::Network;
use zoo_cnn::infer::{SavedCnn, load as load_saved};
use zoo_data::data::Dataset;
use zoo_data::images::ImageDataset;
use zoo_train::TrainError;
use zoo_train::adversarial::{ImageGenerator, generate_pixels};
use zoo_train::train::{derive_seed, to_vec_f32};

/// A digit counts as covered when the classifier assigns it at least this share of samples.
pub const COVERED_SHARE: f64 = 0.01;

/// Mean and covariance of feature vectors, in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    /// Mean, `dim` values.
    pub mean: Vec<f64>,
    /// Covariance (unbiased, divided by n − 1), `dim × dim` row-major.
    pub cov: Vec<f64>,
    /// Dimension.
    pub dim: usize,
}

impl Gaussian {
    /// Fits rows of `features` (`n × dim`, row-major). Needs at least two rows.
    pub fn fit(features: &[f32], dim: usize) -> Result<Self, String> {
        let n = features.len() / dim.max(1);
        if dim == 0 || n < 2 || features.len() != n * dim {
            return Err(format!(
                "a Gaussian fit needs at least 2 rows of {dim} features (got {} values)",
                features.len()
            ));
        }
        let mut mean = vec![0f64; dim];
        for row in features.chunks(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centred = DMatrix::from_fn(n, dim, |i, j| features[i * dim + j] as f64 - mean[j]);
        let cov = (centred.transpose() * &centred) / (n - 1) as f64;
        Ok(Self {
            mean,
            cov: cov.transpose().as_slice().to_vec(),
            dim,
        })
    }

    fn cov_matrix(&self) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.dim, self.dim, &self.cov)
    }
}

/// Square root of a symmetric positive semi-definite matrix (eigenvalues below 0, from
/// rounding, are taken as 0).
fn sqrt_psd(m: DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(m);
    let roots = eig.eigenvalues.map(|v| v.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&roots) * eig.eigenvectors.transpose()
}

/// The Fréchet distance between two Gaussians:
/// `‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁^½ Σ₂ Σ₁^½)^½)`. The last trace equals
/// `tr((Σ₁Σ₂)^½)` and is computed through symmetric matrices only, so it is real and stable.
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> Result<f64, String> {
    if a.dim != b.dim {
        return Err(format!("feature dimensions differ: {} vs {}", a.dim, b.dim));
    }
    let mean: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y).powi(2))
        .sum();
    let (s1, s2) = (a.cov_matrix(), b.cov_matrix());
    let r1 = sqrt_psd(s1.clone());
    let mut inner = &r1 * &s2 * &r1;
    inner = (&inner + inner.transpose()) * 0.5;
    let cross: f64 = SymmetricEigen::new(inner)
        .eigenvalues
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum();
    Ok((mean + s1.trace() + s2.trace() - 2.0 * cross).max(0.0))
}

/// The zoo's MNIST classifier (a saved seed-CNN run) used as the feature extractor.
pub struct Classifier<B: Backend> {
    model: Network<B>,
    /// Its test accuracy, read from the run's `report.json` when present.
    pub test_accuracy: Option<f64>,
    /// Where it was loaded from.
    pub source: String,
}

impl<B: Backend> Classifier<B> {
    /// Loads the CNN run saved in `dir` (`config.json`, `model.mpk`, `model.json`; its
    /// `report.json` supplies the stated accuracy).
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, TrainError> {
        let SavedCnn { job, model } = load_saved::<B>(dir, device)?;
        if job.model.image_size != 28 || job.model.num_classes != 10 {
            return Err(TrainError::Invalid(format!(
                "{}: the GAN metrics need a 10-class 28x28 classifier",
                dir.display()
            )));
        }
        let test_accuracy = std::fs::read(dir.join("report.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|r| r["test"]["metrics"]["accuracy"].as_f64());
        Ok(Self {
            model,
            test_accuracy,
            source: dir.display().to_string(),
        })
    }

    /// Penultimate features (`n × 128`) and class probabilities (`n × 10`) of images already
    /// normalised to `[-1, 1]` (the CNN's `Normalize(0.5, 0.5)`; a generator's tanh output).
    pub fn features_and_probs(&self, x: Tensor<B, 4>) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let f = self.model.features(x);
        let logits = self.model.head(f.clone());
        Ok((to_vec_f32(f)?, to_vec_f32(softmax(logits, 1))?))
    }

    /// Features and probabilities of the whole of `data`, in batches.
    pub fn dataset_features(
        &self,
        data: &ImageDataset,
        limit: usize,
        device: &B::Device,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let idx: Vec<usize> = (0..data.len().min(limit)).collect();
        let (mut f, mut p) = (Vec::new(), Vec::new());
        for chunk in idx.chunks(500) {
            zoo_train::interrupt::check(|| {
                format!("while measuring sample quality, after {} images", chunk[0])
            })?;
            let (a, b) = self.features_and_probs(data.inputs::<B>(chunk, device))?;
            f.extend(a);
            p.extend(b);
        }
        Ok((f, p))
    }
}

/// The quality numbers of a generator, as written to `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanQuality {
    /// What the features are.
    pub feature_space: String,
    /// The classifier's run directory.
    pub classifier: String,
    /// The classifier's test accuracy.
    pub classifier_test_accuracy: Option<f64>,
    /// Generated images measured.
    pub generated_samples: usize,
    /// Real test images the generated ones are compared with.
    pub real_samples: usize,
    /// Classifier-feature FID, generated vs real test images (lower is better).
    pub fid: f64,
    /// Classifier-feature FID, real training vs real test images: the floor.
    pub fid_floor_train_vs_test: f64,
    /// Generated images per predicted digit 0–9.
    pub digit_histogram: Vec<usize>,
    /// Entropy of the predicted-digit distribution, bits (uniform over 10: 3.32).
    pub digit_entropy_bits: f64,
    /// Digits predicted for at least 1% of the generated images.
    pub digits_covered: usize,
    /// Mean top-class probability over generated images.
    pub mean_confidence: f64,
    /// Conditional generator: share of images classified as the digit asked for.
    pub label_accuracy: Option<f64>,
    /// The Inception Score computed with the zoo classifier instead of Inception:
    /// `exp(E_x KL(p(y|x) ‖ p(y)))`, 1 (one digit, or no confidence) to 10 (confident and
    /// uniform over the digits). Real test digits score [`GanQuality::classifier_score_real`].
    pub classifier_score: f64,
    /// The same score of the real test images: the ceiling for this classifier.
    pub classifier_score_real: f64,
}

/// Coverage numbers of class probabilities (`n × 10`): histogram, entropy in bits, digits
/// covered, mean confidence, and the agreement with `asked` labels when given.
pub fn coverage(
    probs: &[f32],
    asked: Option<&[usize]>,
) -> (Vec<usize>, f64, usize, f64, Option<f64>) {
    let n = probs.len() / 10;
    let mut hist = vec![0usize; 10];
    let (mut conf, mut agree) = (0f64, 0usize);
    for (i, row) in probs.chunks(10).enumerate() {
        let (best, p) = row
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |a, (k, &v)| if v > a.1 { (k, v) } else { a });
        hist[best] += 1;
        conf += p as f64;
        if asked.is_some_and(|a| a.get(i) == Some(&best)) {
            agree += 1;
        }
    }
    let entropy = hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let q = c as f64 / n.max(1) as f64;
            -q * q.log2()
        })
        .sum::<f64>()
        .max(0.0);
    let covered = hist
        .iter()
        .filter(|&&c| c as f64 >= COVERED_SHARE * n as f64 && c > 0)
        .count();
    (
        hist,
        entropy,
        covered,
        conf / n.max(1) as f64,
        asked.map(|_| agree as f64 / n.max(1) as f64),
    )
}

/// The Inception Score formula on class probabilities (`n × k`): `exp(mean_x KL(p(y|x) ‖ p̄(y)))`
/// with `p̄` the mean prediction, in f64.
pub fn classifier_score(probs: &[f32], k: usize) -> f64 {
    let n = probs.len() / k.max(1);
    if n == 0 {
        return 1.0;
    }
    let mut mean = vec![0f64; k];
    for row in probs.chunks(k) {
        for (m, &p) in mean.iter_mut().zip(row) {
            *m += p as f64 / n as f64;
        }
    }
    let kl: f64 = probs
        .chunks(k)
        .map(|row| {
            row.iter()
                .zip(&mean)
                .filter(|&(&p, _)| p > 0.0)
                .map(|(&p, &m)| p as f64 * ((p as f64).ln() - m.ln()))
                .sum::<f64>()
        })
        .sum();
    (kl / n as f64).exp()
}

/// Measures `generator`: `samples` images from seeded noise (for a conditional generator, the
/// digits 0–9 in turn), through 8-bit pixels as they are saved and seen, then
/// [`measure_images`].
pub fn measure<B: Backend, G: ImageGenerator<B>>(
    generator: &G,
    classifier: &Classifier<B>,
    train: &ImageDataset,
    test: &ImageDataset,
    samples: usize,
    seed: u64,
    device: &B::Device,
) -> Result<GanQuality, TrainError> {
    let classes = generator.classes();
    let labels: Vec<usize> = (0..samples)
        .map(|k| if classes > 0 { k % classes } else { 0 })
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(derive_seed(seed, 0x5A3E_0F1D));
    let mut set = zoo_data::idx::ImageSet {
        images: Vec::new(),
        labels: vec![0; samples],
        rows: 0,
        cols: 0,
    };
    for (k, chunk) in labels.chunks(500).enumerate() {
        zoo_train::interrupt::check(|| {
            format!(
                "while generating images to measure, after {} of {samples}",
                k * 500
            )
        })?;
        let z = zoo_train::adversarial::latent_noise::<B>(
            &mut rng,
            chunk.len(),
            generator.latent_dim(),
            device,
        );
        let z = to_vec_f32(z)?;
        let (px, dims) = generate_pixels(generator, &z, chunk, device)?;
        set.images.extend(px);
        (set.rows, set.cols) = (dims[2], dims[3]);
    }
    measure_images(
        &set,
        (classes > 0).then_some(&labels[..]),
        classifier,
        train,
        test,
        device,
    )
}

/// Measures generated 8-bit images (`generated`, e.g. another framework's samples) against the
/// real `test` images (and `train` vs `test` for the floor); `asked`: the digit each image was
/// generated for, for a conditional generator.
pub fn measure_images<B: Backend>(
    generated: &zoo_data::idx::ImageSet,
    asked: Option<&[usize]>,
    classifier: &Classifier<B>,
    train: &ImageDataset,
    test: &ImageDataset,
    device: &B::Device,
) -> Result<GanQuality, TrainError> {
    let dim = 128;
    let samples = generated.labels.len();
    if samples < 2 {
        return Err(TrainError::Invalid(format!(
            "at least 2 generated images are needed for a FID (got {samples})"
        )));
    }
    let (test_f, test_p) = classifier.dataset_features(test, usize::MAX, device)?;
    let (train_f, _) = classifier.dataset_features(train, samples.max(test.len()), device)?;
    let (mut gen_f, mut gen_p) = (Vec::new(), Vec::new());
    let px = generated.rows * generated.cols;
    for (k, chunk) in generated.images.chunks(500 * px).enumerate() {
        let n = chunk.len() / px;
        let set = zoo_data::idx::ImageSet {
            images: chunk.to_vec(),
            labels: generated.labels[k * 500..k * 500 + n].to_vec(),
            rows: generated.rows,
            cols: generated.cols,
        };
        let data = ImageDataset::new(&set, 0.5, 0.5);
        let (f, p) = classifier.dataset_features(&data, usize::MAX, device)?;
        gen_f.extend(f);
        gen_p.extend(p);
    }
    let fit = |f: &[f32]| Gaussian::fit(f, dim).map_err(TrainError::Invalid);
    let real = fit(&test_f)?;
    let fid = frechet_distance(&fit(&gen_f)?, &real).map_err(TrainError::Invalid)?;
    let floor = frechet_distance(&fit(&train_f)?, &real).map_err(TrainError::Invalid)?;
    let (digit_histogram, digit_entropy_bits, digits_covered, mean_confidence, label_accuracy) =
        coverage(&gen_p, asked);
    Ok(GanQuality {
        feature_space: "zoo seed-CNN penultimate layer (128 ReLU features); not Inception FID"
            .into(),
        classifier: classifier.source.clone(),
        classifier_test_accuracy: classifier.test_accuracy,
        generated_samples: samples,
        real_samples: test.len(),
        fid,
        fid_floor_train_vs_test: floor,
        digit_histogram,
        digit_entropy_bits,
        digits_covered,
        mean_confidence,
        label_accuracy,
        classifier_score: classifier_score(&gen_p, 10),
        classifier_score_real: classifier_score(&test_p, 10),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(mean: &[f64], var: &[f64]) -> Gaussian {
        let d = mean.len();
        let mut cov = vec![0.0; d * d];
        for i in 0..d {
            cov[i * d + i] = var[i];
        }
        Gaussian {
            mean: mean.to_vec(),
            cov,
            dim: d,
        }
    }

    #[test]
    fn frechet_distance_of_diagonal_gaussians_has_its_closed_form() {
        // Σ (μ₁ − μ₂)² + Σ (σ₁ − σ₂)² for diagonal covariances.
        let a = diag(&[0.0, 1.0, 2.0], &[1.0, 4.0, 9.0]);
        let b = diag(&[1.0, 1.0, 0.0], &[4.0, 4.0, 1.0]);
        let want = (1.0 + 0.0 + 4.0) + (1.0 + 0.0 + 4.0);
        let got = frechet_distance(&a, &b).unwrap();
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        assert!(frechet_distance(&a, &a).unwrap().abs() < 1e-9);
    }

    #[test]
    fn frechet_distance_with_full_covariances() {
        // Σ₁ = [[2,1],[1,2]], Σ₂ = I: tr Σ₁ + tr I − 2 tr Σ₁^½, and Σ₁^½ has eigenvalues
        // √3 and 1, so the distance is 4 + 2 − 2(√3 + 1) plus the mean term 2.
        let a = Gaussian {
            mean: vec![1.0, 1.0],
            cov: vec![2.0, 1.0, 1.0, 2.0],
            dim: 2,
        };
        let b = diag(&[0.0, 0.0], &[1.0, 1.0]);
        let want = 2.0 + 6.0 - 2.0 * (3f64.sqrt() + 1.0);
        let got = frechet_distance(&a, &b).unwrap();
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        // Symmetric in its arguments.
        assert!((frechet_distance(&b, &a).unwrap() - want).abs() < 1e-9);
    }

    #[test]
    fn identical_samples_are_at_distance_zero() {
        let f: Vec<f32> = (0..3000).map(|i| ((i * 37 % 101) as f32).sin()).collect();
        let g = Gaussian::fit(&f, 6).unwrap();
        assert!(frechet_distance(&g, &g).unwrap() < 1e-9);
        // Unbiased covariance of a known sample: var of [1, 2, 3, 4] is 5/3.
        let g = Gaussian::fit(&[1.0, 2.0, 3.0, 4.0], 1).unwrap();
        assert_eq!(g.mean, vec![2.5]);
        assert!((g.cov[0] - 5.0 / 3.0).abs() < 1e-12);
        assert!(Gaussian::fit(&[1.0], 1).is_err());
    }

    #[test]
    fn classifier_score_bounds_and_a_hand_computed_case() {
        // Confident and uniform over 10 classes: 10. One class only: 1.
        let mut uniform = vec![0f32; 100];
        for i in 0..10 {
            uniform[i * 10 + i] = 1.0;
        }
        assert!((classifier_score(&uniform, 10) - 10.0).abs() < 1e-9);
        let one: Vec<f32> = (0..50)
            .map(|i| if i % 10 == 3 { 1.0 } else { 0.0 })
            .collect();
        assert!((classifier_score(&one, 10) - 1.0).abs() < 1e-9);
        // Two samples, two classes: p = (0.8, 0.2) and (0.2, 0.8); p̄ = (0.5, 0.5);
        // KL = 0.8 ln 1.6 + 0.2 ln 0.4 for each.
        let p = [0.8f32, 0.2, 0.2, 0.8];
        let want = (0.8f64 * 1.6f64.ln() + 0.2 * 0.4f64.ln()).exp();
        assert!((classifier_score(&p, 2) - want).abs() < 1e-6);
    }

    #[test]
    fn coverage_counts_digits_entropy_and_agreement() {
        // Four samples: predicted 0, 0, 1, 2 with confidences 0.9, 0.5, 1.0, 0.6.
        let mut p = vec![0f32; 40];
        for (i, (k, c)) in [(0, 0.9), (0, 0.5), (1, 1.0), (2, 0.6)].iter().enumerate() {
            p[i * 10 + k] = *c;
            p[i * 10 + 9] = (1.0 - c) / 2.0;
        }
        let (hist, h, covered, conf, acc) = coverage(&p, Some(&[0, 1, 1, 2]));
        assert_eq!(&hist[..3], &[2, 1, 1]);
        assert_eq!(covered, 3);
        assert!((h - 1.5).abs() < 1e-12, "{h}");
        assert!((conf - 0.75).abs() < 1e-6);
        assert_eq!(acc, Some(0.75));
    }
}
