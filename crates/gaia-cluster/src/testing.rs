//! For tests, here and in the crates above: the Redis of the test run, and throwaway servers a test may
//! stop and restart. Not used by the server itself.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `GAIA_TEST_REDIS_URL` (scripts/ensure-redis.sh provides one; `make test` sets it). `None` — the test
/// says it is skipped — when unset, unless `GAIA_REQUIRE_REDIS=1` makes that an error.
pub fn redis_url() -> Result<Option<String>, String> {
    match std::env::var("GAIA_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Ok(Some(url)),
        _ if std::env::var("GAIA_REQUIRE_REDIS").as_deref() == Ok("1") => {
            Err("GAIA_REQUIRE_REDIS=1 but GAIA_TEST_REDIS_URL is unset".to_owned())
        }
        _ => {
            eprintln!(
                "skipped: GAIA_TEST_REDIS_URL is unset (scripts/ensure-redis.sh provides one)"
            );
            Ok(None)
        }
    }
}

/// A free port on loopback (for a server started next).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A redis-server of the test's own (no persistence), killed when dropped.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// Starts `redis-server` (or `GAIA_TEST_REDIS_SERVER`) on `port` and waits until it accepts
    /// connections.
    pub fn start(port: u16) -> std::io::Result<Self> {
        Self::start_with(port, &["--port", &port.to_string()])
    }

    /// Starts one that speaks only TLS on `port` (`rediss://`), with the server certificate and key and
    /// the authority client certificates must come from (PEM files); `require_client_certificate` makes
    /// it refuse a client without one. The redis-server must be built with TLS (Debian's is).
    pub fn start_tls(
        port: u16,
        cert: &std::path::Path,
        key: &std::path::Path,
        client_ca: &std::path::Path,
        require_client_certificate: bool,
    ) -> std::io::Result<Self> {
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        Self::start_with(
            port,
            &[
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                &path(cert),
                "--tls-key-file",
                &path(key),
                "--tls-ca-cert-file",
                &path(client_ca),
                "--tls-auth-clients",
                if require_client_certificate {
                    "yes"
                } else {
                    "no"
                },
            ],
        )
    }

    fn start_with(port: u16, listen: &[&str]) -> std::io::Result<Self> {
        let bin =
            std::env::var("GAIA_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(bin)
            .args(listen)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = Self { child, port };
        let until = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > until {
                return Err(std::io::Error::other("redis-server did not start"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it at once (SIGKILL) and waits for the exit.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
