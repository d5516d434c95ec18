use super::*;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::Tensor;
use zoo_ndarray::NdArray;

type B = NdArray;

/// Two Linear layers standing for the gates of a stacked recurrent matrix, and a BatchNorm.
#[derive(Module, Debug)]
struct Net<B: Backend> {
    first: Linear<B>,
    second: Linear<B>,
    norm: BatchNorm<B>,
}

fn net() -> Net<B> {
    let d = Default::default();
    Net {
        first: LinearConfig::new(3, 2).init(&d),
        second: LinearConfig::new(3, 2).init(&d),
        norm: BatchNormConfig::new(2).init(&d),
    }
}

/// `first` and `second` are the two blocks of `rnn.weight` `[4, 3]` and `rnn.bias` `[4]`.
fn layout() -> TorchLayout {
    let mut l = TorchLayout::new();
    for (i, name) in ["first", "second"].into_iter().enumerate() {
        l = l
            .entry(Entry {
                burn: format!("{name}.weight"),
                torch: "rnn.weight".into(),
                transpose: true,
                block: Some((i, 2)),
            })
            .entry(Entry {
                burn: format!("{name}.bias"),
                torch: "rnn.bias".into(),
                transpose: false,
                block: Some((i, 2)),
            });
    }
    l.batch_norm("norm", "bn")
}

fn counting(shape: &[usize]) -> TorchTensor {
    let n = shape.iter().product::<usize>();
    TorchTensor {
        shape: shape.to_vec(),
        values: (0..n).map(|v| v as f32).collect(),
    }
}

fn state() -> StateDict {
    let mut s = StateDict::new();
    s.insert("rnn.weight".into(), counting(&[4, 3]));
    s.insert("rnn.bias".into(), counting(&[4]));
    for k in ["weight", "bias", "running_mean", "running_var"] {
        s.insert(format!("bn.{k}"), counting(&[2]));
    }
    s
}

fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

#[test]
fn gate_blocks_are_cut_by_rows_and_transposed() {
    let file = Path::new("state.pt");
    let m = load_state_dict(net(), &state(), file, &layout()).unwrap();
    // rnn.weight rows 0-1 are [[0,1,2],[3,4,5]]; Burn keeps [in, out], so first is its transpose.
    assert_eq!(values(m.first.weight.val()), [0., 3., 1., 4., 2., 5.]);
    assert_eq!(values(m.second.weight.val()), [6., 9., 7., 10., 8., 11.]);
    assert_eq!(values(m.first.bias.unwrap().val()), [0., 1.]);
    assert_eq!(values(m.second.bias.unwrap().val()), [2., 3.]);
    assert_eq!(values(m.norm.running_var.value()), [0., 1.]);
    assert_eq!(values(m.norm.gamma.val()), [0., 1.]);
}

#[test]
fn export_is_the_inverse_of_import() {
    let m = load_state_dict(net(), &state(), Path::new("x"), &layout()).unwrap();
    assert_eq!(to_state_dict(&m, &layout()).unwrap(), state());
}

#[test]
fn safetensors_round_trip_adds_the_batch_norm_counter() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("net.safetensors");
    let m = load_state_dict(net(), &state(), &file, &layout()).unwrap();
    save_safetensors(&m, &file, &layout()).unwrap();
    let back = read_state_dict(&file).unwrap();
    assert_eq!(back, state(), "num_batches_tracked is skipped on reading");
    let raw = std::fs::read(&file).unwrap();
    let st = safetensors::SafeTensors::deserialize(&raw).unwrap();
    assert!(st.names().contains(&"bn.num_batches_tracked"));
    let again = load_pytorch(net(), &file, &layout()).unwrap();
    assert_eq!(
        values(again.second.weight.val()),
        values(m.second.weight.val())
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary left"
    );
}

fn error(state: StateDict) -> String {
    load_state_dict(net(), &state, Path::new("w.pt"), &layout())
        .unwrap_err()
        .to_string()
}

