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
    let newest = Checkpoint::read(&checkpoint_files(&run).pop().unwrap()).unwrap();
    let epochs = (newest.meta.epoch + 1).to_string();
    let (code, _, err) = run_example(
        "mlp",
        &[
            "--epochs",
            &epochs,
            "--artifact-dir",
            &dir,
            "--resume",
            "--quiet",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&run.join("report.json"))["status"], "finished");
    assert!(temp_files(&run).is_empty(), "{:?}", temp_files(&run));
}

#[test]
fn a_full_disk_is_one_clear_error_and_earlier_files_stay_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let dir = run.display().to_string();
    let (code, _, err) = run_example(
        "mlp",
        &["--epochs", "3", "--artifact-dir", &dir, "--quiet"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
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
