//! The tutorial's PyTorch LSTM weights in and out (feature `pytorch`).
//!
//! PyTorch's sequence classifier holds `nn.LSTM(input, hidden, num_layers, batch_first=True,
//! bidirectional)` as `rnn` and the head as `fc` (with a vocabulary, an `nn.Embedding` as
//! `embedding`). Layer k's gates are stacked in the order i, f, g, o:
//!
//! ```text
//! rnn.weight_ih_l{k}[_reverse] [4H, in]   rnn.weight_hh_l{k}[_reverse] [4H, H]
//! rnn.bias_ih_l{k}[_reverse]   [4H]       rnn.bias_hh_l{k}[_reverse]   [4H]
//! fc.weight [outputs, H × directions]    fc.bias [outputs]
//! ```
//!
//! Burn's `Lstm` holds each gate apart (`input_gate`, `forget_gate`, `cell_gate`,
//! `output_gate`, each an input and a hidden `Linear` with a bias); `_reverse` is the reverse
//! half of a `BiLstm`. The head of a bidirectional network reads the forward direction's last
//! step and the reverse direction's first (as [`crate::LstmNet::features`] does), so the
//! PyTorch module feeds `fc` with `cat(out[:, -1, :H], out[:, 0, H:])`. The parity tests check
//! the gate order against PyTorch's outputs for one and two layers, one and two directions.
//!
//! ```no_run
//! use zoo_lstm::LstmNetConfig;
//! use zoo_ndarray::NdArray;
//!
//! let config = LstmNetConfig::new(8, 2).with_layers(2).with_bidirectional(true);
//! let net = zoo_lstm::pytorch::load::<NdArray>(&config, "bilstm.pt".as_ref(), &Default::default())?;
//! zoo_lstm::pytorch::save(&net, &config, "bilstm.safetensors".as_ref())?;
//! # Ok::<(), zoo_weights::WeightsError>(())
//! ```

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_weights::WeightsError;
use zoo_weights::{TorchLayout, load_pytorch, save_safetensors};

use crate::{LstmNet, LstmNetConfig};

/// Burn's LSTM gates in PyTorch's order (i, f, g, o).
pub const LSTM_GATES: [&str; 4] = ["input_gate", "forget_gate", "cell_gate", "output_gate"];

/// Where each of the network's parameters lives in PyTorch's module.
pub fn layout(config: &LstmNetConfig) -> TorchLayout {
    let mut l = TorchLayout::new();
    for k in 0..config.layers {
        l = if config.bidirectional {
            l.recurrent(
                &format!("bi.{k}.forward"),
                "rnn",
                &format!("l{k}"),
                &LSTM_GATES,
            )
            .recurrent(
                &format!("bi.{k}.reverse"),
                "rnn",
                &format!("l{k}_reverse"),
                &LSTM_GATES,
            )
        } else {
            l.recurrent(&format!("uni.{k}"), "rnn", &format!("l{k}"), &LSTM_GATES)
        };
    }
    let l = l.linear("head", "fc");
    match config.vocab {
        Some(_) => l.embedding("embedding", "embedding"),
        None => l,
    }
}

/// A network of `config`'s architecture with the weights of a PyTorch `state_dict` (`.pt`,
/// `.pth` or `.safetensors`).
pub fn load<B: Backend>(
    config: &LstmNetConfig,
    file: &Path,
    device: &B::Device,
) -> Result<LstmNet<B>, WeightsError> {
    load_pytorch(config.init(device), file, &layout(config))
}

/// Writes `net` as a safetensors `state_dict` that PyTorch's module loads with
/// `load_state_dict(strict=True)`.
pub fn save<B: Backend>(
    net: &LstmNet<B>,
    config: &LstmNetConfig,
    file: &Path,
) -> Result<(), WeightsError> {
    save_safetensors(net, file, &layout(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Tensor, TensorData};
    use zoo_ndarray::NdArray;
    use zoo_weights::{Difference, fixtures, read_state_dict};

    /// The exports: one layer, two layers, two bidirectional layers (hidden 32, 8 features).
    fn configs() -> [(&'static str, LstmNetConfig); 3] {
        let seed = LstmNetConfig::new(8, 2);
        [
            ("lstm", seed.clone()),
            ("lstm2", seed.clone().with_layers(2)),
            ("bilstm", seed.with_layers(2).with_bidirectional(true)),
        ]
    }

    #[test]
    fn pytorch_trained_lstms_give_pytorchs_logits() {
        let device = Default::default();
        for (name, config) in configs() {
            let io = read_state_dict(&fixtures::path(&format!("{name}_io.safetensors"))).unwrap();
            let x = Tensor::<NdArray, 3>::from_data(
                TensorData::new(io["input"].values.clone(), io["input"].shape.clone()),
                &device,
            );
            for ext in ["pt", "safetensors"] {
                let file = fixtures::path(&format!("{name}.{ext}"));
                let net = load::<NdArray>(&config, &file, &device).unwrap();
                let got = net.forward(x.clone()).into_data().to_vec::<f32>().unwrap();
                let d = Difference::between(&got, &io["output"].values);
                eprintln!("{name}.{ext} on ndarray: {d}");
                assert!(d.relative() <= 1e-5, "{name}.{ext}: {d}");
            }
        }
    }

    #[test]
    fn export_is_pytorchs_state_dict_again() {
        let dir = tempfile::tempdir().unwrap();
        for (name, config) in configs() {
            let original = fixtures::path(&format!("{name}.safetensors"));
            let net = load::<NdArray>(&config, &original, &Default::default()).unwrap();
            let out = dir.path().join(format!("{name}.safetensors"));
            save(&net, &config, &out).unwrap();
            assert_eq!(
                read_state_dict(&out).unwrap(),
                read_state_dict(&original).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_two_layer_file_is_not_a_one_layer_lstm() {
        let e = load::<NdArray>(
            &LstmNetConfig::new(8, 2),
            &fixtures::path("lstm2.pt"),
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unexpected tensor 'rnn.bias_hh_l1'"), "{e}");
        let e = load::<NdArray>(
            &LstmNetConfig::new(8, 2)
                .with_layers(2)
                .with_bidirectional(true),
            &fixtures::path("lstm2.pt"),
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with("missing tensor 'rnn.weight_ih_l0_reverse' (expected shape [128, 8])"),
            "{e}"
        );
    }

    #[test]
    fn text_networks_carry_their_embedding() {
        let config = LstmNetConfig::new(6, 3)
            .with_hidden(4)
            .with_vocab(Some(20))
            .with_bidirectional(true);
        let net = config.init::<NdArray>(&Default::default());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("text.safetensors");
        save(&net, &config, &out).unwrap();
        let state = read_state_dict(&out).unwrap();
        assert_eq!(state["embedding.weight"].shape, vec![20, 6]);
        assert_eq!(state["rnn.weight_ih_l0_reverse"].shape, vec![16, 6]);
        assert_eq!(state["fc.weight"].shape, vec![3, 8]);
        let back = load::<NdArray>(&config, &out, &Default::default()).unwrap();
        let x = Tensor::<NdArray, 3>::ones([2, 3, 6], &Default::default());
        assert_eq!(
            back.forward(x.clone()).into_data(),
            net.forward(x).into_data()
        );
    }
}
