//! `rediss://` against real redis-servers speaking TLS only, with certificates issued for the test by a
//! private authority: trusted through that authority alone, refused without it, a client certificate
//! presented where Redis asks for one. Run where the other Redis tests run (`GAIA_TEST_REDIS_URL` set),
//! each on a throwaway server of its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::*;

/// A private authority, a server certificate it issued for 127.0.0.1 and `localhost`, and a client
/// certificate it issued; written as PEM files into a directory of the test's own.
struct Pki {
    dir: PathBuf,
    ca: Vec<u8>,
    client: ClientCertificate,
}

impl Pki {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("gaia-redis-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "GaiaRouter test Redis CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let issue = |names: Vec<String>| {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(names)
                .unwrap()
                .signed_by(&key, &ca)
                .unwrap();
            (cert.pem().into_bytes(), key.serialize_pem().into_bytes())
        };
        let (server_cert, server_key) = issue(vec!["127.0.0.1".into(), "localhost".into()]);
        let (client_cert, client_key) = issue(vec!["gaiarouter".into()]);
        let ca = ca.pem().into_bytes();
        for (name, pem) in [
            ("ca.pem", &ca),
            ("server.pem", &server_cert),
            ("server.key", &server_key),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        Self {
            dir,
            ca,
            client: ClientCertificate {
                chain: client_cert,
                key: client_key,
            },
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A TLS-only redis-server with this authority's server certificate.
    fn server(&self, require_client_certificate: bool) -> (testing::RedisServer, u16) {
        let port = testing::free_port().unwrap();
        let server = testing::RedisServer::start_tls(
            port,
            &self.file("server.pem"),
            &self.file("server.key"),
            &self.file("ca.pem"),
            require_client_certificate,
        )
        .unwrap();
        (server, port)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tls_config(url: String, tls: TlsFiles, prefix: &str) -> ClusterConfig {
    ClusterConfig {
        prefix: format!("test:{prefix}:"),
        tls,
        ..ClusterConfig::new(url)
    }
}

fn trusting(pki: &Pki) -> TlsFiles {
    TlsFiles {
        root_ca: Some(pki.ca.clone()),
        client: None,
    }
}

fn rate(id: &str, per_minute: u32) -> Rate<'_> {
    Rate {
        scope: "key",
        id,
        per_minute,
    }
}

/// Whether a cluster that started reaches Redis within `within`; the cluster, for more checks.
async fn up_within(config: ClusterConfig, within: Duration) -> (Arc<Cluster>, bool) {
    let (c, _, up) = listening_up_within(config, within).await;
    (c, up)
}

/// The same, with a receiver of its events taken before its subscription could announce itself.
async fn listening_up_within(
    config: ClusterConfig,
    within: Duration,
) -> (Arc<Cluster>, tokio::sync::broadcast::Receiver<Event>, bool) {
    let c = Cluster::start(config).unwrap();
    let events = c.events();
    let up = c.wait_up(within).await;
    (c, events, up)
}

fn skip() -> bool {
    testing::redis_url().unwrap().is_none()
}

#[tokio::test]
async fn rediss_through_a_private_authority_shares_limits_and_events() {
    if skip() {
        return;
    }
    let pki = Pki::new();
    let (_server, port) = pki.server(false);
    let prefix = uuid::Uuid::new_v4().simple().to_string();
    // By address and by name: the certificate names both.
    let (a, up_a) = up_within(
        tls_config(
            format!("rediss://127.0.0.1:{port}"),
            trusting(&pki),
            &prefix,
        ),
        Duration::from_secs(5),
    )
    .await;
    let (b, mut at_b, up_b) = listening_up_within(
        tls_config(
            format!("rediss://localhost:{port}"),
            trusting(&pki),
            &prefix,
        ),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        up_a && up_b,
        "a TLS Redis trusted through its authority did not answer"
    );
    // b announces its subscription (Resync) once it is up over TLS too.
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), at_b.recv())
            .await
            .unwrap()
            .unwrap(),
        Event::Resync
    );
    let mut admitted = 0;
    for i in 0..8 {
        let c = if i % 2 == 0 { &a } else { &b };
        if c.check_rates("o", &[rate("k", 3)]).await.unwrap() == RateVerdict::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 3, "one bucket for both instances, over TLS");
    a.publish(Event::Keys).await.unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(2), at_b.recv())
            .await
            .unwrap()
            .unwrap(),
        Event::Keys
    );
}

