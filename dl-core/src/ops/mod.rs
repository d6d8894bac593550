//! Pure numeric kernels behind the layers: matrix products, im2col convolution, pooling,
//! vectorised exp/sigmoid/tanh (the recurrent cells' steps are with their layers, in
//! [`crate::nn::recurrent`]). They work on plain `f32` slices with documented row-major shapes, hold no
//! state of their own, and write into buffers the caller reuses from batch to batch.

#[cfg(target_arch = "x86_64")]
mod blocked_gemm;
pub mod channels_last_conv;
pub mod channels_last_direct_conv;
pub mod conv;
pub mod conv_pool;
pub mod conv_pool_train;
mod conv_pool_winners;
pub mod direct_conv;
pub mod fast_math;
pub mod gemm;
pub mod im2col;
mod implicit_conv_product;
pub mod packed_gemm;
pub mod pool;
pub mod transpose;
