//! Layers that change a tensor's shape and nothing else.

mod flatten;

pub use flatten::Flatten;
