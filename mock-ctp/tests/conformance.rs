//! PROTOCOL.md's examples, driven on the raw wire: every ```` ```wire ```` block of the page is
//! a conversation with a fresh front (seed 7, trading day 20240126), so the page cannot
//! promise what the front does not do. A block's lines:
//!
//! - `> {json}`: a frame the client sends (the first is a `Hello`, which picks the front);
//! - `< {json}`: a frame the front must send next, `Heartbeat`s aside; it matches when every
//!   field the page shows has the page's value (`"*"`: any value), so the page may leave
//!   fields out;
//! - `admin METHOD PATH [json] -> STATUS [json]`: a call to the admin API and its answer,
//!   matched the same way;
//! - `# ...`: a comment.

mod common;

use common::*;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const PAGE: &str = include_str!("../PROTOCOL.md");

/// The ```wire blocks of the page, each with the line it starts on.
fn blocks(page: &str) -> Vec<(usize, Vec<(usize, String)>)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<(usize, String)>)> = None;
    for (i, line) in page.lines().enumerate() {
        let n = i + 1;
        match (&mut current, line.trim()) {
            (None, "```wire") => current = Some((n, Vec::new())),
            (Some(_), "```") => out.extend(current.take()),
            (Some((_, lines)), l) if !l.is_empty() && !l.starts_with('#') => {
                lines.push((n, l.to_owned()))
            }
            _ => {}
        }
    }
    assert!(
        current.is_none(),
        "PROTOCOL.md: a ```wire block is not closed"
    );
    out
}

/// Whether `actual` has every field of `expected` with its value (`"*"` matches anything).
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == "*" => !actual.is_null(),
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        _ => expected == actual,
    }
}

fn json(line: usize, text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("PROTOCOL.md line {line}: not JSON ({e}): {text}"))
}

async fn read_frame(s: &mut TcpStream) -> Option<Value> {
    let mut len = [0u8; 4];
    tokio::time::timeout(WAIT, s.read_exact(&mut len))
        .await
        .ok()?
        .ok()?;
    let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).await.ok()?;
    Some(serde_json::from_slice(&buf).expect("the front sends JSON"))
}

async fn admin_call(srv: &mock_ctp::server::MockServer, at: usize, spec: &str) {
    let (call, answer) = spec
        .split_once("->")
        .unwrap_or_else(|| panic!("PROTOCOL.md line {at}: `admin` without `-> STATUS`"));
    let mut call = call.trim().splitn(3, ' ');
    let (method, path) = (call.next().unwrap(), call.next().unwrap());
    let body = call.next().map(|b| json(at, b));
    let mut answer = answer.trim().splitn(2, ' ');
    let status: u16 = answer.next().unwrap().parse().unwrap();
    let expected = answer.next().map(|b| json(at, b));
    let client = reqwest::Client::new();
    let mut request = match method {
        "GET" => client.get(admin(srv, path)),
        "POST" => client.post(admin(srv, path)),
        other => panic!("PROTOCOL.md line {at}: method {other}"),
    }
    .bearer_auth(TOKEN);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let r = request.send().await.expect("admin answers");
    assert_eq!(r.status().as_u16(), status, "PROTOCOL.md line {at}: {spec}");
    let got: Value = r.json().await.unwrap_or(Value::Null);
    if let Some(e) = expected {
        assert!(
            matches(&e, &got),
            "PROTOCOL.md line {at}: the admin API answered {got}"
        );
    }
}

/// The helpers above are the whole client: nothing of the crate's client library is used, so
/// the page alone must be enough to talk to the front.
#[tokio::test]
async fn every_wire_example_of_the_protocol_page_holds() {
    let all = blocks(PAGE);
    assert!(all.len() >= 3, "PROTOCOL.md has its conversations");
    for (start, lines) in all {
        let srv = server().await;
        let mut conn: Option<TcpStream> = None;
        for (at, line) in lines {
            if let Some(spec) = line.strip_prefix("admin ") {
                admin_call(&srv, at, spec).await;
            } else if let Some(text) = line.strip_prefix("> ") {
                let frame = json(at, text);
                if conn.is_none() {
                    let addr = match frame["body"]["Front"].as_str() {
                        Some("md") => srv.md_addr,
                        _ => srv.trade_addr,
                    };
                    conn = Some(TcpStream::connect(addr).await.unwrap());
                }
                write_frame(conn.as_mut().unwrap(), text.as_bytes()).await;
            } else if let Some(text) = line.strip_prefix("< ") {
                let expected = json(at, text);
                let s = conn
                    .as_mut()
                    .unwrap_or_else(|| panic!("PROTOCOL.md line {at}: nothing sent yet"));
                loop {
                    let got = read_frame(s).await.unwrap_or_else(|| {
                        panic!("PROTOCOL.md line {at} (block at {start}): no frame came for {text}")
                    });
                    if got["msg"] == "Heartbeat" && expected["msg"] != "Heartbeat" {
                        continue;
                    }
                    assert!(
                        matches(&expected, &got),
                        "PROTOCOL.md line {at} (block at {start}): expected {text}\n got {got}"
                    );
                    break;
                }
            } else {
                panic!("PROTOCOL.md line {at}: a wire line starts with >, < or admin: {line}");
            }
        }
        srv.shutdown().await;
    }
}

#[test]
fn the_matcher_is_strict_where_the_page_is() {
    let got = serde_json::json!({"msg":"RtnOrder","body":{"SeqNo":3,"Field":{"OrderStatus":"0","OrderRef":"1"}}});
    assert!(matches(
        &serde_json::json!({"msg":"RtnOrder","body":{"SeqNo":3,"Field":{"OrderStatus":"0"}}}),
        &got
    ));
    assert!(matches(&serde_json::json!({"body":{"SeqNo":"*"}}), &got));
    assert!(!matches(&serde_json::json!({"body":{"SeqNo":4}}), &got));
    assert!(!matches(
        &serde_json::json!({"body":{"Field":{"OrderSysID":"*"}}}),
        &got
    ));
}
