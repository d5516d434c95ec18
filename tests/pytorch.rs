//! The zoo's models exported under PyTorch's names load into the tutorial's PyTorch modules
//! with `load_state_dict(strict=True)` and give the zoo's outputs there.
//!
//! Needs torch: `ZOO_TORCH_PYTHON` names a Python that imports it (the test command sets it to
//! the provisioned venv's). Each architecture is built with Burn's initialisation, so none of
//! these weights came from PyTorch; the zoo writes them and its outputs on a fixed batch, and
//! `reference/pytorch_seed.py --verify` loads both and compares.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use burn::tensor::{Tensor, TensorData};
use burn_zoo::cnn::{CnnConfig, CnnPreset};
use burn_zoo::gan::{Arch, GanConfig};
use burn_zoo::lstm::model::LstmNetConfig;
use burn_zoo::mlp::MlpConfig;
use burn_zoo::rnn::{CellKind, RnnNetConfig};
use burn_zoo::weights::{StateDict, TorchTensor, WeightsError, write_safetensors};
use zoo_ndarray::NdArray;

type B = NdArray;

/// A deterministic batch of `shape` with values in [-1, 1].
fn batch<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn torch<const D: usize>(t: Tensor<B, D>) -> TorchTensor {
    TorchTensor {
        shape: t.dims().to_vec(),
        values: t.into_data().to_vec::<f32>().unwrap(),
    }
}

/// Writes `name`'s weights (by `save`) and `name`_io.safetensors with the input and the output.
fn export<const I: usize, const O: usize>(
    dir: &Path,
    name: &str,
    save: impl FnOnce(&Path) -> Result<(), WeightsError>,
    input: Tensor<B, I>,
    output: Tensor<B, O>,
) {
    save(&dir.join(format!("{name}.safetensors"))).unwrap();
    let io: StateDict = BTreeMap::from([
        ("input".to_string(), torch(input)),
        ("output".to_string(), torch(output)),
    ]);
    write_safetensors(&dir.join(format!("{name}_io.safetensors")), &io, None).unwrap();
}

#[test]
fn zoo_exports_load_strictly_into_pytorch_and_give_the_zoos_outputs() {
    let Some(python) = std::env::var_os("ZOO_TORCH_PYTHON") else {
        eprintln!("ZOO_TORCH_PYTHON is not set (a Python with torch): skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let (d, out) = (&device, dir.path());

    let c = MlpConfig::new();
    let m = c.init::<B>(d);
    let x = batch([5, 2]);
    export(
        out,
        "mlp",
        |f| burn_zoo::mlp::pytorch::save(&m, &c, f),
        x.clone(),
        m.forward(x),
    );

    for (name, c) in [
        ("cnn", CnnConfig::new()),
        (
            "cnn_strong",
            CnnConfig::new().with_preset(CnnPreset::Strong),
        ),
        (
            "cnn_lenet5",
            CnnConfig::new().with_preset(CnnPreset::Lenet5),
        ),
        (
            "cnn_resnet",
            CnnConfig::new().with_preset(CnnPreset::Resnet),
        ),
    ] {
        let m = c.init::<B>(d);
        let x = batch([3, 1, 28, 28]);
        export(
            out,
            name,
            |f| burn_zoo::cnn::pytorch::save(&m, &c, f),
            x.clone(),
            m.forward(x),
        );
    }

    for (name, c) in [
        ("rnn", RnnNetConfig::new(8, 2)),
        ("gru", RnnNetConfig::new(8, 2).with_cell(CellKind::Gru)),
    ] {
        let m = c.init::<B>(d);
        let x = batch([4, 10, 8]);
        export(
            out,
            name,
            |f| burn_zoo::rnn::pytorch::save(&m, &c, f),
            x.clone(),
            m.forward(x),
        );
    }

    let seed = LstmNetConfig::new(8, 2);
    for (name, c) in [
        ("lstm", seed.clone()),
        ("lstm2", seed.clone().with_layers(2)),
        ("bilstm", seed.with_layers(2).with_bidirectional(true)),
    ] {
        let m = c.init::<B>(d);
        let x = batch([4, 10, 8]);
        export(
            out,
            name,
            |f| burn_zoo::lstm::pytorch::save(&m, &c, f),
            x.clone(),
            m.forward(x),
        );
    }

    for (prefix, c) in [
        ("gan", GanConfig::new()),
        ("dcgan", GanConfig::new().with_arch(Arch::Conv)),
    ] {
        let (g, dis) = (c.init_generator::<B>(d), c.init_discriminator::<B>(d));
        let z = batch([3, 100]);
        let images = g.forward(z.clone(), None);
        let save_g = |f: &Path| burn_zoo::gan::pytorch::save_generator(&g, &c, f);
        export(
            out,
            &format!("{prefix}_generator"),
            save_g,
            z,
            images.clone(),
        );
        let logits = dis.forward(images.clone(), None);
        let save_d = |f: &Path| burn_zoo::gan::pytorch::save_discriminator(&dis, &c, f);
        export(
            out,
            &format!("{prefix}_discriminator"),
            save_d,
            images,
            logits,
        );
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/pytorch_seed.py");
    let run = Command::new(&python)
        .arg(&script)
        .arg("--verify")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "--verify failed");
    assert_eq!(stdout.matches("loaded strictly").count(), 14, "{stdout}");
}

/// The README's round trip, for each binary that trains on MNIST: the binary fine-tunes
/// PyTorch's weights and exports them, and PyTorch, loading that export strictly into the
/// tutorial's module, gets the test accuracy the zoo printed (the CNN on images, the RNN and
/// LSTM on the same images read as 28 rows).
#[test]
fn binary_round_trips_give_pytorch_the_zoos_accuracy() {
    let Some(python) = std::env::var_os("ZOO_TORCH_PYTHON") else {
        eprintln!("ZOO_TORCH_PYTHON is not set (a Python with torch): skipped");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let zoo_dir = dir.path().join("zoo");
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let mut printed = Vec::new();
    for (example, name, extra) in [
        ("cnn", "cnn", &["--train-limit", "256"][..]),
        ("rnn", "rnn_mnist", &[][..]),
        ("lstm", "lstm_mnist", &[][..]),
    ] {
        let bin = examples.join(example);
        let run = Command::new(&bin)
            .arg("--weights")
            .arg(root.join(format!("tests/fixtures/pytorch/{name}.safetensors")))
            .args(["--epochs", "1", "--quiet", "--data"])
            .arg(root.join("assets/mnist-sample"))
            .args(extra)
            .arg("--artifact-dir")
            .arg(dir.path().join(name))
            .arg("--export-weights")
            .arg(zoo_dir.join(format!("{name}.safetensors")))
            .output()
            .unwrap_or_else(|e| panic!("{}: {e} (built by cargo test)", bin.display()));
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{example}: {stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let zoo = stdout
            .lines()
            .find_map(|l| l.strip_prefix("| accuracy"))
            .and_then(|l| {
                l.trim_matches(|c: char| c == '|' || c.is_whitespace())
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{example}: no accuracy in:\n{stdout}"));
        printed.push((name, zoo));
    }
    let verify = Command::new(&python)
        .arg(root.join("reference/pytorch_seed.py"))
        .arg("--verify")
        .arg(&zoo_dir)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    eprintln!(
        "zoo: {printed:?}\n{said}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(verify.status.success());
    for (name, zoo) in printed {
        assert!(
            said.contains(&format!("{name}: loaded strictly; test accuracy {zoo:.4} ")),
            "{name}: the zoo printed {zoo:.4}; PyTorch said:\n{said}"
        );
    }
}
