Feature: A slow exchange: delayed returns and flow control
  The engine acknowledges an order once it is committed, before the exchange answers, so a
  slow exchange slows its fills, not its acknowledgements, and loses nothing. (The workload
  closes positions it expects filled a second after their opens; a close whose open's fill the
  exchange held back is rightly refused by risk, an answer on its merits.)

  Budget: 1 s at P99 in every phase, during the fault too (a shared 2-core CI machine, as in the
  happy path).

  Scenario: returns delayed by a second are all applied
    Given the engine trades as investor "000003"
    And the order acknowledgement budget is P99 under 1 s
    And the trade return budget is P99 under 1 s
    And the platform is running
    When 500 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 3000
      fault = { kind = "delay_returns", ms = 1000 }
      """
    Then trading continued during the faults
    And every check is valid

  Scenario: orders above the front's flow limit are queued, sent once, and all reach the exchange
    The front lets each session send 20 orders per second for three seconds while 100 per
    second are sent; the CTP client library answers -3 over the limit, and the engine must
    send those orders again later, once each.

    Given the engine trades as investor "000003"
    And the order acknowledgement budget is P99 under 1 s
    And the trade return budget is P99 under 1 s
    And the platform is running
    When 500 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 3000
      fault = { kind = "flow_control", orders_per_second = 20 }
      """
    Then trading continued during the faults
    And the check no_lost_order is valid
    And the check no_duplicate is valid
    And every check is valid

  Scenario: a hung front answers again as soon as it is healed
    The front goes silent for a second and a half (a hang meant to last an hour, healed
    early): it reads nothing and answers nothing, but keeps the connection open, so the engine
    sees no disconnect. Orders are still acknowledged (committed, then queued for the front);
    once healed, the front reads what waited and the platform settles within seconds, long
    before the CTP heartbeat timeout (30 s) would have dropped the session.

    Given the engine trades as investor "000003"
    And the order acknowledgement budget is P99 under 1 s
    And the trade return budget is P99 under 1 s
    And the platform is running
    When 300 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 1500
      fault = { kind = "front_hang", ms = 3600000 }
      """
    Then trading continued during the faults
    And the platform settled within 5 s of the flow's end
    And every check is valid
