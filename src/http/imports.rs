//! `POST /api/v1/imports`: a coordinator uploads a CSV or XLSX file (multipart, field `file`)
//! and gets the preview — created, updated, unchanged, rejected, each rejection with its row,
//! column and what to fix; the same upload with `apply=true` (and, to be sure it is the file
//! previewed, its `checksum`) applies it all-or-nothing. The same steps as `pallimap import`.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;
use tracing::instrument;

use super::AppState;
use super::auth;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::write::caught_up;
use crate::domain::Role;
use crate::import::{Encoding, ImportError, Importer, Preview};

/// Largest upload, bytes.
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    security(("session" = []), ("token" = [])),
    params(
        ("apply" = Option<bool>, Query, description = "`true`: apply the file when every row passes (else 422 with the preview); default: check only"),
        ("checksum" = Option<String>, Query, description = "With `apply`: the `checksum` of the preview; 409 when the file differs"),
        ("encoding" = Option<String>, Query, description = "utf-8 or shift_jis (cp932); detected when not given"),
    ),
    request_body(content = String, content_type = "multipart/form-data", description = "Field `file`: the CSV or XLSX file in the template's columns (GET /api/v1/import/template.csv)"),
    responses(
        (status = 200, description = "The preview (`applied: true` after an apply)", body = Object),
        (status = 400, description = "No file, an unknown encoding or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator or admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The file is not the one previewed, or an entry changed since", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is over 20 MB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows are rejected: nothing applied; `preview` lists them", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn post_import(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["apply", "checksum", "encoding"])?;
    let apply = p.flag("apply")?;
    let encoding = p
        .get("encoding")
        .map(|e| {
            Encoding::from_code(e).ok_or_else(|| {
                ApiError::bad_parameter(
                    "encoding",
                    format!("Unknown encoding `{e}`. Valid values: utf-8, shift_jis."),
                )
            })
        })
        .transpose()?;
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    if !matches!(user.role, Role::Coordinator | Role::Admin) || user.disabled {
        return Err(ApiError::forbidden(
            "forbidden",
            "Imports are for coordinators and admins.",
        ));
    }
    let (name, bytes) = upload(&mut payload).await?;
    let checksum = p.get("checksum").map(str::to_string);
    let store = state.store.clone();
    let catalog = state.catalog.load();
    let bytes = std::sync::Arc::new(bytes);
    let result = web::block(move || {
        let open = || Ok(std::io::Cursor::new(ArcBytes(bytes.clone())));
        if let Some(want) = &checksum {
            let mut r = open()?;
            let got = crate::import::checksum(&mut r)?;
            if &got != want {
                return Ok::<_, std::io::Error>(Err(ApiError::conflict(
                    "file_changed",
                    format!("This file's checksum is {got}, not the {want} previewed: check it again before applying."),
                )));
            }
        }
        Ok(crate::app::import(
            &store,
            &catalog,
            open,
            &name,
            encoding,
            Importer::User(&user),
            apply,
            |_| {},
        )
        .map_err(import_error))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))??;
    if result.applied {
        caught_up(&state).await;
    }
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(result))
}

/// The bytes of an upload, shared between the check and the apply.
struct ArcBytes(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Rejected(p) => rejected(&p),
        ImportError::Read(e) => ApiError::bad_body(
            Some("file"),
            format!("{e}. Upload a CSV (UTF-8 or Shift_JIS) or XLSX file."),
        ),
        ImportError::Edit(crate::store::EditError::Refused(m)) => ApiError::conflict("changed", m),
        ImportError::Edit(e) => ApiError::unavailable(&e),
        ImportError::Store(e) => ApiError::unavailable(&e),
    }
}

fn rejected(p: &Preview) -> ApiError {
    let detail = match p.file_errors.first() {
        Some(e) => e.clone(),
        None => format!(
            "{} of {} rows are rejected; nothing was applied. Fix the rows listed in `preview.items` and upload again.",
            p.rejected, p.rows
        ),
    };
    ApiError::unprocessable("import_rejected", detail).with("preview", json!(p))
}

/// The `file` field of the multipart body, with its file name; 413 past [`MAX_UPLOAD`].
async fn upload(payload: &mut Multipart) -> Result<(String, Vec<u8>), ApiError> {
    let mut found = None;
    let mut other = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| {
            ApiError::bad_body(None, format!("The multipart body could not be read: {e}."))
        })?;
        if field.name() != Some("file") {
            // Other fields are read and dropped, but count against the limit too, so a
            // chunked body without a length cannot stream on forever.
            while let Some(chunk) = field.next().await {
                other += chunk
                    .map_err(|e| ApiError::bad_body(None, e.to_string()))?
                    .len();
                if other > MAX_UPLOAD {
                    return Err(too_large());
                }
            }
            continue;
        }
        let name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or("upload")
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_body(Some("file"), e.to_string()))?;
            if bytes.len() + chunk.len() > MAX_UPLOAD {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        found = Some((name, bytes));
    }
    found.ok_or_else(|| {
        ApiError::bad_body(
            Some("file"),
            "Send the file as multipart/form-data in a field named `file`.",
        )
    })
}

fn too_large() -> ApiError {
    let mut e = ApiError::too_large(MAX_UPLOAD);
    e.detail = format!(
        "ファイルが {mb} MB を超えています。分割するか、サーバーで `pallimap import` を使ってください / The file is over {mb} MB: split it, or import it with `pallimap import` on the server.",
        mb = MAX_UPLOAD / 1024 / 1024
    );
    e
}
