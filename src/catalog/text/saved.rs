//! A built text index kept on disk between starts. Indexing is most of a start's work, and a
//! later start on an unchanged database would index the same documents again: the index built
//! at one change-log position is saved under a key naming that position (and the database and
//! the program that built it), and a start whose key matches opens it instead.
//!
//! The saved files are never written to: a start copies them (large files as hard links) into
//! its own scratch directory, whose commits then go their own way.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tantivy::Index;
use tantivy::directory::Directory;

use super::{TextError, TextIndex, scratch_files};
use crate::catalog::scratch::ScratchDirectory;

/// The file in a saved index's directory holding its whole key.
const KEY_FILE: &str = "KEY";
/// Saved indexes are directories named this and the key's digest.
const PREFIX: &str = "text-";
/// An index being saved is in a directory named this and a random suffix.
const SAVING: &str = ".saving-";

fn saved_dir(root: &Path, key: &str) -> PathBuf {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    root.join(format!("{PREFIX}{hex}"))
}

fn io_error(dir: &Path) -> impl Fn(io::Error) -> TextError + '_ {
    move |source| TextError::Saved {
        dir: dir.display().to_string(),
        source,
    }
}

impl TextIndex {
    /// Saves this snapshot's committed files under `key` in `root` (made if missing), then
    /// removes the indexes saved under other keys. Written to a temporary directory, synced and
    /// renamed into place, so a crash leaves either no index under `key` or a whole one.
    pub fn save(&self, root: &Path, key: &str) -> Result<(), TextError> {
        let err = io_error(root);
        fs::create_dir_all(root).map_err(&err)?;
        let target = saved_dir(root, key);
        if !target.exists() {
            let tmp = tempfile::Builder::new()
                .prefix(SAVING)
                .tempdir_in(root)
                .map_err(&err)?;
            let dir = &self.dir;
            let other = |e: tantivy::directory::error::OpenReadError| err(io::Error::other(e));
            // The last commit's files; it is this snapshot's when it is saved before any edit.
            let meta_json = dir.atomic_read(Path::new("meta.json")).map_err(other)?;
            let meta = self.index.load_metas()?;
            let files: Vec<PathBuf> = meta
                .segments
                .iter()
                .flat_map(|s| s.list_files())
                .filter(|f| dir.exists(f).unwrap_or(false))
                .collect();
            let sync = |name: &Path| fs::File::open(tmp.path().join(name))?.sync_all();
            for f in &files {
                dir.export(f, &tmp.path().join(f)).map_err(&err)?;
                sync(f).map_err(&err)?;
            }
            if dir.atomic_read(Path::new("meta.json")).map_err(other)? != meta_json {
                return Err(err(io::Error::other(
                    "the index changed while it was saved",
                )));
            }
            fs::write(tmp.path().join("meta.json"), &meta_json).map_err(&err)?;
            sync(Path::new("meta.json")).map_err(&err)?;
            fs::write(tmp.path().join(KEY_FILE), key).map_err(&err)?;
            fs::File::open(tmp.path())
                .and_then(|d| d.sync_all())
                .map_err(&err)?;
            let tmp = tmp.keep();
            if let Err(e) = fs::rename(&tmp, &target) {
                let _ = fs::remove_dir_all(&tmp);
                // Another process saved the same key first: its copy is as good.
                if !target.exists() {
                    return Err(err(e));
                }
            }
            fs::File::open(root)
                .and_then(|d| d.sync_all())
                .map_err(&err)?;
        }
        // Other keys' indexes, and saves a killed process left half done (an hour old: one
        // in progress elsewhere is given time).
        let stale = |e: &fs::DirEntry| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600)
        };
        for entry in fs::read_dir(root).map_err(&err)?.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path != target
                && (name.starts_with(PREFIX) || name.starts_with(SAVING) && stale(&entry))
            {
                let _ = fs::remove_dir_all(&path);
            }
        }
        Ok(())
    }

    /// The index saved under `key` in `root`, opened in a new scratch directory of its own;
    /// `None` when nothing is saved under that key.
    pub fn open_saved(root: &Path, key: &str) -> Result<Option<TextIndex>, TextError> {
        let saved = saved_dir(root, key);
        let err = io_error(&saved);
        match fs::read_to_string(saved.join(KEY_FILE)) {
            Ok(k) if k == key => {}
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(e)),
        }
        let files = scratch_files()?;
        let dir = ScratchDirectory::open(files.path())?;
        for entry in fs::read_dir(&saved).map_err(&err)? {
            let entry = entry.map_err(&err)?;
            let name = PathBuf::from(entry.file_name());
            if name != Path::new(KEY_FILE) {
                dir.import(&entry.path(), &name).map_err(&err)?;
            }
        }
        let index = Index::open(dir.clone())?;
        TextIndex::open(index, dir, files).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::scratch::IN_MEMORY_MAX;
    use crate::catalog::text::TextDoc;

    fn docs(n: u32) -> Vec<TextDoc> {
        (0..n)
            .map(|ord| TextDoc {
                ord,
                name: format!(
                    "試験{}クリニック",
                    ["内科", "外科", "歯科"][ord as usize % 3]
                ),
                address: format!("さいたま市浦和区{ord}丁目"),
                // Enough text for some of the segment's files to go to disk, not memory.
                notes: format!(
                    "在宅 訪問診療 番号{ord} 記号{:x} {}",
                    u64::from(ord) * 7919,
                    "往診可 夜間 休日 ".repeat(ord as usize % 7)
                ),
                tags: vec![format!("kind:{}", ord % 4)],
                ..TextDoc::default()
            })
            .collect()
    }

    /// Every file of a directory (name → contents).
    fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name, fs::read(e.path()).expect("read"))
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_saved_index_answers_as_the_built_one_and_is_never_written_to() {
        let root = tempfile::tempdir().expect("tmp");
        let built = TextIndex::build(docs(90_000)).expect("build");
        built.save(root.path(), "key one").expect("save");
        let saved = saved_dir(root.path(), "key one");
        let before = contents(&saved);
        assert!(
            before.iter().any(|(n, _)| n == "meta.json"),
            "{:?}",
            before.len()
        );
        let sizes: Vec<usize> = before.iter().map(|(_, b)| b.len()).collect();
        assert!(
            sizes.iter().any(|&n| n > IN_MEMORY_MAX),
            "a file large enough to be linked, not read into memory: {sizes:?}"
        );

        assert!(
            TextIndex::open_saved(root.path(), "key two")
                .expect("open")
                .is_none()
        );
        let opened = TextIndex::open_saved(root.path(), "key one")
            .expect("open")
            .expect("saved under key one");
        assert_eq!(opened.num_docs(), built.num_docs());
        for q in ["内科", "試験 歯科", "往診可", "浦和区12丁目", "外"] {
            assert_eq!(
                opened.search(q).expect("q"),
                built.search(q).expect("q"),
                "{q}"
            );
        }

        // An edit of the opened index commits to its own directory only.
        let mut changed = docs(1);
        changed[0].name = "改名後の名前".into();
        let edited = opened.with_changes(&changed).expect("edit");
        assert_eq!(
            edited.search("改名後").expect("q"),
            vec![(0, edited.search("改名後").expect("q")[0].1)]
        );
        assert!(opened.search("改名後").expect("q").is_empty());
        assert_eq!(contents(&saved), before, "the saved files are unchanged");
        drop((edited, opened));
        assert_eq!(contents(&saved), before, "and stay when the copy goes");

        // Saving under another key replaces the old one.
        built.save(root.path(), "key two").expect("save");
        assert!(!saved.exists());
        assert!(
            TextIndex::open_saved(root.path(), "key two")
                .expect("open")
                .is_some()
        );
        let left: Vec<String> = fs::read_dir(root.path())
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left,
            vec![
                saved_dir(root.path(), "key two")
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            ]
        );
    }

    #[test]
    fn a_damaged_saved_index_is_an_error_not_a_wrong_answer() {
        let root = tempfile::tempdir().expect("tmp");
        let built = TextIndex::build(docs(200)).expect("build");
        built.save(root.path(), "k").expect("save");
        let saved = saved_dir(root.path(), "k");
        fs::remove_file(saved.join("meta.json")).expect("rm");
        assert!(TextIndex::open_saved(root.path(), "k").is_err());
    }
}
