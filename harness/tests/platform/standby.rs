//! The PostgreSQL standby streams from its primary.

use std::time::Duration;

use harness::{Platform, Topology};

#[tokio::test(flavor = "multi_thread")]
async fn a_row_written_on_the_primary_appears_on_the_standby() {
    let platform = Platform::builder()
        .topology(Topology::single_dc().with_postgres_standby())
        .start()
        .await
        .expect("the platform with a standby starts");
    let endpoints = platform.endpoints().clone();
    let standby = endpoints
        .postgres_standby
        .clone()
        .expect("a standby endpoint");

    let (primary, conn) = tokio_postgres::connect(
        &endpoints.postgres.connection_string(false),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let (replica, conn) =
        tokio_postgres::connect(&standby.connection_string(false), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    let recovering: bool = replica
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(recovering, "the standby is in recovery");
    let refused = replica.batch_execute("CREATE TABLE nope (id int)").await;
    assert!(refused.is_err(), "a standby refuses writes");

    primary
        .batch_execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY); INSERT INTO orders VALUES (42)",
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let row = replica
            .query_opt("SELECT id FROM orders WHERE id = 42", &[])
            .await;
        if let Ok(Some(row)) = row {
            assert_eq!(row.get::<_, i64>(0), 42);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the row never reached the standby: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    platform.shutdown().await.unwrap();
}
