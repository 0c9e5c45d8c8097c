//! MLflow's search filter and order-by grammar, the subset the emulator understands:
//! clauses `<key> <op> <value>` joined by `AND`, where a key is `metrics.<k>`, `params.<k>`,
//! `tags.<k>` or an attribute (`attributes.status`, `run_name`, `name`, `start_time`, ...; names
//! with spaces go in backticks), an op is one of `=`, `!=`, `>`, `>=`, `<`, `<=`, `LIKE`, `ILIKE`,
//! and a value is a quoted string or a number. Anything else is 400 `INVALID_PARAMETER_VALUE`, as
//! the service answers a filter it cannot parse.

use std::cmp::Ordering;

use crate::error::ApiError;

/// Where a key's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Metric(String),
    Param(String),
    Tag(String),
    Attribute(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Text(String),
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clause {
    pub key: Key,
    pub op: String,
    pub value: Literal,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid_parameter(message)
}

/// Parses a key such as `metrics.auc`, ``params.`learning rate` ``, `status`.
pub(crate) fn parse_key(text: &str) -> Result<Key, ApiError> {
    let text = text.trim();
    let (kind, name) = match text.split_once('.') {
        Some((k, n)) => (k.to_ascii_lowercase(), n.trim_matches('`').trim_matches('"').to_owned()),
        None => ("attributes".into(), text.trim_matches('`').to_owned()),
    };
    if name.is_empty() {
        return Err(invalid(format!("Invalid identifier '{text}'")));
    }
    Ok(match kind.as_str() {
        "metric" | "metrics" => Key::Metric(name),
        "param" | "params" | "parameter" | "parameters" => Key::Param(name),
        "tag" | "tags" => Key::Tag(name),
        "attribute" | "attributes" | "attr" | "run" => Key::Attribute(name),
        _ => {
            return Err(invalid(format!(
                "Invalid entity type '{kind}'. Valid values are ['metric', 'parameter', 'tag', 'attribute']"
            )));
        }
    })
}

/// Splits on ` AND ` outside quotes, case-insensitively.
fn clauses(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut current, mut quote) = (String::new(), None::<char>);
    let chars: Vec<char> = filter.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' || c == '`' => quote = Some(c),
            None if c.is_whitespace() => {
                let rest: String = chars[i..].iter().take(5).collect();
                if rest.len() == 5 && rest[1..4].eq_ignore_ascii_case("and") && rest.ends_with(char::is_whitespace) {
                    out.push(std::mem::take(&mut current));
                    i += 5;
                    continue;
                }
            }
            _ => {}
        }
        current.push(c);
        i += 1;
    }
    out.push(current);
    out.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()
}

/// Parses a whole filter; an empty one matches everything.
pub(crate) fn parse(filter: &str) -> Result<Vec<Clause>, ApiError> {
    clauses(filter)
        .into_iter()
        .map(|clause| {
            let ops = [">=", "<=", "!=", "=", ">", "<"];
            let upper = clause.to_ascii_uppercase();
            let (key, op, value) = if let Some(at) = upper.find(" ILIKE ") {
                (&clause[..at], "ILIKE", &clause[at + 7..])
            } else if let Some(at) = upper.find(" LIKE ") {
                (&clause[..at], "LIKE", &clause[at + 6..])
            } else {
                let (at, op) = ops
                    .iter()
                    .filter_map(|op| clause.find(op).map(|at| (at, *op)))
                    .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
                    .ok_or_else(|| {
                        invalid(format!("Invalid clause '{clause}': expected <key> <comparator> <value>"))
                    })?;
                (&clause[..at], op, &clause[at + op.len()..])
            };
            let value = value.trim();
            let literal = if let Some(text) = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
            {
                Literal::Text(text.to_owned())
            } else {
                Literal::Number(
                    value
                        .parse()
                        .map_err(|_| invalid(format!("Invalid value '{value}' in clause '{clause}': quote strings")))?,
                )
            };
            Ok(Clause { key: parse_key(key)?, op: op.to_owned(), value: literal })
        })
        .collect()
}

/// SQL `LIKE` with `%` and `_`.
fn like(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(&pattern.chars().collect::<Vec<_>>(), &text.chars().collect::<Vec<_>>())
}

/// Whether `actual` (absent: the clause fails) satisfies a clause.
pub(crate) fn matches(clause: &Clause, actual: Option<&Literal>) -> bool {
    let Some(actual) = actual else { return false };
    match (actual, &clause.value) {
        (Literal::Number(a), Literal::Number(b)) => compare(a.partial_cmp(b), &clause.op),
        (Literal::Text(a), Literal::Text(b)) => match clause.op.as_str() {
            "LIKE" => like(b, a),
            "ILIKE" => like(&b.to_lowercase(), &a.to_lowercase()),
            op => compare(Some(a.cmp(b)), op),
        },
        (Literal::Text(a), Literal::Number(b)) => a.parse::<f64>().is_ok_and(|a| compare(a.partial_cmp(b), &clause.op)),
        (Literal::Number(a), Literal::Text(b)) => {
            b.parse::<f64>().is_ok_and(|b| compare(a.partial_cmp(&b), &clause.op))
        }
    }
}

fn compare(ordering: Option<Ordering>, op: &str) -> bool {
    let Some(o) = ordering else { return false };
    match op {
        "=" => o == Ordering::Equal,
        "!=" => o != Ordering::Equal,
        ">" => o == Ordering::Greater,
        ">=" => o != Ordering::Less,
        "<" => o == Ordering::Less,
        "<=" => o != Ordering::Greater,
        _ => false,
    }
}

/// One `order_by` entry: a key and whether it sorts descending.
pub(crate) fn parse_order(text: &str) -> Result<(Key, bool), ApiError> {
    let mut parts = text.split_whitespace();
    let key = parts.next().ok_or_else(|| invalid("Empty order_by clause"))?;
    let desc = match parts.next().map(str::to_ascii_uppercase).as_deref() {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(invalid(format!("Invalid ordering '{other}' in order_by '{text}': use ASC or DESC")));
        }
    };
    Ok((parse_key(key)?, desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clauses_with_quotes_and_backticks() {
        let c = parse("metrics.auc > 0.8 and params.model = 'xgboost' AND tags.`team name` LIKE 'ml%'").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0], Clause { key: Key::Metric("auc".into()), op: ">".into(), value: Literal::Number(0.8) });
        assert_eq!(c[2].key, Key::Tag("team name".into()));
        assert!(matches(&c[2], Some(&Literal::Text("ml-platform".into()))));
        assert!(parse("metrics.auc >").is_err());
        assert!(parse("bogus.auc > 1").is_err());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn orders_parse() {
        assert_eq!(parse_order("metrics.auc DESC").unwrap(), (Key::Metric("auc".into()), true));
        assert_eq!(parse_order("start_time").unwrap(), (Key::Attribute("start_time".into()), false));
        assert!(parse_order("name SIDEWAYS").is_err());
    }
}
