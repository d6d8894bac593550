//! The whole core, sockets included, on loopback ports with the scripted interpreter, spoken
//! to over the wire as a front end does: DEALER sockets for shell and control, SUB for iopub,
//! REQ for the heartbeat, every message signed with the connection file's key.

mod mock;

use bytes::Bytes;
use jupyter_core::ConnectionInfo;
use jupyter_core::message::{Header, Message};
use jupyter_core::signer::Signer;
use jupyter_core::wire;
use mock::{Log, Scripted, object};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeromq::{DealerSocket, ReqSocket, Socket, SocketRecv, SocketSend, SubSocket, ZmqMessage};

const KEY: &str = "a0436f6c-1916-498b-8eb9-e81ab9368e84";
const WAIT: Duration = Duration::from_secs(10);

/// A kernel running on its own thread, and a front end connected to it.
struct Kernel {
    log: Arc<Log>,
    finished: std::thread::JoinHandle<anyhow::Result<()>>,
    shell: DealerSocket,
    control: DealerSocket,
    iopub: SubSocket,
    heartbeat: ReqSocket,
    signer: Signer,
    /// The requests sent while waiting for iopub, whose replies are skipped.
    probes: Vec<String>,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Kernel {
    /// Starts the core and connects to it; returns once iopub delivers messages.
    async fn start() -> Kernel {
        let connection = json!({
            "transport": "tcp", "ip": "127.0.0.1", "signature_scheme": "hmac-sha256",
            "key": KEY, "shell_port": free_port(), "iopub_port": free_port(),
            "stdin_port": free_port(), "control_port": free_port(), "hb_port": free_port(),
        });
        let conn = ConnectionInfo::parse(&connection.to_string()).unwrap();
        let log = Arc::new(Log::default());
        let finished = {
            let (conn, log) = (conn.clone(), log.clone());
            std::thread::spawn(move || jupyter_core::run(conn, Scripted(log)))
        };
        let mut kernel = Kernel {
            log,
            finished,
            shell: DealerSocket::new(),
            control: DealerSocket::new(),
            iopub: SubSocket::new(),
            heartbeat: ReqSocket::new(),
            signer: Signer::new("hmac-sha256", KEY.as_bytes()).unwrap(),
            probes: Vec::new(),
        };
        let deadline = Instant::now() + WAIT;
        let connect = |port| conn.endpoint(port);
        loop {
            // The kernel binds on its thread: retry until every socket is there.
            let ok = kernel
                .shell
                .connect(&connect(conn.shell_port))
                .await
                .is_ok()
                && kernel
                    .control
                    .connect(&connect(conn.control_port))
                    .await
                    .is_ok()
                && kernel
                    .iopub
                    .connect(&connect(conn.iopub_port))
                    .await
                    .is_ok()
                && kernel
                    .heartbeat
                    .connect(&connect(conn.hb_port))
                    .await
                    .is_ok();
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the kernel never bound its sockets"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            kernel = Kernel {
                shell: DealerSocket::new(),
                control: DealerSocket::new(),
                iopub: SubSocket::new(),
                heartbeat: ReqSocket::new(),
                ..kernel
            };
        }
        kernel.iopub.subscribe("").await.unwrap();
        // A subscription takes effect some time after it is sent: ask until iopub answers.
        loop {
            let probe = kernel.send_shell("kernel_info_request", json!({})).await;
            kernel.probes.push(probe.header.msg_id.clone());
            let got = tokio::time::timeout(Duration::from_millis(200), kernel.next_iopub()).await;
            if let Ok(msg) = got
                && parent_id(&msg) == probe.header.msg_id
            {
                break;
            }
            assert!(Instant::now() < deadline, "iopub never delivered");
        }
        kernel.drain_iopub().await;
        kernel
    }

    fn message(&self, msg_type: &str, content: Value) -> Message {
        Message {
            identities: Vec::new(),
            header: Header::new(msg_type, "client-session"),
            parent_header: Map::new(),
            metadata: Map::new(),
            content: object(content),
            buffers: Vec::new(),
        }
    }

