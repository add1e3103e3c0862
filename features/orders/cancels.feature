Feature: Cancels
  A cancel of a resting order cancels it; a cancel racing a fill ends in exactly one of the two,
  with positions and margin as the trades imply.

  Scenario: a resting order is canceled
    Given the platform is running
    When the order "rest" buys 1 lot of au2412 at 550
    And the order "rest" is canceled
    Then the order "rest" was acknowledged
    And the order "rest" ended canceled
    And every check is valid

  Scenario: cancels racing partial fills
    Given the engine trades as investor "000003"
    And the platform is running
    When a workload runs:
      | rate_per_s  | 200           |
      | operations  | 1500          |
      | cancel      | 0.3           |
      | instruments | cu2409,au2412 |
    Then at least 300 cancels were sent
    And the check fills_match_orders is valid
    And the check legal_transitions is valid
    And every check is valid
