//! Databricks column types: how a type written in SQL is spelled in Unity Catalog (`type_text`,
//! `type_name`), in the Statement Execution manifest, and declared in SQLite.
//!
//! The SQLite declaration is chosen for its type affinity (SQLite looks for `INT`, `TEXT`, `REAL`,
//! ... inside the declared name) and so that a result column's declared type maps back to the
//! Databricks type: `STRING` is declared `TEXT` because a bare `STRING` would get numeric affinity
//! and turn `'007'` into `7`.

/// A column type in Databricks terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbType {
    /// Lower case, as Unity Catalog shows it: `bigint`, `decimal(10,2)`.
    pub text: String,
    /// The `ColumnTypeName` enum value: `LONG`, `DECIMAL`.
    pub name: &'static str,
}

impl DbType {
    /// Parses a SQL type (`STRING`, `Int`, `DECIMAL(10, 2)`, `varchar(20)`); `None` if unsupported.
    pub fn parse(sql: &str) -> Option<DbType> {
        let compact: String = sql.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        let (base, args) = match compact.split_once('(') {
            Some((base, rest)) => (base.to_owned(), Some(rest.strip_suffix(')')?.to_owned())),
            None => (compact.clone(), None),
        };
        let (text, name) = match (base.as_str(), args) {
            ("string" | "varchar" | "char" | "text", _) => ("string".to_owned(), "STRING"),
            ("int" | "integer", None) => ("int".to_owned(), "INT"),
            ("bigint" | "long", None) => ("bigint".to_owned(), "LONG"),
            ("smallint" | "short", None) => ("smallint".to_owned(), "SHORT"),
            ("tinyint" | "byte", None) => ("tinyint".to_owned(), "BYTE"),
            ("double", None) => ("double".to_owned(), "DOUBLE"),
            ("float" | "real", None) => ("float".to_owned(), "FLOAT"),
            ("boolean" | "bool", None) => ("boolean".to_owned(), "BOOLEAN"),
            ("date", None) => ("date".to_owned(), "DATE"),
            ("timestamp", None) => ("timestamp".to_owned(), "TIMESTAMP"),
            ("timestamp_ntz", None) => ("timestamp_ntz".to_owned(), "TIMESTAMP_NTZ"),
            ("binary", None) => ("binary".to_owned(), "BINARY"),
            ("decimal" | "numeric" | "dec", None) => ("decimal(10,0)".to_owned(), "DECIMAL"),
            ("decimal" | "numeric" | "dec", Some(args)) => {
                let (p, s) = args.split_once(',').unwrap_or((args.as_str(), "0"));
                let (p, s): (u32, u32) = (p.parse().ok()?, s.parse().ok()?);
                if p == 0 || p > 38 || s > p {
                    return None;
                }
                (format!("decimal({p},{s})"), "DECIMAL")
            }
            _ => return None,
        };
        Some(DbType { text, name })
    }

    /// The declaration SQLite stores; [`DbType::from_sqlite`] reads it back.
    pub fn sqlite_decl(&self) -> String {
        match self.name {
            "STRING" => "TEXT".to_owned(),
            _ => self.text.to_ascii_uppercase(),
        }
    }

    /// The type behind a SQLite declared type, as written by [`DbType::sqlite_decl`] (or SQLite's own
    /// `INT`, `REAL`, `NUM` for `CREATE TABLE ... AS`).
    pub fn from_sqlite(decl: &str) -> DbType {
        match decl.to_ascii_uppercase().as_str() {
            "TEXT" | "" => Self::string(),
            "REAL" => DbType { text: "double".into(), name: "DOUBLE" },
            "NUM" => DbType { text: "decimal(38,18)".into(), name: "DECIMAL" },
            "INT" => DbType { text: "int".into(), name: "INT" },
            other => Self::parse(other).unwrap_or_else(Self::string),
        }
    }

    pub fn string() -> DbType {
        DbType { text: "string".into(), name: "STRING" }
    }

    pub fn bigint() -> DbType {
        DbType { text: "bigint".into(), name: "LONG" }
    }

    pub fn double() -> DbType {
        DbType { text: "double".into(), name: "DOUBLE" }
    }

    /// The scale of a decimal type, for rendering `12.5` as `12.50`.
    pub fn decimal_scale(&self) -> Option<usize> {
        let args = self.text.strip_prefix("decimal(")?.strip_suffix(')')?;
        args.split_once(',')?.1.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_into_unity_catalog_spelling() {
        let t = DbType::parse("DECIMAL(10, 2)").expect("decimal");
        assert_eq!((t.text.as_str(), t.name), ("decimal(10,2)", "DECIMAL"));
        assert_eq!(t.decimal_scale(), Some(2));
        assert_eq!(DbType::parse("BIGINT").map(|t| t.name), Some("LONG"));
        assert_eq!(DbType::parse("varchar(20)").map(|t| t.text), Some("string".to_owned()));
        assert_eq!(DbType::parse("map<string,int>"), None);
        assert_eq!(DbType::parse("decimal(5,9)"), None);
    }

    #[test]
    fn sqlite_declarations_round_trip() {
        for sql in ["STRING", "INT", "BIGINT", "DOUBLE", "DECIMAL(12,3)", "BOOLEAN", "DATE", "TIMESTAMP"] {
            let t = DbType::parse(sql).expect(sql);
            assert_eq!(DbType::from_sqlite(&t.sqlite_decl()), t, "{sql}");
        }
    }
}
