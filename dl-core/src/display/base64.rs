//! Base64 (RFC 4648, standard alphabet, with padding): 3 bytes → 4 characters of 6 bits each.
//!
//! Jupyter carries binary MIME types (`image/png`) as base64 strings.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes bytes as base64.
///
/// ```
/// assert_eq!(dl_core::display::base64_encode(b"Man"), "TWFu");
/// assert_eq!(dl_core::display::base64_encode(b"Ma"), "TWE=");
/// assert_eq!(dl_core::display::base64_encode(b"M"), "TQ==");
/// ```
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
