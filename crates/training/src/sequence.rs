//! Sequence data for the recurrent models: dense `[batch, time, features]` sequences
//! ([`SequenceDataset`]), the adding problem ([`adding_problem`]) and images read row by row
//! ([`RowImages`], row-MNIST).

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::{gather_rows, Dataset, Targets};
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

/// The output of each sequence's last real step: `outputs` is `[batch, time, features]`;
/// `lengths` (one per sample, 1..=time) marks right-padded sequences, `None` means every
/// sequence fills all `time` steps. Selection by a one-hot mask over time, so gradients reach
/// exactly the selected steps on every backend.
pub fn last_valid_step<B: Backend>(
    outputs: Tensor<B, 3>,
    lengths: Option<&[usize]>,
) -> Tensor<B, 2> {
    let [batch, time, features] = outputs.dims();
    let Some(lengths) = lengths else {
        return outputs
            .slice([0..batch, time - 1..time, 0..features])
            .squeeze_dim(1);
    };
    assert_eq!(lengths.len(), batch, "one length per sample");
    let mut mask = vec![0.0f32; batch * time];
    for (b, &len) in lengths.iter().enumerate() {
        assert!((1..=time).contains(&len), "length {len} outside 1..={time}");
        mask[b * time + len - 1] = 1.0;
    }
    let mask =
        Tensor::<B, 3>::from_data(TensorData::new(mask, [batch, time, 1]), &outputs.device());
    (outputs * mask).sum_dim(1).squeeze_dim(1)
}

/// How a sequence of per-step outputs becomes one feature vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The last real step's output (the seed's choice).
    #[default]
    Last,
    /// The element-wise maximum over the real steps.
    Max,
    /// The mean over the real steps.
    Mean,
}

/// `[batch, time, features]` outputs pooled over each sequence's real steps (`lengths`, or all
/// `time` steps) into `[batch, features]`; padding never contributes.
pub fn pool_steps<B: Backend>(
    outputs: Tensor<B, 3>,
    lengths: Option<&[usize]>,
    pooling: Pooling,
) -> Tensor<B, 2> {
    let [batch, time, _] = outputs.dims();
    if pooling == Pooling::Last {
        return last_valid_step(outputs, lengths);
    }
    let all = vec![time; batch];
    let lengths = lengths.unwrap_or(&all);
    assert_eq!(lengths.len(), batch, "one length per sample");
    let mask: Vec<f32> = lengths
        .iter()
        .flat_map(|&len| (0..time).map(move |t| if t < len { 1.0 } else { 0.0 }))
        .collect();
    let device = outputs.device();
    let mask = Tensor::<B, 3>::from_data(TensorData::new(mask, [batch, time, 1]), &device);
    match pooling {
        Pooling::Max => (outputs * mask.clone() + (mask - 1.0) * 1e4)
            .max_dim(1)
            .squeeze_dim(1),
        _ => {
            let lens: Vec<f32> = lengths.iter().map(|&l| l as f32).collect();
            let lens = Tensor::<B, 2>::from_data(TensorData::new(lens, [batch, 1]), &device);
            (outputs * mask).sum_dim(1).squeeze_dim(1) / lens
        }
    }
}

/// Each sequence reversed within its length: step `t < len` takes step `len - 1 - t`, padding
/// steps stay where they are. Its own inverse. Running a recurrent layer over the result reads
/// every sequence backwards from its last real step, never through its padding — the reverse
/// direction of a bidirectional layer on right-padded batches.
pub fn reverse_within_lengths<B: Backend>(x: Tensor<B, 3>, lengths: &[usize]) -> Tensor<B, 3> {
    let [batch, time, features] = x.dims();
    assert_eq!(lengths.len(), batch, "one length per sample");
    let mut idx = Vec::with_capacity(batch * time);
    for (b, &len) in lengths.iter().enumerate() {
        assert!((1..=time).contains(&len), "length {len} outside 1..={time}");
        for t in 0..time {
            let src = if t < len { len - 1 - t } else { t };
            idx.push((b * time + src) as i64);
        }
    }
    let idx = Tensor::<B, 1, Int>::from_data(TensorData::new(idx, [batch * time]), &x.device());
    x.reshape([batch * time, features])
        .select(0, idx)
        .reshape([batch, time, features])
}

