//! Databricks SQL text as tokens, and back as SQLite text.
//!
//! The two dialects differ where it matters for a faithful emulation: Databricks quotes identifiers
//! with backticks and strings with either quote, SQLite quotes identifiers with `"`. Everything
//! else passes through as written.

use super::engine::SqlError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An unquoted identifier or keyword.
    Word(String),
    /// A backtick-quoted identifier, without the backticks.
    Quoted(String),
    /// A string literal's content.
    Str(String),
    Num(String),
    /// A named parameter marker, `:name`.
    Param(String),
    Sym(String),
    Space(String),
}

impl Tok {
    /// Whether this is the keyword `kw` (case-insensitive).
    pub fn is(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    pub fn is_sym(&self, s: &str) -> bool {
        matches!(self, Tok::Sym(x) if x == s)
    }

    /// The identifier this token names, if it can name one.
    pub fn ident(&self) -> Option<&str> {
        match self {
            Tok::Word(w) | Tok::Quoted(w) => Some(w),
            _ => None,
        }
    }

    /// The token as SQLite text.
    pub fn sqlite(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Num(w) | Tok::Param(w) | Tok::Sym(w) | Tok::Space(w) => w.clone(),
            Tok::Quoted(q) => quote_ident(q),
            Tok::Str(s) => format!("'{}'", s.replace('\'', "''")),
        }
    }
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Splits SQL text into tokens; comments become spaces.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Tok>, SqlError> {
    let chars: Vec<char> = sql.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            toks.push(Tok::Space(chars[start..i].iter().collect()));
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            toks.push(Tok::Space(" ".into()));
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            toks.push(Tok::Space(" ".into()));
        } else if c == '\'' || c == '"' || c == '`' {
            let (text, end) = quoted(&chars, i, c).ok_or_else(|| {
                SqlError::syntax(&format!(
                    "Unclosed {} starting at position {i}",
                    if c == '`' { "identifier" } else { "string" }
                ))
            })?;
            toks.push(if c == '`' { Tok::Quoted(text) } else { Tok::Str(text) });
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            toks.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c == ':' && next.is_some_and(|n| n.is_alphabetic() || n == '_') {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push(Tok::Param(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let len = if ["<=", ">=", "<>", "!=", "||", "==", "::"].contains(&two.as_str()) { 2 } else { 1 };
            toks.push(Tok::Sym(chars[i..i + len].iter().collect()));
            i += len;
        }
    }
    Ok(toks)
}

/// The content of a quoted run starting at `start`, and the index after it. Doubled quotes and
/// (in strings) backslash escapes stand for the character itself.
fn quoted(chars: &[char], start: usize, quote: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && quote != '`' {
            let escaped = *chars.get(i + 1)?;
            out.push(match escaped {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
            i += 2;
        } else if c == quote {
            if chars.get(i + 1) == Some(&quote) {
                out.push(quote);
                i += 2;
            } else {
                return Some((out, i + 1));
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(sql: &str) -> String {
        tokenize(sql).expect("tokenizes").iter().map(Tok::sqlite).collect()
    }

    #[test]
    fn databricks_quoting_becomes_sqlite_quoting() {
        assert_eq!(sqlite("SELECT `a b`, \"it's\" FROM t -- note"), "SELECT \"a b\", 'it''s' FROM t  ");
        assert_eq!(sqlite("x = :name AND y <> 'a\\'b'"), "x = :name AND y <> 'a''b'");
    }

    #[test]
    fn unclosed_strings_are_syntax_errors() {
        let err = tokenize("SELECT 'oops").expect_err("unclosed");
        assert!(err.message.starts_with("[PARSE_SYNTAX_ERROR]"), "{}", err.message);
    }
}
