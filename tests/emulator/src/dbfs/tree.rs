//! A tree of directories and byte files keyed by absolute path: the storage behind DBFS and the
//! Files API (volumes), which differ in wire format and error wording but not in how files nest.
//!
//! Paths are normalised before they get here (absolute, no trailing `/`, no `.`/`..`); the root
//! `/` and the `roots` given at construction always exist as directories.

use std::collections::BTreeMap;

/// One file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub is_dir: bool,
    pub data: Vec<u8>,
    /// Epoch milliseconds of the last write.
    pub modified: u64,
}

impl Entry {
    pub fn dir(modified: u64) -> Self {
        Entry { is_dir: true, data: Vec::new(), modified }
    }

    pub fn file(data: Vec<u8>, modified: u64) -> Self {
        Entry { is_dir: false, data, modified }
    }
}

/// Why a tree operation failed; each family words these its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TreeError {
    NotFound,
    AlreadyExists,
    /// A path component that should be a directory is a file.
    NotADirectory(String),
    IsADirectory,
    NotEmpty,
}

/// The tree. Directories are explicit entries, so an empty directory survives.
#[derive(Debug, Default)]
pub(crate) struct FileTree {
    entries: BTreeMap<String, Entry>,
}

/// The parent of an absolute path (`/a/b` -> `/a`, `/a` -> `/`), `None` for the root.
pub(crate) fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// The last segment of a path.
pub(crate) fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Normalises a client path: absolute, no empty, `.` or `..` segments, no trailing slash.
pub(crate) fn normalise(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return None;
        }
        out.push('/');
        out.push_str(segment);
    }
    Some(if out.is_empty() { "/".to_owned() } else { out })
}

fn child_prefix(dir: &str) -> String {
    if dir == "/" { "/".to_owned() } else { format!("{dir}/") }
}

impl FileTree {
    pub fn get(&self, path: &str) -> Option<&Entry> {
        if path == "/" {
            return Some(&ROOT);
        }
        self.entries.get(path)
    }

    /// Direct children of a directory, sorted by path.
    pub fn children(&self, dir: &str) -> Vec<(&str, &Entry)> {
        let prefix = child_prefix(dir);
        self.entries
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| !p[prefix.len()..].contains('/'))
            .map(|(p, e)| (p.as_str(), e))
            .collect()
    }

    fn descendants(&self, dir: &str) -> Vec<String> {
        let prefix = child_prefix(dir);
        self.entries
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// `mkdir -p`: creates the directory and its missing ancestors.
    pub fn mkdirs(&mut self, path: &str, now: u64) -> Result<(), TreeError> {
        let mut ancestors = Vec::new();
        let mut at = Some(path);
        while let Some(p) = at {
            ancestors.push(p);
            at = parent(p);
        }
        for p in ancestors.iter().rev() {
            match self.get(p) {
                Some(e) if e.is_dir => {}
                Some(_) => return Err(TreeError::NotADirectory((*p).to_owned())),
                None => {
                    self.entries.insert((*p).to_owned(), Entry::dir(now));
                }
            }
        }
        Ok(())
    }

    /// Writes a file, creating missing parent directories.
    pub fn write(&mut self, path: &str, data: Vec<u8>, overwrite: bool, now: u64) -> Result<(), TreeError> {
        match self.get(path) {
            Some(e) if e.is_dir => return Err(TreeError::IsADirectory),
            Some(_) if !overwrite => return Err(TreeError::AlreadyExists),
            _ => {}
        }
        if let Some(dir) = parent(path) {
            self.mkdirs(dir, now)?;
        }
        self.entries.insert(path.to_owned(), Entry::file(data, now));
        Ok(())
    }

    /// Deletes a file or directory; a non-empty directory only with `recursive`.
    pub fn delete(&mut self, path: &str, recursive: bool) -> Result<(), TreeError> {
        let entry = self.get(path).ok_or(TreeError::NotFound)?;
        if entry.is_dir {
            let below = self.descendants(path);
            if !below.is_empty() && !recursive {
                return Err(TreeError::NotEmpty);
            }
            for p in below {
                self.entries.remove(&p);
            }
        }
        self.entries.remove(path);
        Ok(())
    }

    /// Moves a file or a whole directory; the destination must not exist.
    pub fn rename(&mut self, from: &str, to: &str, now: u64) -> Result<(), TreeError> {
        if self.get(from).is_none() || from == "/" {
            return Err(TreeError::NotFound);
        }
        if self.get(to).is_some() || to.starts_with(&child_prefix(from)) {
            return Err(TreeError::AlreadyExists);
        }
        if let Some(dir) = parent(to) {
            self.mkdirs(dir, now)?;
        }
        let mut moved = self.descendants(from);
        moved.push(from.to_owned());
        for p in moved {
            if let Some(entry) = self.entries.remove(&p) {
                self.entries.insert(format!("{to}{}", &p[from.len()..]), entry);
            }
        }
        Ok(())
    }
}

static ROOT: Entry = Entry { is_dir: true, data: Vec::new(), modified: 0 };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_split() {
        assert_eq!(normalise("/a//b/"), Some("/a/b".to_owned()));
        assert_eq!(normalise("/"), Some("/".to_owned()));
        assert_eq!(normalise("a/b"), None);
        assert_eq!(normalise("/a/../b"), None);
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(name("/a/b.csv"), "b.csv");
    }

    #[test]
    fn writes_create_parents_and_deletes_need_recursive() {
        let mut t = FileTree::default();
        t.write("/x/y/z.txt", b"hi".to_vec(), false, 1).expect("written");
        assert!(t.get("/x/y").is_some_and(|e| e.is_dir));
        assert_eq!(t.write("/x/y/z.txt", vec![], false, 2), Err(TreeError::AlreadyExists));
        assert_eq!(t.write("/x/y", vec![], true, 2), Err(TreeError::IsADirectory));
        assert_eq!(t.mkdirs("/x/y/z.txt/w", 2), Err(TreeError::NotADirectory("/x/y/z.txt".into())));
        assert_eq!(t.children("/x").len(), 1);
        assert_eq!(t.delete("/x", false), Err(TreeError::NotEmpty));
        t.rename("/x", "/moved", 3).expect("moved");
        assert!(t.get("/moved/y/z.txt").is_some());
        t.delete("/moved", true).expect("deleted");
        assert!(t.children("/").is_empty());
    }
}
