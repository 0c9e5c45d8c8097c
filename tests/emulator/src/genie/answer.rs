//! How the emulated Genie answers a question: deterministically, by writing SQL over the space's
//! tables, which the emulator then runs on the real SQL engine.
//!
//! 1. A question close to one of the space's curated example questions (most of their words in
//!    common) gets that example's SQL, as a space's instructions steer the real Genie.
//! 2. Otherwise the table is the space's table whose name shares a word with the question (the
//!    first table when none does), and the query counts its rows when the question asks "how many"
//!    or for a count, else shows its first ten rows.

use std::collections::BTreeSet;

use crate::serving::model::words;

/// The SQL Genie writes and how it describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub sql: String,
    pub description: String,
    pub title: String,
}

fn word_set(text: &str) -> BTreeSet<String> {
    words(text).into_iter().map(|w| w.trim_end_matches('s').to_owned()).filter(|w| !w.is_empty()).collect()
}

/// The plan for `question` in a space with `tables` and curated `examples` (question, SQL).
pub(crate) fn plan(question: &str, tables: &[String], examples: &[(String, String)]) -> Option<Plan> {
    let asked = word_set(question);
    let best = examples
        .iter()
        .map(|(q, sql)| {
            let ex = word_set(q);
            let shared = ex.intersection(&asked).count();
            (shared as f64 / ex.union(&asked).count().max(1) as f64, q, sql)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((score, q, sql)) = best
        && score >= 0.6
    {
        return Some(Plan {
            sql: sql.clone(),
            description: format!("Answers \"{q}\" with the space's curated query."),
            title: q.clone(),
        });
    }
    let table = tables
        .iter()
        .find(|t| {
            let name = t.rsplit('.').next().unwrap_or(t);
            name.split('_').map(|p| p.trim_end_matches('s')).any(|p| p.len() >= 3 && asked.contains(p))
        })
        .or(tables.first())?;
    let lower = question.to_lowercase();
    Some(if lower.contains("how many") || asked.contains("count") || lower.contains("number of") {
        Plan {
            sql: format!("SELECT COUNT(*) AS row_count FROM {table}"),
            description: format!("Counts the rows of {table}."),
            title: format!("Row count of {table}"),
        }
    } else {
        Plan {
            sql: format!("SELECT * FROM {table} LIMIT 10"),
            description: format!("Shows the first 10 rows of {table}."),
            title: format!("Sample of {table}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Vec<String> {
        vec!["main.default.trips".into(), "main.default.revenue_daily".into()]
    }

    #[test]
    fn curated_questions_win_then_tables_by_name() {
        let examples = vec![("What is the average fare by payment type?".to_string(), "SELECT 1".to_string())];
        assert_eq!(plan("average fare by payment type", &tables(), &examples).unwrap().sql, "SELECT 1");
        assert_eq!(
            plan("How many trips were taken?", &tables(), &examples).unwrap().sql,
            "SELECT COUNT(*) AS row_count FROM main.default.trips"
        );
        assert_eq!(
            plan("Show me daily revenue", &tables(), &examples).unwrap().sql,
            "SELECT * FROM main.default.revenue_daily LIMIT 10"
        );
        assert_eq!(plan("anything", &[], &[]), None);
    }
}
