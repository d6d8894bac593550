//! PNG encoding of an RGB buffer (3 bytes per pixel, rows top to bottom).

use crate::error::{DlError, Result};

/// Encodes `rgb` (`width × height × 3` bytes) as PNG.
pub(crate) fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| DlError::Plot(format!("PNG: {e}")))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| DlError::Plot(format!("PNG: {e}")))?;
    }
    Ok(out)
}
