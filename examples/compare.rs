//! Every model on every compiled backend, side by side with the same seed models in PyTorch:
//! training and inference throughput, peak memory and the metric after a short fixed run.
//!
//! ```sh
//! cargo run --release --example compare                      # ndarray, all models
//! cargo run --release --features wgpu,tch --example compare -- --models all --backends all
//! cargo run --release --example compare -- --quick           # a smoke run of seconds per cell
//! ```
//!
//! Writes `compare.json`, `compare.md` and `compare.png` into `--out` (default
//! `artifacts/compare`) and prints the table. The PyTorch column runs
//! `reference/pytorch_seed.py` with `--python` (default: `$ZOO_PYTHON`, else the venv that
//! `.ci/test.sh` provisions, else `python3`); without torch it is skipped with a note.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use burn_zoo::train::TrainError;
use burn_zoo::train::artifacts::{atomic_write, read_json, write_json};
use clap::Parser;
use zoo_cli::backend::{BackendKind, DeviceSpec, dispatch};
use zoo_cli::cli::output_unless_stopped;
use zoo_cli::compare::{
    Cell, CellJob, CellStatus, CompareReport, Machine, ModelKind, PyTorchResult, PyTorchStatus,
    SCHEMA_VERSION, ScoreImages, Workload, median_run, utc_date, write_workload,
};

#[derive(Parser, Debug)]
#[command(
    about = "Compare the zoo's models across backends and against PyTorch",
    after_help = "Workloads (same data, batch sizes, epochs and Adam settings in every column): \
                  mlp: two moons, 200 full-batch epochs; cnn: 3,000 bundled MNIST digits, 2 \
                  epochs, batch 64; rnn, lstm: the same digits as 28 rows, 3 epochs; gan: 3,000 \
                  digits, 3 epochs, FID of 1,000 samples. Throughput leaves out the first epoch \
                  (mlp: 20). --quick shrinks all of them."
)]
struct Cli {
    /// Models: all, or a comma-separated list of mlp, cnn, rnn, lstm, gan.
    #[arg(long, default_value = "all")]
    models: String,
    /// Backends: all (those compiled in), or a comma-separated list of ndarray, wgpu, tch.
    #[arg(long, default_value = "all")]
    backends: String,
    /// Small workloads: a smoke run (CI), not numbers to quote.
    #[arg(long)]
    quick: bool,
    /// Output directory: compare.json, compare.md, compare.png, cells/, workload/.
    #[arg(long, default_value = "artifacts/compare")]
    out: PathBuf,
    /// Python with torch 2.9 for the PyTorch column.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Leave out the PyTorch column.
    #[arg(long)]
    no_pytorch: bool,
    /// The PyTorch reference script [default: reference/pytorch_seed.py].
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Device of the tch cells: cpu or cuda:N (the PyTorch column runs on the CPU).
    #[arg(long, default_value = "cpu")]
    tch_device: String,
    /// Runs of every cell, in interleaved rounds (each backend, then PyTorch, then again);
    /// each cell reports its median run, with every run's training throughput in compare.json.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Redraw the chart of an earlier run: reads this compare.json and writes compare.png
    /// beside it (no cell runs; the other flags are ignored).
    #[arg(long, value_name = "COMPARE_JSON")]
    redraw: Option<PathBuf>,
    /// Internal: run one cell of MODEL in this process.
    #[arg(long, hide = true)]
    cell: Option<String>,
    /// Internal: the cell's backend.
    #[arg(long, hide = true)]
    cell_backend: Option<String>,
}

fn list<T>(
    arg: &str,
    flag: &str,
    all: Vec<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    if arg.trim() == "all" {
        return Ok(all);
    }
    let items: Result<Vec<T>, String> = arg
        .split(',')
        .map(|s| parse(s.trim()).map_err(|e| format!("--{flag}: {e}")))
        .collect();
    match items {
        Ok(v) if v.is_empty() => Err(format!("--{flag}: empty list")),
        r => r,
    }
}

