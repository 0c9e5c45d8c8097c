//! Unity Catalog objects as JSON (`CatalogInfo`, `SchemaInfo`, `TableInfo`, `VolumeInfo`,
//! `FunctionInfo`). Absent fields are left out.

use serde_json::{Map, Value, json};

use super::{
    store::{Catalog, Function, Meta, Schema, Table, Unity, Volume},
    types::DbType,
};

const STORAGE_ROOT: &str = "s3://emulator-metastore";

fn common(out: &mut Map<String, Value>, meta: &Meta, metastore_id: &str) {
    out.insert("owner".into(), json!(meta.owner));
    if let Some(comment) = &meta.comment {
        out.insert("comment".into(), json!(comment));
    }
    out.insert("metastore_id".into(), json!(metastore_id));
    out.insert("created_at".into(), json!(meta.created_at));
    out.insert("created_by".into(), json!(meta.created_by));
    out.insert("updated_at".into(), json!(meta.updated_at));
    out.insert("updated_by".into(), json!(meta.updated_by));
    out.insert("browse_only".into(), json!(false));
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(crate) fn catalog(uc: &Unity, c: &Catalog) -> Value {
    let mut out = object(json!({
        "name": c.name,
        "full_name": c.name,
        "catalog_type": "MANAGED_CATALOG",
        "securable_type": "CATALOG",
        "isolation_mode": "OPEN",
        "storage_root": format!("{STORAGE_ROOT}/{}/catalogs/{}", uc.metastore_id, c.meta.id),
        "storage_location": format!("{STORAGE_ROOT}/{}/catalogs/{}", uc.metastore_id, c.meta.id),
        "properties": {},
    }));
    common(&mut out, &c.meta, &uc.metastore_id);
    Value::Object(out)
}

pub(crate) fn schema(uc: &Unity, s: &Schema) -> Value {
    let mut out = object(json!({
        "name": s.name,
        "catalog_name": s.catalog,
        "full_name": format!("{}.{}", s.catalog, s.name),
        "catalog_type": "MANAGED_CATALOG",
        "schema_id": s.meta.id,
        "securable_type": "SCHEMA",
        "properties": {},
    }));
    common(&mut out, &s.meta, &uc.metastore_id);
    Value::Object(out)
}

pub(crate) fn table(uc: &Unity, t: &Table, with_columns: bool) -> Value {
    let mut out = object(json!({
        "name": t.name,
        "catalog_name": t.catalog,
        "schema_name": t.schema,
        "full_name": t.full_name(),
        "table_type": t.table_type,
        "table_id": t.meta.id,
        "securable_type": "TABLE",
    }));
    if t.table_type == "VIEW" {
        if let Some(def) = &t.view_definition {
            out.insert("view_definition".into(), json!(def));
        }
    } else {
        out.insert("data_source_format".into(), json!("DELTA"));
        out.insert(
            "storage_location".into(),
            json!(format!("{STORAGE_ROOT}/{}/tables/{}", uc.metastore_id, t.meta.id)),
        );
        out.insert("properties".into(), json!({"delta.minReaderVersion": "1", "delta.minWriterVersion": "2"}));
    }
    if with_columns {
        let columns: Vec<Value> = t
            .columns
            .iter()
            .enumerate()
            .map(|(position, c)| {
                let ty = DbType::parse(&c.type_text).unwrap_or_else(DbType::string);
                let mut col = object(json!({
                    "name": c.name,
                    "type_text": ty.text,
                    "type_name": ty.name,
                    "type_json": json!({"name": c.name, "type": ty.text, "nullable": c.nullable, "metadata": {}}).to_string(),
                    "position": position,
                    "nullable": c.nullable,
                }));
                if let Some(comment) = &c.comment {
                    col.insert("comment".into(), json!(comment));
                }
                Value::Object(col)
            })
            .collect();
        out.insert("columns".into(), Value::Array(columns));
    }
    common(&mut out, &t.meta, &uc.metastore_id);
    Value::Object(out)
}

pub(crate) fn volume(uc: &Unity, v: &Volume) -> Value {
    let location = v
        .storage_location
        .clone()
        .unwrap_or_else(|| format!("{STORAGE_ROOT}/{}/volumes/{}", uc.metastore_id, v.meta.id));
    let mut out = object(json!({
        "name": v.name,
        "catalog_name": v.catalog,
        "schema_name": v.schema,
        "full_name": format!("{}.{}.{}", v.catalog, v.schema, v.name),
        "volume_type": v.volume_type,
        "volume_id": v.meta.id,
        "storage_location": location,
    }));
    common(&mut out, &v.meta, &uc.metastore_id);
    Value::Object(out)
}

pub(crate) fn function(uc: &Unity, f: &Function) -> Value {
    let ret = DbType::parse(&f.returns).unwrap_or_else(DbType::string);
    let params: Vec<Value> = f
        .params
        .iter()
        .enumerate()
        .map(|(position, (name, ty))| {
            let ty = DbType::parse(ty).unwrap_or_else(DbType::string);
            json!({"name": name, "type_text": ty.text, "type_name": ty.name, "position": position,
                   "parameter_mode": "IN", "parameter_type": "PARAM",
                   "type_json": json!({"name": name, "type": ty.text, "nullable": true, "metadata": {}}).to_string()})
        })
        .collect();
    let mut out = object(json!({
        "name": f.name,
        "catalog_name": f.catalog,
        "schema_name": f.schema,
        "full_name": format!("{}.{}.{}", f.catalog, f.schema, f.name),
        "specific_name": f.name,
        "function_id": f.meta.id,
        "data_type": ret.name,
        "full_data_type": ret.text,
        "input_params": {"parameters": params},
        "routine_body": "SQL",
        "routine_definition": f.definition,
        "parameter_style": "S",
        "is_deterministic": true,
        "is_null_call": false,
        "security_type": "DEFINER",
        "sql_data_access": "CONTAINS_SQL",
        "sql_path": "SYSTEM PATH",
        "securable_type": "FUNCTION",
    }));
    common(&mut out, &f.meta, &uc.metastore_id);
    Value::Object(out)
}
