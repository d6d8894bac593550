//! `is_complete`: is a piece of Rust a complete cell, or does the user need another line?
//!
//! A small lexer, not a parser: it tracks brackets, strings (plain, byte, C, raw with any
//! number of `#`), char literals versus lifetimes, and nested block comments. The rules:
//!
//! - a closing bracket that does not match the innermost open one → `invalid`
//!   (`fn f() }`, `(]`);
//! - an unclosed bracket → `incomplete`, indented four spaces past the line that opened it
//!   (`fn f() {`, `let x = (1,`);
//! - an unterminated string, char literal or block comment → `incomplete` with no indent;
//! - code ending in an operator that needs a right-hand side (`=`, `+`, `,`, `.`, `&&`,
//!   `->`, …) or in a keyword that needs more (`else`, `let`, `fn`, …) → `incomplete`;
//! - otherwise `complete` (evcxr accepts a final expression without `;`).
//!
//! Lines that start with an evcxr command (`:dep`, `:opt`, …) are skipped.

use crate::interpreter::Completeness;

const INDENT: &str = "    ";

/// Whether `code` is a complete cell. Pure; never panics.
pub fn is_complete(code: &str) -> Completeness {
    let chars: Vec<char> = code.chars().collect();
    Lexer {
        chars: &chars,
        i: 0,
        stack: Vec::new(),
        last: Last::Nothing,
    }
    .run()
}

#[derive(Debug, Clone, PartialEq)]
enum Last {
    Nothing,
    Other,
    Punct(String),
    /// A keyword after which code cannot end (`else`, `let`, `fn`, ...).
    Keyword,
}

/// Keywords that always need something after them.
const NEEDS_MORE_KEYWORDS: &[&str] = &[
    "as", "async", "const", "dyn", "else", "enum", "fn", "for", "if", "impl", "in", "let", "loop",
    "match", "mod", "move", "mut", "pub", "ref", "static", "struct", "trait", "type", "unsafe",
    "use", "where", "while",
];

struct Lexer<'a> {
    chars: &'a [char],
    i: usize,
    /// Open brackets and the indentation of the line each was opened on.
    stack: Vec<(char, String)>,
    last: Last,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn is_punct(c: char) -> bool {
    "=+-*/%^!&|<>.,:;?@#$~".contains(c)
}

