//! HTTP routes. One module per area; handlers extract, call one service, map the result.

pub mod admin_models;
pub mod api_keys;
pub mod channels;
pub mod chat;
pub mod docs;
pub mod embeddings;
pub mod health;
pub mod limits;
pub mod messages;
pub mod metrics;
pub mod models;
pub mod organizations;
pub mod pagination;
pub mod patch;
pub mod responses;
pub mod schemas;
pub mod stats;
pub mod ui;
pub mod users;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::middleware::on_request_path;

/// The API's route table: every endpoint and its handler (the documentation pages and the admin UI are
/// mounted by `startup::build_server`). The inference endpoints run inside `on_request_path`, which counts
/// database statements on the hot path, and the chat route inside the overhead histogram's middleware.
pub fn table(cfg: &mut web::ServiceConfig) {
    cfg.configure(inference)
        .configure(registry)
        .configure(statistics)
        .configure(accounts)
        .configure(tenancy)
        .configure(system);
}

/// The OpenAI-compatible endpoints clients call with their keys.
fn inference(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/chat/completions")
            .wrap(from_fn(on_request_path))
            .wrap(from_fn(crate::overhead::measure))
            .route(web::post().to(chat::chat_completions)),
    )
    .service(
        web::resource("/v1/messages")
            .wrap(from_fn(on_request_path))
            .wrap(from_fn(crate::overhead::measure))
            .route(web::post().to(messages::messages)),
    )
    .service(
        web::resource("/v1/responses")
            .wrap(from_fn(on_request_path))
            .wrap(from_fn(crate::overhead::measure))
            .route(web::post().to(responses::create)),
    )
    .service(
        web::resource("/v1/embeddings")
            .wrap(from_fn(on_request_path))
            .wrap(from_fn(crate::overhead::measure))
            .route(web::post().to(embeddings::create_embeddings)),
    )
    .service(
        web::resource("/v1/responses/{id}")
            .route(web::get().to(responses::get))
            .route(web::delete().to(responses::delete)),
    )
    .service(
        web::resource("/v1/responses/{id}/input_items")
            .route(web::get().to(responses::input_items)),
    )
    .service(
        web::resource("/v1/messages/count_tokens")
            .wrap(from_fn(on_request_path))
            .route(web::post().to(messages::count_tokens)),
    )
    .service(
        web::resource("/v1/models")
            .wrap(from_fn(on_request_path))
            .route(web::get().to(models::list_models)),
    )
    .service(
        web::resource("/v1/models/{id:.+}")
            .wrap(from_fn(on_request_path))
            .route(web::get().to(models::get_model)),
    );
}

/// The model registry and aliases (admin).
fn registry(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/admin/models")
            .route(web::get().to(admin_models::list))
            .route(web::post().to(admin_models::create)),
    )
    .service(web::resource("/v1/admin/models/bulk").route(web::post().to(admin_models::bulk)))
    .service(web::resource("/v1/admin/models/sync").route(web::post().to(admin_models::sync)))
    .service(web::resource("/v1/admin/models/{id:.+}").route(web::patch().to(admin_models::patch)))
    .service(web::resource("/v1/admin/aliases").route(web::get().to(admin_models::list_aliases)))
    .service(
        web::resource("/v1/admin/channels")
            .route(web::get().to(channels::list))
            .route(web::post().to(channels::create)),
    )
    .service(web::resource("/v1/admin/channels/{id}/test").route(web::post().to(channels::test)))
    .service(
        web::resource("/v1/admin/channels/{id}")
            .route(web::get().to(channels::get))
            .route(web::patch().to(channels::update))
            .route(web::delete().to(channels::delete)),
    )
    .service(
        web::resource("/v1/admin/aliases/{alias}")
            .route(web::put().to(admin_models::put_alias))
            .route(web::delete().to(admin_models::delete_alias)),
    );
}

/// Usage statistics and the request log.
fn statistics(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/stats").route(web::get().to(stats::global_stats)))
        .service(
            web::resource("/v1/organizations/{org_id}/stats")
                .route(web::get().to(stats::organization_stats)),
        )
        .service(
            web::resource("/v1/api-keys/{key_id}/stats").route(web::get().to(stats::key_stats)),
        )
        .service(web::resource("/v1/requests").route(web::get().to(stats::request_log)));
}

/// Sign-in and admin-UI users.
fn accounts(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/admin/login").route(web::post().to(users::login)))
        .service(web::resource("/v1/auth/key-login").route(web::post().to(users::key_login)))
        .service(web::resource("/v1/auth/me").route(web::get().to(users::me)))
        .service(
            web::resource("/v1/admin/users")
                .route(web::get().to(users::list))
                .route(web::post().to(users::create)),
        )
        .service(
            web::resource("/v1/admin/users/{user_id}")
                .route(web::get().to(users::get))
                .route(web::patch().to(users::update))
                .route(web::delete().to(users::delete)),
        );
}

/// Organizations and their API keys.
fn tenancy(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/organizations")
            .route(web::get().to(organizations::list))
            .route(web::post().to(organizations::create)),
    )
    .service(
        web::resource("/v1/organizations/{org_id}")
            .route(web::get().to(organizations::get))
            .route(web::patch().to(organizations::update))
            .route(web::delete().to(organizations::delete)),
    )
    .service(
        web::resource("/v1/api-keys")
            .route(web::get().to(api_keys::list))
            .route(web::post().to(api_keys::create)),
    )
    .service(
        web::resource("/v1/api-keys/{key_id}")
            .route(web::get().to(api_keys::get))
            .route(web::patch().to(api_keys::update))
            .route(web::delete().to(api_keys::delete)),
    );
}

/// Health, readiness and metrics.
fn system(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(metrics::metrics)))
        .service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/ready").route(web::get().to(health::ready)));
}
