//! Reading the rows of a CSV or XLSX file as Japanese offices produce them: UTF-8 (with or
//! without a BOM) or Shift_JIS / CP932, detected or named; XLSX through calamine. CSV rows
//! stream (a file of any size is read in bounded memory); an XLSX sheet is read whole (the
//! format is a zip: its size is bounded by the upload limit).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use encoding_rs::{SHIFT_JIS, UTF_8};

/// A text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Shift_JIS as Windows writes it (CP932 / Windows-31J: the WHATWG Shift_JIS decoder).
    ShiftJis,
}

impl Encoding {
    pub fn from_code(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" => Some(Encoding::Utf8),
            "shiftjis" | "sjis" | "cp932" | "windows31j" => Some(Encoding::ShiftJis),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::ShiftJis => "shift_jis",
        }
    }

    fn of(self) -> &'static encoding_rs::Encoding {
        match self {
            Encoding::Utf8 => UTF_8,
            Encoding::ShiftJis => SHIFT_JIS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// The format of a file: a zip (XLSX) by its first bytes, else CSV.
pub fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"PK\x03\x04") {
        Format::Xlsx
    } else {
        Format::Csv
    }
}

/// How much of a CSV file is looked at to tell UTF-8 from Shift_JIS.
const SNIFF_BYTES: usize = 64 * 1024;

/// UTF-8 when the start of the file has a UTF-8 BOM or is valid UTF-8 (a sequence cut at the
/// end of the sample allowed), else Shift_JIS.
pub fn detect(head: &[u8]) -> Encoding {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::ShiftJis,
    }
}

/// What went wrong reading the file itself (not one row).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the XLSX file could not be opened: {0}")]
    Xlsx(String),
    #[error("the XLSX file has no sheet")]
    NoSheet,
}

/// One row: its number as a spreadsheet shows it (the header is row 1), and its cells, or
/// why it could not be read.
pub type Row = (usize, Result<Vec<String>, String>);

/// The rows of `r` (header first), and the encoding used (XLSX: UTF-8).
pub fn rows<R: Read + Seek + 'static>(
    mut r: R,
    format: Format,
    encoding: Option<Encoding>,
) -> Result<(Encoding, Box<dyn Iterator<Item = Row>>), ReadError> {
    match format {
        Format::Xlsx => {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes)?;
            Ok((Encoding::Utf8, Box::new(xlsx_rows(bytes)?.into_iter())))
        }
        Format::Csv => {
            let mut head = vec![0; SNIFF_BYTES];
            let n = read_up_to(&mut r, &mut head)?;
            head.truncate(n);
            let enc = encoding.unwrap_or_else(|| detect(&head));
            r.seek(SeekFrom::Start(0))?;
            let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(enc.of()))
                .bom_override(true)
                .build(r);
            Ok((enc, Box::new(csv_rows(BufReader::new(decoded), enc))))
        }
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn csv_rows(r: impl BufRead + 'static, enc: Encoding) -> impl Iterator<Item = Row> {
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(r);
    reader.into_records().enumerate().map(move |(i, rec)| {
        let n = i + 1;
        let cells = rec
            .map_err(|e| match e.kind() {
                csv::ErrorKind::Utf8 { .. } => not_valid(n, enc),
                _ => format!("row {n} could not be read as CSV: {e}"),
            })
            .and_then(|rec| {
                let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
                if cells.iter().any(|c| c.contains('\u{fffd}')) {
                    Err(not_valid(n, enc))
                } else {
                    Ok(cells)
                }
            });
        (n, cells)
    })
}

fn not_valid(n: usize, enc: Encoding) -> String {
    format!(
        "row {n} holds bytes that are not valid {}: save the file as UTF-8 or Shift_JIS, or name its encoding",
        enc.code()
    )
}

fn xlsx_rows(bytes: Vec<u8>) -> Result<Vec<Row>, ReadError> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(ReadError::NoSheet)?;
    let range = book
        .worksheet_range(&name)
        .map_err(|e| ReadError::Xlsx(e.to_string()))?;
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.trim().to_string(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Int(n) => n.to_string(),
                    Data::Bool(b) => b.to_string(),
                    // Excel's serial day count from 1899-12-30 (its 1900 leap-year slip included).
                    Data::DateTime(d) => time::macros::date!(1899 - 12 - 30)
                        .checked_add(time::Duration::days(d.as_f64().floor() as i64))
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => format!("#{e:?}"),
                })
                .collect();
            (i + 1, Ok(cells))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected_and_decoded() {
        let text = "名称,所在地\n川越の薬局,埼玉県川越市脇田町\n";
        let (sjis, _, _) = SHIFT_JIS.encode(text);
        assert_eq!(detect(text.as_bytes()), Encoding::Utf8);
        assert_eq!(detect(&sjis), Encoding::ShiftJis);
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        for (bytes, want) in [
            (bom, Encoding::Utf8),
            (sjis.to_vec(), Encoding::ShiftJis),
            (text.as_bytes().to_vec(), Encoding::Utf8),
        ] {
            let (enc, rows) = rows(std::io::Cursor::new(bytes), Format::Csv, None).unwrap();
            assert_eq!(enc, want);
            let rows: Vec<Row> = rows.collect();
            assert_eq!(rows[0], (1, Ok(vec!["名称".to_string(), "所在地".into()])));
            assert_eq!(
                rows[1],
                (
                    2,
                    Ok(vec!["川越の薬局".to_string(), "埼玉県川越市脇田町".into()])
                )
            );
        }
        // Shift_JIS read as UTF-8: the row says so.
        let (_, mut r) = rows(
            std::io::Cursor::new(sjis.to_vec()),
            Format::Csv,
            Some(Encoding::Utf8),
        )
        .unwrap();
        assert!(r.next().unwrap().1.unwrap_err().contains("not valid utf-8"));
        assert_eq!(Encoding::from_code("CP932"), Some(Encoding::ShiftJis));
        assert_eq!(Encoding::from_code("utf_8"), Some(Encoding::Utf8));
        assert_eq!(sniff(b"PK\x03\x04rest"), Format::Xlsx);
    }
}
