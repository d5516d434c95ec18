//! A character-level LSTM language model ([`CharLm`]): `Embedding(vocab, embed) → LSTM
//! layers → Linear(hidden, vocab)` over every step, reading a window of characters from the
//! recurrent state the previous window left ([`LmState`]), as truncated backpropagation
//! through time needs.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig, Lstm, LstmConfig,
};
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

/// Character language-model configuration.
#[derive(Config, Debug, PartialEq)]
pub struct CharLmConfig {
    /// Characters in the vocabulary (the unknown character included).
    pub vocab: usize,
    /// Embedding width.
    #[config(default = 64)]
    pub embed_dim: usize,
    /// LSTM hidden units.
    #[config(default = 256)]
    pub hidden: usize,
    /// Stacked LSTM layers.
    #[config(default = 1)]
    pub layers: usize,
    /// Dropout on the embeddings, between layers and before the output layer.
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl CharLmConfig {
    /// Checks sizes (one line naming the setting at fault).
    pub fn validate(&self) -> Result<(), String> {
        for (setting, v) in [
            ("embed_dim", self.embed_dim),
            ("hidden", self.hidden),
            ("layers", self.layers),
        ] {
            if v == 0 {
                return Err(format!("{setting} must be at least 1"));
            }
        }
        if self.vocab < 2 {
            return Err(format!(
                "a language model needs at least 2 characters (got a vocabulary of {})",
                self.vocab
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1) (got {})", self.dropout));
        }
        Ok(())
    }

    /// Builds the network (Burn's initialisation).
    pub fn init<B: Backend>(&self, device: &B::Device) -> CharLm<B> {
        CharLm {
            embedding: EmbeddingConfig::new(self.vocab, self.embed_dim).init(device),
            layers: (0..self.layers)
                .map(|i| {
                    let input = if i == 0 { self.embed_dim } else { self.hidden };
                    LstmConfig::new(input, self.hidden, true).init(device)
                })
                .collect(),
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.hidden, self.vocab).init(device),
        }
    }
}

/// The character language model.
#[derive(Module, Debug)]
pub struct CharLm<B: Backend> {
    embedding: Embedding<B>,
    layers: Vec<Lstm<B>>,
    dropout: Dropout,
    head: Linear<B>,
}

/// The recurrent state after a window: `(hidden, cell)` of each layer, `[batch, hidden]`.
#[derive(Clone, Debug)]
pub struct LmState<B: Backend> {
    /// Per layer, bottom first.
    pub layers: Vec<(Tensor<B, 2>, Tensor<B, 2>)>,
}

impl<B: Backend> LmState<B> {
    /// The same values cut from the autodiff graph (the truncation of truncated BPTT).
    pub fn detach(self) -> Self {
        Self {
            layers: self
                .layers
                .into_iter()
                .map(|(h, c)| (h.detach(), c.detach()))
                .collect(),
        }
    }

    /// The values, layer by layer, hidden then cell, row-major (for a checkpoint).
    pub fn to_vec(&self) -> Result<Vec<f32>, String> {
        let mut out = Vec::new();
        for (h, c) in &self.layers {
            for t in [h, c] {
                out.extend(
                    t.to_data()
                        .convert::<f32>()
                        .to_vec::<f32>()
                        .map_err(|e| format!("cannot read the recurrent state: {e:?}"))?,
                );
            }
        }
        Ok(out)
    }

    /// A state written by [`LmState::to_vec`] for `layers` layers of `[batch, hidden]`.
    pub fn from_vec(
        values: &[f32],
        layers: usize,
        batch: usize,
        hidden: usize,
        device: &B::Device,
    ) -> Result<Self, String> {
        let n = batch * hidden;
        if values.len() != 2 * layers * n {
            return Err(format!(
                "a recurrent state of {} values, expected {}",
                values.len(),
                2 * layers * n
            ));
        }
        let tensor = |i: usize| {
            Tensor::from_data(
                TensorData::new(values[i * n..(i + 1) * n].to_vec(), [batch, hidden]),
                device,
            )
        };
        Ok(Self {
            layers: (0..layers)
                .map(|l| (tensor(2 * l), tensor(2 * l + 1)))
                .collect(),
        })
    }
}

impl<B: Backend> CharLm<B> {
    /// Hidden units per layer.
    pub fn hidden(&self) -> usize {
        self.head.weight.dims()[0]
    }

    /// Stacked layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Character ids `[batch, steps]` → logits of the next character `[batch, steps, vocab]`,
    /// starting from `state` (zeros when `None`), and the state after the last step.
    pub fn forward(
        &self,
        ids: Tensor<B, 2, Int>,
        state: Option<LmState<B>>,
    ) -> (Tensor<B, 3>, LmState<B>) {
        let mut x = self.dropout.forward(self.embedding.forward(ids));
        let mut start = state.map(|s| s.layers).unwrap_or_default().into_iter();
        let mut after = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = self.dropout.forward(x);
            }
            let (out, last) = crate::fused::lstm_steps_from(layer, x, start.next());
            x = out;
            after.push(last);
        }
        let logits = self.head.forward(self.dropout.forward(x));
        (logits, LmState { layers: after })
    }
}

/// Character ids as a `[batch, steps]` tensor.
pub fn id_tensor<B: Backend>(ids: &[u32], batch: usize, device: &B::Device) -> Tensor<B, 2, Int> {
    let steps = ids.len() / batch.max(1);
    let ids: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    Tensor::from_data(TensorData::new(ids, [batch, steps]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    #[test]
    fn windows_carry_the_state_so_two_halves_equal_the_whole() {
        let d = Default::default();
        let lm = CharLmConfig::new(7)
            .with_embed_dim(5)
            .with_hidden(6)
            .with_layers(2)
            .init::<NdArray>(&d);
        // The embedding, two layers (nn::Lstm: input and hidden biases per gate) and the head.
        let lstm = |i: usize| 4 * (i * 6 + 6 * 6 + 2 * 6);
        assert_eq!(lm.num_params(), 7 * 5 + lstm(5) + lstm(6) + 6 * 7 + 7);
        let ids: Vec<u32> = vec![1, 2, 3, 4, 5, 6, 0, 1, 6, 5, 4, 3];
        let whole = lm.forward(id_tensor(&ids, 2, &d), None).0;
        let (a, b): (Vec<u32>, Vec<u32>) = (
            [&ids[0..4], &ids[6..10]].concat(),
            [&ids[4..6], &ids[10..12]].concat(),
        );
        let (first, state) = lm.forward(id_tensor(&a, 2, &d), None);
        let again = LmState::<NdArray>::from_vec(&state.to_vec().unwrap(), 2, 2, 6, &d).unwrap();
        let (second, _) = lm.forward(id_tensor(&b, 2, &d), Some(again));
        let joined = Tensor::cat(vec![first, second], 1);
        let diff: f32 = (joined - whole).abs().max().into_scalar();
        assert!(diff < 1e-6, "{diff}");
        assert!(CharLmConfig::new(1).validate().is_err());
        assert!(LmState::<NdArray>::from_vec(&[0.0; 5], 1, 2, 6, &d).is_err());
    }
}
