//! The coordinator's import: a CSV or XLSX file of facilities in the template's columns
//! ([`crate::sheet`]) checked row by row — created, updated, unchanged or rejected, each
//! rejection with its row, column and what to fix — and then applied all-or-nothing in one
//! transaction, upserting by id (or a registry identifier), recorded in the change log with the
//! file's name and checksum. Re-importing the same file changes nothing.
//!
//! Both steps stream the rows: a check keeps counts and the rows worth showing, an apply
//! checks each row again and writes it inside the transaction, so a file of any length is
//! read in bounded memory.

use std::collections::HashMap;
use std::io::{Read, Seek};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::domain::{
    Contact, ContactKind, Facility, FacilityKind, Identifiers, LatLng, Origin, Placement,
    Provenance, Service, ServiceAttributes, ServiceKind, ServiceStatus, User, Visibility, ja,
};
use crate::sheet::{self, Column, wareki};
use crate::store::{Edit, EditError, Store, StoreError};

pub mod read;

pub use read::{Encoding, Format};

/// Largest file accepted.
pub const MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Rows shown in a preview besides the rejected ones (all of which are shown, up to this too).
pub const SHOWN_ROWS: usize = 1000;

/// What happens to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Reject,
}

/// A cell's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    /// The column's heading (施設ID, 電話番号 …), or `None` for the whole row.
    pub column: Option<&'static str>,
    pub key: Option<&'static str>,
    pub message: String,
}

/// One row worth showing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowReport {
    /// As a spreadsheet numbers it: the header is row 1.
    pub row: usize,
    pub action: Action,
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<CellError>,
}

/// The outcome of a check (and, with `applied`, of the apply).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub file: String,
    /// `sha256:<hex>` of the file's bytes.
    pub checksum: String,
    pub format: &'static str,
    pub encoding: &'static str,
    /// Data rows (the header not counted).
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// Header cells that name no column (ignored).
    pub ignored_columns: Vec<String>,
    /// Problems of the file itself (no header, an unreadable file): nothing can be applied.
    pub file_errors: Vec<String>,
    /// Rejected rows first, then created and updated ones, at most [`SHOWN_ROWS`].
    pub items: Vec<RowReport>,
    pub applied: bool,
}

impl Preview {
    pub fn acceptable(&self) -> bool {
        self.rejected == 0 && self.file_errors.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] read::ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Edit(#[from] EditError),
    /// The file has rejected rows or file errors: nothing was applied.
    #[error("{} rows rejected: nothing was applied", .0.rejected)]
    Rejected(Box<Preview>),
}

/// Who imports: an account (its rights apply to every row), or the operator on the command
/// line (every row allowed).
#[derive(Debug, Clone, Copy)]
pub enum Importer<'a> {
    User(&'a User),
    Operator,
}

/// What a check needs: the catalog (geocoder, municipalities, areas) and the stored
/// facilities by id and by registry identifier.
pub struct Context<'a> {
    catalog: &'a Catalog,
    by_id: HashMap<String, Facility>,
    by_identifier: HashMap<String, String>,
    importer: Importer<'a>,
    file: String,
    source: String,
    at: String,
}

impl<'a> Context<'a> {
    /// `facilities`: every stored facility (inactive ones too, so an id is never reissued).
    pub fn new(
        catalog: &'a Catalog,
        facilities: Vec<Facility>,
        importer: Importer<'a>,
        file: &str,
        checksum: &str,
        at: &str,
    ) -> Context<'a> {
        let mut by_identifier = HashMap::new();
        for f in &facilities {
            let ids = &f.identifiers;
            for (tag, v) in [
                ("navii", &ids.navii),
                ("hic", &ids.hic),
                ("kaigo", &ids.kaigo),
            ] {
                if let Some(v) = v {
                    by_identifier
                        .entry(format!("{tag}:{v}"))
                        .or_insert_with(|| f.id.clone());
                }
            }
        }
        Context {
            catalog,
            by_id: facilities.into_iter().map(|f| (f.id.clone(), f)).collect(),
            by_identifier,
            importer,
            file: file.to_string(),
            source: format!("import:{file}:{}", &checksum[..checksum.len().min(23)]),
            at: at.to_string(),
        }
    }
}

