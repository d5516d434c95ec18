//! # zoo-weights
//!
//! PyTorch `state_dict`s into and out of burn-zoo's models, with every key and shape checked.
//!
//! A model crate describes where each of its parameters lives in the PyTorch module of the
//! tutorial with a [`TorchLayout`] (`zoo_mlp::pytorch::layout`, `zoo_cnn::pytorch::layout`);
//! this crate does the rest for any Burn module:
//!
//! - [`read_state_dict`] reads a `.pt`/`.pth` file (`torch.save(model.state_dict())`, through
//!   burn-store's pickle reader, which parses the pickle and never runs code from it) or a
//!   `.safetensors` file, float32 tensors only;
//! - [`load_pytorch`] puts those tensors into a module: Linear weights transposed (PyTorch
//!   stores `[out, in]`, Burn `[in, out]`), gate blocks cut out of PyTorch's stacked recurrent
//!   matrices, and a one-line [`WeightsError`] naming the file and the tensor for a missing,
//!   unexpected or mis-shaped key;
//! - [`save_safetensors`] writes a module back under PyTorch's names and layout, for
//!   `model.load_state_dict(..., strict=True)`.
//!
//! burn-store's `PytorchStore` with its `PyTorchToBurnAdapter` covers modules whose parameter
//! paths match PyTorch's one to one. The zoo's do not (PyTorch's `nn.Sequential` numbers its
//! layers, its recurrent layers stack their gates), so the mapping is explicit here, and so are
//! its checks: burn-store's own report lists problems per tensor, not as one line a user reads.
//!
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig};
//! use zoo_weights::{load_pytorch, save_safetensors, TorchLayout};
//! use zoo_ndarray::NdArray;
//!
//! #[derive(Module, Debug)]
//! struct Net<B: burn::tensor::backend::Backend> {
//!     fc: Linear<B>,
//! }
//!
//! let device = Default::default();
//! let net = Net::<NdArray> { fc: LinearConfig::new(3, 2).init(&device) };
//! // PyTorch's `nn.Sequential(nn.Linear(3, 2))` names this layer "0".
//! let layout = TorchLayout::new().linear("fc", "0");
//! let file = std::env::temp_dir().join(format!("zoo-weights-doc-{}.safetensors", std::process::id()));
//! save_safetensors(&net, &file, &layout).unwrap();
//! let fresh = Net::<NdArray> { fc: LinearConfig::new(3, 2).init(&device) };
//! let loaded = load_pytorch(fresh, &file, &layout).unwrap();
//! assert_eq!(loaded.fc.weight.val().into_data(), net.fc.weight.val().into_data());
//! # std::fs::remove_file(&file).ok();
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::module::ParamId;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, TensorData};
use burn_store::pytorch::PytorchReader;
use burn_store::{ModuleSnapshot, TensorSnapshot};

/// What went wrong with a weights file; its `Display` is one line naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct WeightsError {
    /// The file read or written.
    pub file: PathBuf,
    /// What is wrong with it, naming the tensor where one is at fault.
    pub reason: String,
}

fn fail(file: &Path, reason: impl Into<String>) -> WeightsError {
    WeightsError {
        file: file.to_path_buf(),
        reason: reason.into(),
    }
}

/// A float32 tensor of a `state_dict`: its shape and its values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchTensor {
    /// PyTorch's shape.
    pub shape: Vec<usize>,
    /// The values in row-major order.
    pub values: Vec<f32>,
}

/// A `state_dict`: tensor names to tensors.
pub type StateDict = BTreeMap<String, TorchTensor>;

/// Where one of a module's parameters lives in a PyTorch `state_dict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The parameter's path in the Burn module (`fc1.weight`, `layers.0.bias`).
    pub burn: String,
    /// The tensor's key in the `state_dict` (`6.weight`, `rnn.weight_ih_l0`).
    pub torch: String,
    /// PyTorch stores this tensor transposed (a Linear weight: `[out, in]` against `[in, out]`).
    pub transpose: bool,
    /// The parameter is block `.0` of `.1` equal blocks along the first dimension of the
    /// PyTorch tensor (one gate of a stacked recurrent matrix); `None` for the whole tensor.
    pub block: Option<(usize, usize)>,
}

/// How a module's parameters map onto a PyTorch `state_dict`: the whole of both sides, so a
/// key missing from the file, a key the file has and the module does not, and a shape that
/// differs are all errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TorchLayout {
    entries: Vec<Entry>,
}

