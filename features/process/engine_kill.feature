Feature: The engine killed with orders in flight
  The engine is killed (SIGKILL) three seconds into a ten-second flow, while the exchange holds
  back every return by two seconds, so the returns of about two hundred acknowledged orders
  (the last two seconds' at 100 per second) are in flight: once the engine is dead the harness
  reads its persisted private-flow position against the exchange's flow, and a kill that left
  nothing to resume proves nothing (the run is then unknown). The nemesis starts the engine again
  a second later. After the restart every acknowledged order is at the exchange exactly once
  (reconciled, not sent again), every trade return is applied once (the private flow resumes
  from the persisted sequence number), and the run reports how long the engine took to be
  ready again and trading to be back.

  The engine's readiness covers its start, schema, CTP login and reconciliation; 30 s leaves
  room for a shared 2-core CI machine.

  Scenario: a killed engine comes back with every acknowledged order at the exchange once and no trade return lost
    Given the engine trades as investor "000003"
    And the platform is running
    When 1000 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 0
      duration_ms = 4000
      fault = { kind = "delay_returns", ms = 2000 }

      [[steps]]
      at_ms = 3000
      duration_ms = 1000
      fault = { kind = "kill", service = "engine" }
      """
    Then returns were in flight at each engine kill
    And the engine was ready again within 30 s of its restart
    And trading was back within 30 s of each fault
    And the check no_lost_order is valid
    And the check no_duplicate is valid
    And the check fills_match_orders is valid
    And every check is valid
