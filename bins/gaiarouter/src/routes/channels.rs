//! Channels for admins over HTTP: list with health, create, edit, enable/disable, delete, test with one
//! request. The rules live in `gaia_gateway::channels`; these handlers read the request and shape the
//! answer. A credential goes in and never comes out: the answer holds a hint (its last four characters).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use gaia_gateway::channels::{ChannelChange, ChannelView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminOnly;
use crate::error::ApiError;
use crate::state::AppState;

/// A channel's health: its circuit breaker and counts since the process started.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelHealth {
    /// `closed` (healthy), `open` (failing: not used until its cooldown ends), `half_open` (one probe
    /// request may go through), `disabled` (the provider refused its credential, or an operator disabled
    /// it).
    #[schema(example = "closed")]
    pub state: String,
    /// Milliseconds until an open circuit lets a probe through.
    pub open_for_ms: Option<u64>,
    /// Attempts in the sliding window, and how many of them failed.
    pub window_requests: u32,
    pub window_failures: u32,
    /// Attempts that succeeded and failed on this instance since it started.
    pub successes: u64,
    pub failures: u64,
    /// Times its circuit opened on this instance.
    pub opened: u64,
    /// The last failures, newest first (at most 10).
    pub recent_errors: Vec<ChannelError>,
}

/// One failure of a channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelError {
    pub at: chrono::DateTime<chrono::Utc>,
    #[schema(example = "upstream_error")]
    pub code: String,
    pub message: String,
}

/// A credential and endpoint of a provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct Channel {
    /// The row id, or `config:<provider>:<name>` for a channel from the environment or `GAIA_CONFIG`.
    pub id: String,
    #[schema(example = "openai")]
    pub provider: String,
    #[schema(example = "eu-key-2")]
    pub name: String,
    #[schema(example = "https://api.openai.com/v1")]
    pub base_url: String,
    /// The credential's last four characters; the credential itself is never returned.
    #[schema(example = "…a1b2")]
    pub api_key_hint: Option<String>,
    /// Share of traffic within its priority group (1–1000).
    pub weight: i64,
    /// Higher groups are used first; lower ones only while every channel above is failing.
    pub priority: i64,
    /// Upstream model names it serves; `null`: every model of the provider.
    pub models: Option<Vec<String>>,
    /// Upstream model name → the name sent to this channel (an Azure deployment, a replica's alias).
    pub model_map: BTreeMap<String, String>,
    pub api_version: Option<String>,
    pub ca_file: Option<String>,
    pub enabled: bool,
    /// Why it is disabled: the provider refused its credential (401/403), or why it cannot be used.
    pub disabled_reason: Option<String>,
    /// `database` (managed here) or `config` (the environment or `GAIA_CONFIG`: read-only).
    #[schema(example = "database")]
    pub source: String,
    pub health: ChannelHealth,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn to_api(v: ChannelView) -> Channel {
    let h = v.health;
    Channel {
        id: v.id,
        provider: v.provider,
        name: v.name,
        base_url: v.base_url,
        api_key_hint: v.api_key_hint,
        weight: v.weight,
        priority: v.priority,
        models: v.models,
        model_map: v.model_map,
        api_version: v.api_version,
        ca_file: v.ca_file,
        enabled: v.enabled,
        disabled_reason: v.disabled_reason.or(h.disabled_reason),
        source: v.source.as_str().to_owned(),
        health: ChannelHealth {
            state: h.state.to_owned(),
            open_for_ms: h
                .open_for
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            window_requests: h.window_requests,
            window_failures: h.window_failures,
            successes: h.successes,
            failures: h.failures,
            opened: h.opened,
            recent_errors: h
                .recent_errors
                .into_iter()
                .map(|e| ChannelError {
                    at: e.at,
                    code: e.code,
                    message: e.message,
                })
                .collect(),
        },
        created_at: v.created_at,
        updated_at: v.updated_at,
    }
}

/// List every channel with its health: those of the environment and `GAIA_CONFIG` (read-only), then the
/// stored ones.
#[utoipa::path(get, path = "/v1/admin/channels", operation_id = "list_channels", tag = "channels",
    responses(
        (status = 200, description = "Every channel", body = Vec<Channel>),
        (status = 401, description = "Missing or invalid API key", body = crate::routes::schemas::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list(_admin: AdminOnly, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = state.models.list_channels().await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(to_api).collect::<Vec<_>>()))
}

/// An upstream model name: 1 to 256 printable characters.
#[derive(Debug, ToSchema)]
#[schema(
    min_length = 1,
    max_length = 256,
    pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$",
    example = "gpt-4o-mini"
)]
pub struct UpstreamModelName(pub String);

