//! Channels: the credentials and endpoints a provider is reached through.
//!
//! A provider (a name and a dialect: `openai`, `azure`, `deepseek`…) has one or more channels — several
//! OpenAI keys, OpenAI-compatible replicas, Azure deployments in several regions. The endpoint configured
//! for the provider itself (environment or `GAIA_CONFIG`) is its channel `default`; more come from the
//! configuration file's `[[channels]]` and from the database (the admin API).
//!
//! For each request the router orders the provider's channels ([`order`]): the channels that serve the
//! model and whose circuit lets a request through, highest priority group first, weighted at random within
//! a group. A transient failure on one moves the request to the next before the alias fallback chain moves
//! to another model.

use std::sync::Arc;
use std::time::Instant;

use rand::Rng;

use crate::health::{Admit, Circuit};
use crate::provider::Provider;

/// Where a channel is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelSource {
    /// The environment or `GAIA_CONFIG`: read at start, not editable through the API.
    Config,
    /// The database (the admin API).
    Database,
}

impl ChannelSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelSource::Config => "config",
            ChannelSource::Database => "database",
        }
    }
}

/// One credential and endpoint of a provider.
#[derive(Debug)]
pub struct Channel {
    /// `config:<provider>:<name>` for configured channels; the row id for stored ones.
    pub id: String,
    pub name: String,
    /// The provider (model prefix) it serves.
    pub provider: String,
    /// The HTTP side: URL, credential, TLS roots, pooled clients.
    pub endpoint: Arc<Provider>,
    /// Share of traffic within its priority group (≥ 1).
    pub weight: u32,
    /// Higher groups are tried first; lower ones only when every channel above is failing.
    pub priority: i32,
    /// Upstream model names it serves (`None`: every model of the provider).
    pub models: Option<Vec<String>>,
    /// Upstream model name → the name this channel knows it by (an Azure deployment, a replica's alias).
    pub model_map: Vec<(String, String)>,
    pub source: ChannelSource,
    /// A stored channel's credential in its sealed form, as the channel was built from it (`None` for a
    /// keyless or configured one): which credential a refusal refers to.
    pub sealed_key: Option<String>,
    pub circuit: Arc<Circuit>,
}

impl Channel {
    /// The provider's own endpoint as its channel `default` (weight 1, priority 0, every model).
    pub fn default_of(provider: Arc<Provider>, circuit: Option<Arc<Circuit>>) -> Self {
        let id = format!("config:{}:default", provider.name());
        Self {
            circuit: circuit.unwrap_or_else(|| {
                Arc::new(Circuit::standalone(
                    &id,
                    crate::health::CircuitConfig::default(),
                ))
            }),
            id,
            name: "default".to_owned(),
            provider: provider.name().to_owned(),
            endpoint: provider,
            weight: 1,
            priority: 0,
            models: None,
            model_map: Vec::new(),
            source: ChannelSource::Config,
            sealed_key: None,
        }
    }

    /// Whether it serves `upstream_model` (the model's upstream name, before mapping).
    pub fn serves(&self, upstream_model: &str) -> bool {
        self.models
            .as_ref()
            .is_none_or(|m| m.iter().any(|n| n == upstream_model))
    }

    /// The name to send upstream for `upstream_model`.
    pub fn upstream_name<'a>(&'a self, upstream_model: &'a str) -> &'a str {
        self.model_map
            .iter()
            .find(|(from, _)| from == upstream_model)
            .map_or(upstream_model, |(_, to)| to.as_str())
    }
}

/// The channels to try for `upstream_model`, in order: those that serve it and are available now,
/// priority groups from the highest, each group in a weighted random order. Circuits are not claimed
/// here — [`claim`] does, when the router actually uses a channel.
pub fn order(channels: &[Arc<Channel>], upstream_model: &str, now: Instant) -> Vec<Arc<Channel>> {
    weighted(
        channels
            .iter()
            .filter(|c| c.serves(upstream_model) && c.circuit.is_available(now))
            .collect(),
    )
}

