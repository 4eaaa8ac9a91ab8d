//! The four limit columns organizations and API keys share, read and written in one place.
//!
//! Both tables carry `monthly_requests_limit`, `monthly_tokens_limit`, `monthly_cost_limit_nanos` and
//! `rate_limit_rpm`; [`LimitColumns`] is implemented for both row types by one macro, so reading a row's
//! [`Limits`], setting them on a new row and applying a [`LimitsChange`] are each written once.

use gaia_core::{Limits, LimitsChange};
use sea_orm::Set;

/// A stored row with the four limit columns.
pub(crate) trait LimitsRow {
    /// The limits the row holds.
    fn limits(&self) -> Limits;
}

/// A row being written with the four limit columns.
pub(crate) trait LimitColumns {
    /// Sets all four columns.
    fn set_limits(&mut self, limits: Limits);
    /// Sets the columns the change names and leaves the others as they are.
    fn apply_limits(&mut self, change: LimitsChange);
}

macro_rules! limit_columns {
    ($entity:ident) => {
        impl LimitsRow for crate::entity::$entity::Model {
            fn limits(&self) -> Limits {
                Limits {
                    monthly_requests: self.monthly_requests_limit,
                    monthly_tokens: self.monthly_tokens_limit,
                    monthly_cost_nanos: self.monthly_cost_limit_nanos,
                    rate_limit_rpm: self.rate_limit_rpm,
                }
            }
        }

        impl LimitColumns for crate::entity::$entity::ActiveModel {
            fn set_limits(&mut self, limits: Limits) {
                self.monthly_requests_limit = Set(limits.monthly_requests);
                self.monthly_tokens_limit = Set(limits.monthly_tokens);
                self.monthly_cost_limit_nanos = Set(limits.monthly_cost_nanos);
                self.rate_limit_rpm = Set(limits.rate_limit_rpm);
            }
            fn apply_limits(&mut self, change: LimitsChange) {
                if let Some(v) = change.monthly_requests {
                    self.monthly_requests_limit = Set(v);
                }
                if let Some(v) = change.monthly_tokens {
                    self.monthly_tokens_limit = Set(v);
                }
                if let Some(v) = change.monthly_cost_nanos {
                    self.monthly_cost_limit_nanos = Set(v);
                }
                if let Some(v) = change.rate_limit_rpm {
                    self.rate_limit_rpm = Set(v);
                }
            }
        }
    };
}

limit_columns!(organization);
limit_columns!(api_key);
