//! Import and export formats of notebooks: how a request's bytes become an object, and back.
//!
//! Notebooks are kept as source without the `Databricks notebook source` header line, cells split
//! by the language's `COMMAND ----------` separator, so every export format can be derived.

use serde_json::{Value, json};

use super::store::{Kind, Language};
use crate::{dbfs::tree::name, error::ApiError};

/// What an import turns into.
#[derive(Debug)]
pub(crate) struct Imported {
    pub path: String,
    pub kind: Kind,
    pub language: Option<Language>,
    pub content: Vec<u8>,
}

fn extension(path: &str) -> Option<(&str, &str)> {
    let file = name(path);
    let dot = file.rfind('.')?;
    (dot > 0).then(|| (&path[..path.len() - (file.len() - dot)], &file[dot + 1..]))
}

/// Strips a leading `Databricks notebook source` header in any comment syntax.
fn strip_header(text: &str) -> Option<&str> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    first.trim_end().ends_with("Databricks notebook source").then_some(rest)
}

fn utf8(content: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(content).map_err(|_| ApiError::invalid_parameter("The notebook content is not valid UTF-8."))
}

fn notebook(path: String, language: Language, source: &str) -> Imported {
    let body = strip_header(source).unwrap_or(source);
    Imported { path, kind: Kind::Notebook, language: Some(language), content: body.as_bytes().to_vec() }
}

/// Turns an import request into an object, following the `format` rules of the service.
pub(crate) fn import(
    path: &str,
    format: &str,
    language: Option<Language>,
    content: Vec<u8>,
) -> Result<Imported, ApiError> {
    let by_ext = extension(path).and_then(|(stem, ext)| Language::from_extension(ext).map(|l| (stem, l)));
    match format {
        "SOURCE" => match (language, by_ext) {
            (Some(l), _) => Ok(notebook(path.to_owned(), l, utf8(&content)?)),
            (None, Some((stem, l))) => Ok(notebook(stem.to_owned(), l, utf8(&content)?)),
            (None, None) => Err(ApiError::invalid_parameter(
                "The language must be specified when importing a notebook in SOURCE format.",
            )),
        },
        "AUTO" => {
            if let Some((stem, "ipynb")) = extension(path) {
                return jupyter(stem, &content);
            }
            let is_notebook = std::str::from_utf8(&content).ok().and_then(strip_header).is_some();
            match by_ext {
                Some((stem, l)) if is_notebook => Ok(notebook(stem.to_owned(), l, utf8(&content)?)),
                _ => Ok(Imported { path: path.to_owned(), kind: Kind::File, language: None, content }),
            }
        }
        "RAW" => Ok(Imported { path: path.to_owned(), kind: Kind::File, language: None, content }),
        "JUPYTER" => jupyter(extension(path).filter(|(_, e)| *e == "ipynb").map_or(path, |(s, _)| s), &content),
        "R_MARKDOWN" => Ok(notebook(extension(path).map_or(path, |(s, _)| s).to_owned(), Language::R, utf8(&content)?)),
        "HTML" | "DBC" => Err(ApiError::invalid_parameter(format!(
            "Importing the {format} format is not supported by this emulator; use SOURCE, AUTO, RAW or JUPYTER."
        ))),
        other => Err(ApiError::invalid_parameter(format!(
            "Invalid format '{other}': expected one of SOURCE, HTML, JUPYTER, DBC, R_MARKDOWN, RAW, AUTO."
        ))),
    }
}