    async fn send_shell(&mut self, msg_type: &str, content: Value) -> Message {
        let msg = self.message(msg_type, content);
        let frames = wire::encode(&msg, &self.signer);
        self.shell.send(zmq(frames)).await.unwrap();
        msg
    }

    async fn send_control(&mut self, msg_type: &str, content: Value) -> Message {
        let msg = self.message(msg_type, content);
        let frames = wire::encode(&msg, &self.signer);
        self.control.send(zmq(frames)).await.unwrap();
        msg
    }

    fn decode(&self, frames: ZmqMessage) -> Message {
        wire::decode(&frames.into_vec(), &self.signer).expect("the kernel signs what it sends")
    }

    /// The next shell reply, past those to the start-up probes.
    async fn shell_reply(&mut self) -> Message {
        loop {
            let frames = tokio::time::timeout(WAIT, self.shell.recv()).await;
            let reply = self.decode(frames.expect("a shell reply in time").unwrap());
            if !self.probes.iter().any(|id| id == parent_id(&reply)) {
                return reply;
            }
        }
    }

    async fn control_reply(&mut self) -> Message {
        let frames = tokio::time::timeout(WAIT, self.control.recv()).await;
        self.decode(frames.expect("a control reply in time").unwrap())
    }

    async fn next_iopub(&mut self) -> Message {
        let frames = self.iopub.recv().await.unwrap();
        self.decode(frames)
    }

    /// The iopub messages of `parent`, up to its `idle`.
    async fn iopub_of(&mut self, parent: &Message) -> Vec<Message> {
        let mut seen = Vec::new();
        loop {
            let msg = tokio::time::timeout(WAIT, self.next_iopub())
                .await
                .expect("idle in time");
            if parent_id(&msg) != parent.header.msg_id {
                continue;
            }
            let idle = msg.content.get("execution_state") == Some(&json!("idle"));
            seen.push(msg);
            if idle {
                return seen;
            }
        }
    }

    async fn drain_iopub(&mut self) {
        while tokio::time::timeout(Duration::from_millis(100), self.next_iopub())
            .await
            .is_ok()
        {}
    }

    /// Shuts the kernel down over control and waits for `run` to return.
    async fn shut_down(mut self) {
        self.send_control("shutdown_request", json!({ "restart": false }))
            .await;
        let reply = self.control_reply().await;
        assert_eq!(reply.msg_type(), "shutdown_reply");
        let finished = self.finished;
        let ended = tokio::task::spawn_blocking(move || finished.join())
            .await
            .unwrap();
        assert!(matches!(ended, Ok(Ok(()))), "run ends cleanly: {ended:?}");
    }
}

fn zmq(frames: Vec<Bytes>) -> ZmqMessage {
    ZmqMessage::try_from(frames).unwrap()
}

