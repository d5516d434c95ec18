//! Flags every example shares (pytorch/examples habits): training hyper-parameters, backend
//! and device, artifact directory, resume. Model defaults fill whatever is not given.

use std::path::PathBuf;

use clap::{Args, Parser};
use zoo_train::train::JobContext;
use zoo_train::{
    ArtifactDir, Mode, Monitor, OptimizerKind, ProgressMode, ScheduleKind, TrainConfig, TrainError,
};

use crate::backend::{BackendKind, DeviceSpec};

/// Parses the command line; a bad flag prints one line (`error: ...`) and exits with status 2.
/// `--help` and `--version` print as usual. Also applies [`crate::tune_allocator`] and
/// [`install_signal_handlers`], as this is the first thing every example does.
pub fn parse_or_exit<C: Parser>() -> C {
    crate::tune_allocator();
    install_signal_handlers();
    match C::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: bad arguments"));
            std::process::exit(2)
        }
    }
}

/// Ctrl-C and SIGTERM stop a run after its current batch, with a checkpoint (a second one
/// exits at once; see [`zoo_train::interrupt`]). A write past the file-size limit
/// (`ulimit -f`) fails with an error instead of killing the process with SIGXFSZ, so it is
/// reported like a full disk.
pub fn install_signal_handlers() {
    if let Err(e) = zoo_train::interrupt::install() {
        eprintln!("warning: Ctrl-C will not stop cleanly: {e}");
    }
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Turns a job's outcome into the process exit: `error: ...` on one line and status 1 for a
/// failed run, 130 for a run stopped by Ctrl-C/SIGTERM, 2 for a backend that cannot be used
/// or a bad flag (`bad_flags`). A resume with nothing to do ([`TrainError::AlreadyTrained`])
/// says so and exits 0.
pub fn exit_code(
    outcome: Result<Result<(), TrainError>, crate::backend::BackendError>,
) -> std::process::ExitCode {
    match outcome {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(e @ TrainError::AlreadyTrained { .. })) => {
            eprintln!("{}", in_flag_terms(&e.to_string()));
            std::process::ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            let message = in_flag_terms(&e.to_string());
            if zoo_train::interrupt::requested() {
                // The library says "resume from it"; in a binary that is the --resume flag.
                let message = message.replace("(resume from it)", "(rerun with --resume)");
                eprintln!("error: {message}");
                std::process::ExitCode::from(zoo_train::interrupt::EXIT_STATUS)
            } else {
                eprintln!("error: {message}");
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => bad_flags(e),
    }
}

/// Prints `error: {e}` and returns exit status 2 (bad usage).
pub fn bad_flags(e: impl std::fmt::Display) -> std::process::ExitCode {
    eprintln!("error: {}", in_flag_terms(&e.to_string()));
    std::process::ExitCode::from(2)
}

/// A library message in the binaries' terms. The library names settings by their field names
/// (`batch_size must be at least 1`), and every such setting is the flag of the same name
/// (`--batch-size`): a message that starts with a lower-case setting word (followed by
/// ` must`, ` needs`, `:` or a number) gets `--` before it, and every stand-alone snake_case
/// word becomes its flag. Words inside paths (after `/` or `.`) are left alone.
pub fn in_flag_terms(message: &str) -> String {
    let bytes = message.as_bytes();
    let mut out = String::with_capacity(message.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || matches!(bytes[i - 1], b' ' | b'(' | b',' | b';');
        let end = message[i..]
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .map_or(bytes.len(), |n| i + n);
        let word = &message[i..end];
        let next = &message[end..];
        let starts_lower = word.starts_with(|c: char| c.is_ascii_lowercase());
        let snake = starts_lower && word.contains('_') && !word.ends_with('_');
        let leading = i == 0
            && starts_lower
            && (next.starts_with(" must")
                || next.starts_with(" needs")
                || next.starts_with(": ")
                || next.starts_with(" is ")
                || next.chars().nth(1).is_some_and(|c| c.is_ascii_digit()));
        let path_like = next.starts_with('/') || next.starts_with('.');
        if boundary && !word.is_empty() && !path_like && (snake || leading) {
            out.push_str("--");
            out.push_str(&word.replace('_', "-"));
            i = end;
        } else {
            let step = message[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&message[i..i + step]);
            i += step;
        }
    }
    out
}

/// `--backend` and `--device`.
#[derive(Args, Clone, Debug)]
pub struct BackendArgs {
    /// Backend: ndarray (CPU), wgpu (GPU via Vulkan/Metal/DX12) or tch (libtorch).
    #[arg(long, default_value = "ndarray", value_parser = parse_backend)]
    pub backend: BackendKind,
    /// Device: default, cpu, cuda or cuda:N (cuda with --backend tch only).
    #[arg(long, default_value = "default", value_parser = parse_device)]
    pub device: DeviceSpec,
}

fn parse_backend(s: &str) -> Result<BackendKind, String> {
    s.parse()
}

fn parse_device(s: &str) -> Result<DeviceSpec, String> {
    s.parse()
}

/// Training flags. Unset values take the model's seed defaults (see each example's `--help`).
#[derive(Args, Clone, Debug, Default)]
pub struct TrainArgs {
    /// Epochs to train (with --resume: the total, counting epochs already done).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per optimiser step; 'full' for full-batch training.
    #[arg(long, value_parser = parse_batch)]
    pub batch_size: Option<Batch>,
    /// Learning rate (a positive finite number).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser: adam, adamw, sgd or rmsprop.
    #[arg(long, value_parser = parse_optimizer)]
    pub optimizer: Option<OptimizerKind>,
    /// SGD and RMSprop momentum.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay (L2 for adam/sgd, decoupled for adamw).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule: constant, step, cosine, or plateau (reduce the rate when the
    /// validation number --monitor names stops improving; needs a validation split).
    #[arg(long, value_parser = ["constant", "step", "cosine", "plateau"])]
    pub schedule: Option<String>,
    /// Step schedule: epochs between decays.
    #[arg(long, default_value_t = 10)]
    pub step_epochs: usize,
    /// Step schedule: decay factor.
    #[arg(long, default_value_t = 0.1)]
    pub gamma: f64,
    /// Cosine schedule: final learning rate; plateau schedule: the lowest rate.
    #[arg(long, default_value_t = 0.0)]
    pub min_lr: f64,
    /// Plateau schedule: multiply the rate by this, in (0, 1), on a plateau.
    #[arg(long, default_value_t = 0.1)]
    pub factor: f64,
    /// Plateau schedule: epochs without validation improvement before the rate falls.
    #[arg(long, default_value_t = 10)]
    pub lr_patience: usize,
    /// Linear learning-rate warm-up over this many epochs.
    #[arg(long)]
    pub warmup_epochs: Option<usize>,
    /// Clip each parameter's gradient to this L2 norm.
    #[arg(long)]
    pub grad_clip: Option<f64>,
    /// Early stopping: stop after this many epochs without validation-loss improvement and
    /// keep the best weights (needs a validation split).
    #[arg(long)]
    pub patience: Option<usize>,
    /// What --patience watches and which epoch counts as best: loss (validation loss) or metric
    /// (validation accuracy, or R² for regression).
    #[arg(long, value_enum)]
    pub monitor: Option<MonitorArg>,
    /// Seed for initialisation, shuffling and dropout.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Epoch checkpoints to keep (newest); 0 keeps all.
    #[arg(long)]
    pub keep_checkpoints: Option<usize>,
    /// Skip (and count in report.json) a batch whose loss is NaN or infinite instead of
    /// stopping the run.
    #[arg(long)]
    pub skip_nonfinite: bool,
    /// Training loop: zoo (the zoo's own: exact mid-epoch resume, schedules, all optimisers) or
    /// burn (burn-train's Learner: its metrics, TUI on a terminal, checkpointer, --devices).
    #[arg(long, value_enum, default_value_t = TrainerArg::Zoo)]
    pub trainer: TrainerArg,
    /// With --trainer burn: train data parallel on these devices, comma-separated, one worker
    /// each (cpu,cpu: two workers on the CPU; cuda:0,cuda:1 with --backend tch).
    #[arg(long, value_delimiter = ',', value_parser = parse_device_list)]
    pub devices: Vec<DeviceSpec>,
}

/// A `--trainer` value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainerArg {
    /// The zoo's loop.
    #[default]
    Zoo,
    /// burn-train's Learner.
    Burn,
}

fn parse_device_list(s: &str) -> Result<DeviceSpec, String> {
    s.parse()
}

/// A `--batch-size` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batch {
    /// The whole training set per step.
    Full,
    /// This many samples per step.
    Size(usize),
}

