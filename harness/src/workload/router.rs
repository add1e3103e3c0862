//! The order router: the platform's global load balancer as the workload sees it. It sends
//! every operation to the engine of the datacenter currently named active and switches when
//! told (the DR controller's last step); each operation is pinned to one site when it is sent,
//! so the history records the datacenter it went to, whatever switch happens meanwhile.
//!
//! The router can hold new operations (the runbook's "stop order reception"): an operation
//! that arrives while held waits, and goes to whichever site is active when the hold is
//! released; its latency, timed from its intended send, shows the wait. Operations already
//! admitted are counted in flight, so a planned switchover can wait for them to finish.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use contract::trading::v1 as pb;
use tonic::Status;

use super::client::{GrpcOrders, OrderEntry};
use super::error::WorkloadError;
use crate::platform::Dc;
use crate::Platform;

/// Routes orders to the active datacenter's engine.
#[derive(Debug, Clone)]
pub struct Router {
    engines: Arc<BTreeMap<Dc, GrpcOrders>>,
    active: Arc<RwLock<Dc>>,
    /// Set on a clone pinned to one site for one operation.
    pinned: Option<Dc>,
    held: Arc<tokio::sync::watch::Sender<bool>>,
    in_flight: Arc<AtomicUsize>,
    /// A stale client's route: always this site, whatever the router is told.
    fixed: Option<Dc>,
}

/// An operation admitted by a router, in flight until dropped.
#[derive(Debug, Default)]
pub struct Admission(Option<Arc<AtomicUsize>>);

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(n) = &self.0 {
            n.fetch_sub(1, SeqCst);
        }
    }
}

impl Router {
    /// Connects to every datacenter's engine of `platform`; dc1 is active.
    pub async fn connect(platform: &Platform) -> Result<Self, WorkloadError> {
        let mut engines = BTreeMap::new();
        for dc in platform.datacenters() {
            if let Some(engine) = platform.datacenter(dc).and_then(|e| e.engine.as_ref()) {
                engines.insert(dc, GrpcOrders::connect(&engine.grpc.to_string()).await?);
            }
        }
        Self::over(Arc::new(engines), Dc::Dc1, None)
    }

    /// A router over `engines` sending to `active`, fixed there when `fixed`; not held.
    fn over(
        engines: Arc<BTreeMap<Dc, GrpcOrders>>,
        active: Dc,
        fixed: Option<Dc>,
    ) -> Result<Self, WorkloadError> {
        if !engines.contains_key(&active) {
            return Err(WorkloadError::NoRoute(active));
        }
        Ok(Self {
            engines,
            active: Arc::new(RwLock::new(active)),
            pinned: None,
            held: Arc::new(tokio::sync::watch::channel(false).0),
            in_flight: Arc::new(AtomicUsize::new(0)),
            fixed,
        })
    }

    /// A stale client of the same engines: it keeps sending to `dc` whatever this router is
    /// told and is never held (a client that still resolves the old site during a failover).
    pub fn stale(&self, dc: Dc) -> Result<Self, WorkloadError> {
        Self::over(self.engines.clone(), dc, Some(dc))
    }

    /// Holds every operation not yet admitted until [`Router::release`].
    pub fn hold(&self) {
        self.held.send_replace(true);
        tracing::info!("router: holding new orders");
    }

    /// Lets held and later operations through, to the site active now.
    pub fn release(&self) {
        self.held.send_replace(false);
        tracing::info!(dc = %self.active(), "router: orders flow again");
    }

    pub fn is_held(&self) -> bool {
        *self.held.borrow()
    }

