//! Reading the first worksheet of an `.xlsx` workbook (a ZIP of XML parts) as rows of text: what
//! the 厚生局 届出 lists need, as the dental list is published as xlsx only. Cell values are
//! taken as written (shared and inline strings, numbers as their text); no formulas or styles.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::data::files::DataError;

fn err(path: &Path, msg: impl std::fmt::Display) -> DataError {
    DataError::Source(format!("{}: {msg}", path.display()))
}

/// One row of a worksheet: its 1-based row number and its cells from column A, with empty
/// strings for cells not written.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<String>,
}

/// The rows of the workbook's first worksheet, in sheet order.
pub fn read_first_sheet(path: &Path) -> Result<Vec<Row>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let zip = Zip::open(&bytes).map_err(|e| err(path, e))?;
    let part = |name: &str| -> Result<String, DataError> {
        let raw = zip.read(name).map_err(|e| err(path, e))?;
        let text = String::from_utf8(raw).map_err(|e| err(path, format!("{name}: {e}")))?;
        Ok(text.trim_start_matches('\u{feff}').to_string())
    };
    let sheet = first_sheet_part(
        &part("xl/workbook.xml")?,
        &part("xl/_rels/workbook.xml.rels")?,
    )
    .ok_or_else(|| err(path, "no worksheet in xl/workbook.xml"))?;
    let shared = if zip.has("xl/sharedStrings.xml") {
        shared_strings(&part("xl/sharedStrings.xml")?)
    } else {
        Vec::new()
    };
    sheet_rows(&part(&sheet)?, &shared).map_err(|e| err(path, format!("{sheet}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// ZIP: the central directory, stored and deflated members (no ZIP64, no encryption).

struct Zip<'a> {
    bytes: &'a [u8],
    /// Member name → (method, compressed size, local header offset).
    members: BTreeMap<String, (u16, usize, usize)>,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

impl<'a> Zip<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, String> {
        const EOCD: u32 = 0x0605_4b50;
        const CENTRAL: u32 = 0x0201_4b50;
        // The end-of-central-directory record is the last 22 bytes plus a comment of ≤ 64 KiB.
        let lowest = bytes.len().saturating_sub(22 + 0xffff);
        let eocd = (lowest..=bytes.len().saturating_sub(22))
            .rev()
            .find(|&i| u32_at(bytes, i) == Some(EOCD))
            .ok_or("not a ZIP file (no end of central directory)")?;
        let count = u16_at(bytes, eocd + 10).ok_or("truncated ZIP")? as usize;
        let mut at = u32_at(bytes, eocd + 16).ok_or("truncated ZIP")? as usize;
        let mut members = BTreeMap::new();
        for _ in 0..count {
            if u32_at(bytes, at) != Some(CENTRAL) {
                return Err(format!("bad central directory entry at byte {at}"));
            }
            let field = |off: usize| u16_at(bytes, at + off).ok_or("truncated ZIP");
            let method = field(10)?;
            let size = u32_at(bytes, at + 20).ok_or("truncated ZIP")?;
            let (name_len, extra_len, comment_len) = (
                field(28)? as usize,
                field(30)? as usize,
                field(32)? as usize,
            );
            let local = u32_at(bytes, at + 42).ok_or("truncated ZIP")?;
            if size == u32::MAX || local == u32::MAX {
                return Err("ZIP64 members are not supported".into());
            }
            let name = bytes
                .get(at + 46..at + 46 + name_len)
                .ok_or("truncated ZIP")?;
            members.insert(
                String::from_utf8_lossy(name).into_owned(),
                (method, size as usize, local as usize),
            );
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(Zip { bytes, members })
    }

    fn has(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        const LOCAL: u32 = 0x0403_4b50;
        let &(method, size, local) = self
            .members
            .get(name)
            .ok_or_else(|| format!("no {name} in the workbook"))?;
        if u32_at(self.bytes, local) != Some(LOCAL) {
            return Err(format!("{name}: bad local header"));
        }
        let name_len = u16_at(self.bytes, local + 26).ok_or("truncated ZIP")? as usize;
        let extra_len = u16_at(self.bytes, local + 28).ok_or("truncated ZIP")? as usize;
        let start = local + 30 + name_len + extra_len;
        let data = self
            .bytes
            .get(start..start + size)
            .ok_or_else(|| format!("{name}: truncated"))?;
        match method {
            0 => Ok(data.to_vec()),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(data)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("{name}: {e}"))?;
                Ok(out)
            }
            m => Err(format!("{name}: compression method {m} is not supported")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// XML: just enough of it for SpreadsheetML — tags with attributes, text, entities.

#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// `<name attrs>` (or `<name attrs/>` when `empty`).
    Open {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    Close(&'a str),
    Text(&'a str),
}

/// The tokens of an XML document; declarations, comments and processing instructions skipped.
fn tokens(xml: &str) -> impl Iterator<Item = Token<'_>> {
    let mut rest = xml;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            if !rest.starts_with('<') {
                let end = rest.find('<').unwrap_or(rest.len());
                let (text, tail) = rest.split_at(end);
                rest = tail;
                return Some(Token::Text(text));
            }
            if let Some(tail) = rest.strip_prefix("<!--") {
                rest = tail.find("-->").map_or("", |i| &tail[i + 3..]);
                continue;
            }
            if rest.starts_with("<?") || rest.starts_with("<!") {
                rest = rest.find('>').map_or("", |i| &rest[i + 1..]);
                continue;
            }
            let end = rest.find('>').unwrap_or(rest.len());
            let inner = &rest[1..end];
            rest = rest.get(end + 1..).unwrap_or("");
            if let Some(name) = inner.strip_prefix('/') {
                return Some(Token::Close(name.trim()));
            }
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let split = inner.find(char::is_whitespace).unwrap_or(inner.len());
            return Some(Token::Open {
                name: &inner[..split],
                attrs: &inner[split..],
                empty,
            });
        }
    })
}

/// The value of attribute `key` in a tag's attribute text.
fn attr<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let close = after[1..].find(quote)? + 1;
        if name == key {
            return Some(&after[1..close]);
        }
        rest = &after[close + 1..];
    }
    None
}

