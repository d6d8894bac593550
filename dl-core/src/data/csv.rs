//! Reading numeric tables from CSV files (optionally gzip-compressed).
//!
//! The first line is the header (column names). scikit-learn's bundled files (iris, breast
//! cancer, wine), whose first line is `n_samples,n_features,class names...`, get the columns
//! `feature_0 … feature_{d−1}, target`. Fields are separated by commas, or by runs of
//! white space when the header has no comma. Empty fields and `NA`, `NaN`, `nan`, `?`, `null`
//! are missing values, stored as `NaN` (fill them with [`impute_mean`](crate::data::impute_mean)
//! or [`impute_median`](crate::data::impute_median)).

use crate::data::read_text_file;
use crate::display::{MimeBundle, Show};
use crate::error::{DlError, Result};
use crate::tensor::Tensor;
use ndarray::{Array1, Array2, Axis};
use std::path::Path;

/// A numeric table: named columns over rows, `NaN` where a value is missing.
///
/// ```
/// use dl_core::data::Table;
/// let t = Table::from_csv_str("a,b\n1,2\n3,\n", "inline").unwrap();
/// assert_eq!(t.columns, vec!["a", "b"]);
/// assert_eq!(t.num_missing(), 1);
/// assert_eq!(t.column("a").unwrap().to_vec(), vec![1.0, 3.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names from the header.
    pub columns: Vec<String>,
    /// Values `[rows, columns]`; `NaN` marks a missing value.
    pub data: Array2<f32>,
}

fn is_missing(field: &str) -> bool {
    matches!(
        field,
        "" | "NA" | "N/A" | "NaN" | "nan" | "?" | "null" | "NULL"
    )
}

fn split_line(line: &str, comma: bool) -> Vec<String> {
    let clean = |s: &str| s.trim().trim_matches('"').trim().to_string();
    if comma {
        line.split(',').map(clean).collect()
    } else {
        line.split_whitespace().map(clean).collect()
    }
}

impl Table {
    /// Parses CSV text; `source` names it in error messages (usually the path).
    pub fn from_csv_str(text: &str, source: &str) -> Result<Table> {
        Table::parse(text, source, true)
    }

    fn parse(text: &str, source: &str, header: bool) -> Result<Table> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(DlError::format(source, "empty file"));
        };
        let comma = first.contains(',');
        let first_fields = split_line(first, comma);
        let mut width = first_fields.len();
        let mut columns: Vec<String> = if header {
            first_fields.clone()
        } else {
            (0..width).map(|i| format!("c{i}")).collect()
        };
        // scikit-learn's bundled CSVs start with "n_samples,n_features,class names...":
        // name the columns feature_0 … feature_{d−1}, target.
        if header {
            let second_width = text
                .lines()
                .skip(1)
                .find(|l| !l.trim().is_empty())
                .map(|l| split_line(l, comma).len());
            if let (Some(Ok(_)), Some(Ok(d))) = (
                first_fields.first().map(|f| f.parse::<usize>()),
                first_fields.get(1).map(|f| f.parse::<usize>()),
            ) && second_width == Some(d + 1)
            {
                width = d + 1;
                columns = (0..d).map(|i| format!("feature_{i}")).collect();
                columns.push("target".into());
            }
        }
        let mut values: Vec<f32> = Vec::new();
        let mut rows = 0;
        let data_lines: Box<dyn Iterator<Item = (usize, &str)>> = if header {
            Box::new(lines)
        } else {
            Box::new(std::iter::once((0, first)).chain(lines))
        };
        for (number, line) in data_lines {
            let fields = split_line(line, comma);
            if fields.len() != width {
                return Err(DlError::format(
                    source,
                    format!(
                        "line {}: {} fields, the header has {width}",
                        number + 1,
                        fields.len()
                    ),
                ));
            }
            for (col, field) in fields.iter().enumerate() {
                let v = if is_missing(field) {
                    f32::NAN
                } else {
                    field.parse::<f32>().map_err(|_| {
                        DlError::format(
                            source,
                            format!(
                                "line {}, column {:?}: {field:?} is not a number",
                                number + 1,
                                columns[col]
                            ),
                        )
                    })?
                };
                values.push(v);
            }
            rows += 1;
        }
        let data = Array2::from_shape_vec((rows, width), values).expect("rows × width values");
        Ok(Table { columns, data })
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.data.nrows()
    }

    /// Number of missing (`NaN`) values.
    pub fn num_missing(&self) -> usize {
        self.data.iter().filter(|v| v.is_nan()).count()
    }

    /// Index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// One column by name.
    pub fn column(&self, name: &str) -> Option<Array1<f32>> {
        self.column_index(name)
            .map(|i| self.data.index_axis(Axis(1), i).to_owned())
    }

    /// Rows with no missing value.
    pub fn drop_missing_rows(&self) -> Table {
        let keep: Vec<usize> = (0..self.num_rows())
            .filter(|&r| self.data.row(r).iter().all(|v| !v.is_nan()))
            .collect();
        Table {
            columns: self.columns.clone(),
            data: self.data.select(Axis(0), &keep),
        }
    }

    /// The whole table as a `[rows, columns]` tensor.
    pub fn to_tensor(&self) -> Tensor {
        self.data.clone().into_dyn()
    }

    /// Features (every column except `target_index`) `[n, d−1]` and the target column `[n, 1]`.
    /// A negative index counts from the end (`-1` is the last column).
    ///
    /// ```
    /// use dl_core::data::Table;
    /// let t = Table::from_csv_str("x1,x2,y\n1,2,0\n3,4,1\n", "inline").unwrap();
    /// let (x, y) = t.features_and_target(-1);
    /// assert_eq!(x.shape(), &[2, 2]);
    /// assert_eq!(y.shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn features_and_target(&self, target_index: isize) -> (Tensor, Tensor) {
        let width = self.columns.len() as isize;
        let t = if target_index < 0 {
            width + target_index
        } else {
            target_index
        };
        assert!(
            (0..width).contains(&t),
            "features_and_target: column {target_index} does not exist in a table with {width} columns"
        );
        let t = t as usize;
        let features: Vec<usize> = (0..self.columns.len()).filter(|&c| c != t).collect();
        let x = self.data.select(Axis(1), &features).into_dyn();
        let y = self.data.select(Axis(1), &[t]).into_dyn();
        (x, y)
    }
}

