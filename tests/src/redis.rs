//! The test Redis from `TEST_REDIS_URL`: present or absent, never silently unreachable.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `TEST_REDIS_URL` when set.
pub fn redis_url_from_env() -> Option<String> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Sends `PING` to the Redis at `url` (`redis://host:port[/db]`) and returns its reply line.
pub async fn ping(url: &str) -> std::io::Result<String> {
    let rest = url.strip_prefix("redis://").unwrap_or(url);
    let host_port = rest
        .rsplit('@')
        .next()
        .unwrap_or(rest)
        .split('/')
        .next()
        .unwrap_or(rest);
    let connect = TcpStream::connect(host_port);
    let mut stream = tokio::time::timeout(Duration::from_secs(3), connect)
        .await
        .map_err(std::io::Error::other)??;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
    let mut reply = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut reply))
        .await
        .map_err(std::io::Error::other)??;
    Ok(String::from_utf8_lossy(&reply[..n]).trim().to_owned())
}
