//! Backend selection: the one place that maps `--backend` / `--device` to a concrete Burn
//! backend type. Everything downstream is generic over `B: AutodiffBackend`.
//!
//! Burn 0.21 picks the backend at compile time (`Tensor<B, D>`), so a run is a [`Run`]
//! implementation whose generic method [`dispatch`] instantiates for the chosen backend.

use std::fmt;
use std::str::FromStr;

use burn::tensor::backend::AutodiffBackend;

/// A backend the zoo can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Pure-Rust CPU backend (cargo feature `ndarray`, on by default).
    Ndarray,
    /// GPU through wgpu: Vulkan, Metal, DX12 (cargo feature `wgpu`).
    Wgpu,
    /// libtorch, CPU or CUDA (cargo feature `tch`).
    Tch,
}

impl BackendKind {
    /// All backends, compiled in or not.
    pub const ALL: [BackendKind; 3] = [BackendKind::Ndarray, BackendKind::Wgpu, BackendKind::Tch];

    /// The `--backend` name.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Tch => "tch",
        }
    }

    /// Whether this binary was built with the backend's cargo feature.
    pub fn compiled(self) -> bool {
        match self {
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Tch => cfg!(feature = "tch"),
        }
    }

    /// The backends compiled into this binary.
    pub fn compiled_in() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.compiled()).collect()
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ndarray" => Ok(Self::Ndarray),
            "wgpu" => Ok(Self::Wgpu),
            "tch" | "libtorch" => Ok(Self::Tch),
            _ => Err(format!(
                "unknown backend '{s}' (expected ndarray, wgpu or tch)"
            )),
        }
    }
}

/// The `--device` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The backend's default device (ndarray: CPU; wgpu: the default adapter; tch: CPU).
    #[default]
    Default,
    /// The CPU.
    Cpu,
    /// CUDA GPU number N (tch only).
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "default" => Ok(Self::Default),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => match lower.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(Self::Cuda(n)),
                _ => Err(format!(
                    "unknown device '{s}' (expected default, cpu, cuda or cuda:N)"
                )),
            },
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Default => f.write_str("default"),
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// What a run learns about the backend it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendInfo {
    /// Which backend.
    pub kind: BackendKind,
    /// The device, as the backend names it.
    pub device: String,
    /// Float element type.
    pub float: &'static str,
}

/// The name of `B`'s float element type as checkpoints record it (`f32`, `f16`, ...): a
/// checkpoint written with one is refused by a run with another.
pub fn float_name<B: burn::tensor::backend::Backend>() -> &'static str {
    use burn::tensor::{DType, Element};
    match <B::FloatElem as Element>::dtype() {
        DType::F64 => "f64",
        DType::F32 | DType::Flex32 => "f32",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        _ => "other",
    }
}

/// Why a backend could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BackendError {
    /// The binary was built without the backend.
    #[error(
        "--backend {backend}: not compiled into this binary; rebuild with `--features {backend}` \
         (e.g. cargo run --release --features {backend} --example ...)"
    )]
    NotCompiled {
        /// The backend (also its cargo feature).
        backend: BackendKind,
    },
    /// The device does not exist for the backend.
    #[error("--device {device}: {reason}")]
    BadDevice {
        /// The device asked for.
        device: DeviceSpec,
        /// Why it cannot be used.
        reason: String,
    },
    /// The backend is compiled in but cannot start here.
    #[error("--backend {backend}: {reason}")]
    Unavailable {
        /// The backend.
        backend: BackendKind,
        /// Why.
        reason: String,
    },
}

/// A job generic over the backend.
pub trait Run {
    /// What the job returns.
    type Output;
    /// Runs on backend `B`, device `device`.
    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output;

    /// Whether libtorch on the CPU runs this job on one thread. The recurrent models say yes:
    /// their layers run in the zoo's host kernel on the calling thread
    /// (`zoo_kernels::recurrent`), what is left for libtorch is tensors of a few thousand
    /// elements, and its second OpenMP worker only spins between operations, on a core the
    /// kernel could use (seed LSTM on compare's workload: 15.7k–16.6k → 17.6k–18.1k samples/s).
    fn libtorch_one_thread(&self) -> bool {
        false
    }
}

/// `Autodiff<NdArray>`, with the zoo's CPU backend (`zoo-ndarray`).
#[cfg(feature = "ndarray")]
pub type NdArrayBackend = burn::backend::Autodiff<zoo_ndarray::NdArray<f32>>;
/// `Autodiff<Wgpu>`.
#[cfg(feature = "wgpu")]
pub type WgpuBackend = burn::backend::Autodiff<burn::backend::Wgpu>;
/// `Autodiff<LibTorch>`.
#[cfg(feature = "tch")]
pub type TchBackend = burn::backend::Autodiff<burn::backend::libtorch::LibTorch<f32>>;

