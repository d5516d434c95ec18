//! Backend parity and training on every backend compiled into this build
//! (`cargo test --features wgpu,tch` checks all three).
//!
//! One test binary for all backends, each check run through the same `dispatch` the examples
//! use, compared with ndarray as the reference.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use burn_zoo::data::data::{Dataset, FeatureDataset, Targets};
use burn_zoo::mlp::MlpConfig;
use burn_zoo::mlp::train::{JobContext, MlpJob, run};
use burn_zoo::train::checkpoint::{module_from_bytes, module_to_bytes};
use burn_zoo::train::optim::ZooOptimizer;
use burn_zoo::train::report::Metrics;
use burn_zoo::train::train::{flat_params, to_vec_f32};
use burn_zoo::train::{ProgressMode, TrainConfig};
use std::path::Path;
use zoo_cli::backend::{BackendInfo, BackendKind, DeviceSpec, Run, dispatch};
use zoo_ndarray::NdArray;

/// Forward output and parameters after one Adam step, from a given record.
struct ForwardAndStep {
    record: Vec<u8>,
    batch: FeatureDataset,
}

impl Run for ForwardAndStep {
    type Output = (Vec<f32>, Vec<f32>);

    fn run<B: AutodiffBackend>(self, device: B::Device, _info: BackendInfo) -> Self::Output {
        let model = MlpConfig::new().init::<B>(&device);
        let model =
            module_from_bytes::<B, _>(model, self.record, &device, Path::new("mem")).unwrap();
        let idx: Vec<usize> = (0..self.batch.len()).collect();
        let x: Tensor<B, 2> = self.batch.inputs::<B>(&idx, &device);
        let logits = model.forward(x);
        let out = to_vec_f32(logits.clone()).unwrap();
        let Targets::Classes(t) = &self.batch.targets else {
            unreachable!()
        };
        let t: Vec<i64> = t.iter().map(|&c| c as i64).collect();
        let targets = Tensor::from_data(TensorData::new(t, [idx.len()]), &device);
        let loss = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits, targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let cfg = TrainConfig {
            lr: 0.01,
            ..Default::default()
        };
        let mut optim = ZooOptimizer::<_, B>::new(&cfg);
        let model = optim.step(cfg.lr, model, grads);
        (out, flat_params::<B, _>(&model))
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn same_weights_same_outputs_and_adam_step_on_every_backend() {
    let reference = MlpConfig::new()
        .with_hidden(vec![16])
        .init::<NdArray>(&Default::default());
    let record = module_to_bytes::<NdArray, _>(reference).unwrap();
    let x: Vec<f32> = (0..16).map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0).collect();
    let batch = FeatureDataset::new(x, 2, Targets::Classes(vec![0, 1, 1, 0, 1, 0, 0, 1])).unwrap();
    let job = || ForwardAndStep {
        record: record.clone(),
        batch: batch.clone(),
    };
    let (ref_out, ref_params) = dispatch(BackendKind::Ndarray, DeviceSpec::Default, job()).unwrap();
    assert_eq!(ref_params.len(), 82);

    let before = flat_params::<NdArray, _>(
        &module_from_bytes::<NdArray, _>(
            MlpConfig::new().init::<NdArray>(&Default::default()),
            record.clone(),
            &Default::default(),
            Path::new("mem"),
        )
        .unwrap(),
    );
    // Adam's first step moves every parameter with a non-zero gradient by about lr.
    assert!(
        max_abs_diff(&before, &ref_params) > 0.009,
        "the step moved nothing"
    );

    for kind in BackendKind::compiled_in() {
        let (out, params) = dispatch(kind, DeviceSpec::Default, job()).unwrap();
        let d_out = max_abs_diff(&ref_out, &out);
        let d_par = max_abs_diff(&ref_params, &params);
        eprintln!("{kind}: forward max diff {d_out:e}, params after Adam step max diff {d_par:e}");
        assert!(
            d_out <= 1e-4,
            "{kind}: forward differs from ndarray by {d_out}"
        );
        assert!(
            d_par <= 1e-4,
            "{kind}: Adam step differs from ndarray by {d_par}"
        );
    }
}

/// The seed run (200 full-batch epochs of Adam on two moons) on each backend.
struct SeedRun;

impl Run for SeedRun {
    type Output = f64;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> f64 {
        let ctx = JobContext {
            artifacts: None,
            resume: false,
            progress: ProgressMode::Quiet,
            backend: info.kind.to_string(),
            device: info.device,
            float: info.float.into(),
        };
        let out = run::<B>(&MlpJob::seed(), &ctx, &device).unwrap();
        match out.report.test.unwrap().metrics {
            Metrics::Classification(m) => m.accuracy,
            Metrics::Regression(_) => unreachable!(),
        }
    }
}

#[test]
fn seed_mlp_reaches_096_on_every_backend() {
    for kind in BackendKind::compiled_in() {
        let t = std::time::Instant::now();
        let acc = dispatch(kind, DeviceSpec::Default, SeedRun).unwrap();
        eprintln!(
            "{kind}: seed MLP test accuracy {acc:.4} in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        assert!(acc >= 0.96, "{kind}: test accuracy {acc}");
    }
}

/// Seed CNN logits for two bundled digits, from a given record.
struct CnnForward {
    record: Vec<u8>,
}

impl Run for CnnForward {
    type Output = Vec<f32>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _info: BackendInfo) -> Vec<f32> {
        use burn_zoo::cnn::CnnConfig;
        use burn_zoo::data::images::{ImageDataset, Located, find_idx_files, load};
        let dir = zoo_cli::assets_dir().join("mnist-sample");
        let located = Located {
            files: find_idx_files(&dir).unwrap(),
            description: String::new(),
            note: None,
        };
        let (_, test) = load(&located).unwrap();
        let x = ImageDataset::new(&test, 0.5, 0.5).inputs::<B::InnerBackend>(&[0, 1], &device);
        let model = CnnConfig::new().init::<B::InnerBackend>(&device);
        let model =
            module_from_bytes::<B::InnerBackend, _>(model, self.record, &device, Path::new("mem"))
                .unwrap();
        to_vec_f32(model.forward(x)).unwrap()
    }
}

#[test]
fn seed_cnn_same_logits_on_every_backend() {
    let reference = burn_zoo::cnn::CnnConfig::new().init::<NdArray>(&Default::default());
    let record = module_to_bytes::<NdArray, _>(reference).unwrap();
    let want = dispatch(
        BackendKind::Ndarray,
        DeviceSpec::Default,
        CnnForward {
            record: record.clone(),
        },
    )
    .unwrap();
    assert_eq!(want.len(), 20);
    for kind in BackendKind::compiled_in() {
        let got = dispatch(
            kind,
            DeviceSpec::Default,
            CnnForward {
                record: record.clone(),
            },
        )
        .unwrap();
        let d = max_abs_diff(&want, &got);
        eprintln!("{kind}: CNN logits max diff {d:e}");
        assert!(d <= 1e-4, "{kind}: CNN logits differ from ndarray by {d}");
    }
}

/// Recurrent forward passes from given records: a 2-layer bidirectional LSTM and a GRU on a
/// right-padded token batch (lengths 3 and 5), and the seed tanh RNN on dense sequences.
struct RecurrentForward {
    lstm: Vec<u8>,
    gru: Vec<u8>,
    rnn: Vec<u8>,
}

fn recurrent_configs() -> (
    burn_zoo::lstm::model::LstmNetConfig,
    burn_zoo::rnn::RnnNetConfig,
    burn_zoo::rnn::RnnNetConfig,
) {
    use burn_zoo::lstm::model::LstmNetConfig;
    use burn_zoo::rnn::{CellKind, RnnNetConfig};
    (
        LstmNetConfig::new(6, 3)
            .with_hidden(8)
            .with_layers(2)
            .with_bidirectional(true)
            .with_vocab(Some(12)),
        RnnNetConfig::new(6, 3)
            .with_hidden(8)
            .with_cell(CellKind::Gru)
            .with_vocab(Some(12)),
        RnnNetConfig::new(4, 2),
    )
}

impl Run for RecurrentForward {
    type Output = Vec<f32>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _info: BackendInfo) -> Vec<f32> {
        use burn_zoo::data::data::Predict;
        use burn_zoo::data::text::TextDataset;
        type I<B> = <B as AutodiffBackend>::InnerBackend;
        let (lstm, gru, rnn) = recurrent_configs();
        let mem = Path::new("mem");
        let lstm = module_from_bytes::<I<B>, _>(lstm.init(&device), self.lstm, &device, mem);
        let gru = module_from_bytes::<I<B>, _>(gru.init(&device), self.gru, &device, mem);
        let rnn = module_from_bytes::<I<B>, _>(rnn.init(&device), self.rnn, &device, mem);
        let (lstm, gru, rnn) = (lstm.unwrap(), gru.unwrap(), rnn.unwrap());
        let tokens = || TextDataset::batch::<I<B>>(&[&[2, 3, 4], &[5, 6, 7, 8, 11]], &device);
        let x: Vec<f32> = (0..2 * 7 * 4)
            .map(|i| ((i * 5 % 13) as f32 - 6.0) / 4.0)
            .collect();
        let x = Tensor::<I<B>, 3>::from_data(TensorData::new(x, [2, 7, 4]), &device);
        let mut out = to_vec_f32(lstm.predict(tokens())).unwrap();
        out.extend(to_vec_f32(gru.predict(tokens())).unwrap());
        out.extend(to_vec_f32(rnn.forward(x)).unwrap());
        out
    }
}