/// A channel to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// A provider defined on this gateway (`openai`, `anthropic`, `google`, `openrouter`, or one of
    /// `GAIA_CONFIG`): the channel speaks its dialect.
    #[schema(example = "openai", min_length = 1, max_length = 64)]
    pub provider: String,
    /// Unique per provider: 1–64 letters, digits, `-`, `_`, `.` (`default`, the provider's own endpoint, is
    /// taken: 409).
    #[schema(example = "eu-key-2", pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    /// The endpoint (default: the provider's own base URL).
    #[schema(
        example = "https://api.openai.com/v1",
        max_length = 2048,
        pattern = "^https?://[A-Za-z0-9][A-Za-z0-9.-]{0,60}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    pub base_url: Option<String>,
    /// The upstream credential: sealed at rest with `GAIA_SECRET_KEY` (required to store one), never
    /// returned. Leave out for a server that needs none.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = "^[^ \\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    pub api_key: Option<String>,
    /// Share of traffic within its priority group (default 1).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub weight: Option<i64>,
    /// Higher groups first (default 0).
    #[schema(minimum = -1000, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub priority: Option<i64>,
    /// Upstream model names it serves (default: every model of the provider).
    #[schema(max_items = 1000, value_type = Option<Vec<UpstreamModelName>>)]
    pub models: Option<Vec<String>>,
    /// Upstream model name → the name sent to this channel.
    #[schema(value_type = Option<BTreeMap<String, UpstreamModelName>>)]
    pub model_map: Option<BTreeMap<String, String>>,
    /// A PEM file of certificate authorities to trust for this endpoint (a private CA).
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    pub ca_file: Option<String>,
    /// Azure OpenAI's `api-version`.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    pub api_version: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// Add a channel: requests for its provider's models may use it at once (every instance within a second
/// with Redis, else within the refresh interval).
#[utoipa::path(post, path = "/v1/admin/channels", operation_id = "create_channel", tag = "channels", request_body = NewChannel,
    responses(
        (status = 201, description = "Added", body = Channel),
        (status = 400, description = "A field is invalid (`param` names it)", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "The provider already has a channel of that name (stored or configured; `default` is always its own endpoint's)", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "Well-formed, but the provider does not exist here (`unknown_provider`), a credential was given and `GAIA_SECRET_KEY` is not set (`secret_key_required`), the CA file cannot be read (`ca_file_unreadable`), or the endpoint cannot be built (`channel_unusable`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    body: web::Json<NewChannel>,
) -> Result<HttpResponse, ApiError> {
    let n = body.into_inner();
    let created = state
        .models
        .create_channel(gaia_gateway::channels::NewChannel {
            provider: n.provider,
            name: n.name,
            base_url: n.base_url,
            api_key: n.api_key,
            weight: n.weight,
            priority: n.priority,
            models: n.models,
            model_map: n.model_map,
            ca_file: n.ca_file,
            api_version: n.api_version,
            enabled: n.enabled,
        })
        .await?;
    Ok(HttpResponse::Created().json(to_api(created)))
}

/// Get one channel with its health.
#[utoipa::path(get, path = "/v1/admin/channels/{id}", operation_id = "get_channel", tag = "channels",
    params(("id" = String, Path, description = "The channel id (URL-encoded: configured ones are `config:<provider>:<name>`)", min_length = 1, max_length = 200)),
    responses(
        (status = 200, description = "The channel", body = Channel),
        (status = 404, description = "No such channel", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(to_api(state.models.get_channel(&id).await?)))
}

/// Changes to a stored channel; a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: Option<String>,
    #[schema(
        max_length = 2048,
        pattern = "^https?://[A-Za-z0-9][A-Za-z0-9.-]{0,60}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    pub base_url: Option<String>,
    /// A new credential; `null` removes it.
    #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 4096, pattern = "^[^ \\u0000-\\u001F\\u007F-\\u009F]+$")]
    pub api_key: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub weight: Option<i64>,
    #[schema(minimum = -1000, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::routes::patch::integer")]
    pub priority: Option<i64>,
    /// `null`: every model of the provider.
    #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
    #[schema(value_type = Option<Vec<UpstreamModelName>>, max_items = 1000)]
    pub models: Option<Option<Vec<String>>>,
    /// Replaces the whole map (`{}` clears it).
    #[schema(value_type = Option<BTreeMap<String, UpstreamModelName>>)]
    pub model_map: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1024, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$")]
    pub ca_file: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 32, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$")]
    pub api_version: Option<Option<String>>,
    /// `true` re-enables a channel disabled by an operator or by a refused credential (its reason and
    /// failures are forgotten); `false` disables it.
    pub enabled: Option<bool>,
}

