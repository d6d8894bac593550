//! Data: loading files, cleaning, scaling, encoding, splitting and batching.
//!
//! Loaders take a path (the book's data live under `data/`) and return
//! [`Result`](crate::Result); a missing file's error names the path it tried. Files ending in
//! `.gz` (or starting with gzip's magic bytes) are decompressed on the fly.

mod batches;
mod csv;
mod impute;
mod mnist;
mod one_hot;
mod outliers;
mod scaling;
mod split;
mod text;
mod time_series;

pub use batches::BatchIterator;
pub use csv::{Table, read_csv, read_csv_headerless};
pub use impute::{impute_mean, impute_median, interpolate_linear};
pub use mnist::{load_mnist, parse_idx};
pub use one_hot::one_hot;
pub use outliers::{clip_outliers_iqr, clip_outliers_zscore, quantile};
pub use scaling::{MinMaxScaler, Standardizer};
pub use split::{Split, train_test_split};
pub use text::{CharVocab, load_text};
pub use time_series::sliding_windows;

use crate::error::{DlError, Result};
use std::io::Read;
use std::path::Path;

/// The bytes of a file, gunzipped if it is gzip-compressed (magic bytes `1f 8b`).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let bytes = crate::error::read_file(path)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| DlError::format(path, format!("bad gzip data: {e}")))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

pub(crate) fn read_text_file(path: &Path) -> Result<String> {
    String::from_utf8(read_maybe_gzip(path)?)
        .map_err(|e| DlError::format(path, format!("not UTF-8 text: {e}")))
}
