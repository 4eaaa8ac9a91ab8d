//! The authorization table: every management endpoint × every kind of caller, with the expected status.
//! Also: two server processes sharing one PostgreSQL database enforce one request limit together and see
//! each other's revocations.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, fresh_database, point_providers_at, spawn_app_with_upstream, spawn_with,
};
use crate::tenancy::{chat_as, ok_upstream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    None,
    Wrong,
    Inactive,
    Expired,
    Read,
    Write,
    Admin,
    OtherOrg,
    UserJwt,
    KeyJwt,
    TamperedJwt,
    AlgNoneJwt,
    /// A key-login token whose key was then deleted (`DELETE /v1/api-keys/{id}`).
    DeletedKeyJwt,
    /// A key of an organization that was then deleted (deactivated).
    DeletedOrgKey,
}

const ALL: [Caller; 14] = [
    Caller::None,
    Caller::Wrong,
    Caller::Inactive,
    Caller::Expired,
    Caller::Read,
    Caller::Write,
    Caller::Admin,
    Caller::OtherOrg,
    Caller::UserJwt,
    Caller::KeyJwt,
    Caller::TamperedJwt,
    Caller::AlgNoneJwt,
    Caller::DeletedKeyJwt,
    Caller::DeletedOrgKey,
];

struct Fixture {
    tokens: std::collections::HashMap<&'static str, Option<String>>,
    own_org: String,
    own_key: String,
}

