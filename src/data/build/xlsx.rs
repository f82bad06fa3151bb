//! Reading the first worksheet of an `.xlsx` workbook as rows of text, through `calamine`: what
//! the 厚生局 届出 lists need, as the dental list is published as xlsx only. Cell values are
//! taken as written: strings as they are, whole numbers without a decimal point (codes such as
//! 保険医療機関コード are stored as numbers), no formulas or styles.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::data::files::DataError;

/// One row of a worksheet: its 1-based row number and its cells from column A, with empty
/// strings for cells not written.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<String>,
}

fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

/// The rows of the workbook's first worksheet, in sheet order.
pub fn read_first_sheet(path: &Path) -> Result<Vec<Row>, DataError> {
    let err = |msg: String| DataError::Source(format!("{}: {msg}", path.display()));
    let mut book: Xlsx<_> =
        open_workbook(path).map_err(|e: calamine::XlsxError| err(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| err("no worksheet".into()))?
        .map_err(|e| err(e.to_string()))?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut out = vec![String::new(); first_col as usize];
            out.extend(cells.iter().map(text));
            while out.last().is_some_and(String::is_empty) {
                out.pop();
            }
            Row {
                number: first_row + i as u32 + 1,
                cells: out,
            }
        })
        .collect())
}
