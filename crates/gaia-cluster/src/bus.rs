//! Change events between instances over Redis pub/sub.
//!
//! An event only says *what* changed ("keys", "models"); a receiver reloads that state from the
//! database, which stays the one source of truth. So a lost event costs freshness, never correctness:
//! the periodic refresh still runs, and after every (re)subscription a [`Event::Resync`] tells the
//! receivers to reload everything they may have missed while the subscription was down.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::{Cluster, Unavailable};

/// What changed on another instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// API keys or organizations (status, limits, permissions): reload the key cache.
    Keys,
    /// Models or aliases: reload the registry snapshot.
    Models,
    /// Channels (added, edited, enabled or disabled): reload the registry snapshot.
    Channels,
    /// A channel's circuit opened on another instance: keep it open here for `cooldown_ms` too, so every
    /// instance routes around a failing upstream as soon as one has seen it fail.
    ChannelOpened { channel: String, cooldown_ms: u64 },
    /// The subscription was (re)established: events may have been missed, reload everything.
    Resync,
}

impl Event {
    /// The payload after the instance id: a word, and for a channel its cooldown and id.
    fn encode(&self) -> String {
        match self {
            Event::Keys => "keys".to_owned(),
            Event::Models => "models".to_owned(),
            Event::Channels => "channels".to_owned(),
            Event::ChannelOpened {
                channel,
                cooldown_ms,
            } => format!("channel_opened {cooldown_ms} {channel}"),
            Event::Resync => "resync".to_owned(),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        let (word, rest) = s.split_once(' ').unwrap_or((s, ""));
        Some(match word {
            "keys" => Event::Keys,
            "models" => Event::Models,
            "channels" => Event::Channels,
            "channel_opened" => {
                let (ms, channel) = rest.split_once(' ')?;
                if channel.is_empty() {
                    return None;
                }
                Event::ChannelOpened {
                    channel: channel.to_owned(),
                    cooldown_ms: ms.parse().ok()?,
                }
            }
            _ => return None,
        })
    }
}

impl Cluster {
    fn channel(&self) -> String {
        self.key(format_args!("events"))
    }

    /// Tells the other instances that `event` changed. Best effort: when Redis is down they notice at
    /// their next periodic refresh.
    pub async fn publish(&self, event: Event) -> Result<(), Unavailable> {
        if !self.is_up() {
            return Err(Unavailable("redis is marked down".to_owned()));
        }
        let payload = format!("{} {}", self.instance, event.encode());
        let channel = self.channel();
        let mut conn = self.connection();
        self.run("PUBLISH", async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(payload)
                .query_async::<i64>(&mut conn)
                .await
        })
        .await?;
        self.counters
            .events_published
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The events published by other instances (and [`Event::Resync`] after each subscription).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// An event received from Redis: `None` for our own, or one we do not know.
    fn decode(&self, payload: &[u8]) -> Option<Event> {
        let text = std::str::from_utf8(payload).ok()?;
        let (from, what) = text.split_once(' ')?;
        if from == self.instance {
            return None;
        }
        Event::parse(what)
    }
}

/// Keeps one subscription open while the process runs, re-subscribing a second after it drops.
pub(crate) async fn subscribe(cluster: Weak<Cluster>) {
    loop {
        let Some(c) = cluster.upgrade() else { return };
        let client = c.client.clone();
        let channel = c.channel();
        let wait = c.timeout.max(Duration::from_secs(1));
        drop(c);
        let connected = tokio::time::timeout(wait, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        if let Ok(Ok(pubsub)) = connected {
            let Some(c) = cluster.upgrade() else { return };
            c.counters.reconnects.fetch_add(1, Ordering::Relaxed);
            let _ = c.events.send(Event::Resync);
            drop(c);
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                let Some(c) = cluster.upgrade() else { return };
                if let Some(event) = c.decode(msg.get_payload_bytes()) {
                    c.counters.events_received.fetch_add(1, Ordering::Relaxed);
                    let _ = c.events.send(event);
                }
            }
            tracing::warn!("the redis event subscription ended; subscribing again");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn events_read_back_as_written_and_garbage_is_ignored() {
        for e in [
            Event::Keys,
            Event::Models,
            Event::Channels,
            Event::ChannelOpened {
                channel: "config:openai:eu 1".into(),
                cooldown_ms: 300_000,
            },
        ] {
            assert_eq!(Event::parse(&e.encode()), Some(e));
        }
        for bad in [
            "",
            "resync",
            "nope",
            "channel_opened",
            "channel_opened x id",
            "channel_opened 5 ",
        ] {
            assert_eq!(Event::parse(bad), None, "{bad:?}");
        }
    }
}