#[test]
fn recurrent_nets_same_outputs_on_every_backend() {
    let (lstm, gru, rnn) = recurrent_configs();
    let d = Default::default();
    let job = || RecurrentForward {
        lstm: module_to_bytes::<NdArray, _>(lstm.init::<NdArray>(&d)).unwrap(),
        gru: module_to_bytes::<NdArray, _>(gru.init::<NdArray>(&d)).unwrap(),
        rnn: module_to_bytes::<NdArray, _>(rnn.init::<NdArray>(&d)).unwrap(),
    };
    let job = job();
    let records = (job.lstm.clone(), job.gru.clone(), job.rnn.clone());
    let again = || RecurrentForward {
        lstm: records.0.clone(),
        gru: records.1.clone(),
        rnn: records.2.clone(),
    };
    let want = dispatch(BackendKind::Ndarray, DeviceSpec::Default, job).unwrap();
    assert_eq!(want.len(), 2 * 3 + 2 * 3 + 2 * 2);
    for kind in BackendKind::compiled_in() {
        let got = dispatch(kind, DeviceSpec::Default, again()).unwrap();
        let d = max_abs_diff(&want, &got);
        eprintln!("{kind}: LSTM/GRU/RNN outputs max diff {d:e}");
        assert!(
            d <= 1e-4,
            "{kind}: recurrent outputs differ from ndarray by {d}"
        );
    }
}

