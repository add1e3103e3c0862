//! Schedules: one played against the platform with its fault windows in the history, one that
//! names an unknown service refused before anything is injected, and an unparsable file named
//! with its line.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::ensure;
use harness::fault::{chain, Nemesis, Schedule};
use harness::history::{Entry, FaultAction, Recorder};
use harness::Platform;

pub async fn a_schedule_plays_and_records_its_fault_windows(
    platform: &Platform,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("fault-schedule-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("schedule.toml");
    std::fs::write(
        &path,
        r#"
[[steps]]
at_ms = 0
duration_ms = 400
fault = { kind = "latency", link = "redis", stream = "upstream", latency_ms = 80 }

[[steps]]
at_ms = 200
duration_ms = 400
fault = { kind = "delay_returns", ms = 30 }
"#,
    )?;
    let schedule = Schedule::load(&path)?;
    let recorder = Arc::new(Mutex::new(Recorder::to_writer(
        Vec::<u8>::new(),
        path.clone(),
        Instant::now(),
    )));
    let mut nemesis = Nemesis::new(platform).record_into(recorder.clone());
    nemesis.run_schedule(&schedule).await?;
    drop(nemesis);
    std::fs::remove_dir_all(&dir)?;
    let out = Arc::try_unwrap(recorder)
        .map_err(|_| anyhow::anyhow!("recorder still shared"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("recorder poisoned"))?
        .finish()?;
    let entries: Vec<Entry> = String::from_utf8(out)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let faults: Vec<(FaultAction, String, u64)> = entries
        .into_iter()
        .filter_map(|e| match e {
            Entry::Fault {
                action,
                fault,
                at_ns,
                ..
            } => Some((action, fault, at_ns)),
            _ => None,
        })
        .collect();
    let kinds: Vec<(FaultAction, &str)> = faults.iter().map(|(a, f, _)| (*a, f.as_str())).collect();
    ensure!(
        kinds
            == [
                (FaultAction::Inject, "latency"),
                (FaultAction::Inject, "delay_returns"),
                (FaultAction::Heal, "latency"),
                (FaultAction::Heal, "delay_returns"),
            ],
        "{faults:?}"
    );
    let window_ns = faults[2].2 - faults[0].2;
    ensure!(
        window_ns >= Duration::from_millis(400).as_nanos() as u64,
        "the latency window lasted {window_ns} ns"
    );
    Ok(())
}

pub async fn a_schedule_naming_an_unknown_service_injects_nothing(
    platform: &Platform,
) -> anyhow::Result<()> {
    let text = r#"{"steps": [
  {"at_ms": 0, "duration_ms": 100, "fault": {"kind": "latency", "link": "redis", "stream": "upstream", "latency_ms": 50}},
  {"at_ms": 0, "duration_ms": 100, "fault": {"kind": "pause", "service": "zookeeper"}}
]}"#;
    let schedule = Schedule::from_json(text, None)?;
    let mut nemesis = Nemesis::new(platform);
    let err = nemesis.run_schedule(&schedule).await.expect_err("refused");
    let text = chain(&err);
    ensure!(
        text.contains("step 1") && text.contains("zookeeper"),
        "{text}"
    );
    ensure!(nemesis.active().is_empty());
    Ok(())
}

#[test]
fn an_unparsable_schedule_file_is_named_with_its_line() {
    let dir = std::env::temp_dir().join(format!("fault-bad-schedule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.json");
    std::fs::write(
        &path,
        "{\"steps\": [\n  {\"at_ms\": 0, \"fault\": {\"kind\": \"kill\", \"service\": \"engine\"}},\n  {\"at_ms\": 10 \"fault\": {\"kind\": \"noop\"}}\n]}\n",
    )
    .unwrap();
    let err = Schedule::load(&path).expect_err("a missing comma");
    std::fs::remove_dir_all(&dir).unwrap();
    let text = err.to_string();
    assert!(
        text.contains("broken.json") && text.contains("line 3"),
        "{text}"
    );
}
