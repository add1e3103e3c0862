//! The order router: every operation goes to the datacenter named active, the history records
//! that datacenter and the engine that answered, and a switch takes effect for the next
//! operation (here to dc2's standby engine, which refuses: nothing promoted it).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contract::model::{Offset, Side};
use harness::history::{Entry, Recorder, SubmitOrder};
use harness::platform::Dc;
use harness::workload::{perform, Intent, PlannedOp, Reply, Router};
use harness::Platform;

fn submit(n: u32) -> PlannedOp {
    PlannedOp::Submit(
        SubmitOrder {
            client_order_id: format!("routed-{n}"),
            account_id: "000001".into(),
            instrument_id: "rb2410".into(),
            side: Side::Buy,
            offset: Offset::Open,
            limit_price: 3600.0,
            volume: 1,
        },
        Intent::Order,
    )
}

pub async fn the_router_sends_to_the_active_site_and_the_history_says_which(platform: &Platform) {
    let router = Router::connect(platform)
        .await
        .expect("the router connects");
    assert_eq!(router.active(), Dc::Dc1);
    let recorder = Arc::new(Mutex::new(Recorder::to_writer(
        Vec::new(),
        "memory".into(),
        Instant::now(),
    )));
    let timeout = Duration::from_secs(5);
    for n in 0..5 {
        match perform(&submit(n), &router, &recorder, timeout)
            .await
            .unwrap()
        {
            Reply::Ok(result) => {
                assert_eq!(result.dc, Some(Dc::Dc1), "{result:?}");
                assert_eq!(result.engine_id.as_deref(), Some("dc1-engine-1"));
            }
            other => panic!("dc1 refused routed-{n}: {other:?}"),
        }
    }
    router.switch_to(Dc::Dc2).expect("dc2 has an engine");
    match perform(&submit(5), &router, &recorder, timeout)
        .await
        .unwrap()
    {
        Reply::Info(error) | Reply::Fail(error) => {
            assert_eq!(error.dc, Some(Dc::Dc2), "{error:?}");
            assert_eq!(error.code, "Unavailable", "{error:?}");
        }
        Reply::Ok(result) => panic!("dc2's unpromoted standby acknowledged: {result:?}"),
    }
    router.switch_to(Dc::Dc1).unwrap();

    let bytes = recorder.lock().unwrap().get_ref().clone();
    let lines: Vec<Entry> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a history line parses"))
        .collect();
    let answered: Vec<Option<Dc>> = lines
        .iter()
        .filter_map(|e| match e {
            Entry::Ok { result, .. } => Some(result.dc),
            Entry::Fail { error, .. } | Entry::Info { error, .. } => Some(error.dc),
            _ => None,
        })
        .collect();
    let mut expected = vec![Some(Dc::Dc1); 5];
    expected.push(Some(Dc::Dc2));
    assert_eq!(
        answered, expected,
        "the history names each operation's site"
    );
}
