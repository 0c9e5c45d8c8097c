//! Runs one Databricks SQL statement against the workspace's Unity Catalog.
//!
//! Catalog commands (`SHOW`, `DESCRIBE`, `CREATE`/`DROP` of catalogs, schemas, tables and views)
//! are carried out here on the Unity Catalog metadata, so SQL and the REST API see the same objects.
//! Everything else (queries and DML) is rewritten for SQLite and run there: table names, written
//! with one, two or three parts, become the SQLite table `"catalog.schema.table"`, resolved against
//! the statement's default catalog and schema.

use std::collections::BTreeSet;

use rusqlite::{ToSql, types::ValueRef};

use super::{
    functions,
    lexer::{Tok, quote_ident, tokenize},
};
use crate::unity::{
    store::{Column, Meta, Table, Unity, key3, sqlite_name, wildcard},
    types::DbType,
};

/// A SQL failure as the Statement Execution API reports it: `status.error` and `status.sql_state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlError {
    pub message: String,
    pub sql_state: &'static str,
}

impl SqlError {
    fn new(class: &str, text: &str, sql_state: &'static str) -> Self {
        SqlError { message: format!("[{class}] {text} SQLSTATE: {sql_state}"), sql_state }
    }

    pub fn syntax(text: &str) -> Self {
        Self::new("PARSE_SYNTAX_ERROR", &format!("Syntax error: {text}."), "42601")
    }

    fn table_not_found(parts: &[String]) -> Self {
        let name = parts.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(".");
        Self::new(
            "TABLE_OR_VIEW_NOT_FOUND",
            &format!(
                "The table or view {name} cannot be found. Verify the spelling and correctness of the schema and \
                 catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, or \
                 qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW \
                 IF EXISTS or DROP TABLE IF EXISTS."
            ),
            "42P01",
        )
    }

    fn schema_not_found(name: &str) -> Self {
        Self::new(
            "SCHEMA_NOT_FOUND",
            &format!(
                "The schema `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."
            ),
            "42704",
        )
    }

    fn from_api(e: crate::error::ApiError) -> Self {
        let state = match e.code {
            "CATALOG_DOES_NOT_EXIST" | "SCHEMA_DOES_NOT_EXIST" => "42704",
            "TABLE_DOES_NOT_EXIST" => "42P01",
            c if c.ends_with("ALREADY_EXISTS") => "42P07",
            c if c.ends_with("NOT_EMPTY") => "2BP01",
            _ => "42000",
        };
        Self::new(e.code, &e.message, state)
    }

    fn from_sqlite(e: &rusqlite::Error) -> Self {
        let text = match e {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            other => other.to_string(),
        };
        if let Some(col) = text.strip_prefix("no such column: ") {
            return Self::new(
                "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
                &format!("A column, variable, or function parameter with name `{col}` cannot be resolved."),
                "42703",
            );
        }
        if let Some(f) = text.strip_prefix("no such function: ") {
            return Self::new(
                "UNRESOLVED_ROUTINE",
                &format!("Cannot resolve routine `{f}` on search path [`system`.`builtin`, `system`.`session`]."),
                "42883",
            );
        }
        if let Some(t) = text.strip_prefix("no such table: ") {
            return Self::table_not_found(&[t.to_owned()]);
        }
        if let Some((near, _)) = text.strip_prefix("near ").and_then(|r| r.split_once(": syntax error")) {
            let near = near.trim_matches('"');
            return Self::new("PARSE_SYNTAX_ERROR", &format!("Syntax error at or near '{near}'."), "42601");
        }
        if text.starts_with("incomplete input") {
            return Self::new("PARSE_SYNTAX_ERROR", "Syntax error at or near end of input.", "42601");
        }
        Self::new("SQL_ERROR", &text, "42000")
    }
}

/// A named parameter of the statement (`:name` in the text).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct Param {
    pub name: String,
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// Where unqualified names resolve, and who is acting.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub catalog: String,
    pub schema: String,
    pub user: String,
    pub now: u64,
}

/// A statement's result: typed columns and rows of strings (nulls as `None`), as the API sends them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Outcome {
    pub columns: Vec<(String, DbType)>,
    pub rows: Vec<Vec<Option<String>>>,
}

type SqlResult<T> = Result<T, SqlError>;

