//! How a long operation (a download, a training run) shows its progress.

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, lines otherwise.
    Auto,
    /// Plain lines on stderr.
    Lines,
    /// Nothing (tests, library use).
    Quiet,
}
