//! Bad input: an unknown link or service, an invalid attribute, a fault that cannot be
//! applied. Each is an error naming what is wrong, and no fault stays active.

use anyhow::ensure;
use harness::fault::{chain, Fault, FaultError, Nemesis, Stream};
use harness::Platform;

pub async fn unknown_link_and_service_are_named_with_the_known_ones(
    platform: &Platform,
) -> anyhow::Result<()> {
    let mut nemesis = Nemesis::new(platform);
    let err = nemesis
        .inject(&Fault::Down {
            link: "mysql".into(),
        })
        .await
        .expect_err("an unknown link is refused");
    let text = chain(&err);
    ensure!(
        text.contains("mysql") && text.contains("ctp-trade") && text.contains("postgres"),
        "{text}"
    );
    let err = nemesis
        .inject(&Fault::Kill {
            service: "nginx".into(),
        })
        .await
        .expect_err("an unknown service is refused");
    let text = chain(&err);
    ensure!(text.contains("nginx") && text.contains("engine"), "{text}");
    // The inter-DC line exists only in two datacenters.
    let err = nemesis
        .inject(&Fault::Down {
            link: "postgres-replication".into(),
        })
        .await
        .expect_err("a line fault on one datacenter is refused");
    let text = chain(&err);
    ensure!(
        text.contains("postgres-replication") && text.contains("ctp-md"),
        "{text}"
    );
    ensure!(nemesis.active().is_empty());
    Ok(())
}

pub async fn an_invalid_attribute_is_named(platform: &Platform) -> anyhow::Result<()> {
    let mut nemesis = Nemesis::new(platform);
    let slicer = Fault::Slicer {
        link: "redis".into(),
        stream: Stream::Downstream,
        average_size: 8,
        size_variation: 9,
        delay_us: 10,
    };
    let err = nemesis.inject(&slicer).await.expect_err("refused");
    let text = chain(&err);
    ensure!(
        text.contains("size_variation") && text.contains("slicer"),
        "{text}"
    );
    let parsed = Fault::from_json(
        r#"{"kind":"latency","link":"redis","stream":"upstream","latency_ms":"fast"}"#,
    );
    let text = chain(&parsed.expect_err("a string latency does not parse"));
    ensure!(text.contains("fast"), "{text}");
    Ok(())
}

pub async fn a_fault_that_cannot_be_applied_is_an_error_and_nothing_stays_active(
    platform: &Platform,
) -> anyhow::Result<()> {
    let mut nemesis = Nemesis::new(platform);
    let pause = Fault::Pause {
        service: "mock-ctp".into(),
    };
    let first = nemesis.inject(&pause).await?;
    // Docker refuses to pause a paused container: the second inject cannot be applied.
    let err = nemesis.inject(&pause).await.expect_err("a second pause");
    ensure!(matches!(err, FaultError::Inject { .. }), "{err:?}");
    let text = chain(&err);
    ensure!(text.contains("pause on mock-ctp"), "{text}");
    ensure!(
        nemesis.active() == vec![pause.clone()],
        "{:?}",
        nemesis.active()
    );
    nemesis.heal(first).await?;
    ensure!(nemesis.active().is_empty());
    Ok(())
}
