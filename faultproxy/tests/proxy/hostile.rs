//! Hostile input on the fault proxy's API port: bytes that are not HTTP, a body far over the
//! limit, a header line of a megabyte, bad JSON, and connections left half open. Each gets an
//! error or a closed connection for itself only; meanwhile another client keeps reading the
//! API and sending through a proxied link, and sees no error.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{round_trip, start};

/// Connections left half open (an incomplete request) while the other client works.
const HALF_OPEN: usize = 64;

/// Writes `bytes` on a fresh connection to `addr` and reads the answer until the server closes
/// or 2 s pass; a reset while writing counts as the server refusing.
async fn send_raw(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect to the api");
    let _ = s.write_all(bytes).await;
    let mut back = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut back)).await;
    back
}

fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_do_not_disturb_another_client() {
    let (server, echo) = start(31).await;
    let api = server.local_addr();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let base = server.url();
    let created: Value = http
        .post(format!("{base}/proxies"))
        .body(
            json!({"name": "p", "listen": "127.0.0.1:0", "upstream": echo.to_string()}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listen = created["listen"].as_str().unwrap().to_owned();

    let mut held = Vec::with_capacity(HALF_OPEN);
    for i in 0..HALF_OPEN {
        let mut s = TcpStream::connect(api).await.unwrap();
        let part: &[u8] = if i % 2 == 0 {
            b"POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na"
        } else {
            b"GET /proxies HTTP/1.1\r\nHo"
        };
        s.write_all(part).await.unwrap();
        held.push(s);
    }

    // The other client: the API and the proxied link, every 25 ms, for about 4 s.
    let worker = {
        let (http, base, listen) = (http.clone(), base.clone(), listen.clone());
        tokio::spawn(async move {
            let mut errors = Vec::new();
            let mut link = TcpStream::connect(&listen).await.unwrap();
            let mut tick = tokio::time::interval(Duration::from_millis(25));
            for i in 0..160 {
                tick.tick().await;
                match http.get(format!("{base}/proxies/p")).send().await {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => errors.push(format!("{i}: GET /proxies/p answered {}", r.status())),
                    Err(e) => errors.push(format!("{i}: GET /proxies/p: {e}")),
                }
                if let Err(e) = round_trip(&mut link, format!("ping {i}\n").as_bytes()).await {
                    errors.push(format!("{i}: the proxied link: {e}"));
                }
            }
            errors
        })
    };

    for _ in 0..3 {
        // Not HTTP: a 400 or a closed connection.
        let answer = send_raw(api, &[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01].repeat(200)).await;
        assert!(
            matches!(status_of(&answer), None | Some(400)),
            "garbage was answered {:?}",
            String::from_utf8_lossy(&answer)
        );
        // A body of 8 MiB: 413 (axum's 2 MiB limit) or the connection closed while sending.
        let big = http
            .post(format!("{base}/proxies"))
            .body(vec![b'{'; 8 << 20])
            .send()
            .await;
        // The server may answer and close before the client has written it all (a broken
        // pipe on the client's side): refused either way.
        match big {
            Ok(r) => assert_eq!(r.status(), 413, "an 8 MiB body"),
            Err(e) => assert!(e.is_request(), "an 8 MiB body: {e}"),
        }
        // A header line of a megabyte: 431 (hyper's header limit).
        let mut request = b"GET /proxies HTTP/1.1\r\nX-Junk: ".to_vec();
        request.extend(std::iter::repeat_n(b'a', 1 << 20));
        request.extend_from_slice(b"\r\n\r\n");
        let answer = send_raw(api, &request).await;
        assert!(
            status_of(&answer) == Some(431),
            "a 1 MiB header was answered {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(200)])
        );
        // Bad JSON: Toxiproxy's error shape.
        let r = http
            .post(format!("{base}/proxies/p/toxics"))
            .body(vec![0xffu8, 0xfe, b'{'])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], json!(400), "{body}");
    }

    let errors = worker.await.unwrap();
    drop(held);
    assert!(
        errors.is_empty(),
        "the other client saw {} errors: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    let after = http.get(format!("{base}/proxies")).send().await.unwrap();
    assert_eq!(after.status(), 200);
    server.shutdown().await;
}
