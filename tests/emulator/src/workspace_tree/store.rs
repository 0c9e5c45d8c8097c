//! The workspace object tree: notebooks, files, directories and repos by absolute path.
//!
//! The root `/` (object id 0) always exists; so do `/Users`, `/Shared` and `/Repos`, which cannot be
//! deleted. Object ids come from one counter, so a repo's id is its tree object's id, as on the service.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{dbfs::tree::parent, error::ApiError};

/// First object id handed out; real ids are large integers too.
const FIRST_ID: i64 = 1_000_000_000_000_001;

/// Folders the service creates and protects.
pub(crate) const PROTECTED: [&str; 4] = ["/", "/Users", "/Shared", "/Repos"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Notebook,
    Directory,
    File,
    Repo,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Notebook => "NOTEBOOK",
            Kind::Directory => "DIRECTORY",
            Kind::File => "FILE",
            Kind::Repo => "REPO",
        }
    }

    /// Directories and repos hold children.
    pub fn is_folder(self) -> bool {
        matches!(self, Kind::Directory | Kind::Repo)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Python,
    Sql,
    Scala,
    R,
}

impl Language {
    pub fn parse(s: &str) -> Option<Language> {
        match s.to_ascii_uppercase().as_str() {
            "PYTHON" => Some(Language::Python),
            "SQL" => Some(Language::Sql),
            "SCALA" => Some(Language::Scala),
            "R" => Some(Language::R),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "PYTHON",
            Language::Sql => "SQL",
            Language::Scala => "SCALA",
            Language::R => "R",
        }
    }

    /// The source file extension, which is also the export `file_type`.
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::Sql => "sql",
            Language::Scala => "scala",
            Language::R => "r",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Language> {
        match ext.to_ascii_lowercase().as_str() {
            "py" => Some(Language::Python),
            "sql" => Some(Language::Sql),
            "scala" => Some(Language::Scala),
            "r" => Some(Language::R),
            _ => None,
        }
    }

    /// The line comment that starts notebook source headers and cell separators.
    pub fn comment(self) -> &'static str {
        match self {
            Language::Python | Language::R => "#",
            Language::Sql => "--",
            Language::Scala => "//",
        }
    }

    /// `# Databricks notebook source`, in this language's comment syntax.
    pub fn header(self) -> String {
        format!("{} Databricks notebook source", self.comment())
    }

    /// The separator between cells in source format.
    pub fn separator(self) -> String {
        format!("{} COMMAND ----------", self.comment())
    }
}

/// One workspace object.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub object_id: i64,
    pub kind: Kind,
    pub language: Option<Language>,
    pub created_at: u64,
    pub modified_at: u64,
    /// Notebook source (without the header line) or file bytes.
    pub content: Vec<u8>,
}

impl Object {
    /// `ObjectInfo` as on the wire.
    pub fn info(&self, path: &str) -> Value {
        let mut v = json!({
            "path": path,
            "object_type": self.kind.as_str(),
            "object_id": self.object_id,
            "resource_id": self.object_id.to_string(),
        });
        if let Some(language) = self.language {
            v["language"] = json!(language.as_str());
        }
        if !self.kind.is_folder() {
            v["created_at"] = json!(self.created_at);
            v["modified_at"] = json!(self.modified_at);
        }
        if self.kind == Kind::File {
            v["size"] = json!(self.content.len());
        }
        v
    }
}

pub(crate) fn not_found(path: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", format!("Path ({path}) doesn't exist."))
}

pub(crate) fn already_exists(path: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", format!("Path ({path}) already exists."))
}

/// The tree.
#[derive(Debug)]
pub(crate) struct Tree {
    objects: BTreeMap<String, Object>,
    next_id: i64,
}

impl Default for Tree {
    fn default() -> Self {
        let mut tree = Tree { objects: BTreeMap::new(), next_id: FIRST_ID };
        tree.objects.insert("/".into(), Object::folder(0, Kind::Directory, 0));
        for p in &PROTECTED[1..] {
            let id = tree.allocate();
            tree.objects.insert((*p).into(), Object::folder(id, Kind::Directory, 0));
        }
        tree
    }
}

impl Object {
    fn folder(object_id: i64, kind: Kind, now: u64) -> Object {
        Object { object_id, kind, language: None, created_at: now, modified_at: now, content: Vec::new() }
    }
}

fn child_prefix(dir: &str) -> String {
    if dir == "/" { "/".to_owned() } else { format!("{dir}/") }
}

impl Tree {
    fn allocate(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn get(&self, path: &str) -> Result<&Object, ApiError> {
        self.objects.get(path).ok_or_else(|| not_found(path))
    }

    /// The object with this object id, and its path.
    pub fn by_id(&self, object_id: i64) -> Option<(&str, &Object)> {
        self.objects.iter().find(|(_, o)| o.object_id == object_id).map(|(p, o)| (p.as_str(), o))
    }

    /// Direct children of a folder, by path.
    pub fn children(&self, dir: &str) -> Vec<(&str, &Object)> {
        let prefix = child_prefix(dir);
        self.objects
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.len() > prefix.len() && !p[prefix.len()..].contains('/'))
            .map(|(p, o)| (p.as_str(), o))
            .collect()
    }

