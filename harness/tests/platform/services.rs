//! Each service answers real requests through its link in the fault proxy; published ports
//! (`harness up --publish-base`) answer on the host's loopback and nowhere else.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};

/// A base port whose next three are free too (released again: the platform binds them).
///
/// Taken below Linux's ephemeral range (32768 and up): a free port in that range can be handed
/// to any outgoing connection of the host (another test's, Docker's own) between this check
/// and Docker's bind, which then fails with "address already in use" (a CI run failed so).
/// Below it, only a program that binds a port by number can take it.
fn four_free_ports() -> u16 {
    let spread = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    let first = 20_000 + 4 * (spread % 3_000) as u16;
    for k in 0..3_000u16 {
        let base = 20_000 + (first - 20_000 + 4 * k) % 12_000;
        let all: Vec<_> = (0..4)
            .filter_map(|i| std::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, base + i)).ok())
            .collect();
        if all.len() == 4 {
            return base;
        }
    }
    panic!("no four free ports in a row below 32000");
}

/// This machine's address on its network (no packet is sent), if it has one.
fn own_network_address() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(10, 255, 255, 254), 9)).ok()?;
    Some(socket.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback())
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_redis_and_kafka_answer_through_their_proxies() {
    let base = four_free_ports();
    let platform = harness::Platform::builder()
        .publish_base(base)
        .start()
        .await
        .expect("the platform starts");
    let endpoints = platform.endpoints().clone();

    // The fault API is published on base + 3: on loopback only.
    let api = base + 3;
    let version = reqwest::get(format!("http://127.0.0.1:{api}/version"))
        .await
        .and_then(|r| r.error_for_status())
        .expect("the fault API answers on the host's loopback");
    drop(version);
    if let Some(ip) = own_network_address() {
        let outside = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect((ip, api)),
        )
        .await;
        assert!(
            !matches!(outside, Ok(Ok(_))),
            "the fault API is published on {ip}:{api}, the machine's network address"
        );
    }

    let (client, connection) = tokio_postgres::connect(
        &endpoints.postgres.connection_string(true),
        tokio_postgres::NoTls,
    )
    .await
    .expect("postgres through its proxy");
    tokio::spawn(connection);
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    client
        .execute("INSERT INTO t VALUES ($1, $2)", &[&7i32, &"seven"])
        .await
        .unwrap();
    let v: String = client
        .query_one("SELECT v FROM t WHERE id = 7", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, "seven");

    let redis = redis::Client::open(endpoints.redis_url(true)).unwrap();
    let mut conn = redis
        .get_multiplexed_async_connection()
        .await
        .expect("redis through its proxy");
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v1")
        .query_async(&mut conn)
        .await
        .unwrap();
    let got: String = redis::cmd("GET")
        .arg("k")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(got, "v1");

    let bootstrap = endpoints.kafka_bootstrap(true);
    let admin: AdminClient<_> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let topic = NewTopic::new("order-events", 1, TopicReplication::Fixed(1));
    let created = admin
        .create_topics([&topic], &AdminOptions::new())
        .await
        .expect("create topic");
    assert!(
        created.iter().all(Result::is_ok),
        "topic creation: {created:?}"
    );

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let sent: Vec<String> = (0..20).map(|i| format!("order-{i}")).collect();
    for payload in &sent {
        producer
            .send(
                FutureRecord::to("order-events").key("k").payload(payload),
                Duration::from_secs(10),
            )
            .await
            .expect("an acknowledged produce");
    }
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "platform-test")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&["order-events"]).unwrap();
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while received.len() < sent.len() && tokio::time::Instant::now() < deadline {
        if let Ok(Ok(message)) = tokio::time::timeout(Duration::from_secs(5), consumer.recv()).await
        {
            received.push(String::from_utf8(message.payload().unwrap().to_vec()).unwrap());
        }
    }
    assert_eq!(
        received, sent,
        "every acknowledged record is consumed, in order"
    );
    drop(consumer);
    drop(producer);
    platform.shutdown().await.unwrap();
}
