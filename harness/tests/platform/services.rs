//! Each service answers real requests through its link in the fault proxy.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};

#[tokio::test(flavor = "multi_thread")]
async fn postgres_redis_and_kafka_answer_through_their_proxies() {
    let platform = super::platform().await;
    let endpoints = platform.endpoints().clone();

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
