//! Tenancy: organizations, API keys, permissions and limits, as the rest of GaiaRouter sees them
//! (storage rows are converted to these in gaia-store and never leak out).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApiKeyId, OrganizationId};

/// What a key (or a user token) may do. `Admin` implies the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Write,
    Admin,
}

impl Permission {
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Permission::Read),
            "write" => Some(Permission::Write),
            "admin" => Some(Permission::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A small set of permissions (a bit set; cheap to copy and check on the hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u8);

impl Permissions {
    const fn bit(p: Permission) -> u8 {
        match p {
            Permission::Read => 1,
            Permission::Write => 2,
            Permission::Admin => 4,
        }
    }

    pub fn from_slice(perms: &[Permission]) -> Self {
        Self(perms.iter().fold(0, |acc, p| acc | Self::bit(*p)))
    }

    /// Parses the stored comma-separated form; unknown names are ignored.
    pub fn parse_csv(s: &str) -> Self {
        let perms: Vec<Permission> = s
            .split(',')
            .filter_map(|p| Permission::parse(p.trim()))
            .collect();
        Self::from_slice(&perms)
    }

    pub fn to_csv(self) -> String {
        self.list()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether this set grants `p` (admin grants everything).
    pub const fn allows(self, p: Permission) -> bool {
        self.0 & Self::bit(Permission::Admin) != 0 || self.0 & Self::bit(p) != 0
    }

    /// Whether every permission in `other` is granted by `self`.
    pub fn covers(self, other: Permissions) -> bool {
        other.list().into_iter().all(|p| self.allows(p))
    }

    pub fn list(self) -> Vec<Permission> {
        [Permission::Read, Permission::Write, Permission::Admin]
            .into_iter()
            .filter(|p| self.0 & Self::bit(*p) != 0)
            .collect()
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Lifecycle state of an organization, key or user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Inactive,
    /// Revoked (soft-deleted) keys.
    Revoked,
    /// Only ever computed for reads: an active key past its `expires_at`.
    Expired,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Status::Active),
            "inactive" => Some(Status::Inactive),
            "revoked" => Some(Status::Revoked),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An admin-UI user's role: an `Admin` manages everything, a `User` reads everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    Admin,
    User,
}

impl UserRole {
    pub const ALL: [UserRole; 2] = [UserRole::Admin, UserRole::User];

    pub const fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What a user of this role may do through the API.
    pub fn permissions(self) -> Permissions {
        match self {
            UserRole::Admin => Permissions::from_slice(&[Permission::Admin]),
            UserRole::User => Permissions::from_slice(&[Permission::Read]),
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Monthly and per-minute limits; `None` means unlimited. Cost is in nano-dollars (1e-9 USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Limits {
    pub monthly_requests: Option<i64>,
    pub monthly_tokens: Option<i64>,
    pub monthly_cost_nanos: Option<i64>,
    pub rate_limit_rpm: Option<i32>,
}

/// A partial change of [`Limits`], the same for organizations and API keys: per field `None` = unchanged,
/// `Some(None)` = unlimited, `Some(Some(v))` = set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitsChange {
    pub monthly_requests: Option<Option<i64>>,
    pub monthly_tokens: Option<Option<i64>>,
    pub monthly_cost_nanos: Option<Option<i64>>,
    pub rate_limit_rpm: Option<Option<i32>>,
}

impl LimitsChange {
    /// `limits` with this change applied.
    pub fn applied_to(&self, limits: Limits) -> Limits {
        Limits {
            monthly_requests: self.monthly_requests.unwrap_or(limits.monthly_requests),
            monthly_tokens: self.monthly_tokens.unwrap_or(limits.monthly_tokens),
            monthly_cost_nanos: self.monthly_cost_nanos.unwrap_or(limits.monthly_cost_nanos),
            rate_limit_rpm: self.rate_limit_rpm.unwrap_or(limits.rate_limit_rpm),
        }
    }

    /// Whether the change touches no field.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub description: Option<String>,
    pub status: Status,
    pub limits: Limits,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An API key as stored: never the secret, only its hash and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organization_id: OrganizationId,
    /// Public lookup part of the key.
    pub lookup: String,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
    /// `gaia_ab12…wxyz`: safe to show.
    pub hint: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Permissions,
    pub status: Status,
    pub limits: Limits,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ApiKey {
    /// The status a reader should see: an active key past its expiry reads as `expired`.
    pub fn effective_status(&self, now: DateTime<Utc>) -> Status {
        match (self.status, self.expires_at) {
            (Status::Active, Some(exp)) if exp <= now => Status::Expired,
            (s, _) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limits_change_sets_clears_or_keeps_each_field() {
        let before = Limits {
            monthly_requests: Some(10),
            monthly_tokens: Some(1_000),
            monthly_cost_nanos: Some(5),
            rate_limit_rpm: Some(3),
        };
        let change = LimitsChange {
            monthly_requests: Some(None),
            monthly_tokens: Some(Some(500)),
            ..Default::default()
        };
        assert!(!change.is_empty());
        assert!(LimitsChange::default().is_empty());
        assert_eq!(
            change.applied_to(before),
            Limits {
                monthly_requests: None,
                monthly_tokens: Some(500),
                monthly_cost_nanos: Some(5),
                rate_limit_rpm: Some(3),
            }
        );
        assert_eq!(LimitsChange::default().applied_to(before), before);
    }

    #[test]
    fn admin_implies_every_permission() {
        let p = Permissions::from_slice(&[Permission::Admin]);
        assert!(p.allows(Permission::Read));
        assert!(p.allows(Permission::Write));
        assert!(p.covers(Permissions::from_slice(&[
            Permission::Read,
            Permission::Write
        ])));
    }

    #[test]
    fn write_does_not_cover_admin() {
        let p = Permissions::from_slice(&[Permission::Read, Permission::Write]);
        assert!(!p.allows(Permission::Admin));
        assert!(!p.covers(Permissions::from_slice(&[Permission::Admin])));
    }

    #[test]
    fn permissions_round_trip_through_csv() {
        let p = Permissions::parse_csv("write, read");
        assert_eq!(p.to_csv(), "read,write");
        assert_eq!(Permissions::parse_csv("bogus"), Permissions::default());
    }
}
