//! State that every copy of dl-core in one process shares.
//!
//! A notebook kernel compiles each cell into its own shared library, and each of those
//! libraries carries its own copy of dl-core, statics included. A `static` (or a
//! `thread_local!`) would then start afresh in every cell: `seed(42)` in one cell would not
//! reach the next. State that must outlive a cell is therefore allocated once per process,
//! on the heap, and its address is published in an environment variable (the one thing all
//! copies see), together with the process id so that a child process never trusts an
//! inherited address:
//!
//! ```text
//! DL_CORE_SHARED_<NAME>_<SIZE> = "<pid>:<address>"
//! ```
//!
//! Every copy is built from the same source by the same compiler, so the value at that
//! address has the same layout in all of them; the size in the name guards against a
//! mismatch. The allocation is leaked on purpose: it lives as long as the process.
//!
//! Outside a kernel (`DL_KERNEL` unset), callers keep using their ordinary statics.

use std::sync::Mutex;

/// The process-wide `Mutex<T>` called `name`, created with `init` by the first copy of
/// dl-core that asks for it.
///
/// Only plain data may be shared (no function pointers, no trait objects): their code could
/// belong to a cell's library.
///
/// ```
/// use dl_core::process_wide::shared;
/// let a: &'static std::sync::Mutex<u64> = shared("DOC_EXAMPLE", || 1);
/// *a.lock().unwrap() += 1;
/// let b: &'static std::sync::Mutex<u64> = shared("DOC_EXAMPLE", || 1);
/// assert_eq!(*b.lock().unwrap(), 2);
/// ```
pub fn shared<T: Send + 'static>(name: &str, init: impl FnOnce() -> T) -> &'static Mutex<T> {
    // One lock per copy is enough: cells run one at a time, and a copy publishes before it
    // returns, so later copies find the address.
    static CREATING: Mutex<()> = Mutex::new(());
    let _guard = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("DL_CORE_SHARED_{name}_{}", std::mem::size_of::<Mutex<T>>());
    let pid = std::process::id();
    if let Some(address) = std::env::var(&key).ok().and_then(|v| parse(&v, pid)) {
        // SAFETY: the address was published by this process (same pid) for a leaked
        // `Mutex<T>` of the same size, built from the same source by the same compiler.
        return unsafe { &*(address as *const Mutex<T>) };
    }
    let leaked: &'static Mutex<T> = Box::leak(Box::new(Mutex::new(init())));
    let value = format!("{pid}:{}", leaked as *const Mutex<T> as usize);
    // SAFETY: cells run one at a time on the kernel's main thread; dl-core's own worker
    // threads do not read the environment.
    unsafe { std::env::set_var(&key, value) };
    leaked
}

/// `"<pid>:<address>"` → the address, when it was published by this process.
fn parse(value: &str, pid: u32) -> Option<usize> {
    let (owner, address) = value.split_once(':')?;
    (owner.parse::<u32>().ok()? == pid)
        .then(|| address.parse::<usize>().ok())
        .flatten()
        .filter(|&a| a != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inherited_address_is_ignored() {
        assert_eq!(parse("1:4096", 2), None);
        assert_eq!(parse("2:4096", 2), Some(4096));
        assert_eq!(parse("2:0", 2), None);
        assert_eq!(parse("garbage", 2), None);
    }

    #[test]
    fn the_same_name_is_the_same_state() {
        let a = shared("TEST_SAME_NAME", || vec![1u8]);
        a.lock().unwrap().push(2);
        let b = shared("TEST_SAME_NAME", Vec::<u8>::new);
        assert_eq!(*b.lock().unwrap(), vec![1, 2]);
    }
}
