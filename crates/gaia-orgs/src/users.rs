//! Admin-UI users: argon2id password hashes, roles (`admin` | `user`), login with brute-force slowdown,
//! and the bootstrap admin user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use gaia_core::{ErrorKind, GaiaError, UserRole};
use gaia_store::users::UserRow;
use gaia_store::{Page, PageRequest, Store};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::auth::Principal;

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 256;

/// Runs `work` off the request threads: on the low-priority hashing threads ([`crate::hashing`]).
async fn off_the_request_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, GaiaError> {
    crate::hashing::run(work).await
}

/// [`hash_password`] on the hashing threads: what request handlers call.
pub async fn hash_password_off_thread(password: &str) -> Result<String, GaiaError> {
    let password = password.to_owned();
    off_the_request_threads(move || hash_password(&password)).await?
}

/// [`verify_password`] on the hashing threads; `false` if the work could not run.
pub async fn verify_password_off_thread(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    off_the_request_threads(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

/// Computes the dummy hash sign-ins of unknown users are verified against, so the first such sign-in
/// does not pay for it (call at start).
pub async fn warm_up() -> Result<(), GaiaError> {
    off_the_request_threads(|| {
        dummy_hash();
    })
    .await
}

pub fn hash_password(password: &str) -> Result<String, GaiaError> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| GaiaError::internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| GaiaError::internal(format!("hashing a password: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn validate_username(raw: &str) -> Result<String, GaiaError> {
    let v = raw.trim();
    let ok = (3..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(GaiaError::invalid_request(
            "`username` must be 3–64 characters: letters, digits, '-', '_', '.', '@'",
        )
        .with_param("username"))
    }
}

fn validate_password(p: &str) -> Result<(), GaiaError> {
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&p.chars().count()) {
        Ok(())
    } else {
        Err(GaiaError::invalid_request(format!(
            "`password` must be {MIN_PASSWORD}–{MAX_PASSWORD} characters"
        ))
        .with_param("password"))
    }
}

fn validate_role(r: &str) -> Result<UserRole, GaiaError> {
    UserRole::parse(r).ok_or_else(|| {
        GaiaError::invalid_request("`role` must be admin or user").with_param("role")
    })
}

fn validate_user_status(s: &str) -> Result<&'static str, GaiaError> {
    ["active", "inactive"]
        .into_iter()
        .find(|x| *x == s)
        .ok_or_else(|| {
            GaiaError::invalid_request("`status` must be active or inactive").with_param("status")
        })
}

fn need_admin(p: &Principal) -> Result<(), GaiaError> {
    if p.is_admin() {
        Ok(())
    } else {
        Err(GaiaError::forbidden(
            "managing users needs the admin permission",
        ))
    }
}

fn user_not_found() -> GaiaError {
    GaiaError::not_found("user not found").with_code("user_not_found")
}

pub async fn create_user(
    store: &Store,
    principal: &Principal,
    username: &str,
    password: &str,
    role: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserRow, GaiaError> {
    need_admin(principal)?;
    let username = validate_username(username)?;
    validate_password(password)?;
    let role = validate_role(role.unwrap_or("user"))?;
    let hash = hash_password_off_thread(password).await?;
    Ok(store.create_user(&username, &hash, role, now).await?)
}

pub async fn list_users(
    store: &Store,
    principal: &Principal,
    status: Option<&str>,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<UserRow>, GaiaError> {
    need_admin(principal)?;
    let status = status.map(validate_user_status).transpose()?;
    Ok(store.list_users(status, search, page).await?)
}

pub async fn get_user(
    store: &Store,
    principal: &Principal,
    id: &str,
) -> Result<UserRow, GaiaError> {
    need_admin(principal)?;
    store.get_user(id).await.map_err(|e| match e {
        gaia_store::StoreError::NotFound(_) => user_not_found(),
        e => e.into(),
    })
}

/// Updates role, status or password. The last active admin cannot be demoted or deactivated.
pub async fn update_user(
    store: &Store,
    principal: &Principal,
    id: &str,
    role: Option<&str>,
    status: Option<&str>,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserRow, GaiaError> {
    let current = get_user(store, principal, id).await?;
    let role = role.map(validate_role).transpose()?;
    let status = status.map(validate_user_status).transpose()?;
    let hash = match password {
        Some(p) => {
            validate_password(p)?;
            Some(hash_password_off_thread(p).await?)
        }
        None => None,
    };
    let loses_admin = current.role == UserRole::Admin
        && current.status == "active"
        && (role.is_some_and(|r| r != UserRole::Admin) || status.is_some_and(|s| s != "active"));
    if loses_admin && store.count_active_admin_users().await? <= 1 {
        return Err(
            GaiaError::conflict("this is the last active admin user").with_code("last_admin")
        );
    }
    Ok(store
        .update_user(id, role, status, hash.as_deref(), now)
        .await?)
}

/// Soft delete: the user becomes inactive and can no longer sign in.
pub async fn deactivate_user(
    store: &Store,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> Result<UserRow, GaiaError> {
    update_user(store, principal, id, None, Some("inactive"), None, now).await
}

/// Verifies credentials. Wrong username and wrong password are indistinguishable (same message, and a
/// hash is verified either way so timing does not tell them apart).
pub async fn login(
    store: &Store,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<UserRow, GaiaError> {
    let invalid =
        || GaiaError::unauthorized("invalid username or password").with_code("invalid_credentials");
    let user = store.find_user_by_username(username.trim()).await?;
    let Some(user) = user else {
        // Burn comparable time on a dummy hash (made on the blocking pool too, the first time).
        let password = password.to_owned();
        let _ = off_the_request_threads(move || verify_password(&password, dummy_hash())).await;
        return Err(invalid());
    };
    if !verify_password_off_thread(password, &user.password_hash).await || user.status != "active" {
        return Err(invalid());
    }
    store.set_user_login(user.id.as_str(), now).await?;
    Ok(user)
}

/// A real argon2id hash of a random string, verified against for unknown users so that timing does not
/// reveal whether a username exists.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("gaiarouter-dummy-password").unwrap_or_default())
}

/// Creates the first admin user when there is none: from `GAIA_ADMIN_USERNAME`/`GAIA_ADMIN_PASSWORD`, or
/// `admin` with a generated password that is returned once (to print).
pub async fn ensure_admin_user(
    store: &Store,
    username: Option<&str>,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<(String, String)>, GaiaError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let username = validate_username(username.unwrap_or("admin"))?;
    let (password, generated) = match password {
        Some(p) => {
            validate_password(p)?;
            (p.to_owned(), false)
        }
        None => (
            rand::rng()
                .sample_iter(&Alphanumeric)
                .take(20)
                .map(char::from)
                .collect::<String>(),
            true,
        ),
    };
    let hash = hash_password_off_thread(&password).await?;
    match store
        .create_user(&username, &hash, UserRole::Admin, now)
        .await
    {
        Ok(_) => Ok(generated.then_some((username, password))),
        // Another instance created it at the same time.
        Err(gaia_store::StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Slows down repeated failed logins from one client: after `free` failures within `window`, further
/// attempts are refused with 429 for a lockout that doubles with each failure (capped at `max_lockout`).
#[derive(Debug)]
pub struct LoginGuard {
    free: u32,
    window: Duration,
    max_lockout: Duration,
    state: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        Self::new(
            5,
            Duration::from_secs(15 * 60),
            Duration::from_secs(15 * 60),
        )
    }
}

impl LoginGuard {
    pub fn new(free: u32, window: Duration, max_lockout: Duration) -> Self {
        Self {
            free,
            window,
            max_lockout,
            state: Mutex::new(HashMap::new()),
        }
    }

    fn lockout(&self, failures: u32) -> Duration {
        let extra = failures.saturating_sub(self.free).min(16);
        Duration::from_secs(1u64 << extra).min(self.max_lockout)
    }

    /// Refuses the attempt if `client` is locked out.
    pub fn check(&self, client: &str) -> Result<(), GaiaError> {
        let Ok(mut map) = self.state.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        map.retain(|_, (_, last)| now.duration_since(*last) < self.window);
        if let Some((failures, last)) = map.get(client)
            && *failures >= self.free
        {
            let until = *last + self.lockout(*failures);
            if until > now {
                let secs = (until - now).as_secs().max(1);
                return Err(GaiaError::new(
                    ErrorKind::RateLimited,
                    "too many failed sign-in attempts; try again later",
                )
                .with_code("login_throttled")
                .with_retry_after(secs));
            }
        }
        Ok(())
    }

    pub fn failed(&self, client: &str) {
        if let Ok(mut map) = self.state.lock() {
            let entry = map.entry(client.to_owned()).or_insert((0, Instant::now()));
            entry.0 += 1;
            entry.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, client: &str) {
        if let Ok(mut map) = self.state.lock() {
            map.remove(client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn repeated_failures_lock_a_client_out() {
        let guard = LoginGuard::new(3, Duration::from_secs(60), Duration::from_secs(60));
        for _ in 0..3 {
            guard.check("1.2.3.4").unwrap();
            guard.failed("1.2.3.4");
        }
        let err = guard.check("1.2.3.4").unwrap_err();
        assert_eq!(err.status(), 429);
        assert!(err.retry_after.is_some());
        guard.check("5.6.7.8").unwrap();
        guard.succeeded("1.2.3.4");
        guard.check("1.2.3.4").unwrap();
    }

    #[tokio::test]
    async fn the_first_admin_user_is_created_once_with_a_generated_password() {
        let store = Store::connect_and_migrate("sqlite::memory:", &Default::default())
            .await
            .unwrap();
        let (name, password) = ensure_admin_user(&store, None, None, Utc::now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(name, "admin");
        assert!(login(&store, "admin", &password, Utc::now()).await.is_ok());
        assert_eq!(
            login(&store, "admin", "nope-nope", Utc::now())
                .await
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(
            login(&store, "ghost", "nope-nope", Utc::now())
                .await
                .unwrap_err()
                .message,
            "invalid username or password"
        );
        assert!(
            ensure_admin_user(&store, None, None, Utc::now())
                .await
                .unwrap()
                .is_none()
        );
    }
}
