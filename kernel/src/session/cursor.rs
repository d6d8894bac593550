//! Cursor positions: the protocol counts code points, Rust strings are indexed by bytes.

/// Byte offset of code point `chars` (the protocol counts code points).
pub(super) fn byte_offset(code: &str, chars: usize) -> usize {
    code.char_indices()
        .nth(chars)
        .map_or(code.len(), |(at, _)| at)
}

/// Code-point offset of byte `at`.
pub(super) fn char_offset(code: &str, at: usize) -> usize {
    let mut at = at.min(code.len());
    while !code.is_char_boundary(at) {
        at -= 1;
    }
    code[..at].chars().count()
}

/// The end (byte offset) of the identifier the cursor at byte `at` is in or just after.
pub(super) fn end_of_name(code: &str, at: usize) -> usize {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let rest = &code[at..];
    let extra: usize = rest
        .chars()
        .take_while(|&c| is_name(c))
        .map(char::len_utf8)
        .sum();
    at + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_code_points() {
        let code = "let é = \"→\"; é.";
        assert_eq!(byte_offset(code, 5), 6);
        assert_eq!(char_offset(code, 6), 5);
        assert_eq!(byte_offset(code, 100), code.len());
        assert_eq!(char_offset(code, code.len()), code.chars().count());
        // A byte inside a character rounds down.
        assert_eq!(char_offset(code, 5), 4);
    }

    #[test]
    fn name_end() {
        let code = "let v = vec_of(1);";
        assert_eq!(end_of_name(code, 9), 14);
        assert_eq!(end_of_name(code, 14), 14);
    }
}
