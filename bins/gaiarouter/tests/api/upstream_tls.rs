//! Upstreams as they are in production (specs/scale.md S-22, S-23): a model server behind TLS with a
//! certificate from a private authority, trusted through `ca_file` for that provider only; and outbound
//! requests through an HTTPS proxy (`HTTPS_PROXY`), bypassed for the hosts in `NO_PROXY`. The upstream is a
//! real TLS server with a certificate generated for the test; the proxy a real CONNECT tunnel.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A private certificate authority, and a server certificate it issued for `localhost` and 127.0.0.1
/// (also as PEM, for servers that read files: `cluster::`'s TLS Redis).
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    cert: rustls_pki_types::CertificateDer<'static>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
}

use tokio_rustls::rustls::pki_types as rustls_pki_types;

pub(crate) fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "GaiaRouter test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert: cert.der().clone(),
        key: rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// Reads one HTTP/1.1 request (head and `content-length` body); its head.
async fn read_request<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

/// An OpenAI-format upstream over TLS with `pki`'s server certificate; the heads it answered.
async fn tls_upstream(pki: &Pki) -> (u16, Arc<Mutex<Vec<String>>>) {
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.cert.clone()], pki.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                // A handshake the client refuses (an unknown authority) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                while let Some(head) = read_request(&mut tls).await {
                    log.lock().unwrap().push(head);
                    let body = json!({
                        "id": "tls", "object": "chat.completion", "created": 1, "model": "m",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "over tls"}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
                    .to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tls.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

/// An HTTP proxy that only tunnels (`CONNECT host:port`); the targets it was asked for.
async fn connect_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Some(head) = read_request(&mut client).await else {
                    return;
                };
                let line = head.lines().next().unwrap_or_default().to_owned();
                let mut parts = line.split(' ');
                let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
                    let _ = client
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                };
                log.lock().unwrap().push(target.to_owned());
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    let _ = client
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (port, seen)
}

/// A GAIA_CONFIG with provider `private` (trusting the test CA) and `untrusted` (the system roots only),
/// both at the TLS upstream on `port`.
fn config(dir: &std::path::Path, pki: &Pki, port: u16) -> std::path::PathBuf {
    let ca = dir.join("private-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let toml = format!(
        r#"
[upstream]
max_retries = 0

[[providers]]
name = "private"
base_url = "https://localhost:{port}/v1"
api_key = "sk-private"
ca_file = "{ca}"
[[providers.models]]
name = "m"

[[providers]]
name = "untrusted"
base_url = "https://localhost:{port}/v1"
api_key = "sk-untrusted"
[[providers.models]]
name = "m"
"#,
        ca = ca.display()
    );
    let path = dir.join("gaiarouter.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn ask(model: &str) -> serde_json::Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn a_private_authority_is_trusted_for_its_provider_only() {
    let pki = pki();
    let (port, seen) = tls_upstream(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &pki, port);
    let mut settings = gaiarouter::configuration::Settings::for_tests(
        &crate::helpers::test_database_url(dir.path()).await,
    )
    .unwrap();
    settings.config_file = Some(cfg);
    let app = crate::helpers::spawn_with(settings, dir).await;

    let res = app.chat(&ask("private/m")).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "over tls");
    // The same server without the authority: the certificate is refused, the request never sent.
    let res = app.chat(&ask("untrusted/m")).await;
    let e = crate::helpers::assert_error_envelope(res, 502).await;
    assert_eq!(e["code"], "upstream_unreachable", "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(seen.lock().unwrap()[0].starts_with("POST /v1/chat/completions HTTP/1.1"));
}

#[tokio::test]
async fn outbound_requests_go_through_https_proxy_except_no_proxy_hosts() {
    let pki = pki();
    let (port, seen) = tls_upstream(&pki).await;
    let (proxy, tunnels) = connect_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &pki, port);
    let base_env = |extra: Vec<(&'static str, String)>| {
        let mut env = vec![
            (
                "DATABASE_URL",
                format!("sqlite://{}/gaia.db?mode=rwc", dir.path().display()),
            ),
            ("GAIA_ADMIN_KEY", crate::crash::ADMIN.to_owned()),
            (
                "GAIA_JWT_SECRET",
                "proxy-test-jwt-secret-0123456789abcdefgh".to_owned(),
            ),
            ("GAIA_CONFIG", cfg.display().to_string()),
            ("HTTPS_PROXY", format!("http://127.0.0.1:{proxy}")),
        ];
        env.extend(extra);
        env
    };

    // Through the proxy: one CONNECT tunnel to the upstream, TLS end to end inside it.
    let gw = crate::crash::Gateway::start(dir.path(), &base_env(vec![]));
    let res = crate::crash::chat(&gw, crate::crash::ADMIN, "private/m")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(*tunnels.lock().unwrap(), [format!("localhost:{port}")]);
    assert_eq!(seen.lock().unwrap().len(), 1);
    drop(gw);

    // The upstream's host in NO_PROXY: straight there, the proxy sees nothing more.
    let gw = crate::crash::Gateway::start(
        dir.path(),
        &base_env(vec![("NO_PROXY", "localhost,127.0.0.1".to_owned())]),
    );
    let res = crate::crash::chat(&gw, crate::crash::ADMIN, "private/m")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        tunnels.lock().unwrap().len(),
        1,
        "NO_PROXY was not honoured"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}
