//! What a command "prints". SQL runs on the emulator's SQL engine over the Unity Catalog tables
//! and answers a `table` result (or the engine's error). Other languages run no code, so the
//! emulator answers only what it can honestly work out from the text: literal `print("...")`
//! output, trivial integer arithmetic, and an error result for a command that raises. Anything
//! else reports that the command ran.

use serde_json::{Value, json};

use crate::{sql::engine, unity::store::Unity};

/// The most rows a `table` result carries, as the service truncates at 1000 (`truncated: true`).
const MAX_TABLE_ROWS: usize = 1000;

/// Runs a SQL command as `user` in `main.default`: `(ok, results)`.
pub(crate) fn sql(unity: &mut Unity, command: &str, user: &str, now: u64) -> (bool, Value) {
    let context =
        engine::Context { catalog: "main".to_owned(), schema: "default".to_owned(), user: user.to_owned(), now };
    match engine::execute(unity, command.trim().trim_end_matches(';'), &context, &[]) {
        Ok(outcome) => {
            let schema: Vec<Value> = outcome
                .columns
                .iter()
                .map(|(name, ty)| json!({"name": name, "type": format!("\"{}\"", ty.text), "metadata": "{}"}))
                .collect();
            let truncated = outcome.rows.len() > MAX_TABLE_ROWS;
            let data: Vec<Value> = outcome.rows.into_iter().take(MAX_TABLE_ROWS).map(|row| json!(row)).collect();
            (
                true,
                json!({"resultType": "table", "data": data, "schema": schema, "truncated": truncated, "isJsonSchema": true}),
            )
        }
        Err(e) => (
            false,
            json!({"resultType": "error", "summary": e.message.lines().next().unwrap_or_default(), "cause": e.message}),
        ),
    }
}

/// The `results` object of a finished command.
pub(crate) fn results(language: &str, command: &str) -> (bool, Value) {
    if let Some(raised) = command.lines().map(str::trim).find_map(|l| l.strip_prefix("raise ")) {
        let summary = raised.trim().to_owned();
        let cause = format!(
            "---------------------------------------------------------------------------\n\
             Traceback (most recent call last)\nFile <command>, line 1\n----> {raised}\n\n{summary}"
        );
        return (false, json!({"resultType": "error", "summary": summary, "cause": cause}));
    }
    let data = match language {
        "python" => python_output(command),
        _ => String::new(),
    };
    let data =
        if data.is_empty() { format!("Command ran ({language}); the emulator computes no output.") } else { data };
    (true, json!({"resultType": "text", "data": data}))
}

fn python_output(command: &str) -> String {
    let trimmed = command.trim();
    if let Some(value) = arithmetic(trimmed) {
        return value.to_string();
    }
    let mut out = Vec::new();
    for line in command.lines().map(str::trim) {
        if let Some(arg) = line.strip_prefix("print(").and_then(|r| r.strip_suffix(')')) {
            let arg = arg.trim();
            if let Some(text) = quoted(arg) {
                out.push(text.to_owned());
            } else if let Some(value) = arithmetic(arg) {
                out.push(value.to_string());
            }
        }
    }
    out.join("\n")
}

fn quoted(s: &str) -> Option<&str> {
    ['"', '\''].iter().find_map(|q| s.strip_prefix(*q)?.strip_suffix(*q)).filter(|t| !t.contains(['"', '\'']))
}

/// `a op b` for integers and one of `+ - *`, and nothing more.
fn arithmetic(expr: &str) -> Option<i64> {
    for op in ['+', '-', '*'] {
        if let Some((a, b)) = expr.split_once(op) {
            let (a, b) = (a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?);
            return match op {
                '+' => a.checked_add(b),
                '-' => a.checked_sub(b),
                _ => a.checked_mul(b),
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trivial_python_is_evaluated() {
        assert_eq!(results("python", "1+1").1["data"], "2");
        assert_eq!(results("python", "print('hi')\nprint(\"there\")").1["data"], "hi\nthere");
        assert!(results("python", "df.count()").1["data"].as_str().is_some_and(|d| d.contains("computes no output")));
        let (ok, error) = results("python", "raise ValueError('bad')");
        assert!(!ok);
        assert_eq!(error["summary"], "ValueError('bad')");
    }
}