/// The GAN pairs the parity test runs: seed, DCGAN, and both conditional.
fn gan_configs() -> Vec<burn_zoo::gan::GanConfig> {
    use burn_zoo::gan::{Arch, GanConfig};
    vec![
        GanConfig::new(),
        GanConfig::new().with_arch(Arch::Conv).with_width(16),
        GanConfig::new().with_classes(10),
        GanConfig::new()
            .with_arch(Arch::Conv)
            .with_width(16)
            .with_classes(10),
    ]
}

/// Generator images, discriminator logits of those images, and the WGAN-GP penalty of the
/// seed critic (a second-order gradient), from given records.
struct GanForward {
    records: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Run for GanForward {
    type Output = Vec<f32>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _info: BackendInfo) -> Self::Output {
        use burn_zoo::train::adversarial::{PenalizedCritic, latent_noise, one_hot};
        use rand::SeedableRng;
        let mut out = Vec::new();
        for (cfg, (g, d)) in gan_configs().into_iter().zip(self.records) {
            let generator = module_from_bytes::<B, _>(
                cfg.init_generator::<B>(&device),
                g,
                &device,
                Path::new("g"),
            )
            .unwrap();
            let disc = module_from_bytes::<B, _>(
                cfg.init_discriminator::<B>(&device),
                d,
                &device,
                Path::new("d"),
            )
            .unwrap();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
            let z = latent_noise::<B>(&mut rng, 4, 100, &device);
            let labels = (cfg.classes > 0).then(|| one_hot::<B>(&[0, 3, 7, 9], 10, &device));
            let images = generator.forward(z, labels.clone());
            out.extend(to_vec_f32(images.clone()).unwrap());
            let logits = disc.forward(images.clone(), labels.clone());
            out.extend(to_vec_f32(logits).unwrap());
            if cfg.arch == burn_zoo::gan::Arch::Mlp && cfg.classes == 0 {
                let eps = Tensor::<B, 4>::from_data(
                    TensorData::new(vec![0.1f32, 0.4, 0.6, 0.9], [4, 1, 1, 1]),
                    &device,
                );
                let gp = disc
                    .gradient_penalty(images.clone(), images.neg(), None, eps)
                    .unwrap();
                out.extend(to_vec_f32(gp).unwrap());
            }
        }
        out
    }
}

