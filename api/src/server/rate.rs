//! Request rates on `/graphql`: per client address (`RATE_LIMIT_PER_MINUTE`; IPv6 per /64)
//! and per signed-in user (`RATE_LIMIT_USER_PER_MINUTE`), each a token bucket holding a
//! quarter of the minute's allowance and refilled evenly. The client address is the TCP peer,
//! or — only when the peer is one of `TRUSTED_PROXIES` — the last address in
//! `X-Forwarded-For` that is not a trusted proxy.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::throttle::block_of;
use crate::config::{Cidr, RateLimitConfig};

/// The limiters of one server.
#[derive(Debug)]
pub struct RateLimits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_user: Option<DefaultKeyedRateLimiter<i64>>,
    trusted: Vec<Cidr>,
    clock: DefaultClock,
}

/// `n` a minute, in bursts of a quarter of it.
fn limiter<K: std::hash::Hash + Eq + Clone>(n: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let per_minute = NonZeroU32::new(n)?;
    let burst = NonZeroU32::new((n / 4).max(1)).unwrap_or(NonZeroU32::MIN);
    Some(RateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            per_ip: limiter(config.per_ip_per_minute),
            per_user: limiter(config.per_user_per_minute),
            trusted: config.trusted_proxies.clone(),
            clock: DefaultClock::default(),
        }
    }

    /// The address the request is counted under (see the module comment).
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.ip();
        if !self.trusted.iter().any(|c| c.contains(peer)) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .into_iter()
            .rev()
            .find(|a| !self.trusted.iter().any(|c| c.contains(*a)))
            .unwrap_or(peer)
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: Option<&DefaultKeyedRateLimiter<K>>,
        key: &K,
    ) -> Result<(), Duration> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        let result = limiter.check_key(key);
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        result.map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Whether a request from `ip` may go on; else how long to wait.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check(self.per_ip.as_ref(), &block_of(ip))
    }

    /// Whether a request of `user_id` may go on; else how long to wait.
    pub fn check_user(&self, user_id: i64) -> Result<(), Duration> {
        self.check(self.per_user.as_ref(), &user_id)
    }
}
