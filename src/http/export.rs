//! Downloads of the filtered facility list — CSV, XLSX, the whole GeoJSON layer and Open
//! Referral HSDS 3.0 — and the import template, all in the columns of [`crate::sheet`].
//! Every record is the caller's projection; bodies are written chunk by chunk as they are sent.

use std::io::Write;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use tracing::instrument;

use super::AppState;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::request;
use super::routes::{self, SearchParams};
use crate::catalog::Catalog;
use crate::domain::{Audience, Facility, project};
use crate::sheet;

/// Rows (or records) serialized per streamed chunk.
const CHUNK: usize = 256;

/// What Excel needs to read a CSV file as UTF-8.
const BOM: &[u8] = "\u{feff}".as_bytes();

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The name of the XLSX sheet that explains the columns.
pub const HELP_SHEET: &str = "列の説明";
/// The name of the XLSX sheet of facilities.
pub const DATA_SHEET: &str = "施設一覧";

/// `all` of the GeoJSON layer: whether to send the whole filtered set as a download.
pub(super) fn whole_layer(p: &Params) -> Result<bool, ApiError> {
    let all = p.flag("all")?;
    let conflict = ["cluster", "limit", "cursor"]
        .into_iter()
        .find(|n| p.get(n).is_some());
    if let (true, Some(name)) = (all, conflict) {
        return Err(ApiError::bad_parameter(
            name,
            format!("`all=true` sends every matching facility as points: leave `{name}` out."),
        ));
    }
    Ok(all)
}

/// The day's file name, `pallimap-YYYYMMDD.EXT` (JST).
fn file_name(ext: &str) -> String {
    let d = crate::domain::schedule::jst(crate::auth::now()).date();
    format!(
        "pallimap-{:04}{:02}{:02}.{ext}",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

/// Mark `response` as a download of today's file with extension `ext`.
pub(super) fn attach(response: &mut HttpResponse, ext: &str) {
    attach_as(response, &file_name(ext));
}

fn attach_as(response: &mut HttpResponse, name: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
}

/// A signed-in caller's download must not be kept by shared caches.
fn private(response: &mut HttpResponse, audience: Audience) {
    if audience != Audience::Public {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
}

/// Every facility matching the list filters of `p`, in the list's order, and the caller.
async fn whole_set(
    req: &HttpRequest,
    state: &AppState,
    p: &Params,
) -> Result<(Arc<Catalog>, Vec<u32>, Audience), ApiError> {
    let mut search = request::search_request(p, 1, 1)?;
    let aud = routes::audience(req, state).await?;
    search.formulary = request::formulary_filter(p, aud)?;
    let catalog = state.catalog.load();
    // No pages: the whole result set (the catalog bounds it).
    search.limit = catalog.len().max(1);
    let (catalog, _, results) = routes::run_search(catalog, search).await?;
    let ords = results.hits.iter().map(|h| h.ord).collect();
    Ok((catalog, ords, aud))
}

/// The text encodings of a CSV download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// UTF-8 with a BOM, so that Excel opens it.
    Utf8,
    /// Shift_JIS as Windows writes it (CP932).
    ShiftJis,
}

fn encoding(p: &Params) -> Result<Encoding, ApiError> {
    match p.get("encoding").map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8" | "utf8") => Ok(Encoding::Utf8),
        Some("shift_jis" | "shift-jis" | "sjis" | "cp932" | "windows-31j") => {
            Ok(Encoding::ShiftJis)
        }
        Some(other) => Err(ApiError::bad_parameter(
            "encoding",
            format!(
                "Unknown value `{other}` for `encoding`. Valid values: utf-8 (with a BOM; the default), shift_jis (CP932, for older Excel)."
            ),
        )),
    }
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Utf8 => "text/csv; charset=utf-8",
            Encoding::ShiftJis => "text/csv; charset=Shift_JIS",
        }
    }

    /// `text` in this encoding. Shift_JIS replaces a character it cannot hold by its HTML
    /// numeric character reference (`&#128512;`), as the WHATWG Encoding Standard's encoder
    /// does, so nothing is lost silently.
    fn encode(self, text: Vec<u8>) -> Result<Bytes, std::io::Error> {
        match self {
            Encoding::Utf8 => Ok(Bytes::from(text)),
            Encoding::ShiftJis => {
                let s = String::from_utf8(text).map_err(std::io::Error::other)?;
                let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&s);
                Ok(Bytes::from(bytes.into_owned()))
            }
        }
    }
}

