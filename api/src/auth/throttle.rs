//! Slows password guessing without letting anyone lock an owner out.
//!
//! Three counters of failed logins, each within its own window:
//! - per (email, client address): `LOGIN_MAX_FAILURES` per `LOGIN_FAILURE_WINDOW_SECONDS`. A
//!   guesser from one address is stopped; the owner from their own address still gets in.
//! - per client address, whatever the email: `LOGIN_IP_MAX_FAILURES` per window, against one
//!   address trying many accounts (password spraying).
//! - per email from every address: `LOGIN_EMAIL_MAX_FAILURES_PER_MINUTE` within one minute, a
//!   short cap on guessing spread over many addresses; it lifts a minute later.
//!
//! An attempt is counted when it starts ([`LoginThrottle::begin`], one lock for the check and
//! the count), and given back if it succeeds, so concurrent guesses cannot all pass the check
//! before the first failure is recorded.
//!
//! Keys are hashes (a random key per process), so an entry has a fixed size whatever the client
//! sends; each counter keeps at most `LOGIN_THROTTLE_MAX_ENTRIES` entries: when full, expired
//! ones go first, then the oldest until a tenth is free. IPv6 clients are counted per /64, the
//! block one subscriber usually holds. Kept in process memory: each API process counts on its
//! own. The per-email cap is a trade-off: guesses from many addresses (or /64 blocks) can keep
//! an account's owner waiting, a minute at a time.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::LoginLimits;

/// The window of the per-email cap across addresses.
const EMAIL_WINDOW: Duration = Duration::from_secs(60);

/// Failure counts.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: LoginLimits,
    hasher: RandomState,
    counters: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    pair: Window,
    address: Window,
    email: Window,
}

/// Failures per key since the key's window started.
#[derive(Debug, Default)]
struct Window {
    entries: HashMap<u64, (u32, Instant)>,
}

impl Window {
    /// How long `key` must wait, if it has `max` failures within `window`.
    fn wait(&self, key: u64, max: u32, window: Duration) -> Option<Duration> {
        if max == 0 {
            return None;
        }
        let &(count, since) = self.entries.get(&key)?;
        let elapsed = since.elapsed();
        (count >= max && elapsed < window).then(|| window - elapsed)
    }

