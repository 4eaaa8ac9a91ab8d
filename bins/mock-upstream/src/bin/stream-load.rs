//! `stream-load`: the benchmark's streaming client (`make bench`, sections 2d and 4). N kept-alive HTTP/1.1
//! connections, each asking for stream after stream for a number of seconds, as the official SDKs do; for
//! every stream it times the first event (the first body bytes after the headers: time to first token
//! as a proxy adds it) and the last byte (the chunked body's end), and counts as an error any stream that
//! is not a 200 ending in `data: [DONE]`, or whose connection failed.
//!
//! wrk reads a stream to its end but cannot say when its first event arrived; this can. Prints one line,
//! `STREAM_LOAD {json}`, with the counts and the p50/p99 of both times in microseconds.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
#[command(name = "stream-load", about)]
struct Cli {
    /// `http://host:port/path` (plain HTTP/1.1).
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Unmeasured seconds first: connections opened, pools filled.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// The JSON request body.
    #[arg(long)]
    body: String,
    /// `Name: value`, repeatable.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Client threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

#[derive(Default)]
struct Tally {
    streams: u64,
    errors: u64,
    ttft_us: Vec<u32>,
    last_us: Vec<u32>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some((host, path)) = cli
        .url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
    else {
        eprintln!("stream-load: --url must be http://host:port/path");
        return ExitCode::FAILURE;
    };
    let mut request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        cli.body.len()
    );
    for h in &cli.headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&cli.body);
    let request: Arc<[u8]> = Arc::from(request.into_bytes());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stream-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = host.to_owned();
    let tally = runtime.block_on(async move {
        let start = Instant::now();
        let measure_from = start + Duration::from_secs(cli.warmup);
        let until = measure_from + Duration::from_secs(cli.seconds);
        let tasks: Vec<_> = (0..cli.connections)
            .map(|_| {
                let request = request.clone();
                let host = host.clone();
                tokio::spawn(async move { connection(&host, &request, measure_from, until).await })
            })
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            if let Ok(t) = t.await {
                all.streams += t.streams;
                all.errors += t.errors;
                all.ttft_us.extend(t.ttft_us);
                all.last_us.extend(t.last_us);
            }
        }
        all
    });
    let pct = |v: &mut Vec<u32>, p: f64| -> u32 {
        if v.is_empty() {
            return 0;
        }
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i.min(v.len() - 1)]
    };
    let (mut ttft, mut last) = (tally.ttft_us, tally.last_us);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "STREAM_LOAD {{\"streams\":{},\"errors\":{},\"duration_us\":{},\"connections\":{},\"ttft_p50_us\":{},\"ttft_p99_us\":{},\"last_p50_us\":{},\"last_p99_us\":{}}}",
        tally.streams,
        tally.errors,
        cli.seconds * 1_000_000,
        cli.connections,
        pct(&mut ttft, 0.5),
        pct(&mut ttft, 0.99),
        pct(&mut last, 0.5),
        pct(&mut last, 0.99),
    );
    ExitCode::SUCCESS
}

/// One kept-alive connection, reopened after a failure, streaming until `until`; only streams started
/// after `measure_from` are counted.
async fn connection(host: &str, request: &[u8], measure_from: Instant, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut socket: Option<TcpStream> = None;
    while Instant::now() < until {
        let conn = match socket.take() {
            Some(s) => s,
            None => match TcpStream::connect(host).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    s
                }
                Err(_) => {
                    if Instant::now() >= measure_from {
                        tally.errors += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let started = Instant::now();
        let counted = started >= measure_from;
        match one_stream(conn, request, &mut buf, started).await {
            Ok((conn, ttft, ok)) => {
                if counted {
                    if ok {
                        tally.streams += 1;
                        tally.ttft_us.push(micros(ttft));
                        tally.last_us.push(micros(started.elapsed()));
                    } else {
                        tally.errors += 1;
                    }
                }
                socket = conn;
            }
            Err(_) => {
                if counted {
                    tally.errors += 1;
                }
            }
        }
    }
    tally
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Sends one request and reads its answer to the end: the connection back when it can be reused, the
/// time to the first body bytes, and whether it was a whole stream (200, ending in `data: [DONE]`).
async fn one_stream(
    mut conn: TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
    started: Instant,
) -> std::io::Result<(Option<TcpStream>, Duration, bool)> {
    conn.write_all(request).await?;
    buf.clear();
    // Headers.
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(&mut conn, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status_ok = head.starts_with("http/1.1 200");
    let chunked = head.contains("transfer-encoding: chunked");
    let close = head.contains("connection: close");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    buf.drain(..head_end);
    let mut ttft = None;
    let mut body = Vec::new();
    if chunked {
        // Chunks: "<hex size>\r\n<data>\r\n", ending with a zero-size chunk.
        loop {
            let Some(line_end) = find(buf, b"\r\n") else {
                read_more(&mut conn, buf).await?;
                continue;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            while buf.len() < line_end + 2 + size + 2 {
                read_more(&mut conn, buf).await?;
            }
            if size == 0 {
                buf.drain(..line_end + 4);
                break;
            }
            ttft.get_or_insert_with(|| started.elapsed());
            // Only the tail is needed, to find `[DONE]`.
            body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
            if body.len() > 256 {
                body.drain(..body.len() - 256);
            }
            buf.drain(..line_end + 2 + size + 2);
        }
    } else if let Some(len) = length {
        while buf.len() < len {
            read_more(&mut conn, buf).await?;
        }
        ttft = Some(started.elapsed());
        body.extend_from_slice(&buf[..len]);
        buf.drain(..len);
    } else {
        // Until the connection closes.
        loop {
            let n = conn.read_buf(buf).await?;
            if n == 0 {
                break;
            }
            ttft.get_or_insert_with(|| started.elapsed());
        }
        body.append(buf);
        return Ok((
            None,
            ttft.unwrap_or_default(),
            status_ok && ends_done(&body),
        ));
    }
    let ok = status_ok && ends_done(&body);
    Ok((
        (!close).then_some(conn),
        ttft.unwrap_or_else(|| started.elapsed()),
        ok,
    ))
}

fn ends_done(body: &[u8]) -> bool {
    find(body, b"data: [DONE]").is_some()
}

async fn read_more(conn: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.reserve(8 * 1024);
    if conn.read_buf(buf).await? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed mid-answer",
        ));
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
