//! The nemesis's measurements of a link, from the harness through the fault proxy: one small
//! request in each service's own protocol (PostgreSQL's SSLRequest, Redis's PING, Kafka's
//! ApiVersions v0, the mock CTP front's Hello) and what came of it: an answer and its round
//! trip, a refusal, a reset, a close, or silence. Fresh connections each time, so a toxic that
//! acts on new connections is seen; the requests change no state in any service.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The request that makes a service answer, per link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ping {
    Postgres,
    Redis,
    Kafka,
    Ctp(&'static str),
}

/// What a ping met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Answered(Duration),
    Refused,
    Reset,
    /// The connection closed (EOF) before a full answer.
    Closed,
    /// No full answer within the wait.
    Silent,
    Other(String),
}

impl Ping {
    pub(crate) fn for_link(link: &str) -> Option<Ping> {
        Some(match link {
            // The inter-DC line's links lead to dc1's PostgreSQL and to dc2's.
            "postgres" | "postgres-replication" | "postgres-dc2" => Ping::Postgres,
            "redis" => Ping::Redis,
            "kafka" => Ping::Kafka,
            "ctp-trade" => Ping::Ctp("trade"),
            "ctp-md" => Ping::Ctp("md"),
            _ => return None,
        })
    }

    fn request(self) -> Vec<u8> {
        match self {
            // SSLRequest: length 8, code 80877103; the server answers one byte, N or S.
            Ping::Postgres => vec![0, 0, 0, 8, 4, 210, 22, 47],
            Ping::Redis => b"PING\r\n".to_vec(),
            // ApiVersions (key 18) v0, correlation id 7, null client id.
            Ping::Kafka => vec![0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff],
            Ping::Ctp(front) => {
                let body = format!(
                    r#"{{"msg":"Hello","body":{{"Protocol":"mock-ctp","Version":1,"Front":"{front}"}}}}"#
                );
                let mut frame = (body.len() as u32).to_be_bytes().to_vec();
                frame.extend_from_slice(body.as_bytes());
                frame
            }
        }
    }

    /// Whether `answer` holds a whole answer.
    fn complete(self, answer: &[u8]) -> bool {
        let framed = |answer: &[u8]| {
            answer.len() >= 4
                && answer.len()
                    >= 4 + u32::from_be_bytes([answer[0], answer[1], answer[2], answer[3]]) as usize
        };
        match self {
            Ping::Postgres => !answer.is_empty(),
            Ping::Redis => answer.ends_with(b"\r\n"),
            Ping::Kafka | Ping::Ctp(_) => framed(answer),
        }
    }

    /// Whether the service answers the ping again on the same connection.
    pub(crate) fn repeatable(self) -> bool {
        matches!(self, Ping::Redis | Ping::Kafka)
    }
}

fn outcome_of(e: &std::io::Error) -> Outcome {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Outcome::Refused,
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe => Outcome::Reset,
        _ => Outcome::Other(e.to_string()),
    }
}

/// One request/answer on an open connection; the round trip excludes the connect.
async fn exchange(stream: &mut TcpStream, ping: Ping, wait: Duration) -> Outcome {
    let started = Instant::now();
    let work = async {
        if let Err(e) = stream.write_all(&ping.request()).await {
            return outcome_of(&e);
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return Outcome::Closed,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) => return outcome_of(&e),
            }
            if ping.complete(&answer) {
                return Outcome::Answered(started.elapsed());
            }
        }
    };
    tokio::time::timeout(wait, work)
        .await
        .unwrap_or(Outcome::Silent)
}

/// A ping on a fresh connection.
pub(crate) async fn ping(addr: SocketAddr, ping: Ping, wait: Duration) -> Outcome {
    match tokio::time::timeout(wait, TcpStream::connect(addr)).await {
        Err(_) => Outcome::Silent,
        Ok(Err(e)) => outcome_of(&e),
        Ok(Ok(mut stream)) => exchange(&mut stream, ping, wait).await,
    }
}

/// The median round trip of `samples` pings; the first ping that is not answered instead.
pub(crate) async fn median_round_trip(
    addr: SocketAddr,
    kind: Ping,
    samples: usize,
    wait: Duration,
) -> Result<Duration, Outcome> {
    let times = round_trips(addr, kind, samples, wait).await?;
    times.get(times.len() / 2).copied().ok_or(Outcome::Silent)
}

/// `samples` round trips, each on a new connection, sorted (shortest first).
pub(crate) async fn round_trips(
    addr: SocketAddr,
    kind: Ping,
    samples: usize,
    wait: Duration,
) -> Result<Vec<Duration>, Outcome> {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        match ping(addr, kind, wait).await {
            Outcome::Answered(t) => times.push(t),
            other => return Err(other),
        }
    }
    times.sort();
    Ok(times)
}

/// Pings over one connection until it closes; the number of answered pings before the close,
/// or `None` if it stayed open for `max_rounds` pings (or went silent).
pub(crate) async fn answers_until_closed(
    addr: SocketAddr,
    kind: Ping,
    max_rounds: usize,
    wait: Duration,
) -> Option<usize> {
    let mut stream = tokio::time::timeout(wait, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    for answered in 0..max_rounds {
        match exchange(&mut stream, kind, wait).await {
            Outcome::Answered(_) => continue,
            Outcome::Closed | Outcome::Reset => return Some(answered),
            _ => return None,
        }
    }
    None
}

/// Whether a TCP connection to `addr` opens within `wait`.
pub(crate) async fn connects(addr: SocketAddr, wait: Duration) -> bool {
    matches!(
        tokio::time::timeout(wait, TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}
