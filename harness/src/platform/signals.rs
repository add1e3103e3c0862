//! Removal of this process's runs when it is told to stop: SIGINT (Ctrl-C on a developer's
//! `cargo test`), SIGTERM (a CI job's timeout, nextest's slow-test kill) and SIGHUP (a closed
//! terminal). The default action of those signals ends the process before any `Drop` runs, so
//! its containers and networks would stay until the next start swept them. A thread waits for
//! the first of them, removes every run labelled with this process's pid, and exits with
//! 128 + the signal, as the default action would have. SIGKILL cannot be caught: the sweep at
//! each start removes what a killed process left.
//!
//! A signal can arrive in the middle of a start, with container creations in flight on the
//! process's runtime. So the handler first raises [`stopping`], which every launch step checks
//! before it creates anything, then removes the process's runs again until two looks in a row
//! find nothing of them (what was in flight has landed and gone), within a bounded time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static INSTALL: Once = Once::new();
static STOPPING: AtomicBool = AtomicBool::new(false);

/// True once a stop signal arrived: nothing new may be created.
pub(crate) fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Installs the handler once per process (every platform start asks; the first installs).
pub(crate) fn remove_runs_on_signal() {
    INSTALL.call_once(|| {
        let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "no signal handler: an interrupted run leaves its containers to the next sweep");
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("harness-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    eprintln!("harness: signal {signal}: removing this process's containers and networks");
                    STOPPING.store(true, Ordering::SeqCst);
                    cleanup();
                    std::process::exit(128 + signal);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no signal thread: an interrupted run leaves its containers to the next sweep");
        }
    });
}

fn cleanup() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("harness: no runtime to remove this process's runs: {e}");
            return;
        }
    };
    const LIMIT: Duration = Duration::from_secs(20);
    let removed = runtime.block_on(async {
        let docker = crate::docker::client().await?;
        let since = Instant::now();
        let mut runs = std::collections::BTreeSet::new();
        let mut clean_looks = 0;
        let mut last_error = None;
        while clean_looks < 2 && since.elapsed() < LIMIT {
            match super::sweep::remove_own_runs(&docker).await {
                Ok(removed) if removed.is_empty() => clean_looks += 1,
                Ok(removed) => {
                    clean_looks = 0;
                    runs.extend(removed);
                }
                Err(e) => {
                    clean_looks = 0;
                    last_error = Some(e);
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        match (clean_looks, last_error) {
            (2, _) => Ok(runs),
            (_, Some(e)) => Err(e),
            _ => Err(crate::Error::docker(
                "removing this process's runs",
                format!("resources kept appearing for {LIMIT:?}"),
            )),
        }
    });
    match removed {
        Ok(runs) => eprintln!("harness: removed runs {runs:?}"),
        Err(e) => eprintln!("harness: removing this process's runs failed: {e}"),
    }
}
