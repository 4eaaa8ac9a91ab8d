//! Who is calling, and what that caller may see and do.

use gaia_core::{ApiKeyId, OrganizationId, Permission, Permissions, UserId, UserRole};

/// The limits that apply to a key's requests: its own and its organization's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppliedLimits {
    pub key: gaia_core::Limits,
    pub organization: gaia_core::Limits,
}

/// A stored API key calling (directly, or through a key-login token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCaller {
    pub id: ApiKeyId,
    pub organization_id: OrganizationId,
    pub permissions: Permissions,
    /// The limits to enforce on its inference requests.
    pub limits: AppliedLimits,
}

/// An admin-UI user calling with a login token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCaller {
    pub id: UserId,
    pub username: String,
    pub role: UserRole,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The `GAIA_ADMIN_KEY` from the environment: an administrator of no organization.
    BootstrapKey,
    Key(KeyCaller),
    User(UserCaller),
}

impl Principal {
    /// What this caller may do.
    pub fn permissions(&self) -> Permissions {
        match self {
            Principal::BootstrapKey => Permissions::from_slice(&[Permission::Admin]),
            Principal::Key(k) => k.permissions,
            Principal::User(u) => u.role.permissions(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.allows(Permission::Admin)
    }

    pub fn allows(&self, p: Permission) -> bool {
        self.permissions().allows(p)
    }

    /// The calling key, for key principals.
    pub fn key(&self) -> Option<&KeyCaller> {
        match self {
            Principal::Key(k) => Some(k),
            _ => None,
        }
    }

    /// The organization this caller is confined to: `None` for admins and UI users (who see every
    /// organization, read-only unless admin), `Some(org)` for every non-admin key.
    pub fn org_scope(&self) -> Option<&OrganizationId> {
        match self {
            Principal::Key(k) if !k.permissions.allows(Permission::Admin) => {
                Some(&k.organization_id)
            }
            _ => None,
        }
    }

    /// Whether this caller may see resources of `org_id`.
    pub fn can_see_org(&self, org_id: &str) -> bool {
        self.org_scope().is_none_or(|own| own == org_id)
    }
}