#[tokio::test]
async fn rediss_refuses_a_server_it_does_not_trust_and_plain_redis_gets_no_answer_from_tls() {
    if skip() {
        return;
    }
    let pki = Pki::new();
    let (_server, port) = pki.server(false);
    // The system's roots do not include the test's authority: the handshake fails, Redis stays down.
    let (c, up) = up_within(
        tls_config(
            format!("rediss://127.0.0.1:{port}"),
            TlsFiles::default(),
            "untrusted",
        ),
        Duration::from_millis(2500),
    )
    .await;
    assert!(!up, "a certificate from an unknown authority was accepted");
    assert!(c.check_rates("o", &[rate("k", 1)]).await.is_err());
    assert!(c.stats().errors >= 1);
    // Another authority's certificate is refused too, even when one is configured.
    let other = Pki::new();
    let (_, up) = up_within(
        tls_config(
            format!("rediss://127.0.0.1:{port}"),
            trusting(&other),
            "other",
        ),
        Duration::from_millis(2500),
    )
    .await;
    assert!(!up, "a certificate from another authority was accepted");
    // redis:// to a TLS port: no Redis answer.
    let (_, up) = up_within(
        tls_config(
            format!("redis://127.0.0.1:{port}"),
            TlsFiles::default(),
            "plain",
        ),
        Duration::from_millis(2500),
    )
    .await;
    assert!(!up);
}

#[tokio::test]
async fn rediss_presents_a_client_certificate_where_redis_asks_for_one() {
    if skip() {
        return;
    }
    let pki = Pki::new();
    let (_server, port) = pki.server(true);
    let url = format!("rediss://127.0.0.1:{port}");
    let (_, up) = up_within(
        tls_config(url.clone(), trusting(&pki), "anonymous"),
        Duration::from_millis(2500),
    )
    .await;
    assert!(!up, "Redis asks for a client certificate; none was sent");
    let with_certificate = TlsFiles {
        client: Some(pki.client.clone()),
        ..trusting(&pki)
    };
    let (c, up) = up_within(
        tls_config(url, with_certificate, "mutual"),
        Duration::from_secs(5),
    )
    .await;
    assert!(up, "the client certificate was not accepted");
    assert_eq!(
        c.check_rates("o", &[rate("k", 1)]).await.unwrap(),
        RateVerdict::Admitted
    );
}

#[tokio::test]
async fn tls_material_that_cannot_work_stops_the_start_without_quoting_it() {
    let pki = Pki::new();
    let start = |url: &str, tls: TlsFiles| Cluster::start(tls_config(url.to_owned(), tls, "bad"));
    // A certificate authority or client certificate for a plain URL.
    let e = start("redis://127.0.0.1:6379", trusting(&pki)).unwrap_err();
    assert!(e.to_string().contains("rediss://"), "{e}");
    // A file with no certificate in it.
    let empty = TlsFiles {
        root_ca: Some(b"not a certificate".to_vec()),
        client: None,
    };
    let e = start("rediss://127.0.0.1:6379", empty).unwrap_err();
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
    // A client key that is not a key: refused, and never echoed.
    let secret =
        b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
    let broken = TlsFiles {
        client: Some(ClientCertificate {
            chain: pki.client.chain.clone(),
            key: secret.to_vec(),
        }),
        ..trusting(&pki)
    };
    let e = start("rediss://127.0.0.1:6379", broken).unwrap_err();
    assert!(e.to_string().contains("private key"), "{e}");
    assert!(!e.to_string().contains("c2VjcmV0"), "{e}");
    // A client certificate file without a certificate.
    let no_chain = TlsFiles {
        client: Some(ClientCertificate {
            chain: Vec::new(),
            key: pki.client.key.clone(),
        }),
        ..trusting(&pki)
    };
    let e = start("rediss://127.0.0.1:6379", no_chain).unwrap_err();
    assert!(e.to_string().contains("client certificate"), "{e}");
    // What works passes the checks (the server need not be running to start).
    let good = TlsFiles {
        client: Some(pki.client.clone()),
        ..trusting(&pki)
    };
    assert!(start("rediss://127.0.0.1:6379", good).is_ok());
    // Debug never prints the key.
    let config = tls_config(
        "rediss://h".to_owned(),
        TlsFiles {
            client: Some(pki.client.clone()),
            ..trusting(&pki)
        },
        "debug",
    );
    let config = ClusterConfig {
        url: "rediss://:pw-123@h".to_owned(),
        ..config
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains("PRIVATE KEY"), "{printed}");
    assert!(!printed.contains("pw-123"), "{printed}");
}