#[test]
fn gan_generators_and_critics_same_outputs_on_every_backend() {
    let device = Default::default();
    let records: Vec<(Vec<u8>, Vec<u8>)> = gan_configs()
        .iter()
        .map(|c| {
            (
                module_to_bytes::<NdArray, _>(c.init_generator::<NdArray>(&device)).unwrap(),
                module_to_bytes::<NdArray, _>(c.init_discriminator::<NdArray>(&device)).unwrap(),
            )
        })
        .collect();
    let job = || GanForward {
        records: records.clone(),
    };
    let want = dispatch(BackendKind::Ndarray, DeviceSpec::Default, job()).unwrap();
    // 4 configs × (4 images of 784 pixels + 4 logits), plus the seed critic's penalty right
    // after the seed pair's outputs.
    assert_eq!(want.len(), 4 * (4 * 784 + 4) + 1);
    let penalty = want[4 * 784 + 4];
    assert!(penalty > 0.0 && penalty.is_finite(), "penalty {penalty}");
    for kind in BackendKind::compiled_in() {
        let got = dispatch(kind, DeviceSpec::Default, job()).unwrap();
        let d = max_abs_diff(&want, &got);
        eprintln!("{kind}: GAN outputs max diff {d:e}");
        assert!(d <= 1e-4, "{kind}: GAN outputs differ from ndarray by {d}");
    }
}

