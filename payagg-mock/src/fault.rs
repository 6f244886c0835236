//! Fault injection: latency, HTTP 5xx, business `SYSTEM_ERROR`, dropped connections and
//! timeouts, for the next N requests or a fraction of them, per channel and endpoint.

use std::sync::Mutex;
use std::time::Duration;

use payagg_core::Channel;
use serde::Deserialize;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer normally, but only after this delay.
    Latency {
        /// The delay, in milliseconds.
        millis: u64,
    },
    /// Answer with this HTTP status (e.g. 502, 503) and a plain-text body, as a load balancer
    /// in front of the gateway would.
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// The channel's own "system busy, retry with the same parameters" business error
    /// (WeChat: HTTP 500 `{"code":"SYSTEM_ERROR"}`).
    SystemError,
    /// Close the connection without answering.
    DropConnection,
    /// Answer normally, but with a `WECHATPAY/SIGNTEST/…` probe in place of the response
    /// signature (WeChat's own probes; the client must reject the answer).
    SignTest,
    /// Hold the request for [`MockConfig::hang_for`](crate::MockConfig::hang_for), then close
    /// the connection without answering.
    Timeout,
}

/// How many requests a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultScope {
    /// The next `n` matching requests.
    Next(u32),
    /// A deterministic fraction of matching requests: `per_mille` out of every 1000, spread
    /// evenly (with 250, every fourth request).
    PerMille(u16),
    /// Every matching request until cleared.
    Always,
}

/// One fault rule. Build it with [`FaultRule::new`] and narrow it with
/// [`FaultRule::channel`] and [`FaultRule::endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FaultRule {
    /// What happens.
    pub fault: FaultKind,
    /// How many requests it hits.
    pub scope: FaultScope,
    /// Only this channel's requests (all channels when `None`).
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Only this endpoint (see the crate docs for the names; all when `None`).
    #[serde(default)]
    pub endpoint: Option<String>,
}

impl FaultRule {
    /// `fault` for requests in `scope`, on any channel and endpoint.
    #[must_use]
    pub fn new(fault: FaultKind, scope: FaultScope) -> Self {
        Self {
            fault,
            scope,
            channel: None,
            endpoint: None,
        }
    }

    /// Only on `channel`.
    #[must_use]
    pub fn channel(mut self, channel: Channel) -> Self {
        self.channel = Some(channel);
        self
    }

    /// Only on the endpoint named `name` (e.g. `wechat.prepay`, `wechat.query`).
    #[must_use]
    pub fn endpoint(mut self, name: impl Into<String>) -> Self {
        self.endpoint = Some(name.into());
        self
    }
}

#[derive(Debug)]
struct Active {
    rule: FaultRule,
    seen: u64,
    fired: u64,
}

/// The fault table of a running simulator.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Active>>,
}

impl Faults {
    /// Add a rule. Rules are tried in the order they were added; the first that fires wins.
    pub fn add(&self, rule: FaultRule) {
        self.lock().push(Active {
            rule,
            seen: 0,
            fired: 0,
        });
    }

    /// Remove every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many faults each rule has injected so far, in rule order.
    #[must_use]
    pub fn fired(&self) -> Vec<u64> {
        self.lock().iter().map(|a| a.fired).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Active>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fault to inject into this request, if any.
    pub(crate) fn check(&self, channel: Channel, endpoint: &str) -> Option<FaultKind> {
        let mut rules = self.lock();
        for a in rules.iter_mut() {
            if a.rule.channel.is_some_and(|c| c != channel) {
                continue;
            }
            if a.rule.endpoint.as_deref().is_some_and(|e| e != endpoint) {
                continue;
            }
            a.seen += 1;
            let fire = match a.rule.scope {
                FaultScope::Next(n) => a.fired < u64::from(n),
                FaultScope::Always => true,
                FaultScope::PerMille(p) => {
                    let p = u64::from(p.min(1000));
                    (a.seen * p) / 1000 > ((a.seen - 1) * p) / 1000
                }
            };
            if fire {
                a.fired += 1;
                return Some(a.rule.fault.clone());
            }
        }
        None
    }
}

impl FaultKind {
    /// The latency, if this is a latency fault.
    pub(crate) fn latency(&self) -> Option<Duration> {
        match self {
            FaultKind::Latency { millis } => Some(Duration::from_millis(*millis)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_and_per_mille() {
        let f = Faults::default();
        f.add(FaultRule::new(FaultKind::SystemError, FaultScope::Next(2)).endpoint("wechat.query"));
        assert_eq!(f.check(Channel::Wechat, "wechat.prepay"), None);
        assert_eq!(
            f.check(Channel::Wechat, "wechat.query"),
            Some(FaultKind::SystemError)
        );
        assert_eq!(
            f.check(Channel::Wechat, "wechat.query"),
            Some(FaultKind::SystemError)
        );
        assert_eq!(f.check(Channel::Wechat, "wechat.query"), None);
        f.clear();
        f.add(
            FaultRule::new(FaultKind::DropConnection, FaultScope::PerMille(250))
                .channel(Channel::Wechat),
        );
        let hits = (0..100)
            .filter(|_| f.check(Channel::Wechat, "x").is_some())
            .count();
        assert_eq!(hits, 25);
        assert_eq!(f.check(Channel::Alipay, "x"), None);
    }
}
