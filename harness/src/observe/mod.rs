//! The collectors that fill [`Observations`] from a running platform, read directly (not
//! through the fault proxy) once faults are healed: the engine's PostgreSQL tables, the mock
//! CTP front's record (the exchange-side ground truth) and every Kafka event the engine
//! published. [`Observer::initial`] snapshots the money (accounts, positions) a run starts
//! from; [`Observer::settle`] waits for the platform to converge; [`Observer::observe`] reads
//! the final state.
//!
//! Known gaps: Redis is a cache in the contract and is not judged; the read is not one
//! snapshot across services, so it is only meaningful after [`Observer::settle`].

mod converge;
mod db;
mod error;
mod exchange;
mod kafka;
pub mod metrics;

use std::time::Duration;

pub use converge::{Convergence, NAME as CONVERGED};
pub use error::ObserveError;
pub(crate) use exchange::admin_get;
pub use kafka::{answers as kafka_answers, KafkaMarks};
pub use metrics::Sampler;

use crate::check::{DbState, KafkaEvents, LatencySamples, Observations};
use crate::platform::Endpoints;

/// How long reading every Kafka topic to its end may take.
const KAFKA_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads a platform's state for the checks.
pub struct Observer {
    db: db::Db,
    endpoints: Endpoints,
}

impl Observer {
    pub async fn connect(endpoints: &Endpoints) -> Result<Self, ObserveError> {
        Ok(Self {
            db: db::Db::connect(&endpoints.postgres).await?,
            endpoints: endpoints.clone(),
        })
    }

    /// Accounts, positions and instruments as they are now: take it before the workload.
    pub async fn initial(&self) -> Result<DbState, ObserveError> {
        self.db.money().await
    }

    /// Where each Kafka partition ends now: a run reads only the events after these.
    pub async fn kafka_marks(&self) -> Result<KafkaMarks, ObserveError> {
        kafka::marks(&self.endpoints.kafka_bootstrap(false)).await
    }

    /// Waits until the engine has relayed its outbox and applied every exchange return, at
    /// most `timeout`.
    pub async fn settle(&self, timeout: Duration) -> Result<Convergence, ObserveError> {
        converge::wait(&self.db, &self.endpoints.mock_ctp, timeout).await
    }

    /// Every Kafka event after `from` on this site's broker.
    pub async fn kafka_events(&self, from: &KafkaMarks) -> Result<KafkaEvents, ObserveError> {
        kafka::read_all(
            &self.endpoints.kafka_bootstrap(false),
            KAFKA_READ_TIMEOUT,
            from,
        )
        .await
    }

    /// The database's orders, trades, accounts and positions as they are now (a standby's
    /// too: it answers reads).
    pub async fn state(&self) -> Result<DbState, ObserveError> {
        self.db.state().await
    }

    /// The final state, with the run's `initial` state and latency samples.
    pub async fn observe(
        &self,
        initial: DbState,
        latency: LatencySamples,
        from: &KafkaMarks,
    ) -> Result<Observations, ObserveError> {
        let db = self.db.state().await?;
        let exchange = exchange::record(&self.endpoints.mock_ctp).await?;
        let kafka = kafka::read_all(
            &self.endpoints.kafka_bootstrap(false),
            KAFKA_READ_TIMEOUT,
            from,
        )
        .await?;
        Ok(Observations {
            db,
            initial,
            exchange,
            kafka,
            latency,
        })
    }
}
