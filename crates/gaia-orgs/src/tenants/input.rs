//! What clients send that both services check the same way: limits (whole and as a patch), a status
//! out of an allowed set, an expiry in the future.

use chrono::{DateTime, Utc};
use gaia_core::{GaiaError, Limits, LimitsChange, Status};

use crate::validation as v;

/// Limits as clients send them (cost in USD).
#[derive(Debug, Clone, Default)]
pub struct LimitsInput {
    pub monthly_requests_limit: Option<i64>,
    pub monthly_tokens_limit: Option<i64>,
    pub monthly_cost_limit: Option<f64>,
    pub rate_limit_rpm: Option<i64>,
}

impl LimitsInput {
    pub(super) fn validate(&self) -> Result<Limits, GaiaError> {
        Ok(Limits {
            monthly_requests: v::count_limit(
                "monthly_requests_limit",
                self.monthly_requests_limit,
            )?,
            monthly_tokens: v::count_limit("monthly_tokens_limit", self.monthly_tokens_limit)?,
            monthly_cost_nanos: v::cost_limit("monthly_cost_limit", self.monthly_cost_limit)?,
            rate_limit_rpm: v::rpm(self.rate_limit_rpm)?,
        })
    }
}

/// A partial update of limits: `None` = unchanged, `Some(None)` = unlimited.
#[derive(Debug, Clone, Default)]
pub struct LimitsPatch {
    pub monthly_requests_limit: Option<Option<i64>>,
    pub monthly_tokens_limit: Option<Option<i64>>,
    pub monthly_cost_limit: Option<Option<f64>>,
    pub rate_limit_rpm: Option<Option<i64>>,
}

impl LimitsPatch {
    pub(super) fn validate(&self) -> Result<LimitsChange, GaiaError> {
        Ok(LimitsChange {
            monthly_requests: self
                .monthly_requests_limit
                .map(|x| v::count_limit("monthly_requests_limit", x))
                .transpose()?,
            monthly_tokens: self
                .monthly_tokens_limit
                .map(|x| v::count_limit("monthly_tokens_limit", x))
                .transpose()?,
            monthly_cost_nanos: self
                .monthly_cost_limit
                .map(|x| v::cost_limit("monthly_cost_limit", x))
                .transpose()?,
            rate_limit_rpm: self.rate_limit_rpm.map(v::rpm).transpose()?,
        })
    }
}

/// The statuses a client may set directly (revoking and expiry have their own ways).
pub(super) const SETTABLE: &[Status] = &[Status::Active, Status::Inactive];

/// `s` as one of the `allowed` statuses; a 400 naming `field` otherwise.
pub(super) fn parse_status(field: &str, s: &str, allowed: &[Status]) -> Result<Status, GaiaError> {
    Status::parse(s)
        .filter(|st| allowed.contains(st))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            GaiaError::invalid_request(format!("`{field}` must be one of {}", names.join(", ")))
                .with_param(field)
                .with_code("invalid_value")
        })
}

/// An optional settable status field.
pub(super) fn settable_status(status: Option<&str>) -> Result<Option<Status>, GaiaError> {
    status
        .map(|s| parse_status("status", s, SETTABLE))
        .transpose()
}

/// Refuses an expiry that is not in the future.
pub(super) fn check_future_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), GaiaError> {
    match expires_at {
        Some(exp) if exp <= now => Err(
            // Well-formed, refused by a rule no schema can state: 422, not 400.
            GaiaError::unprocessable("`expires_at` must be in the future")
                .with_param("expires_at")
                .with_code("invalid_value"),
        ),
        _ => Ok(()),
    }
}
