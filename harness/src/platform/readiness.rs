//! Readiness: a service is ready when it answers a real request (a query, a PING, a metadata
//! call, an API call), never on a log line alone. Each probe retries until a deadline and
//! reports its last error, so a service that never comes up is named with the reason.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

/// The probe for one service.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    Postgres {
        conn: String,
    },
    Redis {
        addr: SocketAddr,
    },
    Kafka {
        bootstrap: String,
    },
    FaultProxy {
        api: String,
    },
    /// An HTTP GET that must answer 2xx.
    Http {
        url: String,
    },
    /// An active engine back after a restart: ready, or fenced (it returned after another
    /// site was promoted, and refuses everything: what it must do).
    EngineSettled {
        http: SocketAddr,
    },
}

impl Probe {
    /// One attempt; `Err` holds why the service is not ready yet.
    pub(crate) async fn check(&self) -> Result<(), String> {
        match self {
            Probe::Postgres { conn } => {
                let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                let task = tokio::spawn(connection);
                let row = client
                    .query_one("SELECT 1::int4", &[])
                    .await
                    .map_err(|e| e.to_string());
                drop(client);
                let _ = task.await;
                let one: i32 = row?.get(0);
                (one == 1)
                    .then_some(())
                    .ok_or_else(|| "SELECT 1 did not answer 1".to_string())
            }
            Probe::Redis { addr } => {
                let client =
                    redis::Client::open(format!("redis://{addr}/")).map_err(|e| e.to_string())?;
                let mut conn = client
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| e.to_string())?;
                let pong: String = redis::cmd("PING")
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                (pong == "PONG")
                    .then_some(())
                    .ok_or_else(|| format!("PING answered {pong}"))
            }
            Probe::Kafka { bootstrap } => {
                let bootstrap = bootstrap.clone();
                tokio::task::spawn_blocking(move || {
                    let consumer: BaseConsumer = ClientConfig::new()
                        .set("bootstrap.servers", &bootstrap)
                        .set("socket.connection.setup.timeout.ms", "1000")
                        .create()
                        .map_err(|e| e.to_string())?;
                    let metadata = consumer
                        .fetch_metadata(None, Duration::from_secs(2))
                        .map_err(|e| e.to_string())?;
                    if metadata.brokers().is_empty() {
                        return Err("metadata lists no broker".to_string());
                    }
                    Ok(())
                })
                .await
                .map_err(|e| e.to_string())?
            }
            Probe::Http { url } => {
                let answer = reqwest::get(url).await.map_err(|e| e.to_string())?;
                answer
                    .status()
                    .is_success()
                    .then_some(())
                    .ok_or_else(|| format!("GET {url} answered {}", answer.status()))
            }
            Probe::EngineSettled { http } => {
                let ready = Probe::Http {
                    url: format!("http://{http}/ready"),
                };
                let Err(not_ready) = Box::pin(ready.check()).await else {
                    return Ok(());
                };
                let role: serde_json::Value = reqwest::get(format!("http://{http}/role"))
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                match role["role"].as_str() {
                    Some("fenced") => Ok(()),
                    _ => Err(not_ready),
                }
            }
            Probe::FaultProxy { api } => {
                let client = noxious_client::Client::new(api);
                client
                    .proxies()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// Polls a probe until it succeeds or `timeout` passes; `alive` says whether the container
/// still runs, so that a crashed service fails at once instead of at the deadline.
pub(crate) async fn wait_ready<F, Fut>(
    probe: &Probe,
    timeout: Duration,
    alive: F,
) -> Result<Duration, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < timeout {
        match tokio::time::timeout(Duration::from_secs(3), probe.check()).await {
            Ok(Ok(())) => return Ok(started.elapsed()),
            Ok(Err(e)) => last = e,
            Err(_) => last = "the check timed out after 3 s".into(),
        }
        if !alive().await {
            return Err(format!("the container exited ({last})"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last)
}