impl TorchLayout {
    /// An empty layout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one entry.
    pub fn entry(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// A tensor stored the same way in both (a convolution's weight, any bias).
    pub fn same(self, burn: impl Into<String>, torch: impl Into<String>) -> Self {
        self.entry(Entry {
            burn: burn.into(),
            torch: torch.into(),
            transpose: false,
            block: None,
        })
    }

    /// `nn.Linear` at `torch` (its weight transposed) as Burn's `Linear` at `burn`, with bias.
    pub fn linear(self, burn: &str, torch: &str) -> Self {
        self.entry(Entry {
            burn: format!("{burn}.weight"),
            torch: format!("{torch}.weight"),
            transpose: true,
            block: None,
        })
        .same(format!("{burn}.bias"), format!("{torch}.bias"))
    }

    /// `nn.Conv2d` or `nn.ConvTranspose2d` (same layout in both frameworks), with bias.
    pub fn conv(self, burn: &str, torch: &str) -> Self {
        self.same(format!("{burn}.weight"), format!("{torch}.weight"))
            .same(format!("{burn}.bias"), format!("{torch}.bias"))
    }

    /// `nn.BatchNorm*d`: weight and bias as Burn's `gamma` and `beta`, and the running
    /// statistics. PyTorch's `num_batches_tracked` counter has no Burn counterpart: it is
    /// skipped on import, and [`save_safetensors`] writes it as 0 for `strict` loading.
    pub fn batch_norm(self, burn: &str, torch: &str) -> Self {
        self.same(format!("{burn}.gamma"), format!("{torch}.weight"))
            .same(format!("{burn}.beta"), format!("{torch}.bias"))
            .same(
                format!("{burn}.running_mean"),
                format!("{torch}.running_mean"),
            )
            .same(
                format!("{burn}.running_var"),
                format!("{torch}.running_var"),
            )
    }

    /// One layer (one direction) of PyTorch's `nn.RNN`, `nn.GRU` or `nn.LSTM` as Burn's
    /// per-gate layers. PyTorch stacks the gates of layer `suffix` (`l0`, `l1_reverse`) into
    /// `{torch}.weight_ih_{suffix}` `[gates × hidden, input]`, `weight_hh_{suffix}` and the two
    /// biases; Burn's `GateController`s hold each gate's `input_transform` and
    /// `hidden_transform` Linear. `gates` names them in PyTorch's order, each as the Burn field
    /// under `burn` (`""` for a module that is itself the gate): `["input_gate",
    /// "forget_gate", "cell_gate", "output_gate"]` for an LSTM (PyTorch's i, f, g, o).
    pub fn recurrent(self, burn: &str, torch: &str, suffix: &str, gates: &[&str]) -> Self {
        let n = gates.len();
        gates.iter().enumerate().fold(self, |l, (i, gate)| {
            let at = if gate.is_empty() {
                burn.to_string()
            } else {
                format!("{burn}.{gate}")
            };
            [("input_transform", "ih"), ("hidden_transform", "hh")]
                .into_iter()
                .fold(l, |l, (side, key)| {
                    l.entry(Entry {
                        burn: format!("{at}.{side}.weight"),
                        torch: format!("{torch}.weight_{key}_{suffix}"),
                        transpose: true,
                        block: Some((i, n)),
                    })
                    .entry(Entry {
                        burn: format!("{at}.{side}.bias"),
                        torch: format!("{torch}.bias_{key}_{suffix}"),
                        transpose: false,
                        block: Some((i, n)),
                    })
                })
        })
    }

    /// `nn.Embedding` at `torch` as Burn's `Embedding` at `burn` (the same `[vocab, width]`).
    pub fn embedding(self, burn: &str, torch: &str) -> Self {
        self.same(format!("{burn}.weight"), format!("{torch}.weight"))
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn torch_keys(&self) -> BTreeSet<&str> {
        self.entries.iter().map(|e| e.torch.as_str()).collect()
    }
}

/// Keys of PyTorch buffers that no Burn module holds: skipped on import.
fn ignored(key: &str) -> bool {
    key.ends_with("num_batches_tracked")
}

fn shape_text(shape: &[usize]) -> String {
    format!("{shape:?}")
}

/// Reads a `state_dict` from a `.pt`/`.pth` (PyTorch's zip or legacy pickle format) or a
/// `.safetensors` file, told apart by the extension. Every tensor must be float32, except
/// the BatchNorm counters (`num_batches_tracked`, int64), which are skipped: a float64 or
/// float16 tensor is refused with its name (convert the model with `.float()` before saving).
pub fn read_state_dict(file: &Path) -> Result<StateDict, WeightsError> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("safetensors") => read_safetensors(file),
        Some("pt" | "pth" | "bin") => read_pickle(file),
        _ => Err(fail(
            file,
            "unknown weights format (expected a .pt, .pth or .safetensors file)",
        )),
    }
}

