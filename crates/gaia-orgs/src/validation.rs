//! Input rules shared by organizations, keys and users. Every failure is a 400 naming its field.

use gaia_core::{GaiaError, Permission, Permissions};

pub const MAX_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_RPM: i64 = 1_000_000;

fn field_error(field: &str, message: impl Into<String>) -> GaiaError {
    GaiaError::invalid_request(message)
        .with_param(field)
        .with_code("invalid_value")
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn name(field: &str, raw: &str) -> Result<String, GaiaError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(field_error(field, format!("`{field}` must not be empty")));
    }
    if v.chars().count() > MAX_NAME {
        return Err(field_error(
            field,
            format!("`{field}` must be at most {MAX_NAME} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(field_error(
            field,
            format!("`{field}` must not contain control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// An optional description: at most 1000 characters, line breaks and tabs but no other control
/// characters (NUL cannot be stored by every database); empty means none.
pub fn description(raw: Option<String>) -> Result<Option<String>, GaiaError> {
    match raw.map(|d| d.trim().to_owned()) {
        None => Ok(None),
        Some(d) if d.is_empty() => Ok(None),
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(field_error(
            "description",
            format!("`description` must be at most {MAX_DESCRIPTION} characters"),
        )),
        Some(d)
            if d.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Err(field_error(
                "description",
                "`description` must not contain control characters other than line breaks and tabs",
            ))
        }
        Some(d) => Ok(Some(d)),
    }
}

/// A non-negative count limit.
pub fn count_limit(field: &str, v: Option<i64>) -> Result<Option<i64>, GaiaError> {
    match v {
        Some(n) if n < 0 => Err(field_error(
            field,
            format!("`{field}` must be zero or more (null: unlimited)"),
        )),
        other => Ok(other),
    }
}

/// A USD cost limit → nano-dollars.
pub fn cost_limit(field: &str, v: Option<f64>) -> Result<Option<i64>, GaiaError> {
    match v {
        None => Ok(None),
        Some(usd) if !usd.is_finite() || usd < 0.0 => Err(field_error(
            field,
            format!("`{field}` must be a non-negative amount in USD (null: unlimited)"),
        )),
        Some(usd) if usd > 9_000_000_000.0 => {
            Err(field_error(field, format!("`{field}` is too large")))
        }
        Some(usd) => gaia_core::Nanos::from_usd(usd)
            .map(|n| Some(n.0))
            .ok_or_else(|| field_error(field, format!("`{field}` is too large"))),
    }
}

/// Requests per minute: 1 to 1,000,000.
pub fn rpm(v: Option<i64>) -> Result<Option<i32>, GaiaError> {
    match v {
        None => Ok(None),
        Some(n) if !(1..=MAX_RPM).contains(&n) => Err(field_error(
            "rate_limit_rpm",
            format!("`rate_limit_rpm` must be between 1 and {MAX_RPM} (null: no limit)"),
        )),
        Some(n) => Ok(i32::try_from(n).ok()),
    }
}

/// A permission list: known names only, at least one.
pub fn permissions(raw: &[String]) -> Result<Permissions, GaiaError> {
    if raw.is_empty() {
        return Err(field_error(
            "permissions",
            "`permissions` must list at least one of read, write, admin",
        ));
    }
    let mut perms = Vec::with_capacity(raw.len());
    for p in raw {
        let parsed = Permission::parse(p.trim()).ok_or_else(|| {
            field_error(
                "permissions",
                format!("unknown permission '{p}' (expected read, write or admin)"),
            )
        })?;
        perms.push(parsed);
    }
    Ok(Permissions::from_slice(&perms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  acme ").unwrap(), "acme");
        assert_eq!(name("name", "").unwrap_err().param.as_deref(), Some("name"));
        assert!(name("name", &"x".repeat(300)).is_err());
        assert!(name("name", "a\u{7}b").is_err());
    }

    #[test]
    fn descriptions_keep_line_breaks_but_refuse_other_control_characters() {
        assert_eq!(
            description(Some(" two\nlines\tand a tab ".into())).unwrap(),
            Some("two\nlines\tand a tab".to_owned())
        );
        assert_eq!(description(Some("   ".into())).unwrap(), None);
        for bad in ["nul\0byte", "bell\u{7}", "escape\u{1b}[31m"] {
            let err = description(Some(bad.into())).unwrap_err();
            assert_eq!(err.param.as_deref(), Some("description"), "{bad:?}");
        }
    }

    #[test]
    fn limits_reject_negative_values() {
        assert!(count_limit("monthly_requests_limit", Some(-1)).is_err());
        assert_eq!(count_limit("x", Some(0)).unwrap(), Some(0));
        assert_eq!(cost_limit("c", Some(12.5)).unwrap(), Some(12_500_000_000));
        assert!(cost_limit("c", Some(-0.01)).is_err());
        assert!(cost_limit("c", Some(f64::NAN)).is_err());
        assert!(rpm(Some(0)).is_err());
        assert_eq!(rpm(Some(60)).unwrap(), Some(60));
    }

    #[test]
    fn unknown_permissions_are_rejected() {
        assert!(permissions(&["read".into(), "root".into()]).is_err());
        assert!(permissions(&[]).is_err());
        assert!(
            permissions(&["admin".into()])
                .unwrap()
                .allows(Permission::Write)
        );
    }
}
