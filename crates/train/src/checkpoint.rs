//! Checkpoint files: a small self-describing header, then the model and optimiser records.
//!
//! Layout: `BURNZOO\0`, format version (u32 LE), then three length-prefixed (u64 LE) sections:
//! the JSON [`CheckpointMeta`], the model record and the optimiser record (Burn's named
//! MessagePack recorder, full precision). Lengths are checked against the file before anything
//! is allocated, and the header is checked against the model being resumed before any record
//! is decoded, so a checkpoint of another model or configuration is a clear error.

use std::path::Path;

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::train_error::TrainError;

const MAGIC: &[u8; 8] = b"BURNZOO\0";
/// Version of the checkpoint layout and of [`CheckpointMeta`].
pub const FORMAT_VERSION: u32 = 1;

/// Recorder used for every model and optimiser record the zoo writes.
pub type ZooRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Identifies what a checkpoint holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelId {
    /// Model kind, e.g. `mlp`.
    pub kind: String,
    /// Hash of the model configuration (architecture): records only fit the same one.
    pub config_hash: String,
    /// Floating-point element type of the backend that wrote it.
    pub float_type: String,
    /// Version of the model's record layout (its module tree): raised when a model's modules
    /// change shape, so an older record is refused by number instead of failing to decode.
    /// Files written before the field existed read as 1.
    #[serde(default = "first_layout")]
    pub layout: u32,
}

fn first_layout() -> u32 {
    1
}

impl ModelId {
    /// The identity of a model of `kind` built from `config`.
    pub fn new<C: Serialize>(kind: &str, config: &C, float_type: &str) -> Self {
        let json = serde_json::to_string(config).unwrap_or_default();
        Self {
            kind: kind.into(),
            config_hash: fnv1a_hex(json.as_bytes()),
            float_type: float_type.into(),
            layout: first_layout(),
        }
    }

    /// The same identity with record layout `layout` (see [`ModelId::layout`]).
    pub fn with_layout(mut self, layout: u32) -> Self {
        self.layout = layout;
        self
    }
}

/// Everything about a checkpoint except the records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// What model it is.
    pub model: ModelId,
    /// Epochs completed when it was written.
    pub epoch: usize,
    /// Loop state needed to continue (history, early-stopping counters, …), as JSON.
    pub state: serde_json::Value,
}

/// A decoded checkpoint.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The header.
    pub meta: CheckpointMeta,
    /// Model record bytes.
    pub model: Vec<u8>,
    /// Optimiser record bytes.
    pub optimizer: Vec<u8>,
}

impl Checkpoint {
    /// Serialises the checkpoint.
    pub fn encode(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).unwrap_or_default();
        let mut out = Vec::with_capacity(12);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend(join_sections(&[&meta[..], &self.model, &self.optimizer]));
        out
    }

    /// Parses checkpoint bytes read from `path` (named in errors).
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self, TrainError> {
        let bad = |reason: String| TrainError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad("not a burn-zoo checkpoint (bad magic bytes)".into()));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "checkpoint format version {version}, this build reads version {FORMAT_VERSION}"
            )));
        }
        let sections = split_sections(
            &bytes[12..],
            &["header", "model record", "optimiser record"],
        )
        .map_err(bad)?;
        let meta: CheckpointMeta = serde_json::from_slice(sections[0])
            .map_err(|e| bad(format!("unreadable header: {e}")))?;
        Ok(Self {
            meta,
            model: sections[1].to_vec(),
            optimizer: sections[2].to_vec(),
        })
    }

    /// Reads and parses a checkpoint file.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path).map_err(|source| TrainError::Io {
            path: path.into(),
            source,
        })?;
        Self::decode(&bytes, path)
    }

    /// Checks that this checkpoint was written for `expected`.
    pub fn check_model(&self, expected: &ModelId, path: &Path) -> Result<(), TrainError> {
        let got = &self.meta.model;
        let reason = if got.kind != expected.kind {
            format!(
                "checkpoint of a '{}' model, cannot load it into '{}'",
                got.kind, expected.kind
            )
        } else if got.config_hash != expected.config_hash {
            format!(
                "checkpoint of a different {} configuration (hash {} vs {}); use the \
                 original model flags",
                got.kind, got.config_hash, expected.config_hash
            )
        } else if got.layout != expected.layout {
            format!(
                "{} record layout version {}, this build reads version {} (the model's \
                 modules changed since it was written; train it again)",
                got.kind, got.layout, expected.layout
            )
        } else if got.float_type != expected.float_type {
            format!(
                "checkpoint of float type {}, this backend uses {}",
                got.float_type, expected.float_type
            )
        } else {
            return Ok(());
        };
        Err(TrainError::Checkpoint {
            path: path.into(),
            reason,
        })
    }
}