/// `sha256:<hex>` of everything `r` holds; rewinds it.
pub fn checksum<R: Read + Seek>(r: &mut R) -> std::io::Result<String> {
    let mut h = Sha256::new();
    std::io::copy(r, &mut h)?;
    r.rewind()?;
    Ok(format!("sha256:{:x}", h.finalize()))
}

/// The columns of the header row, or the file's error.
struct Header {
    columns: Vec<Option<&'static Column>>,
    ignored: Vec<String>,
    /// The template's サービス column lists a facility's services whole (one not listed ends);
    /// a public source's サービスの種類 names one service of the row, added to the others.
    whole_services: bool,
}

fn header(cells: &[String]) -> Result<Header, String> {
    let mut columns = Vec::new();
    let mut ignored = Vec::new();
    let mut whole_services = true;
    for c in cells {
        let col = sheet::column_of_header(c);
        if col.is_some_and(|c| c.key == "services") && sheet::is_alias(c) {
            whole_services = false;
        }
        if let Some(col) = col
            && columns.contains(&Some(col))
        {
            return Err(format!(
                "見出し「{}」が2回あります / The header names {} twice.",
                col.ja, col.ja
            ));
        }
        if col.is_none() && !c.trim().is_empty() {
            ignored.push(c.clone());
        }
        columns.push(col);
    }
    let has = |k: &str| columns.iter().flatten().any(|c| c.key == k);
    if !["id", "navii", "hic", "kaigo", "name"]
        .iter()
        .any(|k| has(k))
    {
        return Err(format!(
            "1行目はひな形の見出し行にしてください / The first row must be the header with the template's headings ({}); none of 施設ID, 名称 or a registry identifier was found. Download the template from /api/v1/import/template.csv.",
            sheet::header().join(", ")
        ));
    }
    Ok(Header {
        columns,
        ignored,
        whole_services,
    })
}

