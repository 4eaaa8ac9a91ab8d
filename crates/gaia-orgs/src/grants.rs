//! What a caller may give an API key: never more than it has itself.
//!
//! Limits bind the key that carries them only if the key cannot lift them — neither on itself nor by
//! minting or editing a looser key beside it. Two rules, both checked here as pure functions so every
//! case is a unit test:
//!
//! - **A key never loosens itself.** Whatever its permissions (an admin key too), a key editing its own
//!   record may only tighten it: lower or set a limit, drop permissions, set or shorten an expiry,
//!   deactivate or revoke itself, rename or describe itself. Lifting or raising a limit, adding a
//!   permission, extending or removing the expiry answers `403 permission_denied`.
//! - **A non-admin key gives at most what it has.** Creating or editing another key of its organization,
//!   each permission must be its own, each of the four limits no looser than its own (`null`, i.e.
//!   unlimited, only where its own is `null`) and the expiry no later than its own. A field it leaves out
//!   of a new key is inherited from it, so a key with limits cannot create an unlimited one by omission.
//!   Activating a key (status `active`) checks all of that key's fields, since it makes them usable again.
//!
//! Admins (admin keys editing other keys, `GAIA_ADMIN_KEY`, admin users) have no ceiling; organization
//! limits are admin-only (checked by the callers). Per-key monthly limits are each key's own: the
//! organization's limits are the cap on what all its keys use together.

use chrono::{DateTime, Utc};
use gaia_core::{ApiKey, GaiaError, Limits, LimitsChange, Permissions, Status};

/// The most a caller may give: its own key's permissions, limits and expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceiling {
    pub permissions: Permissions,
    pub limits: Limits,
    pub expires_at: Option<DateTime<Utc>>,
    /// Whose ceiling this is, for the error message.
    pub whose: Whose,
}

/// Why a ceiling applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// The key is editing itself.
    Itself,
    /// A non-admin key is creating or editing another key.
    Caller,
}

impl Ceiling {
    pub fn of(key: &ApiKey, whose: Whose) -> Self {
        Self {
            permissions: key.permissions,
            limits: key.limits,
            expires_at: key.expires_at,
            whose,
        }
    }
}

/// A limit field: its API name, and how to show a value of it.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    usd: bool,
}

const REQUESTS: Field = Field {
    name: "monthly_requests_limit",
    usd: false,
};
const TOKENS: Field = Field {
    name: "monthly_tokens_limit",
    usd: false,
};
const COST: Field = Field {
    name: "monthly_cost_limit",
    usd: true,
};
const RPM: Field = Field {
    name: "rate_limit_rpm",
    usd: false,
};

fn show(field: Field, v: Option<i64>) -> String {
    match v {
        None => "unlimited".to_owned(),
        Some(n) if field.usd => format!("{} USD", gaia_core::money::usd(n)),
        Some(n) => n.to_string(),
    }
}

/// Whether `asked` is looser than `own` (`None` = unlimited).
fn looser(asked: Option<i64>, own: Option<i64>) -> bool {
    match (asked, own) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(o)) => a > o,
    }
}

fn denied(ceiling: &Ceiling, field: &str, what: String) -> GaiaError {
    let message = match ceiling.whose {
        Whose::Itself => format!(
            "a key cannot loosen its own `{field}` ({what}); it may only tighten it — ask an administrator"
        ),
        Whose::Caller => format!(
            "`{field}` cannot be looser than the calling key's own ({what}): a key gives no more than it has"
        ),
    };
    GaiaError::forbidden(message)
        .with_param(field)
        .with_code("permission_denied")
}

fn check_limit(
    ceiling: &Ceiling,
    field: Field,
    asked: Option<i64>,
    own: Option<i64>,
) -> Result<(), GaiaError> {
    if looser(asked, own) {
        Err(denied(ceiling, field.name, show(field, own)))
    } else {
        Ok(())
    }
}

fn check_expiry(ceiling: &Ceiling, asked: Option<DateTime<Utc>>) -> Result<(), GaiaError> {
    let later = match (asked, ceiling.expires_at) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(o)) => a > o,
    };
    if later {
        let own = ceiling
            .expires_at
            .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
        Err(denied(ceiling, "expires_at", format!("expires {own}")))
    } else {
        Ok(())
    }
}

fn check_permissions(ceiling: &Ceiling, asked: Permissions) -> Result<(), GaiaError> {
    if ceiling.permissions.covers(asked) {
        Ok(())
    } else {
        let own: Vec<&str> = ceiling
            .permissions
            .list()
            .iter()
            .map(|p| p.as_str())
            .collect();
        Err(denied(ceiling, "permissions", own.join(", ")))
    }
}

