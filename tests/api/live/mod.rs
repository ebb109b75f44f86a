//! The real-time resource (`hmis::live`) through a real WebSocket client
//! (tokio-tungstenite): frames answered as HTTP answers, sessions that end close the
//! socket, bad frames and foreign origins refused.

mod epochs;
mod fetch_then_follow;
mod longpoll;
mod me;
mod order;
mod requests;
mod resets;
mod resubscribe;
mod robustness;
mod sessions;
mod shared_key;
mod subscriptions;

use crate::helpers::TestApp;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The upgrade request for `app`'s socket, with `header: value` pairs added.
pub fn upgrade_request(
    app: &TestApp,
    headers: &[(&str, &str)],
) -> tungstenite::handshake::client::Request {
    let url = app.url("/api/v1/ws").replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    request
}

/// A socket authenticated with a bearer token.
pub async fn connect(app: &TestApp, token: &str) -> Ws {
    let bearer = format!("Bearer {token}");
    let request = upgrade_request(app, &[("authorization", &bearer)]);
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

pub async fn send(ws: &mut Ws, frame: &Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON frame, within 10 s.
pub async fn next_frame(ws: &mut Ws) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
                Some(Ok(Message::Close(c))) => panic!("closed: {c:?}"),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("a frame within 10 s")
}

/// Sends a request frame and returns its answer (frames of other IDs are skipped).
pub async fn ask(ws: &mut Ws, frame: Value) -> Value {
    send(ws, &frame).await;
    loop {
        let answer = next_frame(ws).await;
        if answer["id"] == frame["id"] {
            return answer;
        }
    }
}

/// The close code the server ends the socket with, within `seconds`.
pub async fn close_code(ws: &mut Ws, seconds: u64) -> Option<u16> {
    tokio::time::timeout(Duration::from_secs(seconds), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => {
                    return frame
                        .map(|f| u16::from(f.code))
                        .or(Some(u16::from(CloseCode::Status)));
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the socket stayed open {seconds} s"))
}

/// Changes a patient's village over HTTP (a change every topic of the patient sees).
pub async fn patch_village(app: &TestApp, id: &str, version: u32, village: &str) {
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/patients/{id}")))
        .header("if-match", format!("\"{version}\""))
        .json(&json!({"village": village}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