/// Edit, enable or disable a stored channel.
#[utoipa::path(patch, path = "/v1/admin/channels/{id}", operation_id = "update_channel", tag = "channels", request_body = ChannelPatch,
    params(("id" = String, Path, description = "The channel id", min_length = 1, max_length = 200)),
    responses(
        (status = 200, description = "Updated", body = Channel),
        (status = 400, description = "A field is invalid (`param` names it)", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "No such channel", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "A configured channel (`channel_read_only`), or the name is taken", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "`secret_key_required`, `credential_unreadable` (sealed with a key this instance lacks: send a new `api_key`), `ca_file_unreadable`, `channel_unusable` or `unknown_provider` (see create)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn update(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ChannelPatch>,
) -> Result<HttpResponse, ApiError> {
    let p = body.into_inner();
    let changed = state
        .models
        .change_channel(
            &id,
            ChannelChange {
                name: p.name,
                base_url: p.base_url,
                api_key: p.api_key,
                weight: p.weight,
                priority: p.priority,
                models: p.models,
                model_map: p.model_map,
                ca_file: p.ca_file,
                api_version: p.api_version,
                enabled: p.enabled,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(to_api(changed)))
}

/// Delete a stored channel.
#[utoipa::path(delete, path = "/v1/admin/channels/{id}", operation_id = "delete_channel", tag = "channels",
    params(("id" = String, Path, description = "The channel id", min_length = 1, max_length = 200)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such channel", body = crate::routes::schemas::ErrorBody),
        (status = 409, description = "A configured channel (`channel_read_only`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.models.delete_channel(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What to test a channel with.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelTestRequest {
    /// The upstream model name (default: the channel's first model, else the provider's first enabled
    /// chat model).
    #[schema(
        example = "gpt-4o-mini",
        min_length = 1,
        max_length = 256,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    pub model: Option<String>,
}

/// How a test went. A failing upstream is still a 200: the failure is the answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelTest {
    pub ok: bool,
    /// The upstream model name tested.
    pub model: String,
    pub latency_ms: u64,
    /// The status GaiaRouter would have answered a client with (`null` on success).
    pub status: Option<u16>,
    pub error: Option<ChannelTestError>,
}

/// Why a test failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelTestError {
    #[schema(example = "upstream_auth_error")]
    pub code: String,
    pub message: String,
}

/// Send one small completion (at most 8 tokens) through the channel, whatever its state; it counts
/// neither against its circuit nor in usage statistics.
#[utoipa::path(post, path = "/v1/admin/channels/{id}/test", operation_id = "test_channel", tag = "channels",
    request_body(content = Option<ChannelTestRequest>, description = "Optional; `{}` or no body tests the default model"),
    params(("id" = String, Path, description = "The channel id", min_length = 1, max_length = 200)),
    responses(
        (status = 200, description = "The outcome", body = ChannelTest),
        (status = 400, description = "`model` is invalid", body = crate::routes::schemas::ErrorBody),
        (status = 404, description = "No such channel", body = crate::routes::schemas::ErrorBody),
        (status = 422, description = "No model to test with (`model_required`); the credential cannot be opened (`secret_key_required`, `credential_unreadable`); the provider is no longer defined (`unknown_provider`); or the endpoint cannot be built (`channel_unusable`)", body = crate::routes::schemas::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn test(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // The body is optional, so it is read here: an empty one tests the default model, a malformed one is
    // a 400 (never silently ignored).
    let request: ChannelTestRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ChannelTestRequest::default()
    } else {
        // `null` is the document's other spelling of "no body".
        serde_json::from_slice::<Option<ChannelTestRequest>>(&body)
            .map_err(|e| {
                gaia_core::GaiaError::invalid_request(format!("invalid JSON body: {e}"))
                    .with_code("invalid_json")
            })?
            .unwrap_or_default()
    };
    let model = request.model;
    let t = state.models.test_channel(&id, model).await?;
    Ok(HttpResponse::Ok().json(ChannelTest {
        ok: t.ok,
        model: t.model,
        latency_ms: u64::try_from(t.latency.as_millis()).unwrap_or(u64::MAX),
        status: t.error.as_ref().map(gaia_core::GaiaError::status),
        error: t.error.map(|e| ChannelTestError {
            code: e.code().to_owned(),
            message: e.message,
        }),
    }))
}
