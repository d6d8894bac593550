//! Errors for everything that reads or writes files (data sets, models, figures).
//!
//! Shape mismatches between tensors in code panic (a bug in the cell); a bad or missing file is
//! an `Err(DlError)` whose message names the path.

use std::path::PathBuf;

/// The error type of dl-core's file-facing functions.
#[derive(Debug, thiserror::Error)]
pub enum DlError {
    /// The file does not exist.
    #[error("file not found: {path}")]
    NotFound {
        /// The path that was tried.
        path: PathBuf,
    },
    /// Any other I/O failure.
    #[error("cannot read or write {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's contents are not in the expected format.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong, with a line number where known.
        message: String,
    },
    /// A saved parameter does not fit the model's layer.
    #[error(
        "layer {layer}: parameter {parameter} has shape {found:?} in the file but {expected:?} in the model"
    )]
    ShapeMismatch {
        /// Layer name, e.g. `dense_1`.
        layer: String,
        /// Parameter name, e.g. `weight`.
        parameter: String,
        /// Shape in the model.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A saved model has a different architecture than the model it is loaded into.
    #[error("architecture mismatch: {0}")]
    Architecture(String),
    /// Drawing a figure failed.
    #[error("plot: {0}")]
    Plot(String),
}

impl DlError {
    /// Maps an I/O error on `path` to `NotFound` or `Io`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> DlError {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            DlError::NotFound { path }
        } else {
            DlError::Io { path, source }
        }
    }

    /// A format error for `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> DlError {
        DlError::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// `Result` with [`DlError`].
pub type Result<T> = std::result::Result<T, DlError>;

/// Reads a whole file, naming the path on failure.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| DlError::io(path, e))
}
