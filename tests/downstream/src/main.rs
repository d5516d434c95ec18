//! Trains the seed CNN and the seed LSTM (row-MNIST) through the zoo's public APIs on
//! `Autodiff<zoo_ndarray::NdArray>`, and prints one JSON line per model with its training
//! throughput and test accuracy:
//!
//! ```sh
//! cargo run --release --manifest-path tests/downstream/Cargo.toml -- [--data DIR] [--epochs N] [--models cnn,lstm]
//! ```
//!
//! `--data` is a directory of MNIST IDX files (default: the zoo's bundled sample).

use std::path::PathBuf;
use std::process::ExitCode;

use burn::backend::Autodiff;
use zoo_ndarray::NdArray;
use zoo_train::train::JobContext;
use zoo_train::{Report, TrainError};

type B = Autodiff<NdArray>;

struct Args {
    data: PathBuf,
    epochs: usize,
    models: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"));
    let mut args = Args {
        data: root.join("mnist-sample"),
        epochs: 1,
        models: vec!["cnn".into(), "lstm".into()],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => args.data = PathBuf::from(value()?),
            "--epochs" => {
                let v = value()?;
                args.epochs = v
                    .parse()
                    .map_err(|_| format!("--epochs {v}: not a number"))?;
            }
            "--models" => args.models = value()?.split(',').map(str::to_string).collect(),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn cnn(args: &Args) -> Result<Report, TrainError> {
    let mut job = zoo_cnn::train::CnnJob::seed();
    job.data = Some(args.data.clone());
    job.train.epochs = args.epochs;
    let ctx = JobContext::quiet(None, false, "ndarray", "cpu");
    Ok(zoo_cnn::train::run::<B>(&job, &ctx, &args.data, &Default::default())?.report)
}

fn lstm(args: &Args) -> Result<Report, TrainError> {
    use zoo_lstm::train::{run, seed_train, SeqJob, SeqTask};
    let mut train = seed_train();
    train.epochs = args.epochs;
    let job = SeqJob {
        task: SeqTask::RowMnist {
            data: Some(args.data.clone()),
            valid_fraction: 0.1,
        },
        model: zoo_lstm::LstmNetConfig::new(28, 10),
        train,
    };
    let ctx = JobContext::quiet(None, false, "ndarray", "cpu");
    let assets = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"));
    Ok(run::<B>(&job, &ctx, &assets, &Default::default())?.report)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for model in &args.models {
        let report = match model.as_str() {
            "cnn" => cnn(&args),
            "lstm" => lstm(&args),
            other => Err(TrainError::Invalid(format!(
                "--models: unknown model {other}"
            ))),
        };
        match report {
            Ok(r) => {
                let accuracy = r.test.as_ref().map(|t| t.metrics.headline().1);
                println!(
                    "{{\"model\":\"{model}\",\"train_samples_per_sec\":{:.1},\"test_accuracy\":{}}}",
                    r.train_samples_per_sec,
                    accuracy.map_or("null".into(), |a| format!("{a:.4}"))
                );
            }
            Err(e) => {
                eprintln!("error: {model}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
