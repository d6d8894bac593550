//! `is_complete`: is a piece of Rust a complete cell, or does the user need another line?
//!
//! Rust's own lexer (`rustc_lexer`, as published for rust-analyzer) splits the cell into
//! tokens, so strings of every kind, char literals versus lifetimes and nested comments are
//! read as rustc reads them. On top of the tokens, two rules:
//!
//! - brackets: a closing bracket that does not match the innermost open one → `invalid`
//!   (`fn f() }`, `(]`); an unclosed bracket → `incomplete`, indented four spaces past the line
//!   that opened it (`fn f() {`, `let x = (1,`);
//! - the trailing token: an unterminated string, char literal or block comment →
//!   `incomplete` with no indent; code ending in an operator that needs a right-hand side
//!   (`=`, `+`, `,`, `.`, `&&`, `->`, …) or in a keyword that needs more (`else`, `let`,
//!   `fn`, …) → `incomplete`;
//!
//! otherwise `complete` (evcxr accepts a final expression without `;`). Lines that start with
//! an evcxr command (`:dep`, `:opt`, …) are skipped.

use jupyter_core::interpreter::Completeness;
use ra_ap_rustc_lexer::{FrontmatterAllowed, LiteralKind, RawStrError, TokenKind};

const INDENT: &str = "    ";

/// Keywords that always need something after them.
const NEEDS_MORE_KEYWORDS: &[&str] = &[
    "as", "async", "const", "dyn", "else", "enum", "fn", "for", "if", "impl", "in", "let", "loop",
    "match", "mod", "move", "mut", "pub", "ref", "static", "struct", "trait", "type", "unsafe",
    "use", "where", "while",
];

/// Operators after which a cell cannot end.
const NEEDS_MORE_OPERATORS: &[&str] = &[
    "=", "+", "-", "/", "%", "^", "|", "&", "&&", "||", "==", "!=", "<=", ">=", "<", "+=", "-=",
    "*=", "/=", "%=", "^=", "&=", "|=", "<<=", ">>=", "<<", ".", "..", "..=", ",", "::", ":", "->",
    "=>", "=&", "=-", "=!", "=*",
];

/// The characters of the one-character punctuation tokens; adjacent ones form an operator.
const PUNCTUATION: &str = "=+-*/%^!&|<>.,:;?@#$~";

/// The last token that is not whitespace or a comment, as far as the trailing-token rule
/// cares.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Last {
    /// Nothing that needs more.
    Other,
    /// An operator: the adjacent punctuation tokens ending at this byte offset, starting at
    /// `start`.
    Operator { start: usize, end: usize },
    /// A keyword after which code cannot end.
    Keyword,
}

/// Whether `code` is a complete cell. Pure; never panics.
pub fn is_complete(code: &str) -> Completeness {
    // Open brackets, each with the indentation of the line it was opened on.
    let mut open: Vec<(char, &str)> = Vec::new();
    let mut last = Last::Other;
    let mut pos = 0;
    'lines: while pos < code.len() {
        for token in ra_ap_rustc_lexer::tokenize(&code[pos..], FrontmatterAllowed::No) {
            let start = pos;
            pos += token.len as usize;
            let text = &code[start..pos];
            match token.kind {
                TokenKind::Whitespace | TokenKind::LineComment { .. } => {}
                TokenKind::BlockComment { terminated, .. } => {
                    if !terminated {
                        return incomplete(String::new());
                    }
                }
                TokenKind::Literal { kind, .. } => {
                    if unterminated(kind, text) {
                        return incomplete(String::new());
                    }
                    last = Last::Other;
                }
                // A quote and one character at the very end: a char literal still being typed
                // (`'a` lexes as a lifetime).
                TokenKind::Lifetime { .. } if pos == code.len() && text.chars().count() == 2 => {
                    return incomplete(String::new());
                }
                // An evcxr command such as `:dep ndarray = "0.17"` takes the whole line.
                TokenKind::Colon
                    if open.is_empty()
                        && code[pos..].starts_with(|c: char| c.is_ascii_alphabetic())
                        && code[line_start(code, start)..start].trim().is_empty() =>
                {
                    pos = code[pos..].find('\n').map_or(code.len(), |n| pos + n);
                    last = Last::Other;
                    continue 'lines;
                }
                TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace => {
                    open.push((text.chars().next().unwrap_or('('), indent(code, start)));
                    last = Last::Other;
                }
                TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                    let opening = match text {
                        ")" => '(',
                        "]" => '[',
                        _ => '{',
                    };
                    match open.pop() {
                        Some((bracket, _)) if bracket == opening => {}
                        _ => return Completeness::Invalid,
                    }
                    last = Last::Other;
                }
                TokenKind::Ident if NEEDS_MORE_KEYWORDS.contains(&text) => last = Last::Keyword,
                _ if text.chars().all(|c| PUNCTUATION.contains(c)) => {
                    last = match last {
                        Last::Operator { start: first, end } if end == start => Last::Operator {
                            start: first,
                            end: pos,
                        },
                        _ => Last::Operator { start, end: pos },
                    };
                }
                _ => last = Last::Other,
            }
        }
        break;
    }
    if let Some((_, indent)) = open.last() {
        return incomplete(format!("{indent}{INDENT}"));
    }
    let dangling = match last {
        Last::Operator { start, end } => NEEDS_MORE_OPERATORS.contains(&&code[start..end]),
        Last::Keyword => true,
        Last::Other => false,
    };
    if dangling {
        return incomplete(format!("{}{INDENT}", indent(code, code.len())));
    }
    Completeness::Complete
}

