Feature: The harness catches an engine that re-sends orders without idempotency
  After a reconnect the engine reconciles the orders whose fate it does not know with the
  exchange's own list: found ones are at the exchange and must not be sent again. With the
  test-only defect resend-without-idempotency it sends them again, so the exchange holds them
  twice. Returns delayed by 3 s keep the fate of the last orders unknown at the disconnect.

  Scenario: a defective engine re-sends orders after a front disconnect
    Given the engine runs with the defect resend-without-idempotency
    And the platform is running
    When the CTP front delays its returns by 3 s
    And 100 orders are sent at 100 per second with this fault after 500 ms:
      """
      {"kind": "front_disconnect", "reason": 4097}
      """
    Then the check no_duplicate is invalid
    And the check no_duplicate names the evidence

  Scenario: a healthy engine reconciles after a front disconnect without duplicates
    Given the platform is running
    When the CTP front delays its returns by 3 s
    And 100 orders are sent at 100 per second with this fault after 500 ms:
      """
      {"kind": "front_disconnect", "reason": 4097}
      """
    Then every check is valid