/// The ndarray backend's device label: its matrix products run in OpenBLAS with the
/// `ndarray-blas` feature, in matrixmultiply (pure Rust) without.
pub const NDARRAY_DEVICE: &str = if cfg!(feature = "ndarray-blas") {
    "cpu, OpenBLAS"
} else {
    "cpu"
};

/// Runs `job` on the backend and device asked for.
pub fn dispatch<R: Run>(
    kind: BackendKind,
    device: DeviceSpec,
    job: R,
) -> Result<R::Output, BackendError> {
    let _ = &job;
    match kind {
        BackendKind::Ndarray => {
            #[cfg(feature = "ndarray")]
            {
                let dev = ndarray_device(device)?;
                let info = BackendInfo {
                    kind,
                    device: NDARRAY_DEVICE.into(),
                    float: float_name::<NdArrayBackend>(),
                };
                Ok(job.run::<NdArrayBackend>(dev, info))
            }
            #[cfg(not(feature = "ndarray"))]
            Err(BackendError::NotCompiled { backend: kind })
        }
        BackendKind::Wgpu => {
            #[cfg(feature = "wgpu")]
            {
                let dev = wgpu_device(device)?;
                let name = wgpu_probe(&dev)?;
                let info = BackendInfo {
                    kind,
                    device: name,
                    float: float_name::<WgpuBackend>(),
                };
                Ok(job.run::<WgpuBackend>(dev, info))
            }
            #[cfg(not(feature = "wgpu"))]
            Err(BackendError::NotCompiled { backend: kind })
        }
        BackendKind::Tch => {
            #[cfg(feature = "tch")]
            {
                use burn::backend::libtorch::LibTorchDevice;
                let dev = tch_device(device)?;
                let cpu = matches!(dev, LibTorchDevice::Cpu);
                let one_thread = cpu && job.libtorch_one_thread();
                if one_thread {
                    tch::set_num_threads(1);
                }
                let name = match dev {
                    LibTorchDevice::Cuda(n) => format!("cuda:{n}"),
                    _ if one_thread => "cpu, 1 thread".into(),
                    _ => "cpu".into(),
                };
                let info = BackendInfo {
                    kind,
                    device: name,
                    float: float_name::<TchBackend>(),
                };
                Ok(job.run::<TchBackend>(dev, info))
            }
            #[cfg(not(feature = "tch"))]
            Err(BackendError::NotCompiled { backend: kind })
        }
    }
}

