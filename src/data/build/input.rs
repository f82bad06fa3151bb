//! Reading the source files (BOM-tolerant text, JSON, CSV into typed rows) and the small text
//! tidying every source module shares (published addresses, empty fields, report lines).

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::data::files::DataError;
use crate::domain::Facility;

pub(super) fn src_err(msg: impl fmt::Display) -> DataError {
    DataError::Source(msg.to_string())
}

pub(super) fn read_text(path: &Path) -> Result<String, DataError> {
    let s = std::fs::read_to_string(path).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(s.trim_start_matches('\u{feff}').to_string())
}

pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, DataError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| src_err(format!("{}: {e}", path.display())))
}

/// Rows of a CSV file with a header, deserialized by column name. Headers and fields are trimmed
/// of (Unicode) whitespace first: the lists pad values with full-width spaces.
pub(super) fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, DataError> {
    let text = read_text(path)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut headers = rdr
        .headers()
        .map_err(|e| src_err(format!("{}: {e}", path.display())))?
        .clone();
    headers.trim();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let mut rec = rec.map_err(|e| src_err(format!("{} row {row}: {e}", path.display())))?;
        rec.trim();
        out.push(
            rec.deserialize(Some(&headers))
                .map_err(|e| src_err(format!("{} row {row}: {e}", path.display())))?,
        );
    }
    Ok(out)
}

/// Rows of the first worksheet of an xlsx workbook, deserialized by column name like
/// [`read_rows`]. The header is the first row with a cell `header_cell` (the 厚生局 lists put a
/// title and an empty row above it); fields are trimmed the same way.
pub(super) fn read_xlsx_rows<T: DeserializeOwned>(
    path: &Path,
    header_cell: &str,
) -> Result<Vec<T>, DataError> {
    let rows = super::xlsx::read_first_sheet(path)?;
    let start = rows
        .iter()
        .position(|r| r.cells.iter().any(|c| c.trim() == header_cell))
        .ok_or_else(|| {
            src_err(format!(
                "{}: no header row with {header_cell}",
                path.display()
            ))
        })?;
    let mut headers = csv::StringRecord::from(rows[start].cells.clone());
    headers.trim();
    let mut out = Vec::new();
    for r in &rows[start + 1..] {
        if r.cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut cells = r.cells.clone();
        cells.resize(headers.len().max(cells.len()), String::new());
        let mut rec = csv::StringRecord::from(cells);
        rec.trim();
        out.push(
            rec.deserialize(Some(&headers))
                .map_err(|e| src_err(format!("{} row {}: {e}", path.display(), r.number)))?,
        );
    }
    Ok(out)
}

pub(super) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

/// Remove all whitespace from a published address (the lists put full-width spaces between parts).
pub(super) fn tidy_address(a: &str) -> String {
    a.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Drop a building name repeated at the end (`…1階 シティホーム山鼻1階`), then tidy.
pub(super) fn tidy_station_address(a: &str) -> String {
    let t = a.trim();
    if let Some(i) = t.rfind(|c: char| c.is_whitespace()) {
        let (head, tail) = (t[..i].trim_end(), t[i..].trim());
        if !tail.is_empty() && head.ends_with(tail) {
            return tidy_address(head);
        }
    }
    tidy_address(t)
}

/// A facility as one report line.
pub(super) fn describe(f: &Facility) -> String {
    format!("{} {} | {}", f.id, f.name, f.address.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_address_tidy() {
        assert_eq!(
            tidy_station_address(
                "北海道札幌市中央区南16条西19丁目1－32シティホーム山鼻1階 シティホーム山鼻1階"
            ),
            "北海道札幌市中央区南16条西19丁目1－32シティホーム山鼻1階"
        );
        assert_eq!(
            tidy_station_address("埼玉県　川口市　本町1-2"),
            "埼玉県川口市本町1-2"
        );
    }
}
