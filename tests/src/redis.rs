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

/// `host:port` of a `redis://[user:pass@]host:port[/db]` URL.
fn host_port(url: &str) -> &str {
    let rest = url.strip_prefix("redis://").unwrap_or(url);
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Sends `PING` to the Redis at `url` (`redis://host:port[/db]`) and returns its reply line.
pub async fn ping(url: &str) -> std::io::Result<String> {
    let connect = TcpStream::connect(host_port(url));
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

/// The keys of one test's queue (`{prefix}:*` on the Redis at `url`), deleted when dropped.
#[derive(Debug)]
pub struct PrefixCleanup {
    pub url: String,
    pub prefix: String,
}

impl Drop for PrefixCleanup {
    fn drop(&mut self) {
        if let Err(e) = delete_prefix(&self.url, &self.prefix) {
            eprintln!(
                "warning: could not delete the Redis keys {}:*: {e}",
                self.prefix
            );
        }
    }
}

/// Deletes every key under `{prefix}:` (SCAN, then DEL), over a blocking connection so that it
/// can run in `Drop`. Returns how many were deleted.
pub fn delete_prefix(url: &str, prefix: &str) -> std::io::Result<usize> {
    use std::io::{BufRead, BufReader, Write};
    let stream = std::net::TcpStream::connect(host_port(url))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut send = |args: &[&str]| -> std::io::Result<()> {
        let mut cmd = format!("*{}\r\n", args.len());
        for a in args {
            cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        writer.write_all(cmd.as_bytes())
    };
    let mut line = || -> std::io::Result<String> {
        let mut l = String::new();
        reader.read_line(&mut l)?;
        Ok(l.trim_end().to_owned())
    };
    let pattern = format!("{prefix}:*");
    let (mut cursor, mut deleted) = ("0".to_owned(), 0);
    loop {
        send(&["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"])?;
        line()?; // *2
        line()?; // $len of the cursor
        cursor = line()?;
        let n: usize = line()?.trim_start_matches('*').parse().unwrap_or(0);
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            line()?; // $len
            keys.push(line()?);
        }
        if !keys.is_empty() {
            let mut args = vec!["DEL"];
            args.extend(keys.iter().map(String::as_str));
            send(&args)?;
            deleted += line()?
                .trim_start_matches(':')
                .parse::<usize>()
                .unwrap_or(0);
        }
        if cursor == "0" {
            return Ok(deleted);
        }
    }
}
