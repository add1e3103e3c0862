//! The workload generator's ceiling from one core (a current-thread runtime): the highest
//! open-loop rate it sustains against a null order entry, in process (planning, scheduling,
//! history recording) and against a null gRPC server on loopback (plus tonic's client), and
//! the recording cost per operation. Target: ≥ 50,000 orders/s. Measures and prints; never
//! asserts (the perf gate decides).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contract::trading::v1 as pb;
use contract::trading::v1::order_service_server::{OrderService, OrderServiceServer};
use harness::history::Recorder;
use harness::workload::{self, GrpcOrders, Mix, OrderEntry, Planner, WorkloadSpec};
use tonic::{Request, Response, Status};

/// Answers every order at once, as the engine would with zero cost.
#[derive(Debug, Clone, Copy)]
struct NullEntry;

fn ack(cid: &str) -> pb::Order {
    pb::Order {
        order_id: 1,
        client_order_id: cid.to_owned(),
        status: pb::OrderStatus::New as i32,
        ..pb::Order::default()
    }
}

impl OrderEntry for NullEntry {
    async fn submit(&self, req: pb::SubmitOrderRequest) -> Result<pb::SubmitOrderResponse, Status> {
        Ok(pb::SubmitOrderResponse {
            order: Some(ack(&req.client_order_id)),
            duplicate: false,
            engine_id: String::new(),
            engine_version: String::new(),
        })
    }
    async fn cancel(&self, req: pb::CancelOrderRequest) -> Result<pb::CancelOrderResponse, Status> {
        Ok(pb::CancelOrderResponse {
            order: Some(ack(&req.client_order_id)),
            engine_id: String::new(),
            engine_version: String::new(),
        })
    }
}

#[derive(Debug, Default)]
struct NullServer;

#[tonic::async_trait]
impl OrderService for NullServer {
    async fn submit_order(
        &self,
        req: Request<pb::SubmitOrderRequest>,
    ) -> Result<Response<pb::SubmitOrderResponse>, Status> {
        NullEntry.submit(req.into_inner()).await.map(Response::new)
    }
    async fn cancel_order(
        &self,
        req: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        NullEntry.cancel(req.into_inner()).await.map(Response::new)
    }
    async fn get_order(
        &self,
        _: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        Err(Status::unimplemented("null server"))
    }
    type StreamUpdatesStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::Update, Status>> + Send>>;
    async fn stream_updates(
        &self,
        _: Request<pb::StreamUpdatesRequest>,
    ) -> Result<Response<Self::StreamUpdatesStream>, Status> {
        Err(Status::unimplemented("null server"))
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

async fn drive<E: OrderEntry>(label: &str, entry: E, rate: f64, ops: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("workload-rate-{}-{label}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let spec = WorkloadSpec::new("000003", rate, ops, 42).with_mix(Mix {
        cancel: 0.05,
        duplicate: 0.02,
        risk_reject: 0.02,
    });
    let planner = Planner::new(&spec, workload::tradables(&spec, &fixtures())?)?;
    let recorder = Arc::new(Mutex::new(Recorder::create(&dir)?));
    let t = Instant::now();
    let r = workload::run(&spec, planner, entry, recorder).await?;
    let wall = t.elapsed();
    let mut lat: Vec<u64> = r.samples.iter().map(|s| s.latency_ns).collect();
    lat.sort_unstable();
    let median = lat.get(lat.len() / 2).copied().unwrap_or(0);
    let bytes = std::fs::metadata(dir.join("history.jsonl"))?.len();
    println!(
        "{label}: asked {rate:.0}/s for {ops} ops: achieved {:.0}/s (wall {:.2} s), median lag from \
         intended send {:.1} µs, history {:.0} bytes/op",
        r.sent as f64 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        median as f64 / 1e3,
        bytes as f64 / r.sent as f64,
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn recording_cost() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("workload-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let spec = WorkloadSpec::new("000003", 1000.0, 1, 1);
    let mut planner = Planner::new(&spec, workload::tradables(&spec, &fixtures())?)?;
    let ops: Vec<_> = (0..200_000).map(|_| planner.next_op()).collect();
    let mut rec = Recorder::create(&dir)?;
    let t = Instant::now();
    for op in &ops {
        let workload::PlannedOp::Submit(o, _) = op else {
            continue;
        };
        let id = rec.invoke(0, harness::history::Op::Submit(o.clone()))?;
        rec.ok(id, 0, harness::history::OpResult::default())?;
    }
    rec.flush()?;
    println!(
        "recording an invoke and its ok: {:.0} ns per operation (200,000 operations)",
        t.elapsed().as_nanos() as f64 / ops.len() as f64
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    recording_cost()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        for rate in [50_000.0, 100_000.0] {
            drive("null entry, in process", NullEntry, rate, 200_000).await?;
        }
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(OrderServiceServer::new(NullServer))
                .serve(addr),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let grpc = GrpcOrders::connect(&addr.to_string()).await?;
        for rate in [20_000.0, 50_000.0] {
            drive("null gRPC server on loopback", grpc.clone(), rate, 100_000).await?;
        }
        anyhow::Ok(())
    })
}
