//! The Jupyter side of a kernel, independent of the language it runs: the connection file,
//! the five sockets, the wire protocol, the dispatch of requests, the execution count and
//! history, and the [`Interpreter`] trait a language implements (as xeus' `xinterpreter`).
//!
//! A language's kernel is its interpreter and a `main` that calls [`run`]:
//!
//! ```no_run
//! fn serve(interpreter: impl jupyter_core::Interpreter + Send + 'static) -> anyhow::Result<()> {
//!     let connection = jupyter_core::ConnectionInfo::read("kernel-1234.json".as_ref())?;
//!     jupyter_core::run(connection, interpreter) // until a shutdown_request
//! }
//! ```
//!
//! # How a message travels
//!
//! 1. A socket task ([`server`]) receives frames; the [`inbox`] checks the frame layout and
//!    the HMAC signature in constant time ([`wire`], [`signer`]) and drops replays
//!    ([`replay`]). Anything malformed or badly signed is logged and dropped, never handled.
//! 2. The [`dispatch`] table decodes the content strictly by `msg_type` ([`request`]) and
//!    says who answers: control requests (kernel_info, interrupt, shutdown, debug) are
//!    answered by [`control`] on the channel they came on, so control answers while shell is
//!    busy; shell requests go to the [`shell`] core on the interpreter's own thread, one at a
//!    time, which runs cells ([`cells`]: count, `execute_input`, `stop_on_error`, history)
//!    through the [`Interpreter`].
//! 3. Every request is wrapped in `busy` and `idle` on iopub. Replies ([`reply`]) and
//!    broadcasts ([`iopub`]) are typed contents, each built in one place, put in the
//!    [`outbox`] (one queue per socket) and signed by the socket's sender task. A running
//!    cell's outputs reach iopub as they are made through its [`sink`]; `input()` asks the
//!    front end over [`stdin`].
//!
//! Comm messages (`comm_open`, `comm_msg`, `comm_close`, `comm_info_request`) skip the
//! interpreter's queue: the shell task hands them to the [`comms`] hub as they arrive, which
//! passes them to the interpreter's [`CommReceiver`](interpreter::CommReceiver), so widgets
//! answer while a cell runs.
//!
//! The [`heartbeat`] echoes pings; [`history`] answers `history_request`; [`connection`]
//! reads the connection file Jupyter writes.
//!
//! # Threads
//!
//! A tokio runtime with two worker threads serves the sockets; the interpreter lives on an OS
//! thread of its own, created by [`run`], and its methods are called there one at a time.
//! [`Interrupter::interrupt`](interpreter::Interrupter::interrupt) is called from the control
//! task and on SIGINT (which never kills the kernel). A panic in the interpreter becomes an
//! error reply; if a socket task dies, [`run`] returns an error rather than leave a kernel
//! that beats but never answers.

pub mod cells;
pub mod comms;
pub mod connection;
pub mod control;
pub mod dispatch;
pub mod heartbeat;
pub mod history;
pub mod inbox;
pub mod interpreter;
pub mod iopub;
pub mod message;
pub mod outbox;
pub mod replay;
pub mod reply;
pub mod request;
pub mod server;
pub mod shell;
pub mod signer;
pub mod sink;
pub mod stdin;
pub mod wire;

pub use connection::ConnectionInfo;
pub use interpreter::Interpreter;
pub use server::run;