fn incomplete(indent: String) -> Completeness {
    Completeness::Incomplete { indent }
}

/// Whether a literal token ends before its closing quote: more input would complete it.
fn unterminated(kind: LiteralKind, text: &str) -> bool {
    match kind {
        LiteralKind::Char { terminated }
        | LiteralKind::Byte { terminated }
        | LiteralKind::Str { terminated }
        | LiteralKind::ByteStr { terminated }
        | LiteralKind::CStr { terminated } => !terminated,
        LiteralKind::RawStr { n_hashes: None }
        | LiteralKind::RawByteStr { n_hashes: None }
        | LiteralKind::RawCStr { n_hashes: None } => {
            // `r`, `br` or `cr`, then the hashes and the quote.
            let Some(prefix) = text.find(['#', '"']) else {
                return false;
            };
            matches!(
                ra_ap_rustc_lexer::validate_raw_str(text, prefix as u32),
                Err(RawStrError::NoTerminator { .. })
            )
        }
        _ => false,
    }
}

/// The byte offset where the line holding byte `at` starts.
fn line_start(code: &str, at: usize) -> usize {
    code[..at].rfind('\n').map_or(0, |n| n + 1)
}

/// The indentation (spaces and tabs) of the line holding byte `at`.
fn indent(code: &str, at: usize) -> &str {
    let line = &code[line_start(code, at)..];
    let end = line.find(|c| c != ' ' && c != '\t').unwrap_or(line.len());
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: &str) -> &'static str {
        match is_complete(code) {
            Completeness::Complete => "complete",
            Completeness::Incomplete { .. } => "incomplete",
            Completeness::Invalid => "invalid",
            Completeness::Unknown => "unknown",
        }
    }

    fn indent(code: &str) -> String {
        match is_complete(code) {
            Completeness::Incomplete { indent } => indent,
            other => panic!("{code:?} is {other:?}"),
        }
    }

    #[test]
    fn complete_cells() {
        for code in [
            "",
            "   \n",
            "1 + 1",
            "let x = 5;",
            "fn f() {}\nf()",
            "println!(\"hello, world\");",
            "let s = \"a } ) ]\";",
            "let s = r#\"a \" }\"#;",
            "let s = r##\"\"# }\"##;",
            "let b = b\"{\"; let c = b'{'; let d = '\\'';",
            "let c = '{';",
            "fn f<'a>(x: &'a str) -> &'a str { x }",
            "'outer: loop { break 'outer; }",
            "let x = 1; // trailing { comment",
            "/* a { /* nested } */ still comment ( */ 1",
            "use std::io::*",
            "x?",
            "let r#match = 1;",
            ":dep ndarray = { version = \"0.17\" }\nlet a = 1;",
            "let v: Vec<Vec<u8>> = vec![]",
            "let u = '\\u{1F600}';",
            "let e = 'é';",
            "let x = 1.5e3;",
            "for i in 0..10 { }",
            "let r#else = 1; r#else",
            "x.len()",
            "return",
            "break",
        ] {
            assert_eq!(status(code), "complete", "{code:?}");
        }
    }

    #[test]
    fn incomplete_cells() {
        for code in [
            "fn f() {",
            "let x = (1,",
            "let v = [1, 2,",
            "let s = \"open",
            "let s = \"escaped quote \\\"",
            "let s = r#\"raw \" still open",
            "let c = '",
            "let c = '\\",
            "let c = 'a",
            "/* open comment",
            "/* nested /* */ still open",
            "let x =",
            "let y = 1 +",
            "a &&",
            "foo(1).",
            "fn f() ->",
            "match x {\n    1 =>",
            "if x { 1 } else",
            "let",
            "pub fn",
            "for x in",
        ] {
            assert_eq!(status(code), "incomplete", "{code:?}");
        }
    }

    #[test]
    fn invalid_cells() {
        for code in ["fn f() }", ")", "(]", "let v = [1, 2);", "{ ( }", "f(x))"] {
            assert_eq!(status(code), "invalid", "{code:?}");
        }
    }

    #[test]
    fn never_panics_on_any_prefix_or_scramble() {
        let source = "fn f<'a>(x: &'a str) -> char { let s = r##\"\"#\"##; /* /* */ */ \
                      let c = '\\u{1F600}'; let b = b'\\''; 'l: loop { break 'l; } 'x' } é";
        let chars: Vec<char> = source.chars().collect();
        for end in 0..=chars.len() {
            let prefix: String = chars[..end].iter().collect();
            let _ = is_complete(&prefix);
            let suffix: String = chars[end..].iter().collect();
            let _ = is_complete(&suffix);
        }
        // A tiny deterministic generator over the characters that matter to a lexer.
        let alphabet: Vec<char> = "'\"\\/*#r b{}()[]=,.;:|&<>-\nxé'".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let len = (state % 12) as usize;
            let code: String = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let _ = is_complete(&code);
        }
    }

    #[test]
    fn indent_follows_the_opening_line() {
        assert_eq!(indent("fn f() {"), "    ");
        assert_eq!(indent("let x = (1,"), "    ");
        assert_eq!(indent("fn f() {\n    if x {"), "        ");
        assert_eq!(indent("fn f() {\n    if x {\n        y\n    }"), "    ");
        assert_eq!(indent("let s = \"open"), "");
    }
}
