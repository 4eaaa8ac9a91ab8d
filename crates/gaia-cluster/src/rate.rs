//! Per-minute limits shared by every instance: a GCRA bucket per key and per organization in Redis,
//! checked and charged by one script in one round trip.
//!
//! The script reads the clock inside Redis (`TIME`), so instances whose clocks differ still share one
//! timeline. All buckets of a request are checked before any is charged: a request refused by its
//! organization's limit costs its key nothing. The keys of one request share a hash tag (the
//! organization id), so the script also runs on Redis Cluster.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use crate::{Cluster, Unavailable};

/// One bucket to check: `per_minute` requests a minute for the owner `id` of `scope` (`key`, `org`).
#[derive(Debug, Clone, Copy)]
pub struct Rate<'a> {
    pub scope: &'static str,
    pub id: &'a str,
    pub per_minute: u32,
}

/// The answer for all the buckets of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// Every bucket had room; each is charged one request.
    Admitted,
    /// The bucket at this index (of the slice checked) is full; nothing was charged.
    Refused { index: usize, retry_after: Duration },
}

/// KEYS: the buckets; ARGV: per bucket, the interval between requests and the burst, in microseconds.
/// A bucket holds its theoretical arrival time (µs since the epoch, Redis' clock) and expires when it
/// would be back to empty. Returns {0, 0} when admitted, {index (1-based), µs to wait} when refused.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local next_tat = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local stored = redis.call('GET', KEYS[i])
  local tat = now
  if stored then tat = math.max(tonumber(stored), now) end
  if tat - now > burst then
    return {i, tat - now - burst}
  end
  next_tat[i] = tat + interval
end
for i = 1, #KEYS do
  local ttl_ms = math.floor((next_tat[i] - now) / 1000) + 1
  redis.call('SET', KEYS[i], string.format('%.0f', next_tat[i]), 'PX', ttl_ms)
end
return {0, 0}
";

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA));

/// The interval between requests and the burst of a bucket of `per_minute` requests a minute, in
/// microseconds (so rates above 60,000 a minute keep their meaning): up to `per_minute` at once, then one
/// every interval.
pub fn gcra_parameters(per_minute: u32) -> (i64, i64) {
    let interval = (60_000_000 / i64::from(per_minute.max(1))).max(1);
    (interval, 60_000_000 - interval)
}

impl Cluster {
    /// Checks and charges every bucket of one request at once; [`Unavailable`] without waiting when
    /// Redis is down. `group` (the organization) names the buckets together with each rate's scope and
    /// id, and keeps them in one Redis Cluster slot.
    pub async fn check_rates(
        &self,
        group: &str,
        rates: &[Rate<'_>],
    ) -> Result<RateVerdict, Unavailable> {
        if rates.is_empty() {
            return Ok(RateVerdict::Admitted);
        }
        if !self.is_up() {
            return Err(Unavailable("redis is marked down".to_owned()));
        }
        let mut invocation = SCRIPT.prepare_invoke();
        for r in rates {
            let (interval, burst) = gcra_parameters(r.per_minute);
            invocation
                .key(self.key(format_args!("rpm:{{{group}}}:{}:{}", r.scope, r.id)))
                .arg(interval)
                .arg(burst);
        }
        let mut conn = self.connection();
        let (index, wait_us): (i64, i64) = self
            .run("EVALSHA", async move {
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        Ok(match usize::try_from(index) {
            Ok(0) | Err(_) => RateVerdict::Admitted,
            Ok(i) => RateVerdict::Refused {
                index: (i - 1).min(rates.len() - 1),
                retry_after: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            },
        })
    }
}