/// Reads a CSV file with a header line (`.gz` files are decompressed).
///
/// A missing file gives [`DlError::NotFound`] naming the path.
///
/// ```
/// let err = dl_core::data::read_csv("no/such/file.csv").unwrap_err();
/// assert!(err.to_string().contains("no/such/file.csv"));
/// ```
pub fn read_csv(path: impl AsRef<Path>) -> Result<Table> {
    let path = path.as_ref();
    let text = read_text_file(path)?;
    Table::parse(&text, &path.display().to_string(), true)
}

/// Reads a CSV file without a header line; columns are named `c0`, `c1`, ...
pub fn read_csv_headerless(path: impl AsRef<Path>) -> Result<Table> {
    let path = path.as_ref();
    let text = read_text_file(path)?;
    Table::parse(&text, &path.display().to_string(), false)
}

impl Show for Table {
    /// An HTML table with the column names; the first and last 5 rows of a long table.
    fn mime_bundle(&self) -> MimeBundle {
        let rows = self.num_rows();
        let shown: Vec<Option<usize>> = if rows > 20 {
            (0..5)
                .map(Some)
                .chain([None])
                .chain((rows - 5..rows).map(Some))
                .collect()
        } else {
            (0..rows).map(Some).collect()
        };
        let cell = |s: &str| format!("<td style=\"padding:2px 6px;text-align:right\">{s}</td>");
        let mut html = String::from(
            "<table style=\"border-collapse:collapse;font-family:monospace;font-size:12px\"><tr><th></th>",
        );
        let mut text = format!("Table: {rows} rows × {} columns\n", self.columns.len());
        text.push_str(&self.columns.join("\t"));
        text.push('\n');
        for c in &self.columns {
            let escaped = c.replace('&', "&amp;").replace('<', "&lt;");
            html.push_str(&format!("<th style=\"padding:2px 6px\">{escaped}</th>"));
        }
        html.push_str("</tr>");
        for r in shown {
            html.push_str("<tr>");
            match r {
                Some(r) => {
                    html.push_str(&format!("<th style=\"padding:2px 6px\">{r}</th>"));
                    let values: Vec<String> =
                        self.data.row(r).iter().map(|v| format!("{v}")).collect();
                    for v in &values {
                        html.push_str(&cell(v));
                    }
                    text.push_str(&values.join("\t"));
                }
                None => {
                    html.push_str(&format!(
                        "<th>…</th>{}",
                        cell("…").repeat(self.columns.len())
                    ));
                    text.push('…');
                }
            }
            html.push_str("</tr>");
            text.push('\n');
        }
        html.push_str(&format!(
            "</table><div style=\"font-size:11px\">{rows} rows × {} columns, {} missing</div>",
            self.columns.len(),
            self.num_missing()
        ));
        MimeBundle::text(&text).with_html(&html)
    }
}
