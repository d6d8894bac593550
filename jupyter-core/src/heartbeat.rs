//! The heartbeat: every ping on the REP socket is echoed back unchanged, so that the front end
//! knows the kernel process is alive.

use std::time::Duration;
use zeromq::{RepSocket, SocketRecv, SocketSend};

/// Echoes pings for the kernel's lifetime.
pub async fn beat(mut socket: RepSocket) {
    loop {
        match socket.recv().await {
            Ok(ping) => {
                if let Err(e) = socket.send(ping).await {
                    log::debug!("heartbeat: {e}");
                }
            }
            Err(e) => {
                // Back off briefly so that a broken socket cannot spin a core.
                log::debug!("heartbeat: receive error: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
