//! The HTTP API spoken directly: status codes and error bodies as Toxiproxy's, partial
//! updates, populate, and the toxics neither client crate can create (reset_peer, slicer,
//! slow_close).

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{ms, read_to_end_within, round_trip, start};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(server: &faultproxy::Server) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: server.url(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{}", self.base, path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("api reachable");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn raw(&self, path: &str, body: &'static str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{}", self.base, path))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn assert_error(got: (u16, Value), status: u16, mentions: &str) {
    assert_eq!(got.0, status, "{got:?}");
    assert_eq!(got.1["status"], json!(status), "{got:?}");
    let message = got.1["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains(mentions),
        "error {message:?} should mention {mentions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_toxiproxy_shaped() {
    let (server, echo) = start(21).await;
    let api = Api::new(&server);
    let proxy = json!({"name": "p", "listen": "127.0.0.1:0", "upstream": echo.to_string()});
    let (status, created) = api.call("POST", "/proxies", Some(proxy.clone())).await;
    assert_eq!(status, 201);
    assert_eq!(created["toxics"], json!([]));
    assert_eq!(created["enabled"], json!(true));
    assert_error(
        api.call("POST", "/proxies", Some(proxy)).await,
        409,
        "already exists",
    );
    assert_error(
        api.call("GET", "/proxies/nope", None).await,
        404,
        "proxy not found",
    );
    assert_error(
        api.call("DELETE", "/proxies/nope", None).await,
        404,
        "proxy not found",
    );
    assert_error(
        api.raw("/proxies", "{not json").await,
        400,
        "bad request body",
    );
    assert_error(
        api.call("POST", "/proxies", Some(json!({"listen": "127.0.0.1:0"})))
            .await,
        400,
        "name",
    );
    let toxics = "/proxies/p/toxics";
    assert_error(
        api.call("POST", toxics, Some(json!({"type": "gremlin"})))
            .await,
        400,
        "gremlin",
    );
    let negative = json!({"type": "latency", "attributes": {"latency": -5}});
    assert_error(
        api.call("POST", toxics, Some(negative)).await,
        400,
        "latency",
    );
    assert_error(
        api.call(
            "POST",
            toxics,
            Some(json!({"type": "latency", "toxicity": 2})),
        )
        .await,
        400,
        "toxicity",
    );
    assert_error(
        api.call("GET", "/proxies/p/toxics/nope", None).await,
        404,
        "toxic not found",
    );
    let ok = json!({"type": "latency", "attributes": {"latency": 5}});
    let (status, toxic) = api.call("POST", toxics, Some(ok.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(
        toxic,
        json!({"name": "latency_downstream", "type": "latency", "stream": "downstream",
               "toxicity": 1.0, "attributes": {"latency": 5, "jitter": 0}})
    );
    assert_error(
        api.call("POST", toxics, Some(ok)).await,
        409,
        "toxic already exists",
    );
    let (status, updated) = api
        .call(
            "PATCH",
            "/proxies/p/toxics/latency_downstream",
            Some(json!({"attributes": {"jitter": 2}})),
        )
        .await;
    assert_eq!(
        (status, updated["attributes"].clone()),
        (200, json!({"latency": 5, "jitter": 2}))
    );
    assert_eq!(
        api.call("DELETE", "/proxies/p/toxics/latency_downstream", None)
            .await
            .0,
        204
    );
    assert_error(
        api.call("DELETE", "/proxies/p/toxics/latency_downstream", None)
            .await,
        404,
        "toxic not found",
    );
    let (status, version) = api.call("GET", "/version", None).await;
    assert_eq!(status, 200);
    assert!(version["version"].is_string());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_updates_and_populate() -> anyhow::Result<()> {
    let (server, echo) = start(22).await;
    let api = Api::new(&server);
    let body = json!([{"name": "a", "listen": "127.0.0.1:0", "upstream": echo.to_string()},
                      {"name": "b", "listen": "127.0.0.1:0", "upstream": echo.to_string(), "enabled": false}]);
    let (status, populated) = api.call("POST", "/populate", Some(body)).await;
    assert_eq!(status, 201, "{populated}");
    let listen = populated["proxies"][0]["listen"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(populated["proxies"][1]["enabled"], json!(false));

    let (status, a) = api
        .call("PATCH", "/proxies/a", Some(json!({"enabled": false})))
        .await;
    assert_eq!(
        (status, a["enabled"].clone(), a["listen"].clone()),
        (200, json!(false), json!(listen))
    );
    assert!(TcpStream::connect(&listen).await.is_err());
    let (status, a) = api
        .call("POST", "/proxies/a", Some(json!({"enabled": true})))
        .await;
    assert_eq!(
        (status, a["upstream"].clone()),
        (200, json!(echo.to_string()))
    );
    round_trip(&mut TcpStream::connect(&listen).await?, b"hi").await?;

    // Populating again with the same address keeps the proxy and its toxics.
    api.call(
        "POST",
        "/proxies/a/toxics",
        Some(json!({"type": "latency", "attributes": {"latency": 1}})),
    )
    .await;
    let again = json!([{"name": "a", "listen": listen, "upstream": echo.to_string()}]);
    let (status, populated) = api.call("POST", "/populate", Some(again)).await;
    assert_eq!(status, 201);
    assert_eq!(
        populated["proxies"][0]["toxics"].as_array().map(Vec::len),
        Some(1)
    );

    assert_eq!(api.call("POST", "/reset", None).await.0, 204);
    let (_, all) = api.call("GET", "/proxies", None).await;
    assert_eq!(all["b"]["enabled"], json!(true));
    assert_eq!(all["a"]["toxics"], json!([]));
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_peer_resets_the_connection() -> anyhow::Result<()> {
    let (server, echo) = start(23).await;
    let api = Api::new(&server);
    let (_, proxy) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "r", "listen": "127.0.0.1:0", "upstream": echo.to_string()})),
        )
        .await;
    let mut conn = TcpStream::connect(proxy["listen"].as_str().unwrap()).await?;
    round_trip(&mut conn, b"fine").await?;
    let reset = json!({"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 50}});
    assert_eq!(
        api.call("POST", "/proxies/r/toxics", Some(reset)).await.0,
        200
    );
    conn.write_all(b"doomed").await?;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf)).await?;
    let err = read.expect_err("reset_peer let the connection live");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fired_reset_peer_resets_even_when_removed_before_its_timeout() -> anyhow::Result<()> {
    let (server, echo) = start(25).await;
    let api = Api::new(&server);
    let (_, proxy) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "r2", "listen": "127.0.0.1:0", "upstream": echo.to_string()})),
        )
        .await;
    let mut conn = TcpStream::connect(proxy["listen"].as_str().unwrap()).await?;
    round_trip(&mut conn, b"fine").await?;
    let reset = json!({"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 300}});
    let (status, toxic) = api.call("POST", "/proxies/r2/toxics", Some(reset)).await;
    assert_eq!(status, 200);
    conn.write_all(b"swallowed").await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let name = toxic["name"].as_str().unwrap().to_owned();
    let path = format!("/proxies/r2/toxics/{name}");
    assert_eq!(api.call("DELETE", &path, None).await.0, 204);
    // The swallowed data is gone: going on without it would leave the client waiting for an
    // answer that never comes, so the connection is reset, as Toxiproxy does.
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf)).await?;
    let err = read.expect_err("the connection lived on without the swallowed data");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slicer_and_slow_close() -> anyhow::Result<()> {
    let (server, echo) = start(24).await;
    let api = Api::new(&server);
    let (_, proxy) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "s", "listen": "127.0.0.1:0", "upstream": echo.to_string()})),
        )
        .await;
    let listen = proxy["listen"].as_str().unwrap().to_owned();
    let slicer = json!({"type": "slicer", "attributes": {"average_size": 2, "size_variation": 1, "delay": 5000}});
    assert_eq!(
        api.call("POST", "/proxies/s/toxics", Some(slicer)).await.0,
        200
    );
    let mut conn = TcpStream::connect(&listen).await?;
    let took = round_trip(&mut conn, &[5u8; 40]).await?;
    // About 20 slices 5 ms apart.
    assert!(
        (60..1000).contains(&ms(took)),
        "sliced 40 bytes took {took:?}"
    );
    api.call("DELETE", "/proxies/s/toxics/slicer_downstream", None)
        .await;

    let slow = json!({"type": "slow_close", "attributes": {"delay": 300}});
    assert_eq!(
        api.call("POST", "/proxies/s/toxics", Some(slow)).await.0,
        200
    );
    let mut conn = TcpStream::connect(&listen).await?;
    round_trip(&mut conn, b"bye").await?;
    let started = Instant::now();
    conn.shutdown().await?;
    let (_, ended) = read_to_end_within(&mut conn, Duration::from_secs(2)).await;
    assert!(ended);
    assert!(
        (280..1500).contains(&ms(started.elapsed())),
        "closed after {:?}",
        started.elapsed()
    );
    server.shutdown().await;
    Ok(())
}

/// A browser is refused, as Toxiproxy refuses it (a web page must not drive the fault API of
/// a developer's machine); a client that names itself otherwise, or not at all, is served.
#[tokio::test]
async fn a_browser_is_refused_and_clients_are_served() {
    let (server, _) = start(1).await;
    let http = reqwest::Client::new();
    let get = |ua: Option<&'static str>| {
        let mut r = http.get(format!("{}/proxies", server.url()));
        if let Some(ua) = ua {
            r = r.header(reqwest::header::USER_AGENT, ua);
        }
        r.send()
    };
    let browser = get(Some(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
    ))
    .await
    .unwrap();
    assert_eq!(browser.status().as_u16(), 403);
    assert_eq!(
        browser.text().await.unwrap().trim(),
        "User agent not allowed"
    );
    for ua in [Some("curl/8.5.0"), Some("toxiproxy-cli"), None] {
        let served = get(ua).await.unwrap();
        assert_eq!(served.status().as_u16(), 200, "user agent {ua:?}");
    }
    server.shutdown().await;
}
