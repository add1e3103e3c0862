//! The gate's judgement, case by case, without valgrind: counts against a baseline.

use std::collections::BTreeMap;

use rstest::rstest;

use super::*;

fn env(toolchain: &str) -> Environment {
    Environment {
        toolchain: toolchain.into(),
        valgrind: "valgrind-3.19.0".into(),
        commit: "abc".into(),
    }
}

fn baseline() -> Baseline {
    Baseline {
        format: 1,
        tier: 1,
        metric_kind: "Ir".into(),
        threshold_pct: 1.0,
        env: env("rustc 1.95.0"),
        recorded: "2026-12-07T00:00:00Z".into(),
        counts: BTreeMap::from([("codec".into(), 1_000_000), ("checkers".into(), 2_000_000)]),
    }
}

fn counts(codec: u64) -> Vec<(String, u64)> {
    vec![("codec".into(), codec), ("checkers".into(), 2_000_000)]
}

#[rstest]
#[case::equal(1_000_000, GateVerdict::Pass, GateVerdict::Pass)]
#[case::noise_of_a_few_hundred_instructions(1_000_800, GateVerdict::Pass, GateVerdict::Pass)]
#[case::just_under_the_threshold(1_009_999, GateVerdict::Pass, GateVerdict::Pass)]
#[case::two_percent_more(1_020_000, GateVerdict::Regression, GateVerdict::Regression)]
#[case::ten_percent_more(1_100_000, GateVerdict::Regression, GateVerdict::Regression)]
#[case::two_percent_fewer(980_000, GateVerdict::Improved, GateVerdict::Improved)]
fn a_count_is_judged_against_its_threshold(
    #[case] codec: u64,
    #[case] row: GateVerdict,
    #[case] gate: GateVerdict,
) {
    let r = judge(1, &baseline(), env("rustc 1.95.0"), &counts(codec));
    assert_eq!(r.rows[0].verdict, row, "{}", r.table());
    assert_eq!(r.rows[1].verdict, GateVerdict::Pass);
    assert_eq!(r.verdict, gate, "{}", r.table());
}

#[test]
fn a_regression_is_named_in_the_detail_and_the_table() {
    let r = judge(1, &baseline(), env("rustc 1.95.0"), &counts(1_050_000));
    assert_eq!(r.detail, "1 over the 1 % threshold: codec");
    assert!(r.table().contains("REGRESSION"), "{}", r.table());
    assert!(r.rows[0].note.contains("+5.00 %"));
}

#[test]
fn a_baseline_from_another_toolchain_judges_nothing() {
    let r = judge(1, &baseline(), env("rustc 1.96.0"), &counts(1_100_000));
    assert_eq!(r.verdict, GateVerdict::Inconclusive);
    assert!(r
        .rows
        .iter()
        .all(|row| row.verdict == GateVerdict::Inconclusive));
    assert!(
        r.detail.contains("rustc 1.95.0") && r.detail.contains("rustc 1.96.0"),
        "{}",
        r.detail
    );
}

#[test]
fn a_metric_without_baseline_or_a_baseline_without_metric_is_inconclusive() {
    let mut c = counts(1_000_000);
    c.push(("planner".into(), 5));
    let r = judge(1, &baseline(), env("rustc 1.95.0"), &c);
    assert_eq!(r.verdict, GateVerdict::Inconclusive);
    assert_eq!(r.rows[2].verdict, GateVerdict::Inconclusive);
    let r = judge(1, &baseline(), env("rustc 1.95.0"), &counts(1_000_000)[..1]);
    assert_eq!(r.verdict, GateVerdict::Inconclusive, "{}", r.detail);
}

#[test]
fn gungraun_json_lines_give_each_benchmarks_instructions() {
    let line = |id: &str, ir: u64| {
        format!(
            r#"{{"id":"{id}","profiles":[{{"tool":"Callgrind","data":{{"total":{{"metrics":{{"Ir":{{"values":{{"new":{ir}}}}}}}}}}}}}]}}"#
        )
    };
    let text = format!("{}\nnot json\n{}\n", line("a", 10), line("b", 20));
    assert_eq!(
        tier1::parse_counts(&text).unwrap(),
        vec![("a".to_string(), 10), ("b".to_string(), 20)]
    );
    assert!(matches!(
        tier1::parse_counts("{\"id\":\"a\",\"profiles\":[]}"),
        Err(tier1::GateError::Output { line: 1, .. })
    ));
    assert!(tier1::parse_counts("").is_err());
}

#[test]
fn a_baseline_names_its_file_when_it_is_bad() {
    let dir = std::env::temp_dir().join(format!("gate-{}", std::process::id()));
    let path = dir.join("tier1.json");
    let mut b = baseline();
    b.save(&path).unwrap();
    assert_eq!(Baseline::load(&path).unwrap(), b);
    b.threshold_pct = 0.0;
    b.save(&path).unwrap();
    let e = Baseline::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("tier1.json") && e.contains("threshold_pct"),
        "{e}"
    );
    std::fs::write(&path, "{").unwrap();
    let e = Baseline::load(&path).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.contains("tier1.json") && e.contains("not valid"), "{e}");
}
