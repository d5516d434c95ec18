//! The network: [`RnnNetConfig`] (the seed's tanh RNN with 32 hidden units by default; ReLU or
//! GRU cells) and [`RnnNet`] (`[batch, time, input]` or token batches → `[batch, outputs]`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::activation::ActivationConfig;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, Rnn,
    RnnConfig,
};
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::sequence::last_valid_step;
use zoo_kernels::sequence::{TokenBatch, classify_tokens};

use crate::fused;

/// The recurrent cell.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum CellKind {
    /// `h_t = tanh(W x_t + U h_{t-1} + b)`, the seed's.
    Tanh,
    /// The same with ReLU.
    Relu,
    /// Gated recurrent unit.
    Gru,
}

/// RNN network configuration.
#[derive(Config, Debug, PartialEq)]
pub struct RnnNetConfig {
    /// Features per time step (with `vocab`: the embedding width).
    pub input: usize,
    /// Outputs: classes (logits) or regression values.
    pub outputs: usize,
    /// Hidden units.
    #[config(default = 32)]
    pub hidden: usize,
    /// Cell.
    #[config(default = "CellKind::Tanh")]
    pub cell: CellKind,
    /// Dropout on the features the head reads; with `vocab` also on the embeddings.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Token vocabulary size: an `Embedding(vocab, input)` reads token ids (the text task).
    #[config(default = "None")]
    pub vocab: Option<usize>,
}

impl RnnNetConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), String> {
        for (setting, v) in [
            ("input", self.input),
            ("outputs", self.outputs),
            ("hidden", self.hidden),
        ] {
            if v == 0 {
                return Err(format!("{setting} must be at least 1"));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1) (got {})", self.dropout));
        }
        if self.vocab.is_some_and(|v| v < 2) {
            return Err("a vocabulary needs at least <pad> and <unk>".into());
        }
        Ok(())
    }

    /// Builds the network.
    pub fn init<B: Backend>(&self, device: &B::Device) -> RnnNet<B> {
        let layer = match self.cell {
            CellKind::Gru => {
                Recurrent::Gru(GruConfig::new(self.input, self.hidden, true).init(device))
            }
            cell => {
                let act = if cell == CellKind::Relu {
                    ActivationConfig::Relu
                } else {
                    ActivationConfig::Tanh
                };
                Recurrent::Elman(
                    RnnConfig::new(self.input, self.hidden, true)
                        .with_hidden_activation(act)
                        .init(device),
                )
            }
        };
        RnnNet {
            embedding: self
                .vocab
                .map(|v| EmbeddingConfig::new(v, self.input).init(device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            layer,
            head: LinearConfig::new(self.hidden, self.outputs).init(device),
        }
    }
}

/// The recurrent layer of an [`RnnNet`].
// One layer per network, built once: the size difference between the variants costs nothing,
// and boxing would hide the layer from `#[derive(Module)]`.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Recurrent<B: Backend> {
    /// Elman RNN (tanh or ReLU): `h_t = act(W x_t + U h_{t-1} + b)`.
    Elman(Rnn<B>),
    /// Gated recurrent unit.
    Gru(Gru<B>),
}

/// The RNN network: one recurrent layer and a linear head on the last step's output.
#[derive(Module, Debug)]
pub struct RnnNet<B: Backend> {
    embedding: Option<Embedding<B>>,
    dropout: Dropout,
    layer: Recurrent<B>,
    head: Linear<B>,
}

impl<B: Backend> RnnNet<B> {
    /// Every step's hidden state: `[batch, time, hidden]`.
    pub fn encode(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        match &self.layer {
            Recurrent::Elman(rnn) if fused::supports(rnn) => fused::rnn_sequence(rnn, x),
            Recurrent::Elman(rnn) => rnn.forward(x, None).0,
            Recurrent::Gru(gru) => gru.forward(x, None),
        }
    }

