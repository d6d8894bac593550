//! Images in and out, with the `image` crate (PNG and JPEG).
//!
//! An image tensor is `[c, h, w]` (channels first, as one sample of a CNN batch
//! `[n, c, h, w]`), `c = 1` for grey and `c = 3` for RGB, values in `[0, 1]`:
//!
//! ```text
//! read:   x[c, y, x] = pixel[y, x].channel(c) / 255
//!         grey = 0.2126 R + 0.7152 G + 0.0722 B      (Rec. 709 luma)
//! write:  pixel[y, x].channel(c) = round(255 · clamp(x[c, y, x], 0, 1))
//! ```
//!
//! [`resize_image`] resamples each channel with a triangle (bilinear) filter, which averages
//! the pixels under each output pixel when shrinking.

use crate::error::{DlError, Result};
use crate::tensor::Tensor;
use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};
use ndarray::{Axis, IxDyn};
use std::path::Path;

/// The channels an image is read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// One channel of brightness (a colour image is converted to grey).
    Grey,
    /// Three channels: red, green, blue.
    Rgb,
}

/// Reads a PNG or JPEG file into a `[c, h, w]` tensor with values in `[0, 1]` (`c` is 1 for
/// [`Color::Grey`], 3 for [`Color::Rgb`]).
///
/// A missing file gives [`DlError::NotFound`] naming the path; a file that is not a PNG or
/// JPEG gives [`DlError::Format`].
///
/// ```
/// use dl_core::data::{Color, read_image, write_png};
/// let path = std::env::temp_dir().join(format!("dl-core-doc-{}.png", std::process::id()));
/// let gradient = dl_core::tensor::from_vec(&[1, 2, 3], vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
/// write_png(&path, &gradient).unwrap();
/// let back = read_image(&path, Color::Grey).unwrap();
/// assert_eq!(back.shape(), &[1, 2, 3]);
/// assert!(back.iter().zip(gradient.iter()).all(|(a, b)| (a - b).abs() < 1.0 / 255.0));
/// assert_eq!(read_image(&path, Color::Rgb).unwrap().shape(), &[3, 2, 3]);
/// std::fs::remove_file(&path).ok();
/// ```
pub fn read_image(path: impl AsRef<Path>, color: Color) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = crate::error::read_file(path)?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| DlError::format(path, format!("not a PNG or JPEG image: {e}")))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (channels, raw) = match color {
        Color::Grey => (1, img.to_luma8().into_raw()),
        Color::Rgb => (3, img.to_rgb8().into_raw()),
    };
    // raw is [h, w, c]; the tensor is [c, h, w].
    let hwc = Tensor::from_shape_vec(
        IxDyn(&[h, w, channels]),
        raw.iter().map(|&v| v as f32 / 255.0).collect(),
    )
    .expect("h × w × c bytes");
    Ok(hwc
        .permuted_axes(IxDyn(&[2, 0, 1]))
        .as_standard_layout()
        .into_owned())
}

/// Resamples an image `[c, h, w]` (or `[h, w]`) to `height × width`, channel by channel.
///
/// **Panics** if `image` is not 2-D or 3-D, or a size is zero.
///
/// ```
/// let big = dl_core::tensor::from_vec(&[1, 4, 4], vec![1.0; 16]);
/// let small = dl_core::data::resize_image(&big, 2, 2);
/// assert_eq!(small.shape(), &[1, 2, 2]);
/// assert!(small.iter().all(|&v| (v - 1.0).abs() < 1e-6));
/// ```
#[track_caller]
pub fn resize_image(image: &Tensor, height: usize, width: usize) -> Tensor {
    assert!(
        (image.ndim() == 2 || image.ndim() == 3) && height > 0 && width > 0,
        "resize_image: expected an image [c, h, w] or [h, w] and a size above 0, got shape {:?} and {height}×{width}",
        image.shape()
    );
    let planes = if image.ndim() == 2 {
        image.clone().insert_axis(Axis(0))
    } else {
        image.clone()
    };
    let (h, w) = (planes.shape()[1], planes.shape()[2]);
    let mut out = Vec::with_capacity(planes.shape()[0] * height * width);
    for plane in planes.axis_iter(Axis(0)) {
        let values: Vec<f32> = plane.iter().copied().collect();
        let buffer: ImageBuffer<Luma<f32>, Vec<f32>> =
            ImageBuffer::from_raw(w as u32, h as u32, values).expect("h × w values");
        let resized = imageops::resize(&buffer, width as u32, height as u32, FilterType::Triangle);
        out.extend(resized.into_raw());
    }
    let mut shape = vec![planes.shape()[0], height, width];
    if image.ndim() == 2 {
        shape.remove(0);
    }
    Tensor::from_shape_vec(IxDyn(&shape), out).expect("c × height × width values")
}

