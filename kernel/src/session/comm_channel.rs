//! The page's comm messages on their way to the child: a Unix socket per session.
//!
//! The kernel listens on a socket whose path it gives the child in
//! `DL_KERNEL_COMM_SOCKET`; dl-core connects when the first widget is made, and reads one JSON
//! object per line:
//!
//! ```text
//! {"msg_id":"<the page's comm_msg>","comm_id":"<widget>","event":"msg","data":{"method":"update","state":{"value":0.3}}}
//! ```
//!
//! `event` is `msg` or `close`. The child writes its comm messages back on the same socket as
//! marker lines (`DLK_COMM`, `DLK_COMM_BEGIN` / `DLK_COMM_END` around a redraw's display,
//! `markers.rs`): evcxr reads the child's standard output only while a cell runs, the socket is
//! read always. A message that
//! cannot be delivered (no widget was ever made, or the child restarted) is logged and
//! finished at once. A restarted child connects again; the newest connection is the one used.

use super::pump::Pump;
use super::route::OutputRoute;
use jupyter_core::interpreter::StreamName;
use jupyter_core::interpreter::{CommReceiver, PageComm, PageCommEvent};
use serde_json::json;
use std::io::BufRead as _;
use std::io::Write as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The kernel's end of the socket, and the page's comm receiver.
pub struct ChildComms {
    path: PathBuf,
    child: Arc<Mutex<Option<UnixStream>>>,
    route: Arc<OutputRoute>,
}

impl ChildComms {
    /// Listens on a fresh socket in the temporary directory (its path must stay short: a
    /// Unix socket's path has at most 107 bytes).
    pub fn listen(route: Arc<OutputRoute>) -> std::io::Result<ChildComms> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("dlk-comm-{}-{nanos:x}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        let child: Arc<Mutex<Option<UnixStream>>> = Arc::default();
        let accepted = Arc::clone(&child);
        let reader_route = Arc::clone(&route);
        std::thread::Builder::new()
            .name("dlk-comm-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    match stream {
                        Ok(stream) => {
                            if let Ok(reader) = stream.try_clone() {
                                let route = Arc::clone(&reader_route);
                                let _ = std::thread::Builder::new()
                                    .name("dlk-comm-read".into())
                                    .spawn(move || read_child(reader, &route));
                            }
                            if let Ok(mut child) = accepted.lock() {
                                *child = Some(stream);
                            }
                        }
                        Err(e) => log::warn!("comm socket: {e}"),
                    }
                }
            })?;
        Ok(ChildComms { path, child, route })
    }

    /// The socket's path, for the child's environment.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line to the child; false when no child is connected or it has gone.
    fn send(&self, line: &str) -> bool {
        let Ok(mut child) = self.child.lock() else {
            return false;
        };
        let Some(stream) = child.as_mut() else {
            return false;
        };
        let sent = stream
            .write_all(line.as_bytes())
            .and_then(|()| stream.write_all(b"\n"))
            .and_then(|()| stream.flush());
        if let Err(e) = sent {
            log::warn!("comm socket: the child has gone ({e})");
            *child = None;
            return false;
        }
        true
    }
}

/// Relays the child's marker lines from the socket until it closes.
fn read_child(stream: UnixStream, route: &OutputRoute) {
    let none = crossbeam_channel::never();
    for line in std::io::BufReader::new(stream).lines() {
        let Ok(line) = line else {
            return;
        };
        let Some(hub) = route.hub() else {
            continue;
        };
        let sink = hub.sink(None);
        Pump::new(&sink, route).lines(StreamName::Stdout, line, &none);
    }
}

impl Drop for ChildComms {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl CommReceiver for ChildComms {
    /// Widgets are made by cell code; the page opens no comms of its own here.
    fn accepts(&self, _target_name: &str) -> bool {
        false
    }

    fn receive(&self, comm: PageComm) {
        let event = match comm.event {
            PageCommEvent::Message => "msg",
            PageCommEvent::Close => "close",
            PageCommEvent::Open { .. } => "open",
        };
        let line = json!({
            "msg_id": comm.msg_id,
            "comm_id": comm.comm_id,
            "event": event,
            "data": comm.data,
        })
        .to_string();
        if !self.send(&line) {
            log::warn!(
                "comm message for {:?}: no widget thread in the child, dropped",
                comm.comm_id
            );
            self.route.end(&comm.msg_id);
        }
    }
}