/// Operators after which a cell cannot end.
fn needs_more(op: &str) -> bool {
    const OPS: &[&str] = &[
        "=", "+", "-", "/", "%", "^", "|", "&", "&&", "||", "==", "!=", "<=", ">=", "<", "+=",
        "-=", "*=", "/=", "%=", "^=", "&=", "|=", "<<=", ">>=", "<<", ".", "..", "..=", ",", "::",
        ":", "->", "=>", "=&", "=-", "=!", "=*",
    ];
    OPS.contains(&op)
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn line_indent(&self, at: usize) -> String {
        let start = self.chars[..at]
            .iter()
            .rposition(|&c| c == '\n')
            .map_or(0, |p| p + 1);
        self.chars[start..]
            .iter()
            .take_while(|c| **c == ' ' || **c == '\t')
            .collect()
    }

    fn at_line_start(&self) -> bool {
        self.chars[..self.i]
            .iter()
            .rev()
            .take_while(|&&c| c != '\n')
            .all(|c| c.is_whitespace())
    }

    fn incomplete(indent: String) -> Completeness {
        Completeness::Incomplete { indent }
    }

    fn run(mut self) -> Completeness {
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() {
                self.i += 1;
                continue;
            }
            // An evcxr command such as `:dep ndarray = "0.17"` takes the whole line.
            if c == ':'
                && self.stack.is_empty()
                && self.peek(1).is_some_and(|n| n.is_ascii_alphabetic())
                && self.at_line_start()
            {
                self.skip_line();
                self.last = Last::Other;
                continue;
            }
            if c == '/' && self.peek(1) == Some('/') {
                self.skip_line();
                continue;
            }
            if c == '/' && self.peek(1) == Some('*') {
                if !self.block_comment() {
                    return Self::incomplete(String::new());
                }
                continue;
            }
            if c == '"' {
                self.i += 1;
                if !self.string() {
                    return Self::incomplete(String::new());
                }
                self.last = Last::Other;
                continue;
            }
            if c == '\'' {
                match self.quote() {
                    Some(()) => self.last = Last::Other,
                    None => return Self::incomplete(String::new()),
                }
                continue;
            }
            if is_ident_start(c) {
                let start = self.i;
                while self.peek(0).is_some_and(is_ident_continue) {
                    self.i += 1;
                }
                let word: String = self.chars[start..self.i].iter().collect();
                // A raw identifier (`r#match`) is an identifier, never a keyword.
                if word == "r"
                    && self.peek(0) == Some('#')
                    && self.peek(1).is_some_and(is_ident_start)
                {
                    self.i += 1;
                    while self.peek(0).is_some_and(is_ident_continue) {
                        self.i += 1;
                    }
                    self.last = Last::Other;
                    continue;
                }
                if matches!(word.as_str(), "r" | "br" | "cr")
                    && matches!(self.peek(0), Some('"' | '#'))
                    && let Some(done) = self.raw_string()
                {
                    if !done {
                        return Self::incomplete(String::new());
                    }
                } else if matches!(word.as_str(), "b" | "c") && self.peek(0) == Some('"') {
                    self.i += 1;
                    if !self.string() {
                        return Self::incomplete(String::new());
                    }
                }
                self.last = if NEEDS_MORE_KEYWORDS.contains(&word.as_str()) {
                    Last::Keyword
                } else {
                    Last::Other
                };
                continue;
            }
            if c.is_ascii_digit() {
                while let Some(d) = self.peek(0) {
                    let fraction = d == '.' && self.peek(1).is_some_and(|n| n.is_ascii_digit());
                    if is_ident_continue(d) || fraction {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                self.last = Last::Other;
                continue;
            }
            match c {
                '(' | '[' | '{' => {
                    let indent = self.line_indent(self.i);
                    self.stack.push((c, indent));
                    self.last = Last::Nothing;
                    self.i += 1;
                }
                ')' | ']' | '}' => {
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    match self.stack.pop() {
                        Some((open, _)) if open == want => {}
                        _ => return Completeness::Invalid,
                    }
                    self.last = Last::Other;
                    self.i += 1;
                }
                _ if is_punct(c) => {
                    let start = self.i;
                    while self.peek(0).is_some_and(is_punct)
                        && !(self.peek(0) == Some('/') && matches!(self.peek(1), Some('/' | '*')))
                    {
                        self.i += 1;
                    }
                    self.last = Last::Punct(self.chars[start..self.i].iter().collect());
                }
                _ => {
                    // Anything else (a stray backslash, an emoji outside a string): leave it to
                    // the compiler.
                    self.last = Last::Other;
                    self.i += 1;
                }
            }
        }
        if let Some((_, indent)) = self.stack.last() {
            return Self::incomplete(format!("{indent}{INDENT}"));
        }
        let dangling = match &self.last {
            Last::Punct(op) => needs_more(op),
            Last::Keyword => true,
            Last::Nothing | Last::Other => false,
        };
        if dangling {
            let indent = self.line_indent(self.chars.len());
            return Self::incomplete(format!("{indent}{INDENT}"));
        }
        Completeness::Complete
    }

    fn skip_line(&mut self) {
        while self.peek(0).is_some_and(|c| c != '\n') {
            self.i += 1;
        }
    }

    /// At `/*`: skips a (nested) block comment; false if it never ends.
    fn block_comment(&mut self) -> bool {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            if c == '/' && self.peek(1) == Some('*') {
                depth += 1;
                self.i += 2;
            } else if c == '*' && self.peek(1) == Some('/') {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return true;
                }
            } else {
                self.i += 1;
            }
        }
        false
    }

    /// After an opening `"`: skips to the closing one; false if it never comes.
    fn string(&mut self) -> bool {
        while let Some(c) = self.peek(0) {
            self.i += 1;
            match c {
                '\\' => self.i += 1,
                '"' => return true,
                _ => {}
            }
        }
        false
    }

    /// At the `#`s or `"` after `r`: `None` if this is a raw identifier (`r#match`), else
    /// whether the raw string is terminated.
    fn raw_string(&mut self) -> Option<bool> {
        let mut hashes = 0;
        while self.peek(hashes) == Some('#') {
            hashes += 1;
        }
        if self.peek(hashes) != Some('"') {
            return None;
        }
        self.i += hashes + 1;
        while let Some(c) = self.peek(0) {
            self.i += 1;
            if c == '"' && (0..hashes).all(|k| self.peek(k) == Some('#')) {
                self.i += hashes;
                return Some(true);
            }
        }
        Some(false)
    }

    /// At `'`: a char literal or a lifetime/label. `None` if the code ends inside a char
    /// literal.
    fn quote(&mut self) -> Option<()> {
        match (self.peek(1), self.peek(2)) {
            (None, _) => None,
            (Some('\\'), _) => {
                self.i += 2;
                // Skip the escaped character, then up to the closing quote.
                self.i += 1;
                while let Some(c) = self.peek(0) {
                    self.i += 1;
                    if c == '\'' {
                        return Some(());
                    }
                    if c == '\n' {
                        return Some(());
                    }
                }
                None
            }
            (Some(_), Some('\'')) => {
                self.i += 3;
                Some(())
            }
            (Some(_), None) => None,
            (Some(c), Some(_)) if is_ident_start(c) => {
                // A lifetime or loop label: 'a, 'static, 'outer.
                self.i += 1;
                while self.peek(0).is_some_and(is_ident_continue) {
                    self.i += 1;
                }
                Some(())
            }
            (Some(_), Some(_)) => {
                self.i += 1;
                Some(())
            }
        }
    }
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
        // A tiny deterministic generator over the characters the lexer cares about.
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
