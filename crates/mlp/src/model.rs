//! The network: [`MlpConfig`] (architecture, the seed's `2 → 16 → 2` ReLU MLP by default) and
//! [`Mlp`] (`[batch, input]` → `[batch, output]`).

use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::activation::{Activation, ActivationConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};

/// Hidden-layer non-linearity.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum MlpActivation {
    /// max(0, x)
    Relu,
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// tanh(x)
    Tanh,
}

/// Weight initialisation.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum MlpInit {
    /// PyTorch's `nn.Linear` default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Default,
    /// Xavier/Glorot uniform (gain 1), suited to sigmoid/tanh.
    Xavier,
    /// He/Kaiming normal (gain sqrt 2), suited to ReLU.
    He,
}

impl MlpInit {
    fn initializer(self) -> Initializer {
        match self {
            MlpInit::Default => Initializer::KaimingUniform {
                gain: 1.0 / 3f64.sqrt(),
                fan_out_only: false,
            },
            MlpInit::Xavier => Initializer::XavierUniform { gain: 1.0 },
            MlpInit::He => Initializer::KaimingNormal {
                gain: 2f64.sqrt(),
                fan_out_only: false,
            },
        }
    }
}

/// Architecture of an [`Mlp`]. The defaults are the seed's `2 → 16 → 2` ReLU network.
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Input features.
    #[config(default = 2)]
    pub input: usize,
    /// Hidden layer widths, in order.
    #[config(default = "vec![16]")]
    pub hidden: Vec<usize>,
    /// Outputs: classes (classification) or target values (regression).
    #[config(default = 2)]
    pub output: usize,
    /// Hidden activation.
    #[config(default = "MlpActivation::Relu")]
    pub activation: MlpActivation,
    /// Dropout probability after each hidden activation (0 disables it).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Weight initialisation.
    #[config(default = "MlpInit::Default")]
    pub init: MlpInit,
}

impl MlpConfig {
    /// Checks sizes and probabilities, naming the flag at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.input == 0 || self.output == 0 {
            return Err("an MLP needs at least one input and one output".into());
        }
        if self.hidden.contains(&0) {
            return Err("hidden sizes must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1) (got {})", self.dropout));
        }
        Ok(())
    }

    /// Builds the network on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Mlp<B> {
        let widths: Vec<usize> = std::iter::once(self.input)
            .chain(self.hidden.iter().copied())
            .chain([self.output])
            .collect();
        let layers = widths
            .windows(2)
            .map(|w| {
                LinearConfig::new(w[0], w[1])
                    .with_initializer(self.init.initializer())
                    .init(device)
            })
            .collect();
        let activation = match self.activation {
            MlpActivation::Relu => ActivationConfig::Relu,
            MlpActivation::Sigmoid => ActivationConfig::Sigmoid,
            MlpActivation::Tanh => ActivationConfig::Tanh,
        };
        Mlp {
            layers,
            activation: activation.init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// A multi-layer perceptron: `Linear → activation → dropout` per hidden layer, then `Linear`.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
    activation: Activation<B>,
    dropout: Dropout,
}

impl<B: Backend> Mlp<B> {
    /// `[batch, input]` → `[batch, output]` logits or predictions.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut x = x;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.dropout.forward(self.activation.forward(x));
            }
        }
        x
    }

    /// The layer widths, input first: `[2, 16, 2]` for the seed MLP.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.layers.iter().map(|l| l.weight.dims()[0]).collect();
        widths.extend(self.layers.last().map(|l| l.weight.dims()[1]));
        widths
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 2>> for Mlp<B> {
    fn predict(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    #[test]
    fn seed_architecture_shapes_and_parameter_count() {
        let m = MlpConfig::new().init::<NdArray>(&Default::default());
        // 2*16 + 16 + 16*2 + 2
        assert_eq!(m.num_params(), 82);
        let y = m.forward(Tensor::zeros([5, 2], &Default::default()));
        assert_eq!(y.dims(), [5, 2]);
    }

    #[test]
    fn deeper_config_shapes() {
        let cfg = MlpConfig::new()
            .with_input(10)
            .with_hidden(vec![32, 8])
            .with_output(1)
            .with_activation(MlpActivation::Tanh)
            .with_init(MlpInit::Xavier);
        let m = cfg.init::<NdArray>(&Default::default());
        assert_eq!(m.num_params(), 10 * 32 + 32 + 32 * 8 + 8 + 8 + 1);
        assert_eq!(
            m.forward(Tensor::ones([3, 10], &Default::default())).dims(),
            [3, 1]
        );
    }

    #[test]
    fn activations_are_applied() {
        // One hidden unit with weight 1, bias 0, output weight 1: f(-1) must be act(-1).
        for (act, want) in [
            (MlpActivation::Relu, 0.0f32),
            (MlpActivation::Sigmoid, 1.0 / (1.0 + 1f32.exp())),
            (MlpActivation::Tanh, (-1f32).tanh()),
        ] {
            let cfg = MlpConfig::new()
                .with_input(1)
                .with_hidden(vec![1])
                .with_output(1)
                .with_activation(act);
            let mut m = cfg.init::<NdArray>(&Default::default());
            for layer in m.layers.iter_mut() {
                layer.weight = layer.weight.clone().map(|w| w.ones_like());
                if let Some(b) = &layer.bias {
                    layer.bias = Some(b.clone().map(|b| b.zeros_like()));
                }
            }
            let y = m.forward(Tensor::from_floats([[-1.0]], &Default::default()));
            let got = y.into_data().to_vec::<f32>().unwrap()[0];
            assert!((got - want).abs() < 1e-6, "{act:?}: {got} vs {want}");
        }
    }

    #[test]
    fn config_validation() {
        assert!(MlpConfig::new().validate().is_ok());
        assert!(
            MlpConfig::new()
                .with_dropout(1.0)
                .validate()
                .unwrap_err()
                .contains("dropout")
        );
        assert!(
            MlpConfig::new()
                .with_hidden(vec![0])
                .validate()
                .unwrap_err()
                .contains("hidden")
        );
    }
}
