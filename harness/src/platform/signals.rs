//! Removal of this process's runs when it is told to stop: SIGINT (Ctrl-C on a developer's
//! `cargo test`), SIGTERM (a CI job's timeout, nextest's slow-test kill) and SIGHUP (a closed
//! terminal). The default action of those signals ends the process before any `Drop` runs, so
//! its containers and networks would stay until the next start swept them. A thread waits for
//! the first of them, removes every run labelled with this process's pid, and exits with
//! 128 + the signal, as the default action would have. SIGKILL cannot be caught: the sweep at
//! each start removes what a killed process left.

use std::sync::Once;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static INSTALL: Once = Once::new();

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
    let removed = runtime.block_on(async {
        let docker = crate::docker::client().await?;
        super::sweep::remove_own_runs(&docker).await
    });
    match removed {
        Ok(runs) => eprintln!("harness: removed runs {runs:?}"),
        Err(e) => eprintln!("harness: removing this process's runs failed: {e}"),
    }
}