    /// The last real step's hidden state (`lengths` for right-padded sequences).
    pub fn features(&self, x: Tensor<B, 3>, lengths: Option<&[usize]>) -> Tensor<B, 2> {
        if let (Recurrent::Elman(rnn), None) = (&self.layer, lengths)
            && fused::supports(rnn)
        {
            // Full-length sequences: the last step, without gathering the others.
            if let Some(last) = fused::rnn_last(rnn, x.clone()) {
                return last;
            }
        }
        last_valid_step(self.encode(x), lengths)
    }

    /// `[batch, time, input]` → `[batch, outputs]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 2> {
        let features = self.features(x, None);
        self.head.forward(self.dropout.forward(features))
    }

    /// Token ids → `[batch, outputs]` (a network built with `vocab`): embedding, dropout, the
    /// recurrent layer's state at each sentence's last token, dropout, head.
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

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, TokenBatch<B>> for RnnNet<B> {
    fn predict(&self, input: TokenBatch<B>) -> Tensor<B, 2> {
        self.forward_tokens(input)
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 3>> for RnnNet<B> {
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
    fn shapes_and_parameter_counts_per_cell() {
        let d = Default::default();
        let x = Tensor::<NdArray, 3>::random([3, 6, 4], Distribution::Default, &d);
        for (cell, recurrent) in [
            // nn::Rnn: input and hidden transforms with a bias each.
            (CellKind::Tanh, 4 * 32 + 32 * 32 + 2 * 32),
            (CellKind::Relu, 4 * 32 + 32 * 32 + 2 * 32),
            // nn::Gru: three gates of the same shape.
            (CellKind::Gru, 3 * (4 * 32 + 32 * 32 + 2 * 32)),
        ] {
            let net = RnnNetConfig::new(4, 10).with_cell(cell).init::<NdArray>(&d);
            assert_eq!(net.encode(x.clone()).dims(), [3, 6, 32]);
            assert_eq!(net.forward(x.clone()).dims(), [3, 10]);
            assert_eq!(net.num_params(), recurrent + 32 * 10 + 10, "{cell:?}");
        }
    }

    #[test]
    fn relu_cell_states_are_non_negative_and_tanh_bounded() {
        let d = Default::default();
        let x = Tensor::<NdArray, 3>::random([2, 5, 4], Distribution::Normal(0.0, 3.0), &d);
        let relu = RnnNetConfig::new(4, 2)
            .with_cell(CellKind::Relu)
            .init::<NdArray>(&d);
        let h = relu.encode(x.clone());
        assert!(h.clone().min().into_scalar() >= 0.0);
        assert!(h.max().into_scalar() > 0.0);
        let tanh = RnnNetConfig::new(4, 2).init::<NdArray>(&d).encode(x);
        // In f32, tanh of a large pre-activation rounds to exactly 1 (the inputs are random).
        assert!(tanh.clone().abs().max().into_scalar() <= 1.0);
        assert!(tanh.min().into_scalar() < 0.0);
    }

    #[test]
    fn token_batches_read_each_sentence_to_its_last_token() {
        use burn::tensor::{Int, TensorData};
        let d = Default::default();
        for cell in [CellKind::Tanh, CellKind::Gru] {
            let net = RnnNetConfig::new(6, 2)
                .with_hidden(4)
                .with_cell(cell)
                .with_vocab(Some(12))
                .init::<NdArray>(&d);
            let tokens = Tensor::<NdArray, 2, Int>::from_data(
                TensorData::new(vec![3i64, 4, 0, 0, 5, 6, 7, 8], [2, 4]),
                &d,
            );
            let out = net.forward_tokens(TokenBatch {
                tokens: tokens.clone(),
                lengths: vec![2, 4],
            });
            assert_eq!(out.dims(), [2, 2]);
            let alone = net.forward_tokens(TokenBatch {
                tokens: tokens.slice([0..1, 0..2]),
                lengths: vec![2],
            });
            let diff: f32 = (out.slice([0..1, 0..2]) - alone).abs().max().into_scalar();
            assert!(diff < 1e-6, "{cell:?}: {diff}");
        }
    }
}
