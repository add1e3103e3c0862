Feature: The CTP front disconnects during fills
  The front sends FrontDisconnected(0x1001, read failed) and closes the engine's sessions twice
  while orders fill (cu2409 fills in parts every 20 ms) and its returns are held back by half a
  second, so returns are in flight at each disconnect (the front counts, for each session it
  cuts, the returns it had sequenced and not yet written; a disconnect that cut none proves
  nothing, and the run is then unknown). The engine reconnects, logs in, resumes
  its private flow with RESUME from the last sequence number it applied, and reconciles the
  orders it had not heard of: every trade is applied once, no order reaches the exchange twice.
  Orders sent while the session is down are refused or time out, as unknown outcomes. The
  front's own marks show the resume side: each cut session is followed by one replayed from at
  most the first return the cut one missed.

  Scenario: after reconnects with RESUME every trade is applied once
    Given the engine trades as investor "000003"
    And the platform is running
    When 600 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 0
      duration_ms = 5000
      fault = { kind = "delay_returns", ms = 500 }

      [[steps]]
      at_ms = 1500
      fault = { kind = "front_disconnect", reason = 0x1001 }

      [[steps]]
      at_ms = 3500
      fault = { kind = "front_disconnect", reason = 0x1001 }
      """
    Then returns were in flight at each disconnect
    And every return a disconnect cut off was replayed to the next session
    And trading was back within 10 s of each fault
    And the check fills_match_orders is valid
    And the check no_duplicate is valid
    And the check positions_match_trades is valid
    And every check is valid
