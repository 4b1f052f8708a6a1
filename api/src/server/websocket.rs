//! Subscriptions over WebSocket (`graphql-transport-ws`, or the older `graphql-ws`) on
//! `/graphql/ws`, under limits of their own beside the HTTP ones:
//! - at most `WS_MAX_CONNECTIONS` sockets (a share of `HTTP_MAX_CONNECTIONS`, so sockets never
//!   take every slot from plain requests; 503 past it), each counting as one connection of its
//!   client address;
//! - a message is at most `HTTP_MAX_BODY_BYTES`; every operation is measured like an HTTP one;
//! - `connection_init` within `WS_INIT_TIMEOUT_SECONDS`, else the socket is closed with 4408
//!   (as graphql-transport-ws prescribes);
//! - at most `WS_MAX_OPERATIONS` operations at once (4400 past it), and a socket with none
//!   running for `WS_IDLE_TIMEOUT_SECONDS` is closed (1000), so idle sockets cannot hold slots;
//! - a message the client does not take within [`WRITE_TIMEOUT`] closes the socket;
//! - the socket is closed (1001) when the server shuts down.
//!
//! Operations over a socket are bounded by those limits, not by `HTTP_REQUEST_TIMEOUT_SECONDS`:
//! a subscription lives as long as what it follows.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;

use super::HttpState;
use super::listener::{ConnectionSlot, wait_true};
use crate::graphql::context::{ClientAddr, RequestAuth};

/// graphql-transport-ws: "Connection initialisation timeout".
const INIT_TIMEOUT: u16 = 4408;
/// graphql-transport-ws's code for a message the server will not take.
const TOO_MANY_OPERATIONS: u16 = 4400;
/// RFC 6455: normal closure (idle), and the server going away.
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
/// Longest wait for the client to take one message.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The token comes in the `connection_init` payload as `{"Authorization": "Bearer <token>"}`.
pub(super) async fn graphql_ws(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Extension(slot): Extension<ConnectionSlot>,
    headers: axum::http::HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !super::edge::origin_allowed(&headers, &state.app.config.cors) {
        let body = axum::Json(serde_json::json!({ "errors": [{
            "message": "this origin may not open a WebSocket here (CORS_ALLOWED_ORIGINS)",
            "extensions": { "code": "FORBIDDEN" } }] }));
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    let Ok(socket_slot) = state.ws_slots.clone().try_acquire_owned() else {
        let body = axum::Json(serde_json::json!({ "errors": [{
            "message": "too many WebSocket connections; try again shortly",
            "extensions": { "code": "RATE_LIMITED" } }] }));
        return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    };
    let limit = state.app.config.http.max_body_bytes;
    let client = state.rate.client(peer, &headers);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            let _held = (slot, socket_slot);
            session(socket, state, protocol, ClientAddr(client)).await;
        })
}

/// The operations running on one socket, and since when none has been.
#[derive(Debug)]
struct Operations {
    running: HashSet<String>,
    idle_since: Option<Instant>,
}

impl Operations {
    /// Notes a protocol message (`from_client` or from the server); false when the client has
    /// started more operations than `max`.
    fn observe(&mut self, text: &str, from_client: bool, max: usize) -> bool {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "type")]
            kind: String,
            id: Option<String>,
        }
        let Ok(Envelope { kind, id: Some(id) }) = serde_json::from_str::<Envelope>(text) else {
            return true;
        };
        match (from_client, kind.as_str()) {
            (true, "subscribe" | "start") => {
                self.running.insert(id);
            }
            (true, "complete" | "stop") | (false, "complete" | "error") => {
                self.running.remove(&id);
            }
            _ => {}
        }
        self.idle_since = self.running.is_empty().then(Instant::now);
        self.running.len() <= max
    }
}

async fn session(
    socket: WebSocket,
    state: HttpState,
    protocol: GraphQLProtocol,
    client: ClientAddr,
) {
    let http = state.app.config.http;
    let operations = Arc::new(Mutex::new(Operations {
        running: HashSet::new(),
        idle_since: Some(Instant::now()),
    }));
    let (too_many_tx, too_many) = tokio::sync::watch::channel(false);
    let (mut sink, stream) = socket.split();
    let watched = {
        let operations = operations.clone();
        stream.inspect(move |message| {
            if let Ok(Message::Text(text)) = message {
                let ok = operations
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .observe(text, true, http.ws_max_operations);
                if !ok {
                    let _ = too_many_tx.send(true);
                }
            }
        })
    };
    // The protocol writes into a channel, so that this function keeps the socket's sink and
    // can close it itself (timeouts, limits, shutdown).
    let (outgoing, mut to_send) = futures::channel::mpsc::channel::<Message>(16);
    let (initialised, init_seen) = tokio::sync::oneshot::channel::<()>();
    let app = state.app.clone();
    let protocol_task = GraphQLWebSocket::new_with_pair(
        outgoing.sink_map_err(axum::Error::new),
        watched,
        state.schema.clone(),
        protocol,
    )
    .on_connection_init(move |payload| async move {
        let _ = initialised.send(());
        let header = payload
            .get("Authorization")
            .or_else(|| payload.get("authorization"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let mut data = async_graphql::Data::default();
        data.insert(RequestAuth::for_connection(header.as_deref(), &app));
        data.insert(client);
        Ok(data)
    })
    .serve();
    let forward = async {
        while let Some(message) = to_send.next().await {
            if let Message::Text(text) = &message {
                operations
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .observe(text, false, usize::MAX);
            }
            match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return false,
            }
        }
        true
    };
    let idle = async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let since = operations
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .idle_since;
            if since.is_some_and(|s| s.elapsed() >= http.ws_idle_timeout) {
                return;
            }
        }
    };
    let run = async {
        tokio::pin!(protocol_task);
        let stopping = wait_true(state.stopping.clone());
        tokio::pin!(stopping);
        let limited = wait_true(too_many);
        tokio::pin!(limited);
        tokio::pin!(idle);
        let initialised = async {
            if tokio::time::timeout(http.ws_init_timeout, init_seen)
                .await
                .is_err()
            {
                return;
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            () = &mut protocol_task => None,
            () = &mut stopping => Some((GOING_AWAY, "the server is shutting down")),
            () = initialised => Some((INIT_TIMEOUT, "Connection initialisation timeout")),
            () = &mut limited => Some((TOO_MANY_OPERATIONS, "too many operations at once on one socket")),
            () = &mut idle => Some((NORMAL, "idle: no operation running")),
        }
        // Dropping the protocol task here drops the channel's sender, which ends `forward`.
    };
    let close = {
        tokio::pin!(run);
        tokio::pin!(forward);
        tokio::select! {
            close = &mut run => {
                // The protocol is gone: send what it queued, then the close frame, if the
                // client still takes messages.
                let writable = forward.await;
                close.filter(|_| writable)
            }
            // The client is gone or does not read: nothing more can be sent.
            _ = &mut forward => None,
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
    }
}
