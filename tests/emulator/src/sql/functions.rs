//! Databricks functions SQLite lacks, registered on the connection before each statement (some
//! depend on the statement's catalog, schema and user), and the keyword forms rewritten to them.

use rusqlite::{Connection, functions::FunctionFlags};

use super::{engine::Context, lexer::Tok};
use crate::clock::civil_from_epoch_ms;

/// `current_date()`, `current_timestamp()` and `now()` as calls to our own functions: SQLite's
/// `CURRENT_TIMESTAMP` keyword has a different format and takes no parentheses.
pub(crate) fn rewrite_keywords(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let replacement = match &toks[i] {
            Tok::Word(w) if w.eq_ignore_ascii_case("current_date") => Some("emu_current_date"),
            Tok::Word(w) if w.eq_ignore_ascii_case("current_timestamp") || w.eq_ignore_ascii_case("now") => {
                Some("emu_now")
            }
            _ => None,
        };
        let Some(name) = replacement else {
            out.push(toks[i].clone());
            i += 1;
            continue;
        };
        out.extend([Tok::Word(name.into()), Tok::Sym("(".into()), Tok::Sym(")".into())]);
        i += 1;
        // Drop the call's own `()` if it was written with them.
        if toks.get(i).is_some_and(|t| t.is_sym("(")) && toks.get(i + 1).is_some_and(|t| t.is_sym(")")) {
            i += 2;
        }
    }
    out
}

/// Registers the functions for one statement.
pub(crate) fn register(db: &Connection, ctx: &Context) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let (y, mo, d, h, mi, s) = civil_from_epoch_ms(ctx.now);
    let now = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", ctx.now % 1000);
    let today = format!("{y:04}-{mo:02}-{d:02}");
    for (name, value) in [
        ("current_user", ctx.user.clone()),
        ("session_user", ctx.user.clone()),
        ("current_catalog", ctx.catalog.clone()),
        ("current_schema", ctx.schema.clone()),
        ("current_database", ctx.schema.clone()),
        ("current_version", "emulator".to_owned()),
        ("emu_now", now),
        ("emu_current_date", today),
    ] {
        db.create_scalar_function(name, 0, flags, move |_| Ok(value.clone()))?;
    }
    // Date parts of ISO dates and timestamps (`2024-03-05`, `2024-03-05T10:00:00.000Z`).
    for (name, start, len) in [("year", 0, 4), ("month", 5, 2), ("day", 8, 2), ("hour", 11, 2), ("minute", 14, 2)] {
        db.create_scalar_function(name, 1, flags, move |c| {
            let text: Option<String> = c.get(0)?;
            Ok(text.and_then(|t| t.get(start..start + len).and_then(|p| p.parse::<i64>().ok())))
        })?;
    }
    db.create_scalar_function("quarter", 1, flags, |c| {
        let text: Option<String> = c.get(0)?;
        Ok(text.and_then(|t| t.get(5..7).and_then(|m| m.parse::<i64>().ok())).map(|m| (m - 1) / 3 + 1))
    })?;
    db.create_scalar_function("to_date", 1, flags, |c| {
        let text: Option<String> = c.get(0)?;
        Ok(text.and_then(|t| t.get(0..10).map(str::to_owned)))
    })?;
    Ok(())
}