fn parse_batch(s: &str) -> Result<Batch, String> {
    if s.eq_ignore_ascii_case("full") {
        return Ok(Batch::Full);
    }
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (or 'full')".into()),
        Ok(n) => Ok(Batch::Size(n)),
        Err(_) => Err(format!("'{s}' is not a positive integer or 'full'")),
    }
}

fn parse_optimizer(s: &str) -> Result<OptimizerKind, String> {
    s.parse()
}

impl TrainArgs {
    /// The model's defaults overridden by the flags given, validated.
    pub fn apply(&self, defaults: TrainConfig) -> Result<TrainConfig, String> {
        let mut c = defaults;
        if let Some(v) = self.epochs {
            c.epochs = v;
        }
        match self.batch_size {
            Some(Batch::Full) => c.full_batch = true,
            Some(Batch::Size(n)) => {
                c.full_batch = false;
                c.batch_size = n;
            }
            None => {}
        }
        if let Some(v) = self.lr {
            c.lr = v;
        }
        if let Some(v) = self.optimizer {
            c.optimizer = v;
        }
        if let Some(v) = self.momentum {
            c.momentum = v;
        }
        if let Some(v) = self.weight_decay {
            c.weight_decay = v;
        }
        if let Some(s) = &self.schedule {
            c.schedule = match s.as_str() {
                "step" => ScheduleKind::Step {
                    step_epochs: self.step_epochs,
                    gamma: self.gamma,
                },
                "cosine" => ScheduleKind::Cosine {
                    min_lr: self.min_lr,
                },
                "plateau" => ScheduleKind::Plateau {
                    factor: self.factor,
                    lr_patience: self.lr_patience,
                    min_lr: self.min_lr,
                },
                _ => ScheduleKind::Constant,
            };
        }
        if let Some(v) = self.warmup_epochs {
            c.warmup_epochs = v;
        }
        if self.grad_clip.is_some() {
            c.grad_clip_norm = self.grad_clip;
        }
        if self.patience.is_some() {
            c.patience = self.patience;
        }
        if let Some(m) = self.monitor {
            c.monitor = match m {
                MonitorArg::Loss => Monitor::Loss,
                MonitorArg::Metric => Monitor::Metric,
            };
        }
        if let Some(v) = self.seed {
            c.seed = v;
        }
        if let Some(v) = self.keep_checkpoints {
            c.keep_checkpoints = v;
        }
        c.skip_nonfinite |= self.skip_nonfinite;
        c.validate().map_err(|e| in_flag_terms(&e))?;
        Ok(c)
    }
}

