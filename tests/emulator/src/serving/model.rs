//! What the emulated models answer: deterministic functions of the request, so tests can assert on
//! them and the same question always gets the same answer.
//!
//! - Chat and completions models echo the last user message (or the prompt), cut at `max_tokens`
//!   words; token counts are word counts.
//! - Embedding models use feature hashing: every lower-cased word adds ±1 to one of
//!   [`EMBEDDING_DIM`] dimensions, and the vector is L2-normalised. Texts sharing words point the
//!   same way, so cosine similarity ranks by word overlap; vector search uses the same function.
//! - Custom (Unity Catalog) models score each input row: a number in `[0, 1)` from a hash of the
//!   row's canonical JSON.

use serde_json::{Map, Value, json};

/// Dimensions of every emulated embedding (that of `databricks-bge-large-en`).
pub(crate) const EMBEDDING_DIM: usize = 1024;

/// 64-bit FNV-1a.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The lower-cased words of a text (letters and digits).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The embedding of a text (see the module docs).
pub(crate) fn embed(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; EMBEDDING_DIM];
    for word in words(text) {
        let h = fnv(word.as_bytes());
        let slot = (h % EMBEDDING_DIM as u64) as usize;
        v[slot] += if h >> 63 == 0 { 1.0 } else { -1.0 };
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// Cosine similarity of two vectors of any length (0 when either is zero).
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

/// The text a chat or completions model answers with, and whether `max_tokens` cut it.
pub(crate) fn reply(model: &str, input: &str, max_tokens: Option<u64>) -> (String, bool) {
    let full = format!("[{model}] You said: {input}");
    let all: Vec<&str> = full.split_whitespace().collect();
    match max_tokens {
        Some(n) if (n as usize) < all.len() => (all[..n as usize].join(" "), true),
        _ => (full, false),
    }
}

/// A word count standing in for a token count.
pub(crate) fn tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The score a custom model gives one input row.
pub(crate) fn score(row: &Value) -> f64 {
    let canonical = canonical(row).to_string();
    ((fnv(canonical.as_bytes()) % 10_000) as f64) / 10_000.0
}

/// The value with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` score alike.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&map[k]))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// An embedding as JSON numbers rounded to six places, as the service sends floats.
pub(crate) fn vector_json(v: &[f32]) -> Value {
    json!(v.iter().map(|x| (f64::from(*x) * 1e6).round() / 1e6).collect::<Vec<f64>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_normalised_and_rank_by_shared_words() {
        let q = embed("late night taxi fares");
        let close = embed("taxi fares at night");
        let far = embed("quarterly ledger balances");
        assert!((q.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(cosine(&q, &close) > cosine(&q, &far));
        assert_eq!(embed("Taxi"), embed("taxi"), "case does not matter");
    }

    #[test]
    fn replies_and_scores_are_deterministic() {
        assert_eq!(reply("m", "hello there", None), ("[m] You said: hello there".to_string(), false));
        assert_eq!(reply("m", "hello there", Some(2)), ("[m] You".to_string(), true));
        assert_eq!(score(&json!({"a": 1, "b": 2})), score(&json!({"b": 2, "a": 1})));
        assert!((0.0..1.0).contains(&score(&json!([1, 2, 3]))));
    }
}