/// Text with the XML entities and character references replaced.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').and_then(|j| {
            let c = match &tail[1..j] {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e => {
                    let n = match e.strip_prefix("#x").or_else(|| e.strip_prefix("#X")) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => e.strip_prefix('#')?.parse().ok()?,
                    };
                    char::from_u32(n)?
                }
            };
            Some((c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tag names without their namespace prefix (`x:row` is `row`).
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The part of the workbook's first sheet, e.g. `xl/worksheets/sheet1.xml`.
fn first_sheet_part(workbook: &str, rels: &str) -> Option<String> {
    let id = tokens(workbook).find_map(|t| match t {
        Token::Open { name, attrs, .. } if local(name) == "sheet" => attr(attrs, "r:id"),
        _ => None,
    })?;
    let target = tokens(rels).find_map(|t| match t {
        Token::Open { name, attrs, .. }
            if local(name) == "Relationship" && attr(attrs, "Id") == Some(id) =>
        {
            attr(attrs, "Target")
        }
        _ => None,
    })?;
    Some(match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("xl/{target}"),
    })
}

/// The shared strings: the text runs of each `<si>`, without phonetic readings (`<rPh>`).
fn shared_strings(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut current, mut in_t, mut in_phonetic) = (String::new(), false, false);
    for t in tokens(xml) {
        match t {
            Token::Open { name, empty, .. } => match local(name) {
                "si" if empty => out.push(String::new()),
                "si" => current.clear(),
                "t" => in_t = !empty,
                "rPh" => in_phonetic = !empty,
                _ => {}
            },
            Token::Close(name) => match local(name) {
                "si" => out.push(std::mem::take(&mut current)),
                "t" => in_t = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Token::Text(s) if in_t && !in_phonetic => current.push_str(&unescape(s)),
            Token::Text(_) => {}
        }
    }
    out
}

/// 0-based column of a cell reference: `A5` → 0, `AB12` → 27.
fn column(reference: &str) -> Option<usize> {
    let letters: Vec<u8> = reference
        .bytes()
        .take_while(u8::is_ascii_alphabetic)
        .collect();
    if letters.is_empty() {
        return None;
    }
    letters
        .iter()
        .try_fold(0usize, |acc, &c| {
            Some(acc * 26 + (c.to_ascii_uppercase() - b'A') as usize + 1)
        })
        .map(|n| n - 1)
}

/// The rows of a worksheet part.
fn sheet_rows(xml: &str, shared: &[String]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut row: Option<Row> = None;
    // The cell being read: its column, type and the text of its value.
    let mut cell: Option<(usize, String, String)> = None;
    let mut in_value = false;
    let mut in_phonetic = false;
    for t in tokens(xml) {
        match t {
            Token::Open { name, attrs, empty } => match local(name) {
                "row" => {
                    let number = match attr(attrs, "r") {
                        Some(r) => r.parse().map_err(|_| format!("bad row number {r:?}"))?,
                        None => rows.last().map_or(1, |r: &Row| r.number + 1),
                    };
                    let r = Row {
                        number,
                        cells: Vec::new(),
                    };
                    if empty {
                        rows.push(r);
                    } else {
                        row = Some(r);
                    }
                }
                "c" => {
                    let next = row.as_ref().map_or(0, |r| r.cells.len());
                    let col = attr(attrs, "r").and_then(column).unwrap_or(next);
                    let kind = attr(attrs, "t").unwrap_or("n").to_string();
                    if !empty {
                        cell = Some((col, kind, String::new()));
                    }
                }
                // `<v>` of a cell, `<t>` of an inline string; phonetic runs are not the value.
                "v" | "t" => in_value = !empty && cell.is_some(),
                "rPh" => in_phonetic = !empty,
                _ => {}
            },
            Token::Close(name) => match local(name) {
                "v" | "t" => in_value = false,
                "rPh" => in_phonetic = false,
                "c" => {
                    let (Some((col, kind, raw)), Some(r)) = (cell.take(), row.as_mut()) else {
                        continue;
                    };
                    let value = match kind.as_str() {
                        "s" => {
                            let i: usize = raw.trim().parse().map_err(|_| {
                                format!("row {}: bad shared string {raw:?}", r.number)
                            })?;
                            shared
                                .get(i)
                                .cloned()
                                .ok_or_else(|| format!("row {}: no shared string {i}", r.number))?
                        }
                        _ => raw,
                    };
                    if r.cells.len() <= col {
                        r.cells.resize(col + 1, String::new());
                    }
                    r.cells[col] = value;
                }
                "row" => rows.extend(row.take()),
                _ => {}
            },
            Token::Text(s) if in_value && !in_phonetic => {
                if let Some((_, _, raw)) = cell.as_mut() {
                    raw.push_str(&unescape(s));
                }
            }
            Token::Text(_) => {}
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) ZIP with the given members, as a workbook writer would make it.
    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in members {
            let offset = out.len() as u32;
            let mut local = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            local.extend([0u8; 4]); // crc (not checked)
            local.extend((data.len() as u32).to_le_bytes());
            local.extend((data.len() as u32).to_le_bytes());
            local.extend((name.len() as u16).to_le_bytes());
            local.extend(0u16.to_le_bytes());
            local.extend(name.as_bytes());
            out.extend(local);
            out.extend(*data);
            let mut c = vec![0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            c.extend([0u8; 4]);
            c.extend((data.len() as u32).to_le_bytes());
            c.extend((data.len() as u32).to_le_bytes());
            c.extend((name.len() as u16).to_le_bytes());
            c.extend([0u8; 12]); // extra, comment, disk, internal, external attributes
            c.extend(offset.to_le_bytes());
            c.extend(name.as_bytes());
            central.extend(c);
        }
        let at = out.len() as u32;
        let size = central.len() as u32;
        out.extend(central);
        out.extend([0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        out.extend((members.len() as u16).to_le_bytes());
        out.extend((members.len() as u16).to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(at.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn a_small_workbook_reads_as_written() {
        let workbook = r#"<?xml version="1.0"?><workbook xmlns:r="x"><sheets><sheet name="S" sheetId="1" r:id="rId9"/></sheets></workbook>"#;
        let rels = r#"<Relationships><Relationship Id="rId1" Target="styles.xml"/><Relationship Id="rId9" Target="worksheets/data.xml"/></Relationships>"#;
        let shared = "\u{feff}<sst><si><t>医療機関番号</t></si><si><r><t>熊坂</t></r><r><t xml:space=\"preserve\">歯科 &amp; 医院</t></r><rPh sb=\"0\" eb=\"2\"><t>クマサカ</t></rPh></si><si/></sst>";
        let sheet = r#"<worksheet><sheetData><row r="2"><c r="A2" t="s"><v>0</v></c><c r="C2"><v>12.5</v></c></row><row r="3"/><row r="4"><c r="B4" t="s"><v>1</v></c><c r="C4" t="inlineStr"><is><t>&#x3042;&lt;1&gt;</t></is></c><c r="D4" t="s"><v>2</v></c></row></sheetData></worksheet>"#;
        let bytes = zip_of(&[
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
            ("xl/sharedStrings.xml", shared.as_bytes()),
            ("xl/worksheets/data.xml", sheet.as_bytes()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let rows = read_first_sheet(&path).unwrap();
        let cells = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rows,
            vec![
                Row {
                    number: 2,
                    cells: cells(&["医療機関番号", "", "12.5"])
                },
                Row {
                    number: 3,
                    cells: vec![]
                },
                Row {
                    number: 4,
                    cells: cells(&["", "熊坂歯科 & 医院", "あ<1>", ""])
                },
            ]
        );
    }

    #[test]
    fn not_a_workbook_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.xlsx");
        std::fs::write(&path, b"csv,not,zip\n").unwrap();
        let e = read_first_sheet(&path).unwrap_err().to_string();
        assert!(e.contains("x.xlsx") && e.contains("not a ZIP file"), "{e}");
        let bytes = zip_of(&[("xl/workbook.xml", b"<workbook/>")]);
        std::fs::write(&path, bytes).unwrap();
        let e = read_first_sheet(&path).unwrap_err().to_string();
        assert!(e.contains("no xl/_rels/workbook.xml.rels"), "{e}");
    }

    #[test]
    fn columns_and_entities() {
        assert_eq!(column("A1"), Some(0));
        assert_eq!(column("X30644"), Some(23));
        assert_eq!(column("AB12"), Some(27));
        assert_eq!(column("12"), None);
        assert_eq!(unescape("a &amp;&#65;&#x42; &bogus; &"), "a &AB &bogus; &");
        assert_eq!(attr(r#" r="A2" s='0' t="s""#, "t"), Some("s"));
        assert_eq!(attr(r#" r="A2""#, "t"), None);
    }
}