    fn record(&mut self, key: u64, window: Duration, cap: usize) {
        if self.entries.len() >= cap && !self.entries.contains_key(&key) {
            self.entries
                .retain(|_, (_, since)| since.elapsed() < window);
            if self.entries.len() >= cap {
                self.drop_oldest(cap / 10 + 1);
            }
        }
        let entry = self.entries.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= window {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// One failure fewer (an attempt that turned out to succeed).
    fn give_back(&mut self, key: u64) {
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    fn drop_oldest(&mut self, n: usize) {
        let mut starts: Vec<Instant> = self.entries.values().map(|(_, since)| *since).collect();
        let n = n.min(starts.len());
        if n == 0 {
            return;
        }
        let (_, &mut cutoff, _) = starts.select_nth_unstable(n - 1);
        self.entries.retain(|_, (_, since)| *since > cutoff);
    }
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            hasher: RandomState::new(),
            counters: Mutex::default(),
        }
    }

    fn keys(&self, email: &str, client: IpAddr) -> (u64, u64, u64) {
        let client = block_of(client);
        (
            self.hasher.hash_one((email, client)),
            self.hasher.hash_one(client),
            self.hasher.hash_one(email),
        )
    }

    /// Starts an attempt for `email` (an address that parsed, at most 254 bytes) from
    /// `client`: `Err(wait)` when it may not try now; otherwise the attempt is counted as a
    /// failure until [`LoginThrottle::succeeded`] gives it back.
    pub fn begin(&self, email: &str, client: IpAddr) -> Result<(), Duration> {
        let (pair, address, email) = self.keys(email, client);
        let l = &self.limits;
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let waits = [
            c.pair.wait(pair, l.max_failures, l.window),
            c.address.wait(address, l.ip_max_failures, l.window),
            c.email
                .wait(email, l.email_max_failures_per_minute, EMAIL_WINDOW),
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            return Err(wait);
        }
        c.pair.record(pair, l.window, l.max_entries);
        c.address.record(address, l.window, l.max_entries);
        c.email.record(email, EMAIL_WINDOW, l.max_entries);
        Ok(())
    }

    /// The attempt succeeded: forgets this email's failures from this client and gives the
    /// attempt back to the address and email counts.
    pub fn succeeded(&self, email: &str, client: IpAddr) {
        let (pair, address, email) = self.keys(email, client);
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.pair.entries.remove(&pair);
        c.address.give_back(address);
        c.email.give_back(email);
    }

    /// Entries held, all counters together.
    pub fn len(&self) -> usize {
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.pair.entries.len() + c.address.entries.len() + c.email.entries.len()
    }

    /// Whether no failure is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The address a client is counted under: itself for IPv4, its /64 for IPv6.
pub fn block_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn throttle(limits: LoginLimits) -> LoginThrottle {
        LoginThrottle::new(limits)
    }

    #[test]
    fn a_guesser_is_stopped_and_the_owner_elsewhere_is_not() {
        let t = throttle(LoginLimits {
            max_failures: 2,
            ..LoginLimits::default()
        });
        t.begin("a@x.io", A).expect("first");
        t.begin("a@x.io", A).expect("second");
        let wait = t.begin("a@x.io", A).expect_err("blocked");
        assert!(wait <= Duration::from_secs(900) && wait > Duration::from_secs(890));
        assert!(t.begin("a@x.io", B).is_ok(), "the owner's own address");
        assert!(t.begin("b@x.io", A).is_ok(), "another account");
        t.succeeded("a@x.io", A);
        assert!(t.begin("a@x.io", A).is_ok());
    }

    #[test]
    fn successes_are_given_back_and_concurrent_attempts_cannot_overrun() {
        let t = throttle(LoginLimits {
            max_failures: 2,
            ip_max_failures: 3,
            ..LoginLimits::default()
        });
        for _ in 0..10 {
            t.begin("owner@x.io", A)
                .expect("a success is not a failure");
            t.succeeded("owner@x.io", A);
        }
        // Attempts count when they start: a burst of 10 gets exactly 2 through.
        let passed = (0..10).filter(|_| t.begin("a@x.io", B).is_ok()).count();
        assert_eq!(passed, 2);
    }

    #[test]
    fn one_address_spraying_many_accounts_and_many_addresses_on_one_account_are_capped() {
        let t = throttle(LoginLimits {
            ip_max_failures: 3,
            email_max_failures_per_minute: 4,
            ..LoginLimits::default()
        });
        for i in 0..3 {
            t.begin(&format!("user{i}@x.io"), A).expect("under the cap");
        }
        assert!(t.begin("fresh@x.io", A).is_err(), "address cap");
        assert!(t.begin("fresh@x.io", B).is_ok());
        let t = throttle(LoginLimits {
            email_max_failures_per_minute: 4,
            ..LoginLimits::default()
        });
        for i in 0..4u8 {
            t.begin("a@x.io", IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, i)))
                .expect("under the cap");
        }
        let wait = t.begin("a@x.io", B).expect_err("email cap");
        assert!(wait <= EMAIL_WINDOW, "a short cap: {wait:?}");
    }

    #[test]
    fn memory_stays_bounded_whatever_the_keys() {
        let t = throttle(LoginLimits {
            max_entries: 1_000,
            ..LoginLimits::default()
        });
        for i in 0..10_000 {
            let _ = t.begin(
                &format!("user{i}@x.io"),
                IpAddr::V4(std::net::Ipv4Addr::from(i)),
            );
        }
        assert!(t.len() <= 3_000, "{}", t.len());
    }

    #[test]
    fn zero_turns_a_limit_off_and_ipv6_counts_per_64() {
        let t = throttle(LoginLimits {
            max_failures: 0,
            ip_max_failures: 0,
            email_max_failures_per_minute: 0,
            ..LoginLimits::default()
        });
        for _ in 0..20 {
            assert!(t.begin("a@x.io", A).is_ok());
        }
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let same_64: IpAddr = "2001:db8:1:2::ffff".parse().expect("ip");
        assert_eq!(block_of(one), block_of(same_64));
    }
}