fn read_pickle(file: &Path) -> Result<StateDict, WeightsError> {
    if !file.is_file() {
        return Err(fail(file, "no such file"));
    }
    let reader = PytorchReader::new(file)
        .map_err(|e| fail(file, format!("not a PyTorch state_dict: {e}")))?;
    let mut out = StateDict::new();
    for (name, snapshot) in reader.tensors() {
        if ignored(name) {
            continue;
        }
        if snapshot.dtype != DType::F32 {
            return Err(fail(
                file,
                format!(
                    "tensor '{name}' is {:?}, not float32 (save the model after .float())",
                    snapshot.dtype
                ),
            ));
        }
        let data = snapshot
            .to_data()
            .map_err(|e| fail(file, format!("tensor '{name}': {e}")))?;
        let values = data
            .to_vec::<f32>()
            .map_err(|e| fail(file, format!("tensor '{name}': {e:?}")))?;
        out.insert(
            name.clone(),
            TorchTensor {
                shape: data.shape.to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

fn read_safetensors(file: &Path) -> Result<StateDict, WeightsError> {
    let bytes = std::fs::read(file).map_err(|e| fail(file, format!("cannot read: {e}")))?;
    // `deserialize` checks the header against the file: offsets in order, inside the data,
    // and matching each tensor's shape and dtype.
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| fail(file, format!("not a valid safetensors file: {e}")))?;
    let mut out = StateDict::new();
    for (name, view) in st.tensors() {
        if ignored(&name) {
            continue;
        }
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(fail(
                file,
                format!(
                    "tensor '{name}' is {:?}, not float32 (save the model after .float())",
                    view.dtype()
                ),
            ));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(
            name,
            TorchTensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

/// The string metadata (`__metadata__`) of a safetensors file; empty when it has none.
pub fn read_metadata(
    file: &Path,
) -> Result<std::collections::HashMap<String, String>, WeightsError> {
    let bytes = std::fs::read(file).map_err(|e| fail(file, format!("cannot read: {e}")))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| fail(file, format!("not a valid safetensors file: {e}")))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// `[rows, cols]` → `[cols, rows]`.
fn transposed(t: &TorchTensor) -> TorchTensor {
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut values = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            values[j * r + i] = t.values[i * c + j];
        }
    }
    TorchTensor {
        shape: vec![c, r],
        values,
    }
}

/// The PyTorch shape an entry expects, given the Burn parameter's shape.
fn torch_shape(entry: &Entry, burn: &[usize]) -> Vec<usize> {
    let mut shape = burn.to_vec();
    if entry.transpose {
        shape.reverse();
    }
    if let Some((_, blocks)) = entry.block {
        shape[0] *= blocks;
    }
    shape
}

/// The module's parameters by path, with what [`TensorSnapshot`] needs to rebuild them.
fn parameters<B: Backend, M: ModuleSnapshot<B>>(model: &M) -> BTreeMap<String, TensorSnapshot> {
    model
        .collect(None, None, false)
        .into_iter()
        .map(|s| (s.full_path(), s))
        .collect()
}

fn check_layout(
    file: &Path,
    layout: &TorchLayout,
    params: &BTreeMap<String, TensorSnapshot>,
) -> Result<(), WeightsError> {
    for e in layout.entries() {
        if !params.contains_key(&e.burn) {
            return Err(fail(
                file,
                format!(
                    "the zoo's layout names '{}', which this model does not have (a bug in the layout)",
                    e.burn
                ),
            ));
        }
    }
    let mapped: BTreeSet<&str> = layout.entries().iter().map(|e| e.burn.as_str()).collect();
    if let Some(p) = params.keys().find(|p| !mapped.contains(p.as_str())) {
        return Err(fail(
            file,
            format!("the zoo's layout leaves parameter '{p}' unmapped (a bug in the layout)"),
        ));
    }
    Ok(())
}

/// Loads the `state_dict` in `file` into `model` (see [`read_state_dict`] for the formats).
/// The file must hold exactly the layout's tensors with the shapes this model's architecture
/// gives them; otherwise a [`WeightsError`] names the first key that is missing, unexpected or
/// mis-shaped, with the expected and found shapes.
pub fn load_pytorch<B: Backend, M: ModuleSnapshot<B>>(
    model: M,
    file: &Path,
    layout: &TorchLayout,
) -> Result<M, WeightsError> {
    let state = read_state_dict(file)?;
    load_state_dict(model, &state, file, layout)
}

/// [`load_pytorch`] from a `state_dict` already read; `file` names it in errors.
pub fn load_state_dict<B: Backend, M: ModuleSnapshot<B>>(
    mut model: M,
    state: &StateDict,
    file: &Path,
    layout: &TorchLayout,
) -> Result<M, WeightsError> {
    let params = parameters(&model);
    check_layout(file, layout, &params)?;
    let wanted = layout.torch_keys();
    if let Some(extra) = state.keys().find(|k| !wanted.contains(k.as_str())) {
        return Err(fail(
            file,
            format!(
                "unexpected tensor '{extra}': this architecture has no such parameter (a model of another architecture or size?)"
            ),
        ));
    }
    let mut snapshots = Vec::with_capacity(layout.entries().len());
    for e in layout.entries() {
        let param = &params[&e.burn];
        let burn_shape = param.shape.to_vec();
        let expected = torch_shape(e, &burn_shape);
        let t = state.get(&e.torch).ok_or_else(|| {
            fail(
                file,
                format!(
                    "missing tensor '{}' (expected shape {})",
                    e.torch,
                    shape_text(&expected)
                ),
            )
        })?;
        if t.shape != expected {
            return Err(fail(
                file,
                format!(
                    "tensor '{}' has shape {}, expected {} for this architecture",
                    e.torch,
                    shape_text(&t.shape),
                    shape_text(&expected)
                ),
            ));
        }
        let mut part = match e.block {
            Some((i, n)) => {
                let rows = t.shape[0] / n;
                let width: usize = t.shape[1..].iter().product();
                let mut shape = t.shape.clone();
                shape[0] = rows;
                TorchTensor {
                    shape,
                    values: t.values[i * rows * width..(i + 1) * rows * width].to_vec(),
                }
            }
            None => t.clone(),
        };
        if e.transpose {
            part = transposed(&part);
        }
        let data = TensorData::new(part.values, part.shape);
        snapshots.push(TensorSnapshot::from_data(
            data,
            param.path_stack.clone().unwrap_or_default(),
            param.container_stack.clone().unwrap_or_default(),
            param.tensor_id.unwrap_or_else(ParamId::new),
        ));
    }
    let result = model.apply(snapshots, None, None, false);
    if let Some(err) = result.errors.first() {
        return Err(fail(file, format!("cannot apply the weights: {err}")));
    }
    if let Some(missing) = result.missing.first() {
        return Err(fail(
            file,
            format!("parameter '{missing:?}' received no tensor"),
        ));
    }
    Ok(model)
}

/// The module's parameters under PyTorch's names and in its layout: the inverse of
/// [`load_state_dict`] (gate blocks stacked back in order, Linear weights transposed back).
pub fn to_state_dict<B: Backend, M: ModuleSnapshot<B>>(
    model: &M,
    layout: &TorchLayout,
) -> Result<StateDict, String> {
    let params = parameters(model);
    check_layout(Path::new("<model>"), layout, &params).map_err(|e| e.reason)?;
    let mut parts: BTreeMap<&str, Vec<(usize, TorchTensor)>> = BTreeMap::new();
    for e in layout.entries() {
        let data = params[&e.burn]
            .to_data()
            .map_err(|err| format!("parameter '{}': {err}", e.burn))?
            .convert::<f32>();
        let mut t = TorchTensor {
            shape: data.shape.to_vec(),
            values: data
                .to_vec::<f32>()
                .map_err(|err| format!("parameter '{}': {err:?}", e.burn))?,
        };
        if e.transpose {
            t = transposed(&t);
        }
        let index = e.block.map_or(0, |(i, _)| i);
        parts.entry(e.torch.as_str()).or_default().push((index, t));
    }
    let mut out = StateDict::new();
    for (key, mut blocks) in parts {
        blocks.sort_by_key(|(i, _)| *i);
        let mut shape = blocks[0].1.shape.clone();
        shape[0] = blocks.iter().map(|(_, t)| t.shape[0]).sum();
        let values = blocks.into_iter().flat_map(|(_, t)| t.values).collect();
        out.insert(key.to_string(), TorchTensor { shape, values });
    }
    Ok(out)
}

/// Writes `model` to `file` as safetensors under PyTorch's names (see [`to_state_dict`]),
/// atomically: a temporary file beside it, renamed into place. BatchNorm layers also get
/// PyTorch's `num_batches_tracked` (0), so `load_state_dict(strict=True)` accepts the file.
pub fn save_safetensors<B: Backend, M: ModuleSnapshot<B>>(
    model: &M,
    file: &Path,
    layout: &TorchLayout,
) -> Result<(), WeightsError> {
    let mut state = to_state_dict(model, layout).map_err(|r| fail(file, r))?;
    let counters: Vec<String> = state
        .keys()
        .filter_map(|k| k.strip_suffix(".running_mean"))
        .map(|prefix| format!("{prefix}.num_batches_tracked"))
        .collect();
    for key in counters {
        state.insert(
            key,
            TorchTensor {
                shape: vec![],
                values: vec![0.0],
            },
        );
    }
    write_safetensors(file, &state, None)
}

/// Writes float32 tensors to a safetensors file atomically, with optional string metadata.
pub fn write_safetensors(
    file: &Path,
    state: &StateDict,
    metadata: Option<std::collections::HashMap<String, String>>,
) -> Result<(), WeightsError> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = state
        .iter()
        .map(|(k, t)| {
            let raw = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), raw, t.shape.clone())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(k, raw, shape)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), raw)
                .map(|v| (k.clone(), v))
                .map_err(|e| fail(file, format!("tensor '{k}': {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = safetensors::serialize(views, metadata)
        .map_err(|e| fail(file, format!("cannot encode: {e}")))?;
    zoo_data::fs::atomic_write(file, &out).map_err(|e| fail(file, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests;

/// How far a model's outputs are from a reference's (PyTorch's on the same input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// The largest absolute difference of two corresponding values.
    pub largest: f32,
    /// The largest magnitude among the reference's values.
    pub scale: f32,
}

impl Difference {
    /// Compares `got` with `want`, value by value (equal lengths; a length mismatch or a
    /// non-finite value gives an infinite difference).
    pub fn between(got: &[f32], want: &[f32]) -> Self {
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        let largest = if got.len() == want.len() {
            got.iter().zip(want).fold(0f32, |m, (a, b)| {
                let d = (a - b).abs();
                if d.is_nan() { f32::INFINITY } else { m.max(d) }
            })
        } else {
            f32::INFINITY
        };
        Self { largest, scale }
    }

    /// The largest difference relative to the reference's scale (1 for an all-zero reference).
    pub fn relative(&self) -> f32 {
        if self.scale > 0.0 {
            self.largest / self.scale
        } else {
            self.largest
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "largest difference {:e} at scale {} (relative {:e})",
            self.largest,
            self.scale,
            self.relative()
        )
    }
}

/// Where the model crates' parity tests find `reference/pytorch_seed.py --export`'s files;
/// shared test support, not part of the API.
#[doc(hidden)]
pub mod fixtures {
    use std::path::{Path, PathBuf};

    /// `name` in the directory that `ZOO_PYTORCH_FIXTURES` names (the test command points it
    /// at a fresh export from the provisioned torch), else in the repository's
    /// `tests/fixtures/pytorch`.
    pub fn path(name: &str) -> PathBuf {
        std::env::var_os("ZOO_PYTORCH_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pytorch")
            })
            .join(name)
    }

    /// [`path`] if that file exists. The repository leaves out the largest exports (the CNN's
    /// `.pt`, the strong CNN, the GANs: 30 MB together); a fresh export has them all.
    pub fn exported(name: &str) -> Option<PathBuf> {
        let p = path(name);
        if p.is_file() {
            Some(p)
        } else {
            eprintln!(
                "{name}: not in {} (a fresh `reference/pytorch_seed.py --export DIR` with ZOO_PYTORCH_FIXTURES=DIR has it); skipped",
                p.parent()
                    .map_or(String::new(), |d| d.display().to_string())
            );
            None
        }
    }
}