fn name(c: Caller) -> &'static str {
    match c {
        Caller::None => "none",
        Caller::Wrong => "wrong",
        Caller::Inactive => "disabled",
        Caller::Expired => "expired",
        Caller::Read => "read",
        Caller::Write => "write",
        Caller::Admin => "admin",
        Caller::OtherOrg => "other-org",
        Caller::UserJwt => "user-jwt",
        Caller::KeyJwt => "key-jwt",
        Caller::TamperedJwt => "tampered-jwt",
        Caller::AlgNoneJwt => "alg-none-jwt",
        Caller::DeletedKeyJwt => "deleted-key-jwt",
        Caller::DeletedOrgKey => "deleted-org-key",
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let own = app.create_org("own", json!({})).await;
    let other = app.create_org("other", json!({})).await;
    let own_org = own["id"].as_str().unwrap().to_owned();
    let other_org = other["id"].as_str().unwrap().to_owned();
    let (_, read) = app
        .create_key(&own_org, json!({"permissions": ["read"]}))
        .await;
    let (own_key, write) = app
        .create_key(&own_org, json!({"permissions": ["read", "write"]}))
        .await;
    let (_, admin) = app
        .create_key(&own_org, json!({"permissions": ["admin"]}))
        .await;
    let (_, other_key) = app
        .create_key(&other_org, json!({"permissions": ["read", "write"]}))
        .await;
    let (inactive_id, inactive) = app.create_key(&own_org, json!({})).await;
    app.admin()
        .update_api_key(&inactive_id, json!({"status": "inactive"}))
        .await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let (_, expired) = app.create_key(&own_org, json!({"expires_at": soon})).await;
    let login: Value = app
        .anonymous()
        .login(json!({"username": "root", "password": "root-password"}))
        .await
        .json()
        .await
        .unwrap();
    let user_jwt = login["token"].as_str().unwrap().to_owned();
    let key_jwt = key_login(app, &write).await;
    let mut parts: Vec<String> = user_jwt.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    let tampered = parts.join(".");
    // {"alg":"none"} with a user claim and no signature.
    let alg_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwia2luZCI6InVzZXIiLCJpc3MiOiJnYWlhcm91dGVyIiwiaWF0IjowLCJleHAiOjk5OTk5OTk5OTl9.".to_owned();
    // A key that signs in, then is deleted: its token must die with it.
    let (doomed_id, doomed) = app
        .create_key(&own_org, json!({"permissions": ["read", "write", "admin"]}))
        .await;
    let deleted_key_jwt = key_login(app, &doomed).await;
    let res = app.admin().revoke_api_key(&doomed_id).await;
    assert_eq!(res.status(), 200);
    // An organization deleted with a key in it.
    let closing = app.create_org("closing", json!({})).await;
    let closing_id = closing["id"].as_str().unwrap();
    let (_, deleted_org_key) = app
        .create_key(
            closing_id,
            json!({"permissions": ["read", "write", "admin"]}),
        )
        .await;
    let res = app.admin().deactivate_organization(closing_id).await;
    assert_eq!(res.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut tokens = std::collections::HashMap::new();
    tokens.insert("none", None);
    tokens.insert(
        "wrong",
        Some("gaia_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".to_owned()),
    );
    tokens.insert("disabled", Some(inactive));
    tokens.insert("expired", Some(expired));
    tokens.insert("read", Some(read));
    tokens.insert("write", Some(write));
    tokens.insert("admin", Some(admin));
    tokens.insert("other-org", Some(other_key));
    tokens.insert("user-jwt", Some(user_jwt));
    tokens.insert("key-jwt", Some(key_jwt));
    tokens.insert("tampered-jwt", Some(tampered));
    tokens.insert("alg-none-jwt", Some(alg_none));
    tokens.insert("deleted-key-jwt", Some(deleted_key_jwt));
    tokens.insert("deleted-org-key", Some(deleted_org_key));
    Fixture {
        tokens,
        own_org,
        own_key,
    }
}

/// A key-login token for `key`.
async fn key_login(app: &TestApp, key: &str) -> String {
    let res = app.anonymous().key_login(json!({"api_key": key})).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// Expected status for an endpoint class and a caller.
fn expected(endpoint: &str, c: Caller) -> u16 {
    use Caller::*;
    if matches!(
        c,
        None | Wrong
            | Inactive
            | Expired
            | TamperedJwt
            | AlgNoneJwt
            | DeletedKeyJwt
            | DeletedOrgKey
    ) {
        return 401;
    }
    match endpoint {
        // Inference: every active key (and users/admins).
        "models" => 200,
        // Reads of the own organization / its keys.
        "get-own-org" | "get-own-key" => {
            if c == OtherOrg {
                404
            } else {
                200
            }
        }
        "list-orgs" | "list-keys" | "me" => 200,
        // Creating a key in the own organization: write or admin.
        "create-key" => match c {
            Write | Admin | KeyJwt => 201,
            Read => 403,
            OtherOrg => 404,
            UserJwt => 201, // admin user
            _ => 0,
        },
        // Organization and registry administration: admin only.
        "create-org" | "admin-models" | "admin-users" | "admin-channels" | "create-channel" => {
            match c {
                Admin | UserJwt => {
                    if matches!(endpoint, "create-org" | "create-channel") {
                        201
                    } else {
                        200
                    }
                }
                _ => 403,
            }
        }
        "patch-own-org" => match c {
            Admin | UserJwt => 200,
            OtherOrg => 404,
            _ => 403,
        },
        _ => 0,
    }
}

#[tokio::test]
async fn every_management_endpoint_answers_every_kind_of_caller_as_specified() {
    let upstream = ok_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    point_providers_at(&mut settings, &upstream.uri());
    settings.admin_username = Some("root".into());
    settings.admin_password = Some(gaiarouter::configuration::Secret::new("root-password"));
    let app = spawn_with(settings, dir).await;
    let f = fixture(&app).await;
    let mut failures = Vec::new();
    let mut n = 0;
    for c in ALL {
        let token = f.tokens[name(c)].clone();
        let unique = format!("org-{}", name(c));
        let cases: Vec<(&str, Method, String, Option<Value>)> = vec![
            ("models", Method::GET, "/v1/models".into(), None),
            ("me", Method::GET, "/v1/auth/me".into(), None),
            ("list-orgs", Method::GET, "/v1/organizations".into(), None),
            (
                "get-own-org",
                Method::GET,
                format!("/v1/organizations/{}", f.own_org),
                None,
            ),
            ("list-keys", Method::GET, "/v1/api-keys".into(), None),
            (
                "get-own-key",
                Method::GET,
                format!("/v1/api-keys/{}", f.own_key),
                None,
            ),
            (
                "create-key",
                Method::POST,
                "/v1/api-keys".into(),
                Some(json!({"organization_id": f.own_org, "permissions": ["read"]})),
            ),
            (
                "create-org",
                Method::POST,
                "/v1/organizations".into(),
                Some(json!({"name": unique})),
            ),
            (
                "patch-own-org",
                Method::PATCH,
                format!("/v1/organizations/{}", f.own_org),
                Some(json!({"description": "x"})),
            ),
            ("admin-models", Method::GET, "/v1/admin/models".into(), None),
            ("admin-users", Method::GET, "/v1/admin/users".into(), None),
            (
                "admin-channels",
                Method::GET,
                "/v1/admin/channels".into(),
                None,
            ),
            (
                "create-channel",
                Method::POST,
                "/v1/admin/channels".into(),
                Some(
                    json!({"provider": "openai", "name": format!("c-{unique}"), "base_url": "http://127.0.0.1:9/v1"}),
                ),
            ),
        ];
        for (endpoint, m, p, body) in cases {
            n += 1;
            let want = expected(endpoint, c);
            let got = app
                .caller(token.as_deref())
                .send(m.clone(), &p, body)
                .await
                .status()
                .as_u16();
            if got != want {
                failures.push(format!(
                    "{m} {p} as {}: expected {want}, got {got}",
                    name(c)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One row of the limits table: what is asked, as whom, and what must come back.
struct LimitCase {
    case: String,
    token: String,
    method: Method,
    path: String,
    body: Value,
    status: u16,
    /// For refusals: the field the error names.
    param: Option<&'static str>,
}

/// The four limit fields, a value of each that is looser than the caller's own, and one that is tighter.
const LIMIT_FIELDS: [(&str, f64, f64, f64); 4] = [
    // (field, the caller's own, looser, tighter)
    ("monthly_requests_limit", 5.0, 6.0, 4.0),
    ("monthly_tokens_limit", 1000.0, 1001.0, 999.0),
    ("monthly_cost_limit", 2.0, 2.5, 1.5),
    ("rate_limit_rpm", 2.0, 3.0, 1.0),
];

fn number(field: &str, v: f64) -> Value {
    if field == "monthly_cost_limit" {
        json!(v)
    } else {
        json!(v as i64)
    }
}

/// Limits bind the key that carries them: for every limit field a key (directly or through its key-login
/// token) can neither lift nor raise its own, nor create or edit a key of its organization looser than
/// itself; tightening itself and giving less stay allowed. A key created without limits inherits its
/// creator's. An admin key cannot loosen itself either, but may loosen others.
#[tokio::test]
async fn no_key_can_lift_its_own_limits_or_give_a_looser_key_for_any_limit_field() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("bound", json!({})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let own_limits = json!({"monthly_requests_limit": 5, "monthly_tokens_limit": 1000,
        "monthly_cost_limit": 2.0, "rate_limit_rpm": 2});
    let mut failures = Vec::new();
    let mut n = 0;
    for (field, _own, looser, tighter) in LIMIT_FIELDS {
        for via_token in [false, true] {
            // A fresh write key with all four limits, and an unlimited sibling an admin made.
            let (own_id, own_key) = app.create_key(&org_id, own_limits.clone()).await;
            let token = if via_token {
                key_login(&app, &own_key).await
            } else {
                own_key.clone()
            };
            let (sibling, _) = app.create_key(&org_id, json!({})).await;
            let own_path = format!("/v1/api-keys/{own_id}");
            let sibling_path = format!("/v1/api-keys/{sibling}");
            let row =
                |case: &str, method: Method, path: &str, body: Value, status: u16| LimitCase {
                    case: format!(
                        "{case} ({field}{})",
                        if via_token { ", key-login token" } else { "" }
                    ),
                    token: token.clone(),
                    method,
                    path: path.to_owned(),
                    body,
                    status,
                    param: (status == 403).then_some(field),
                };
            let create = |v: Value| {
                let mut body = json!({"organization_id": org_id});
                body[field] = v;
                body
            };
            let set = |v: Value| {
                let mut body = json!({});
                body[field] = v;
                body
            };
            let rows = vec![
                row("lift own", Method::PATCH, &own_path, set(Value::Null), 403),
                row(
                    "raise own",
                    Method::PATCH,
                    &own_path,
                    set(number(field, looser)),
                    403,
                ),
                row(
                    "create a looser sibling",
                    Method::POST,
                    "/v1/api-keys",
                    create(number(field, looser)),
                    403,
                ),
                row(
                    "edit a sibling looser",
                    Method::PATCH,
                    &sibling_path,
                    set(number(field, looser)),
                    403,
                ),
                row(
                    "edit a sibling unlimited",
                    Method::PATCH,
                    &sibling_path,
                    set(Value::Null),
                    403,
                ),
                row(
                    "create a tighter sibling",
                    Method::POST,
                    "/v1/api-keys",
                    create(number(field, tighter)),
                    201,
                ),
                row(
                    "create a sibling that inherits",
                    Method::POST,
                    "/v1/api-keys",
                    create(Value::Null),
                    201,
                ),
                row(
                    "edit a sibling tighter",
                    Method::PATCH,
                    &sibling_path,
                    set(number(field, tighter)),
                    200,
                ),
                row(
                    "rename own",
                    Method::PATCH,
                    &own_path,
                    json!({"name": "renamed", "description": "mine"}),
                    200,
                ),
                row(
                    "tighten own",
                    Method::PATCH,
                    &own_path,
                    set(number(field, tighter)),
                    200,
                ),
            ];
            for r in rows {
                n += 1;
                let res = app
                    .with(&r.token)
                    .send(r.method.clone(), &r.path, Some(r.body.clone()))
                    .await;
                let got = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                if got != r.status {
                    failures.push(format!(
                        "{}: expected {}, got {got}: {body}",
                        r.case, r.status
                    ));
                    continue;
                }
                if let Some(param) = r.param {
                    let e = &body["error"];
                    if e["code"] != "permission_denied" || e["param"] != param {
                        failures.push(format!("{}: wrong error {body}", r.case));
                    }
                }
                if r.case.starts_with("create a sibling that inherits") {
                    for (f, own, _, _) in LIMIT_FIELDS {
                        if body[f] != number(f, own) {
                            failures.push(format!("{}: {f} is {} not {own}", r.case, body[f]));
                        }
                    }
                }
            }
            // Whatever was refused, the key's limits are as the admin set them except the tightening.
            let now: Value = app
                .admin()
                .send(Method::GET, &own_path, None)
                .await
                .json()
                .await
                .unwrap();
            for (f, own, _, tighter) in LIMIT_FIELDS {
                let want = if f == field { tighter } else { own };
                if now[f] != number(f, want) {
                    failures.push(format!(
                        "after the {field} rows: {f} is {} not {want}",
                        now[f]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The case the issue observed: a key with a request and a per-minute limit cannot clear them, so its
/// third request in a minute is still refused; permissions, expiry and status cannot be loosened either,
/// revoking itself can. An admin key cannot loosen itself, but can loosen another key.
#[tokio::test]
async fn a_key_cannot_loosen_its_permissions_expiry_or_status_and_may_revoke_itself() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    let org = app.create_org("bound", json!({})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (id, key) = app
        .create_key(
            &org_id,
            json!({"monthly_requests_limit": 5, "rate_limit_rpm": 2}),
        )
        .await;
    let path = format!("/v1/api-keys/{id}");
    let res = app
        .with(&key)
        .send(
            Method::PATCH,
            &path,
            Some(json!({"monthly_requests_limit": null, "rate_limit_rpm": null})),
        )
        .await;
    let e = crate::helpers::assert_error_envelope(res, 403).await;
    assert_eq!(e["code"], "permission_denied");
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    assert_eq!(chat_as(&app, &key).await.status(), 200);
    assert_eq!(
        chat_as(&app, &key).await.status(),
        429,
        "the per-minute limit still holds"
    );

    // Permissions: a read+write key may drop write but never add admin; expiry only shortened.
    let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
    let (rid, rkey) = app
        .create_key(
            &org_id,
            json!({"permissions": ["read", "write"], "expires_at": in_a_day.to_rfc3339()}),
        )
        .await;
    let rpath = format!("/v1/api-keys/{rid}");
    for (body, param) in [
        (
            json!({"permissions": ["read", "write", "admin"]}),
            "permissions",
        ),
        (json!({"expires_at": null}), "expires_at"),
        (
            json!({"expires_at": (in_a_day + chrono::Duration::days(1)).to_rfc3339()}),
            "expires_at",
        ),
    ] {
        let res = app
            .with(&rkey)
            .send(Method::PATCH, &rpath, Some(body.clone()))
            .await;
        let e = crate::helpers::assert_error_envelope(res, 403).await;
        assert_eq!(e["param"], param, "{body}: {e}");
    }
    // A sibling it creates without an expiry expires with it; a later one is refused.
    let res = app
        .with(&rkey)
        .create_api_key(json!({"organization_id": org_id}))
        .await;
    assert_eq!(res.status(), 201);
    let child: Value = res.json().await.unwrap();
    let child_exp =
        chrono::DateTime::parse_from_rfc3339(child["expires_at"].as_str().unwrap()).unwrap();
    assert!(
        (child_exp.timestamp() - in_a_day.timestamp()).abs() <= 1,
        "{child}"
    );
    let res = app
        .with(&rkey)
        .create_api_key(json!({"organization_id": org_id,
        "expires_at": (in_a_day + chrono::Duration::hours(1)).to_rfc3339()}))
        .await;
    assert_eq!(
        crate::helpers::assert_error_envelope(res, 403).await["param"],
        "expires_at"
    );
    // Reactivating a sibling an admin disabled, which is looser than the caller, is refused.
    let (loose, _) = app.create_key(&org_id, json!({})).await;
    app.admin()
        .update_api_key(&loose, json!({"status": "inactive"}))
        .await;
    let res = app
        .with(&rkey)
        .update_api_key(&loose, json!({"status": "active"}))
        .await;
    assert_eq!(res.status(), 403);
    // Tightening is allowed: drop write, shorten the expiry.
    let sooner = (in_a_day - chrono::Duration::hours(1)).to_rfc3339();
    let res = app
        .with(&rkey)
        .send(
            Method::PATCH,
            &rpath,
            Some(json!({"permissions": ["read"], "expires_at": sooner})),
        )
        .await;
    assert_eq!(res.status(), 200);

    // An admin key cannot loosen itself, but an admin may loosen another key.
    let (aid, akey) = app
        .create_key(
            &org_id,
            json!({"permissions": ["admin"], "monthly_tokens_limit": 10}),
        )
        .await;
    let res = app
        .with(&akey)
        .update_api_key(&aid, json!({"monthly_tokens_limit": null}))
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .with(&akey)
        .send(
            Method::PATCH,
            &path,
            Some(json!({"monthly_requests_limit": null, "rate_limit_rpm": null})),
        )
        .await;
    assert_eq!(res.status(), 200);

    // Revoking itself is allowed (and final).
    let res = app.with(&key).send(Method::DELETE, &path, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(chat_as(&app, &key).await.status(), 401);
}

#[tokio::test]
async fn sql_injection_attempts_in_filters_and_paths_are_inert() {
    let upstream = ok_upstream().await;
    let app = spawn_app_with_upstream(&upstream.uri()).await;
    app.create_org("acme", json!({})).await;
    for attack in [
        "' OR '1'='1",
        "x'; DROP TABLE organizations; --",
        "%' --",
        "\" OR 1=1 --",
    ] {
        let q = urlencode(attack);
        for p in [
            format!("/v1/organizations?search={q}"),
            format!("/v1/api-keys?search={q}&organization_id={q}"),
            format!("/v1/organizations/{q}"),
            format!("/v1/api-keys/{q}"),
            format!("/v1/admin/models?provider={q}&search={q}"),
        ] {
            let res = app.admin().send(Method::GET, &p, None).await;
            let status = res.status().as_u16();
            assert!(
                status == 200 || status == 404 || status == 400,
                "{p}: {status}"
            );
            if status == 200 {
                let v: Value = res.json().await.unwrap();
                assert_eq!(v["pagination"]["total"], 0, "{p} matched rows: {v}");
            }
        }
    }
    // The table is still there.
    let orgs: Value = app
        .admin()
        .list_organizations("search=acme")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["pagination"]["total"], 1);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn two_instances_on_one_postgres_share_a_request_limit_and_revocations() {
    two_instances_share_a_request_limit_and_revocations(Db::Postgres).await;
}

#[tokio::test]
async fn two_instances_on_one_mysql_share_a_request_limit_and_revocations() {
    two_instances_share_a_request_limit_and_revocations(Db::MySql).await;
}

async fn two_instances_share_a_request_limit_and_revocations(db: Db) {
    let upstream = ok_upstream().await;
    let dir_a = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(db, dir_a.path()).await else {
        return;
    };
    let settings = |dir: &std::path::Path| {
        let _ = dir;
        let mut s = gaiarouter::configuration::Settings::for_tests(&url).unwrap();
        point_providers_at(&mut s, &upstream.uri());
        s
    };
    let a = spawn_with(settings(dir_a.path()), dir_a).await;
    let dir_b = tempfile::tempdir().unwrap();
    let mut b = spawn_with(settings(dir_b.path()), dir_b).await;
    b.admin_key = a.admin_key.clone();
    let org = a
        .create_org("shared", json!({"monthly_requests_limit": 30}))
        .await;
    let (key_id, key) = a.create_key(org["id"].as_str().unwrap(), json!({})).await;
    let a = std::sync::Arc::new(a);
    let b = std::sync::Arc::new(b);
    let mut tasks = Vec::new();
    for i in 0..90 {
        let app = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            chat_as(&app, &key).await.status().as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 30, "two instances together admitted exactly the limit");

    // A revocation on A reaches B within the refresh interval.
    let (k2_id, k2) = a.create_key(org["id"].as_str().unwrap(), json!({})).await;
    let _ = key_id;
    a.admin()
        .send(
            Method::PATCH,
            &format!("/v1/organizations/{}", org["id"].as_str().unwrap()),
            Some(json!({"monthly_requests_limit": null})),
        )
        .await;
    let res = chat_as(&b, &k2).await;
    let status = res.status();
    assert_eq!(status, 200, "{}", res.text().await.unwrap());
    a.admin().revoke_api_key(&k2_id).await;
    let bound = gaiarouter::startup::REFRESH_INTERVAL + std::time::Duration::from_secs(2);
    let started = std::time::Instant::now();
    loop {
        if chat_as(&b, &k2).await.status() == 401 {
            break;
        }
        assert!(
            started.elapsed() < bound,
            "B still accepts a key revoked on A after {bound:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
