Feature: Duplicate submissions
  A client that retries sends the same client_order_id again. The engine answers with the
  original order and never creates a second one, so the exchange sees it once.

  Scenario: an order submitted three times is one order at the exchange
    Given the platform is running
    When the order "retry-1" buys 2 lots of rb2410 at 3600
    And the order "retry-1" is submitted again
    And the order "retry-1" is submitted again
    Then every submission of "retry-1" returned the same order
    And the order "retry-1" reached the exchange 1 time
    And the check no_duplicate is valid
    And every check is valid

  Scenario: duplicates inside a flow return the original
    Given the engine trades as investor "000003"
    And the platform is running
    When a workload runs:
      | rate_per_s | 200  |
      | operations | 1500 |
      | duplicate  | 0.1  |
    Then every duplicate returned the original order
    And every check is valid
