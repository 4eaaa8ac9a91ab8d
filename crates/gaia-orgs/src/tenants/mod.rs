//! Organization and API-key services: validation, permission scoping and the store calls, so handlers
//! only extract and map. Cross-organization access answers 404 (existence is not leaked).
//!
//! `organizations` and `api_keys` are the two services; `input` holds what clients send that both
//! check alike (limits, statuses, expiry).

mod api_keys;
mod input;
mod organizations;

use gaia_core::{GaiaError, Permission};

use crate::auth::Principal;

pub use api_keys::{
    CreateApiKey, CreatedKey, UpdateApiKey, create_api_key, get_api_key, list_api_keys,
    revoke_api_key, update_api_key,
};
pub use input::{LimitsInput, LimitsPatch};
pub use organizations::{
    CreateOrganization, UpdateOrganization, create_organization, deactivate_organization,
    get_organization, list_organizations, update_organization,
};

fn org_not_found() -> GaiaError {
    GaiaError::not_found("organization not found").with_code("organization_not_found")
}

fn key_not_found() -> GaiaError {
    GaiaError::not_found("API key not found").with_code("api_key_not_found")
}

fn need(principal: &Principal, p: Permission) -> Result<(), GaiaError> {
    if principal.allows(p) {
        Ok(())
    } else {
        Err(
            GaiaError::forbidden(format!("this needs the '{p}' permission"))
                .with_code("permission_denied"),
        )
    }
}
