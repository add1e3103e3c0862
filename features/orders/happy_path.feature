Feature: Orders at a fixed rate on a healthy platform
  The engine acknowledges an order only once it is durable, sends it to the exchange once,
  applies every return and publishes every state change. On a healthy platform a fixed-rate
  flow loses nothing, duplicates nothing, and meets its latency budget.

  The documents' budget is P99 < 2 ms with the WAL on a disk whose fsync takes about 110 µs.
  On the CI machines an 8 kB fdatasync takes about 3.8 ms (pg_test_fsync) and an order is
  acknowledged only after its commit, and a shared 2-core runner has stalls of a few hundred
  ms (a P99 of 419 ms was seen once, 19 ms typically), so this feature holds the engine to a
  budget that catches a stalled engine without failing a healthy one on a noisy runner; the
  perf stage measures against the documents' budget. A trade return is committed before it
  is applied, so the same holds for it (P99 7.3 ms against the documents' 10 ms when this was
  written, with P99.9 at 30 ms). Tick processing touches no disk and is held to the
  documents' P99 < 1 ms.

  Scenario: a fixed-rate flow is acknowledged within budget and nothing is lost
    Given the engine trades as investor "000003"
    And the order acknowledgement budget is P99 under 1 s
    And the trade return budget is P99 under 1 s
    And the tick processing budget is P99 under 1 ms
    And the platform is running
    When 2000 orders are sent at 200 per second
    Then every ordinary order was acknowledged
    And the check no_lost_order is valid
    And the check no_duplicate is valid
    And the check kafka_has_every_event is valid
    And the check positions_match_trades is valid
    And every check is valid
