//! Ids that say what they name. An [`OrganizationId`] cannot be passed where an [`ApiKeyId`] is
//! expected, so `admit(key_id, organization_id)` cannot be called with the two swapped. On the wire and in
//! the database they are plain strings (`serde(transparent)`); the store converts at its edge.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Lets a map keyed by this id be looked up with a `&str` read from a request.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// An organization's id.
    OrganizationId
);
id_type!(
    /// An API key's id (not its secret, nor its public lookup part).
    ApiKeyId
);
id_type!(
    /// An admin-UI user's id.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_strings_on_the_wire() {
        let id = OrganizationId::new("org_1");
        assert_eq!(
            serde_json::to_string(&id).ok().as_deref(),
            Some("\"org_1\"")
        );
        let back: ApiKeyId = serde_json::from_str("\"key_9\"").unwrap_or_default();
        assert_eq!(back, "key_9");
        assert_eq!(back.to_string(), "key_9");
    }

    #[test]
    fn a_map_keyed_by_id_is_looked_up_with_a_str() {
        let mut map = std::collections::HashMap::new();
        map.insert(UserId::new("u1"), 1);
        assert_eq!(map.get("u1"), Some(&1));
        assert_eq!(map.get("u2"), None);
    }
}
