//! The four limits organizations and API keys share, declared once for both: how they read in an answer
//! ([`LimitsView`]), in a creation body and in a change body ([`body_with_limits!`]).
//!
//! Request bodies keep `deny_unknown_fields` and an exact schema (`additionalProperties: false`, which
//! `#[serde(flatten)]` would lose in utoipa's output), so the limit fields are appended to them by a macro
//! rather than flattened in.

use gaia_core::Limits;
use gaia_core::money::usd;
use serde::Serialize;
use utoipa::ToSchema;

/// An organization's or a key's limits as answers show them; `null` = unlimited.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    /// Requests per UTC calendar month; `null` = unlimited.
    pub monthly_requests_limit: Option<i64>,
    /// Tokens per UTC calendar month; `null` = unlimited.
    pub monthly_tokens_limit: Option<i64>,
    /// USD per UTC calendar month; `null` = unlimited.
    pub monthly_cost_limit: Option<f64>,
    /// Requests per minute; `null` = no limit.
    pub rate_limit_rpm: Option<i32>,
}

impl From<Limits> for LimitsView {
    fn from(l: Limits) -> Self {
        Self {
            monthly_requests_limit: l.monthly_requests,
            monthly_tokens_limit: l.monthly_tokens,
            monthly_cost_limit: l.monthly_cost_nanos.map(usd),
            rate_limit_rpm: l.rate_limit_rpm,
        }
    }
}

/// Declares a request body struct with the four limit fields appended after the fields written out, and
/// a `limits()` method giving them to the service.
///
/// - `create:` a new organization or key: each limit optional (`null` or absent = unlimited), integers
///   written `14` or `14.0`; `limits()` gives a [`gaia_orgs::tenants::LimitsInput`].
/// - `update:` a change: absent = unchanged, `null` = unlimited; `limits()` gives a
///   [`gaia_orgs::tenants::LimitsPatch`].
///
/// The struct's own fields must end with a comma.
macro_rules! body_with_limits {
    (create: $(#[$meta:meta])* $vis:vis struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($fields)*
            /// Requests per UTC calendar month; `null` = unlimited.
            #[schema(minimum = 0)]
            #[serde(default, deserialize_with = "crate::routes::patch::integer")]
            pub monthly_requests_limit: Option<i64>,
            /// Tokens per UTC calendar month; `null` = unlimited.
            #[schema(minimum = 0)]
            #[serde(default, deserialize_with = "crate::routes::patch::integer")]
            pub monthly_tokens_limit: Option<i64>,
            /// USD per UTC calendar month; `null` = unlimited.
            #[schema(minimum = 0.0, maximum = 9_000_000_000.0)]
            pub monthly_cost_limit: Option<f64>,
            /// Requests per minute; `null` = no limit.
            #[schema(minimum = 1, maximum = 1_000_000)]
            #[serde(default, deserialize_with = "crate::routes::patch::integer")]
            pub rate_limit_rpm: Option<i64>,
        }

        impl $name {
            /// The limits as the service takes them.
            pub fn limits(&self) -> gaia_orgs::tenants::LimitsInput {
                gaia_orgs::tenants::LimitsInput {
                    monthly_requests_limit: self.monthly_requests_limit,
                    monthly_tokens_limit: self.monthly_tokens_limit,
                    monthly_cost_limit: self.monthly_cost_limit,
                    rate_limit_rpm: self.rate_limit_rpm,
                }
            }
        }
    };
    (update: $(#[$meta:meta])* $vis:vis struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($fields)*
            /// Requests per UTC calendar month; `null` = unlimited.
            #[serde(default, deserialize_with = "crate::routes::patch::nullable_integer")]
            #[schema(value_type = Option<i64>, minimum = 0)]
            pub monthly_requests_limit: Option<Option<i64>>,
            /// Tokens per UTC calendar month; `null` = unlimited.
            #[serde(default, deserialize_with = "crate::routes::patch::nullable_integer")]
            #[schema(value_type = Option<i64>, minimum = 0)]
            pub monthly_tokens_limit: Option<Option<i64>>,
            /// USD per UTC calendar month; `null` = unlimited.
            #[serde(default, deserialize_with = "crate::routes::patch::nullable")]
            #[schema(value_type = Option<f64>, minimum = 0.0, maximum = 9_000_000_000.0)]
            pub monthly_cost_limit: Option<Option<f64>>,
            /// Requests per minute; `null` = no limit.
            #[serde(default, deserialize_with = "crate::routes::patch::nullable_integer")]
            #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
            pub rate_limit_rpm: Option<Option<i64>>,
        }

        impl $name {
            /// The change of limits as the service takes it.
            pub fn limits(&self) -> gaia_orgs::tenants::LimitsPatch {
                gaia_orgs::tenants::LimitsPatch {
                    monthly_requests_limit: self.monthly_requests_limit,
                    monthly_tokens_limit: self.monthly_tokens_limit,
                    monthly_cost_limit: self.monthly_cost_limit,
                    rate_limit_rpm: self.rate_limit_rpm,
                }
            }
        }
    };
}

pub(crate) use body_with_limits;
