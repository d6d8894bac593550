//! The five sockets and the tasks that serve them.
//!
//! - shell (ROUTER): a receive task verifies and decodes, then queues each message for the
//!   interpreter thread, which runs [`ShellCore`] one request at a time;
//! - control (ROUTER): its own task running [`Control`], answered while a cell runs;
//! - stdin (ROUTER): `input_request` out, `input_reply` in;
//! - iopub (PUB): status and outputs;
//! - heartbeat (REP): echo ([`crate::heartbeat`]).
//!
//! Each socket has one sender task draining its queue of the [`Outbox`]. A send error (for
//! example the `zeromq` crate's ROUTER refusing to send to a peer that has gone, where
//! libzmq drops silently) is logged, never fatal. A message that fails verification or
//! decoding is logged and dropped ([`Inbox`]). SIGINT interrupts the running cell instead of
//! killing the kernel.

use crate::comms::CommHub;
use crate::connection::ConnectionInfo;
use crate::control::Control;
use crate::dispatch::Flow;
use crate::heartbeat;
use crate::inbox::Inbox;
use crate::interpreter::Interpreter;
use crate::message::Message;
use crate::outbox::{Outbox, OutboxQueues, Outgoing};
use crate::shell::ShellCore;
use crate::signer::Signer;
use crate::stdin::{InputReply, StdinBridge};
use crate::wire;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use zeromq::{
    PubSocket, RepSocket, RouterRecvHalf, RouterSocket, Socket, SocketRecv, SocketSend, ZmqMessage,
};

/// Runs the kernel until a `shutdown_request`. The interpreter moves to its own thread.
/// An error is returned when the sockets cannot be bound, or when the kernel stopped for
/// another reason than a `shutdown_request` (a task or the interpreter's thread died).
pub fn run<I: Interpreter + Send + 'static>(
    conn: ConnectionInfo,
    interpreter: I,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kernel-io")
        .enable_all()
        .build()?;
    runtime.block_on(serve(conn, interpreter))
}

async fn bind<S: Socket>(
    mut socket: S,
    conn: &ConnectionInfo,
    port: u16,
    name: &str,
) -> anyhow::Result<S> {
    let endpoint = conn.endpoint(port);
    socket
        .bind(&endpoint)
        .await
        .map_err(|e| anyhow::anyhow!("cannot bind {name} on {endpoint}: {e}"))?;
    Ok(socket)
}

async fn serve<I: Interpreter + Send + 'static>(
    conn: ConnectionInfo,
    interpreter: I,
) -> anyhow::Result<()> {
    // First of all: SIGINT must not kill the kernel (jupyter_client signals the whole group).
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;

    let inbox = Arc::new(Inbox::new(Signer::new(
        &conn.signature_scheme,
        conn.key.as_bytes(),
    )?));
    if !inbox.signer().is_signing() {
        log::warn!("the connection file has no key: messages are neither signed nor verified");
    }
    let (outbox, queues) = Outbox::new(uuid::Uuid::new_v4().to_string());
    let stdin_bridge = Arc::new(StdinBridge::default());
    let (shell_tx, mut shell_rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let (shutdown_tx, mut shutdown_rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();

    let control = Arc::new(Control::new(
        outbox.clone(),
        interpreter.kernel_info(),
        interpreter.interrupter(),
        stdin_bridge.clone(),
    ));

    let comms = CommHub::new(outbox.clone());

    // The interpreter's thread.
    let stopping = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    {
        let mut core = ShellCore::new(
            interpreter,
            control.clone(),
            outbox.clone(),
            stdin_bridge.clone(),
            comms.clone(),
        );
        let shutdown_tx = shutdown_tx.clone();
        let stopping = stopping.clone();
        std::thread::Builder::new()
            .name("interpreter".into())
            .spawn(move || {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    core.run(&mut shell_rx, &stopping)
                }));
                let _ = shutdown_tx.send(match ran {
                    Ok(true) => "shutdown_request",
                    Ok(false) => "shell queue",
                    Err(_) => "interpreter thread",
                });
                drop(core); // stops the interpreter (and whatever runtime it started)
                let _ = done_tx.send(());
            })?;
    }

    let shell = bind(RouterSocket::new(), &conn, conn.shell_port, "shell").await?;
    let control_socket = bind(RouterSocket::new(), &conn, conn.control_port, "control").await?;
    let stdin = bind(RouterSocket::new(), &conn, conn.stdin_port, "stdin").await?;
    let iopub = bind(PubSocket::new(), &conn, conn.iopub_port, "iopub").await?;
    let heartbeat = bind(RepSocket::new(), &conn, conn.hb_port, "heartbeat").await?;
    log::info!("listening on {}", conn.endpoint(conn.shell_port));

    let OutboxQueues {
        shell: shell_out,
        control: control_out,
        stdin: stdin_out,
        iopub: iopub_out,
    } = queues;
    let (shell_send, shell_recv) = shell.split();
    let (control_send, control_recv) = control_socket.split();
    let (stdin_send, stdin_recv) = stdin.split();
    let signer = inbox.signer().clone();
    // Every socket task runs for the kernel's lifetime: if one ends (a panic), the kernel
    // stops, so that Jupyter sees a dead kernel instead of one that beats but never answers.
    let essential = |name: &'static str, task: tokio::task::JoinHandle<()>| {
        let died = shutdown_tx.clone();
        tokio::spawn(async move {
            let outcome = task.await;
            if !matches!(&outcome, Err(e) if e.is_cancelled()) {
                log::error!("the {name} task ended ({outcome:?})");
                let _ = died.send(name);
            }
        });
    };
    essential(
        "shell sender",
        tokio::spawn(send_loop("shell", shell_send, shell_out, signer.clone())),
    );
    essential(
        "control sender",
        tokio::spawn(send_loop(
            "control",
            control_send,
            control_out,
            signer.clone(),
        )),
    );
    essential(
        "stdin sender",
        tokio::spawn(send_loop("stdin", stdin_send, stdin_out, signer.clone())),
    );
    essential(
        "iopub sender",
        tokio::spawn(send_loop("iopub", iopub, iopub_out, signer)),
    );
    essential("heartbeat", tokio::spawn(heartbeat::beat(heartbeat)));
    let shell_task = tokio::spawn(shell_loop(shell_recv, inbox.clone(), shell_tx, comms));
    let shell_abort = shell_task.abort_handle();
    essential("shell receiver", shell_task);
    essential(
        "stdin receiver",
        tokio::spawn(stdin_loop(stdin_recv, inbox.clone(), stdin_bridge.clone())),
    );
    essential(
        "control receiver",
        tokio::spawn(control_loop(
            control_recv,
            inbox.clone(),
            control.clone(),
            shutdown_tx.clone(),
        )),
    );

    let why = loop {
        tokio::select! {
            _ = sigint.recv() => {
                log::info!("SIGINT: interrupting the running cell");
                control.interrupt();
            }
            why = shutdown_rx.recv() => break why.unwrap_or("channel closed"),
        }
    };
    log::info!("shutting down ({why})");
    // Stop a running cell, let the interpreter thread finish, and send what is queued.
    stopping.store(true, Ordering::SeqCst);
    shell_abort.abort(); // closes the shell queue, waking the interpreter thread
    control.interrupt();
    outbox.flush(Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The interpreter thread ends once the shell queue is closed; wait briefly for it to drop
    // the interpreter, so that the interpreter can stop what it started.
    let _ = tokio::task::spawn_blocking(move || done_rx.recv_timeout(Duration::from_secs(3))).await;
    match why {
        "shutdown_request" => Ok(()),
        other => Err(anyhow::anyhow!("stopped because the {other} failed")),
    }
}

