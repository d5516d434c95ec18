//! The seed LSTM — `LSTM(input, hidden 32) → last step → Linear` — with the options of the
//! seed's variant table: stacked layers with dropout between them, bidirectional, a forget-gate
//! bias, (gradient clipping is a training option, `TrainConfig::grad_clip`) — and, for text, an
//! embedding in front: `Embedding → LSTM → Linear` on right-padded token batches.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{
    BiLstm, BiLstmConfig, Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig,
    Lstm, LstmConfig,
};
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::sequence::{Pooling, last_valid_step, pool_steps, reverse_within_lengths};
use zoo_kernels::sequence::{TokenBatch, classify_tokens};

/// LSTM network configuration.
#[derive(Config, Debug, PartialEq)]
pub struct LstmNetConfig {
    /// Features per time step (with `vocab`: the embedding width).
    pub input: usize,
    /// Outputs: classes (logits) or regression values.
    pub outputs: usize,
    /// Hidden units per direction.
    #[config(default = 32)]
    pub hidden: usize,
    /// Stacked LSTM layers.
    #[config(default = 1)]
    pub layers: usize,
    /// Bidirectional layers (`nn::BiLstm`); the head sees both directions.
    #[config(default = false)]
    pub bidirectional: bool,
    /// Dropout between stacked layers (PyTorch's `dropout` argument) and on the features the
    /// head reads; with `vocab` also on the embeddings.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Initial forget-gate bias (1.0 keeps memory early in training, Jozefowicz et al. 2015);
    /// `None` keeps Burn's initialisation.
    #[config(default = "None")]
    pub forget_bias: Option<f32>,
    /// Token vocabulary size: an `Embedding(vocab, input)` reads token ids (the text task).
    #[config(default = "None")]
    pub vocab: Option<usize>,
    /// What the head reads: the last step (the seed's; for bidirectional layers the forward
    /// direction's last and the reverse direction's first step), or the max or mean over all
    /// real steps of the top layer's outputs.
    #[config(default = "Pooling::Last")]
    pub pooling: Pooling,
}

impl LstmNetConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), String> {
        for (setting, v) in [
            ("input", self.input),
            ("outputs", self.outputs),
            ("hidden", self.hidden),
            ("layers", self.layers),
        ] {
            if v == 0 {
                return Err(format!("{setting} must be at least 1"));
            }
        }
        if self.vocab.is_some_and(|v| v < 2) {
            return Err("a vocabulary needs at least <pad> and <unk>".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1) (got {})", self.dropout));
        }
        Ok(())
    }

    /// Builds the network.
    pub fn init<B: Backend>(&self, device: &B::Device) -> LstmNet<B> {
        let directions = if self.bidirectional { 2 } else { 1 };
        let mut uni = Vec::new();
        let mut bi = Vec::new();
        for layer in 0..self.layers {
            let d_input = if layer == 0 {
                self.input
            } else {
                self.hidden * directions
            };
            if self.bidirectional {
                let mut m = BiLstmConfig::new(d_input, self.hidden, true).init(device);
                if let Some(b) = self.forget_bias {
                    set_forget_bias(&mut m.forward, b);
                    set_forget_bias(&mut m.reverse, b);
                }
                bi.push(m);
            } else {
                let mut m = LstmConfig::new(d_input, self.hidden, true).init(device);
                if let Some(b) = self.forget_bias {
                    set_forget_bias(&mut m, b);
                }
                uni.push(m);
            }
        }
        LstmNet {
            embedding: self
                .vocab
                .map(|v| EmbeddingConfig::new(v, self.input).init(device)),
            uni,
            bi,
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.hidden * directions, self.outputs).init(device),
            pooling: self.pooling,
        }
    }
}

