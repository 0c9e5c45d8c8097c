//! The small SQL-like filter language of pipeline lists and event logs:
//! `name LIKE '%sales%'`, `level in ('ERROR', 'WARN') AND timestamp > '2024-07-22T06:37:33Z'`.
//!
//! Clauses are joined by `AND`; each is `field op value` with `=`, `!=`, `<>`, `<`, `<=`, `>`,
//! `>=`, `LIKE` (`%` and `_` wildcards, case-insensitive) or `IN (v, ...)`. Values are quoted
//! strings or bare numbers/words. Each caller names the fields it knows; anything else is a 400.

use super::events::parse_rfc3339;
use crate::error::ApiError;

/// A value a filtered item offers for one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Text(String),
    Number(f64),
    /// Epoch ms; literals are RFC 3339.
    Time(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    In,
}

#[derive(Debug, Clone, PartialEq)]
struct Clause {
    field: String,
    op: Op,
    values: Vec<String>,
}

/// A parsed filter: every clause must hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Symbol(String),
}

fn invalid(text: &str, why: &str) -> ApiError {
    ApiError::invalid_parameter(format!("Invalid filter '{text}': {why}"))
}

fn tokenize(text: &str) -> Result<Vec<Token>, ApiError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    // SQL escapes a quote by doubling it.
                    Some(q) if q == c && chars.peek() == Some(&c) => {
                        chars.next();
                        value.push(c);
                    }
                    Some(q) if q == c => break,
                    Some(other) => value.push(other),
                    None => return Err(invalid(text, "unterminated string")),
                }
            }
            tokens.push(Token::Quoted(value));
        } else if "(),".contains(c) {
            chars.next();
            tokens.push(Token::Symbol(c.to_string()));
        } else if "=!<>".contains(c) {
            let mut op = String::new();
            while let Some(&o) = chars.peek().filter(|o| "=!<>".contains(**o)) {
                op.push(o);
                chars.next();
            }
            tokens.push(Token::Symbol(op));
        } else {
            let mut word = String::new();
            while let Some(&w) = chars.peek().filter(|w| !w.is_whitespace() && !"(),=!<>'\"".contains(**w)) {
                word.push(w);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

impl Filter {
    /// Parses `text`, accepting only the named `fields`.
    pub fn parse(text: &str, fields: &[&str]) -> Result<Filter, ApiError> {
        let tokens = tokenize(text)?;
        let mut rest = tokens.as_slice();
        let mut clauses = Vec::new();
        loop {
            let (clause, after) = parse_clause(text, rest, fields)?;
            clauses.push(clause);
            rest = after;
            match rest {
                [] => break,
                [Token::Word(and), after @ ..] if and.eq_ignore_ascii_case("and") => rest = after,
                _ => return Err(invalid(text, "clauses must be joined by AND")),
            }
        }
        Ok(Filter { clauses })
    }

    /// Whether an item passes; `field` gives the item's value for a field name.
    pub fn matches(&self, field: impl Fn(&str) -> Option<Operand>) -> bool {
        self.clauses.iter().all(|c| field(&c.field).is_some_and(|value| c.holds(&value)))
    }
}

fn parse_clause<'t>(text: &str, tokens: &'t [Token], fields: &[&str]) -> Result<(Clause, &'t [Token]), ApiError> {
    let [Token::Word(field), op, rest @ ..] = tokens else {
        return Err(invalid(text, "expected `field operator value`"));
    };
    let field = field.to_ascii_lowercase();
    if !fields.contains(&field.as_str()) {
        return Err(invalid(text, &format!("unknown field '{field}'; known fields: {}", fields.join(", "))));
    }
    let op = match op {
        Token::Symbol(s) => match s.as_str() {
            "=" | "==" => Op::Eq,
            "!=" | "<>" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            other => return Err(invalid(text, &format!("unknown operator '{other}'"))),
        },
        Token::Word(w) if w.eq_ignore_ascii_case("like") => Op::Like,
        Token::Word(w) if w.eq_ignore_ascii_case("in") => Op::In,
        _ => return Err(invalid(text, "expected an operator after the field name")),
    };
    let literal = |t: &Token| match t {
        Token::Word(w) | Token::Quoted(w) => Some(w.clone()),
        Token::Symbol(_) => None,
    };
    let (values, rest) = if op == Op::In {
        let [Token::Symbol(open), after_open @ ..] = rest else {
            return Err(invalid(text, "IN needs a parenthesised list"));
        };
        let mut rest = after_open;
        if open != "(" {
            return Err(invalid(text, "IN needs a parenthesised list"));
        }
        let mut values = Vec::new();
        loop {
            let [value, sep, after @ ..] = rest else {
                return Err(invalid(text, "unterminated IN list"));
            };
            values.push(literal(value).ok_or_else(|| invalid(text, "expected a value in the IN list"))?);
            rest = after;
            match sep {
                Token::Symbol(s) if s == "," => {}
                Token::Symbol(s) if s == ")" => break,
                _ => return Err(invalid(text, "expected ',' or ')' in the IN list")),
            }
        }
        (values, rest)
    } else {
        let [value, rest @ ..] = rest else {
            return Err(invalid(text, "missing value"));
        };
        (vec![literal(value).ok_or_else(|| invalid(text, "expected a value"))?], rest)
    };
    if field == "timestamp" && values.iter().any(|v| parse_rfc3339(v).is_none()) {
        return Err(invalid(text, "timestamps must be RFC 3339, like '2024-07-22T06:37:33.083Z'"));
    }
    Ok((Clause { field, op, values }, rest))
}

impl Clause {
    fn holds(&self, value: &Operand) -> bool {
        match self.op {
            Op::In => self.values.iter().any(|v| compare(value, v) == Some(std::cmp::Ordering::Equal)),
            Op::Like => match value {
                Operand::Text(text) => like(&text.to_lowercase(), &self.values[0].to_lowercase()),
                _ => false,
            },
            op => compare(value, &self.values[0]).is_some_and(|ord| match op {
                Op::Eq => ord.is_eq(),
                Op::Ne => ord.is_ne(),
                Op::Lt => ord.is_lt(),
                Op::Le => ord.is_le(),
                Op::Gt => ord.is_gt(),
                Op::Ge => ord.is_ge(),
                Op::Like | Op::In => false,
            }),
        }
    }
}

fn compare(value: &Operand, literal: &str) -> Option<std::cmp::Ordering> {
    match value {
        Operand::Text(text) => Some(text.as_str().cmp(literal)),
        Operand::Number(n) => n.partial_cmp(&literal.parse::<f64>().ok()?),
        Operand::Time(ms) => Some(ms.cmp(&parse_rfc3339(literal)?)),
    }
}

/// SQL `LIKE`: `%` is any run of characters, `_` any one character.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Classic wildcard matching with backtracking to the last `%`.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '_' || pattern[p] == text[t]) {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == '%' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["name", "level", "timestamp"];

    fn item(name: &str, level: &str, ms: u64) -> impl Fn(&str) -> Option<Operand> {
        let (name, level) = (name.to_owned(), level.to_owned());
        move |field| match field {
            "name" => Some(Operand::Text(name.clone())),
            "level" => Some(Operand::Text(level.clone())),
            "timestamp" => Some(Operand::Time(ms)),
            _ => None,
        }
    }

    #[test]
    fn like_is_a_case_insensitive_wildcard() {
        let f = Filter::parse("name LIKE '%Sales%'", FIELDS).expect("parses");
        assert!(f.matches(item("daily-sales-etl", "INFO", 0)));
        assert!(!f.matches(item("orders", "INFO", 0)));
        assert!(like("abc", "a_c") && like("abc", "%") && !like("abc", "a_"));
    }

    #[test]
    fn in_lists_and_and_combine() {
        let f =
            Filter::parse("level in ('ERROR', 'WARN') AND timestamp > '2024-01-01T00:00:00Z'", FIELDS).expect("parses");
        assert!(f.matches(item("x", "WARN", 1_800_000_000_000)));
        assert!(!f.matches(item("x", "INFO", 1_800_000_000_000)));
        assert!(!f.matches(item("x", "ERROR", 1_000)));
    }

    #[test]
    fn bad_filters_are_client_errors() {
        for bad in ["owner = 'me'", "level", "level ~ 'x'", "level = 'x' OR name = 'y'", "name = 'open", "level IN 'x'"]
        {
            let err = Filter::parse(bad, FIELDS).expect_err(bad);
            assert_eq!(err.code, "INVALID_PARAMETER_VALUE", "{bad}");
        }
        assert!(Filter::parse("timestamp > 'last week'", FIELDS).is_err());
    }
}
