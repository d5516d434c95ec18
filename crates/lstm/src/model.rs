//! The seed LSTM — `LSTM(input, hidden 32) → last step → Linear` — with the options of the
//! seed's variant table: stacked layers with dropout between them, bidirectional, a forget-gate
//! bias, (gradient clipping is a training option, `TrainConfig::grad_clip`).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{
    BiLstm, BiLstmConfig, Dropout, DropoutConfig, Linear, LinearConfig, Lstm, LstmConfig,
};
use burn::tensor::{backend::Backend, Tensor};
use zoo_training::data::Predict;
use zoo_training::sequence::last_valid_step;

/// LSTM network configuration.
#[derive(Config, Debug, PartialEq)]
pub struct LstmNetConfig {
    /// Features per time step.
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
    /// Dropout between stacked layers (PyTorch's `dropout` argument).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Initial forget-gate bias (1.0 keeps memory early in training, Jozefowicz et al. 2015);
    /// `None` keeps Burn's initialisation.
    #[config(default = "None")]
    pub forget_bias: Option<f32>,
}

impl LstmNetConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), String> {
        if self.input == 0 || self.outputs == 0 || self.hidden == 0 || self.layers == 0 {
            return Err("input, outputs, --hidden and --layers must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "--dropout must be in [0, 1) (got {})",
                self.dropout
            ));
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
            uni,
            bi,
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.hidden * directions, self.outputs).init(device),
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
    uni: Vec<Lstm<B>>,
    bi: Vec<BiLstm<B>>,
    dropout: Dropout,
    head: Linear<B>,
}

impl<B: Backend> LstmNet<B> {
    /// Every step's output of the top layer: `[batch, time, hidden × directions]`.
    pub fn encode(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let mut h = x;
        for (i, layer) in self.uni.iter().enumerate() {
            if i > 0 {
                h = self.dropout.forward(h);
            }
            h = layer.forward(h, None).0;
        }
        for (i, layer) in self.bi.iter().enumerate() {
            if i > 0 {
                h = self.dropout.forward(h);
            }
            h = layer.forward(h, None).0;
        }
        h
    }

    /// The features the head sees: the last step's output; for a bidirectional network the
    /// forward direction's last step and the reverse direction's first step (each has read the
    /// whole sequence). `lengths` selects each right-padded sequence's last real step
    /// (unidirectional only: a reverse pass would read the padding first).
    pub fn features(&self, x: Tensor<B, 3>, lengths: Option<&[usize]>) -> Tensor<B, 2> {
        let out = self.encode(x);
        if self.bi.is_empty() {
            return last_valid_step(out, lengths);
        }
        assert!(
            lengths.is_none(),
            "bidirectional layers take full-length sequences only"
        );
        let [batch, time, width] = out.dims();
        let hidden = width / 2;
        let forward = out
            .clone()
            .slice([0..batch, time - 1..time, 0..hidden])
            .squeeze_dim(1);
        let reverse = out.slice([0..batch, 0..1, hidden..width]).squeeze_dim(1);
        Tensor::cat(vec![forward, reverse], 1)
    }

    /// `[batch, time, input]` → `[batch, outputs]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 2> {
        self.head.forward(self.features(x, None))
    }
}

impl<B: Backend> Predict<B, Tensor<B, 3>> for LstmNet<B> {
    fn predict(&self, input: Tensor<B, 3>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::Distribution;

    #[test]
    fn shapes_and_parameter_counts() {
        let d = Default::default();
        let x = Tensor::<NdArray, 3>::random([3, 6, 4], Distribution::Default, &d);
        let seed = LstmNetConfig::new(4, 10).init::<NdArray>(&d);
        assert_eq!(seed.encode(x.clone()).dims(), [3, 6, 32]);
        assert_eq!(seed.forward(x.clone()).dims(), [3, 10]);
        // nn::Lstm has input and hidden biases per gate: 4 × (4·32 + 32·32 + 2·32), head 32·10 + 10.
        assert_eq!(seed.num_params(), 4 * (4 * 32 + 32 * 32 + 64) + 330);
        let deep = LstmNetConfig::new(4, 2)
            .with_hidden(8)
            .with_layers(3)
            .with_bidirectional(true)
            .with_dropout(0.2)
            .init::<NdArray>(&d);
        assert_eq!(deep.encode(x.clone()).dims(), [3, 6, 16]);
        assert_eq!(deep.forward(x).dims(), [3, 2]);
        assert!(LstmNetConfig::new(4, 2)
            .with_dropout(1.0)
            .validate()
            .is_err());
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
        assert!(b(&lstm.forget_gate.input_transform)
            .iter()
            .all(|&v| v == 1.0));
        assert!(b(&lstm.forget_gate.hidden_transform)
            .iter()
            .all(|&v| v == 0.0));
        assert!(b(&lstm.input_gate.input_transform)
            .iter()
            .any(|&v| v != 1.0));
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
}