impl TrainArgs {
    /// The loop `--trainer` asks for, on `--devices` (default: the job's `device`) of backend
    /// `B`, which [`crate::backend::dispatch`] chose as `info.kind`.
    pub fn trainer<B: burn::tensor::backend::Backend>(
        &self,
        info: &crate::backend::BackendInfo,
        device: &B::Device,
    ) -> Result<zoo_train::Trainer<B::Device>, TrainError> {
        use zoo_train::Trainer;
        match self.trainer {
            TrainerArg::Zoo if !self.devices.is_empty() => Err(TrainError::Invalid(
                "--devices needs --trainer burn (the zoo trainer runs on one --device)".into(),
            )),
            TrainerArg::Zoo => Ok(Trainer::Zoo),
            TrainerArg::Burn if self.devices.is_empty() => Ok(Trainer::Burn {
                devices: vec![device.clone()],
            }),
            TrainerArg::Burn => Ok(Trainer::Burn {
                devices: crate::backend::devices::<B>(info.kind, &self.devices)
                    .map_err(TrainError::Invalid)?,
            }),
        }
    }
}

/// Where a run writes, and how it treats an existing directory.
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Directory for config.json, checkpoints, the model, report.json and plots.
    #[arg(long)]
    pub artifact_dir: Option<PathBuf>,
    /// Continue the run in --artifact-dir from its newest checkpoint.
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Replace an earlier run in --artifact-dir (its checkpoints are removed; other files stay).
    #[arg(long)]
    pub overwrite: bool,
    /// Plain log lines instead of progress bars.
    #[arg(long, conflicts_with = "quiet")]
    pub log_lines: bool,
    /// No per-epoch output.
    #[arg(long)]
    pub quiet: bool,
}

