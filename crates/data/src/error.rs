//! Errors raised while loading data sets from disk.
//!
//! Every [`DataError`] names the file it is about and renders as a single line,
//! e.g. `data/x.idx: truncated: header says 60000x28x28 (47040000 bytes) but only
//! 1200 bytes follow`, so that it can be shown to a user as is.

use std::path::PathBuf;

/// An error while reading or validating a data file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file was read but its binary content is malformed (IDX and similar formats).
    #[error("{}: {reason}", path.display())]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What is wrong, in one line.
        reason: String,
    },
    /// A CSV file is malformed or does not fit the expected table shape.
    #[error("{}: {reason}", path.display())]
    Csv {
        /// The offending file.
        path: PathBuf,
        /// What is wrong, in one line (with line number and column where known).
        reason: String,
    },
}

impl DataError {
    /// Builds a [`DataError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// Builds a [`DataError::Format`] for `path`.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Builds a [`DataError::Csv`] for `path`.
    pub fn csv(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Csv {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The file this error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Io { path, .. } | Self::Format { path, .. } | Self::Csv { path, .. } => path,
        }
    }
}

/// Result alias for data loading.
pub type DataResult<T> = Result<T, DataError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_and_names_the_file() {
        let e = DataError::format(
            "data/x.idx",
            "truncated: header says 60000x28x28 (47040000 bytes) but only 1200 bytes follow",
        );
        assert_eq!(
            e.to_string(),
            "data/x.idx: truncated: header says 60000x28x28 (47040000 bytes) but only 1200 bytes follow"
        );
        let e = DataError::io(
            "a/b.csv",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        );
        assert_eq!(e.to_string(), "a/b.csv: no such file");
        assert_eq!(e.path(), std::path::Path::new("a/b.csv"));
        let e = DataError::csv("t.csv", "no data rows");
        assert_eq!(e.to_string(), "t.csv: no data rows");
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn io_error_keeps_its_source() {
        use std::error::Error as _;
        let e = DataError::io("f", std::io::Error::other("boom"));
        assert!(e.source().is_some());
    }
}