/// Runs one statement.
pub(crate) fn execute(uc: &mut Unity, sql: &str, ctx: &Context, params: &[Param]) -> SqlResult<Outcome> {
    functions::register(&uc.db, ctx).map_err(|e| SqlError::from_sqlite(&e))?;
    let mut toks = functions::rewrite_keywords(tokenize(sql)?);
    // One statement per request; a trailing `;` is fine.
    while toks.last().is_some_and(|t| matches!(t, Tok::Space(_)) || t.is_sym(";")) {
        toks.pop();
    }
    if toks.iter().any(|t| t.is_sym(";")) {
        return Err(SqlError::syntax("only one statement can be executed per request"));
    }
    let sig: Vec<Tok> = toks.iter().filter(|t| !matches!(t, Tok::Space(_))).cloned().collect();
    let Some(first) = sig.first() else {
        return Err(SqlError::syntax("empty statement"));
    };
    let word =
        |i: usize| sig.get(i).and_then(|t| if let Tok::Word(w) = t { Some(w.to_ascii_uppercase()) } else { None });
    match first {
        t if t.is("SHOW") => show(uc, &sig, ctx),
        t if t.is("DESCRIBE") || t.is("DESC") => describe(uc, &sig, ctx),
        t if t.is("USE") => Ok(Outcome::default()),
        t if t.is("CREATE") => create(uc, &toks, &sig, ctx, params),
        t if t.is("DROP") => drop(uc, &sig, ctx),
        _ => {
            let dml = word(0).unwrap_or_default();
            run(uc, &toks, ctx, params, &dml)
        }
    }
}

/// Reads a dotted name starting at `sig[i]`; returns its parts and the index after it.
fn name_at(sig: &[Tok], mut i: usize) -> Option<(Vec<String>, usize)> {
    let mut parts = vec![sig.get(i)?.ident()?.to_owned()];
    i += 1;
    while sig.get(i).is_some_and(|t| t.is_sym(".")) {
        parts.push(sig.get(i + 1)?.ident()?.to_owned());
        i += 2;
    }
    Some((parts, i))
}

/// `(catalog, schema, table)` of a one-, two- or three-part table name.
fn qualify(parts: &[String], ctx: &Context) -> Option<(String, String, String)> {
    match parts {
        [t] => Some(key3(&ctx.catalog, &ctx.schema, t)),
        [s, t] => Some(key3(&ctx.catalog, s, t)),
        [c, s, t] => Some(key3(c, s, t)),
        _ => None,
    }
}

/// `(catalog, schema)` of a one- or two-part schema name.
fn qualify_schema(parts: &[String], ctx: &Context) -> Option<(String, String)> {
    match parts {
        [s] => Some((ctx.catalog.to_ascii_lowercase(), s.to_ascii_lowercase())),
        [c, s] => Some((c.to_ascii_lowercase(), s.to_ascii_lowercase())),
        _ => None,
    }
}

fn strings(columns: &[&str], rows: Vec<Vec<Option<String>>>) -> Outcome {
    Outcome { columns: columns.iter().map(|c| ((*c).to_owned(), DbType::string())).collect(), rows }
}

/// Spark's `LIKE` for `SHOW`: `*` matches anything, `|` separates alternatives, case-insensitive.
fn show_like(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|alt| wildcard(alt.trim(), name, b"*", None))
}

