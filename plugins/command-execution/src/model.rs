//! The command execution API's answers (camelCase on the wire), and how a result reads.

use databricks_mcp_sdk::prelude::*;

/// `GET /api/1.2/commands/status`.
#[schema]
#[derive(Debug, Clone)]
pub struct CommandStatus {
    /// The command id.
    pub id: String,
    /// `Queued`, `Running`, `Cancelling`, `Finished`, `Cancelled` or `Error`.
    pub status: String,
    /// The results, once the command is over.
    #[serde(default)]
    pub results: Option<Value>,
}

impl CommandStatus {
    pub fn is_over(&self) -> bool {
        matches!(self.status.as_str(), "Finished" | "Error" | "Cancelled")
    }
}

/// A table a command returned.
#[schema]
#[derive(Debug, Clone)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Column types as the cluster reports them.
    pub types: Vec<String>,
    /// The rows, as the cluster returned them.
    pub rows: Vec<Value>,
    /// Whether the cluster cut the table.
    pub truncated: bool,
}

/// What a finished command produced.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `text`, `table`, `image`, `images` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<String>,
    /// Printed output, for `text` results (cut at `max_chars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The table, for `table` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    /// The error's one-line summary, for `error` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error's cause (stack trace), cut at `max_chars`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_trace: Option<String>,
    /// Whether `output` or `error_trace` was cut.
    #[serde(default)]
    pub cut: bool,
}

/// Removes ANSI colour codes, which Python tracebacks from clusters are full of.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first `max` characters of `text` (the end, for a stack trace, where the cause is).
fn cut(text: &str, max: usize, keep_end: bool) -> (String, bool) {
    let count = text.chars().count();
    if count <= max {
        return (text.to_string(), false);
    }
    let kept: String =
        if keep_end { text.chars().skip(count - max).collect() } else { text.chars().take(max).collect() };
    (kept, true)
}

impl Outcome {
    /// Reads the `results` of a finished command.
    pub fn from_results(results: &Value, max_chars: usize) -> Outcome {
        let kind = results.get("resultType").and_then(Value::as_str).unwrap_or("text").to_string();
        let mut outcome = Outcome { result_type: Some(kind.clone()), ..Outcome::default() };
        match kind.as_str() {
            "error" => {
                outcome.error = results.get("summary").and_then(Value::as_str).map(strip_ansi);
                if let Some(cause) = results.get("cause").and_then(Value::as_str) {
                    let (trace, was_cut) = cut(&strip_ansi(cause), max_chars, true);
                    outcome.error_trace = Some(trace);
                    outcome.cut = was_cut;
                }
            }
            "table" => {
                let schema = results.get("schema").and_then(Value::as_array).cloned().unwrap_or_default();
                let field =
                    |c: &Value, k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").trim_matches('"').to_string();
                outcome.table = Some(Table {
                    columns: schema.iter().map(|c| field(c, "name")).collect(),
                    types: schema.iter().map(|c| field(c, "type")).collect(),
                    rows: results.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
                    truncated: results.get("truncated").and_then(Value::as_bool).unwrap_or(false),
                });
            }
            "image" | "images" => {
                let names =
                    results.get("fileNames").or_else(|| results.get("fileName")).cloned().unwrap_or(Value::Null);
                outcome.output = Some(format!("The command produced an image ({names}); images are not shown here."));
            }
            _ => {
                let data = match results.get("data") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let (text, was_cut) = cut(&strip_ansi(&data), max_chars, false);
                outcome.output = Some(text);
                outcome.cut = was_cut;
            }
        }
        outcome
    }

    /// The text a model reads: the output, the table (at most `max_rows` rows), or the error.
    pub fn text(&self, max_rows: usize) -> String {
        if let Some(error) = &self.error {
            let mut text = format!("Error: {error}");
            if let Some(trace) = self.error_trace.as_ref().filter(|t| t.trim() != error.trim()) {
                text.push_str(&format!("\n{}{trace}", if self.cut { "...\n" } else { "" }));
            }
            return text;
        }
        if let Some(table) = &self.table {
            let mut lines = vec![table.columns.join(" | ")];
            for row in table.rows.iter().take(max_rows) {
                let cells: Vec<String> = match row {
                    Value::Array(cells) => cells
                        .iter()
                        .map(|c| match c {
                            Value::String(s) => s.clone(),
                            Value::Null => "NULL".into(),
                            other => other.to_string(),
                        })
                        .collect(),
                    other => vec![other.to_string()],
                };
                lines.push(cells.join(" | "));
            }
            let shown = table.rows.len().min(max_rows);
            lines.push(format!(
                "({} row{}{}{})",
                table.rows.len(),
                if table.rows.len() == 1 { "" } else { "s" },
                if shown < table.rows.len() {
                    format!(", {shown} shown; all are in the structured result")
                } else {
                    String::new()
                },
                if table.truncated { ", cut by the cluster" } else { "" }
            ));
            return lines.join("\n");
        }
        let output = self.output.clone().unwrap_or_default();
        let output = if output.is_empty() { "(no output)".to_string() } else { output };
        if self.cut { format!("{output}\n... (output cut; raise max_chars to see more)") } else { output }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_tables_and_errors() {
        let text = Outcome::from_results(&json!({"resultType": "text", "data": "hello world"}), 5);
        assert_eq!((text.output.as_deref(), text.cut), (Some("hello"), true));
        let error = Outcome::from_results(
            &json!({"resultType": "error", "summary": "\u{1b}[0;31mValueError\u{1b}[0m: bad", "cause": "Traceback\nValueError: bad"}),
            100,
        );
        assert_eq!(error.error.as_deref(), Some("ValueError: bad"));
        let table = Outcome::from_results(
            &json!({"resultType": "table", "data": [[1, "a"], [2, null]], "schema": [{"name": "id", "type": "\"long\""}, {"name": "v", "type": "\"string\""}]}),
            100,
        );
        assert_eq!(table.text(1), "id | v\n1 | a\n(2 rows, 1 shown; all are in the structured result)");
        assert_eq!(table.table.unwrap().types, ["long", "string"]);
    }
}
