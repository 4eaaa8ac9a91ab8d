//! What the routes share with each other and with the OpenAPI document: the error envelope, and schemas
//! written by hand where a derive cannot state the rule the server
//! applies: the document must accept exactly what the server accepts, so generated clients and fuzzers
//! (schemathesis runs every check in `make test-schema`) are right.
//!
//! Text rules that attributes spell out as literal patterns, kept here in words:
//! - a **name** is 1–100 characters with at least one that is not white space, and no control character
//!   (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F):
//!   `^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$`;
//! - a **description** has no control character but tab, line feed and carriage return:
//!   `^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$`.

use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOf, KnownFormat, Object, Schema, SchemaFormat, Type};

fn text(pattern: Option<&str>, format: Option<KnownFormat>) -> RefOr<Schema> {
    let mut b = Object::builder().schema_type(Type::String);
    if let Some(p) = pattern {
        b = b.pattern(Some(p));
    }
    if let Some(f) = format {
        b = b.format(Some(SchemaFormat::KnownFormat(f)));
    }
    RefOr::T(Schema::Object(b.build()))
}

/// A date query parameter as the statistics endpoints read it: empty (the default applies), an ISO 8601
/// date, an RFC 3339 date-time, or a date-time without offset (UTC) written `YYYY-MM-DDTHH:MM[:SS[.f]]`
/// or with a space for the `T`. The last pattern lists days 01–28 only: every such string is a real date
/// (the server takes days 29–31 too, where the month has them).
pub fn date_or_time() -> RefOr<Schema> {
    let any = AnyOf::builder()
        .item(text(Some("^\\s*$"), None))
        .item(text(None, Some(KnownFormat::Date)))
        .item(text(None, Some(KnownFormat::DateTime)))
        .item(text(
            Some(
                "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$",
            ),
            None,
        ))
        .description(Some(
            "An ISO 8601 date (`2026-11-27`) or date-time (`2026-11-27T10:00:00Z`; without an offset: UTC); empty: the default",
        ))
        .build();
    RefOr::T(Schema::AnyOf(any))
}

/// `permissions` in a key's create and update bodies: absent or `null` (the default applies, or nothing
/// changes), else a non-empty list of `read`, `write`, `admin` (surrounding spaces ignored).
pub fn permission_list() -> RefOr<Schema> {
    use utoipa::openapi::schema::{Array, SchemaType};
    let item = text(Some("^\\s*(read|write|admin)\\s*$"), None);
    let list = Array::builder()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(item)
        .min_items(Some(1))
        .description(Some(
            "Any of `read`, `write`, `admin` (`admin` implies the others); at most the caller's own",
        ))
        .build();
    RefOr::T(Schema::Array(list))
}

/// One Server-Sent Event of a streamed answer, as the OpenAPI document describes `text/event-stream`:
/// `data` holds a JSON object of the dialect (`chat.completion.chunk`), or `[DONE]` at the end.
#[derive(Debug, utoipa::ToSchema)]
pub struct SseEvent {
    /// The event's data: one JSON document, or `[DONE]`.
    pub data: String,
    /// The event's type, where the dialect names one.
    pub event: Option<String>,
    pub id: Option<String>,
    /// Reconnection time in milliseconds.
    pub retry: Option<u64>,
}

/// Anthropic's error envelope, which the Messages API routes (`/v1/messages…`) answer errors in.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: `max_tokens` is required"}, "request_id": "01a21b5c4b4971f1b6a35a732ad14862"}))]
pub struct AnthropicErrorBody {
    /// Always `error`.
    #[schema(rename = "type")]
    pub r#type: String,
    pub error: AnthropicErrorDetail,
    /// The request's id (also in the `request-id` and `x-request-id` headers).
    pub request_id: Option<String>,
}

/// The inside of Anthropic's error envelope.
#[derive(Debug, ToSchema)]
pub struct AnthropicErrorDetail {
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
    /// `request_too_large`, `rate_limit_error`, `api_error`, `overloaded_error` or `timeout_error`.
    #[schema(rename = "type")]
    pub r#type: String,
    /// Human-readable; starts with the field at fault (`messages.0.content: …`), and ends with
    /// GaiaRouter's error code in brackets when it says more than the type (`[model_not_found]`).
    pub message: String,
}

/// The OpenAI-style error envelope every error response uses.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"error": {"message": "no route for GET /v1/nope", "type": "invalid_request_error", "code": "unknown_route", "param": null}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The inside of the error envelope.
#[derive(Debug, ToSchema)]
pub struct ErrorDetail {
    /// Human-readable explanation.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `rate_limit_error`,
    /// `insufficient_quota`, `api_error` or `server_error`.
    #[schema(rename = "type")]
    pub r#type: String,
    /// Machine-readable code, e.g. `model_not_found`, `invalid_api_key`, `organization_limit_error`.
    pub code: String,
    /// The request parameter at fault, if any.
    pub param: Option<String>,
}