/// Check or apply the rows of `r`. Without `apply` nothing is written; with it the file is
/// applied only when every row passes (else [`ImportError::Rejected`] with the preview).
pub fn run<R: Read + Seek + 'static>(
    r: R,
    format: Format,
    encoding: Option<Encoding>,
    ctx: &Context<'_>,
    checksum: &str,
    store: Option<&Store>,
    mut progress: impl FnMut(usize),
) -> Result<Preview, ImportError> {
    let (enc, rows) = read::rows(r, format, encoding)?;
    let mut p = Preview {
        file: ctx.file.clone(),
        checksum: checksum.to_string(),
        format: format.code(),
        encoding: enc.code(),
        rows: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        ignored_columns: Vec::new(),
        file_errors: Vec::new(),
        items: Vec::new(),
        applied: false,
    };
    let mut checker = Checker::new(ctx);
    let mut shown_ok = Vec::new();
    let mut rows = rows.peekable();
    let head = match rows.next() {
        None => {
            p.file_errors
                .push("ファイルが空です / The file is empty: it needs the header row and at least one row.".into());
            return finish(p, store);
        }
        Some((_, Err(e))) => {
            p.file_errors.push(e);
            return finish(p, store);
        }
        Some((_, Ok(cells))) => match header(&cells) {
            Ok(h) => h,
            Err(e) => {
                p.file_errors.push(e);
                return finish(p, store);
            }
        },
    };
    p.ignored_columns = head.ignored.clone();
    if rows.peek().is_none() {
        p.file_errors.push(
            "見出し行だけで、データの行がありません / The file has a header and no rows.".into(),
        );
    }
    match store {
        // A check: every row, counted; the rows worth showing kept.
        None => {
            for (n, cells) in rows {
                p.rows += 1;
                progress(p.rows);
                let (report, _) = checker.row(n, cells, &head);
                count(&mut p, &report);
                match report.action {
                    Action::Reject if p.items.len() < SHOWN_ROWS => p.items.push(report),
                    Action::Create | Action::Update if shown_ok.len() < SHOWN_ROWS => {
                        shown_ok.push(report)
                    }
                    _ => {}
                }
            }
            let room = SHOWN_ROWS.saturating_sub(p.items.len());
            p.items.extend(shown_ok.into_iter().take(room));
            Ok(p)
        }
        // An apply: the rows checked again and written as they come, in one transaction; the
        // first rejected row rolls it back and a check tells the whole story.
        Some(store) => {
            if !p.file_errors.is_empty() {
                return Err(ImportError::Rejected(Box::new(p)));
            }
            let edit = Edit {
                actor: &actor_of(ctx.importer),
                source: &ctx.source,
                at: &ctx.at,
            };
            let mut rejected = false;
            let mut n_rows = 0;
            let written = store.import_facilities(
                &edit,
                rows.filter_map(|(n, cells)| {
                    n_rows += 1;
                    progress(n_rows);
                    let (report, f) = checker.row(n, cells, &head);
                    match report.action {
                        Action::Reject => {
                            rejected = true;
                            Some(Err(format!("row {n} is rejected")))
                        }
                        Action::Unchanged => None,
                        _ => {
                            if shown_ok.len() < SHOWN_ROWS {
                                shown_ok.push(report);
                            }
                            f.map(Ok)
                        }
                    }
                }),
            );
            match written {
                Ok((created, updated)) => {
                    p.rows = n_rows;
                    p.created = created;
                    p.updated = updated;
                    p.unchanged = n_rows - created - updated;
                    p.applied = true;
                    p.items = shown_ok;
                    Ok(p)
                }
                Err(EditError::Refused(_)) if rejected => Err(ImportError::Rejected(Box::new(p))),
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn finish(p: Preview, store: Option<&Store>) -> Result<Preview, ImportError> {
    match store {
        Some(_) => Err(ImportError::Rejected(Box::new(p))),
        None => Ok(p),
    }
}

fn count(p: &mut Preview, r: &RowReport) {
    match r.action {
        Action::Create => p.created += 1,
        Action::Update => p.updated += 1,
        Action::Unchanged => p.unchanged += 1,
        Action::Reject => p.rejected += 1,
    }
}

fn actor_of(i: Importer<'_>) -> String {
    match i {
        Importer::User(u) => format!("{}:{}", u.role.code(), u.email),
        Importer::Operator => "cli:import".into(),
    }
}

/// Checks rows one after another, remembering which facility each earlier row named.
struct Checker<'c, 'a> {
    ctx: &'c Context<'a>,
    seen: HashMap<String, usize>,
}

impl<'c, 'a> Checker<'c, 'a> {
    fn new(ctx: &'c Context<'a>) -> Self {
        Checker {
            ctx,
            seen: HashMap::new(),
        }
    }

    /// The report of one row and, unless rejected, the facility it makes.
    fn row(
        &mut self,
        n: usize,
        cells: Result<Vec<String>, String>,
        head: &Header,
    ) -> (RowReport, Option<Facility>) {
        let reject = |errors: Vec<CellError>, id: Option<String>, name: Option<String>| RowReport {
            row: n,
            action: Action::Reject,
            id,
            name,
            errors,
        };
        let cells = match cells {
            Ok(c) => c,
            Err(e) => {
                let err = CellError {
                    column: None,
                    key: None,
                    message: e,
                };
                return (reject(vec![err], None, None), None);
            }
        };
        if cells.len() > head.columns.len()
            && cells[head.columns.len()..].iter().any(|c| !c.is_empty())
        {
            let err = CellError {
                column: None,
                key: None,
                message: format!(
                    "{n}行目のセルの数が見出しと合いません / Row {n} has {} cells but the header has {}: check for a stray comma or an unclosed quote (\").",
                    cells.len(),
                    head.columns.len()
                ),
            };
            return (reject(vec![err], None, None), None);
        }
        // An unclosed quote swallows the rest of the file into one cell.
        if cells.len() < head.columns.len()
            && cells
                .last()
                .is_some_and(|c| c.contains(',') || c.contains('\n'))
        {
            let err = CellError {
                column: None,
                key: None,
                message: format!(
                    "{n}行目に閉じていない引用符（\"）があります / Row {n} has a quote (\") that is never closed: close it, or remove it."
                ),
            };
            return (reject(vec![err], None, None), None);
        }
        let mut cell: HashMap<&'static str, &str> = HashMap::new();
        for (i, col) in head.columns.iter().enumerate() {
            if let Some(col) = col {
                let raw = cells.get(i).map(String::as_str).unwrap_or("");
                cell.insert(col.key, sheet::unguard(raw));
            }
        }
        let name = cell
            .get("name")
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string());
        match facility_of(self.ctx, &cell, head.whole_services) {
            Err(errors) => (reject(errors, None, name), None),
            Ok((action, f)) => {
                if let Some(first) = self.seen.get(&f.id) {
                    let err = CellError {
                        column: Some("施設ID"),
                        key: Some("id"),
                        message: format!(
                            "{first}行目と同じ施設です。1施設1行にしてください / Row {first} names the same facility ({}); give each facility one row.",
                            f.id
                        ),
                    };
                    return (reject(vec![err], Some(f.id.clone()), name), None);
                }
                self.seen.insert(f.id.clone(), n);
                if let Err(why) = allowed(self.ctx, &f, action) {
                    let err = CellError {
                        column: None,
                        key: None,
                        message: why,
                    };
                    return (reject(vec![err], Some(f.id.clone()), name), None);
                }
                (
                    RowReport {
                        row: n,
                        action,
                        id: Some(f.id.clone()),
                        name: Some(f.name.clone()),
                        errors: Vec::new(),
                    },
                    Some(f),
                )
            }
        }
    }
}

fn allowed(ctx: &Context<'_>, f: &Facility, action: Action) -> Result<(), String> {
    let Importer::User(u) = ctx.importer else {
        return Ok(());
    };
    let res = match action {
        Action::Create => u.may_create_in(f.area_code.as_deref()),
        _ => match ctx.by_id.get(&f.id) {
            Some(old) => u.may_edit(old).and_then(|_| u.may_edit(f)),
            None => u.may_edit(f),
        },
    };
    res.map_err(|d| format!("担当地域の外の施設です / Not yours to import: {d}"))
}

fn err(col: &'static str, message: impl Into<String>) -> CellError {
    let c = sheet::column(col);
    CellError {
        column: c.map(|c| c.ja),
        key: c.map(|c| c.key),
        message: message.into(),
    }
}

/// A new facility's id: stable for the same kind, name and address, so a file imported
/// twice makes it once.
fn generated_id(kind: FacilityKind, name: &str, address: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.code());
    h.update([0]);
    h.update(ja::compact(name));
    h.update([0]);
    h.update(ja::compact(address));
    format!("gen-{}", &format!("{:x}", h.finalize())[..16])
}

fn kind_of(s: &str) -> Option<FacilityKind> {
    let k = ja::compact(s);
    FacilityKind::ALL
        .iter()
        .copied()
        .find(|f| f.code() == s || ja::compact(f.label_ja()) == k || ja::compact(f.label_en()) == k)
        .or(match k.as_str() {
            "歯科" | "歯科医院" => Some(FacilityKind::DentalClinic),
            "医院" | "クリニック" | "くりにっく" => Some(FacilityKind::Clinic),
            "訪問看護" | "ほうもんかんご" => Some(FacilityKind::VisitingNurseStation),
            _ => None,
        })
}

fn service_of(s: &str) -> Option<ServiceKind> {
    let k = ja::compact(s);
    ServiceKind::from_code(s.trim()).or_else(|| {
        ServiceKind::ALL
            .iter()
            .copied()
            .find(|sv| ja::compact(sv.label_ja()) == k || ja::compact(sv.label_en()) == k)
    })
}

fn digits_of(col: &'static str, v: &str, n: usize) -> Result<Option<String>, CellError> {
    if v.is_empty() {
        return Ok(None);
    }
    let d = ja::digits(v);
    let clean = v
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_numeric() || c == '-' || c == 'ー' || c == '－');
    if d.len() != n || !clean {
        return Err(err(
            col,
            format!("{n}桁の数字にしてください / `{v}` is not {n} digits."),
        ));
    }
    Ok(Some(d))
}

/// Japan's extent (with its remote islands), for coordinates.
const JAPAN: ([f64; 2], [f64; 2]) = ([20.0, 46.0], [122.0, 154.0]);

/// The facility a row describes and what happens to it, or every problem of the row.
fn facility_of(
    ctx: &Context<'_>,
    cell: &HashMap<&'static str, &str>,
    whole_services: bool,
) -> Result<(Action, Facility), Vec<CellError>> {
    let mut errors = Vec::new();
    let get = |k: &str| cell.get(k).copied();
    let given = |k: &str| get(k).filter(|v| !v.is_empty());
    macro_rules! check {
        ($e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        };
    }
    let kind = given("kind").and_then(|v| {
        check!(kind_of(v).ok_or_else(|| err(
            "kind",
            format!("種別「{v}」がわかりません / Unknown kind `{v}`. Use one of: {}, or 病院・診療所・歯科診療所・薬局・訪問看護ステーション.", FacilityKind::codes())
        )))
    });
    // Registry identifiers: checked unless they are the ones a stored facility already holds
    // (public registries hold a few irregular ones; an export read back must pass).
    let held = |tag: &str, v: &str| ctx.by_identifier.contains_key(&format!("{tag}:{v}"));
    let ident = |tag: &'static str, n: usize, errors: &mut Vec<CellError>| -> Option<String> {
        let v = given(tag)?;
        if held(tag, v) {
            return Some(v.to_string());
        }
        match digits_of(tag, v, n) {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    let navii = ident("navii", 13, &mut errors);
    let hic = ident("hic", 10, &mut errors);
    let kaigo = ident("kaigo", 10, &mut errors);
    // Which stored facility the row means: its id, else a registry identifier.
    let existing: Option<&Facility> = match given("id") {
        Some(id) => {
            let f = ctx.by_id.get(id);
            if f.is_none() {
                errors.push(err(
                    "id",
                    format!(
                        "施設ID「{id}」の施設はありません。新しい施設なら空欄に / No facility has the id `{id}`; leave 施設ID empty to add a new facility."
                    ),
                ));
            }
            f
        }
        None => [("navii", &navii), ("hic", &hic), ("kaigo", &kaigo)]
            .iter()
            .find_map(|(tag, v)| {
                let id = ctx.by_identifier.get(&format!("{tag}:{}", v.as_ref()?))?;
                ctx.by_id.get(id)
            }),
    };
    let name = given("name");
    if let Some(n) = name
        && n.chars().count() > 200
    {
        errors.push(err(
            "name",
            "名称は200文字以内です / `名称` is at most 200 characters.",
        ));
    }
    let address = given("address");
    // A public source's file has no 種別 column: the kind follows from the services.
    let kind = kind.or_else(|| {
        if get("kind").is_some() {
            return None;
        }
        let listed: Vec<ServiceKind> = get("services")?
            .split([';', '；', '、', ',', '，'])
            .filter_map(service_of)
            .collect();
        let has = |k| listed.contains(&k);
        Some(if has(ServiceKind::VisitingNursing) {
            FacilityKind::VisitingNurseStation
        } else if has(ServiceKind::HomeVisitDental) {
            FacilityKind::DentalClinic
        } else if has(ServiceKind::OpioidDispensing) || has(ServiceKind::HomeMedicationManagement) {
            FacilityKind::Pharmacy
        } else {
            FacilityKind::Other
        })
    });
    let mut f = match existing {
        Some(f) => f.clone(),
        None => {
            for (k, v) in [
                ("kind", kind.is_some()),
                ("name", name.is_some()),
                ("address", address.is_some()),
            ] {
                if !v && !errors.iter().any(|e| e.key == Some(k)) {
                    let c = sheet::column(k).expect("template column");
                    errors.push(err(
                        k,
                        format!(
                            "新しい施設には{}が必要です / A new facility needs {}.",
                            c.ja, c.ja
                        ),
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            let (kind, name, address) = (
                kind.expect("checked"),
                name.expect("checked"),
                address.expect("checked"),
            );
            Facility {
                id: generated_id(kind, name, address),
                kind,
                name: name.to_string(),
                name_kana: None,
                identifiers: Identifiers::default(),
                address: Default::default(),
                location: None,
                placement: Placement::Unplaced,
                area_code: None,
                contacts: Vec::new(),
                hours: Default::default(),
                after_hours: None,
                specialists: None,
                partners: Vec::new(),
                consultations: Vec::new(),
                gathering: None,
                url: None,
                notes: None,
                services: Vec::new(),
                provenance: Provenance {
                    origin: Origin::Coordinator,
                    source: ctx.source.clone(),
                    snapshot: Some(ctx.at.get(..10).unwrap_or(&ctx.at).to_string()),
                },
                updated_at: ctx.at.clone(),
                verified_at: None,
                verified_by: None,
                status: Default::default(),
                version: 0,
            }
        }
    };
    // A row for a facility already stored may also be a re-import of a row that made one.
    let existing = existing.or_else(|| ctx.by_id.get(&f.id));
    if let Some(e) = existing {
        f = e.clone();
    }
    let before = f.clone();
    if let Some(k) = kind {
        f.kind = k;
    }
    if let Some(n) = name {
        f.name = n.to_string();
    }
    let opt = |k: &str| get(k).map(|v| (!v.is_empty()).then(|| v.to_string()));
    if let Some(v) = opt("name_kana") {
        f.name_kana = v;
    }
    if get("navii").is_some() {
        f.identifiers.navii = navii;
    }
    if get("hic").is_some() {
        f.identifiers.hic = hic;
    }
    if get("kaigo").is_some() {
        f.identifiers.kaigo = kaigo;
    }
    if let Some(v) = get("postal_code") {
        f.address.postal_code = if v.is_empty() {
            None
        } else {
            check!(digits_of("postal_code", v, 7)).flatten()
        };
    }
    // Place: the address through the geocoder (municipality and area), the coordinates as
    // given or the town's point.
    let coords = match (given("lat"), given("lng")) {
        (None, None) => None,
        (Some(lat), Some(lng)) => {
            let num = |s: &str| {
                unicode_normalization::UnicodeNormalization::nfkc(s)
                    .collect::<String>()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
            };
            match (num(lat), num(lng)) {
                (Some(a), Some(b))
                    if (JAPAN.0[0]..=JAPAN.0[1]).contains(&a)
                        && (JAPAN.1[0]..=JAPAN.1[1]).contains(&b) =>
                {
                    Some(LatLng { lat: a, lng: b })
                }
                (Some(_), Some(_)) => {
                    errors.push(err("lat", format!("{lat},{lng} は日本の外です / {lat},{lng} is outside Japan: 緯度 is 20–46 and 経度 122–154 (decimal degrees, 世界測地系).")));
                    None
                }
                _ => {
                    errors.push(err("lat", format!("緯度・経度は10進数で書いてください / 緯度 and 経度 are decimal numbers (e.g. 35.8617, 139.6455); got `{lat}`, `{lng}`.")));
                    None
                }
            }
        }
        _ => {
            errors.push(err(
                "lat",
                "緯度と経度は両方書くか、両方空欄に / Give both 緯度 and 経度, or neither.",
            ));
            None
        }
    };
    let address_changed = address.is_some_and(|a| a != before.address.text);
    if let Some(a) = address
        && (address_changed || existing.is_none())
    {
        match ctx.catalog.geocoder().geocode(a) {
            Ok(m) => match ctx.catalog.municipality(&m.municipality_code) {
                Some(muni) => {
                    f.address.text = a.to_string();
                    f.address.municipality_code = Some(muni.code.clone());
                    f.address.municipality = Some(muni.name.clone());
                    f.address.prefecture = m.prefecture.clone();
                    f.area_code = Some(muni.area_code.clone());
                    if coords.is_none() {
                        f.location = Some(LatLng {
                            lat: m.lat,
                            lng: m.lng,
                        });
                        f.placement = m.level;
                    }
                }
                None => errors.push(err(
                    "address",
                    format!("「{a}」はこの地域の市町村ではありません / `{a}` is outside this region's municipalities."),
                )),
            },
            Err(_) => errors.push(err(
                "address",
                format!(
                    "「{a}」を地図に置けません。都道府県から書いてください（埼玉県…市…町1-2-3） / `{a}` could not be placed: write it from the prefecture."
                ),
            )),
        }
    }
    // Coordinates as given are the facility's own; the same ones again (an export read back)
    // keep how they were placed.
    if let Some(l) = coords
        && f.location != Some(l)
    {
        f.location = Some(l);
        f.placement = Placement::Source;
    }
    for (key, kind, vis, label) in [
        ("phone", ContactKind::Phone, Visibility::Public, "代表"),
        ("fax", ContactKind::Fax, Visibility::Professional, "FAX"),
    ] {
        let Some(v) = get(key) else { continue };
        let at = f
            .contacts
            .iter()
            .position(|c| c.kind == kind && (kind == ContactKind::Fax || c.visibility == vis));
        if v.is_empty() {
            if let Some(i) = at {
                f.contacts.remove(i);
            }
            continue;
        }
        // The number already held, as an export wrote it: nothing to check or change.
        if at.is_some_and(|i| f.contacts[i].value == v) {
            continue;
        }
        let Some(number) = ja::phone_number(v) else {
            errors.push(err(key, format!("電話番号は 0 から始まる10桁か11桁です（例 049-123-4567） / `{v}` is not a Japanese phone number.")));
            continue;
        };
        match at {
            Some(i) if ja::digits(&f.contacts[i].value) == ja::digits(&number) => {}
            Some(i) => f.contacts[i].value = number,
            None => f.contacts.push(Contact {
                kind,
                value: number,
                label: Some(label.into()),
                visibility: vis,
                provenance: Provenance {
                    origin: Origin::Coordinator,
                    source: ctx.source.clone(),
                    snapshot: None,
                },
            }),
        }
    }
    if let Some(v) = opt("url")
        && v != f.url
    {
        if v.as_deref().is_some_and(|u| {
            !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 500
        }) {
            errors.push(err(
                "url",
                "ホームページは https:// から始まるアドレスです（500文字以内） / ホームページ is an address starting with https:// (at most 500 characters).",
            ));
        } else {
            f.url = v;
        }
    }
    if let Some(v) = opt("notes") {
        if v.as_deref().is_some_and(|n| n.chars().count() > 2000) {
            errors.push(err(
                "notes",
                "備考は2,000文字以内です / 備考 is at most 2,000 characters.",
            ));
        } else {
            f.notes = v;
        }
    }
    if let Some(v) = get("services") {
        let mut wanted = Vec::new();
        for part in v
            .split([';', '；', '、', ',', '，'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match service_of(part) {
                Some(s) if !wanted.contains(&s) => wanted.push(s),
                Some(_) => {}
                None => errors.push(err(
                    "services",
                    format!(
                        "サービス「{part}」がわかりません / Unknown service `{part}`. Use codes separated by ; — {}.",
                        ServiceKind::codes()
                    ),
                )),
            }
        }
        for s in &mut f.services {
            let keep = wanted.contains(&s.kind);
            if !keep && whole_services && s.status != ServiceStatus::Inactive {
                s.status = ServiceStatus::Inactive;
                s.updated_at = ctx.at.clone();
            } else if keep && s.status == ServiceStatus::Inactive {
                s.status = ServiceStatus::Active;
                s.updated_at = ctx.at.clone();
            }
        }
        for k in wanted {
            if !f.services.iter().any(|s| s.kind == k) {
                f.services.push(Service {
                    kind: k,
                    status: ServiceStatus::Active,
                    attributes: ServiceAttributes::default(),
                    capacity: None,
                    admission_rules: None,
                    provenance: Provenance {
                        origin: Origin::Coordinator,
                        source: ctx.source.clone(),
                        snapshot: None,
                    },
                    updated_at: ctx.at.clone(),
                    verified_at: None,
                    verified_by: None,
                });
            }
        }
    }
    if let Some(v) = get("verified_at") {
        if v.is_empty() {
            f.verified_at = None;
        } else {
            match wareki::parse(v) {
                Some(d) => {
                    let same = f
                        .verified_at
                        .as_deref()
                        .is_some_and(|old| old.get(..10) == Some(d.as_str()));
                    if !same {
                        f.verified_at = Some(d);
                        f.verified_by = Some(actor_of(ctx.importer));
                    }
                }
                None => errors.push(err(
                    "verified_at",
                    format!("「{v}」は日付として読めません（2024-04-01、令和6年4月1日、R6.4.1） / `{v}` is not a date."),
                )),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    f.canonicalize();
    let action = match existing {
        None => Action::Create,
        Some(e) if *e == f => Action::Unchanged,
        Some(_) => {
            f.updated_at = ctx.at.clone();
            Action::Update
        }
    };
    Ok((action, f))
}