fn like_filter(sig: &[Tok], i: usize) -> Option<String> {
    let at = if sig.get(i).is_some_and(|t| t.is("LIKE")) { i + 1 } else { i };
    match sig.get(at) {
        Some(Tok::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn show(uc: &Unity, sig: &[Tok], ctx: &Context) -> SqlResult<Outcome> {
    let what = sig.get(1).and_then(Tok::ident).unwrap_or_default().to_ascii_uppercase();
    let scope = |i: usize| -> (Option<Vec<String>>, usize) {
        if sig.get(i).is_some_and(|t| t.is("IN") || t.is("FROM")) {
            match name_at(sig, i + 1) {
                Some((parts, next)) => (Some(parts), next),
                None => (None, i + 1),
            }
        } else {
            (None, i)
        }
    };
    match what.as_str() {
        "CATALOGS" => {
            let like = like_filter(sig, 2);
            let rows = uc
                .catalogs
                .keys()
                .filter(|c| like.as_deref().is_none_or(|p| show_like(p, c)))
                .map(|c| vec![Some(c.clone())])
                .collect();
            Ok(strings(&["catalog"], rows))
        }
        "SCHEMAS" | "DATABASES" => {
            let (scope, next) = scope(2);
            let catalog = match scope.as_deref() {
                None => ctx.catalog.to_ascii_lowercase(),
                Some([c]) => c.to_ascii_lowercase(),
                Some(_) => return Err(SqlError::syntax("SHOW SCHEMAS IN takes a catalog name")),
            };
            uc.catalog(&catalog).map_err(SqlError::from_api)?;
            let like = like_filter(sig, next);
            let rows = uc
                .schemas
                .keys()
                .filter(|(c, s)| *c == catalog && like.as_deref().is_none_or(|p| show_like(p, s)))
                .map(|(_, s)| vec![Some(s.clone())])
                .collect();
            Ok(strings(&["databaseName"], rows))
        }
        "TABLES" | "VIEWS" => {
            let (scope, next) = scope(2);
            let (catalog, schema) = match scope {
                None => (ctx.catalog.to_ascii_lowercase(), ctx.schema.to_ascii_lowercase()),
                Some(parts) => qualify_schema(&parts, ctx).ok_or_else(|| SqlError::syntax("bad schema name"))?,
            };
            if uc.schema(&catalog, &schema).is_err() {
                return Err(SqlError::schema_not_found(&format!("{catalog}.{schema}")));
            }
            let like = like_filter(sig, next);
            let views_only = what == "VIEWS";
            let rows = uc
                .tables
                .values()
                .filter(|t| t.catalog == catalog && t.schema == schema)
                .filter(|t| !views_only || t.table_type == "VIEW")
                .filter(|t| like.as_deref().is_none_or(|p| show_like(p, &t.name)))
                .map(|t| vec![Some(schema.clone()), Some(t.name.clone()), Some("false".into())])
                .collect();
            let mut out = strings(&["database", "tableName", "isTemporary"], rows);
            out.columns[2].1 = DbType::parse("boolean").unwrap_or_else(DbType::string);
            Ok(out)
        }
        _ => Err(SqlError::syntax(&format!("unsupported SHOW {what}"))),
    }
}

fn describe(uc: &Unity, sig: &[Tok], ctx: &Context) -> SqlResult<Outcome> {
    let mut i = 1;
    while sig.get(i).is_some_and(|t| t.is("TABLE") || t.is("EXTENDED") || t.is("FORMATTED")) {
        i += 1;
    }
    let (parts, _) = name_at(sig, i).ok_or_else(|| SqlError::syntax("DESCRIBE needs a table name"))?;
    let (c, s, t) = qualify(&parts, ctx).ok_or_else(|| SqlError::table_not_found(&parts))?;
    let table = uc.tables.get(&(c, s, t)).ok_or_else(|| SqlError::table_not_found(&parts))?;
    let rows = table
        .columns
        .iter()
        .map(|col| vec![Some(col.name.clone()), Some(col.type_text.clone()), col.comment.clone()])
        .collect();
    Ok(strings(&["col_name", "data_type", "comment"], rows))
}

fn drop(uc: &mut Unity, sig: &[Tok], ctx: &Context) -> SqlResult<Outcome> {
    let kind = sig.get(1).and_then(Tok::ident).unwrap_or_default().to_ascii_uppercase();
    let mut i = 2;
    let if_exists = sig.get(2).is_some_and(|t| t.is("IF")) && sig.get(3).is_some_and(|t| t.is("EXISTS"));
    if if_exists {
        i = 4;
    }
    let (parts, next) = name_at(sig, i).ok_or_else(|| SqlError::syntax(&format!("DROP {kind} needs a name")))?;
    let cascade = sig.get(next).is_some_and(|t| t.is("CASCADE"));
    let result = match kind.as_str() {
        "TABLE" | "VIEW" => {
            let (c, s, t) = qualify(&parts, ctx).ok_or_else(|| SqlError::table_not_found(&parts))?;
            if !uc.tables.contains_key(&(c.clone(), s.clone(), t.clone())) {
                return if if_exists { Ok(Outcome::default()) } else { Err(SqlError::table_not_found(&parts)) };
            }
            uc.drop_table(&c, &s, &t)
        }
        "SCHEMA" | "DATABASE" => {
            let (c, s) = qualify_schema(&parts, ctx).ok_or_else(|| SqlError::syntax("bad schema name"))?;
            if if_exists && uc.schema(&c, &s).is_err() {
                return Ok(Outcome::default());
            }
            uc.delete_schema(&c, &s, cascade)
        }
        "CATALOG" => {
            let [c] = parts.as_slice() else { return Err(SqlError::syntax("bad catalog name")) };
            if if_exists && uc.catalog(c).is_err() {
                return Ok(Outcome::default());
            }
            uc.delete_catalog(c, cascade)
        }
        _ => return Err(SqlError::syntax(&format!("unsupported DROP {kind}"))),
    };
    result.map(|()| Outcome::default()).map_err(SqlError::from_api)
}

fn create(uc: &mut Unity, toks: &[Tok], sig: &[Tok], ctx: &Context, params: &[Param]) -> SqlResult<Outcome> {
    let mut i = 1;
    let or_replace = sig.get(1).is_some_and(|t| t.is("OR")) && sig.get(2).is_some_and(|t| t.is("REPLACE"));
    if or_replace {
        i = 3;
    }
    let kind = sig.get(i).and_then(Tok::ident).unwrap_or_default().to_ascii_uppercase();
    i += 1;
    let if_not_exists = sig.get(i).is_some_and(|t| t.is("IF")) && sig.get(i + 2).is_some_and(|t| t.is("EXISTS"));
    if if_not_exists {
        i += 3;
    }
    let (parts, next) = name_at(sig, i).ok_or_else(|| SqlError::syntax(&format!("CREATE {kind} needs a name")))?;
    // The object's own COMMENT comes after a column list, whose columns may have comments too.
    let own_clauses = if sig.get(next).is_some_and(|t| t.is_sym("(")) { matching_paren(sig, next) + 1 } else { next };
    let comment = sig[own_clauses.min(sig.len())..].windows(2).find(|w| w[0].is("COMMENT")).and_then(|w| match &w[1] {
        Tok::Str(s) => Some(s.clone()),
        _ => None,
    });
    let done = |r: Result<(), crate::error::ApiError>| r.map(|()| Outcome::default()).map_err(SqlError::from_api);
    match kind.as_str() {
        "CATALOG" => {
            let [c] = parts.as_slice() else { return Err(SqlError::syntax("bad catalog name")) };
            if if_not_exists && uc.catalog(c).is_ok() {
                return Ok(Outcome::default());
            }
            done(uc.create_catalog(c, comment, &ctx.user, ctx.now).map(|_| ()))
        }
        "SCHEMA" | "DATABASE" => {
            let (c, s) = qualify_schema(&parts, ctx).ok_or_else(|| SqlError::syntax("bad schema name"))?;
            if if_not_exists && uc.schema(&c, &s).is_ok() {
                return Ok(Outcome::default());
            }
            done(uc.create_schema(&c, &s, comment, &ctx.user, ctx.now).map(|_| ()))
        }
        "TABLE" | "VIEW" => {
            let (c, s, t) = qualify(&parts, ctx).ok_or_else(|| SqlError::syntax("bad table name"))?;
            uc.schema(&c, &s).map_err(|_| SqlError::schema_not_found(&format!("{c}.{s}")))?;
            if uc.tables.contains_key(&(c.clone(), s.clone(), t.clone())) {
                if if_not_exists {
                    return Ok(Outcome::default());
                }
                if or_replace {
                    uc.drop_table(&c, &s, &t).map_err(SqlError::from_api)?;
                }
            }
            let as_at = sig.iter().position(|t| t.is("AS")).filter(|&a| a >= next);
            let table = Table {
                catalog: c.clone(),
                schema: s.clone(),
                name: t.clone(),
                meta: Meta::new(&ctx.user, comment, ctx.now, &format!("table:{c}.{s}.{t}:{}", ctx.now)),
                table_type: if kind == "VIEW" { "VIEW" } else { "MANAGED" },
                view_definition: None,
                columns: Vec::new(),
            };
            let target = sqlite_name(&c, &s, &t);
            match as_at {
                Some(a) => {
                    // `... AS query`: the columns are the query's.
                    let query_toks = after_nth_significant(toks, a + 1);
                    let query_text: String = query_toks.iter().map(Tok::sqlite).collect::<String>().trim().to_owned();
                    let rewritten = rewrite(uc, query_toks, ctx, "SELECT")?;
                    let probe = query(uc, &rewritten, params)?;
                    let columns: Vec<Column> = probe
                        .columns
                        .iter()
                        .map(|(name, ty)| Column {
                            name: name.clone(),
                            type_text: ty.text.clone(),
                            nullable: true,
                            comment: None,
                        })
                        .collect();
                    let ddl = if kind == "VIEW" {
                        format!("CREATE VIEW {target} AS {rewritten}")
                    } else {
                        let defs: Vec<String> = probe
                            .columns
                            .iter()
                            .map(|(n, ty)| format!("{} {}", quote_ident(n), ty.sqlite_decl()))
                            .collect();
                        format!("CREATE TABLE {target} ({})", defs.join(", "))
                    };
                    let lineage_query = query_text.clone();
                    let view_definition = (kind == "VIEW").then_some(query_text);
                    done(uc.create_table(Table { columns, view_definition, ..table }, &ddl))?;
                    uc.record_query_lineage(&(c, s, t), &lineage_query, &ctx.catalog, &ctx.schema, ctx.now);
                    if kind == "TABLE" {
                        let mut stmt = uc
                            .db
                            .prepare(&format!("INSERT INTO {target} {rewritten}"))
                            .map_err(|e| SqlError::from_sqlite(&e))?;
                        bind(&mut stmt, params)?;
                        stmt.raw_execute().map_err(|e| SqlError::from_sqlite(&e))?;
                    }
                    Ok(Outcome::default())
                }
                None if kind == "TABLE" => {
                    let columns = column_defs(sig, next)?;
                    let defs: Vec<String> = columns
                        .iter()
                        .map(|col| {
                            let ty = DbType::parse(&col.type_text).unwrap_or_else(DbType::string);
                            let null = if col.nullable { "" } else { " NOT NULL" };
                            format!("{} {}{null}", quote_ident(&col.name), ty.sqlite_decl())
                        })
                        .collect();
                    let ddl = format!("CREATE TABLE {target} ({})", defs.join(", "));
                    done(uc.create_table(Table { columns, ..table }, &ddl))
                }
                None => Err(SqlError::syntax("CREATE VIEW needs AS followed by a query")),
            }
        }
        _ => Err(SqlError::syntax(&format!("unsupported CREATE {kind}"))),
    }
}

/// The index of the `)` closing the `(` at `sig[open]` (or the end).
fn matching_paren(sig: &[Tok], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in sig.iter().enumerate().skip(open) {
        if t.is_sym("(") {
            depth += 1;
        } else if t.is_sym(")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return i;
            }
        }
    }
    sig.len()
}

/// The tokens after the `n`-th significant token (0-based), whitespace included.
fn after_nth_significant(toks: &[Tok], n: usize) -> &[Tok] {
    let mut seen = 0;
    for (i, t) in toks.iter().enumerate() {
        if !matches!(t, Tok::Space(_)) {
            if seen == n {
                return &toks[i..];
            }
            seen += 1;
        }
    }
    &[]
}

/// Parses `(name TYPE [NOT NULL] [COMMENT '...'], ...)` at `sig[i]`.
fn column_defs(sig: &[Tok], i: usize) -> SqlResult<Vec<Column>> {
    if !sig.get(i).is_some_and(|t| t.is_sym("(")) {
        return Err(SqlError::syntax("CREATE TABLE needs a column list or AS query"));
    }
    let mut depth = 0usize;
    let mut defs: Vec<Vec<&Tok>> = vec![Vec::new()];
    for t in &sig[i + 1..] {
        match t {
            Tok::Sym(s) if s == "(" => depth += 1,
            Tok::Sym(s) if s == ")" && depth == 0 => break,
            Tok::Sym(s) if s == ")" => depth -= 1,
            Tok::Sym(s) if s == "," && depth == 0 => {
                defs.push(Vec::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = defs.last_mut() {
            last.push(t);
        }
    }
    let mut columns = Vec::new();
    for def in defs {
        let Some(name) = def.first().and_then(|t| t.ident()) else {
            return Err(SqlError::syntax("a column definition needs a name"));
        };
        if ["CONSTRAINT", "PRIMARY", "FOREIGN"].iter().any(|k| def[0].is(k)) && matches!(def[0], Tok::Word(_)) {
            continue;
        }
        let stop = ["NOT", "COMMENT", "DEFAULT", "GENERATED", "PRIMARY", "NULL"];
        let end = def.iter().skip(1).position(|t| stop.iter().any(|k| t.is(k))).map_or(def.len(), |p| p + 1);
        let type_sql: String = def[1..end].iter().map(|t| t.sqlite()).collect();
        let ty = DbType::parse(&type_sql).ok_or_else(|| {
            SqlError::new(
                "UNSUPPORTED_DATATYPE",
                &format!("Unsupported data type \"{}\" for column `{name}`.", type_sql.to_ascii_uppercase()),
                "0A000",
            )
        })?;
        let nullable = !def.windows(2).any(|w| w[0].is("NOT") && w[1].is("NULL"));
        let comment = def.windows(2).find(|w| w[0].is("COMMENT")).and_then(|w| match w[1] {
            Tok::Str(s) => Some(s.clone()),
            _ => None,
        });
        columns.push(Column { name: name.to_owned(), type_text: ty.text, nullable, comment });
    }
    if columns.is_empty() {
        return Err(SqlError::syntax("CREATE TABLE needs at least one column"));
    }
    Ok(columns)
}

/// Keywords after which a name is a table.
const TABLE_POSITION: &[&str] = &["FROM", "JOIN", "INTO", "UPDATE", "TABLE"];
/// Keywords that end a `FROM` list.
const END_OF_FROM: &[&str] = &[
    "WHERE",
    "GROUP",
    "ORDER",
    "LIMIT",
    "HAVING",
    "ON",
    "USING",
    "SET",
    "VALUES",
    "SELECT",
    "UNION",
    "WINDOW",
    "EXCEPT",
    "INTERSECT",
    "QUALIFY",
    "OFFSET",
];
/// Words after a table name that are not its alias.
const NOT_ALIAS: &[&str] = &[
    "WHERE",
    "GROUP",
    "ORDER",
    "LIMIT",
    "HAVING",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "FULL",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "WINDOW",
    "SET",
    "VALUES",
    "SELECT",
    "RETURNING",
    "QUALIFY",
    "OFFSET",
    "DEFAULT",
];

/// Rewrites table names for SQLite. `verb` is the statement's first keyword (DELETE tables take no alias).
fn rewrite(uc: &Unity, toks: &[Tok], ctx: &Context, verb: &str) -> SqlResult<String> {
    let sig: Vec<(usize, &Tok)> = toks.iter().enumerate().filter(|(_, t)| !matches!(t, Tok::Space(_))).collect();
    // Names defined by `WITH name AS (` are not catalog tables.
    let ctes: BTreeSet<String> = sig
        .windows(3)
        .filter(|w| w[1].1.is("AS") && w[2].1.is_sym("("))
        .filter_map(|w| w[0].1.ident().map(str::to_ascii_lowercase))
        .collect();
    let mut out = String::new();
    let mut replaced_until = 0usize; // index into `toks` before which output is done
    let mut in_from = false;
    let mut stack = Vec::new();
    let sig_toks: Vec<Tok> = sig.iter().map(|(_, t)| (*t).clone()).collect();
    let mut prev: Option<&Tok> = None;
    let mut k = 0;
    while k < sig.len() {
        let (pos, tok) = sig[k];
        if tok.is_sym("(") {
            stack.push(in_from);
            in_from = false;
        } else if tok.is_sym(")") {
            in_from = stack.pop().unwrap_or(false);
        }
        let table_pos = prev.is_some_and(|p| TABLE_POSITION.iter().any(|kw| p.is(kw)) || (p.is_sym(",") && in_from));
        let after_dot = prev.is_some_and(|p| p.is_sym("."));
        if tok.ident().is_some()
            && !after_dot
            && let Some((parts, end)) = name_at(&sig_toks, k)
        {
            let len = end - k;
            let is_keyword_start = matches!(tok, Tok::Word(w) if ["SELECT", "VALUES", "LATERAL", "TABLE"].iter().any(|k| w.eq_ignore_ascii_case(k)));
            let found = qualify(&parts, ctx).filter(|key| uc.tables.contains_key(key));
            let candidate = if table_pos && !is_keyword_start {
                if parts.len() == 1 && ctes.contains(&parts[0].to_ascii_lowercase()) {
                    None
                } else {
                    Some(found.ok_or_else(|| SqlError::table_not_found(&parts))?)
                }
            } else if parts.len() >= 2 {
                found
            } else {
                None
            };
            if let Some((c, s, t)) = candidate {
                let last = sig[k + len - 1].0;
                out.extend(toks[replaced_until..pos].iter().map(Tok::sqlite));
                out.push_str(&sqlite_name(&c, &s, &t));
                let next = sig.get(k + len).map(|(_, t)| *t);
                let has_alias = next.is_some_and(|n| {
                    n.is("AS")
                        || matches!(n, Tok::Quoted(_))
                        || matches!(n, Tok::Word(w) if !NOT_ALIAS.iter().any(|k| w.eq_ignore_ascii_case(k)))
                });
                let aliasable = prev.is_some_and(|p| p.is("FROM") || p.is("JOIN") || p.is_sym(",")) && verb != "DELETE";
                if aliasable && !has_alias {
                    out.push_str(&format!(" AS {}", quote_ident(&t)));
                }
                replaced_until = last + 1;
                prev = Some(sig[k + len - 1].1);
                k += len;
                continue;
            }
        }
        if let Tok::Word(w) = tok {
            if w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("JOIN") {
                in_from = true;
            } else if END_OF_FROM.iter().any(|kw| w.eq_ignore_ascii_case(kw)) {
                in_from = false;
            }
        }
        prev = Some(tok);
        k += 1;
    }
    out.extend(toks[replaced_until..].iter().map(Tok::sqlite));
    Ok(out)
}

/// Binds the statement's named parameters by their declared type.
fn bind(stmt: &mut rusqlite::Statement<'_>, params: &[Param]) -> SqlResult<()> {
    for i in 1..=stmt.parameter_count() {
        let Some(marker) = stmt.parameter_name(i).map(str::to_owned) else {
            return Err(SqlError::new(
                "UNBOUND_SQL_PARAMETER",
                "Positional parameters are not supported; use :name.",
                "42P02",
            ));
        };
        let name = marker.trim_start_matches([':', '@', '$']);
        let param = params.iter().find(|p| p.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
            SqlError::new("UNBOUND_SQL_PARAMETER", &format!("Found the unbound parameter: {name}."), "42P02")
        })?;
        let ty = param.type_.as_deref().map(str::to_ascii_uppercase).unwrap_or_else(|| "STRING".into());
        let bad = || {
            SqlError::new("INVALID_PARAMETER_MARKER_VALUE", &format!("Parameter {name} is not a valid {ty}."), "22023")
        };
        let value: Box<dyn ToSql> = match (&param.value, ty.split('(').next().unwrap_or_default()) {
            (None, _) => Box::new(rusqlite::types::Null),
            (Some(v), "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "LONG") => {
                Box::new(v.trim().parse::<i64>().map_err(|_| bad())?)
            }
            (Some(v), "DOUBLE" | "FLOAT" | "DECIMAL" | "REAL") => Box::new(v.trim().parse::<f64>().map_err(|_| bad())?),
            (Some(v), "BOOLEAN") => Box::new(match v.trim().to_ascii_lowercase().as_str() {
                "true" => 1,
                "false" => 0,
                _ => return Err(bad()),
            }),
            (Some(v), _) => Box::new(v.clone()),
        };
        stmt.raw_bind_parameter(i, value).map_err(|e| SqlError::from_sqlite(&e))?;
    }
    Ok(())
}

/// Runs a query or DML statement through SQLite.
fn run(uc: &mut Unity, toks: &[Tok], ctx: &Context, params: &[Param], verb: &str) -> SqlResult<Outcome> {
    let sql = rewrite(uc, toks, ctx, verb)?;
    let mut stmt = uc.db.prepare(&sql).map_err(|e| SqlError::from_sqlite(&e))?;
    if stmt.column_count() > 0 {
        drop_stmt(stmt);
        return query(uc, &sql, params);
    }
    bind(&mut stmt, params)?;
    let changed = stmt.raw_execute().map_err(|e| SqlError::from_sqlite(&e))?;
    let count = Some(changed.to_string());
    Ok(match verb {
        "INSERT" => Outcome {
            columns: vec![
                ("num_affected_rows".into(), DbType::bigint()),
                ("num_inserted_rows".into(), DbType::bigint()),
            ],
            rows: vec![vec![count.clone(), count]],
        },
        "UPDATE" | "DELETE" | "MERGE" => {
            Outcome { columns: vec![("num_affected_rows".into(), DbType::bigint())], rows: vec![vec![count]] }
        }
        _ => Outcome::default(),
    })
}

fn drop_stmt(_stmt: rusqlite::Statement<'_>) {}

/// Runs rewritten SQL that returns rows, typing each column from its declaration or, for
/// computed columns, from its first non-null value.
fn query(uc: &Unity, sql: &str, params: &[Param]) -> SqlResult<Outcome> {
    let mut stmt = uc.db.prepare(sql).map_err(|e| SqlError::from_sqlite(&e))?;
    bind(&mut stmt, params)?;
    let decls: Vec<(String, Option<DbType>)> =
        stmt.columns().iter().map(|c| (c.name().to_owned(), c.decl_type().map(DbType::from_sqlite))).collect();
    let mut inferred: Vec<Option<DbType>> = decls.iter().map(|(_, t)| t.clone()).collect();
    let mut raw_rows: Vec<Vec<rusqlite::types::Value>> = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(|e| SqlError::from_sqlite(&e))? {
        let mut values = Vec::with_capacity(decls.len());
        for (i, slot) in inferred.iter_mut().enumerate() {
            let v = row.get_ref(i).map_err(|e| SqlError::from_sqlite(&e))?;
            if slot.is_none() {
                *slot = match v {
                    ValueRef::Integer(_) => Some(DbType::bigint()),
                    ValueRef::Real(_) => Some(DbType::double()),
                    ValueRef::Text(_) | ValueRef::Blob(_) => Some(DbType::string()),
                    ValueRef::Null => None,
                };
            }
            values.push(v.into());
        }
        raw_rows.push(values);
    }
    let columns: Vec<(String, DbType)> =
        decls.into_iter().zip(inferred).map(|((name, _), ty)| (name, ty.unwrap_or_else(DbType::string))).collect();
    let rows = raw_rows
        .into_iter()
        .map(|values| values.iter().zip(&columns).map(|(v, (_, ty))| render(v, ty)).collect())
        .collect();
    Ok(Outcome { columns, rows })
}

/// A value as the JSON_ARRAY format sends it: a string, or `None` for SQL NULL.
fn render(v: &rusqlite::types::Value, ty: &DbType) -> Option<String> {
    use rusqlite::types::Value;
    match v {
        Value::Null => None,
        Value::Integer(i) if ty.name == "BOOLEAN" => Some((*i != 0).to_string()),
        Value::Integer(i) => match ty.decimal_scale() {
            Some(scale) if scale > 0 => Some(format!("{i}.{}", "0".repeat(scale))),
            _ if matches!(ty.name, "DOUBLE" | "FLOAT") => Some(format!("{i}.0")),
            _ => Some(i.to_string()),
        },
        Value::Real(f) => match ty.decimal_scale() {
            Some(scale) => Some(format!("{f:.scale$}")),
            None => Some(format_double(*f)),
        },
        Value::Text(s) => Some(s.clone()),
        Value::Blob(b) => Some(b.iter().map(|x| format!("{x:02x}")).collect()),
    }
}

/// A double with at most 15 significant digits, so sums of decimals read `17377.56` rather than
/// `17377.559999999998`; whole numbers keep one decimal (`3.0`), as Databricks prints them.
fn format_double(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f.abs() >= 1e15 || (f != 0.0 && f.abs() < 1e-6) {
        return format!("{f:E}");
    }
    let whole_digits = if f.abs() < 1.0 { 1 } else { f.abs().log10().floor() as usize + 1 };
    let decimals = 15usize.saturating_sub(whole_digits);
    let text = format!("{f:.decimals$}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    let trimmed = if trimmed == "-0" { "0" } else { trimmed };
    if trimmed.contains('.') { trimmed.to_owned() } else { format!("{trimmed}.0") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_without_float_noise() {
        assert_eq!(format_double(17377.559999999998), "17377.56");
        assert_eq!(format_double(0.1 + 0.2), "0.3");
        assert_eq!(format_double(3.0), "3.0");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(28.275), "28.275");
        assert_eq!(format_double(0.0), "0.0");
    }

    fn setup() -> (Unity, Context) {
        let mut uc = Unity::default();
        uc.create_catalog("main", None, "u", 1).expect("catalog");
        uc.create_schema("main", "default", None, "u", 1).expect("schema");
        let ctx = Context { catalog: "main".into(), schema: "default".into(), user: "u".into(), now: 1 };
        (uc, ctx)
    }

    fn sql(uc: &mut Unity, ctx: &Context, text: &str) -> Outcome {
        execute(uc, text, ctx, &[]).unwrap_or_else(|e| panic!("{text}: {}", e.message))
    }

    #[test]
    fn names_with_one_two_or_three_parts_resolve() {
        let (mut uc, ctx) = setup();
        sql(&mut uc, &ctx, "CREATE TABLE t (id INT NOT NULL, amount DECIMAL(10,2) COMMENT 'money', ok BOOLEAN)");
        sql(&mut uc, &ctx, "INSERT INTO main.default.t VALUES (1, 2.5, true), (2, 3, false)");
        let out = sql(&mut uc, &ctx, "SELECT t.id, amount, ok FROM default.t WHERE id >= 1 ORDER BY id");
        assert_eq!(out.rows[0], vec![Some("1".into()), Some("2.50".into()), Some("true".into())]);
        assert_eq!(out.columns[1].1.text, "decimal(10,2)");
        let joined = sql(&mut uc, &ctx, "SELECT count(*) AS n FROM t a JOIN main.default.t b ON a.id = b.id");
        assert_eq!(joined.rows, vec![vec![Some("2".into())]]);
        assert_eq!(joined.columns[0].1.name, "LONG");
    }

    #[test]
    fn missing_tables_fail_like_databricks() {
        let (mut uc, ctx) = setup();
        let err = execute(&mut uc, "SELECT * FROM nope", &ctx, &[]).expect_err("no table");
        assert!(err.message.starts_with("[TABLE_OR_VIEW_NOT_FOUND] The table or view `nope`"), "{}", err.message);
        assert_eq!(err.sql_state, "42P01");
    }

    #[test]
    fn ctes_and_ctas_work() {
        let (mut uc, ctx) = setup();
        sql(&mut uc, &ctx, "CREATE TABLE t (id BIGINT, name STRING)");
        sql(&mut uc, &ctx, "INSERT INTO t VALUES (1, '007'), (2, \"b\")");
        let out = sql(&mut uc, &ctx, "WITH x AS (SELECT * FROM t) SELECT name FROM x ORDER BY id");
        assert_eq!(out.rows, vec![vec![Some("007".into())], vec![Some("b".into())]]);
        sql(&mut uc, &ctx, "CREATE TABLE copy AS SELECT id, name FROM t WHERE id = 2");
        assert_eq!(uc.tables[&key3("main", "default", "copy")].columns[0].type_text, "bigint");
        let show = sql(&mut uc, &ctx, "SHOW TABLES IN main.default LIKE 'c*'");
        assert_eq!(show.rows, vec![vec![Some("default".into()), Some("copy".into()), Some("false".into())]]);
    }

    #[test]
    fn databricks_functions_are_available() {
        let (mut uc, ctx) = setup();
        let out =
            sql(&mut uc, &ctx, "SELECT current_user(), current_catalog(), year('2024-03-05'), quarter('2024-08-01')");
        assert_eq!(out.rows[0], vec![Some("u".into()), Some("main".into()), Some("2024".into()), Some("3".into())]);
        let now = sql(&mut uc, &ctx, "SELECT current_timestamp(), current_date");
        assert_eq!(now.rows[0][0].as_deref().map(str::len), Some(24));
        assert_eq!(now.rows[0][1].as_deref().map(str::len), Some(10));
    }

    #[test]
    fn named_parameters_bind_by_type() {
        let (mut uc, ctx) = setup();
        let params = vec![Param { name: "n".into(), value: Some("41".into()), type_: Some("INT".into()) }];
        let out = execute(&mut uc, "SELECT :n + 1 AS answer", &ctx, &params).expect("runs");
        assert_eq!(out.rows, vec![vec![Some("42".into())]]);
        let err = execute(&mut uc, "SELECT :missing", &ctx, &[]).expect_err("unbound");
        assert!(err.message.contains("UNBOUND_SQL_PARAMETER"));
    }
}