    /// Operations admitted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(SeqCst)
    }

    /// Waits until no admitted operation is still unanswered, at most `timeout`; true if none
    /// is.
    pub async fn drained(&self, timeout: Duration) -> bool {
        let since = Instant::now();
        while self.in_flight() > 0 {
            if since.elapsed() >= timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// The datacenter orders go to now.
    pub fn active(&self) -> Dc {
        *self.active.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends every later operation to `dc`'s engine.
    pub fn switch_to(&self, dc: Dc) -> Result<(), WorkloadError> {
        if !self.engines.contains_key(&dc) || self.fixed.is_some_and(|f| f != dc) {
            return Err(WorkloadError::NoRoute(dc));
        }
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = dc;
        tracing::info!(%dc, "router: orders now go to {dc}");
        Ok(())
    }

    fn target(&self) -> (Dc, GrpcOrders) {
        let dc = self.pinned.unwrap_or_else(|| self.active());
        (dc, self.engines[&dc].clone())
    }
}

impl OrderEntry for Router {
    async fn submit(&self, req: pb::SubmitOrderRequest) -> Result<pb::SubmitOrderResponse, Status> {
        let (_, engine) = self.target();
        engine.submit(req).await
    }

    async fn cancel(&self, req: pb::CancelOrderRequest) -> Result<pb::CancelOrderResponse, Status> {
        let (_, engine) = self.target();
        engine.cancel(req).await
    }

    async fn admit(&self) -> Admission {
        let mut held = self.held.subscribe();
        loop {
            // Counted before the hold is read: a hold set meanwhile either sees this operation
            // in flight or is seen by it (both sides use SeqCst).
            self.in_flight.fetch_add(1, SeqCst);
            if !*held.borrow_and_update() {
                return Admission(Some(self.in_flight.clone()));
            }
            self.in_flight.fetch_sub(1, SeqCst);
            // The sender lives as long as this router: wait_for ends when the hold is lifted.
            let _ = held.wait_for(|h| !*h).await;
        }
    }

    fn pinned(&self) -> (Option<Dc>, Self) {
        let dc = self.active();
        let pinned = Self {
            pinned: Some(dc),
            ..self.clone()
        };
        (Some(dc), pinned)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A router over two engines it never calls.
    fn router() -> Router {
        let engines = [Dc::Dc1, Dc::Dc2]
            .into_iter()
            .map(|dc| (dc, GrpcOrders::lazy("127.0.0.1:9")))
            .collect();
        Router::over(Arc::new(engines), Dc::Dc1, None).unwrap()
    }

    #[tokio::test]
    async fn a_stale_client_keeps_its_site_and_is_never_held() {
        let r = router();
        let stale = r.stale(Dc::Dc1).unwrap();
        r.hold();
        r.switch_to(Dc::Dc2).unwrap();
        let admitted = tokio::time::timeout(Duration::from_secs(1), stale.admit()).await;
        assert!(
            admitted.is_ok(),
            "the router's hold does not hold a stale client"
        );
        assert_eq!(stale.pinned().0, Some(Dc::Dc1));
        assert!(
            stale.switch_to(Dc::Dc2).is_err(),
            "a stale client is not rerouted"
        );
        r.release();
    }

    #[tokio::test]
    async fn a_held_router_admits_nothing_until_released_and_counts_what_is_in_flight() {
        let r = router();
        let first = r.admit().await;
        assert_eq!(r.in_flight(), 1);
        r.hold();
        let held = r.clone();
        let waiting = tokio::spawn(async move {
            let _admitted = held.admit().await;
            held.pinned().0
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "an operation arriving while held waits"
        );
        assert_eq!(r.in_flight(), 1, "a waiting operation is not in flight");
        assert!(!r.drained(Duration::from_millis(20)).await);
        drop(first);
        assert!(r.drained(Duration::from_millis(100)).await);
        r.switch_to(Dc::Dc2).unwrap();
        r.release();
        let went_to = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("released")
            .unwrap();
        assert_eq!(
            went_to,
            Some(Dc::Dc2),
            "a held operation goes where the router points at release"
        );
        assert_eq!(r.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_switch_to_a_site_without_an_engine_is_refused() {
        let r = router();
        let one_site = Router {
            engines: Arc::new(
                r.engines
                    .iter()
                    .take(1)
                    .map(|(dc, e)| (*dc, e.clone()))
                    .collect(),
            ),
            ..r
        };
        assert!(matches!(
            one_site.switch_to(Dc::Dc2),
            Err(WorkloadError::NoRoute(Dc::Dc2))
        ));
        assert_eq!(one_site.active(), Dc::Dc1);
    }
}