/// Rows as CSV (RFC 4180, CRLF line ends) in `encoding`.
fn csv_chunk<R, I>(rows: R, encoding: Encoding) -> Result<Bytes, std::io::Error>
where
    R: IntoIterator<Item = I>,
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(CHUNK * 256));
    for row in rows {
        // A cell opening with = + - @ is guarded: Excel shows it as text, never runs it.
        let row: Vec<_> = row
            .into_iter()
            .map(|c| sheet::guard(c.as_ref()).into_owned())
            .collect();
        w.write_record(&row).map_err(std::io::Error::other)?;
    }
    let text = w
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    encoding.encode(text)
}

/// The head of a CSV file: the BOM (UTF-8 only) and the header row.
fn csv_head(encoding: Encoding) -> Result<Bytes, std::io::Error> {
    let header = csv_chunk([sheet::header()], encoding)?;
    Ok(match encoding {
        Encoding::Utf8 => [BOM, &header].concat().into(),
        Encoding::ShiftJis => header,
    })
}

/// `ords` as rows of the template's columns, as `audience` may see them.
fn row(catalog: &Catalog, ord: u32, audience: Audience) -> Vec<String> {
    let shown: Facility = project(&catalog.at(ord), audience);
    sheet::row_of(&shown, audience != Audience::Public)
}

fn streamed<I>(content_type: &str, chunks: I) -> HttpResponse
where
    I: Iterator<Item = Result<Bytes, std::io::Error>> + Unpin + 'static,
{
    HttpResponse::Ok()
        .content_type(content_type)
        .streaming(futures_util::stream::iter(chunks))
}

/// Query parameters of the CSV download.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CsvParams {
    /// `utf-8` (with a BOM, so Excel opens it; the default) or `shift_jis` (CP932). In
    /// Shift_JIS a character it cannot hold (e.g. 𠮷) is written as its HTML numeric
    /// character reference (`&#134071;`), as the WHATWG Encoding Standard does.
    encoding: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/facilities.csv", tag = "exports",
    params(SearchParams, CsvParams),
    responses(
        (status = 200, description = "Every matching facility (no pages) as CSV in the import template's columns (Japanese headings), as this caller may see it: professional columns such as FAX are blank for the public. A download (`Content-Disposition: attachment; filename=\"pallimap-YYYYMMDD.csv\"`), streamed", body = String, content_type = "text/csv"),
        (status = 400, description = "A parameter is malformed, unknown or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`opioid` or `stock` without signing in (the parameter is named), or a stale credential", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn facilities_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &request::CSV_PARAMS)?;
    let encoding = encoding(&p)?;
    let (catalog, ords, aud) = whole_set(&req, &state, &p).await?;
    let head = std::iter::once(csv_head(encoding));
    let ords = Arc::new(ords);
    let n = ords.len();
    let body = (0..n.div_ceil(CHUNK)).map(move |c| {
        let rows = ords[c * CHUNK..((c + 1) * CHUNK).min(n)]
            .iter()
            .map(|&o| row(&catalog, o, aud));
        csv_chunk(rows, encoding)
    });
    let mut response = streamed(encoding.content_type(), head.chain(body));
    attach(&mut response, "csv");
    private(&mut response, aud);
    Ok(response)
}

/// A `Write` that sends what is written, in chunks, to the response body.
struct BodyWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const BODY_CHUNK: usize = 64 * 1024;

impl BodyWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(BODY_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= BODY_CHUNK {
            self.send()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Headings bold, the header row frozen, widths a person can read.
fn header_row(ws: &mut Worksheet, cells: &[&str], widths: &[f64]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (c, (text, width)) in cells.iter().zip(widths).enumerate() {
        let c = c as u16;
        ws.set_column_width(c, *width)?;
        ws.write_string_with_format(0, c, *text, &bold)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn width_of(key: &str) -> f64 {
    match key {
        "name" | "address" | "notes" | "services" => 36.0,
        "kind" | "id" | "url" => 20.0,
        _ => 14.0,
    }
}

/// The facilities sheet (constant memory: rows go to a temporary file as written) and the
/// 「列の説明」 sheet.
fn workbook(rows: impl Iterator<Item = Vec<String>>) -> Result<Workbook, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(DATA_SHEET)?;
    let widths: Vec<f64> = sheet::COLUMNS.iter().map(|c| width_of(c.key)).collect();
    header_row(ws, &sheet::header(), &widths)?;
    for (r, cells) in rows.enumerate() {
        let r = r as u32 + 1;
        for (c, v) in cells.iter().enumerate() {
            // Every cell is text, as in the CSV: codes keep their leading zeros.
            if !v.is_empty() {
                ws.write_string(r, c as u16, v)?;
            }
        }
    }
    let help = wb.add_worksheet();
    help.set_name(HELP_SHEET)?;
    header_row(
        help,
        &["列名", "キー", "説明", "必須", "公開範囲"],
        &[20.0, 14.0, 80.0, 8.0, 20.0],
    )?;
    for (r, col) in sheet::COLUMNS.iter().enumerate() {
        let r = r as u32 + 1;
        help.write_string(r, 0, col.ja)?;
        help.write_string(r, 1, col.key)?;
        help.write_string(r, 2, col.help_ja)?;
        help.write_string(r, 3, if col.required { "必須" } else { "" })?;
        help.write_string(
            r,
            4,
            if col.professional {
                "医療・介護職のみ"
            } else {
                "公開"
            },
        )?;
    }
    Ok(wb)
}

/// Send `wb` as the body, zipped as it is sent, from the blocking pool.
fn xlsx_response(mut wb: Workbook) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut w = BodyWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(BODY_CHUNK),
        };
        let done = wb.save_to_writer(&mut w).map_err(std::io::Error::other);
        let done = done.and_then(|()| w.flush());
        if let Err(e) = done {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, "XLSX export failed while sending");
            }
            // Ends the body early: the client sees a broken download, not a short file.
            let _ = tx.blocking_send(Err(e));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    HttpResponse::Ok()
        .content_type(XLSX_TYPE)
        .streaming(Box::pin(body))
}