/// Writes an image tensor to a PNG file: `[h, w]` or `[1, h, w]` as grey, `[3, h, w]` as RGB,
/// values clamped to `[0, 1]`.
///
/// **Panics** if the tensor is not one of those shapes.
#[track_caller]
pub fn write_png(path: impl AsRef<Path>, image: &Tensor) -> Result<()> {
    let shape = image.shape();
    let (channels, h, w) = match *shape {
        [h, w] => (1, h, w),
        [c @ (1 | 3), h, w] => (c, h, w),
        _ => panic!(
            "write_png: expected an image [h, w], [1, h, w] or [3, h, w], got shape {shape:?}"
        ),
    };
    let chw = image
        .to_shape(IxDyn(&[channels, h, w]))
        .expect("same length");
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let mut raw = Vec::with_capacity(channels * h * w);
    for y in 0..h {
        for x in 0..w {
            raw.extend((0..channels).map(|c| byte(chw[[c, y, x]])));
        }
    }
    let path = path.as_ref();
    let png = encode_png(&raw, w as u32, h as u32, channels)
        .map_err(|message| DlError::format(path, message))?;
    std::fs::write(path, png).map_err(|e| DlError::io(path, e))
}

/// PNG bytes of `raw` (`height` rows of `width` pixels, `channels` bytes each: 1 grey, 3 RGB),
/// or the encoder's message. Figures are encoded here too.
pub(crate) fn encode_png(
    raw: &[u8],
    width: u32,
    height: u32,
    channels: usize,
) -> std::result::Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let color = if channels == 1 {
        image::ExtendedColorType::L8
    } else {
        image::ExtendedColorType::Rgb8
    };
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(raw, width, height, color)
        .map_err(|e| format!("PNG: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rgb_image_round_trips_and_turns_grey() {
        let path = std::env::temp_dir().join(format!("dl-core-rgb-{}.png", std::process::id()));
        // One red pixel and one white pixel.
        let rgb = crate::tensor::from_vec(&[3, 1, 2], vec![1.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        write_png(&path, &rgb).unwrap();
        assert_eq!(read_image(&path, Color::Rgb).unwrap(), rgb);
        let grey = read_image(&path, Color::Grey).unwrap();
        assert_eq!(grey.shape(), &[1, 1, 2]);
        assert!((grey[[0, 0, 0]] - 0.2126).abs() < 0.5 / 255.0, "{grey}");
        assert_eq!(grey[[0, 0, 1]], 1.0);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn shrinking_averages_and_a_bad_file_is_named() {
        let checker = crate::tensor::from_vec(&[2, 2], vec![0.0, 1.0, 1.0, 0.0]);
        let one = resize_image(&checker, 1, 1);
        assert_eq!(one.shape(), &[1, 1]);
        assert!((one[[0, 0]] - 0.5).abs() < 1e-6);
        let path = std::env::temp_dir().join(format!("dl-core-bad-{}.png", std::process::id()));
        std::fs::write(&path, b"not an image").unwrap();
        let err = read_image(&path, Color::Grey).unwrap_err().to_string();
        assert!(
            err.contains("dl-core-bad") && err.contains("not a PNG or JPEG"),
            "{err}"
        );
        std::fs::remove_file(&path).ok();
    }
}
