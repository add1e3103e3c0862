//! Driven by `toxiproxy_rust` 0.1, unchanged. It is blocking (reqwest::blocking), so these
//! tests are plain `#[test]`s that run the server on a runtime of their own.

use std::net::TcpStream;
use std::time::Duration;
use tokio::runtime::Runtime;
use toxiproxy_rust::client::Client;
use toxiproxy_rust::proxy::ProxyPack;

use crate::common::{echo_upstream, ms, round_trip_blocking};

struct Fixture {
    rt: Runtime,
    server: Option<faultproxy::Server>,
    client: Client,
    echo: String,
}

impl Fixture {
    fn new(seed: u64) -> Fixture {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (server, echo) = rt.block_on(async {
            let server = faultproxy::Server::bind("127.0.0.1:0".parse().unwrap(), seed)
                .await
                .unwrap();
            (server, echo_upstream().await)
        });
        let client = Client::new(server.local_addr());
        Fixture {
            rt,
            server: Some(server),
            client,
            echo: echo.to_string(),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.shutdown());
        }
    }
}

#[test]
fn populate_latency_down_and_reset() -> anyhow::Result<()> {
    let f = Fixture::new(11);
    assert!(f.client.is_running());
    assert!(f
        .client
        .version()
        .map_err(anyhow::Error::msg)?
        .contains("version"));
    let proxies = f
        .client
        .populate(vec![ProxyPack::new(
            "pg".into(),
            "127.0.0.1:0".into(),
            f.echo.clone(),
        )])
        .map_err(anyhow::Error::msg)?;
    assert_eq!(proxies.len(), 1);
    let listen = proxies[0].proxy_pack.listen.clone();
    assert_ne!(listen, "127.0.0.1:0");

    let proxy = f
        .client
        .find_and_reset_proxy("pg")
        .map_err(anyhow::Error::msg)?;
    let mut conn = TcpStream::connect(&listen)?;
    assert!(ms(round_trip_blocking(&mut conn, b"ping")?) < 50);
    let mut slowed = Duration::ZERO;
    proxy
        .with_latency("downstream".into(), 100, 0, 1.0)
        .apply(|| slowed = round_trip_blocking(&mut conn, b"ping").unwrap())
        .map_err(anyhow::Error::msg)?;
    assert!(
        (95..300).contains(&ms(slowed)),
        "with 100 ms latency {slowed:?}"
    );
    assert!(
        proxy.toxics().map_err(anyhow::Error::msg)?.is_empty(),
        "apply removes toxics"
    );
    assert!(ms(round_trip_blocking(&mut conn, b"ping")?) < 50);

    let mut refused = false;
    proxy
        .with_down(|| refused = TcpStream::connect(&listen).is_err())
        .map_err(anyhow::Error::msg)?;
    assert!(refused, "a downed proxy accepted");
    round_trip_blocking(&mut TcpStream::connect(&listen)?, b"up again")?;

    proxy.with_latency("upstream".into(), 300, 0, 1.0);
    proxy.disable().map_err(anyhow::Error::msg)?;
    f.client.reset().map_err(anyhow::Error::msg)?;
    let all = f.client.all().map_err(anyhow::Error::msg)?;
    assert!(all["pg"].proxy_pack.enabled && all["pg"].proxy_pack.toxics.is_empty());
    assert!(
        ms(round_trip_blocking(
            &mut TcpStream::connect(&listen)?,
            b"x"
        )?) < 50
    );
    Ok(())
}

#[test]
fn limit_data_timeout_and_bandwidth() -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let f = Fixture::new(12);
    let proxies = f
        .client
        .populate(vec![ProxyPack::new(
            "redis".into(),
            "127.0.0.1:0".into(),
            f.echo.clone(),
        )])
        .map_err(anyhow::Error::msg)?;
    let listen = proxies[0].proxy_pack.listen.clone();
    let proxy = f.client.find_proxy("redis").map_err(anyhow::Error::msg)?;

    proxy.with_limit_data("downstream".into(), 16, 1.0);
    let mut conn = TcpStream::connect(&listen)?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    conn.write_all(&[3u8; 64])?;
    let mut got = Vec::new();
    conn.read_to_end(&mut got)?;
    assert_eq!(got.len(), 16);
    proxy.delete_all_toxics().map_err(anyhow::Error::msg)?;

    proxy.with_timeout("downstream".into(), 0, 1.0);
    let mut conn = TcpStream::connect(&listen)?;
    conn.set_read_timeout(Some(Duration::from_millis(300)))?;
    conn.write_all(b"lost")?;
    let mut buf = [0u8; 4];
    let err = conn
        .read(&mut buf)
        .expect_err("timeout toxic let data through");
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    proxy.delete_all_toxics().map_err(anyhow::Error::msg)?;

    proxy.with_bandwidth("downstream".into(), 100, 1.0);
    let took = round_trip_blocking(&mut TcpStream::connect(&listen)?, &[9u8; 30_000])?;
    assert!(
        (250..1200).contains(&ms(took)),
        "30 kB at 100 KB/s took {took:?}"
    );
    Ok(())
}
