//! Subscriptions over WebSocket (`graphql-transport-ws`, or the older `graphql-ws`) on
//! `/graphql/ws`, under the same limits as HTTP: a message is at most `HTTP_MAX_BODY_BYTES`,
//! the client must send `connection_init` within `WS_INIT_TIMEOUT_SECONDS` (else the socket is
//! closed with 4408, as graphql-transport-ws prescribes), the socket counts as one of the
//! `HTTP_MAX_CONNECTIONS`, and it is closed (1001) when the server shuts down.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};

use super::HttpState;
use super::listener::{ConnectionSlot, wait_true};
use crate::graphql::context::{ClientAddr, RequestAuth};

/// graphql-transport-ws: "Connection initialisation timeout".
const INIT_TIMEOUT_CODE: u16 = 4408;
/// RFC 6455: the server is going away.
const GOING_AWAY: u16 = 1001;

/// The token comes in the `connection_init` payload as `{"Authorization": "Bearer <token>"}`.
pub(super) async fn graphql_ws(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Extension(slot): Extension<ConnectionSlot>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let limit = state.app.config.http.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            session(socket, state, protocol, ClientAddr(peer.ip())).await;
        })
}

async fn session(
    socket: WebSocket,
    state: HttpState,
    protocol: GraphQLProtocol,
    client: ClientAddr,
) {
    let http = state.app.config.http;
    let (mut sink, stream) = socket.split();
    // The protocol writes into a channel, so that this function keeps the socket's sink and
    // can close it itself (init timeout, shutdown).
    let (outgoing, mut to_send) = futures::channel::mpsc::channel::<Message>(16);
    let (initialised, init_seen) = tokio::sync::oneshot::channel::<()>();
    let app = state.app.clone();
    let protocol_task = GraphQLWebSocket::new_with_pair(
        outgoing.sink_map_err(axum::Error::new),
        stream,
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
        data.insert(RequestAuth::from_header(header.as_deref(), &app));
        data.insert(client);
        Ok(data)
    })
    .serve();
    let forward = async {
        while let Some(message) = to_send.next().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
    };
    let run = async {
        tokio::pin!(protocol_task);
        let stopping = wait_true(state.stopping.clone());
        tokio::pin!(stopping);
        tokio::select! {
            () = &mut protocol_task => None,
            () = &mut stopping => Some((GOING_AWAY, "the server is shutting down")),
            init = tokio::time::timeout(http.ws_init_timeout, init_seen) => match init {
                Err(_) => Some((INIT_TIMEOUT_CODE, "Connection initialisation timeout")),
                Ok(_) => tokio::select! {
                    () = &mut protocol_task => None,
                    () = &mut stopping => Some((GOING_AWAY, "the server is shutting down")),
                },
            },
        }
        // Dropping the protocol task here drops the channel's sender, which ends `forward`.
    };
    let (close, ()) = tokio::join!(run, forward);
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
}