/// The limits of a key a capped caller creates: each field left out is inherited from the caller, each
/// field given must be no looser than the caller's.
pub fn limits_for_new_key(ceiling: &Ceiling, asked: Limits) -> Result<Limits, GaiaError> {
    let own = ceiling.limits;
    let pick = |field: Field, asked: Option<i64>, own: Option<i64>| -> Result<_, GaiaError> {
        match asked {
            None => Ok(own),
            Some(v) => check_limit(ceiling, field, Some(v), own).map(|()| Some(v)),
        }
    };
    Ok(Limits {
        monthly_requests: pick(REQUESTS, asked.monthly_requests, own.monthly_requests)?,
        monthly_tokens: pick(TOKENS, asked.monthly_tokens, own.monthly_tokens)?,
        monthly_cost_nanos: pick(COST, asked.monthly_cost_nanos, own.monthly_cost_nanos)?,
        rate_limit_rpm: pick(
            RPM,
            asked.rate_limit_rpm.map(i64::from),
            own.rate_limit_rpm.map(i64::from),
        )?
        .and_then(|v| i32::try_from(v).ok()),
    })
}

/// The expiry of a key a capped caller creates: inherited when left out, no later than the caller's.
pub fn expiry_for_new_key(
    ceiling: &Ceiling,
    asked: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, GaiaError> {
    match asked {
        None => Ok(ceiling.expires_at),
        Some(at) => check_expiry(ceiling, Some(at)).map(|()| Some(at)),
    }
}

/// The permissions of a key a capped caller creates or sets.
pub fn check_new_permissions(ceiling: &Ceiling, asked: Permissions) -> Result<(), GaiaError> {
    check_permissions(ceiling, asked)
}

/// A validated change to a key, as the update service has it: `None` = unchanged, `Some(None)` = cleared.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyChange {
    pub permissions: Option<Permissions>,
    pub status: Option<Status>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub limits: LimitsChange,
}

