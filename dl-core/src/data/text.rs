//! A character vocabulary over a text, for character-level language models.
//!
//! The vocabulary is the sorted set of distinct characters; character `c` has id
//! `index(c)` in `0..vocab_size`. Training pairs are windows of `t` ids and the id that follows.

use crate::error::Result;
use crate::tensor::{Tensor, from_vec};
use std::collections::HashMap;
use std::path::Path;

/// Characters ↔ ids.
///
/// ```
/// use dl_core::data::CharVocab;
/// let vocab = CharVocab::from_text("hello");
/// assert_eq!(vocab.len(), 4); // e h l o
/// let ids = vocab.encode("hello");
/// assert_eq!(vocab.decode(&ids), "hello");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CharVocab {
    chars: Vec<char>,
    index: HashMap<char, usize>,
}

impl CharVocab {
    /// The vocabulary of the distinct characters of `text`, sorted.
    pub fn from_text(text: &str) -> CharVocab {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        let index = chars.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        CharVocab { chars, index }
    }

    /// Number of distinct characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True if the vocabulary is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, in id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of a character, if it is in the vocabulary.
    pub fn id(&self, c: char) -> Option<usize> {
        self.index.get(&c).copied()
    }

    /// Ids of the characters of `text`.
    ///
    /// **Panics** naming the character if it is not in the vocabulary.
    #[track_caller]
    pub fn encode(&self, text: &str) -> Vec<usize> {
        text.chars()
            .map(|c| {
                self.id(c)
                    .unwrap_or_else(|| panic!("CharVocab::encode: {c:?} is not in the vocabulary"))
            })
            .collect()
    }

    /// The text for a sequence of ids (unknown ids become `�`).
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter()
            .map(|&i| self.chars.get(i).copied().unwrap_or('\u{FFFD}'))
            .collect()
    }

    /// Training pairs: `x: [n, seq_len]` windows of ids (as f32, for an `Embedding`) and
    /// `y: [n]` the id of the next character, taking a window every `step` characters.
    ///
    /// ```
    /// use dl_core::data::CharVocab;
    /// let v = CharVocab::from_text("abcabc");
    /// let (x, y) = v.sequences("abcabc", 3, 1);
    /// assert_eq!(x.shape(), &[3, 3]);
    /// assert_eq!(y.as_slice().unwrap(), &[0.0, 1.0, 2.0]); // a, b, c follow each window
    /// ```
    #[track_caller]
    pub fn sequences(&self, text: &str, seq_len: usize, step: usize) -> (Tensor, Tensor) {
        let ids = self.encode(text);
        let step = step.max(1);
        assert!(
            seq_len >= 1 && ids.len() > seq_len,
            "CharVocab::sequences: a text of {} characters is too short for seq_len {seq_len}",
            ids.len()
        );
        let starts: Vec<usize> = (0..ids.len() - seq_len).step_by(step).collect();
        let mut xs = Vec::with_capacity(starts.len() * seq_len);
        let mut ys = Vec::with_capacity(starts.len());
        for &s in &starts {
            xs.extend(ids[s..s + seq_len].iter().map(|&i| i as f32));
            ys.push(ids[s + seq_len] as f32);
        }
        (
            from_vec(&[starts.len(), seq_len], xs),
            from_vec(&[starts.len()], ys),
        )
    }
}

impl CharVocab {
    /// Windows of `seq_len` ids and, for each position, the id that follows it (the targets
    /// of a language model that predicts every next character, such as a GPT): `x [n, t]`,
    /// `y [n, t]` with `y[i, j] = x[i, j + 1]` (and the character after the window last).
    ///
    /// ```
    /// use dl_core::data::CharVocab;
    /// let v = CharVocab::from_text("abcabc");
    /// let (x, y) = v.next_char_windows("abcabc", 3, 3);
    /// assert_eq!(x.shape(), &[1, 3]);
    /// assert_eq!(x.as_slice().unwrap(), &[0.0, 1.0, 2.0]); // a b c
    /// assert_eq!(y.as_slice().unwrap(), &[1.0, 2.0, 0.0]); // b c a
    /// ```
    #[track_caller]
    pub fn next_char_windows(&self, text: &str, seq_len: usize, step: usize) -> (Tensor, Tensor) {
        let ids = self.encode(text);
        let step = step.max(1);
        assert!(
            seq_len >= 1 && ids.len() > seq_len,
            "CharVocab::next_char_windows: a text of {} characters is too short for seq_len {seq_len}",
            ids.len()
        );
        let starts: Vec<usize> = (0..ids.len() - seq_len).step_by(step).collect();
        let window = |offset: usize| -> Vec<f32> {
            starts
                .iter()
                .flat_map(|&s| {
                    ids[s + offset..s + offset + seq_len]
                        .iter()
                        .map(|&i| i as f32)
                })
                .collect()
        };
        (
            from_vec(&[starts.len(), seq_len], window(0)),
            from_vec(&[starts.len(), seq_len], window(1)),
        )
    }
}

/// Reads a UTF-8 text file (such as `data/text/shakespeare_7plays.txt`).
///
/// ```
/// assert!(dl_core::data::read_text("no/such.txt").unwrap_err().to_string().contains("no/such.txt"));
/// ```
pub fn read_text(path: impl AsRef<Path>) -> Result<String> {
    crate::data::read_text_file(path.as_ref())
}