/// Sets the forget gate's bias to `value` (input-side bias; the hidden-side bias to 0, since
/// Burn's gate adds both).
fn set_forget_bias<B: Backend>(lstm: &mut Lstm<B>, value: f32) {
    let gate = &mut lstm.forget_gate;
    if let Some(bias) = &gate.input_transform.bias {
        let dims = bias.dims();
        let device = bias.device();
        gate.input_transform.bias = Some(Param::from_tensor(Tensor::full(dims, value, &device)));
    }
    if let Some(bias) = &gate.hidden_transform.bias {
        let dims = bias.dims();
        let device = bias.device();
        gate.hidden_transform.bias = Some(Param::from_tensor(Tensor::zeros(dims, &device)));
    }
}

/// The LSTM network: stacked (Bi)LSTM layers, dropout between them, a linear head on the last
/// step's output.
#[derive(Module, Debug)]
pub struct LstmNet<B: Backend> {
    embedding: Option<Embedding<B>>,
    uni: Vec<Lstm<B>>,
    bi: Vec<BiLstm<B>>,
    dropout: Dropout,
    head: Linear<B>,
    #[module(skip)]
    pooling: Pooling,
}

impl<B: Backend> LstmNet<B> {
    /// Every step's output of the top layer: `[batch, time, hidden × directions]`. With
    /// `lengths` (right-padded sequences) each bidirectional layer reads every sequence
    /// backwards from its last real step ([`reverse_within_lengths`]), so outputs at real steps
    /// never depend on padding; without, `nn::BiLstm::forward` runs as is.
    pub fn encode(&self, x: Tensor<B, 3>, lengths: Option<&[usize]>) -> Tensor<B, 3> {
        let mut h = x;
        for (i, layer) in self.uni.iter().enumerate() {
            if i > 0 {
                h = self.dropout.forward(h);
            }
            h = uni_layer(layer, h);
        }
        for (i, layer) in self.bi.iter().enumerate() {
            if i > 0 {
                h = self.dropout.forward(h);
            }
            h = match lengths {
                None => layer.forward(h, None).0,
                Some(lengths) => {
                    let forward = layer.forward.forward(h.clone(), None).0;
                    let reversed = reverse_within_lengths(h, lengths);
                    let reverse = layer.reverse.forward(reversed, None).0;
                    Tensor::cat(vec![forward, reverse_within_lengths(reverse, lengths)], 2)
                }
            };
        }
        h
    }

    /// The features the head sees: the last step's output; for a bidirectional network the
    /// forward direction's last step and the reverse direction's first step (each has read the
    /// whole sequence). `lengths` marks right-padded sequences: the forward direction's last
    /// *real* step is taken, and the reverse direction starts there.
    pub fn features(&self, x: Tensor<B, 3>, lengths: Option<&[usize]>) -> Tensor<B, 2> {
        let top_only = self.bi.is_empty() && self.pooling == Pooling::Last && lengths.is_none();
        if let (true, Some((top, below))) = (top_only, self.uni.split_last())
            && crate::fused::supports(top)
        {
            // Full-length sequences read at the last step: the top layer's last output,
            // without gathering the others.
            let mut h = x.clone();
            for (i, layer) in below.iter().enumerate() {
                if i > 0 {
                    h = self.dropout.forward(h);
                }
                h = uni_layer(layer, h);
            }
            if !below.is_empty() {
                h = self.dropout.forward(h);
            }
            if let Some(last) = crate::fused::lstm_last(top, h.clone()) {
                return last;
            }
        }
        let out = self.encode(x, lengths);
        if self.bi.is_empty() || self.pooling != Pooling::Last {
            return pool_steps(out, lengths, self.pooling);
        }
        let [batch, time, width] = out.dims();
        let hidden = width / 2;
        let forward = last_valid_step(out.clone().slice([0..batch, 0..time, 0..hidden]), lengths);
        let reverse = out.slice([0..batch, 0..1, hidden..width]).squeeze_dim(1);
        Tensor::cat(vec![forward, reverse], 1)
    }

