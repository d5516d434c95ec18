//! The tutorial's PyTorch RNN and GRU weights in and out (feature `pytorch`).
//!
//! PyTorch's sequence classifier holds the recurrent layer as `rnn` (`nn.RNN` with
//! `nonlinearity="tanh"` or `"relu"`, or `nn.GRU`, `batch_first=True`) and the head as `fc`
//! (`nn.Linear`), and with a vocabulary an `nn.Embedding` as `embedding`:
//!
//! ```text
//! rnn.weight_ih_l0 [G·H, input]   rnn.weight_hh_l0 [G·H, H]   rnn.bias_ih_l0, rnn.bias_hh_l0 [G·H]
//! fc.weight [outputs, H]          fc.bias [outputs]           (embedding.weight [vocab, input])
//! ```
//!
//! with G = 1 for `nn.RNN` and 3 for `nn.GRU`, whose gates PyTorch stacks as r (reset), z
//! (update), n (new). Burn's `Gru` holds the same three gates apart, and with `reset_after`
//! (its default, kept by [`RnnNetConfig::init`]) computes PyTorch's formulation:
//! `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`. The parity
//! tests check both against PyTorch's outputs.
//!
//! ```no_run
//! use zoo_rnn::{CellKind, RnnNetConfig};
//! use zoo_ndarray::NdArray;
//!
//! let config = RnnNetConfig::new(8, 2).with_cell(CellKind::Gru);
//! let net = zoo_rnn::pytorch::load::<NdArray>(&config, "gru.pt".as_ref(), &Default::default())?;
//! zoo_rnn::pytorch::save(&net, &config, "gru.safetensors".as_ref())?;
//! # Ok::<(), zoo_weights::WeightsError>(())
//! ```

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_weights::WeightsError;
use zoo_weights::{TorchLayout, load_pytorch, save_safetensors};

use crate::{CellKind, RnnNet, RnnNetConfig};

/// Burn's GRU gates in PyTorch's order (r, z, n).
pub const GRU_GATES: [&str; 3] = ["reset_gate", "update_gate", "new_gate"];

/// Where each of the network's parameters lives in PyTorch's module.
pub fn layout(config: &RnnNetConfig) -> TorchLayout {
    let l = match config.cell {
        CellKind::Tanh | CellKind::Relu => {
            TorchLayout::new().recurrent("layer.Elman.gate", "rnn", "l0", &[""])
        }
        CellKind::Gru => TorchLayout::new().recurrent("layer.Gru", "rnn", "l0", &GRU_GATES),
    };
    let l = l.linear("head", "fc");
    match config.vocab {
        Some(_) => l.embedding("embedding", "embedding"),
        None => l,
    }
}

/// A network of `config`'s architecture with the weights of a PyTorch `state_dict` (`.pt`,
/// `.pth` or `.safetensors`).
pub fn load<B: Backend>(
    config: &RnnNetConfig,
    file: &Path,
    device: &B::Device,
) -> Result<RnnNet<B>, WeightsError> {
    load_pytorch(config.init(device), file, &layout(config))
}

/// Writes `net` as a safetensors `state_dict` that PyTorch's module loads with
/// `load_state_dict(strict=True)`.
pub fn save<B: Backend>(
    net: &RnnNet<B>,
    config: &RnnNetConfig,
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

    /// The PyTorch-trained `name` (rnn: tanh, gru) against PyTorch's outputs on its batch.
    fn parity(name: &str, cell: CellKind) -> Difference {
        let config = RnnNetConfig::new(8, 2).with_cell(cell);
        let io = read_state_dict(&fixtures::path(&format!("{name}_io.safetensors"))).unwrap();
        let device = Default::default();
        let x = Tensor::<NdArray, 3>::from_data(
            TensorData::new(io["input"].values.clone(), io["input"].shape.clone()),
            &device,
        );
        let mut worst: Option<Difference> = None;
        for ext in ["pt", "safetensors"] {
            let file = fixtures::path(&format!("{name}.{ext}"));
            let net = load::<NdArray>(&config, &file, &device).unwrap();
            let got = net.forward(x.clone()).into_data().to_vec::<f32>().unwrap();
            let d = Difference::between(&got, &io["output"].values);
            eprintln!("{name}.{ext} on ndarray: {d}");
            if worst.is_none_or(|w| d.relative() > w.relative()) {
                worst = Some(d);
            }
        }
        worst.unwrap()
    }

    #[test]
    fn pytorch_trained_tanh_rnn_gives_pytorchs_logits() {
        let d = parity("rnn", CellKind::Tanh);
        assert!(d.relative() <= 1e-5, "{d}");
    }

    #[test]
    fn pytorch_trained_gru_gives_pytorchs_logits() {
        let d = parity("gru", CellKind::Gru);
        assert!(d.relative() <= 1e-5, "{d}");
    }

    #[test]
    fn export_is_pytorchs_state_dict_again() {
        let dir = tempfile::tempdir().unwrap();
        for (name, cell) in [("rnn", CellKind::Tanh), ("gru", CellKind::Gru)] {
            let config = RnnNetConfig::new(8, 2).with_cell(cell);
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
    fn a_gru_file_is_not_an_rnn() {
        let e = load::<NdArray>(
            &RnnNetConfig::new(8, 2),
            &fixtures::path("gru.pt"),
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with(
                "tensor 'rnn.weight_ih_l0' has shape [96, 8], expected [32, 8] for this architecture"
            ),
            "{e}"
        );
    }

    #[test]
    fn text_networks_carry_their_embedding() {
        let config = RnnNetConfig::new(6, 3)
            .with_hidden(4)
            .with_cell(CellKind::Relu)
            .with_vocab(Some(20));
        let net = config.init::<NdArray>(&Default::default());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("text.safetensors");
        save(&net, &config, &out).unwrap();
        let state = read_state_dict(&out).unwrap();
        assert_eq!(state["embedding.weight"].shape, vec![20, 6]);
        assert_eq!(state["rnn.weight_hh_l0"].shape, vec![4, 4]);
        let back = load::<NdArray>(&config, &out, &Default::default()).unwrap();
        let x = Tensor::<NdArray, 3>::ones([2, 3, 6], &Default::default());
        assert_eq!(
            back.forward(x.clone()).into_data(),
            net.forward(x).into_data()
        );
    }
}
