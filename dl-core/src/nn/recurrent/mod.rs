//! Recurrent layers over batch-first sequences `[n, t, features]`: [`SimpleRnn`], [`Lstm`]
//! and [`Gru`]. Each cell's equations, forward step and backward step are in its own file;
//! [`bptt`] unrolls any of them over a sequence and back, and `unroll` holds the weights and
//! splits the batch over threads.

pub mod bptt;
mod gru;
mod lstm;
mod simple_rnn;
mod unroll;

pub use gru::Gru;
pub use lstm::Lstm;
pub use simple_rnn::SimpleRnn;
