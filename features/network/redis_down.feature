Feature: Redis unreachable
  Redis is a cache only: the contract says its loss slows nothing essential and loses nothing.
  The fault proxy takes the engine's Redis link down for three seconds of a six-second flow.

  Budget: 1 s at P99 in every phase, during the fault too (a shared 2-core CI machine, as in
  the happy path); an engine that waited on its cache would break it.

  Scenario: trading continues at its pace while Redis is unreachable
    Given the engine trades as investor "000003"
    And the order acknowledgement budget is P99 under 1 s
    And the trade return budget is P99 under 1 s
    And the platform is running
    When 600 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 3000
      fault = { kind = "down", link = "redis" }
      """
    Then trading continued during the faults
    And every ordinary order was acknowledged
    And every check is valid
