//! Running the example binaries from integration tests.
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>/examples/<name>`: cargo builds the examples before it runs tests.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not built (run through cargo test)",
        path.display()
    );
    path
}

pub fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    run_example("mlp", args, cwd)
}

pub fn run_example(name: &str, args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(example(name))
        .args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