/// Splits `bytes` into `names.len()` length-prefixed (u64 LE) sections, checking every length
/// against what remains and that nothing follows the last one.
fn split_sections<'a>(bytes: &'a [u8], names: &[&str]) -> Result<Vec<&'a [u8]>, String> {
    let mut rest = bytes;
    let mut sections = Vec::with_capacity(names.len());
    for name in names {
        if rest.len() < 8 {
            return Err(format!("truncated before the {name}"));
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&rest[..8]);
        let len = u64::from_le_bytes(len);
        rest = &rest[8..];
        if len > rest.len() as u64 {
            return Err(format!(
                "truncated: the {name} needs {len} bytes, {} remain",
                rest.len()
            ));
        }
        let (section, tail) = rest.split_at(len as usize);
        sections.push(section);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(format!(
            "{} unexpected bytes after the last section",
            rest.len()
        ));
    }
    Ok(sections)
}

fn join_sections(sections: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sections.iter().map(|s| s.len() + 8).sum());
    for section in sections {
        out.extend_from_slice(&(section.len() as u64).to_le_bytes());
        out.extend_from_slice(section);
    }
    out
}

/// Packs several records into one checkpoint section: a GAN checkpoint's model section holds
/// the generator and the discriminator, its optimiser section both optimisers.
pub fn pack_records(records: &[&[u8]]) -> Vec<u8> {
    join_sections(records)
}

/// Unpacks what [`pack_records`] wrote, one record per name (names appear in errors, with the
/// checkpoint `path`).
pub fn unpack_records(
    bytes: &[u8],
    names: &[&str],
    path: &Path,
) -> Result<Vec<Vec<u8>>, TrainError> {
    split_sections(bytes, names)
        .map(|s| s.into_iter().map(<[u8]>::to_vec).collect())
        .map_err(|reason| TrainError::Checkpoint {
            path: path.into(),
            reason,
        })
}

/// The newest checkpoint in `dir` for `--resume` (an error without an artifact directory or a
/// checkpoint), checked against `model`, with its loop state decoded.
pub fn read_resume_checkpoint<S: serde::de::DeserializeOwned>(
    dir: Option<&crate::artifacts::ArtifactDir>,
    model: &ModelId,
) -> Result<(Checkpoint, S, std::path::PathBuf), TrainError> {
    let dir =
        dir.ok_or_else(|| TrainError::Invalid("resuming needs an artifact directory".into()))?;
    let (_, path) = dir.checkpoints()?.pop().ok_or_else(|| {
        TrainError::Invalid(format!(
            "resume: no checkpoint in {}",
            dir.root().join("checkpoints").display()
        ))
    })?;
    let ck = Checkpoint::read(&path)?;
    ck.check_model(model, &path)?;
    let state =
        serde_json::from_value(ck.meta.state.clone()).map_err(|e| TrainError::Checkpoint {
            path: path.clone(),
            reason: format!("unreadable loop state: {e}"),
        })?;
    Ok((ck, state, path))
}

/// Writes the checkpoint of `epoch` (loop `state`, model and optimiser records) atomically into
/// `dir`, keeps the newest `keep` (0: all), and returns its path.
pub fn write_epoch_checkpoint<S: Serialize>(
    dir: &crate::artifacts::ArtifactDir,
    model: &ModelId,
    epoch: usize,
    state: &S,
    records: (Vec<u8>, Vec<u8>),
    keep: usize,
) -> Result<std::path::PathBuf, TrainError> {
    let path = dir.checkpoint(epoch);
    let ck = Checkpoint {
        meta: CheckpointMeta {
            model: model.clone(),
            epoch,
            state: serde_json::to_value(state).map_err(|e| TrainError::Backend(e.to_string()))?,
        },
        model: records.0,
        optimizer: records.1,
    };
    crate::artifacts::atomic_write(&path, &ck.encode())?;
    dir.prune_checkpoints(keep)?;
    Ok(path)
}

/// Serialises a module's record to bytes.
pub fn module_to_bytes<B: Backend, M: Module<B>>(module: M) -> Result<Vec<u8>, TrainError> {
    Recorder::<B>::record(&ZooRecorder::default(), module.into_record(), ())
        .map_err(|e| TrainError::Backend(format!("cannot serialise the model: {e}")))
}

/// Loads record bytes (from `path`, named in errors) into `module`.
pub fn module_from_bytes<B: Backend, M: Module<B>>(
    module: M,
    bytes: Vec<u8>,
    device: &B::Device,
    path: &Path,
) -> Result<M, TrainError> {
    let record = Recorder::<B>::load(&ZooRecorder::default(), bytes, device).map_err(|e| {
        TrainError::Checkpoint {
            path: path.into(),
            reason: format!("model record does not fit this model: {e}"),
        }
    })?;
    Ok(module.load_record(record))
}

/// Saves a module as a standalone Burn record file (named MessagePack), atomically.
pub fn save_module<B: Backend, M: Module<B>>(module: M, path: &Path) -> Result<(), TrainError> {
    crate::artifacts::atomic_write(path, &module_to_bytes::<B, M>(module)?)
}

