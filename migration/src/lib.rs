//! # migration
//!
//! The schema, as an ordered list of sea-orm migrations that run unchanged on SQLite, PostgreSQL and MySQL.
//! One file per migration, named `mYYYYMMDD_HHMMSS_<verb>_<table>.rs` (the file name is the migration's name
//! in `seaql_migrations`). Applied migrations are frozen history: change the schema by adding a migration,
//! never by editing one. Identifiers are plain strings so this crate depends on none of ours.
//!
//! Conventions: ids are text (UUIDv7 for entities, which sort by creation time); timestamps are
//! `timestamp with time zone` in UTC; money is integer nano-dollars (1e-9 USD) so sums never drift.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_organizations;
mod m20261127_000002_create_api_keys;
mod m20261127_000003_create_usage_records;
mod m20261127_000004_create_models;
mod m20261127_000005_create_model_aliases;
mod m20261127_000006_create_users;
mod m20261127_000007_create_usage_daily;
mod m20261127_000008_create_quota_reservations;
mod m20261127_000009_create_usage_daily_models;
mod m20261127_000010_create_usage_retention;
mod m20261127_000011_mysql_unicode_and_dates;
mod m20261204_000012_create_usage_rejects;
mod m20261204_000013_alter_usage_records;
mod m20261204_000014_alter_usage_daily;
mod m20261204_000015_alter_models;
mod m20261205_000016_alter_usage_records_api;
mod m20261205_000017_alter_models_cache_prices;
mod m20261205_000018_create_responses;
mod m20261205_000019_alter_models_kind;
mod m20261205_000020_create_channels;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_organizations::Migration),
            Box::new(m20261127_000002_create_api_keys::Migration),
            Box::new(m20261127_000003_create_usage_records::Migration),
            Box::new(m20261127_000004_create_models::Migration),
            Box::new(m20261127_000005_create_model_aliases::Migration),
            Box::new(m20261127_000006_create_users::Migration),
            Box::new(m20261127_000007_create_usage_daily::Migration),
            Box::new(m20261127_000008_create_quota_reservations::Migration),
            Box::new(m20261127_000009_create_usage_daily_models::Migration),
            Box::new(m20261127_000010_create_usage_retention::Migration),
            Box::new(m20261127_000011_mysql_unicode_and_dates::Migration),
            Box::new(m20261204_000012_create_usage_rejects::Migration),
            Box::new(m20261204_000013_alter_usage_records::Migration),
            Box::new(m20261204_000014_alter_usage_daily::Migration),
            Box::new(m20261204_000015_alter_models::Migration),
            Box::new(m20261205_000016_alter_usage_records_api::Migration),
            Box::new(m20261205_000017_alter_models_cache_prices::Migration),
            Box::new(m20261205_000018_create_responses::Migration),
            Box::new(m20261205_000019_alter_models_kind::Migration),
            Box::new(m20261205_000020_create_channels::Migration),
        ]
    }
}