/// The weights of recurrent gates (`nn::GateController`s) stacked for one product per step
/// against `[h_{t-1}, x_t, 1]`: rows are each gate's hidden weight, input weight and summed
/// input + hidden bias; the gates sit side by side in columns. `zoo_rnn::fused` and
/// `zoo_lstm::fused` compute Burn's RNN and LSTM with it.
pub fn stacked_gate_weights<B: Backend>(
    gates: &[&burn::nn::GateController<B>],
    device: &B::Device,
) -> Tensor<B, 2> {
    let bias = |l: &burn::nn::Linear<B>| l.bias.as_ref().map(|b| b.val());
    let column = |g: &burn::nn::GateController<B>| {
        let [_, out] = g.hidden_transform.weight.dims();
        let b = match (bias(&g.input_transform), bias(&g.hidden_transform)) {
            (Some(a), Some(b)) => a + b,
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Tensor::zeros([out], device),
        };
        Tensor::cat(
            vec![
                g.hidden_transform.weight.val(),
                g.input_transform.weight.val(),
                b.unsqueeze_dim(0),
            ],
            0,
        )
    };
    Tensor::cat(gates.iter().map(|g| column(g)).collect(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

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
    fn last_valid_step_picks_each_sequences_last_real_step() {
        let d = Default::default();
        // outputs[b, t, f] = 100 b + 10 t + f
        let v: Vec<f32> = (0..2 * 4 * 3)
            .map(|i| (100 * (i / 12) + 10 * ((i / 3) % 4) + i % 3) as f32)
            .collect();
        let out = Tensor::<NdArray, 3>::from_data(TensorData::new(v, [2, 4, 3]), &d);
        let all = last_valid_step(out.clone(), None)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(all, [30.0, 31.0, 32.0, 130.0, 131.0, 132.0]);
        let some = last_valid_step(out, Some(&[2, 4]))
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(some, [10.0, 11.0, 12.0, 130.0, 131.0, 132.0]);
    }

    #[test]
    fn pooling_covers_real_steps_only() {
        // outputs[b, t, 0] = 10 b + t, lengths 2 and 3 of 3 steps.
        let v: Vec<f32> = (0..2 * 3).map(|i| (10 * (i / 3) + i % 3) as f32).collect();
        let x = Tensor::<NdArray, 3>::from_data(TensorData::new(v, [2, 3, 1]), &Default::default());
        let pool = |p| {
            pool_steps(x.clone(), Some(&[2, 3]), p)
                .into_data()
                .to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(pool(Pooling::Last), [1.0, 12.0]);
        assert_eq!(pool(Pooling::Max), [1.0, 12.0]);
        assert_eq!(pool(Pooling::Mean), [0.5, 11.0]);
        let neg = pool_steps(x.clone().neg(), Some(&[2, 3]), Pooling::Max);
        assert_eq!(neg.into_data().to_vec::<f32>().unwrap(), [0.0, -10.0]);
        let all = pool_steps(x, None, Pooling::Mean);
        assert_eq!(all.into_data().to_vec::<f32>().unwrap(), [1.0, 11.0]);
    }

    #[test]
    fn reversal_within_lengths_keeps_padding_in_place() {
        let v: Vec<f32> = (0..2 * 4).map(|i| i as f32).collect();
        let x = Tensor::<NdArray, 3>::from_data(TensorData::new(v, [2, 4, 1]), &Default::default());
        let r = reverse_within_lengths(x.clone(), &[2, 4]);
        assert_eq!(
            r.clone().into_data().to_vec::<f32>().unwrap(),
            [1.0, 0.0, 2.0, 3.0, 7.0, 6.0, 5.0, 4.0]
        );
        let back = reverse_within_lengths(r, &[2, 4]);
        assert_eq!(back.into_data(), x.into_data());
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