#[test]
fn missing_unexpected_and_misshaped_tensors_are_named() {
    let mut s = state();
    s.remove("bn.running_var");
    assert_eq!(
        error(s),
        "w.pt: missing tensor 'bn.running_var' (expected shape [2])"
    );
    let mut s = state();
    s.insert("fc.weight".into(), counting(&[1]));
    assert!(error(s).starts_with("w.pt: unexpected tensor 'fc.weight'"));
    let mut s = state();
    s.insert("rnn.weight".into(), counting(&[4, 5]));
    assert_eq!(
        error(s),
        "w.pt: tensor 'rnn.weight' has shape [4, 5], expected [4, 3] for this architecture"
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn read_error(p: &Path) -> String {
    read_state_dict(p).unwrap_err().to_string()
}

#[test]
fn broken_files_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, bytes) in [
        ("empty.safetensors", &b""[..]),
        ("empty.pt", b""),
        ("text.pt", b"not a pickle at all"),
        ("short.safetensors", b"\x10\0\0\0\0\0\0\0{\"a\":"),
    ] {
        let p = write(d, name, bytes);
        let e = read_error(&p);
        assert!(e.starts_with(&format!("{}: ", p.display())), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
    // A header that promises more data than the file holds.
    let header = br#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
    let mut lying = (header.len() as u64).to_le_bytes().to_vec();
    lying.extend_from_slice(header);
    lying.extend_from_slice(&[0; 8]);
    let p = write(d, "lying.safetensors", &lying);
    assert!(
        read_error(&p).contains("not a valid safetensors file"),
        "{}",
        read_error(&p)
    );
    let p = write(d, "w.onnx", b"");
    assert!(read_error(&p).contains("unknown weights format"));
    assert!(read_error(&d.join("absent.pt")).ends_with("no such file"));
}

#[test]
fn float64_tensors_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let header = br#"{"fc.weight":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&1f64.to_le_bytes());
    let p = write(dir.path(), "f64.safetensors", &bytes);
    let e = read_error(&p);
    assert!(e.contains("tensor 'fc.weight' is F64, not float32"), "{e}");
}

/// A pickle whose loading would run `touch MARKER` (`os.system` through REDUCE): the reader
/// parses it and never calls anything: burn-store 0.21 refuses the global ("Unsupported Python
/// type 'os.system'"), so the marker never appears.
#[test]
fn a_pickle_that_would_run_code_is_never_executed() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("executed");
    // Protocol 2: PROTO, GLOBAL os.system, BINUNICODE command, TUPLE1, REDUCE, STOP.
    let command = format!("touch {}", marker.display());
    let mut evil = b"\x80\x02cos\nsystem\nX".to_vec();
    evil.extend_from_slice(&(command.len() as u32).to_le_bytes());
    evil.extend_from_slice(command.as_bytes());
    evil.extend_from_slice(b"\x85R.");
    let p = write(dir.path(), "evil.pt", &evil);
    match read_state_dict(&p) {
        Ok(state) => assert!(state.is_empty(), "{state:?}"),
        Err(e) => assert!(e.to_string().starts_with(&p.display().to_string()), "{e}"),
    }
    assert!(!marker.exists(), "the pickle's code ran");
    // Loading it into a model then names the first tensor it lacks.
    let e = load_pytorch(net(), &p, &layout()).unwrap_err().to_string();
    assert!(e.contains("tensor") || e.contains("state_dict"), "{e}");
}

#[test]
fn recurrent_layers_take_their_gates_in_pytorchs_order() {
    let l = TorchLayout::new().recurrent("uni.1", "rnn", "l1_reverse", &["reset", "update"]);
    let e: Vec<_> = l
        .entries()
        .iter()
        .map(|e| (e.burn.as_str(), e.torch.as_str(), e.transpose, e.block))
        .collect();
    assert_eq!(e.len(), 8);
    assert_eq!(
        e[0],
        (
            "uni.1.reset.input_transform.weight",
            "rnn.weight_ih_l1_reverse",
            true,
            Some((0, 2))
        )
    );
    assert_eq!(
        e[3],
        (
            "uni.1.reset.hidden_transform.bias",
            "rnn.bias_hh_l1_reverse",
            false,
            Some((0, 2))
        )
    );
    assert_eq!(
        e[6],
        (
            "uni.1.update.hidden_transform.weight",
            "rnn.weight_hh_l1_reverse",
            true,
            Some((1, 2))
        )
    );
    // A module that is its own gate (Burn's `Rnn.gate`): the path has no gate field.
    let elman = TorchLayout::new().recurrent("gate", "rnn", "l0", &[""]);
    assert_eq!(elman.entries()[0].burn, "gate.input_transform.weight");
}

#[test]
fn differences_are_relative_to_the_references_scale() {
    let d = Difference::between(&[1.0, -2.5, 3.0], &[1.0, -2.0, 4.0]);
    assert_eq!((d.largest, d.scale), (1.0, 4.0));
    assert_eq!(d.relative(), 0.25);
    assert_eq!(
        Difference::between(&[1.0], &[1.0, 2.0]).largest,
        f32::INFINITY
    );
    assert_eq!(
        Difference::between(&[f32::NAN], &[0.0]).relative(),
        f32::INFINITY
    );
    assert_eq!(Difference::between(&[0.5], &[0.0]).relative(), 0.5);
}