/// Signs and sends one socket's queue. Errors are logged and the loop goes on.
async fn send_loop<S: SocketSend>(
    name: &'static str,
    mut socket: S,
    mut queue: UnboundedReceiver<Outgoing>,
    signer: Signer,
) {
    while let Some(item) = queue.recv().await {
        match item {
            Outgoing::Msg(msg) => {
                let frames = wire::encode(&msg, &signer);
                let Ok(zmq) = ZmqMessage::try_from(frames) else {
                    continue;
                };
                if let Err(e) = socket.send(zmq).await {
                    log::warn!("{name}: could not send {}: {e}", msg.msg_type());
                }
            }
            Outgoing::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Backs off briefly after a receive error so that a broken socket cannot spin a core.
async fn recv_backoff(name: &str, e: zeromq::ZmqError) {
    log::debug!("{name}: receive error: {e}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn shell_loop(
    mut socket: RouterRecvHalf,
    inbox: Arc<Inbox>,
    queue: UnboundedSender<Message>,
    comms: CommHub,
) {
    loop {
        match socket.recv().await {
            Ok(frames) => {
                let Some(msg) = inbox.decode("shell", frames) else {
                    continue;
                };
                // Comm messages are handled here, so they reach the code that owns them
                // while a cell runs too.
                if CommHub::handles(msg.msg_type()) {
                    comms.handle(&msg);
                } else if queue.send(msg).is_err() {
                    return; // the interpreter thread has ended: shutting down
                }
            }
            Err(e) => recv_backoff("shell", e).await,
        }
    }
}

async fn control_loop(
    mut socket: RouterRecvHalf,
    inbox: Arc<Inbox>,
    control: Arc<Control>,
    shutdown: UnboundedSender<&'static str>,
) {
    loop {
        match socket.recv().await {
            Ok(frames) => {
                if let Some(msg) = inbox.decode("control", frames)
                    && control.handle(&msg) == Flow::Shutdown
                {
                    let _ = shutdown.send("shutdown_request");
                }
            }
            Err(e) => recv_backoff("control", e).await,
        }
    }
}

async fn stdin_loop(mut socket: RouterRecvHalf, inbox: Arc<Inbox>, bridge: Arc<StdinBridge>) {
    loop {
        match socket.recv().await {
            Ok(frames) => {
                let Some(msg) = inbox.decode("stdin", frames) else {
                    continue;
                };
                if msg.msg_type() != "input_reply" {
                    log::warn!("stdin: unexpected {:?}", msg.msg_type());
                    continue;
                }
                match serde_json::from_value::<InputReply>(serde_json::Value::Object(msg.content)) {
                    Ok(reply) => bridge.deliver(reply.value),
                    Err(e) => log::warn!("stdin: bad input_reply: {e}"),
                }
            }
            Err(e) => recv_backoff("stdin", e).await,
        }
    }
}