fn default_python() -> PathBuf {
    if let Some(p) = std::env::var_os("ZOO_PYTHON") {
        return PathBuf::from(p);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let venv = Path::new(&home).join(".cache/burn-zoo/torch-venv/bin/python");
        if venv.exists() {
            return venv;
        }
    }
    PathBuf::from("python3")
}

fn default_reference() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/pytorch_seed.py");
    if built.exists() {
        built
    } else {
        PathBuf::from("reference/pytorch_seed.py")
    }
}

fn last_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

/// Runs one cell in a child process (its own peak memory, its own failure).
fn run_cell(model: ModelKind, backend: BackendKind, cli: &Cli, dir: &Path) -> Cell {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return Cell::empty(model, backend.name(), CellStatus::Failed, e.to_string()),
    };
    let mut cmd = Command::new(exe);
    cmd.args(["--cell", model.name(), "--cell-backend", backend.name()])
        .arg("--out")
        .arg(dir)
        .args(["--tch-device", &cli.tch_device]);
    if cli.quick {
        cmd.arg("--quick");
    }
    match output_unless_stopped(&mut cmd) {
        Ok(None) => Cell::empty(
            model,
            backend.name(),
            CellStatus::Failed,
            "stopped by a signal".into(),
        ),
        Ok(Some(out)) if out.status.success() => {
            match read_json::<Cell>(&dir.join("cell.json"), "compare cell") {
                Ok(c) => c,
                Err(e) => Cell::empty(model, backend.name(), CellStatus::Failed, e.to_string()),
            }
        }
        Ok(Some(out)) => Cell::empty(
            model,
            backend.name(),
            CellStatus::Failed,
            last_line(&String::from_utf8_lossy(&out.stderr)),
        ),
        Err(e) => Cell::empty(model, backend.name(), CellStatus::Failed, e.to_string()),
    }
}

/// The child side: one model on one backend, written to `<out>/cell.json`.
fn child(cli: &Cli, model: &str) -> Result<(), String> {
    let model: ModelKind = model.parse()?;
    let backend: BackendKind = cli.cell_backend.as_deref().unwrap_or("ndarray").parse()?;
    let device = match backend {
        BackendKind::Tch => cli
            .tch_device
            .parse::<DeviceSpec>()
            .map_err(|e| format!("--tch-device: {e}"))?,
        _ => DeviceSpec::Default,
    };
    let job = CellJob {
        workload: Workload::of(model, cli.quick),
        dir: cli.out.join("run"),
    };
    let cell = dispatch(backend, device, job)
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    write_json(&cli.out.join("cell.json"), &cell).map_err(|e| e.to_string())
}

/// Whether `python` imports torch: its version, or why not.
fn torch_version(python: &Path, reference: &Path) -> Result<String, String> {
    if !reference.exists() {
        return Err(format!("{}: no such file", reference.display()));
    }
    let out = Command::new(python)
        .arg(reference)
        .arg("--check")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if out.status.success() {
        Ok(last_line(&String::from_utf8_lossy(&out.stdout)))
    } else {
        Err(last_line(&String::from_utf8_lossy(&out.stderr)))
    }
}

fn pytorch_cell(
    w: &Workload,
    cli: &Cli,
    python: &Path,
    reference: &Path,
    score_on: Option<BackendKind>,
) -> Cell {
    let model = w.model;
    let dir = cli
        .out
        .join("cells")
        .join(format!("{}-pytorch", model.name()));
    let failed = |note: String| Cell::empty(model, "pytorch", CellStatus::Failed, note);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return failed(format!("{}: {e}", dir.display()));
    }
    let result = dir.join("result.json");
    let out = output_unless_stopped(
        Command::new(python)
            .arg(reference)
            .arg("--workload")
            .arg(cli.out.join("workload").join(model.name()))
            .arg("--out")
            .arg(&result),
    );
    match out {
        Ok(None) => return failed("stopped by a signal".into()),
        Ok(Some(o)) if o.status.success() => {}
        Ok(Some(o)) => return failed(last_line(&String::from_utf8_lossy(&o.stderr))),
        Err(e) => return failed(format!("cannot run {}: {e}", python.display())),
    }
    let r: PyTorchResult = match read_json(&result, "PyTorch result") {
        Ok(r) => r,
        Err(e) => return failed(e.to_string()),
    };
    let generated = r.generated.clone();
    let mut cell = r.into_cell(model);
    if let (ModelKind::Gan, Some(images)) = (model, generated) {
        let score = score_on
            .ok_or_else(|| "no backend to score the images on".to_string())
            .and_then(|b| {
                dispatch(
                    b,
                    DeviceSpec::Default,
                    ScoreImages {
                        workload: w.clone(),
                        images,
                    },
                )
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
            });
        match score {
            Ok(fid) => {
                if let Some(m) = cell.metric.as_mut() {
                    m.value = Some(fid);
                }
            }
            Err(e) => cell.note = Some(format!("FID not measured: {e}")),
        }
    }
    cell
}

