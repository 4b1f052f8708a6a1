//! The accept loop: HTTP/1.1 connections under a cap, each with a header timeout, and a graceful
//! drain at shutdown.
//!
//! `axum::serve` has neither a header-read timeout nor a connection cap: a client that opens a
//! socket and sends nothing, or trickles its headers, held a connection (and a file descriptor)
//! for good. Here:
//! - at most `HTTP_MAX_CONNECTIONS` connections are open (WebSockets included: the upgraded
//!   socket keeps its [`ConnectionSlot`]); further clients wait in the listen backlog;
//! - a connection must deliver a request's headers within `HTTP_HEADER_TIMEOUT_SECONDS`, the
//!   first request and every later one on a kept-alive connection, so idle connections close
//!   after that long too;
//! - bodies and execution are bounded by the GraphQL handler's own timeout.

use std::sync::Arc;
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
/// WebSocket upgraded from it) is open.
#[derive(Debug, Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

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
        stream.set_nodelay(true).ok();
        let slot = ConnectionSlot(Arc::new(slot));
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