/// When [`order`] finds nothing and there is no other target to fall back to: every channel that serves
/// the model and is not disabled, circuits ignored ("panic mode", as load balancers do when every
/// backend looks unhealthy) — better to try a channel that may have recovered than to refuse outright.
pub fn order_ignoring_circuits(
    channels: &[Arc<Channel>],
    upstream_model: &str,
) -> Vec<Arc<Channel>> {
    weighted(
        channels
            .iter()
            .filter(|c| c.serves(upstream_model) && !c.circuit.is_disabled())
            .collect(),
    )
}

fn weighted(mut usable: Vec<&Arc<Channel>>) -> Vec<Arc<Channel>> {
    if usable.len() <= 1 {
        return usable.into_iter().cloned().collect();
    }
    usable.sort_by_key(|c| std::cmp::Reverse(c.priority));
    let mut out = Vec::with_capacity(usable.len());
    let mut rng = rand::rng();
    for group in usable.chunk_by(|a, b| a.priority == b.priority) {
        let mut left: Vec<&Arc<Channel>> = group.to_vec();
        while !left.is_empty() {
            let total: u64 = left.iter().map(|c| u64::from(c.weight.max(1))).sum();
            let mut pick = rng.random_range(0..total);
            let mut at = 0;
            for (i, c) in left.iter().enumerate() {
                let w = u64::from(c.weight.max(1));
                if pick < w {
                    at = i;
                    break;
                }
                pick -= w;
            }
            out.push(left.swap_remove(at).clone());
        }
    }
    out
}

/// Claims `channel` for one attempt: `false` when its circuit no longer lets a request through (it
/// opened since the order was made, or another request took the half-open probe).
pub fn claim(channel: &Channel, now: Instant) -> bool {
    channel.circuit.admit(now) != Admit::No
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ProviderConfig, Timeouts};
    use crate::health::{CircuitConfig, RecentError};
    use gaia_core::ProviderKind;

    fn channel(name: &str, weight: u32, priority: i32, models: Option<&[&str]>) -> Arc<Channel> {
        let config = ProviderConfig::new(
            "openai",
            ProviderKind::OpenAi,
            "http://127.0.0.1:1/v1",
            Some("k".into()),
        );
        Arc::new(Channel {
            id: name.into(),
            name: name.into(),
            provider: "openai".into(),
            endpoint: Provider::new(config, Timeouts::default()).unwrap(),
            weight,
            priority,
            models: models.map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
            model_map: vec![("gpt-4o".into(), "my-deployment".into())],
            source: ChannelSource::Database,
            sealed_key: None,
            circuit: Arc::new(Circuit::standalone(name, CircuitConfig::default())),
        })
    }

    fn names(v: &[Arc<Channel>]) -> Vec<&str> {
        v.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn the_highest_priority_group_comes_first_and_weights_share_it() {
        let chans = vec![
            channel("backup", 1, 0, None),
            channel("a", 3, 10, None),
            channel("b", 1, 10, None),
        ];
        let now = Instant::now();
        let mut first_a = 0;
        for _ in 0..4000 {
            let o = order(&chans, "gpt-4o-mini", now);
            assert_eq!(o.len(), 3);
            assert_eq!(o[2].name, "backup", "the lower group comes last");
            first_a += usize::from(o[0].name == "a");
        }
        // a has weight 3 of 4: first about 75 % of the time.
        assert!((2700..=3300).contains(&first_a), "{first_a}");
    }

    #[test]
    fn channels_that_do_not_serve_the_model_or_are_open_are_left_out() {
        let chans = vec![
            channel("only-mini", 1, 0, Some(&["gpt-4o-mini"])),
            channel("all", 1, 0, None),
            channel("sick", 1, 0, None),
        ];
        let now = Instant::now();
        chans[2].circuit.disable(
            "refused",
            RecentError {
                at: chrono::Utc::now(),
                code: "upstream_auth_error".into(),
                message: "no".into(),
            },
        );
        assert_eq!(names(&order(&chans, "gpt-4o", now)), vec!["all"]);
        let ordered = order(&chans, "gpt-4o-mini", now);
        let mut mini = names(&ordered);
        mini.sort_unstable();
        assert_eq!(mini, vec!["all", "only-mini"]);
    }

    #[test]
    fn model_names_are_mapped_per_channel() {
        let c = channel("azure-eu", 1, 0, None);
        assert_eq!(c.upstream_name("gpt-4o"), "my-deployment");
        assert_eq!(c.upstream_name("gpt-4o-mini"), "gpt-4o-mini");
    }
}