fn jupyter(path: &str, content: &[u8]) -> Result<Imported, ApiError> {
    let doc: Value = serde_json::from_slice(content)
        .map_err(|e| ApiError::invalid_parameter(format!("The content is not a Jupyter notebook: {e}")))?;
    let language =
        doc["metadata"]["language_info"]["name"].as_str().and_then(Language::parse).unwrap_or(Language::Python);
    let cells: Vec<String> = doc["cells"]
        .as_array()
        .map(|cells| {
            cells
                .iter()
                .map(|c| match &c["source"] {
                    Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect::<String>(),
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    let source = cells.join(&format!("\n\n{}\n\n", language.separator()));
    Ok(Imported { path: path.to_owned(), kind: Kind::Notebook, language: Some(language), content: source.into_bytes() })
}

/// The exported bytes and `file_type` of an object.
pub(crate) fn export(
    path: &str,
    kind: Kind,
    language: Option<Language>,
    content: &[u8],
    format: &str,
) -> Result<(Vec<u8>, String), ApiError> {
    if kind.is_folder() {
        return Err(ApiError::invalid_parameter(format!(
            "Folder ({path}) can only be exported in DBC format, which this emulator does not produce."
        )));
    }
    if kind == Kind::File {
        return match format {
            "SOURCE" | "AUTO" | "RAW" => Ok((content.to_vec(), extension(path).map_or("", |(_, e)| e).to_owned())),
            other => Err(ApiError::invalid_parameter(format!("A file cannot be exported in {other} format."))),
        };
    }
    let language = language.unwrap_or(Language::Python);
    let source = String::from_utf8_lossy(content);
    match format {
        "SOURCE" | "AUTO" => {
            Ok((format!("{}\n{source}", language.header()).into_bytes(), language.extension().to_owned()))
        }
        "JUPYTER" => {
            let cells: Vec<Value> = source
                .split(&language.separator())
                .map(|cell| json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": cell.trim()}))
                .collect();
            let doc = json!({
                "cells": cells,
                "metadata": {"language_info": {"name": language.as_str().to_lowercase()}},
                "nbformat": 4,
                "nbformat_minor": 0,
            });
            Ok((doc.to_string().into_bytes(), "ipynb".to_owned()))
        }
        "HTML" => {
            let escaped = source.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let html = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body><pre>{escaped}</pre></body></html>\n",
                name(path)
            );
            Ok((html.into_bytes(), "html".to_owned()))
        }
        "R_MARKDOWN" if language == Language::R => {
            Ok((format!("```{{r}}\n{source}\n```\n").into_bytes(), "Rmd".to_owned()))
        }
        "R_MARKDOWN" => Err(ApiError::invalid_parameter("Only R notebooks can be exported in R_MARKDOWN format.")),
        "DBC" => Err(ApiError::invalid_parameter(
            "The DBC format is not produced by this emulator; use SOURCE, HTML or JUPYTER.",
        )),
        other => Err(ApiError::invalid_parameter(format!(
            "Invalid format '{other}': expected one of SOURCE, HTML, JUPYTER, DBC, R_MARKDOWN, RAW, AUTO."
        ))),
    }
}

/// The named fields of a `multipart/form-data` body (the SDK's `workspace.upload` sends one).
pub(crate) fn multipart_fields(content_type: &str, body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let bad = |why: &str| ApiError::malformed(format!("Invalid multipart body: {why}"));
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .ok_or_else(|| bad("no boundary"))?;
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    let mut rest = body;
    let start = find(rest, delimiter.as_bytes()).ok_or_else(|| bad("no opening boundary"))?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").ok_or_else(|| bad("missing line break after boundary"))?;
        let head_end = find(rest, b"\r\n\r\n").ok_or_else(|| bad("part without headers"))?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let after = &rest[head_end + 4..];
        let end = find(after, format!("\r\n{delimiter}").as_bytes()).ok_or_else(|| bad("unterminated part"))?;
        let name = head
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
            .map(|n| n.trim_matches('"').to_owned())
            .ok_or_else(|| bad("part without a name"))?;
        fields.push((name, after[..end].to_vec()));
        rest = &after[end + 2 + delimiter.len()..];
    }
    Ok(fields)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_imports_take_the_language_from_the_field_or_the_extension() {
        let nb = import("/a/etl.py", "SOURCE", None, b"# Databricks notebook source\nprint(1)".to_vec()).expect("ok");
        assert_eq!((nb.path.as_str(), nb.kind, nb.language), ("/a/etl", Kind::Notebook, Some(Language::Python)));
        assert_eq!(nb.content, b"print(1)");
        let file = import("/a/data.csv", "AUTO", None, b"x,y".to_vec()).expect("ok");
        assert_eq!(file.kind, Kind::File);
        assert!(import("/a/x", "SOURCE", None, vec![]).is_err());
    }

    #[test]
    fn source_export_round_trips() {
        let (bytes, ty) = export("/a/q", Kind::Notebook, Some(Language::Sql), b"SELECT 1", "SOURCE").expect("ok");
        assert_eq!(
            (String::from_utf8(bytes).expect("utf8"), ty.as_str()),
            ("-- Databricks notebook source\nSELECT 1".into(), "sql")
        );
    }

    #[test]
    fn multipart_fields_are_read() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/a/b\r\n--XX\r\nContent-Disposition: form-data; name=\"content\"; filename=\"b\"\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n--XX--\r\n";
        let fields = multipart_fields("multipart/form-data; boundary=XX", body).expect("parses");
        assert_eq!(fields, vec![("path".into(), b"/a/b".to_vec()), ("content".into(), b"hi".to_vec())]);
    }
}
