//! Convolution and pooling over NCHW images `[n, c, h, w]`. The two pooling layers share
//! their window (size, stride, padding) and its shape rule (`pool2d.rs`); the kernels
//! are in [`crate::ops::conv`] and [`crate::ops::pool`].

mod avg_pool2d;
mod conv2d;
mod max_pool2d;
mod pool2d;

pub use avg_pool2d::AvgPool2d;
pub use conv2d::Conv2d;
pub use max_pool2d::MaxPool2d;
pub(crate) use pool2d::Pool2dWindow;