/// Checks a change to `current` against `ceiling`: every field the change sets, and — when it makes the
/// key active again — every field of the key as it will be.
pub fn check_change(
    ceiling: &Ceiling,
    current: &ApiKey,
    change: &KeyChange,
) -> Result<(), GaiaError> {
    let own = ceiling.limits;
    let activates = change.status == Some(Status::Active) && current.status != Status::Active;
    let after = |set: Option<Option<i64>>, now: Option<i64>| set.unwrap_or(now);
    let rpm_now = current.limits.rate_limit_rpm.map(i64::from);
    let set = change.limits;
    let rpm_set = set.rate_limit_rpm.map(|v| v.map(i64::from));
    let fields = [
        (
            REQUESTS,
            set.monthly_requests,
            current.limits.monthly_requests,
            own.monthly_requests,
        ),
        (
            TOKENS,
            set.monthly_tokens,
            current.limits.monthly_tokens,
            own.monthly_tokens,
        ),
        (
            COST,
            set.monthly_cost_nanos,
            current.limits.monthly_cost_nanos,
            own.monthly_cost_nanos,
        ),
        (RPM, rpm_set, rpm_now, own.rate_limit_rpm.map(i64::from)),
    ];
    for (field, set, now, own) in fields {
        if set.is_some() || activates {
            check_limit(ceiling, field, after(set, now), own)?;
        }
    }
    if change.permissions.is_some() || activates {
        check_permissions(ceiling, change.permissions.unwrap_or(current.permissions))?;
    }
    if change.expires_at.is_some() || activates {
        check_expiry(ceiling, change.expires_at.unwrap_or(current.expires_at))?;
    }
    if activates && ceiling.whose == Whose::Itself {
        // Unreachable through the API (an inactive key cannot authenticate), refused all the same.
        return Err(denied(ceiling, "status", current.status.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaia_core::Permission;

    fn key(limits: Limits, perms: &[Permission], expires_at: Option<DateTime<Utc>>) -> ApiKey {
        let now = Utc::now();
        ApiKey {
            id: "k1".into(),
            organization_id: "o1".into(),
            lookup: "abcdefghijkl".into(),
            secret_hash: String::new(),
            hint: String::new(),
            name: None,
            description: None,
            permissions: Permissions::from_slice(perms),
            status: Status::Active,
            limits,
            created_at: now,
            updated_at: now,
            expires_at,
            last_used_at: None,
        }
    }

    fn capped() -> Limits {
        Limits {
            monthly_requests: Some(5),
            monthly_tokens: None,
            monthly_cost_nanos: Some(2_000_000_000),
            rate_limit_rpm: Some(2),
        }
    }

    const RW: &[Permission] = &[Permission::Read, Permission::Write];

    #[test]
    fn a_new_key_inherits_every_limit_left_out_and_keeps_unlimited_only_where_the_creator_is() {
        let c = Ceiling::of(&key(capped(), RW, None), Whose::Caller);
        let got = limits_for_new_key(&c, Limits::default()).unwrap();
        assert_eq!(got, capped());
        let tighter = Limits {
            monthly_requests: Some(3),
            monthly_tokens: Some(1000),
            monthly_cost_nanos: Some(1),
            rate_limit_rpm: Some(1),
        };
        assert_eq!(limits_for_new_key(&c, tighter).unwrap(), tighter);
    }

    #[test]
    fn a_new_key_looser_than_its_creator_on_any_limit_is_refused_naming_the_field() {
        let c = Ceiling::of(&key(capped(), RW, None), Whose::Caller);
        for (asked, field) in [
            (
                Limits {
                    monthly_requests: Some(6),
                    ..Default::default()
                },
                "monthly_requests_limit",
            ),
            (
                Limits {
                    monthly_cost_nanos: Some(2_000_000_001),
                    ..Default::default()
                },
                "monthly_cost_limit",
            ),
            (
                Limits {
                    rate_limit_rpm: Some(3),
                    ..Default::default()
                },
                "rate_limit_rpm",
            ),
        ] {
            let e = limits_for_new_key(&c, asked).unwrap_err();
            assert_eq!(e.status(), 403, "{field}");
            assert_eq!(e.code(), "permission_denied");
            assert_eq!(e.param.as_deref(), Some(field));
        }
    }

    #[test]
    fn expiry_is_inherited_and_never_later_than_the_creators() {
        let at = Utc::now() + chrono::Duration::days(1);
        let c = Ceiling::of(&key(capped(), RW, Some(at)), Whose::Caller);
        assert_eq!(expiry_for_new_key(&c, None).unwrap(), Some(at));
        let sooner = at - chrono::Duration::hours(1);
        assert_eq!(expiry_for_new_key(&c, Some(sooner)).unwrap(), Some(sooner));
        let later = at + chrono::Duration::hours(1);
        assert_eq!(
            expiry_for_new_key(&c, Some(later))
                .unwrap_err()
                .param
                .as_deref(),
            Some("expires_at")
        );
        let free = Ceiling::of(&key(capped(), RW, None), Whose::Caller);
        assert_eq!(expiry_for_new_key(&free, Some(later)).unwrap(), Some(later));
    }

    #[test]
    fn a_key_may_tighten_itself_but_never_lift_or_raise_a_limit() {
        let me = key(capped(), RW, None);
        let c = Ceiling::of(&me, Whose::Itself);
        let lift = KeyChange {
            limits: LimitsChange {
                monthly_requests: Some(None),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = check_change(&c, &me, &lift).unwrap_err();
        assert_eq!(e.code(), "permission_denied");
        assert!(e.to_string().contains("its own"), "{e}");
        let raise = KeyChange {
            limits: LimitsChange {
                rate_limit_rpm: Some(Some(3)),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(check_change(&c, &me, &raise).is_err());
        let tighten = KeyChange {
            limits: LimitsChange {
                rate_limit_rpm: Some(Some(1)),
                monthly_tokens: Some(Some(10)),
                ..Default::default()
            },
            ..Default::default()
        };
        check_change(&c, &me, &tighten).unwrap();
        let deactivate = KeyChange {
            status: Some(Status::Inactive),
            ..Default::default()
        };
        check_change(&c, &me, &deactivate).unwrap();
    }

    #[test]
    fn a_key_may_not_extend_or_drop_its_own_expiry_nor_add_permissions() {
        let at = Utc::now() + chrono::Duration::days(1);
        let me = key(capped(), &[Permission::Read], Some(at));
        let c = Ceiling::of(&me, Whose::Itself);
        for change in [
            KeyChange {
                expires_at: Some(None),
                ..Default::default()
            },
            KeyChange {
                expires_at: Some(Some(at + chrono::Duration::days(1))),
                ..Default::default()
            },
            KeyChange {
                permissions: Some(Permissions::from_slice(RW)),
                ..Default::default()
            },
        ] {
            assert!(check_change(&c, &me, &change).is_err(), "{change:?}");
        }
        let shorten = KeyChange {
            expires_at: Some(Some(at - chrono::Duration::hours(1))),
            ..Default::default()
        };
        check_change(&c, &me, &shorten).unwrap();
    }

    #[test]
    fn activating_a_looser_sibling_is_refused_and_renaming_it_is_not() {
        let caller = key(capped(), RW, None);
        let c = Ceiling::of(&caller, Whose::Caller);
        let mut sibling = key(Limits::default(), RW, None);
        sibling.status = Status::Inactive;
        let activate = KeyChange {
            status: Some(Status::Active),
            ..Default::default()
        };
        assert_eq!(
            check_change(&c, &sibling, &activate)
                .unwrap_err()
                .param
                .as_deref(),
            Some("monthly_requests_limit")
        );
        check_change(&c, &sibling, &KeyChange::default()).unwrap();
        let tighten_one = KeyChange {
            limits: LimitsChange {
                rate_limit_rpm: Some(Some(1)),
                ..Default::default()
            },
            ..Default::default()
        };
        check_change(&c, &sibling, &tighten_one).unwrap();
    }
}
