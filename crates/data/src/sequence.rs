//! Sequence data for the recurrent models: dense `[batch, time, features]` sequences
//! ([`SequenceDataset`]), the adding problem ([`adding_problem`]) and images read row by row
//! ([`RowImages`], row-MNIST).

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::{Dataset, Targets, gather_rows};
use crate::images::ImageDataset;

/// Fixed-length sequences in memory, row-major `[len, steps, features]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceDataset {
    /// The values, sample after sample, step after step.
    pub values: Vec<f32>,
    /// Time steps per sample.
    pub steps: usize,
    /// Features per step.
    pub features: usize,
    /// One target per sample.
    pub targets: Targets,
}

impl SequenceDataset {
    /// Values of sample `i`, `steps * features` of them.
    pub fn sample(&self, i: usize) -> &[f32] {
        let w = self.steps * self.features;
        &self.values[i * w..(i + 1) * w]
    }
}

impl Dataset for SequenceDataset {
    type Input<B: Backend> = Tensor<B, 3>;

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> Tensor<B, 3> {
        let rows = gather_rows(&self.values, self.steps * self.features, indices);
        Tensor::from_data(
            TensorData::new(rows, [indices.len(), self.steps, self.features]),
            device,
        )
    }

    fn targets(&self) -> &Targets {
        &self.targets
    }
}

/// MSE of always predicting the mean target (1.0) on the adding problem: the variance of the
/// sum of two independent U(0, 1) values, 2/12.
pub const ADDING_BASELINE_MSE: f64 = 2.0 / 12.0;

/// The adding problem (Hochreiter & Schmidhuber 1997; in the form of Le et al. 2015): `n`
/// sequences of `seq_len` steps with two channels, a value drawn from U(0, 1) and a marker that
/// is 1 at exactly two steps, one in each half of the sequence, and 0 elsewhere. The target is
/// the sum of the two marked values. A model must carry the first marked value across about
/// `seq_len / 2` steps; predicting the mean gives [`ADDING_BASELINE_MSE`]. Seeded: the same
/// `(n, seq_len, seed)` gives the same data.
pub fn adding_problem(n: usize, seq_len: usize, seed: u64) -> SequenceDataset {
    assert!(seq_len >= 2, "the adding problem needs at least 2 steps");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let half = seq_len / 2;
    let mut values = Vec::with_capacity(n * seq_len * 2);
    let mut targets = Vec::with_capacity(n);
    for _ in 0..n {
        let first = rng.random_range(0..half);
        let second = rng.random_range(half..seq_len);
        let mut sum = 0.0f32;
        for t in 0..seq_len {
            let v: f32 = rng.random();
            let marked = t == first || t == second;
            if marked {
                sum += v;
            }
            values.push(v);
            values.push(if marked { 1.0 } else { 0.0 });
        }
        targets.push(sum);
    }
    SequenceDataset {
        values,
        steps: seq_len,
        features: 2,
        targets: Targets::Values {
            values: targets,
            dim: 1,
        },
    }
}

/// Images as sequences of rows (row-MNIST: 28 steps of 28 pixels), normalised and augmented
/// exactly as the wrapped [`ImageDataset`].
#[derive(Clone, Debug)]
pub struct RowImages(pub ImageDataset);

impl Dataset for RowImages {
    type Input<B: Backend> = Tensor<B, 3>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> Tensor<B, 3> {
        self.0.inputs::<B>(indices, device).squeeze_dim(1)
    }

    fn train_inputs<B: Backend>(
        &self,
        indices: &[usize],
        epoch: usize,
        device: &B::Device,
    ) -> Tensor<B, 3> {
        self.0
            .train_inputs::<B>(indices, epoch, device)
            .squeeze_dim(1)
    }

    fn targets(&self) -> &Targets {
        self.0.targets()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    #[test]
    fn adding_problem_shapes_markers_targets_and_determinism() {
        let d = adding_problem(200, 50, 7);
        assert_eq!((d.len(), d.steps, d.features), (200, 50, 2));
        let Targets::Values { values: sums, dim } = &d.targets else {
            panic!("regression targets")
        };
        assert_eq!(*dim, 1);
        for (i, sum) in sums.iter().enumerate() {
            let s = d.sample(i);
            let marked: Vec<usize> = (0..50).filter(|&t| s[2 * t + 1] == 1.0).collect();
            assert_eq!(marked.len(), 2, "two markers");
            assert!(marked[0] < 25 && marked[1] >= 25, "one in each half");
            assert!(s.iter().step_by(2).all(|v| (0.0..1.0).contains(v)));
            let want = s[2 * marked[0]] + s[2 * marked[1]];
            assert!((sum - want).abs() < 1e-6);
        }
        assert_eq!(d, adding_problem(200, 50, 7));
        assert_ne!(d.values, adding_problem(200, 50, 8).values);
        // The mean predictor's MSE is close to the stated baseline on a large sample.
        let big = adding_problem(20_000, 10, 1);
        let Targets::Values { values, .. } = &big.targets else {
            unreachable!()
        };
        let mse = values
            .iter()
            .map(|v| (*v as f64 - 1.0).powi(2))
            .sum::<f64>()
            / 20_000.0;
        assert!((mse - ADDING_BASELINE_MSE).abs() < 0.005, "{mse}");
    }

    #[test]
    fn sequence_batches_keep_order_and_layout() {
        let d = adding_problem(5, 4, 3);
        let x = d.inputs::<NdArray>(&[3, 1], &Default::default());
        assert_eq!(x.dims(), [2, 4, 2]);
        let v = x.into_data().to_vec::<f32>().unwrap();
        assert_eq!(&v[..8], d.sample(3));
        assert_eq!(&v[8..], d.sample(1));
    }

    #[test]
    fn row_images_are_28_steps_of_28_pixels() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist-sample");
        let files = crate::images::find_idx_files(&dir).unwrap();
        let located = crate::images::Located {
            files,
            description: String::new(),
            note: None,
        };
        let (train, _) = crate::images::load(&located).unwrap();
        let images = ImageDataset::new(&train, 0.5, 0.5);
        let rows = RowImages(images.clone());
        let x = rows.inputs::<NdArray>(&[0, 5], &Default::default());
        assert_eq!(x.dims(), [2, 28, 28]);
        let flat = images.inputs::<NdArray>(&[0, 5], &Default::default());
        assert_eq!(
            x.into_data().to_vec::<f32>().unwrap(),
            flat.into_data().to_vec::<f32>().unwrap()
        );
        assert_eq!(rows.targets().len(), 3000);
    }
}
