//! sea-orm entities. Private to this crate: repositories convert rows to gaia-core types.

pub mod api_key;
pub mod channel;
pub mod model;
pub mod model_alias;
pub mod organization;
pub mod response;
pub mod usage_daily;
pub mod usage_record;
pub mod usage_reject;
pub mod user;