/// [`ArtifactDir::prepare`], with its errors in terms of the flags that set the directory and
/// its mode.
pub fn prepare_dir(dir: &std::path::Path, mode: Mode) -> Result<ArtifactDir, TrainError> {
    ArtifactDir::prepare(dir, mode).map_err(|e| match e {
        TrainError::RunExists { dir } => TrainError::Invalid(format!(
            "--artifact-dir {}: holds an earlier run; pass --resume to continue it, --overwrite \
             to replace it, or choose another directory",
            dir.display()
        )),
        TrainError::Invalid(reason) => TrainError::Invalid(format!("--artifact-dir {reason}")),
        e @ TrainError::Locked { .. } => TrainError::Invalid(format!("--artifact-dir {e}")),
        other => other,
    })
}

/// The context of an example's training job: its prepared artifact directory (see
/// [`ArtifactDir::prepare`]) and the backend it runs on.
pub fn job_context(
    dir: &std::path::Path,
    mode: Mode,
    progress: ProgressMode,
    info: &crate::backend::BackendInfo,
) -> Result<JobContext, TrainError> {
    Ok(JobContext {
        artifacts: Some(prepare_dir(dir, mode)?),
        resume: mode == Mode::Resume,
        progress,
        backend: info.kind.to_string(),
        device: info.device.clone(),
        float: info.float.into(),
    })
}

impl OutputArgs {
    /// The artifact directory, defaulting to `artifacts/<model>`.
    pub fn dir(&self, model: &str) -> PathBuf {
        self.artifact_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("artifacts").join(model))
    }

    /// How to treat an existing directory.
    pub fn mode(&self) -> Mode {
        if self.resume {
            Mode::Resume
        } else if self.overwrite {
            Mode::Overwrite
        } else {
            Mode::Fresh
        }
    }

    /// Progress display.
    pub fn progress(&self) -> ProgressMode {
        if self.quiet {
            ProgressMode::Quiet
        } else if self.log_lines {
            ProgressMode::Lines
        } else {
            ProgressMode::Auto
        }
    }
}

/// `--monitor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MonitorArg {
    /// Validation loss.
    Loss,
    /// Validation accuracy (classification) or R² (regression).
    Metric,
}

/// The sequence task flags `examples/rnn.rs` and `examples/lstm.rs` share.
#[derive(Args, Clone, Debug)]
pub struct SeqTaskArgs {
    /// row-mnist (digits as 28 steps of 28 pixels), adding (the adding problem), text
    /// (sentence classification), forecast (next value of a series) or, for the lstm example,
    /// lm (a character-level language model).
    #[arg(long, value_enum, default_value_t = SeqTaskKind::RowMnist)]
    pub task: SeqTaskKind,
    /// row-mnist: directory with the four MNIST IDX files (default: burn-dataset's cache, else
    /// the bundled sample).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// row-mnist, text: fraction of the training set held out for validation (text: when there
    /// is no --dev-file); forecast: of the series, before the test block.
    #[arg(long, default_value_t = 0.1)]
    pub valid_fraction: f64,
    /// adding: sequence length T.
    #[arg(long, default_value_t = 100)]
    pub seq_len: usize,
    /// adding: training sequences (validation and test sets: a tenth each).
    #[arg(long, default_value_t = 10_000)]
    pub n_train: usize,
    /// text: training file of 'LABEL TOKENS' lines, or a .csv of label,text rows (default: the
    /// bundled TREC files).
    #[arg(long)]
    pub train_file: Option<PathBuf>,
    /// text: development file for validation and model selection (same format).
    #[arg(long)]
    pub dev_file: Option<PathBuf>,
    /// text: test file (same format; required with --train-file).
    #[arg(long)]
    pub test_file: Option<PathBuf>,
    /// text: words seen fewer times than this in the training file become the unknown-word token.
    #[arg(long, default_value_t = 2)]
    pub min_count: usize,
    /// text: tokens kept per sentence.
    #[arg(long, default_value_t = 100)]
    pub max_len: usize,
    /// text: keep upper case (default: lower-case everything).
    #[arg(long)]
    pub keep_case: bool,
    /// text: readable class names in class order, comma-separated (e.g. negative,positive).
    #[arg(long, value_delimiter = ',')]
    pub label_names: Option<Vec<String>>,
    /// text: embedding width.
    #[arg(long, default_value_t = 128)]
    pub embed_dim: usize,
    /// forecast: CSV file of a univariate series (default: the bundled yearly sunspot numbers).
    #[arg(long)]
    pub series: Option<PathBuf>,
    /// forecast: column of --series to read (default: the only or the last one).
    #[arg(long)]
    pub column: Option<String>,
    /// forecast: past values read per forecast.
    #[arg(long, default_value_t = 20)]
    pub window: usize,
    /// forecast: fraction at the end of the series for testing (validation: --valid-fraction
    /// before it).
    #[arg(long, default_value_t = 0.15)]
    pub test_fraction: f64,
    /// text: classify this sentence with the model saved in --artifact-dir (no training).
    #[arg(long, value_name = "SENTENCE")]
    pub predict: Option<String>,
    /// Evaluate on the task's test set and exit: the --weights (with the architecture and task
    /// the other flags give), else the run saved in --artifact-dir.
    #[arg(long, conflicts_with = "predict")]
    pub evaluate: bool,
}

