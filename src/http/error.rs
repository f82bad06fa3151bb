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
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: String) -> Self {
        ApiError {
            status,
            code,
            title,
            detail,
            extra: Map::new(),
        }
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
    /// Stable machine-readable code: invalid_parameter, not_found, address_not_found,
    /// stale_cursor, method_not_allowed, internal.
    pub code: String,
    /// The parameter at fault, for parameter errors.
    pub parameter: Option<String>,
    /// The normalized address, for address_not_found.
    pub normalized: Option<String>,
}