    /// `[batch, time, input]` → `[batch, outputs]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 2> {
        let features = self.features(x, None);
        self.head.forward(self.dropout.forward(features))
    }

    /// Token ids → `[batch, outputs]` (a network built with `vocab`): embedding, dropout, the
    /// LSTM read up to each sentence's length, dropout, head.
    pub fn forward_tokens(&self, batch: TokenBatch<B>) -> Tensor<B, 2> {
        classify_tokens(
            self.embedding.as_ref(),
            &self.dropout,
            &self.head,
            batch,
            |x, lengths| self.features(x, Some(lengths)),
        )
    }
}

/// Every step's output of one unidirectional layer, through [`crate::fused`] when it applies.
fn uni_layer<B: Backend>(layer: &Lstm<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    if crate::fused::supports(layer) {
        crate::fused::lstm_sequence(layer, x)
    } else {
        layer.forward(x, None).0
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, TokenBatch<B>> for LstmNet<B> {
    fn predict(&self, input: TokenBatch<B>) -> Tensor<B, 2> {
        self.forward_tokens(input)
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 3>> for LstmNet<B> {
    fn predict(&self, input: Tensor<B, 3>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    #[test]
    fn shapes_and_parameter_counts() {
        let d = Default::default();
        let x = Tensor::<NdArray, 3>::random([3, 6, 4], Distribution::Default, &d);
        let seed = LstmNetConfig::new(4, 10).init::<NdArray>(&d);
        assert_eq!(seed.encode(x.clone(), None).dims(), [3, 6, 32]);
        assert_eq!(seed.forward(x.clone()).dims(), [3, 10]);
        // nn::Lstm has input and hidden biases per gate: 4 × (4·32 + 32·32 + 2·32), head 32·10 + 10.
        assert_eq!(seed.num_params(), 4 * (4 * 32 + 32 * 32 + 64) + 330);
        let deep = LstmNetConfig::new(4, 2)
            .with_hidden(8)
            .with_layers(3)
            .with_bidirectional(true)
            .with_dropout(0.2)
            .init::<NdArray>(&d);
        assert_eq!(deep.encode(x.clone(), None).dims(), [3, 6, 16]);
        assert_eq!(deep.forward(x).dims(), [3, 2]);
        assert!(
            LstmNetConfig::new(4, 2)
                .with_dropout(1.0)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn forget_bias_is_set_on_the_forget_gate_only() {
        let d = Default::default();
        let net = LstmNetConfig::new(2, 1)
            .with_forget_bias(Some(1.0))
            .init::<NdArray>(&d);
        let lstm = &net.uni[0];
        let b = |l: &Linear<NdArray>| {
            l.bias
                .as_ref()
                .unwrap()
                .val()
                .into_data()
                .to_vec::<f32>()
                .unwrap()
        };
        assert!(
            b(&lstm.forget_gate.input_transform)
                .iter()
                .all(|&v| v == 1.0)
        );
        assert!(
            b(&lstm.forget_gate.hidden_transform)
                .iter()
                .all(|&v| v == 0.0)
        );
        assert!(
            b(&lstm.input_gate.input_transform)
                .iter()
                .any(|&v| v != 1.0)
        );
    }

    #[test]
    fn padding_after_the_last_real_step_does_not_change_the_features() {
        let d = Default::default();
        let net = LstmNetConfig::new(3, 2).with_hidden(5).init::<NdArray>(&d);
        let short = Tensor::<NdArray, 3>::random([1, 4, 3], Distribution::Normal(0.0, 1.0), &d);
        let alone = net.features(short.clone(), None);
        // Right-pad to 9 steps with junk, batch it with another sequence, select by length.
        let junk = Tensor::<NdArray, 3>::random([1, 5, 3], Distribution::Normal(5.0, 1.0), &d);
        let padded = Tensor::cat(vec![short, junk], 1);
        let other = Tensor::<NdArray, 3>::random([1, 9, 3], Distribution::Default, &d);
        let batch = Tensor::cat(vec![padded.clone(), other], 0);
        let selected = net.features(batch, Some(&[4, 9]));
        let first = selected.slice([0..1, 0..5]);
        let diff: f32 = (first - alone.clone()).abs().max().into_scalar();
        assert!(diff < 1e-6, "{diff}");
        // Without the length the junk would count.
        let unmasked = net.features(padded, None);
        let moved: f32 = (unmasked - alone).abs().max().into_scalar();
        assert!(moved > 1e-3);
    }

    #[test]
    fn bidirectional_stacks_ignore_padding_given_lengths() {
        let d = Default::default();
        let net = LstmNetConfig::new(3, 2)
            .with_hidden(4)
            .with_layers(2)
            .with_bidirectional(true)
            .init::<NdArray>(&d);
        let short = Tensor::<NdArray, 3>::random([1, 4, 3], Distribution::Normal(0.0, 1.0), &d);
        let alone = net.features(short.clone(), None);
        let junk = Tensor::<NdArray, 3>::random([1, 3, 3], Distribution::Normal(5.0, 1.0), &d);
        let padded = Tensor::cat(vec![short, junk], 1);
        let other = Tensor::<NdArray, 3>::random([1, 7, 3], Distribution::Default, &d);
        let batch = Tensor::cat(vec![padded.clone(), other.clone()], 0);
        let selected = net.features(batch.clone(), Some(&[4, 7]));
        let diff: f32 = (selected.clone().slice([0..1, 0..8]) - alone.clone())
            .abs()
            .max()
            .into_scalar();
        assert!(diff < 1e-5, "padded sentence: {diff}");
        // Full-length sequences: the length-aware path is nn::BiLstm's own.
        let full = net.features(batch.clone(), Some(&[7, 7]));
        let diff: f32 = (full - net.features(batch, None)).abs().max().into_scalar();
        assert!(diff < 1e-5, "full length: {diff}");
        // Reading the padding (no lengths) changes both directions' features.
        let moved = net.features(padded, None) - alone;
        let fwd: f32 = moved.clone().slice([0..1, 0..4]).abs().max().into_scalar();
        let rev: f32 = moved.slice([0..1, 4..8]).abs().max().into_scalar();
        assert!(fwd > 1e-3 && rev > 1e-3, "{fwd} {rev}");
    }

    #[test]
    fn token_batches_go_through_the_embedding() {
        use burn::tensor::{Int, TensorData};
        let d = Default::default();
        let cfg = LstmNetConfig::new(8, 3)
            .with_hidden(5)
            .with_bidirectional(true)
            .with_vocab(Some(20));
        let net = cfg.init::<NdArray>(&d);
        // Embedding 20×8 on top of the bidirectional layer and head.
        let plain = LstmNetConfig::new(8, 3)
            .with_hidden(5)
            .with_bidirectional(true)
            .init::<NdArray>(&d);
        assert_eq!(net.num_params(), plain.num_params() + 20 * 8);
        let tokens = Tensor::<NdArray, 2, Int>::from_data(
            TensorData::new(vec![4i64, 5, 6, 0, 0, 7, 8, 9, 10, 11], [2, 5]),
            &d,
        );
        let out = net.forward_tokens(TokenBatch {
            tokens: tokens.clone(),
            lengths: vec![3, 5],
        });
        assert_eq!(out.dims(), [2, 3]);
        // The first sentence alone, unpadded, gives the same logits.
        let alone = net.forward_tokens(TokenBatch {
            tokens: tokens.slice([0..1, 0..3]),
            lengths: vec![3],
        });
        let diff: f32 = (out.slice([0..1, 0..3]) - alone).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
        assert!(
            LstmNetConfig::new(8, 3)
                .with_vocab(Some(1))
                .validate()
                .is_err()
        );
    }
}
