//! Reading tables from CSV files (optionally gzip-compressed), with the `csv` crate.
//!
//! The first line is the header (column names). Fields are separated by commas, and a field
//! in double quotes may hold commas, quotes (doubled) and line breaks: `"Smith, J.",42` is two
//! fields. A file whose header has no comma is read as columns separated by runs of white
//! space. scikit-learn's bundled files (iris, breast cancer, wine), whose first line is
//! `n_samples,n_features,class names...`, get the columns `feature_0 … feature_{d−1}, target`.
//!
//! A column whose first present value is a number is numeric: empty fields and `NA`, `NaN`,
//! `nan`, `?`, `null` are missing values, stored as `NaN` (fill them with
//! [`impute_mean`](crate::data::impute_mean) or [`impute_median`](crate::data::impute_median)),
//! and any other field that is not a number is an error naming its line. Any other column
//! holds text (categories, names): it is kept as text, and [`Table::one_hot_column`] turns it
//! into one 0/1 column per category.

use crate::data::read_text_file;
use crate::display::{MimeBundle, Show};
use crate::error::{DlError, Result};
use crate::tensor::Tensor;
use ndarray::{Array1, Array2, Axis};
use std::path::Path;

/// A table: named numeric columns over rows (`NaN` where a value is missing) and named text
/// columns over the same rows.
///
/// ```
/// use dl_core::data::Table;
/// let t = Table::from_csv_str("a,b\n1,2\n3,\n", "inline").unwrap();
/// assert_eq!(t.columns, vec!["a", "b"]);
/// assert_eq!(t.num_missing(), 1);
/// assert_eq!(t.column("a").unwrap().to_vec(), vec![1.0, 3.0]);
///
/// let people = Table::from_csv_str("name,age,city\n\"Smith, J.\",42,Oslo\nLee,35,Rome\n", "inline").unwrap();
/// assert_eq!(people.columns, vec!["age"]);
/// assert_eq!(people.text_column("name").unwrap(), ["Smith, J.", "Lee"]);
/// let encoded = people.one_hot_column("city");
/// assert_eq!(encoded.columns, vec!["age", "city=Oslo", "city=Rome"]);
/// assert_eq!(encoded.column("city=Rome").unwrap().to_vec(), vec![0.0, 1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Names of the numeric columns, in the file's order.
    pub columns: Vec<String>,
    /// Values of the numeric columns `[rows, columns]`; `NaN` marks a missing value.
    pub data: Array2<f32>,
    /// Names of the text columns, in the file's order.
    pub text_columns: Vec<String>,
    /// Values of each text column, one string per row (`text[c][row]`).
    pub text: Vec<Vec<String>>,
}

fn is_missing(field: &str) -> bool {
    matches!(
        field,
        "" | "NA" | "N/A" | "NaN" | "nan" | "?" | "null" | "NULL"
    )
}

