//! The child's side: what runs in evcxr's child process before evcxr's own runtime loop.
//!
//! evcxr's child is this same binary, started again with `EVCXR_IS_RUNTIME` set. Before
//! handing over to `evcxr::runtime_hook()` (and after `main` has made the child ignore SIGINT)
//! we
//!
//! - put a relay between the cell's standard output and error and the pipes evcxr reads
//!   ([`stdout_relay`]): partial lines, evcxr's control words, and displays in evcxr's
//!   convention made while the cell runs;
//! - give the cell a standard input of its own ([`stdin_bridge`]): evcxr sends its commands on
//!   the child's standard input, so a cell reading `std::io::stdin()` would swallow them; now
//!   evcxr's commands arrive on a copy of that descriptor and a read by the cell becomes an
//!   `input_request` in the page.

mod stdin_bridge;
mod stdout_relay;

/// Call first in `main`. In evcxr's child (or when the binary runs as evcxr's rustc wrapper)
/// control never returns; in the kernel process it returns at once.
pub fn runtime_hook() {
    if std::env::var_os("EVCXR_IS_RUNTIME").is_some() {
        for stream in [stdout_relay::Stream::Stdout, stdout_relay::Stream::Stderr] {
            if let Err(error) = stdout_relay::start(stream) {
                eprintln!(
                    "dl-kernel: cannot relay the cell's output ({error}); continuing without"
                );
            }
        }
        match stdin_bridge::start() {
            Ok(commands) => evcxr::set_command_input(commands),
            Err(error) => eprintln!(
                "dl-kernel: cannot give the cell a standard input of its own ({error}); a read \
                 from std::io::stdin() will not reach the page"
            ),
        }
    }
    evcxr::runtime_hook();
}
