//! MNIST in its original IDX format (optionally gzip-compressed).
//!
//! An IDX file is a big-endian header — two zero bytes, a type code (`0x08` = unsigned byte),
//! the number of dimensions `d` — then `d` 32-bit sizes, then the values row-major.
//! Images are `[n, 28, 28]` bytes, labels `[n]` bytes. Pixels are scaled to `[0, 1]` by `/255`.

use crate::data::read_maybe_gzip;
use crate::error::{DlError, Result};
use crate::tensor::{Tensor, from_vec};
use std::path::Path;

/// The dimensions and bytes of an unsigned-byte IDX file.
///
/// ```
/// // magic 0x00000801 (1 dimension, u8), size 3, then the bytes
/// let bytes = [0u8, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9];
/// let (dims, data) = dl_core::data::parse_idx(&bytes, "inline").unwrap();
/// assert_eq!(dims, vec![3]);
/// assert_eq!(data, vec![7, 8, 9]);
/// ```
pub fn parse_idx(bytes: &[u8], source: &str) -> Result<(Vec<usize>, Vec<u8>)> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(DlError::format(
            source,
            "not an IDX file (bad magic number)",
        ));
    }
    if bytes[2] != 0x08 {
        return Err(DlError::format(
            source,
            format!(
                "IDX type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
                bytes[2]
            ),
        ));
    }
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(DlError::format(source, "IDX header is truncated"));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let count: usize = dims.iter().product();
    if bytes.len() - header != count {
        return Err(DlError::format(
            source,
            format!(
                "IDX dimensions {dims:?} need {count} bytes of data, the file has {}",
                bytes.len() - header
            ),
        ));
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// Reads MNIST images `[n, 28, 28]` scaled to `[0, 1]` and labels `[n]` (as f32 class
/// indices) from IDX files such as `data/mnist/mnist-npm10k-images-idx3-ubyte.gz`.
///
/// ```
/// let err = dl_core::data::read_mnist("missing-images.gz", "missing-labels.gz").unwrap_err();
/// assert!(err.to_string().contains("missing-images.gz"));
/// ```
pub fn read_mnist(
    images_path: impl AsRef<Path>,
    labels_path: impl AsRef<Path>,
) -> Result<(Tensor, Tensor)> {
    let (ip, lp) = (images_path.as_ref(), labels_path.as_ref());
    let (idims, pixels) = parse_idx(&read_maybe_gzip(ip)?, &ip.display().to_string())?;
    let (ldims, labels) = parse_idx(&read_maybe_gzip(lp)?, &lp.display().to_string())?;
    if idims.len() != 3 {
        return Err(DlError::format(
            ip,
            format!("expected [n, rows, cols] images, got dimensions {idims:?}"),
        ));
    }
    if ldims.len() != 1 || ldims[0] != idims[0] {
        return Err(DlError::format(
            lp,
            format!(
                "{} labels for {} images in {}",
                ldims.first().copied().unwrap_or(0),
                idims[0],
                ip.display()
            ),
        ));
    }
    let x = from_vec(&idims, pixels.iter().map(|&p| p as f32 / 255.0).collect());
    let y = from_vec(&[ldims[0]], labels.iter().map(|&l| l as f32).collect());
    Ok((x, y))
}