/// The vendored burn-ndarray's own kernels (vendor/README.md): tanh (a rational fit), sigmoid
/// (one pass) and matrix products (serial below a size, in rayon above) against f64 references.
#[test]
fn patched_ndarray_kernels_match_f64_references() {
    let d = Default::default();
    let xs: Vec<f32> = (0..24_001).map(|i| -12.0 + i as f32 * 1e-3).collect();
    let x = Tensor::<NdArray, 1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &d);
    let tanh = to_vec_f32(x.clone().tanh()).unwrap();
    let sigmoid = to_vec_f32(burn::tensor::activation::sigmoid(x)).unwrap();
    let (mut worst_tanh, mut worst_sigmoid) = (0f64, 0f64);
    for ((&x, &t), &s) in xs.iter().zip(&tanh).zip(&sigmoid) {
        let x = x as f64;
        worst_tanh = worst_tanh.max((t as f64 - x.tanh()).abs());
        worst_sigmoid = worst_sigmoid.max((s as f64 - 1.0 / (1.0 + (-x).exp())).abs());
    }
    assert!(worst_tanh < 5e-7, "tanh off by {worst_tanh}");
    assert!(worst_sigmoid < 2e-7, "sigmoid off by {worst_sigmoid}");
    let nan = Tensor::<NdArray, 1>::from_data(TensorData::new(vec![f32::NAN], [1]), &d);
    assert!(to_vec_f32(nan.tanh()).unwrap()[0].is_nan());

    // Small (serial) and large (parallel) batched products, and one large single product
    // (threaded by the GEMM itself: matrixmultiply, or OpenBLAS with `ndarray-blas`), against
    // a naive f64 product; the right operand once contiguous and once a transposed view.
    for [batch, m, k, n] in [
        [1, 3, 5, 4],
        [7, 9, 6, 5],
        [40, 64, 32, 128],
        [1, 300, 200, 150],
    ] {
        let a: Vec<f32> = (0..batch * m * k)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let b: Vec<f32> = (0..batch * k * n)
            .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
            .collect();
        let ta = Tensor::<NdArray, 3>::from_data(TensorData::new(a.clone(), [batch, m, k]), &d);
        let tb = Tensor::<NdArray, 3>::from_data(TensorData::new(b.clone(), [batch, k, n]), &d);
        let got = to_vec_f32(ta.clone().matmul(tb.clone())).unwrap();
        let tb_view = Tensor::<NdArray, 3>::from_data(tb.swap_dims(1, 2).into_data(), &d);
        let got_view = to_vec_f32(ta.matmul(tb_view.swap_dims(1, 2))).unwrap();
        for p in 0..batch {
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k)
                        .map(|l| a[p * m * k + i * k + l] as f64 * b[p * k * n + l * n + j] as f64)
                        .sum();
                    for (got, how) in [(&got, "contiguous"), (&got_view, "transposed view")] {
                        let g = got[p * m * n + i * n + j] as f64;
                        assert!(
                            (g - want).abs() < 1e-4,
                            "[{batch},{m},{k},{n}] {how} at {p},{i},{j}: {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    // Patch 8: reading a tensor whose buffer is shared (a clone alive) copies the right
    // elements, also from a sliced (offset) and a transposed (non-standard) view.
    let vals: Vec<f32> = (0..60).map(|i| i as f32).collect();
    let t = Tensor::<NdArray, 2>::from_data(TensorData::new(vals.clone(), [6, 10]), &d);
    let alive = t.clone();
    assert_eq!(to_vec_f32(t.clone()).unwrap(), vals);
    let rows = to_vec_f32(t.clone().slice([2..4, 0..10])).unwrap();
    assert_eq!(rows, vals[20..40].to_vec());
    let tr = to_vec_f32(t.transpose()).unwrap();
    assert_eq!(tr[..3], [0.0, 10.0, 20.0]);
    drop(alive);
}

/// The same values as `x` in a non-standard (axes-reversed) memory layout, which the vendored
/// burn-ndarray's fast paths decline, so they run upstream's generic loops.
fn strided<const D: usize>(x: Tensor<NdArray, D>) -> Tensor<NdArray, D> {
    let reversed: [usize; D] = core::array::from_fn(|i| D - 1 - i);
    Tensor::from_data(x.permute(reversed).into_data(), &Default::default()).permute(reversed)
}

/// Patches 9 and 10 (vendor/README.md): `select` / `select_add` on standard layouts and max
/// pooling of a channels-last input give the same bits as upstream's generic loops: values,
/// pooling indices and gradients, with repeated indices, ties, overlapping windows, dilation
/// and sizes on both sides of the parallel threshold.
#[test]
fn patched_ndarray_gather_and_pooling_equal_the_generic_loops() {
    use burn::backend::Autodiff;
    use burn::tensor::module::{max_pool2d, max_pool2d_with_indices};
    use burn::tensor::{IndexingUpdateOp, Int};
    type A = Autodiff<NdArray>;
    let d = Default::default();
    // Few distinct values, so pooling windows tie.
    let values =
        |n: usize| -> Vec<f32> { (0..n).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect() };

    for [outer, len, run, picks] in [[2, 5, 3, 7], [8, 300, 40, 500], [1, 50, 1, 2000]] {
        let x = Tensor::<NdArray, 3>::from_data(
            TensorData::new(values(outer * len * run), [outer, len, run]),
            &d,
        );
        let idx: Vec<i64> = (0..picks).map(|i| ((i * 31) % len) as i64).collect();
        let idx = Tensor::<NdArray, 1, Int>::from_data(TensorData::new(idx, [picks]), &d);
        let fast = x.clone().select(1, idx.clone());
        let generic = strided(x.clone()).select(1, idx.clone());
        assert_eq!(fast.dims(), [outer, picks, run]);
        assert_eq!(
            to_vec_f32(fast.clone()).unwrap(),
            to_vec_f32(generic).unwrap()
        );
        // Repeated indices accumulate, in index order, onto a non-zero start.
        let add = |base: Tensor<NdArray, 3>, v: Tensor<NdArray, 3>| {
            to_vec_f32(base.select_assign(1, idx.clone(), v, IndexingUpdateOp::Add)).unwrap()
        };
        let v = fast * 0.1 + 0.3;
        assert_eq!(
            add(x.clone(), v.clone()),
            add(x.clone(), strided(v.clone()))
        );
        let first = to_vec_f32(x.clone()).unwrap()[0];
        let hits = (0..picks).filter(|i| (i * 31) % len == 0).count();
        let manual: f32 = (0..picks)
            .filter(|i| (i * 31) % len == 0)
            .fold(first, |acc, i| {
                acc + to_vec_f32(v.clone()).unwrap()[i * run]
            });
        assert!(hits > 0);
        assert_eq!(add(x, v)[0], manual);
    }

    for (n, c, h, kernel, stride, dilation, padding) in [
        (4, 64, 24, 2, 2, 1, 0),
        (3, 5, 9, 3, 1, 1, 0),
        (2, 8, 11, 2, 2, 2, 0),
        (2, 8, 10, 3, 2, 1, 1),
    ] {
        let nhwc = values(n * h * h * c);
        let channels_last = || {
            Tensor::<A, 4>::from_data(TensorData::new(nhwc.clone(), [n, h, h, c]), &d)
                .require_grad()
        };
        let x_cl = channels_last();
        let x_std = Tensor::<A, 4>::from_data(x_cl.clone().permute([0, 3, 1, 2]).into_data(), &d)
            .require_grad();
        let pool = |x: Tensor<A, 4>| {
            max_pool2d(
                x,
                [kernel; 2],
                [stride; 2],
                [padding; 2],
                [dilation; 2],
                false,
            )
        };
        let out_cl = pool(x_cl.clone().permute([0, 3, 1, 2]));
        let out_std = pool(x_std.clone());
        let flat = |t: Tensor<NdArray, 4>| to_vec_f32(t).unwrap();
        assert_eq!(flat(out_cl.clone().inner()), flat(out_std.clone().inner()));
        // Without autodiff, pooling takes the path without indices (inference).
        let plain = |x: Tensor<NdArray, 4>| {
            flat(max_pool2d(
                x,
                [kernel; 2],
                [stride; 2],
                [padding; 2],
                [dilation; 2],
                false,
            ))
        };
        assert_eq!(
            plain(x_cl.clone().inner().permute([0, 3, 1, 2])),
            plain(x_std.clone().inner())
        );
        assert_eq!(plain(x_std.clone().inner()), flat(out_std.clone().inner()));
        let (_, i_cl) = max_pool2d_with_indices(
            x_cl.clone().inner().permute([0, 3, 1, 2]),
            [kernel; 2],
            [stride; 2],
            [padding; 2],
            [dilation; 2],
            false,
        );
        let (_, i_std) = max_pool2d_with_indices(
            x_std.clone().inner(),
            [kernel; 2],
            [stride; 2],
            [padding; 2],
            [dilation; 2],
            false,
        );
        assert_eq!(i_cl.into_data(), i_std.into_data());
        let weights = Tensor::<A, 4>::from_data(
            TensorData::new(values(out_std.dims().iter().product()), out_std.dims()),
            &d,
        );
        let g_cl = (out_cl * weights.clone()).sum().backward();
        let g_std = (out_std * weights).sum().backward();
        let g_cl = x_cl.grad(&g_cl).unwrap().permute([0, 3, 1, 2]);
        let g_std = x_std.grad(&g_std).unwrap();
        assert_eq!(flat(g_cl), flat(g_std));
    }
}

/// The PyTorch-trained models of `reference/pytorch_seed.py --export` (the committed
/// fixtures, or a fresh export in `ZOO_PYTORCH_FIXTURES`), loaded on one backend and run on the
/// exporter's input batch: each export's name and its difference from PyTorch's outputs.
struct PytorchParity;

impl Run for PytorchParity {
    type Output = Vec<(String, burn_zoo::weights::Difference)>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _info: BackendInfo) -> Self::Output {
        use burn_zoo::cnn::{CnnConfig, CnnPreset};
        use burn_zoo::gan::{Arch, GanConfig};
        use burn_zoo::lstm::model::LstmNetConfig;
        use burn_zoo::rnn::{CellKind, RnnNetConfig};
        use burn_zoo::weights::{Difference, TorchTensor, fixtures, read_state_dict};
        type I<B> = <B as AutodiffBackend>::InnerBackend;
        let d = &device;
        let t = |x: &TorchTensor, shape: Vec<usize>| -> TensorData {
            TensorData::new(x.values.clone(), shape)
        };
        let mut out = Vec::new();
        for name in [
            "mlp",
            "cnn",
            "cnn_strong",
            "rnn",
            "gru",
            "lstm",
            "lstm2",
            "bilstm",
            "gan_generator",
            "gan_discriminator",
            "dcgan_generator",
            "dcgan_discriminator",
        ] {
            let (Some(weights), Some(io)) = (
                fixtures::exported(&format!("{name}.safetensors")),
                fixtures::exported(&format!("{name}_io.safetensors")),
            ) else {
                continue;
            };
            let io = read_state_dict(&io).unwrap();
            let (x, shape) = (&io["input"], io["input"].shape.clone());
            let seq = |c: LstmNetConfig| {
                let net = burn_zoo::lstm::pytorch::load::<I<B>>(&c, &weights, d).unwrap();
                to_vec_f32(net.forward(Tensor::from_data(t(x, shape.clone()), d)))
            };
            let rnn = |c: RnnNetConfig| {
                let net = burn_zoo::rnn::pytorch::load::<I<B>>(&c, &weights, d).unwrap();
                to_vec_f32(net.forward(Tensor::from_data(t(x, shape.clone()), d)))
            };
            let cnn = |c: CnnConfig| {
                let net = burn_zoo::cnn::pytorch::load::<I<B>>(&c, &weights, d).unwrap();
                to_vec_f32(net.forward(Tensor::from_data(t(x, shape.clone()), d)))
            };
            let gan = |c: GanConfig, generator: bool| {
                if generator {
                    let g = burn_zoo::gan::pytorch::load_generator::<I<B>>(&c, &weights, d);
                    to_vec_f32(
                        g.unwrap()
                            .forward(Tensor::from_data(t(x, shape.clone()), d), None),
                    )
                } else {
                    let n = shape[0];
                    let dis = burn_zoo::gan::pytorch::load_discriminator::<I<B>>(&c, &weights, d);
                    let images = Tensor::from_data(t(x, vec![n, 1, 28, 28]), d);
                    to_vec_f32(dis.unwrap().forward(images, None))
                }
            };
            let got = match name {
                "mlp" => {
                    let mlp = burn_zoo::mlp::pytorch::load::<I<B>>(&MlpConfig::new(), &weights, d);
                    to_vec_f32(
                        mlp.unwrap()
                            .forward(Tensor::from_data(t(x, shape.clone()), d)),
                    )
                }
                "cnn" => cnn(CnnConfig::new()),
                "cnn_strong" => cnn(CnnConfig::new().with_preset(CnnPreset::Strong)),
                "rnn" => rnn(RnnNetConfig::new(8, 2)),
                "gru" => rnn(RnnNetConfig::new(8, 2).with_cell(CellKind::Gru)),
                "lstm" => seq(LstmNetConfig::new(8, 2)),
                "lstm2" => seq(LstmNetConfig::new(8, 2).with_layers(2)),
                "bilstm" => seq(LstmNetConfig::new(8, 2)
                    .with_layers(2)
                    .with_bidirectional(true)),
                "gan_generator" => gan(GanConfig::new(), true),
                "gan_discriminator" => gan(GanConfig::new(), false),
                "dcgan_generator" => gan(GanConfig::new().with_arch(Arch::Conv), true),
                _ => gan(GanConfig::new().with_arch(Arch::Conv), false),
            }
            .unwrap();
            // The discriminators' exports carry the logits before PyTorch's final Sigmoid.
            let want = io.get("logits").unwrap_or(&io["output"]);
            out.push((name.to_string(), Difference::between(&got, &want.values)));
        }
        out
    }
}

#[test]
fn pytorch_trained_models_give_pytorchs_outputs_on_every_backend() {
    for kind in BackendKind::compiled_in() {
        let diffs = dispatch(kind, DeviceSpec::Default, PytorchParity).unwrap();
        // The committed fixtures hold at least the MLP, the CNN and the five recurrent nets.
        assert!(diffs.len() >= 7, "{kind}: only {} exports", diffs.len());
        for (name, d) in diffs {
            eprintln!("{kind}: PyTorch-trained {name}: {d}");
            assert!(
                d.relative() <= 1e-5,
                "{kind}: {name} differs from PyTorch: {d}"
            );
        }
    }
}
