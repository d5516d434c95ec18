//! Progress display: a bar per epoch on a terminal, plain log lines otherwise (CI, pipes).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use zoo_data::ProgressMode;

/// Shows training progress.
pub struct Progress {
    bars: bool,
    quiet: bool,
    bar: Option<ProgressBar>,
    every: usize,
}

impl Progress {
    /// A display in `mode` for a run of `epochs` epochs. In line mode, long runs log about 20
    /// evenly spaced epochs plus the first and last.
    pub fn new(mode: ProgressMode, epochs: usize) -> Self {
        let bars = mode == ProgressMode::Auto && std::io::stderr().is_terminal();
        Self {
            bars,
            quiet: mode == ProgressMode::Quiet,
            bar: None,
            every: epochs.div_ceil(20).max(1),
        }
    }

    /// An epoch of `steps` optimiser steps begins.
    pub fn start_epoch(&mut self, epoch: usize, epochs: usize, steps: usize) {
        if self.bars {
            let bar =
                ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} steps {msg} ({elapsed}<{eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{epochs}"));
            bar.enable_steady_tick(Duration::from_millis(200));
            self.bar = Some(bar);
        }
    }

    /// One step finished with mean batch loss `loss`.
    pub fn step(&self, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("loss {loss:.4}"));
        }
    }

    /// The epoch ended; `line` summarises it.
    pub fn end_epoch(&mut self, epoch: usize, epochs: usize, line: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        if self.bars || epoch == 1 || epoch == epochs || epoch.is_multiple_of(self.every) {
            eprintln!("{line}");
        }
    }

    /// A message outside the per-epoch lines.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

/// Progress through `total` items outside training (images written, files read): a bar on a
/// terminal, a line at every tenth otherwise, nothing when quiet.
pub struct Counter {
    bar: Option<ProgressBar>,
    lines: bool,
    done: usize,
    total: usize,
    what: &'static str,
}

impl Counter {
    /// A counter of `total` `what`s (`"images"`) in `mode`.
    pub fn new(mode: ProgressMode, total: usize, what: &'static str) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (mode == ProgressMode::Auto && terminal).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg} ({elapsed}<{eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(what);
            bar
        });
        Self {
            lines: bar.is_none() && mode != ProgressMode::Quiet,
            bar,
            done: 0,
            total,
            what,
        }
    }

    /// `n` more items are done.
    pub fn inc(&mut self, n: usize) {
        let before = self.done * 10 / self.total.max(1);
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        } else if self.lines && self.done * 10 / self.total.max(1) > before {
            eprintln!("{} of {} {}", self.done, self.total, self.what);
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
