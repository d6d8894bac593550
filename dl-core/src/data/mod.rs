//! Data: reading files (CSV tables, MNIST, text, images), cleaning, scaling, encoding,
//! shifting images (augmentation), splitting and batching.
//!
//! Loaders take a path (the book's data live under `data/`) and return
//! [`crate::Result`]; a missing file's error names the path it tried. Files ending in
//! `.gz` (or starting with gzip's magic bytes) are decompressed on the fly.

mod batches;
mod csv;
mod image;
mod impute;
mod mnist;
mod one_hot;
mod outliers;
mod scaling;
mod shift;
mod split;
mod text;
mod time_series;

pub(crate) use self::image::encode_png;
pub use self::image::{Color, read_image, resize_image, write_png};
pub use batches::BatchIterator;
pub use csv::{Table, read_csv, read_csv_headerless};
pub use impute::{impute_mean, impute_median, interpolate_linear};
pub use mnist::{parse_idx, read_mnist};
pub use one_hot::one_hot;
pub use outliers::{clip_outliers_iqr, clip_outliers_zscore, quantile};
pub use scaling::{MinMaxScaler, Standardizer};
pub use shift::{random_shifts, shift_image};
pub use split::{Split, train_test_split};
pub use text::{CharVocab, read_text};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::Show;

    #[test]
    fn a_long_table_shows_its_head_and_tail() {
        let mut csv = String::from("a,b\n");
        for i in 0..30 {
            csv.push_str(&format!("{i},{}\n", i * 2));
        }
        let table = Table::from_csv_str(&csv, "inline").unwrap();
        let html = table.mime_bundle().get("text/html").unwrap().to_string();
        assert!(html.contains("<th style=\"padding:2px 6px\">a</th>"));
        assert!(html.contains(">29<") && html.contains("…") && !html.contains(">10<"));
    }

    #[test]
    fn a_ragged_row_is_an_error_with_its_line_number() {
        let err = Table::from_csv_str("a,b\n1,2\n3\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.csv") && err.contains("line 3"), "{err}");
        let err = Table::from_csv_str("a,b\n1,2\n3,x\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3, column \"b\": \"x\" is not a number"),
            "{err}"
        );
    }

    #[test]
    fn quoted_fields_keep_their_commas_and_text_columns_are_kept() {
        let csv = "name,age,team\n\"Smith, J.\",42,red\n\"O\"\"Brien\",,blue\nLee,35,red\n";
        let table = Table::from_csv_str(csv, "people.csv").unwrap();
        assert_eq!(table.columns, vec!["age"]);
        assert_eq!(table.num_rows(), 3);
        assert_eq!(table.data[[0, 0]], 42.0);
        assert!(table.data[[1, 0]].is_nan());
        assert_eq!(table.text_columns, vec!["name", "team"]);
        assert_eq!(
            table.text_column("name").unwrap(),
            ["Smith, J.", "O\"Brien", "Lee"]
        );
        assert_eq!(table.categories("team").unwrap(), ["blue", "red"]);
        let encoded = table.one_hot_column("team");
        assert_eq!(encoded.columns, vec!["age", "team=blue", "team=red"]);
        assert_eq!(
            encoded.data.column(2).to_vec(),
            vec![1.0, 0.0, 1.0],
            "team=red"
        );
        assert_eq!(encoded.text_columns, vec!["name"]);
        let complete = table.drop_missing_rows();
        assert_eq!(complete.text_column("name").unwrap(), ["Smith, J.", "Lee"]);
    }

    #[test]
    fn gzip_is_detected_by_its_magic_bytes() {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("dl-core-gz-{}.csv", std::process::id()));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"x,y\n1,2\n").unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let table = read_csv(&path).unwrap();
        assert_eq!(table.data[[0, 1]], 2.0);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn batches_cover_every_sample_once() {
        let x = crate::tensor::from_vec(&[10, 1], (0..10).map(|v| v as f32).collect());
        let mut seen: Vec<f32> = BatchIterator::new(&x, &x, 3, Some(1))
            .flat_map(|(xb, _)| xb.iter().copied().collect::<Vec<_>>())
            .collect();
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, (0..10).map(|v| v as f32).collect::<Vec<_>>());
    }
}
