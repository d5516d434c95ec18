//! Stopping a run cleanly. The training loops ask [`requested`] after every batch; when it is
//! set they finish that batch, write a checkpoint and a `report.json` marked `interrupted`, and
//! return [`crate::TrainError::Interrupted`].
//!
//! [`install`] (the example binaries call it) sets the flag on the first SIGINT (Ctrl-C) or
//! SIGTERM; a second one exits the process at once with status 130. Library users who want
//! another trigger (a stop button, a time limit) call [`request`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Exit status after an interrupt: 128 + SIGINT, as shells report a Ctrl-C.
pub const EXIT_STATUS: u8 = 130;

fn flag() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Routes SIGINT and SIGTERM to the stop flag: the first one asks the running loop to stop
/// after its current batch, a second one exits at once (status 130). Safe to call twice.
pub fn install() -> std::io::Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Order matters: the conditional exit runs first and sees the flag as the previous
        // signal left it.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            EXIT_STATUS as i32,
            Arc::clone(flag()),
        )?;
        signal_hook::flag::register(signal, Arc::clone(flag()))?;
    }
    let _ = INSTALLED.set(());
    Ok(())
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    flag().load(Ordering::SeqCst)
}

/// Asks the running training loop to stop after its current batch.
pub fn request() {
    flag().store(true, Ordering::SeqCst);
}

/// Clears a stop request (before starting another run in the same process).
pub fn clear() {
    flag().store(false, Ordering::SeqCst);
}

/// `Err(TrainError::Stopped(..))` when a stop was asked for: the check a long loop outside
/// training (generation, evaluation, measurement) makes before each item. `during` says what
/// was under way and what is left (`while generating, after 300 of 1000 images ...`).
pub fn check(during: impl FnOnce() -> String) -> Result<(), crate::TrainError> {
    if requested() {
        Err(crate::TrainError::Stopped(during()))
    } else {
        Ok(())
    }
}