/// Loads a module saved by [`save_module`].
pub fn load_module<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    device: &B::Device,
) -> Result<M, TrainError> {
    let bytes = std::fs::read(path).map_err(|source| TrainError::Io {
        path: path.into(),
        source,
    })?;
    module_from_bytes::<B, M>(module, bytes, device, path)
}

/// Saves a trained model as `path` (a Burn record) plus `path` with extension `json` holding its
/// [`ModelId`], both atomically.
pub fn save_model<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    id: &ModelId,
) -> Result<(), TrainError> {
    crate::artifacts::write_json(&path.with_extension("json"), id)?;
    save_module::<B, M>(module, path)
}

/// Loads a model saved by [`save_model`], first checking that its `.json` identity matches
/// `expected` (a record of another architecture can otherwise load silently into a model whose
/// fields it partly shares).
pub fn load_model<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    expected: &ModelId,
    device: &B::Device,
) -> Result<M, TrainError> {
    let id_path = path.with_extension("json");
    let id: ModelId = crate::artifacts::read_json(&id_path, "a model identity file")?;
    let as_checkpoint = Checkpoint {
        meta: CheckpointMeta {
            model: id,
            epoch: 0,
            state: serde_json::Value::Null,
        },
        model: Vec::new(),
        optimizer: Vec::new(),
    };
    as_checkpoint.check_model(expected, &id_path)?;
    load_module::<B, M>(module, path, device)
}

/// 64-bit FNV-1a, hex: a stable hash for configuration identity (not for security).
pub fn fnv1a_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample() -> Checkpoint {
        Checkpoint {
            meta: CheckpointMeta {
                model: ModelId::new("mlp", &[2, 16, 2], "f32"),
                epoch: 7,
                state: serde_json::json!({"k": 1}),
            },
            model: vec![1, 2, 3],
            optimizer: vec![9; 10],
        }
    }

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv1a_hex(b""), "cbf29ce484222325");
        assert_eq!(fnv1a_hex(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn round_trip() {
        let c = sample();
        let d = Checkpoint::decode(&c.encode(), Path::new("x")).unwrap();
        assert_eq!(d.meta.epoch, 7);
        assert_eq!(d.model, vec![1, 2, 3]);
        assert_eq!(d.optimizer, vec![9; 10]);
    }

    #[test]
    fn corrupt_checkpoints_are_errors() {
        let p = PathBuf::from("ck");
        let good = sample().encode();
        let mut wrong_magic = good.clone();
        wrong_magic[0] = b'X';
        let mut wrong_version = good.clone();
        wrong_version[8] = 99;
        let mut huge_len = good.clone();
        huge_len[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut trailing = good.clone();
        trailing.push(0);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "bad magic"),
            (wrong_magic, "bad magic"),
            (wrong_version, "format version 99"),
            (good[..good.len() - 1].to_vec(), "truncated"),
            (good[..14].to_vec(), "truncated before the header"),
            (huge_len, "truncated: the header needs"),
            (trailing, "unexpected bytes"),
        ];
        for (bytes, want) in cases {
            let err = Checkpoint::decode(&bytes, &p).unwrap_err().to_string();
            assert!(
                err.starts_with("ck: ") && err.contains(want),
                "{err} / {want}"
            );
        }
    }

    #[test]
    fn packed_records_round_trip_and_truncation_is_named() {
        let p = Path::new("ck");
        let packed = pack_records(&[b"gen", b"disc!"]);
        let got = unpack_records(&packed, &["generator", "discriminator"], p).unwrap();
        assert_eq!(got, vec![b"gen".to_vec(), b"disc!".to_vec()]);
        let err = unpack_records(
            &packed[..packed.len() - 1],
            &["generator", "discriminator"],
            p,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("the discriminator needs 5 bytes"), "{err}");
        let err = unpack_records(&packed, &["generator"], p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unexpected bytes"), "{err}");
    }

    #[test]
    fn other_model_or_config_is_refused() {
        let c = sample();
        let p = Path::new("ck");
        assert!(
            c.check_model(&ModelId::new("mlp", &[2, 16, 2], "f32"), p)
                .is_ok()
        );
        let err = c
            .check_model(&ModelId::new("cnn", &[2, 16, 2], "f32"), p)
            .unwrap_err();
        assert!(err.to_string().contains("'mlp' model"), "{err}");
        let err = c
            .check_model(&ModelId::new("mlp", &[2, 32, 2], "f32"), p)
            .unwrap_err();
        assert!(
            err.to_string().contains("different mlp configuration"),
            "{err}"
        );
        let err = c
            .check_model(&ModelId::new("mlp", &[2, 16, 2], "f16"), p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("f32") && err.contains("f16"), "{err}");
    }
}
