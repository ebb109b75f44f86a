//! What a socket receives, parsed with every refusal naming its field, and the REST
//! answer to a request frame: built into an HTTP request carrying the socket's session
//! as a bearer token and sent through a clone of the API router with `oneshot`, so that
//! a frame is authorized, audited and answered exactly as the same HTTP request.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use tower::ServiceExt;

/// Larger answers (planners' result sets) are for HTTP, which streams them.
const MAX_ANSWER_BYTES: usize = 4 << 20;
/// Request headers a frame may set; the rest (credentials, host) are the socket's.
const FRAME_HEADERS: [&str; 3] = ["if-match", "if-none-match", "accept-language"];

/// A frame that cannot be served, and which of its fields is wrong.
#[derive(Debug)]
pub struct Refusal {
    pub id: Value,
    pub field: &'static str,
    pub reason: String,
}

impl Refusal {
    pub fn frame(&self) -> Value {
        json!({"type": "error", "id": self.id, "field": self.field, "reason": self.reason})
    }
}

/// A REST request over the socket.
#[derive(Debug)]
pub struct Ask {
    pub id: Value,
    method: Method,
    uri: Uri,
    body: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Everything a client may send.
#[derive(Debug)]
pub enum Incoming {
    Ask(Ask),
    Subscribe {
        id: Value,
        topics: Vec<String>,
        cursor: Option<String>,
    },
    Unsubscribe {
        id: Value,
        topics: Vec<String>,
    },
}

pub fn parse(text: &str) -> Result<Incoming, Refusal> {
    let refuse = |id: &Value, field, reason: &str| Refusal {
        id: id.clone(),
        field,
        reason: reason.to_owned(),
    };
    let Ok(Value::Object(frame)) = serde_json::from_str::<Value>(text) else {
        return Err(refuse(&Value::Null, "frame", "not a JSON object"));
    };
    let id = frame.get("id").cloned().unwrap_or(Value::Null);
    if let Some(kind) = frame.get("type") {
        return typed(kind, &frame, id);
    }
    if id.is_null() {
        return Err(refuse(
            &id,
            "id",
            "required: any JSON value, echoed in the answer",
        ));
    }
    for key in frame.keys() {
        if !matches!(key.as_str(), "id" | "method" | "path" | "body" | "headers") {
            return Err(refuse(&id, "frame", &format!("unknown field \"{key}\"")));
        }
    }
    let method = match frame.get("method").and_then(Value::as_str) {
        Some(m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")) => {
            Method::from_bytes(m.as_bytes()).expect("a known method")
        }
        _ => {
            return Err(refuse(
                &id,
                "method",
                "one of GET, POST, PUT, PATCH, DELETE",
            ));
        }
    };
    let uri = path(&frame).map_err(|reason| refuse(&id, "path", reason))?;
    let headers = headers(&frame).map_err(|reason| refuse(&id, "headers", &reason))?;
    let body = frame.get("body").filter(|b| !b.is_null()).cloned();
    Ok(Incoming::Ask(Ask {
        id,
        method,
        uri,
        body,
        headers,
    }))
}

/// `subscribe` and `unsubscribe`.
fn typed(kind: &Value, frame: &Map<String, Value>, id: Value) -> Result<Incoming, Refusal> {
    let refuse = |field, reason: &str| Refusal {
        id: id.clone(),
        field,
        reason: reason.to_owned(),
    };
    let subscribe = match kind.as_str() {
        Some("subscribe") => true,
        Some("unsubscribe") => false,
        _ => return Err(refuse("type", &format!("unknown frame type {kind}"))),
    };
    for key in frame.keys() {
        if !matches!(key.as_str(), "type" | "id" | "topics" | "cursor") {
            return Err(refuse("frame", &format!("unknown field \"{key}\"")));
        }
    }
    let topics: Option<Vec<String>> = frame
        .get("topics")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|t| t.as_str().map(str::to_owned)).collect());
    let topics = topics
        .filter(|t| !t.is_empty())
        .ok_or_else(|| refuse("topics", "required: a non-empty list of topic names"))?;
    let cursor = match frame.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) if subscribe => Some(c.clone()),
        Some(_) => return Err(refuse("cursor", "a cursor string, only on subscribe")),
    };
    Ok(if subscribe {
        Incoming::Subscribe { id, topics, cursor }
    } else {
        Incoming::Unsubscribe { id, topics }
    })
}

fn path(frame: &Map<String, Value>) -> Result<Uri, &'static str> {
    let raw = frame
        .get("path")
        .and_then(Value::as_str)
        .ok_or("required: a path under /api/v1/, with its query")?;
    if !raw.starts_with("/api/v1/") || raw.starts_with("/api/v1/ws") {
        return Err("must be a path under /api/v1/ (and not the socket itself)");
    }
    raw.parse::<Uri>()
        .ok()
        .filter(|u| u.scheme().is_none() && u.path() == raw.split('?').next().unwrap_or(raw))
        .ok_or("not a valid path and query")
}

fn headers(frame: &Map<String, Value>) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    let Some(given) = frame.get("headers").filter(|h| !h.is_null()) else {
        return Ok(Vec::new());
    };
    let given = given
        .as_object()
        .ok_or("an object of header names to strings")?;
    let mut out = Vec::with_capacity(given.len());
    for (name, value) in given {
        let lower = name.to_ascii_lowercase();
        if !FRAME_HEADERS.contains(&lower.as_str()) {
            return Err(format!(
                "\"{name}\" cannot be set (only {})",
                FRAME_HEADERS.join(", ")
            ));
        }
        let value = value
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
            .ok_or_else(|| format!("\"{name}\" must be a plain string"))?;
        out.push((
            HeaderName::from_bytes(lower.as_bytes()).expect("a known name"),
            value,
        ));
    }
    Ok(out)
}

/// Who the socket is: what every request it carries is sent as.
#[derive(Clone)]
pub struct Origin {
    pub token: String,
    pub host: Option<HeaderValue>,
    pub peer: Option<SocketAddr>,
}

/// The REST answer to `ask`, or why it cannot travel over the socket.
pub async fn answer(api: Router, ask: Ask, origin: &Origin) -> Result<Value, Refusal> {
    let mut request = axum::http::Request::builder()
        .method(ask.method)
        .uri(ask.uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", origin.token));
    if let Some(host) = &origin.host {
        request = request.header(header::HOST, host);
    }
    for (name, value) in ask.headers {
        request = request.header(name, value);
    }
    let body = match &ask.body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(body).expect("JSON serializes"))
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).expect("a request of checked parts");
    if let Some(peer) = origin.peer {
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    let response = match api.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ANSWER_BYTES)
        .await
        .map_err(|_| Refusal {
            id: ask.id.clone(),
            field: "path",
            reason: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes: ask over HTTP"),
        })?;
    Ok(json!({
        "id": ask.id,
        "status": parts.status.as_u16(),
        "headers": header_map(&parts.headers),
        "body": body_value(&parts.headers, &bytes),
    }))
}

fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        if name == header::CONTENT_LENGTH {
            continue;
        }
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        out.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
    }
    out
}

/// JSON answers as JSON; anything else as text; no body as null.
fn body_value(headers: &HeaderMap, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if json && let Ok(value) = serde_json::from_slice(bytes) {
        return value;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}
