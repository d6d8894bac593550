//! The Rust side of dl-kernel: a [`jupyter_core::Interpreter`] that runs cells through
//! evcxr with dl-core preloaded ([`session::EvcxrInterpreter`]), Rust's `is_complete` and
//! Rust's entry in `kernel_info`. The binary (`main.rs`) hands it to [`jupyter_core::run`].

pub mod is_complete;
pub mod language;
pub mod session;
