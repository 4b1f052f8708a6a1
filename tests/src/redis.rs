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

/// The keys of one test's queue (`{prefix}:*` on the Redis at `url`, and its entries in
/// apalis's shared list of queues), deleted when dropped: once at once, and once more a moment
/// later, after the app's tasks (worker heartbeats) have stopped writing.
#[derive(Debug)]
pub struct PrefixCleanup {
    pub url: String,
    pub prefix: String,
}

impl Drop for PrefixCleanup {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let clean = move || {
            if let Err(e) = delete_prefix(&url, &prefix) {
                eprintln!("warning: could not delete the Redis keys {prefix}:*: {e}");
            }
        };
        clean();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            clean();
        });
    }
}

/// One RESP reply.
#[derive(Debug)]
enum Reply {
    Text(String),
    Int(i64),
    Nil,
    List(Vec<Reply>),
}

impl Reply {
    fn text(self) -> String {
        match self {
            Self::Text(t) => t,
            Self::Int(i) => i.to_string(),
            _ => String::new(),
        }
    }

    fn list(self) -> Vec<Reply> {
        match self {
            Self::List(l) => l,
            _ => Vec::new(),
        }
    }
}

/// A blocking RESP connection (`Drop` cannot await).
struct Resp {
    writer: std::net::TcpStream,
    reader: std::io::BufReader<std::net::TcpStream>,
}

impl Resp {
    fn connect(url: &str) -> std::io::Result<Self> {
        let stream = std::net::TcpStream::connect(host_port(url))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut resp = Self {
            writer: stream.try_clone()?,
            reader: std::io::BufReader::new(stream),
        };
        let rest = url.strip_prefix("redis://").unwrap_or(url);
        if let Some((creds, _)) = rest.rsplit_once('@') {
            let password = creds.rsplit(':').next().unwrap_or(creds);
            resp.call(&["AUTH", password])?;
        }
        if let Some(db) = rest
            .rsplit_once('/')
            .map(|(_, db)| db)
            .filter(|db| !db.is_empty())
        {
            resp.call(&["SELECT", db])?;
        }
        Ok(resp)
    }

    fn call(&mut self, args: &[&str]) -> std::io::Result<Reply> {
        use std::io::Write;
        let mut cmd = format!("*{}\r\n", args.len());
        for a in args {
            cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.writer.write_all(cmd.as_bytes())?;
        self.read()
    }

    fn read(&mut self) -> std::io::Result<Reply> {
        use std::io::{BufRead, Read};
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let line = line.trim_end();
        let bad = |what: &str| std::io::Error::other(format!("{what}: {line:?}"));
        let (kind, rest) = line.split_at(line.len().min(1));
        let n = || rest.parse::<i64>().map_err(|_| bad("not a number"));
        match kind {
            "+" => Ok(Reply::Text(rest.to_owned())),
            "-" => Err(bad("Redis refused")),
            ":" => Ok(Reply::Int(n()?)),
            "$" if n()? < 0 => Ok(Reply::Nil),
            "$" => {
                let mut buf = vec![0u8; usize::try_from(n()?).unwrap_or(0) + 2];
                self.reader.read_exact(&mut buf)?;
                buf.truncate(buf.len() - 2);
                Ok(Reply::Text(String::from_utf8_lossy(&buf).into_owned()))
            }
            "*" if n()? < 0 => Ok(Reply::Nil),
            "*" => (0..n()?)
                .map(|_| self.read())
                .collect::<Result<_, _>>()
                .map(Reply::List),
            _ => Err(bad("unexpected reply")),
        }
    }
}

/// Sends one command to the Redis at `url`; its integer reply (0 for a status reply).
pub fn int(url: &str, args: &[&str]) -> std::io::Result<i64> {
    match Resp::connect(url)?.call(args)? {
        Reply::Int(n) => Ok(n),
        Reply::Text(_) => Ok(0),
        other => Err(std::io::Error::other(format!("{args:?}: {other:?}"))),
    }
}

/// Sends one command to the Redis at `url`; its reply as a list of strings (`SMEMBERS`, …).
pub fn strings(url: &str, args: &[&str]) -> std::io::Result<Vec<String>> {
    Ok(Resp::connect(url)?
        .call(args)?
        .list()
        .into_iter()
        .map(Reply::text)
        .collect())
}

/// Deletes every key under `{prefix}:` (SCAN, then DEL) and the prefix's entries in apalis's
/// shared `core:apalis:queues:list`. Returns how many keys were deleted.
pub fn delete_prefix(url: &str, prefix: &str) -> std::io::Result<usize> {
    let mut redis = Resp::connect(url)?;
    let pattern = format!("{prefix}:*");
    let mut deleted = 0;
    let mut cursor = "0".to_owned();
    loop {
        let mut reply = redis
            .call(&["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"])?
            .list()
            .into_iter();
        cursor = reply.next().map(Reply::text).unwrap_or_default();
        let keys: Vec<String> = reply
            .next()
            .map(Reply::list)
            .unwrap_or_default()
            .into_iter()
            .map(Reply::text)
            .collect();
        if !keys.is_empty() {
            let mut args = vec!["DEL"];
            args.extend(keys.iter().map(String::as_str));
            if let Reply::Int(n) = redis.call(&args)? {
                deleted += usize::try_from(n).unwrap_or(0);
            }
        }
        if cursor == "0" || cursor.is_empty() {
            break;
        }
    }
    let mut cursor = "0".to_owned();
    loop {
        let mut reply = redis
            .call(&[
                "ZSCAN",
                "core:apalis:queues:list",
                &cursor,
                "MATCH",
                &pattern,
            ])?
            .list()
            .into_iter();
        cursor = reply.next().map(Reply::text).unwrap_or_default();
        let members: Vec<String> = reply
            .next()
            .map(Reply::list)
            .unwrap_or_default()
            .into_iter()
            .step_by(2)
            .map(Reply::text)
            .collect();
        if !members.is_empty() {
            let mut args = vec!["ZREM", "core:apalis:queues:list"];
            args.extend(members.iter().map(String::as_str));
            redis.call(&args)?;
        }
        if cursor == "0" || cursor.is_empty() {
            return Ok(deleted);
        }
    }
}
