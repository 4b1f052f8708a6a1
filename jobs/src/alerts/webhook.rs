//! Webhook deliveries: where they may go, and how they are signed and retried.
//!
//! A webhook URL must be http(s). Unless `ALERT_WEBHOOK_ALLOW_PRIVATE=true`, every address its
//! host resolves to must be a public one — not loopback, private, link-local, carrier-grade
//! NAT, unique-local, documentation, multicast or unspecified — checked on the resolved
//! addresses when it is saved and again at every delivery, and the delivery connects to the
//! addresses that were checked (no second lookup a rebinding DNS server could answer
//! differently), following no redirect. A delivery is a POST of JSON signed with
//! HMAC-SHA256 over `{timestamp}.{body}` (headers `x-jobcollector-timestamp` and
//! `x-jobcollector-signature: sha256=<hex>`), tried up to three times with a doubling backoff
//! on connection errors, timeouts, 429 and 5xx. An attempt that timed out may have arrived, so
//! a receiver may see a delivery twice: every attempt carries the same
//! `x-jobcollector-delivery` id (also `deliveryId` in the body) to drop repeats by.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// Attempts per delivery.
const ATTEMPTS: u32 = 3;

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d))
            };
            // IPv4-compatible (::a.b.c.d) and 6to4 (2002:a.b.c.d::) addresses carry an IPv4
            // address that may be a private one.
            if seg[..6] == [0; 6] {
                return false;
            }
            if seg[0] == 0x2002 {
                return is_public(embedded(seg[1], seg[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] & 0xffc0) == 0xfec0
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
                // Teredo tunnels, and NAT64 (64:ff9b::/96, 64:ff9b:1::/48), which reach IPv4
                // addresses that may be private.
                || (seg[0] == 0x2001 && seg[1] == 0x0000)
                || (seg[0] == 0x0064 && seg[1] == 0xff9b))
        }
    }
}

/// Checks a webhook URL and resolves its host: the addresses a delivery may connect to, or
/// why it may not be used.
pub async fn destination(
    url: &str,
    allow_private: bool,
) -> Result<(url::Url, Vec<SocketAddr>), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must be http or https".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL may not carry credentials".into());
    }
    let host = parsed
        .host_str()
        .ok_or("the URL has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or("the URL has no port")?;
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await
    .map_err(|_| format!("{host} did not resolve in time"))?
    .map_err(|_| format!("{host} does not resolve"))?
    .collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    // The address is not named: the message would tell anyone what an internal name resolves to.
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(format!("{host} is not a public address"));
    }
    Ok((parsed, addrs))
}

/// The `x-jobcollector-signature` value of `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// Delivers `body` to `url`, signed with `secret`; the last error when every attempt failed.
pub async fn deliver(
    url: &str,
    secret: &str,
    delivery_id: &str,
    body: &[u8],
    allow_private: bool,
    timeout: Duration,
    backoff: Duration,
) -> Result<(), String> {
    let (parsed, addrs) = destination(url, allow_private).await?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would look the name up again, wherever it stands: the checked addresses only.
        .no_proxy()
        .timeout(timeout)
        .resolve_to_addrs(&host, &addrs)
        .user_agent(concat!("jobcollector-alerts/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("the webhook client could not be built: {e}"))?;
    let mut wait = backoff;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let timestamp = chrono::Utc::now().timestamp();
        let sent = client
            .post(parsed.clone())
            .header("content-type", "application/json")
            .header("x-jobcollector-delivery", delivery_id)
            .header("x-jobcollector-timestamp", timestamp.to_string())
            .header(
                "x-jobcollector-signature",
                signature(secret, timestamp, body),
            )
            .body(body.to_vec())
            .send()
            .await;
        let retry = match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => {
                let status = r.status();
                last = format!("the webhook answered HTTP {}", status.as_u16());
                status.as_u16() == 429 || status.is_server_error()
            }
            Err(e) if e.is_timeout() => {
                last = format!("the webhook did not answer within {} s", timeout.as_secs());
                true
            }
            Err(e) => {
                last = format!("the webhook could not be reached: {e}");
                true
            }
        };
        if !retry || attempt == ATTEMPTS {
            break;
        }
        tracing::debug!(attempt, error = %last, "webhook delivery failed; retrying");
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "::127.0.0.1",
            "64:ff9b::a00:5",
            "64:ff9b:1::a00:5",
            "2002:a00:5::1",
            "2001:0:4136:e378::1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[tokio::test]
    async fn destinations_are_checked_on_their_resolved_addresses() {
        for (url, says) in [
            ("ftp://example.com/hook", "http or https"),
            ("http://user:pw@example.com/", "credentials"),
            ("http://127.0.0.1:9/hook", "not a public address"),
            ("http://localhost:9/hook", "not a public address"),
            ("http://[::1]:9/hook", "not a public address"),
            (
                "http://169.254.169.254/latest/meta-data",
                "not a public address",
            ),
        ] {
            let e = destination(url, false).await.expect_err(url);
            assert!(e.contains(says), "{url}: {e}");
        }
        assert!(destination("http://127.0.0.1:9/hook", true).await.is_ok());
    }

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = signature("secret", 1_700_000_000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("secret", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("secret", 1_700_000_000, b"{ }"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{}"));
    }
}