/// `--task` of the recurrent examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeqTaskKind {
    /// MNIST read row by row.
    RowMnist,
    /// The adding problem.
    Adding,
    /// Sentence classification (SST-2, TREC, your own files).
    Text,
    /// Next-value regression on a univariate series.
    Forecast,
    /// A character-level language model (the lstm example's).
    Lm,
}

impl SeqTaskArgs {
    /// The task these flags describe; flags of another task are an error.
    pub fn task(&self) -> Result<zoo_train::sequence::SeqTask, String> {
        use zoo_train::sequence::SeqTask;
        let text_flag = [
            (self.train_file.is_some(), "--train-file"),
            (self.dev_file.is_some(), "--dev-file"),
            (self.test_file.is_some(), "--test-file"),
            (self.label_names.is_some(), "--label-names"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag));
        if let (Some(flag), false) = (text_flag, self.task == SeqTaskKind::Text) {
            return Err(format!("{flag} is for --task text"));
        }
        let forecast_flag = [
            (self.series.is_some(), "--series"),
            (self.column.is_some(), "--column"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag));
        if let (Some(flag), false) = (forecast_flag, self.task == SeqTaskKind::Forecast) {
            return Err(format!("{flag} is for --task forecast"));
        }
        if self.data.is_some() && self.task != SeqTaskKind::RowMnist {
            return Err("--data is for --task row-mnist (text: --train-file/--test-file)".into());
        }
        let task = match self.task {
            SeqTaskKind::Lm => {
                return Err(
                    "--task lm is the lstm example's character-level language model".into(),
                );
            }
            SeqTaskKind::RowMnist => SeqTask::RowMnist {
                data: self.data.clone(),
                valid_fraction: self.valid_fraction,
            },
            SeqTaskKind::Adding => SeqTask::Adding {
                seq_len: self.seq_len,
                n_train: self.n_train,
            },
            SeqTaskKind::Forecast => SeqTask::Forecast {
                series: self.series.clone(),
                column: self.column.clone(),
                window: self.window,
                valid_fraction: self.valid_fraction,
                test_fraction: self.test_fraction,
            },
            SeqTaskKind::Text => SeqTask::Text(zoo_data::text::TextSpec {
                train: self.train_file.clone(),
                dev: self.dev_file.clone(),
                test: self.test_file.clone(),
                valid_fraction: self.valid_fraction,
                min_count: self.min_count,
                max_len: self.max_len,
                lowercase: !self.keep_case,
                label_names: self.label_names.clone(),
            }),
        };
        task.validate()?;
        if self.embed_dim == 0 {
            return Err("--embed-dim must be at least 1".into());
        }
        Ok(task)
    }
}