/// The records of `text` with their line numbers (1-based): CSV through the `csv` crate, or
/// white-space-separated columns.
fn records(text: &str, source: &str, comma: bool) -> Result<Vec<(usize, Vec<String>)>> {
    if !comma {
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let fields = l.split_whitespace();
                (
                    i + 1,
                    fields.map(|f| f.trim_matches('"').to_string()).collect(),
                )
            })
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| DlError::format(source, format!("bad CSV: {e}")))?;
        let line = record
            .position()
            .map_or(out.len() + 1, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        out.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

impl Table {
    /// Parses CSV text; `source` names it in error messages (usually the path).
    pub fn from_csv_str(text: &str, source: &str) -> Result<Table> {
        Table::parse(text, source, true)
    }

    fn parse(text: &str, source: &str, header: bool) -> Result<Table> {
        let comma = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.contains(','));
        let mut rows = records(text, source, comma)?;
        if rows.is_empty() {
            return Err(DlError::format(source, "empty file"));
        }
        let mut width = rows[0].1.len();
        let mut names: Vec<String> = if header {
            rows.remove(0).1
        } else {
            (0..width).map(|i| format!("c{i}")).collect()
        };
        // scikit-learn's bundled CSVs start with "n_samples,n_features,class names...":
        // name the columns feature_0 … feature_{d−1}, target.
        if header
            && let (Some(Ok(_)), Some(Ok(d))) = (
                names.first().map(|f| f.parse::<usize>()),
                names.get(1).map(|f| f.parse::<usize>()),
            )
            && rows.first().map(|r| r.1.len()) == Some(d + 1)
        {
            width = d + 1;
            names = (0..d).map(|i| format!("feature_{i}")).collect();
            names.push("target".into());
        }
        for (line, fields) in &rows {
            if fields.len() != width {
                return Err(DlError::format(
                    source,
                    format!(
                        "line {line}: {} fields, the header has {width}",
                        fields.len()
                    ),
                ));
            }
        }
        // A column is numeric when its first present value is a number.
        let numeric: Vec<bool> = (0..width)
            .map(|c| {
                rows.iter()
                    .map(|(_, f)| f[c].as_str())
                    .find(|f| !is_missing(f))
                    .is_none_or(|f| f.parse::<f32>().is_ok())
            })
            .collect();
        let mut values: Vec<f32> = Vec::with_capacity(rows.len() * width);
        let mut text_values: Vec<Vec<String>> = vec![Vec::new(); width];
        for (line, fields) in &rows {
            for (c, field) in fields.iter().enumerate() {
                if !numeric[c] {
                    text_values[c].push(field.clone());
                } else if is_missing(field) {
                    values.push(f32::NAN);
                } else {
                    values.push(field.parse::<f32>().map_err(|_| {
                        DlError::format(
                            source,
                            format!(
                                "line {line}, column {:?}: {field:?} is not a number",
                                names[c]
                            ),
                        )
                    })?);
                }
            }
        }
        let num_numeric = numeric.iter().filter(|&&n| n).count();
        let data = Array2::from_shape_vec((rows.len(), num_numeric), values)
            .expect("rows × numeric columns values");
        let (mut columns, mut text_columns, mut text) = (Vec::new(), Vec::new(), Vec::new());
        for ((name, is_numeric), values) in names.into_iter().zip(numeric).zip(text_values) {
            if is_numeric {
                columns.push(name);
            } else {
                text_columns.push(name);
                text.push(values);
            }
        }
        Ok(Table {
            columns,
            data,
            text_columns,
            text,
        })
    }

    /// The values of a text column by name.
    pub fn text_column(&self, name: &str) -> Option<&[String]> {
        let i = self.text_columns.iter().position(|c| c == name)?;
        Some(&self.text[i])
    }

    /// The distinct values of a text column, sorted (missing values left out).
    pub fn categories(&self, name: &str) -> Option<Vec<String>> {
        let mut seen: Vec<String> = self
            .text_column(name)?
            .iter()
            .filter(|v| !is_missing(v))
            .cloned()
            .collect();
        seen.sort();
        seen.dedup();
        Some(seen)
    }

    /// The table with text column `name` replaced by one numeric column per category
    /// (sorted), named `name=category`: 1 in the rows holding that category, 0 elsewhere (a
    /// missing value is 0 in every one), appended after the numeric columns (pandas'
    /// `get_dummies`).
    ///
    /// **Panics** if the table has no text column `name`, naming the ones it has.
    #[track_caller]
    pub fn one_hot_column(&self, name: &str) -> Table {
        let (Some(i), Some(categories)) = (
            self.text_columns.iter().position(|c| c == name),
            self.categories(name),
        ) else {
            panic!(
                "one_hot_column: no text column {name:?}; the text columns are {:?}",
                self.text_columns
            );
        };
        let rows = self.num_rows();
        let mut data = Array2::<f32>::zeros((rows, self.columns.len() + categories.len()));
        data.slice_mut(ndarray::s![.., ..self.columns.len()])
            .assign(&self.data);
        for (r, value) in self.text[i].iter().enumerate() {
            if let Ok(k) = categories.binary_search(value) {
                data[[r, self.columns.len() + k]] = 1.0;
            }
        }
        let mut table = self.clone();
        table
            .columns
            .extend(categories.iter().map(|c| format!("{name}={c}")));
        table.data = data;
        table.text_columns.remove(i);
        table.text.remove(i);
        table
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

    /// Rows with no missing numeric value.
    pub fn drop_missing_rows(&self) -> Table {
        let keep: Vec<usize> = (0..self.num_rows())
            .filter(|&r| self.data.row(r).iter().all(|v| !v.is_nan()))
            .collect();
        Table {
            columns: self.columns.clone(),
            data: self.data.select(Axis(0), &keep),
            text_columns: self.text_columns.clone(),
            text: self
                .text
                .iter()
                .map(|column| keep.iter().map(|&r| column[r].clone()).collect())
                .collect(),
        }
    }

    /// The numeric columns as a `[rows, columns]` tensor.
    pub fn to_tensor(&self) -> Tensor {
        self.data.clone().into_dyn()
    }

    /// Features (every numeric column except `target_index`) `[n, d−1]` and the target column
    /// `[n, 1]`.
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
        let names: Vec<&String> = self.columns.iter().chain(&self.text_columns).collect();
        let mut text = format!("Table: {rows} rows × {} columns\n", names.len());
        text.push_str(
            &names
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\t"),
        );
        text.push('\n');
        for c in &names {
            let escaped = c.replace('&', "&amp;").replace('<', "&lt;");
            html.push_str(&format!("<th style=\"padding:2px 6px\">{escaped}</th>"));
        }
        html.push_str("</tr>");
        for r in shown {
            html.push_str("<tr>");
            match r {
                Some(r) => {
                    html.push_str(&format!("<th style=\"padding:2px 6px\">{r}</th>"));
                    let values: Vec<String> = (self.data.row(r).iter().map(|v| format!("{v}")))
                        .chain(self.text.iter().map(|column| column[r].clone()))
                        .collect();
                    for v in &values {
                        html.push_str(&cell(&v.replace('&', "&amp;").replace('<', "&lt;")));
                    }
                    text.push_str(&values.join("\t"));
                }
                None => {
                    html.push_str(&format!("<th>…</th>{}", cell("…").repeat(names.len())));
                    text.push('…');
                }
            }
            html.push_str("</tr>");
            text.push('\n');
        }
        html.push_str(&format!(
            "</table><div style=\"font-size:11px\">{rows} rows × {} columns, {} missing</div>",
            names.len(),
            self.num_missing()
        ));
        MimeBundle::text(&text).with_html(&html)
    }
}
