//! Cooperative interrupt: long loops ask, once per batch, whether the user pressed "stop".
//!
//! The kernel creates the file named by the environment variable `DL_KERNEL_INTERRUPT_FILE`
//! while an interrupt of the running cell is requested (see the project's display-protocol
//! document). Checking costs one `stat` call. Outside the kernel the variable is unset and
//! [`requested`] is always false.

use std::path::PathBuf;

/// The environment variable naming the interrupt file.
pub const INTERRUPT_FILE_VAR: &str = "DL_KERNEL_INTERRUPT_FILE";

/// The interrupt file, if the kernel set one.
pub fn interrupt_file() -> Option<PathBuf> {
    std::env::var_os(INTERRUPT_FILE_VAR)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// True while the kernel asks the running cell to stop.
///
/// ```
/// // Outside a kernel (no DL_KERNEL_INTERRUPT_FILE) nothing is ever requested.
/// if std::env::var_os("DL_KERNEL_INTERRUPT_FILE").is_none() {
///     assert!(!dl_core::interrupt::requested());
/// }
/// ```
pub fn requested() -> bool {
    interrupt_file().is_some_and(|p| p.exists())
}
