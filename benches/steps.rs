//! One training step and one inference batch of every seed model on ndarray, with the seed's
//! batch sizes: `cargo bench` (regressions show up in criterion's comparison with the last run).
//! The data are real bundled MNIST digits and the seed's two moons; values do not change the
//! work, but real inputs keep the step honest.

use burn::backend::Autodiff;

use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_zoo::data::data::{Dataset, Predict};
use burn_zoo::data::sequence::RowImages;
use burn_zoo::train::adversarial::{bce_with_logits, latent_noise};
use criterion::{Criterion, criterion_group, criterion_main};
use zoo_ndarray::NdArray;

type B = Autodiff<NdArray<f32>>;
type Inner = NdArray<f32>;

const BATCH: usize = 64;
const EVAL_BATCH: usize = 250;

fn images() -> burn_zoo::data::images::ImageDataset {
    let w = zoo_cli::compare::Workload::of(zoo_cli::compare::ModelKind::Cnn, false);
    zoo_cli::compare::image_data(&w)
        .expect("bundled MNIST sample")
        .0
}

fn labels<Bk: Backend>(d: &impl Dataset, idx: &[usize], device: &Bk::Device) -> Tensor<Bk, 1, Int> {
    let t: Vec<i64> = match d.targets() {
        burn_zoo::train::Targets::Classes(c) => idx.iter().map(|&i| c[i] as i64).collect(),
        burn_zoo::train::Targets::Values { .. } => unreachable!("classification data"),
    };
    Tensor::from_data(TensorData::new(t, [idx.len()]), device)
}

/// A classifier's Adam step on one batch, and its forward pass on an inference batch.
fn classifier<M, D>(c: &mut Criterion, name: &str, model: M, data: &D, batch: usize, lr: f64)
where
    D: Dataset,
    D::Input<B>: Clone,
    D::Input<Inner>: Clone,
    M: AutodiffModule<B> + Predict<B, D::Input<B>>,
    M::InnerModule: Predict<Inner, D::Input<Inner>>,
{
    let device = Default::default();
    let idx: Vec<usize> = (0..batch.min(data.len())).collect();
    let (x, y) = (
        data.inputs::<B>(&idx, &device),
        labels::<B>(data, &idx, &device),
    );
    let loss = CrossEntropyLossConfig::new().init(&device);
    let mut optim = AdamConfig::new().init::<B, M>();
    let mut model = Some(model);
    c.bench_function(&format!("{name}/train_step_batch_{batch}"), |b| {
        b.iter(|| {
            let m = model.take().expect("model");
            let l = loss.forward(m.predict(x.clone()), y.clone());
            let _ = l.clone().into_scalar();
            let grads = GradientsParams::from_grads(l.backward(), &m);
            model = Some(optim.step(lr, m, grads));
        })
    });
    let inner = model.expect("model").valid();
    let eval_idx: Vec<usize> = (0..EVAL_BATCH.min(data.len())).collect();
    let x = data.inputs::<Inner>(&eval_idx, &device);
    c.bench_function(&format!("{name}/inference_batch_{}", eval_idx.len()), |b| {
        b.iter(|| inner.predict(x.clone()).into_data())
    });
}

fn benches(c: &mut Criterion) {
    let device = Default::default();
    <B as Backend>::seed(&device, 42);
    let moons = zoo_cli::compare::moons_data().expect("two moons");
    let mlp = burn_zoo::mlp::MlpConfig::new().init::<B>(&device);
    classifier(c, "mlp", mlp, &moons.train, moons.train.len(), 0.01);

    let digits = images();
    classifier(
        c,
        "cnn",
        burn_zoo::cnn::CnnConfig::new().init::<B>(&device),
        &digits,
        BATCH,
        1e-3,
    );
    let rows = RowImages(digits.clone());
    let rnn = burn_zoo::rnn::RnnNetConfig::new(28, 10).init::<B>(&device);
    classifier(c, "rnn", rnn, &rows, BATCH, 1e-3);
    let lstm = burn_zoo::lstm::model::LstmNetConfig::new(28, 10).init::<B>(&device);
    classifier(c, "lstm", lstm, &rows, BATCH, 1e-3);

    // The seed GAN: a discriminator step on real and generated images, then a generator step.
    let cfg = burn_zoo::gan::GanConfig::new();
    let mut g = Some(cfg.init_generator::<B>(&device));
    let mut d = Some(cfg.init_discriminator::<B>(&device));
    let adam = AdamConfig::new().with_beta_1(0.5);
    let (mut opt_g, mut opt_d) = (adam.init(), adam.init());
    let idx: Vec<usize> = (0..BATCH).collect();
    let real = digits.inputs::<B>(&idx, &device);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(42);
    let z1 = latent_noise::<B>(&mut rng, BATCH, cfg.latent_dim, &device);
    let z2 = latent_noise::<B>(&mut rng, BATCH, cfg.latent_dim, &device);
    c.bench_function("gan/train_step_batch_64", |b| {
        b.iter(|| {
            let (gm, dm) = (g.take().expect("G"), d.take().expect("D"));
            let fake = gm.forward(z1.clone(), None).detach();
            let loss_d = bce_with_logits(dm.forward(real.clone(), None), 1.0)
                + bce_with_logits(dm.forward(fake, None), 0.0);
            let _ = loss_d.clone().into_scalar();
            let grads = GradientsParams::from_grads(loss_d.backward(), &dm);
            let dm = opt_d.step(2e-4, dm, grads);
            let loss_g = bce_with_logits(dm.forward(gm.forward(z2.clone(), None), None), 1.0);
            let _ = loss_g.clone().into_scalar();
            let grads = GradientsParams::from_grads(loss_g.backward(), &gm);
            g = Some(opt_g.step(2e-4, gm, grads));
            d = Some(dm);
        })
    });
    let gi = g.expect("G").valid();
    let z = latent_noise::<Inner>(&mut rng, EVAL_BATCH, cfg.latent_dim, &device);
    c.bench_function("gan/inference_batch_250", |b| {
        b.iter(|| gi.forward(z.clone(), None).into_data())
    });
}

criterion_group! {
    name = steps;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = benches
}
criterion_main!(steps);
