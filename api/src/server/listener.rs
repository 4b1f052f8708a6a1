//! The accept loop: HTTP/1.1 connections under a cap, each with a header timeout, and a graceful
//! drain at shutdown.
//!
//! `axum::serve` has neither a header-read timeout nor a connection cap: a client that opens a
//! socket and sends nothing, or trickles its headers, held a connection (and a file descriptor)
//! for good. Here:
//! - at most `HTTP_MAX_CONNECTIONS` connections are open (WebSockets included: the upgraded
//!   socket keeps its [`ConnectionSlot`]); further clients wait in the listen backlog;
//! - at most `HTTP_MAX_CONNECTIONS_PER_IP` of them come from one client address: one more is
//!   closed at once, so that no single client can take every slot;
//! - a connection must deliver a request's headers within `HTTP_HEADER_TIMEOUT_SECONDS`, the
//!   first request and every later one on a kept-alive connection, so idle connections close
//!   after that long too;
//! - request bodies and execution are bounded by the GraphQL handler's own timeout, and
//!   responses by the operation limits (a response small enough for the socket's buffers is
//!   written whether or not the client reads it).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::config::HttpConfig;

/// One of the `HTTP_MAX_CONNECTIONS` slots, held for as long as its connection (or the
/// WebSocket upgraded from it) is open; the last clone to go gives the slot and the address's
/// count back.
#[derive(Debug, Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] Arc<Held>);

#[derive(Debug)]
struct Held {
    _permit: OwnedSemaphorePermit,
    per_ip: Option<(IpAddr, Arc<PerIp>)>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some((ip, counts)) = &self.per_ip {
            counts.release(*ip);
        }
    }
}

/// Open connections per client address.
#[derive(Debug, Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

impl PerIp {
    /// Counts one more connection from `ip`, unless it already has `cap`.
    fn admit(&self, ip: IpAddr, cap: usize) -> bool {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(ip).or_insert(0);
        if *n >= cap {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, ip: IpAddr) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `stopping` turns true, then lets open connections finish
/// their current request for at most `grace`. Returns whether every connection closed in time.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    http: HttpConfig,
    stopping: watch::Receiver<bool>,
    grace: Duration,
) -> bool {
    let slots = Arc::new(Semaphore::new(http.max_connections));
    let per_ip = Arc::new(PerIp::default());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_timeout)
        .keep_alive(true);
    let stop = wait_true(stopping.clone());
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            () = &mut stop => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let counted = match http.max_connections_per_ip {
            0 => None,
            cap if per_ip.admit(peer.ip(), cap) => Some((peer.ip(), per_ip.clone())),
            _ => {
                tracing::debug!(%peer, "too many connections from one address; closed");
                continue;
            }
        };
        stream.set_nodelay(true).ok();
        let slot = ConnectionSlot(Arc::new(Held {
            _permit: slot,
            per_ip: counted,
        }));
        let service = router.clone().map_request(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(slot.clone());
                request
            },
        );
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let outcome = tokio::select! {
                outcome = connection.as_mut() => outcome,
                () = wait_true(stopping) => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = outcome {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    // Every slot back means every connection (and WebSocket) has closed.
    let all = u32::try_from(http.max_connections).unwrap_or(u32::MAX);
    tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_ok()
}

/// Resolves once the flag is true.
pub async fn wait_true(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}
