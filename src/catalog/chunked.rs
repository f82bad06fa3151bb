//! A vector shared between snapshots in fixed-size chunks. A snapshot that changes one element
//! copies that element's chunk and the list of chunks — a few kilobytes — instead of the whole
//! vector: an edit at 300,000 facilities used to clone every facility's name forms.

use std::ops::Index;
use std::sync::Arc;

/// Elements per chunk.
const CHUNK: usize = 1024;

#[derive(Debug, Clone)]
pub struct Chunked<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| &self.chunks[i / CHUNK][i % CHUNK])
    }

    /// Replaces element `i` (which must exist), copying its chunk when another snapshot
    /// shares it.
    pub fn set(&mut self, i: usize, value: T) {
        assert!(i < self.len, "index {i} out of {}", self.len);
        Arc::make_mut(&mut self.chunks[i / CHUNK])[i % CHUNK] = value;
    }

    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        let last = self.chunks.last_mut().expect("a chunk with room");
        Arc::make_mut(last).push(value);
        self.len += 1;
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: Clone> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut c = Chunked::default();
        for item in items {
            c.push(item);
        }
        c
    }
}

impl<T: Clone> From<Vec<T>> for Chunked<T> {
    fn from(v: Vec<T>) -> Self {
        v.into_iter().collect()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_copies_one_chunk_and_leaves_the_other_snapshot_as_it_was() {
        let n = CHUNK * 3 + 17;
        let old: Chunked<String> = (0..n).map(|i| i.to_string()).collect();
        assert_eq!(old.len(), n);
        let mut new = old.clone();
        new.set(CHUNK + 5, "changed".into());
        new.push("appended".into());
        assert_eq!(old[CHUNK + 5], (CHUNK + 5).to_string());
        assert_eq!(new[CHUNK + 5], "changed");
        assert_eq!(new.len(), n + 1);
        assert_eq!(new[n], "appended");
        assert_eq!(old.get(n), None);
        // Unchanged chunks are shared, the changed one is not.
        assert!(Arc::ptr_eq(&old.chunks[0], &new.chunks[0]));
        assert!(!Arc::ptr_eq(&old.chunks[1], &new.chunks[1]));
        let want: Vec<String> = (0..n)
            .map(|i| {
                if i == CHUNK + 5 {
                    "changed".into()
                } else {
                    i.to_string()
                }
            })
            .chain(["appended".to_string()])
            .collect();
        assert_eq!(new.iter().cloned().collect::<Vec<_>>(), want);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(&new[i], w);
        }
    }
}