/// Prints a finished sequence run's test metrics and where its artifacts are.
pub fn print_run_summary(report: &zoo_train::Report, dir: &std::path::Path) {
    println!("{}", report.test_table());
    if let Some(b) = report.extra.get("baseline_mse").and_then(|v| v.as_f64()) {
        println!("baseline on the same test set (always predict the mean, 1.0): MSE {b:.4}");
    }
    if let Some(b) = report.extra.get("persistence_mse").and_then(|v| v.as_f64()) {
        println!("naive forecast on the same test set (next value = last value): MSE {b:.4}");
    }
    println!(
        "trained {} epochs in {:.1}s ({:.0} training samples/s); artifacts in {}",
        report.epochs_completed,
        report.wall_time_secs,
        report.train_samples_per_sec,
        dir.display()
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn library_settings_read_as_flags() {
        use super::in_flag_terms as f;
        assert_eq!(
            f("epochs must be at least 1"),
            "--epochs must be at least 1"
        );
        assert_eq!(
            f("resume: no checkpoint in runs/a_b"),
            "--resume: no checkpoint in runs/a_b"
        );
        assert_eq!(
            f("digit 10: the generator knows classes 0 to 9"),
            "--digit 10: the generator knows classes 0 to 9"
        );
        assert_eq!(
            f("warmup_epochs (3) must be smaller than epochs (2)"),
            "--warmup-epochs (3) must be smaller than epochs (2)"
        );
        assert_eq!(
            f("train_file and test_file go together"),
            "--train-file and --test-file go together"
        );
        assert_eq!(
            f("/tmp/my_data.csv: not found"),
            "/tmp/my_data.csv: not found"
        );
        assert_eq!(f("the data is fine"), "the data is fine");
    }

    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        train: TrainArgs,
        #[command(flatten)]
        backend: BackendArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flags_override_defaults() {
        let cli = parse(&[
            "--epochs",
            "3",
            "--batch-size",
            "full",
            "--lr",
            "0.5",
            "--schedule",
            "cosine",
        ])
        .unwrap();
        let c = cli.train.apply(TrainConfig::default()).unwrap();
        assert_eq!((c.epochs, c.full_batch, c.lr), (3, true, 0.5));
        assert_eq!(c.schedule, ScheduleKind::Cosine { min_lr: 0.0 });
        assert_eq!(cli.backend.backend, BackendKind::Ndarray);
    }

    #[test]
    fn bad_flags_are_one_line_errors_naming_the_flag() {
        let e = parse(&["--batch-size", "0"]).unwrap_err();
        assert!(
            e.contains("--batch-size") && e.contains("at least 1"),
            "{e}"
        );
        let e = parse(&["--backend", "cuda"]).unwrap_err();
        assert!(e.contains("unknown backend 'cuda'"), "{e}");
        let e = parse(&["--device", "gpu7"]).unwrap_err();
        assert!(e.contains("unknown device 'gpu7'"), "{e}");
        let e = parse(&["--lr", "abc"]).unwrap_err();
        assert!(e.contains("--lr"), "{e}");
        for (flag, value) in [
            ("--epochs", "0"),
            ("--lr", "-1"),
            ("--lr", "inf"),
            ("--lr", "NaN"),
        ] {
            let cli = parse(&[&format!("{flag}={value}")]).unwrap();
            let e = cli.train.apply(TrainConfig::default()).unwrap_err();
            assert!(e.starts_with(flag), "{flag}={value}: {e}");
        }
    }

    #[test]
    fn plateau_flags_build_the_plateau_schedule_and_bad_ones_name_their_flag() {
        let cli = parse(&[
            "--schedule",
            "plateau",
            "--factor",
            "0.5",
            "--lr-patience",
            "3",
        ]);
        let c = cli.unwrap().train.apply(TrainConfig::default()).unwrap();
        assert_eq!(
            c.schedule,
            ScheduleKind::Plateau {
                factor: 0.5,
                lr_patience: 3,
                min_lr: 0.0
            }
        );
        for (flag, value) in [("--factor", "1"), ("--factor", "0"), ("--min-lr", "2")] {
            let cli = parse(&["--schedule", "plateau", flag, value]).unwrap();
            let e = cli.train.apply(TrainConfig::default()).unwrap_err();
            assert!(
                e.starts_with(flag) && !e.contains('\n'),
                "{flag} {value}: {e}"
            );
        }
        let e = parse(&["--schedule", "plateau", "--lr-patience=-1"]).unwrap_err();
        assert!(e.contains("--lr-patience"), "{e}");
    }

    /// The model crates' enums are the flags' values (their `cli` feature), and a value a run
    /// saves in config.json or report.json is the one its flag takes.
    #[test]
    fn flag_values_are_the_names_saved_files_use() {
        use clap::ValueEnum;
        fn same<T: ValueEnum + serde::Serialize>(want: &[&str]) {
            let names: Vec<String> = T::value_variants()
                .iter()
                .map(|v| {
                    let flag = v.to_possible_value().unwrap().get_name().to_string();
                    assert_eq!(serde_json::to_value(v).unwrap(), flag.as_str());
                    flag
                })
                .collect();
            assert_eq!(names, want);
        }
        same::<zoo_gan::train::Variant>(&["seed", "dcgan", "wgan", "wgan-gp", "cgan"]);
        same::<burn_zoo::kernels::sequence::Pooling>(&["last", "max", "mean"]);
        same::<zoo_train::adversarial::GeneratorLoss>(&["non-saturating", "saturating"]);
        same::<zoo_data::images::ImageDatasetKind>(&["mnist", "fashion-mnist"]);
        let cells: Vec<_> = zoo_rnn::CellKind::value_variants()
            .iter()
            .map(|v| v.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(cells, ["tanh", "relu", "gru"]);
    }
}

/// `--weights` and `--export-weights`: PyTorch `state_dict`s in and out of an example.
#[derive(Args, Debug, Clone, Default)]
pub struct WeightsArgs {
    /// Start from this PyTorch state_dict (.pt, .pth or .safetensors; the tutorial's layer
    /// names, the architecture the other flags give): training fine-tunes it, and inference
    /// uses it instead of a saved run.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Write the trained (or evaluated) model to FILE.safetensors under the PyTorch tutorial's
    /// names, for `model.load_state_dict(..., strict=True)`.
    #[arg(long, value_name = "FILE.safetensors")]
    pub export_weights: Option<PathBuf>,
}

impl WeightsArgs {
    /// Checks the file names before anything runs.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(f) = &self.weights
            && !f.is_file()
        {
            return Err(format!("--weights {}: no such file", f.display()));
        }
        self.export_weights
            .as_deref()
            .map_or(Ok(()), check_export_path)
    }
}

/// `--export-weights FILE`, before the run: the zoo writes PyTorch weights as safetensors
/// only, and FILE's directory is created now, so a long run cannot fail at its end for it.
pub fn check_export_path(file: &std::path::Path) -> Result<(), String> {
    if file.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(format!(
            "--export-weights {}: the file name must end in .safetensors",
            file.display()
        ));
    }
    match file.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "--export-weights {}: cannot create {}: {e}",
                file.display(),
                dir.display()
            )
        }),
        None => Ok(()),
    }
}

