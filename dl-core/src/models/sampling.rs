//! Drawing the next token from a language model's scores, with temperature and top-k.
//!
//! ```text
//! p_i = softmax(z / T)_i          T < 1 sharpens (safer, duller), T > 1 flattens (bolder)
//! top-k: keep the k largest p_i, set the rest to 0, renormalise
//! ```
//!
//! `T → 0` is greedy decoding (always the most likely token).

use crate::rng::Rng;

/// How to draw a token from scores.
///
/// ```
/// use dl_core::models::Sampling;
/// let s = Sampling::new().temperature(0.8).top_k(5);
/// assert_eq!((s.temperature, s.top_k), (0.8, Some(5)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// The temperature `T` (0 means greedy).
    pub temperature: f32,
    /// Keep only the `k` most likely tokens (`None`: all).
    pub top_k: Option<usize>,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::new()
    }
}

impl Sampling {
    /// Temperature 1, every token.
    pub fn new() -> Sampling {
        Sampling {
            temperature: 1.0,
            top_k: None,
        }
    }

    /// With temperature `t`.
    pub fn temperature(self, t: f32) -> Sampling {
        Sampling {
            temperature: t,
            ..self
        }
    }

    /// With only the `k` most likely tokens.
    pub fn top_k(self, k: usize) -> Sampling {
        Sampling {
            top_k: Some(k.max(1)),
            ..self
        }
    }

    /// The probabilities this sampling draws from, for scores `z` (logits).
    ///
    /// ```
    /// use dl_core::models::Sampling;
    /// let p = Sampling::new().top_k(1).probabilities(&[0.1, 2.0, 0.5]);
    /// assert_eq!(p, vec![0.0, 1.0, 0.0]);
    /// ```
    pub fn probabilities(&self, z: &[f32]) -> Vec<f32> {
        let best = (0..z.len())
            .max_by(|&a, &b| z[a].total_cmp(&z[b]))
            .unwrap_or(0);
        if self.temperature <= 0.0 {
            return (0..z.len())
                .map(|i| if i == best { 1.0 } else { 0.0 })
                .collect();
        }
        let mut order: Vec<usize> = (0..z.len()).collect();
        order.sort_by(|&a, &b| z[b].total_cmp(&z[a]));
        let keep = self.top_k.unwrap_or(z.len()).min(z.len());
        let max = z[best] / self.temperature;
        let mut p = vec![0.0; z.len()];
        for &i in &order[..keep] {
            p[i] = (z[i] / self.temperature - max).exp();
        }
        let total: f32 = p.iter().sum();
        p.iter_mut().for_each(|v| *v /= total);
        p
    }

    /// A token drawn from scores `z` with this sampling.
    pub fn sample(&self, z: &[f32], rng: &mut Rng) -> usize {
        let p = self.probabilities(z);
        let u = rng.uniform();
        let mut total = 0.0;
        for (i, &pi) in p.iter().enumerate() {
            total += pi;
            if u < total {
                return i;
            }
        }
        p.iter().rposition(|&v| v > 0.0).unwrap_or(0)
    }
}

/// `count` tokens continuing `prompt`, drawn one at a time from a model that scores every
/// position (`[1, t] → [1, t, vocab]`, such as a GPT in a `Sequential`): the model reads the
/// last `context` tokens, and the next token is drawn from its scores for the last position.
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::models::{Gpt, GptConfig, Sampling, generate};
/// seed(0);
/// let model = Sequential::new().add(Autograd::new(Gpt::new(GptConfig { vocab: 5, context: 4, width: 8, heads: 2, blocks: 1 })));
/// let ids = generate(&model, &[1, 2], 6, 4, Sampling::new().top_k(2), &mut dl_core::rng::Rng::new(0));
/// assert_eq!(ids.len(), 6);
/// assert!(ids.iter().all(|&i| i < 5));
/// ```
pub fn generate(
    model: &crate::nn::Sequential,
    prompt: &[usize],
    count: usize,
    context: usize,
    sampling: Sampling,
    rng: &mut Rng,
) -> Vec<usize> {
    let mut ids: Vec<usize> = if prompt.is_empty() {
        vec![0]
    } else {
        prompt.to_vec()
    };
    for _ in 0..count {
        let window = &ids[ids.len().saturating_sub(context.max(1))..];
        let x = crate::tensor::from_vec(
            &[1, window.len()],
            window.iter().map(|&i| i as f32).collect(),
        );
        let scores = model.predict(&x);
        let last = scores.slice(ndarray::s![0, window.len() - 1, ..]).to_vec();
        ids.push(sampling.sample(&last, rng));
    }
    ids.split_off(ids.len() - count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_sharpens_and_top_k_cuts() {
        let z = [1.0, 2.0, 3.0];
        let p1 = Sampling::new().probabilities(&z);
        let cold = Sampling::new().temperature(0.5).probabilities(&z);
        let hot = Sampling::new().temperature(2.0).probabilities(&z);
        assert!(cold[2] > p1[2] && p1[2] > hot[2]);
        let top2 = Sampling::new().top_k(2).probabilities(&z);
        assert_eq!(top2[0], 0.0);
        assert!((top2.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let mut rng = Rng::new(1);
        let draws: Vec<usize> = (0..2000)
            .map(|_| Sampling::new().sample(&z, &mut rng))
            .collect();
        let share = draws.iter().filter(|&&d| d == 2).count() as f32 / 2000.0;
        assert!((share - p1[2]).abs() < 0.04, "{share} vs {}", p1[2]);
        assert_eq!(Sampling::new().temperature(0.0).sample(&z, &mut rng), 2);
    }
}
