Feature: PostgreSQL killed with commits in flight
  The contract's first promise, an order is acknowledged only once it is durable, against the
  database itself crashing under load: PostgreSQL is killed (SIGKILL) three seconds into a
  ten-second flow at 400 orders per second, busy enough that the engine's group commits and
  return batches are running in it, and started again two seconds later. The harness reads the
  engine's transactions open in PostgreSQL the moment before the kill (the report's hazards:
  two in the first runs, an order group commit and the outbox relay's read). After the restart
  (crash recovery replays the WAL) every acknowledged order is in the database and at the
  exchange, every trade is applied once, and orders whose commit the crash caught are either
  committed or nowhere.

  The hazard is reported, not required: the instant of a SIGKILL is Docker's, and at 400 orders
  per second an instant with no engine transaction open is rare but possible.

  Scenario: every acknowledged order survives a PostgreSQL crash
    Given the engine trades as investor "000003"
    And the platform is running
    When 4000 orders are sent at 400 per second with this schedule:
      """
      [[steps]]
      at_ms = 3000
      duration_ms = 2000
      fault = { kind = "kill", service = "postgres" }
      """
    Then trading was back within 30 s of each fault
    And the check no_lost_order is valid
    And the check unknown_all_or_nothing is valid
    And the check no_duplicate is valid
    And the check positions_match_trades is valid
    And every check is valid