#[utoipa::path(get, path = "/api/v1/facilities.xlsx", tag = "exports",
    params(SearchParams),
    responses(
        (status = 200, description = "The rows of `/api/v1/facilities.csv` as an XLSX workbook: sheet 施設一覧 (every cell text), and sheet 列の説明 with each column's heading, key and what goes in it. A download, streamed", body = String, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "A parameter is malformed, unknown or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`opioid` or `stock` without signing in (the parameter is named), or a stale credential", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn facilities_xlsx(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &request::EXPORT_PARAMS)?;
    let (catalog, ords, aud) = whole_set(&req, &state, &p).await?;
    let wb = web::block(move || workbook(ords.iter().map(|&o| row(&catalog, o, aud))))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let mut response = xlsx_response(wb);
    attach(&mut response, "xlsx");
    private(&mut response, aud);
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/export/hsds", tag = "exports",
    params(SearchParams),
    responses(
        (status = 200, description = "Every matching facility as Open Referral HSDS 3.0 JSON, as this caller may see it: `{hsds_version, generated_at, total_items, organizations: [organization with organization_identifiers, phones and locations (addresses, schedules)], services: [service with service_at_locations]}`; one organization and one location per facility, one service per offered service (status `active` or `temporarily closed`); FAX and direct lines only for callers who may see them. Ids are stable name-based UUIDs. A download, streamed", body = Object),
        (status = 400, description = "A parameter is malformed, unknown or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`opioid` or `stock` without signing in (the parameter is named), or a stale credential", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn hsds(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &request::EXPORT_PARAMS)?;
    let (catalog, ords, aud) = whole_set(&req, &state, &p).await?;
    let n = ords.len();
    let head = format!(
        "{{\"hsds_version\":{},\"generated_at\":{},\"total_items\":{n},\"organizations\":[",
        serde_json::json!(super::hsds::VERSION),
        serde_json::json!(crate::auth::timestamp(crate::auth::now())),
    );
    let ords = Arc::new(ords);
    // Two passes over the same ords: organizations, then services.
    let pass = move |services: bool| {
        let ords = ords.clone();
        let catalog = catalog.clone();
        let mut first = true;
        (0..n.div_ceil(CHUNK)).map(move |c| {
            let mut buf = Vec::with_capacity(CHUNK * 1024);
            for &o in &ords[c * CHUNK..((c + 1) * CHUNK).min(n)] {
                let f = project(&catalog.at(o), aud);
                let records = if services {
                    super::hsds::services(&f)
                } else {
                    vec![super::hsds::organization(&f)]
                };
                for r in records {
                    if !std::mem::take(&mut first) {
                        buf.push(b',');
                    }
                    serde_json::to_writer(&mut buf, &r).map_err(std::io::Error::other)?;
                }
            }
            Ok::<Bytes, std::io::Error>(Bytes::from(buf))
        })
    };
    let body = std::iter::once(Ok(Bytes::from(head)))
        .chain(pass(false))
        .chain(std::iter::once(Ok(Bytes::from_static(b"],\"services\":["))))
        .chain(pass(true))
        .chain(std::iter::once(Ok(Bytes::from_static(b"]}"))));
    let mut response = streamed("application/json", body);
    attach(&mut response, "hsds.json");
    private(&mut response, aud);
    Ok(response)
}

/// The template's example row: a made-up facility, labelled 例 in its name and notes.
pub fn example_facility() -> Facility {
    use crate::domain::*;
    let prov = Provenance {
        origin: Origin::Coordinator,
        source: "template".into(),
        snapshot: None,
    };
    let contact = |kind, value: &str, visibility| Contact {
        kind,
        value: value.into(),
        label: None,
        visibility,
        provenance: prov.clone(),
    };
    let service = |kind| Service {
        kind,
        status: ServiceStatus::Active,
        attributes: ServiceAttributes::default(),
        capacity: None,
        admission_rules: None,
        provenance: prov.clone(),
        updated_at: String::new(),
        verified_at: None,
        verified_by: None,
    };
    Facility {
        id: String::new(),
        kind: FacilityKind::Clinic,
        name: "（例）さいたま在宅クリニック".into(),
        name_kana: Some("レイサイタマザイタククリニック".into()),
        identifiers: Identifiers::default(),
        address: Address {
            postal_code: Some("3300061".into()),
            prefecture: "埼玉県".into(),
            municipality_code: Some("11107".into()),
            municipality: Some("さいたま市浦和区".into()),
            text: "埼玉県さいたま市浦和区常盤6-4-4".into(),
        },
        location: Some(LatLng {
            lat: 35.8617,
            lng: 139.6455,
        }),
        placement: Placement::Source,
        area_code: Some("1104".into()),
        contacts: vec![
            contact(ContactKind::Phone, "048-000-0000", Visibility::Public),
            contact(ContactKind::Fax, "048-000-0001", Visibility::Professional),
        ],
        hours: Hours::default(),
        after_hours: None,
        specialists: None,
        partners: Vec::new(),
        consultations: Vec::new(),
        gathering: None,
        url: Some("https://example.jp/".into()),
        notes: Some("記入例です。この行を消してから施設を記入してください".into()),
        services: vec![
            service(ServiceKind::HomeCareSupport),
            service(ServiceKind::HomeVisits),
        ],
        provenance: prov.clone(),
        updated_at: String::new(),
        verified_at: Some("2024-04-01".into()),
        verified_by: None,
        status: FacilityStatus::default(),
        version: 0,
    }
}

/// The template's rows: the header and the example.
fn template_rows() -> (Vec<&'static str>, Vec<String>) {
    (sheet::header(), sheet::row_of(&example_facility(), true))
}

#[utoipa::path(get, path = "/api/v1/import/template.csv", tag = "exports",
    params(CsvParams),
    responses(
        (status = 200, description = "The import template: the header row (Japanese headings) and one example row of a made-up facility labelled （例）. A download", body = String, content_type = "text/csv"),
        (status = 400, description = "Unknown parameter or encoding", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn template_csv(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["encoding"])?;
    let encoding = encoding(&p)?;
    let (_, example) = template_rows();
    let mut body = csv_head(encoding)
        .map_err(|e| ApiError::internal(&e))?
        .to_vec();
    body.extend_from_slice(&csv_chunk([example], encoding).map_err(|e| ApiError::internal(&e))?);
    let mut response = HttpResponse::Ok()
        .content_type(encoding.content_type())
        .body(body);
    attach_as(&mut response, "pallimap-import-template.csv");
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/import/template.xlsx", tag = "exports",
    responses(
        (status = 200, description = "The import template as XLSX: sheet 施設一覧 with the header row and one example row labelled （例）, and sheet 列の説明 with each column's heading, key, what goes in it, whether it is required and who may see it. A download", body = String, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn template_xlsx(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let bytes = web::block(|| {
        let (_, example) = template_rows();
        workbook(std::iter::once(example))?.save_to_buffer()
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    let mut response = HttpResponse::Ok().content_type(XLSX_TYPE).body(bytes);
    attach_as(&mut response, "pallimap-import-template.xlsx");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_jis_replaces_what_it_cannot_hold_by_a_character_reference() {
        let b = Encoding::ShiftJis
            .encode("髙橋𠮷".as_bytes().to_vec())
            .unwrap();
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&b);
        assert!(!bad);
        assert_eq!(text, "髙橋&#134071;");
    }

    #[test]
    fn the_example_row_fills_every_column_but_the_new_facility_id_and_codes() {
        let (header, row) = template_rows();
        assert_eq!(header.len(), row.len());
        for (c, v) in sheet::COLUMNS.iter().zip(&row) {
            let blank_ok = matches!(c.key, "id" | "navii" | "hic" | "kaigo");
            assert_eq!(v.is_empty(), blank_ok, "{}: `{v}`", c.key);
        }
        assert!(row[2].contains("例"));
    }
}
