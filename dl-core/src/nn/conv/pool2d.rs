//! The window both pooling layers slide over NCHW images, and its shape rule:
//!
//! ```text
//! x: [n, c, h, w]   window k × k, stride s, padding p
//! y: [n, c, (h + 2p − k)/s + 1, (w + 2p − k)/s + 1]
//! ```

use crate::ops::im2col::Geometry;

/// A square pooling window: its size, its stride (the window size unless set) and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pool2dWindow {
    pub kernel_size: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Pool2dWindow {
    /// A `kernel_size × kernel_size` window with stride `kernel_size` and no padding.
    #[track_caller]
    pub fn new(layer: &str, kernel_size: usize) -> Pool2dWindow {
        assert!(kernel_size > 0, "{layer}: kernel_size must be positive");
        Pool2dWindow {
            kernel_size,
            stride: kernel_size,
            padding: 0,
        }
    }

    /// The same window with another stride.
    #[track_caller]
    pub fn with_stride(mut self, layer: &str, stride: usize) -> Pool2dWindow {
        assert!(stride > 0, "{layer}: stride must be positive");
        self.stride = stride;
        self
    }

    /// The window's geometry over an input of `shape`, checked: `op` names the caller.
    #[track_caller]
    pub fn geometry(&self, op: &str, shape: &[usize]) -> Geometry {
        assert!(
            shape.len() == 4,
            "{op}: expected input [n, c, h, w], got shape {shape:?}"
        );
        let k = self.kernel_size;
        let g = Geometry {
            channels: shape[1],
            height: shape[2],
            width: shape[3],
            kernel_h: k,
            kernel_w: k,
            stride: self.stride,
            padding: self.padding,
        };
        assert!(
            g.fits(),
            "{op}: a {k}×{k} window does not fit input shape {shape:?}"
        );
        g
    }

    /// The output shape `[n, c, oh, ow]` for an input of `shape`.
    #[track_caller]
    pub fn output_shape(&self, op: &str, shape: &[usize]) -> Vec<usize> {
        let g = self.geometry(op, shape);
        vec![shape[0], shape[1], g.out_h(), g.out_w()]
    }
}
