//! Pure numeric kernels behind the layers: matrix products, im2col convolution, pooling,
//! recurrent cells. They work on plain `f32` slices with documented row-major shapes, hold no
//! state of their own, and write into buffers the caller reuses from batch to batch.

pub mod conv;
pub mod fast_math;
pub mod gemm;
pub mod im2col;
pub mod pool;
pub mod rnn_cell;
pub mod transpose;
