//! Replay protection: a correctly signed message seen before is dropped, not run twice.

use crate::wire::WireError;
use bytes::Bytes;
use std::collections::{HashSet, VecDeque};

/// Remembers recently seen signatures so that a replayed, correctly signed message is
/// dropped instead of being executed twice. Bounded: the oldest signatures are forgotten.
#[derive(Debug)]
pub struct ReplayGuard {
    seen: HashSet<Bytes>,
    order: VecDeque<Bytes>,
    capacity: usize,
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` signatures.
    pub fn new(capacity: usize) -> ReplayGuard {
        ReplayGuard {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `signature`; `Err(Replayed)` if it was seen before. Empty signatures
    /// (signing disabled) are never recorded.
    pub fn check(&mut self, signature: &Bytes) -> Result<(), WireError> {
        if signature.is_empty() {
            return Ok(());
        }
        if self.seen.contains(signature) {
            return Err(WireError::Replayed);
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(signature.clone());
        self.order.push_back(signature.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_guard_drops_repeats_and_forgets_old() {
        let mut g = ReplayGuard::new(2);
        let a = Bytes::from_static(b"aa");
        let b = Bytes::from_static(b"bb");
        let c = Bytes::from_static(b"cc");
        assert!(g.check(&a).is_ok());
        assert_eq!(g.check(&a), Err(WireError::Replayed));
        assert!(g.check(&b).is_ok());
        assert!(g.check(&c).is_ok()); // forgets a
        assert!(g.check(&a).is_ok());
        assert_eq!(g.check(&c), Err(WireError::Replayed));
        assert!(g.check(&Bytes::new()).is_ok());
        assert!(g.check(&Bytes::new()).is_ok());
    }
}