    fn descendants(&self, dir: &str) -> Vec<String> {
        let prefix = child_prefix(dir);
        self.objects
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// `mkdir -p`. A non-folder on the way is `RESOURCE_ALREADY_EXISTS`.
    pub fn mkdirs(&mut self, path: &str, now: u64) -> Result<(), ApiError> {
        let mut chain = Vec::new();
        let mut at = Some(path);
        while let Some(p) = at {
            chain.push(p);
            at = parent(p);
        }
        for p in chain.into_iter().rev() {
            match self.objects.get(p) {
                Some(o) if o.kind.is_folder() => {}
                Some(_) => return Err(already_exists(p)),
                None => {
                    let id = self.allocate();
                    self.objects.insert(p.to_owned(), Object::folder(id, Kind::Directory, now));
                }
            }
        }
        Ok(())
    }

    /// Puts a notebook or file at `path`. The parent folder must exist; an existing object is
    /// replaced only with `overwrite`, keeping its id and creation time.
    pub fn put(
        &mut self,
        path: &str,
        kind: Kind,
        language: Option<Language>,
        content: Vec<u8>,
        overwrite: bool,
        now: u64,
    ) -> Result<i64, ApiError> {
        let dir = parent(path).ok_or_else(|| already_exists(path))?;
        match self.objects.get(dir) {
            Some(o) if o.kind.is_folder() => {}
            _ => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "RESOURCE_DOES_NOT_EXIST",
                    format!("The parent folder ({dir}) does not exist."),
                ));
            }
        }
        if let Some(existing) = self.objects.get_mut(path) {
            if existing.kind.is_folder() || !overwrite {
                return Err(already_exists(path));
            }
            *existing = Object { kind, language, content, modified_at: now, ..existing.clone() };
            return Ok(existing.object_id);
        }
        let object_id = self.allocate();
        self.objects
            .insert(path.to_owned(), Object { object_id, kind, language, created_at: now, modified_at: now, content });
        Ok(object_id)
    }

    /// Adds a repo folder at `path` (its parents are created) and returns its id.
    pub fn add_repo(&mut self, path: &str, now: u64) -> Result<i64, ApiError> {
        if self.objects.contains_key(path) {
            return Err(already_exists(path));
        }
        if let Some(dir) = parent(path) {
            self.mkdirs(dir, now)?;
        }
        let id = self.allocate();
        self.objects.insert(path.to_owned(), Object::folder(id, Kind::Repo, now));
        Ok(id)
    }

    /// Deletes an object; a non-empty folder only with `recursive`. Returns the deleted paths.
    pub fn delete(&mut self, path: &str, recursive: bool) -> Result<Vec<(String, Object)>, ApiError> {
        if PROTECTED.contains(&path) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "DIRECTORY_PROTECTED",
                format!("Folder ({path}) is protected and cannot be deleted."),
            ));
        }
        self.get(path)?;
        let below = self.descendants(path);
        if !below.is_empty() && !recursive {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "DIRECTORY_NOT_EMPTY",
                format!("Folder ({path}) is not empty."),
            ));
        }
        let mut removed = Vec::new();
        for p in below.into_iter().chain([path.to_owned()]) {
            if let Some(o) = self.objects.remove(&p) {
                removed.push((p, o));
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_folders_exist_and_are_protected() {
        let mut t = Tree::default();
        assert_eq!(t.children("/").len(), 3);
        assert_eq!(t.delete("/Users", true).expect_err("protected").code, "DIRECTORY_PROTECTED");
    }

    #[test]
    fn put_needs_a_parent_and_overwrite() {
        let mut t = Tree::default();
        let err =
            t.put("/Users/x/nb", Kind::Notebook, Some(Language::Python), vec![], false, 1).expect_err("no parent");
        assert_eq!(err.message, "The parent folder (/Users/x) does not exist.");
        t.mkdirs("/Users/x", 1).expect("made");
        let id = t.put("/Users/x/nb", Kind::Notebook, Some(Language::Python), vec![], false, 1).expect("put");
        assert_eq!(
            t.put("/Users/x/nb", Kind::File, None, vec![], false, 2).expect_err("exists").code,
            "RESOURCE_ALREADY_EXISTS"
        );
        assert_eq!(t.put("/Users/x/nb", Kind::Notebook, Some(Language::Sql), vec![], true, 2), Ok(id));
        assert_eq!(t.mkdirs("/Users/x/nb/y", 3).expect_err("a notebook in the way").code, "RESOURCE_ALREADY_EXISTS");
    }
}
