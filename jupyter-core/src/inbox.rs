//! What every receiving socket does first: verify, check for a replay, decode. A message that
//! fails is logged (rate-limited) and dropped, so it is never handled.

use crate::message::Message;
use crate::replay::ReplayGuard;
use crate::signer::Signer;
use crate::wire::{self, WireError};
use bytes::Bytes;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use zeromq::ZmqMessage;

/// How many recent signatures are remembered to drop replays.
const REPLAY_MEMORY: usize = 65_536;

/// Verifies and decodes incoming messages, counting (and rate-limiting the logging of)
/// the ones dropped.
pub struct Inbox {
    signer: Signer,
    replays: Mutex<ReplayGuard>,
    dropped: AtomicU64,
}

impl Inbox {
    /// An inbox verifying with `signer`.
    pub fn new(signer: Signer) -> Inbox {
        Inbox {
            signer,
            replays: Mutex::new(ReplayGuard::new(REPLAY_MEMORY)),
            dropped: AtomicU64::new(0),
        }
    }

    /// The signer, shared with the senders.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The message in `frames`, received on `socket`; `None` when it was dropped.
    pub fn decode(&self, socket: &str, frames: ZmqMessage) -> Option<Message> {
        let frames: Vec<Bytes> = frames.into_vec();
        let result = wire::decode(&frames, &self.signer).and_then(|msg| {
            let signature = wire::split(&frames).map(|f| f.signature.clone())?;
            match self.replays.lock() {
                Ok(mut guard) => guard.check(&signature)?,
                Err(_) => return Err(WireError::Replayed),
            }
            Ok(msg)
        });
        match result {
            Ok(msg) => Some(msg),
            Err(e) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n <= 20 || n.is_multiple_of(1000) {
                    log::warn!("{socket}: dropped a message ({e}); {n} dropped so far");
                } else {
                    log::debug!("{socket}: dropped a message ({e})");
                }
                None
            }
        }
    }
}
