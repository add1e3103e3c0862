Feature: The harness catches an engine that acknowledges orders before they are durable
  The engine owes its clients: an acknowledged order is committed. With the test-only defect
  ack-before-durable the engine acknowledges and routes first and commits after. With the
  engine's link to PostgreSQL a black hole half a second into the flow (once it holds a block
  of order ids), its commits never arrive, and killing the engine a second later loses every
  order it acknowledged meanwhile. The same run on a healthy engine acknowledges
  nothing it has not committed, so it loses nothing (its orders end unknown, and none of
  them reached the exchange). The nemesis heals links before processes, so the engine starts
  again with PostgreSQL reachable. The defective engine never settles (orders it lost stay
  without an exchange answer), so its run is given 10 s to settle, not the default minute.

  Scenario: acknowledged orders lost when a defective engine is killed
    Given the engine runs with the defect ack-before-durable
    And the platform is running
    And the platform is given 10 s to settle
    When 300 orders are sent at 100 per second with these faults:
      | 500 ms | {"kind": "timeout", "link": "postgres", "stream": "upstream", "timeout_ms": 0} |
      | 1500 ms | {"kind": "kill", "service": "engine"} |
    Then the check no_lost_order is invalid
    And the check no_lost_order names the evidence

  Scenario: a healthy engine killed with orders in flight loses nothing
    Given the platform is running
    When 300 orders are sent at 100 per second with these faults:
      | 500 ms | {"kind": "timeout", "link": "postgres", "stream": "upstream", "timeout_ms": 0} |
      | 1500 ms | {"kind": "kill", "service": "engine"} |
    Then every check is valid
