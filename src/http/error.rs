//! Problem details (RFC 9457) for every error the API returns. This is the one place where
//! errors become HTTP statuses; a 5xx is logged with its cause and shows no internals.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

/// An error answer: a stable machine code, a status and a message saying what to fix.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `invalid_parameter`.
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Extension members (e.g. `parameter`, `valid`, `normalized`).
    pub extra: Map<String, Value>,
    /// Response headers (`Allow`, `Retry-After`, a cookie reset).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: String) -> Self {
        ApiError {
            status,
            code,
            title,
            detail,
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 401: no valid credential where one is needed, or a stale one.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Sign-in required / ログインが必要です",
            detail.into(),
        )
    }

    /// Also expire the session cookie in the browser.
    pub fn clear_session_cookie(self) -> Self {
        self.with_header(
            "set-cookie",
            format!(
                "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
                super::auth::SESSION_COOKIE
            ),
        )
    }

    /// 403: signed in, but this is not yours to do; `detail` says why.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let detail = if detail.is_ascii() {
            format!("この操作の権限がありません / {detail}")
        } else {
            detail
        };
        ApiError::new(
            StatusCode::FORBIDDEN,
            code,
            "Forbidden / 権限がありません",
            detail,
        )
    }

    /// 429 with `Retry-After` in seconds.
    pub fn too_many(detail: impl Into<String>, retry_after_s: u64) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many attempts / 試行回数が多すぎます",
            detail.into(),
        )
        .with("retry_after", json!(retry_after_s))
        .with_header("retry-after", retry_after_s.to_string())
    }

    /// 428: a write without `If-Match`.
    pub fn precondition_required() -> Self {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "If-Match required / If-Match が必要です",
            "Send `If-Match` with the ETag of the version you edited (GET the facility first), so nobody's change is silently overwritten.".into(),
        )
    }

    /// 409: the record changed since the version the client edited; `current` is it now.
    pub fn stale_version(current: Value, etag: String) -> Self {
        ApiError::new(
            StatusCode::CONFLICT,
            "version_conflict",
            "Changed meanwhile / 他の人が変更しました",
            "他の人がこの施設を変更しました。現在の内容を確認してからやり直してください / Someone changed this facility since your version; `current` is their version. Review it and send your change again with its ETag.".into(),
        )
        .with("current", current)
        .with_header("etag", etag)
    }

    /// 412: `If-Match` names a version that is no longer current; `current` is it now.
    pub fn precondition_failed(detail: impl Into<String>, current: Value, etag: String) -> Self {
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "version_conflict",
            "Changed meanwhile / 他の人が変更しました",
            detail.into(),
        )
        .with("current", current)
        .with_header("etag", etag)
    }

    /// 409 for a record that already exists.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, "Conflict / 競合", detail.into())
    }

    /// 410 for a link that was valid once: expired, used up or revoked.
    pub fn gone(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::GONE,
            "link_gone",
            "Link no longer valid / このリンクは使えません",
            detail.into(),
        )
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "Body too large / 本文が大きすぎます",
            format!(
                "送信内容が大きすぎます。{limit} バイト以下にして送り直してください / The request body may be at most {limit} bytes."
            ),
        )
        .with("limit", json!(limit))
    }

    /// 414 for a request target (path and query) longer than `limit` bytes.
    pub fn uri_too_long(length: usize, limit: usize) -> Self {
        ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "URL too long / URL が長すぎます",
            format!(
                "URL が長すぎます（{length} バイト、上限 {limit} バイト）。検索語や条件を減らしてください / The path and query are {length} bytes; at most {limit} are accepted. Shorten the search words or send fewer filters."
            ),
        )
        .with("limit", json!(limit))
    }

    /// 414 for more query parameters than `limit`: like a long URL, the fix is a shorter query.
    pub fn too_many_parameters(count: usize, limit: usize) -> Self {
        ApiError::new(
            StatusCode::URI_TOO_LONG,
            "too_many_parameters",
            "Too many parameters / パラメータが多すぎます",
            format!(
                "クエリパラメータが多すぎます（{count} 個、上限 {limit} 個）。条件を減らすか、同じ条件はカンマ区切りでまとめてください / The query has {count} parameters; at most {limit} are accepted. Send fewer filters, or several values of one filter comma-separated."
            ),
        )
        .with("parameter", json!("query"))
        .with("limit", json!(limit))
    }

    /// 431 for request headers over the limit (count or total size).
    pub fn headers_too_large(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            "Request headers too large / リクエストヘッダーが大きすぎます",
            detail.into(),
        )
    }

    /// 429 for more requests from one client address than its rate allows.
    pub fn rate_limited(retry_after_s: u64) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests / リクエストが多すぎます",
            format!(
                "このアドレスからのリクエストが多すぎます。{retry_after_s} 秒待ってからもう一度お試しください / Too many requests from this address; try again in {retry_after_s} s."
            ),
        )
        .with("retry_after", json!(retry_after_s))
        .with_header("retry-after", retry_after_s.to_string())
    }

    /// 400 for a JSON body that is malformed, has an unknown field or a bad value.
    pub fn bad_body(field: Option<&str>, detail: impl Into<String>) -> Self {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "Invalid body / 本文が不正です",
            format!("入力内容を確認してください / {}", detail.into()),
        );
        match field {
            Some(f) => e.with("field", json!(f)),
            None => e,
        }
    }

    /// 503: the database is unreachable; reads from the catalog keep working. A database that
    /// answered "disk full" or an I/O error is 507 instead ([`ApiError::insufficient_storage`]).
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        let text = cause.to_string();
        if crate::store::describes_full_storage(&text) {
            return ApiError::insufficient_storage(&text);
        }
        tracing::error!(cause = %cause, "database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable / 一時的に利用できません",
            "データベースに接続できません。検索と閲覧は使えます。しばらくしてから再度お試しください / The database cannot be reached: searching and reading still work; writes and sign-in do not. Retry in a minute.".into(),
        )
        .with_header("retry-after", "30")
    }

    /// 507: the database's storage is full (or failing): the write was not applied, nothing of
    /// it is half-written, and reads from the catalog keep working.
    pub fn insufficient_storage(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "database storage full; writes refused");
        ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "storage_full",
            "Storage full / 保存領域が不足しています",
            "データベースの保存領域が不足しているため、変更を保存できませんでした。変更は一切反映されていません。検索と閲覧は使えます。管理者に連絡してください / The database's disk is full: your change was not saved (nothing of it was applied). Searching and reading still work. Tell the administrator; retry once space is freed.".into(),
        )
        .with_header("retry-after", "300")
    }

    /// 400 for a query parameter that is malformed, unknown or out of range.
    pub fn bad_parameter(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "Invalid parameter / パラメータが不正です",
            detail.into(),
        )
        .with("parameter", json!(parameter))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found / 見つかりません",
            detail.into(),
        )
    }

    /// 405 for a method the route does not answer; `allow` lists the ones it does.
    pub fn method_not_allowed(method: &str, path: &str, allow: &str) -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed / このメソッドは使えません",
            format!("{path} answers {allow}, not {method}."),
        )
        .with("allow", json!(allow))
    }

    /// 409 for a page asked with a cursor of an earlier snapshot.
    pub fn stale_cursor(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::CONFLICT,
            "stale_cursor",
            "Stale cursor / 一覧が更新されました",
            detail.into(),
        )
        .with("parameter", json!("cursor"))
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Cannot process / 処理できません",
            detail.into(),
        )
    }

    /// 500: the cause is logged here, the client sees only that something failed.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let text = cause.to_string();
        if crate::store::describes_full_storage(&text) {
            return ApiError::insufficient_storage(&text);
        }
        tracing::error!(cause = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error / 内部エラー",
            "The server failed to answer; the cause has been logged. Please retry later.".into(),
        )
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!("https://pallimap.example/problems/{}", self.code)),
        );
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(self.detail));
        body.insert("code".into(), json!(self.code));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(allow) = self.extra.get("allow").and_then(Value::as_str) {
            r.insert_header((actix_web::http::header::ALLOW, allow.to_string()));
        }
        for (k, v) in &self.headers {
            r.append_header((*k, v.as_str()));
        }
        r.content_type("application/problem+json")
            .body(self.body().to_string())
    }
}

/// The problem document (RFC 9457) every error answers with, for the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://pallimap.example/problems/<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to fix.
    pub detail: String,
    /// Stable machine-readable code: invalid_parameter, invalid_body, not_found,
    /// address_not_found, stale_cursor, method_not_allowed, unauthorized, forbidden,
    /// csrf_required, too_many_attempts, rate_limited, if_match_required, version_conflict,
    /// body_too_large, uri_too_long, too_many_parameters, headers_too_large, link_gone,
    /// already_decided, unavailable, storage_full, internal.
    pub code: String,
    /// The parameter at fault, for parameter errors.
    pub parameter: Option<String>,
    /// The normalized address, for address_not_found.
    pub normalized: Option<String>,
    /// The body field at fault, for invalid_body.
    pub field: Option<String>,
}
