//! Interruption, `kill -9` and a full disk, through the real example binaries: a stopped run
//! resumes to exactly what an uninterrupted run gives, and no moment of death leaves a
//! checkpoint that cannot be loaded.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn_zoo::train::checkpoint::Checkpoint;

mod common;
use common::{example, run_example};

fn argv(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

fn spawn(name: &str, args: &[&str], cwd: &Path) -> Child {
    Command::new(example(name))
        .args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `path` exists (or the child ends); true if it does.
fn wait_for(path: &Path, child: &mut Child) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        if path.exists() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return path.exists();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn checkpoint_files(run: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    files.sort();
    files
}

fn temp_files(run: &Path) -> Vec<PathBuf> {
    [run.to_path_buf(), run.join("checkpoints")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect()
}

/// A saved model's record (Burn's named MessagePack) without the parameter ids, which are
/// random per process: what is left is the structure and every parameter's bytes.
fn record_without_ids(path: &Path) -> rmpv::Value {
    fn strip(v: rmpv::Value) -> rmpv::Value {
        match v {
            rmpv::Value::Map(entries) => rmpv::Value::Map(
                entries
                    .into_iter()
                    .filter(|(k, _)| k.as_str() != Some("id"))
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            rmpv::Value::Array(items) => rmpv::Value::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    let bytes = std::fs::read(path).unwrap();
    strip(rmpv::decode::read_value(&mut &bytes[..]).unwrap())
}

/// Runs `name` with `args` into `run`, stops it with SIGINT once its first checkpoint exists,
/// checks the interrupted state, resumes it, and checks that every parameter in the saved
/// `models` equals the uninterrupted run's, bit for bit.
fn interrupt_and_resume(name: &str, args: &[&str], t: &Path, models: &[&str]) {
    let straight = t.join(format!("{name}-straight"));
    let run = t.join(format!("{name}-run"));
    let with_dir = |dir: &Path, extra: &[&'static str]| {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--artifact-dir".into(), dir.display().to_string()]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    let a = with_dir(&straight, &[]);
    let (code, _, err) = run_example(name, &argv(&a), t);
    assert_eq!(code, 0, "{err}");

    let a = with_dir(&run, &[]);
    let mut child = spawn(name, &argv(&a), t);
    assert!(
        wait_for(&run.join("checkpoints/epoch-00001.ckpt"), &mut child),
        "{name}: no first checkpoint"
    );
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{name}: {err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: interrupted at epoch ") && last.contains("--resume"),
        "{name}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let report = json(&run.join("report.json"));
    assert_eq!(report["status"], "interrupted", "{name}");
    let total = json(&straight.join("report.json"))["epochs"].clone();
    assert!(
        report["epochs_completed"].as_u64() < total.as_u64(),
        "{name}"
    );
    // The newest checkpoint holds the epoch in progress: the steps done in it.
    let newest = checkpoint_files(&run).pop().unwrap();
    let ck = Checkpoint::read(&newest).unwrap();
    assert!(
        ck.meta.state["partial"]["steps"].as_u64().unwrap() >= 1,
        "{name}: {:?}",
        ck.meta.state["partial"]
    );

    let a = with_dir(&run, &["--resume"]);
    let (code, _, err) = run_example(name, &argv(&a), t);
    assert_eq!(code, 0, "{name} resume: {err}");
    let report = json(&run.join("report.json"));
    assert_eq!(report["status"], "finished");
    assert_eq!(report["epochs_completed"], total);
    for m in models {
        let (a, b) = (
            record_without_ids(&straight.join(m)),
            record_without_ids(&run.join(m)),
        );
        assert!(a == b, "{name}: {m} differs from the uninterrupted run's");
    }
    let losses = |r: &serde_json::Value| -> Vec<String> {
        r["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e["train_loss"], e["g_loss"]))
            .collect()
    };
    assert_eq!(
        losses(&report),
        losses(&json(&straight.join("report.json")))
    );
}

#[test]
fn ctrl_c_mid_epoch_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Two moons in batches of 8: 400 steps per epoch, so the stop lands mid-epoch.
    interrupt_and_resume(
        "mlp",
        &[
            "--n-samples",
            "4000",
            "--batch-size",
            "8",
            "--epochs",
            "8",
            "--quiet",
        ],
        t,
        &["model.mpk"],
    );
    interrupt_and_resume(
        "gan",
        &[
            "--train-limit",
            "2048",
            "--epochs",
            "4",
            "--quality-samples",
            "0",
            "--quiet",
        ],
        t,
        &["generator.mpk", "discriminator.mpk"],
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let mut child = spawn(
        "mlp",
        &[
            "--epochs",
            "1000000",
            "--artifact-dir",
            &run.display().to_string(),
            "--quiet",
        ],
        tmp.path(),
    );
    assert!(wait_for(&run.join("report.json"), &mut child));
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGINT);
    let start = Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// Trains the seed MLP for `epochs` epochs into `run`; it must succeed.
fn train_mlp(run: &Path, epochs: usize, cwd: &Path) {
    let (dir, epochs) = (run.display().to_string(), epochs.to_string());
    let args = ["--epochs", &epochs, "--artifact-dir", &dir, "--quiet"];
    let (code, _, err) = run_example("mlp", &args, cwd);
    assert_eq!(code, 0, "{err}");
}

/// Resumes the MLP run in `run` for one epoch past its newest checkpoint; it must succeed.
fn resume_one_more_epoch(run: &Path, cwd: &Path) {
    let newest = Checkpoint::read(&checkpoint_files(run).pop().unwrap()).unwrap();
    let epochs = (newest.meta.epoch + 1).to_string();
    let dir = run.display().to_string();
    let args = [
        "--epochs",
        &epochs,
        "--artifact-dir",
        &dir,
        "--resume",
        "--quiet",
    ];
    let (code, _, err) = run_example("mlp", &args, cwd);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn kill_9_at_any_moment_leaves_loadable_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let dir = run.display().to_string();
    // Full-batch moons: hundreds of epochs a second, each writing a checkpoint and the report,
    // so the kills land in the middle of writes.
    let mut resume = false;
    for delay_ms in [0, 3, 11, 29, 71, 160] {
        let mut args = vec!["--epochs", "1000000", "--artifact-dir", &dir, "--quiet"];
        if resume {
            args.push("--resume");
        }
        let mut child = spawn("mlp", &args, tmp.path());
        assert!(wait_for(&run.join("checkpoints"), &mut child));
        while checkpoint_files(&run).is_empty() {
            assert!(child.try_wait().unwrap().is_none(), "run ended");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        resume = true;
        let files = checkpoint_files(&run);
        assert!(!files.is_empty());
        for f in &files {
            let ck = Checkpoint::read(f)
                .unwrap_or_else(|e| panic!("after kill -9 at +{delay_ms} ms: {e}"));
            assert!(ck.meta.epoch >= 1);
        }
        if run.join("report.json").exists() {
            json(&run.join("report.json"));
        }
    }
    // The last kill's run resumes and finishes one more epoch.
    resume_one_more_epoch(&run, tmp.path());
    assert_eq!(json(&run.join("report.json"))["status"], "finished");
    assert!(temp_files(&run).is_empty(), "{:?}", temp_files(&run));
}

#[test]
fn a_full_disk_is_one_clear_error_and_earlier_files_stay_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let dir = run.display().to_string();
    train_mlp(&run, 3, tmp.path());
    let before: Vec<(PathBuf, Vec<u8>)> = checkpoint_files(&run)
        .into_iter()
        .chain([run.join("report.json")])
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    // A 1 KiB file-size limit: the resumed run's first write fails as on a full disk.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -f 1; exec '{}' --epochs 6 --artifact-dir '{dir}' --resume --quiet",
            example("mlp").display()
        ))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("File too large") && err.contains(&dir),
        "{err}"
    );
    for (p, bytes) in before {
        assert!(
            std::fs::read(&p).unwrap() == bytes,
            "{} changed",
            p.display()
        );
    }
    assert!(temp_files(&run).is_empty());
}

/// Waits until `child` exits, at most `secs` seconds; its exit code and stderr.
fn exit_within(mut child: Child, secs: u64) -> (Option<i32>, String) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(secs) {
            child.kill().unwrap();
            panic!("still running {secs} s after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_a_killed_holder_leaves_no_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let dir = run.display().to_string();
    train_mlp(&run, 2, tmp.path());
    // A long resume holds the directory.
    let mut holder = spawn(
        "mlp",
        &[
            "--epochs",
            "1000000",
            "--artifact-dir",
            &dir,
            "--resume",
            "--quiet",
        ],
        tmp.path(),
    );
    let pid = holder.id().to_string();
    let start = Instant::now();
    while std::fs::read_to_string(run.join(".lock"))
        .unwrap_or_default()
        .trim()
        != pid
    {
        assert!(holder.try_wait().unwrap().is_none(), "the holder ended");
        assert!(start.elapsed() < Duration::from_secs(120), "no lock taken");
        std::thread::sleep(Duration::from_millis(5));
    }
    for mode in [None, Some("--resume"), Some("--overwrite")] {
        let mut args = vec!["--epochs", "5", "--artifact-dir", &dir, "--quiet"];
        args.extend(mode);
        let (code, _, err) = run_example("mlp", &args, tmp.path());
        assert_eq!(code, 1, "{mode:?}: {err}");
        assert_eq!(
            err.trim(),
            format!(
                "error: --artifact-dir {dir}: in use by another run (pid {pid}); two writers \
                 would overwrite each other's checkpoints, so wait for it to end or stop it"
            ),
            "{mode:?}"
        );
    }
    // Readers take no lock: the saved model evaluates while the holder trains.
    let (code, out, err) = run_example("mlp", &["--artifact-dir", &dir, "--evaluate"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("accuracy"), "{out}");
    // kill -9: the kernel drops the lock with the process.
    holder.kill().unwrap();
    holder.wait().unwrap();
    resume_one_more_epoch(&run, tmp.path());
}

#[test]
fn a_resume_says_what_it_changed_refuses_what_it_cannot_change_and_leaves_a_finished_run_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let dir = run.display().to_string();
    let base = ["--artifact-dir", &dir, "--quiet"]; // the seed MLP: lr 0.01, full batch, seed 42
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend(extra);
        run_example("mlp", &a, tmp.path())
    };
    let (code, _, err) = with(&["--epochs", "3"]);
    assert_eq!(code, 0, "{err}");
    // The run's files, byte for byte (not `.lock`: it holds the pid of its latest holder).
    let files = |run: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut f: Vec<_> = files_under(run)
            .into_iter()
            .filter(|p| !p.ends_with(".lock"))
            .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
            .collect();
        f.sort();
        f
    };
    let before = files(&run);

    // Nothing left to do: says so, exits 0, touches nothing.
    let (code, _, err) = with(&["--epochs", "2", "--resume"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "{dir}: already trained 3 epochs (asked for 2); nothing to do (the run is unchanged)"
        )
    );
    assert!(files(&run) == before, "a finished run's files changed");

    // The data, the model and the seed cannot change: refused, nothing written.
    for (flags, what) in [
        (&["--seed", "7"][..], "train.seed (42 -> 7)"),
        (&["--noise", "0.3"][..], "task.noise (0.2 -> 0.3)"),
    ] {
        let mut a = vec!["--epochs", "5", "--resume"];
        a.extend(flags);
        let (code, _, err) = with(&a);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.trim().starts_with(&format!(
                "error: {dir}/config.json: a resume cannot change {what}"
            )),
            "{err}"
        );
        assert!(files(&run) == before, "{flags:?} wrote files");
    }

    // Training settings may change: one line each, and report.json keeps them.
    let (code, _, err) = with(&[
        "--epochs",
        "5",
        "--resume",
        "--lr",
        "0.5",
        "--batch-size",
        "32",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    let config = format!("{dir}/config.json");
    for (line, change) in lines.iter().zip([
        "batch_size 64 -> 32",
        "full_batch true -> false",
        "lr 0.01 -> 0.5",
    ]) {
        assert_eq!(
            *line,
            format!(
                "warning: {config}: resumed with {change}; the run no longer equals an uninterrupted one"
            )
        );
    }
    let report = json(&run.join("report.json"));
    assert_eq!(report["epochs_completed"], 5);
    let changes = report["resumed_with_changes"].as_array().unwrap();
    let lr = changes.iter().find(|c| c["setting"] == "lr").unwrap();
    assert_eq!(
        (&lr["from"], &lr["to"], &lr["after_epoch"]),
        (&0.01.into(), &0.5.into(), &3.into())
    );
    // A later resume without changes keeps the record.
    let (code, _, err) = with(&[
        "--epochs",
        "6",
        "--resume",
        "--lr",
        "0.5",
        "--batch-size",
        "32",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(
        json(&run.join("report.json"))["resumed_with_changes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// A saved GAN run to sample from (one epoch on 64 images, no quality metrics).
fn gan_run(t: &Path) -> PathBuf {
    let run = t.join("gan");
    let (code, _, err) = run_example(
        "gan",
        &[
            "--train-limit",
            "64",
            "--epochs",
            "1",
            "--quality-samples",
            "0",
            "--artifact-dir",
            &run.display().to_string(),
            "--quiet",
        ],
        t,
    );
    assert_eq!(code, 0, "{err}");
    run
}

#[test]
fn generation_is_bounded_laid_out_in_folders_and_stops_at_sigterm_with_whole_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = gan_run(tmp.path()).display().to_string();
    let out = tmp.path().join("samples");
    let o = out.display().to_string();

    // Past the limit: refused before anything is written.
    let (code, _, err) = run_example(
        "gan",
        &[
            "--artifact-dir",
            &run,
            "--generate",
            "100000000",
            "--out",
            &o,
        ],
        tmp.path(),
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        "error: --max-images is 100000 and 100000000 images were asked for (one file each); \
         raise it to write more"
    );
    assert!(!out.exists());

    // Past 1,000 images: sub-folders of 1,000.
    let (code, stdout, err) = run_example(
        "gan",
        &[
            "--artifact-dir",
            &run,
            "--generate",
            "1500",
            "--out",
            &o,
            "--quiet",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.starts_with("wrote 1500 images ("), "{stdout}");
    assert_eq!(std::fs::read_dir(out.join("000")).unwrap().count(), 1000);
    assert_eq!(std::fs::read_dir(out.join("001")).unwrap().count(), 500);
    assert!(out.join("001/sample_1499.png").is_file());

    // SIGTERM: the image in progress is finished, the rest abandoned, exit 130.
    let big = tmp.path().join("big");
    let mut child = spawn(
        "gan",
        &[
            "--artifact-dir",
            &run,
            "--generate",
            "100000",
            "--out",
            &big.display().to_string(),
        ],
        tmp.path(),
    );
    assert!(wait_for(&big.join("000/sample_00000.png"), &mut child));
    signal(&child, libc::SIGTERM);
    let (code, err) = exit_within(child, 5);
    assert_eq!(code, Some(130), "{err}");
    let last = err.lines().last().unwrap_or_default();
    let written = files_under(&big);
    assert_eq!(
        last,
        format!(
            "error: stopped by a signal after writing {} of 100000 images into {}; each of \
             them is complete",
            written.len(),
            big.display()
        )
    );
    assert!(written.len() < 100_000);
    for f in &written {
        assert!(!f.to_string_lossy().contains(".tmp-"), "{}", f.display());
        let png = std::fs::read(f).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.ends_with(b"IEND\xaeB`\x82"),
            "{} is not a whole PNG",
            f.display()
        );
    }
}

#[test]
fn measuring_a_gan_again_stops_at_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let run = gan_run(tmp.path()).display().to_string();
    let mut child = spawn(
        "gan",
        &[
            "--artifact-dir",
            &run,
            "--evaluate",
            "--quality-samples",
            "100000",
        ],
        tmp.path(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "ended before the signal"
    );
    signal(&child, libc::SIGTERM);
    let (code, err) = exit_within(child, 5);
    assert_eq!(code, Some(130), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: stopped by a signal while "),
        "{err}"
    );
    assert!(!std::path::Path::new(&run).join("quality.json").exists());
}

#[test]
fn compare_passes_sigterm_to_its_cell_and_writes_no_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let mut child = spawn(
        "compare",
        &[
            "--quick",
            "--models",
            "mlp",
            "--backends",
            "ndarray",
            "--no-pytorch",
            "--repeat",
            "100",
            "--out",
            &out.display().to_string(),
        ],
        tmp.path(),
    );
    assert!(wait_for(&out.join("cells/mlp-ndarray-run2"), &mut child));
    signal(&child, libc::SIGTERM);
    let (code, err) = exit_within(child, 10);
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap_or_default()
            .starts_with("error: stopped by a signal; no compare.json written"),
        "{err}"
    );
    assert!(!out.join("compare.json").exists());
    // The cell's own process stopped too: nothing of it is still writing.
    let files = files_under(&out);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(files, files_under(&out));
    assert!(files.iter().all(|f| !f.to_string_lossy().contains(".tmp-")));
}

#[test]
fn a_download_stops_at_sigterm_and_leaves_no_file() {
    use std::io::{BufRead, BufReader, Write};
    let tmp = tempfile::tempdir().unwrap();
    // A mirror that sends a header promising 10 MB, then 1 KB every 20 ms.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n"
        );
        while stream.write_all(&[0u8; 1024]).is_ok() {
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let cache = tmp.path().join("cache");
    let mut child = Command::new(example("cnn"))
        .args(["--download", "--mirror", &base, "--epochs", "1"])
        .current_dir(tmp.path())
        .env("XDG_CACHE_HOME", &cache)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "ended before the signal"
    );
    signal(&child, libc::SIGTERM);
    let (code, err) = exit_within(child, 5);
    assert_eq!(code, Some(130), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "error: --download: {base}train-images-idx3-ubyte.gz: stopped by a signal after "
        )),
        "{err}"
    );
    assert!(files_under(&cache).is_empty(), "{:?}", files_under(&cache));
}