/// Prints a test-set evaluation in one line: accuracy, loss and macro F1 (classification) or
/// MSE, MAE and R² (regression), and the number of samples.
pub fn print_evaluation(eval: &zoo_train::Evaluation) {
    let n = eval.targets.len();
    match &eval.summary.metrics {
        zoo_train::report::Metrics::Classification(m) => println!(
            "test accuracy {:.4} (loss {:.4}, macro F1 {:.4}) on {n} samples",
            m.accuracy, eval.summary.loss, m.f1
        ),
        zoo_train::report::Metrics::Regression(m) => println!(
            "test MSE {:.4} (MAE {:.4}, R² {:.4}) on {n} samples",
            m.mse, m.mae, m.r2
        ),
    }
}

/// A weights file's error as a run's: one line naming the file (and the tensor at fault).
pub fn weights_error(e: burn_zoo::weights::WeightsError) -> TrainError {
    TrainError::Checkpoint {
        path: e.file,
        reason: e.reason,
    }
}

/// Runs `cmd` to its end like [`std::process::Command::output`], but a stop asked for meanwhile
/// (SIGINT/SIGTERM, see [`install_signal_handlers`]) is passed on to the child as one SIGTERM;
/// after 10 s more it is killed. `Ok(None)`: it was stopped (and has exited).
pub fn output_unless_stopped(
    cmd: &mut std::process::Command,
) -> std::io::Result<Option<std::process::Output>> {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Both pipes drained on their own threads, so a chatty child never blocks on a full pipe.
    fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let mut stopped_at: Option<Instant> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if stopped_at.is_none() && zoo_train::interrupt::requested() {
            // SAFETY: kill(2) on our own child's pid, which has not been waited for yet.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            stopped_at = Some(Instant::now());
        }
        if stopped_at.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::process::Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    Ok(stopped_at.is_none().then_some(output))
}
