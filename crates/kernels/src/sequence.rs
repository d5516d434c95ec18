//! Tensor operations over sequences that the recurrent models share: the last real step of
//! right-padded sequences, pooling over steps, reversal within lengths, PyTorch-style stacked
//! gate weights, and the token-batch path (embedding → recurrent features → head).

use burn::nn::{Dropout, Embedding, Linear};
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

/// A batch of right-padded token ids and each sentence's length.
#[derive(Clone, Debug)]
pub struct TokenBatch<B: Backend> {
    /// `[batch, time]` ids, the padding id (`zoo_data::text::PAD_ID`) after each sentence's end.
    pub tokens: Tensor<B, 2, Int>,
    /// Real tokens per sentence (1..=time).
    pub lengths: Vec<usize>,
}

/// The text path both recurrent networks share: token ids → `embedding` → `dropout` →
/// `features` (the recurrent layers, read up to each sentence's length) → `dropout` → `head`.
/// Panics when the network was built without a vocabulary (`embedding` is `None`).
pub fn classify_tokens<B: Backend>(
    embedding: Option<&Embedding<B>>,
    dropout: &Dropout,
    head: &Linear<B>,
    batch: TokenBatch<B>,
    features: impl FnOnce(Tensor<B, 3>, &[usize]) -> Tensor<B, 2>,
) -> Tensor<B, 2> {
    let embedding = embedding.expect("token input needs a network built with a vocabulary");
    let x = dropout.forward(embedding.forward(batch.tokens));
    head.forward(dropout.forward(features(x, &batch.lengths)))
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
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
    use zoo_ndarray::NdArray;

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
}
