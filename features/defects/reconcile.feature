Feature: Reconciliation after a front disconnect
  After a reconnect the engine reconciles the orders whose fate it does not know with the
  exchange's own list: found ones are at the exchange and must not be sent again. Returns
  delayed by 10 s keep the fate of every order unknown at the disconnect, while the front still
  answers the engine's order query at once, so the reconciliation sees them all at the
  exchange without a return. The flow lasts 3 s, so the delay (healed with the flow) is still
  in force when the engine logs in again a second after the disconnect. With the test-only
  defect resend-without-idempotency the engine sends them again under new OrderRefs, and the
  exchange holds each twice.

  Scenario: a healthy engine reconciles after a front disconnect without duplicates
    Given the platform is running
    When the CTP front delays its returns by 10 s
    And 300 orders are sent at 100 per second with this fault after 500 ms:
      """
      {"kind": "front_disconnect", "reason": 4097}
      """
    Then every check is valid

  Scenario: an engine that re-sends found orders leaves duplicates at the exchange
    Given the engine runs with the defect resend-without-idempotency
    And the platform is running
    When the CTP front delays its returns by 10 s
    And 300 orders are sent at 100 per second with this fault after 500 ms:
      """
      {"kind": "front_disconnect", "reason": 4097}
      """
    Then the check no_duplicate is invalid
    And the check no_duplicate names the evidence