#[cfg(feature = "ndarray")]
fn ndarray_device(device: DeviceSpec) -> Result<zoo_ndarray::NdArrayDevice, BackendError> {
    match device {
        DeviceSpec::Cuda(_) => Err(BackendError::BadDevice {
            device,
            reason: "ndarray runs on the CPU only (use --backend tch for CUDA)".into(),
        }),
        DeviceSpec::Default | DeviceSpec::Cpu => Ok(zoo_ndarray::NdArrayDevice::Cpu),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device(device: DeviceSpec) -> Result<burn::backend::wgpu::WgpuDevice, BackendError> {
    use burn::backend::wgpu::WgpuDevice;
    match device {
        DeviceSpec::Default => Ok(WgpuDevice::DefaultDevice),
        DeviceSpec::Cpu => Ok(WgpuDevice::Cpu),
        DeviceSpec::Cuda(_) => Err(BackendError::BadDevice {
            device,
            reason: "wgpu picks its adapter itself; use --device default or cpu".into(),
        }),
    }
}

#[cfg(feature = "tch")]
fn tch_device(device: DeviceSpec) -> Result<burn::backend::libtorch::LibTorchDevice, BackendError> {
    use burn::backend::libtorch::LibTorchDevice;
    match device {
        DeviceSpec::Default | DeviceSpec::Cpu => Ok(LibTorchDevice::Cpu),
        DeviceSpec::Cuda(n) => {
            let count = tch::Cuda::device_count();
            if (n as i64) >= count {
                return Err(BackendError::BadDevice {
                    device,
                    reason: format!("libtorch sees {count} CUDA device(s)"),
                });
            }
            Ok(LibTorchDevice::Cuda(n))
        }
    }
}

/// The devices of `--devices` on backend `B` (of kind `kind`, as [`dispatch`] chose it): each
/// must exist there, and all be of one kind (all CPU, or all CUDA), since burn-train's
/// multi-device strategy splits each batch evenly between them.
pub fn devices<B: burn::tensor::backend::Backend>(
    kind: BackendKind,
    specs: &[DeviceSpec],
) -> Result<Vec<B::Device>, String> {
    let list = specs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let cuda = specs
        .iter()
        .filter(|d| matches!(d, DeviceSpec::Cuda(_)))
        .count();
    if cuda != 0 && cuda != specs.len() {
        return Err(format!(
            "--devices {list}: mixes CPU and CUDA devices; data-parallel training needs devices of one kind"
        ));
    }
    let mut out = Vec::with_capacity(specs.len());
    for &spec in specs {
        let device: Box<dyn std::any::Any> = match kind {
            #[cfg(feature = "ndarray")]
            BackendKind::Ndarray => {
                Box::new(ndarray_device(spec).map_err(|e| devices_error(&list, e))?)
            }
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Box::new(wgpu_device(spec).map_err(|e| devices_error(&list, e))?),
            #[cfg(feature = "tch")]
            BackendKind::Tch => Box::new(tch_device(spec).map_err(|e| devices_error(&list, e))?),
            #[allow(unreachable_patterns)]
            other => return Err(BackendError::NotCompiled { backend: other }.to_string()),
        };
        // `kind` names the backend `dispatch` instantiated `B` as, so its device type is B's.
        let device = device
            .downcast::<B::Device>()
            .map_err(|_| format!("--devices {list}: not devices of --backend {}", kind.name()))?;
        out.push(*device);
    }
    Ok(out)
}

fn devices_error(list: &str, e: BackendError) -> String {
    match e {
        BackendError::BadDevice { device, reason } => {
            format!("--devices {list}: {device}: {reason}")
        }
        other => other.to_string(),
    }
}

/// Starts wgpu on `device` and returns a name for it, turning wgpu's panic when no adapter
/// exists into an error.
#[cfg(feature = "wgpu")]
fn wgpu_probe(device: &burn::backend::wgpu::WgpuDevice) -> Result<String, BackendError> {
    use burn::backend::Wgpu;
    use burn::tensor::Tensor;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        Tensor::<Wgpu, 1>::from_floats([1.0, 2.0], device)
            .sum()
            .into_scalar()
    });
    std::panic::set_hook(hook);
    match probe {
        Ok(3.0) => Ok(format!("{device:?}")),
        Ok(v) => Err(BackendError::Unavailable {
            backend: BackendKind::Wgpu,
            reason: format!("the adapter computed 1 + 2 = {v}"),
        }),
        Err(_) => Err(BackendError::Unavailable {
            backend: BackendKind::Wgpu,
            reason: "no usable GPU adapter (on a machine without a GPU, install Mesa's software \
                     Vulkan driver: apt-get install mesa-vulkan-drivers)"
                .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_parse() {
        assert_eq!("ndarray".parse(), Ok(BackendKind::Ndarray));
        assert_eq!("WGPU".parse(), Ok(BackendKind::Wgpu));
        assert_eq!("tch".parse(), Ok(BackendKind::Tch));
        assert_eq!("libtorch".parse(), Ok(BackendKind::Tch));
        let err = "cuda".parse::<BackendKind>().unwrap_err();
        assert_eq!(
            err,
            "unknown backend 'cuda' (expected ndarray, wgpu or tch)"
        );
    }

    #[test]
    fn devices_parse() {
        assert_eq!("cpu".parse(), Ok(DeviceSpec::Cpu));
        assert_eq!("default".parse(), Ok(DeviceSpec::Default));
        assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceSpec::Cuda(3)));
        assert!(
            "cuda:x"
                .parse::<DeviceSpec>()
                .unwrap_err()
                .contains("cuda:x")
        );
        assert!("tpu".parse::<DeviceSpec>().is_err());
    }

    struct Name;
    impl Run for Name {
        type Output = BackendInfo;
        fn run<B: AutodiffBackend>(self, _device: B::Device, info: BackendInfo) -> BackendInfo {
            info
        }
    }

    /// A backend left out of the build names its cargo feature: the error itself in every
    /// build, and `dispatch` for the backends this build left out (tests/cli.rs checks the
    /// binaries built without wgpu and tch).
    #[test]
    fn missing_backend_names_its_feature() {
        for kind in BackendKind::ALL {
            let err = BackendError::NotCompiled { backend: kind }.to_string();
            assert!(
                err.starts_with(&format!("--backend {kind}: "))
                    && err.contains(&format!("--features {kind}")),
                "{err}"
            );
            if !kind.compiled() {
                let err = dispatch(kind, DeviceSpec::Default, Name).unwrap_err();
                assert!(matches!(err, BackendError::NotCompiled { backend } if backend == kind));
            }
        }
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn ndarray_dispatches_and_refuses_cuda() {
        let info = dispatch(BackendKind::Ndarray, DeviceSpec::Default, Name).unwrap();
        assert_eq!(
            (info.kind, info.device.as_str()),
            (BackendKind::Ndarray, NDARRAY_DEVICE)
        );
        assert_eq!(NDARRAY_DEVICE == "cpu", !cfg!(feature = "ndarray-blas"));
        let err = dispatch(BackendKind::Ndarray, DeviceSpec::Cuda(0), Name).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--device cuda:0: ndarray runs on the CPU only")
        );
    }
}