fn parent_id(m: &Message) -> &str {
    m.parent_header
        .get("msg_id")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn types(msgs: &[Message]) -> Vec<String> {
    msgs.iter()
        .map(|m| match m.msg_type() {
            "status" => format!("status:{}", m.content["execution_state"].as_str().unwrap()),
            t => t.to_owned(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_runs_over_the_wire_and_the_heartbeat_echoes() {
    let mut k = Kernel::start().await;
    let info = k.send_shell("kernel_info_request", json!({})).await;
    let reply = k.shell_reply().await;
    assert_eq!(parent_id(&reply), info.header.msg_id);
    assert_eq!(reply.content["implementation"], "scripted-kernel");
    assert_eq!(reply.content["language_info"]["name"], "scripted");
    assert_eq!(reply.content["protocol_version"], "5.3");

    let cell = k
        .send_shell("execute_request", json!({ "code": "print hello" }))
        .await;
    let reply = k.shell_reply().await;
    assert_eq!(reply.msg_type(), "execute_reply");
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["execution_count"], 1);
    let iopub = k.iopub_of(&cell).await;
    assert_eq!(
        types(&iopub),
        ["status:busy", "execute_input", "stream", "status:idle"]
    );
    assert_eq!(iopub[2].content["text"], "hello");

    k.heartbeat.send(ZmqMessage::from("ping")).await.unwrap();
    let echo = tokio::time::timeout(WAIT, k.heartbeat.recv()).await;
    assert_eq!(echo.unwrap().unwrap().into_vec(), [Bytes::from("ping")]);
    k.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_answers_while_a_cell_runs_and_interrupts_it() {
    let mut k = Kernel::start().await;
    let cell = k
        .send_shell("execute_request", json!({ "code": "sleep 20000" }))
        .await;
    // The cell is running once its execute_input is out.
    loop {
        let msg = tokio::time::timeout(WAIT, k.next_iopub()).await.unwrap();
        if msg.msg_type() == "execute_input" && parent_id(&msg) == cell.header.msg_id {
            break;
        }
    }
    let asked = Instant::now();
    k.send_control("kernel_info_request", json!({})).await;
    let info = k.control_reply().await;
    assert_eq!(info.msg_type(), "kernel_info_reply");
    assert!(asked.elapsed() < Duration::from_secs(2), "control waited");
    k.send_control("interrupt_request", json!({})).await;
    assert_eq!(k.control_reply().await.msg_type(), "interrupt_reply");
    let reply = k.shell_reply().await;
    assert_eq!(parent_id(&reply), cell.header.msg_id);
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "KeyboardInterrupt");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "the cell stopped early"
    );
    k.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badly_signed_malformed_and_replayed_messages_are_never_run() {
    let mut k = Kernel::start().await;
    let forged = k.message("execute_request", json!({ "code": "print forged" }));
    let wrong_key = Signer::new("hmac-sha256", b"not the key").unwrap();
    k.shell
        .send(zmq(wire::encode(&forged, &wrong_key)))
        .await
        .unwrap();
    let mut unsigned = wire::encode(&forged, &k.signer);
    unsigned[1] = Bytes::new();
    k.shell.send(zmq(unsigned)).await.unwrap();
    for garbage in [
        vec![Bytes::from("no delimiter")],
        vec![Bytes::from_static(b"<IDS|MSG>"), Bytes::from("sig")],
    ] {
        k.shell.send(zmq(garbage)).await.unwrap();
    }
    let good = k.message("execute_request", json!({ "code": "print once" }));
    let frames = wire::encode(&good, &k.signer);
    k.shell.send(zmq(frames.clone())).await.unwrap();
    k.shell.send(zmq(frames)).await.unwrap(); // the same signature again: a replay
    let reply = k.shell_reply().await;
    assert_eq!(parent_id(&reply), good.header.msg_id);
    // Whatever was dropped gets no reply: the next reply answers the next request.
    let after = k.send_shell("kernel_info_request", json!({})).await;
    assert_eq!(parent_id(&k.shell_reply().await), after.header.msg_id);
    assert_eq!(*k.log.executed.lock().unwrap(), ["print once"]);
    k.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comm_message_reaches_its_owner_while_a_cell_runs() {
    let mut k = Kernel::start().await;
    let open = k
        .send_shell("execute_request", json!({ "code": "open w-1" }))
        .await;
    k.shell_reply().await;
    k.iopub_of(&open).await;
    let cell = k
        .send_shell("execute_request", json!({ "code": "sleep 3000" }))
        .await;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let msg = k
        .send_shell(
            "comm_msg",
            json!({ "comm_id": "w-1", "data": { "value": 7 } }),
        )
        .await;
    let answer = k.iopub_of(&msg).await;
    assert_eq!(
        types(&answer),
        ["status:busy", "stream", "comm_msg", "status:idle"]
    );
    assert_eq!(answer[1].content["text"], r#"echo: {"value":7}"#);
    assert_eq!(answer[2].content["data"]["value"], 7);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "the comm message waited for the cell"
    );
    let reply = k.shell_reply().await;
    assert_eq!(parent_id(&reply), cell.header.msg_id, "the cell ran on");
    assert_eq!(reply.content["status"], "ok");
    k.shut_down().await;
}