fn describe(c: &Cell) -> String {
    match c.status {
        CellStatus::Ok => format!(
            "train {:.0} samples/s, inference {:.0} samples/s, {} {}, {:.1}s",
            c.train_samples_per_sec.unwrap_or(0.0),
            c.infer_samples_per_sec.unwrap_or(0.0),
            c.metric.as_ref().map_or("", |m| m.name.as_str()),
            c.metric
                .as_ref()
                .and_then(|m| m.value)
                .map_or("—".into(), |v| format!("{v:.4}")),
            c.wall_seconds
        ),
        s => format!("{s:?}: {}", c.note.clone().unwrap_or_default()).to_lowercase(),
    }
}

fn main_inner(cli: Cli) -> Result<bool, String> {
    if let Some(model) = &cli.cell {
        child(&cli, model)?;
        return Ok(true);
    }
    if let Some(json) = &cli.redraw {
        let report: CompareReport = read_json(json, "a compare.json").map_err(|e| e.to_string())?;
        let chart = json.with_file_name("compare.png");
        report.chart(&chart).map_err(|e| e.to_string())?;
        println!("wrote {}", chart.display());
        return Ok(true);
    }
    let models = list(&cli.models, "models", ModelKind::ALL.to_vec(), |s| {
        s.parse()
    })?;
    let backends = list(&cli.backends, "backends", BackendKind::compiled_in(), |s| {
        let b: BackendKind = s.parse()?;
        if b.compiled() {
            Ok(b)
        } else {
            Err(format!(
                "{b} is not compiled into this binary; rebuild with --features {b}"
            ))
        }
    })?;
    cli.tch_device
        .parse::<DeviceSpec>()
        .map_err(|e| format!("--tch-device: {e}"))?;
    if cli.repeat == 0 {
        return Err("--repeat: must be at least 1".into());
    }
    let started = Instant::now();
    let workloads: Vec<Workload> = models.iter().map(|&m| Workload::of(m, cli.quick)).collect();
    let python = cli.python.clone().unwrap_or_else(default_python);
    let reference = cli.reference.clone().unwrap_or_else(default_reference);
    let pytorch = if cli.no_pytorch {
        PyTorchStatus {
            available: false,
            python: python.display().to_string(),
            torch_version: None,
            note: "left out (--no-pytorch)".into(),
        }
    } else {
        match torch_version(&python, &reference) {
            Ok(v) => PyTorchStatus {
                available: true,
                python: python.display().to_string(),
                torch_version: Some(v),
                note: format!("{} on the same data", reference.display()),
            },
            Err(why) => PyTorchStatus {
                available: false,
                python: python.display().to_string(),
                torch_version: None,
                note: format!("PyTorch column skipped: {why}"),
            },
        }
    };
    if !pytorch.available {
        eprintln!("note: {}", pytorch.note);
    }
    let io = |e: TrainError| e.to_string();
    let mut results = Vec::new();
    for w in &workloads {
        let model = w.model;
        if pytorch.available {
            write_workload(w, &cli.out.join("workload").join(model.name())).map_err(io)?;
        }
        // Rounds rather than back-to-back runs of one cell: a slow spell of the machine then
        // hits every column of the round, not one backend's runs.
        let mut runs: Vec<Vec<Cell>> = vec![Vec::new(); backends.len() + 1];
        for round in 1..=cli.repeat {
            let of = if cli.repeat > 1 {
                format!(" (run {round} of {})", cli.repeat)
            } else {
                String::new()
            };
            for (i, &b) in backends.iter().enumerate() {
                let mut name = format!("{}-{}", model.name(), b.name());
                if cli.repeat > 1 {
                    name.push_str(&format!("-run{round}"));
                }
                let dir = cli.out.join("cells").join(name);
                eprintln!("[{} on {}{of}] running", model.name(), b.name());
                let cell = run_cell(model, b, &cli, &dir);
                stop_if_asked()?;
                eprintln!("[{} on {}{of}] {}", model.name(), b.name(), describe(&cell));
                runs[i].push(cell);
            }
            if pytorch.available {
                eprintln!("[{} in PyTorch{of}] running", model.name());
                let score_on = backends.first().copied();
                let cell = pytorch_cell(w, &cli, &python, &reference, score_on);
                stop_if_asked()?;
                eprintln!("[{} in PyTorch{of}] {}", model.name(), describe(&cell));
                runs[backends.len()].push(cell);
            }
        }
        results.extend(runs.into_iter().filter_map(median_run));
    }
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut report = CompareReport {
        schema_version: SCHEMA_VERSION,
        date: utc_date(unix_time),
        unix_time,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        quick: cli.quick,
        repeat: cli.repeat,
        machine: Machine::current(),
        zoo_version: env!("CARGO_PKG_VERSION").into(),
        burn_version: "0.21.0".into(),
        pytorch,
        workloads,
        results,
        ratios: Vec::new(),
    };
    report.finish();
    let table = report.markdown();
    write_json(&cli.out.join("compare.json"), &report).map_err(io)?;
    let md = format!(
        "{} — {} ({} CPUs{}), {}{}\n\n{table}",
        report.command,
        report.machine.cpu,
        report.machine.cpus,
        if report.machine.gpu_adapters.is_empty() {
            String::new()
        } else {
            format!(", wgpu: {}", report.machine.gpu_adapters.join(", "))
        },
        report.date,
        if report.pytorch.available {
            String::new()
        } else {
            format!("\n\n{}", report.pytorch.note)
        },
    );
    atomic_write(&cli.out.join("compare.md"), md.as_bytes()).map_err(io)?;
    report.chart(&cli.out.join("compare.png")).map_err(io)?;
    println!("{table}");
    if !report.pytorch.available {
        println!("{}", report.pytorch.note);
    }
    println!(
        "compared {} model(s) on {} backend(s) in {:.0}s; wrote {}",
        report.workloads.len(),
        backends.len(),
        started.elapsed().as_secs_f64(),
        cli.out.join("compare.json").display()
    );
    let failed: Vec<String> = report
        .results
        .iter()
        .filter(|c| c.framework == "burn" && c.status == CellStatus::Failed)
        .map(|c| format!("{} on {}", c.model.name(), c.backend))
        .collect();
    if failed.is_empty() {
        Ok(true)
    } else {
        eprintln!(
            "error: {} cell(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
        Ok(false)
    }
}

/// After SIGINT/SIGTERM: the cell under way was stopped (its child got the signal); the run
/// ends without a compare.json, as its table would mix finished and missing cells.
fn stop_if_asked() -> Result<(), String> {
    if burn_zoo::train::interrupt::requested() {
        Err(
            "stopped by a signal; no compare.json written (the finished cells' files are in \
             --out's cells/)"
                .into(),
        )
    } else {
        Ok(())
    }
}

fn main() -> ExitCode {
    match main_inner(zoo_cli::cli::parse_or_exit()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) if burn_zoo::train::interrupt::requested() => {
            eprintln!("error: {e}");
            ExitCode::from(burn_zoo::train::interrupt::EXIT_STATUS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
