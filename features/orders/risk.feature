Feature: Pre-trade risk
  Risk refuses an order that breaks a limit before anything is persisted or sent, and says
  which limit. Investor 000001 may send at most 100 lots per order, at a price within 3 % of
  the last price (au2412 trades near 550, so 570 is outside the band but inside the day's
  6 % limit).

  Scenario: an order above the maximum order volume is refused naming the limit
    Given the platform is running
    When the order "big" buys 101 lots of rb2410 at 3600
    And the order "fine" buys 100 lots of rb2410 at 3600
    Then the order "big" was refused with FailedPrecondition naming "max_order_volume"
    And the order "fine" was acknowledged
    And the order "fine" reached the exchange 1 time
    And every check is valid

  Scenario: an order outside the price band is refused naming the limit
    Given the platform is running
    When the order "far" buys 1 lot of au2412 at 570
    Then the order "far" was refused with FailedPrecondition naming "price_band"
    And every check is valid

  Scenario: risk breaches inside a flow are all refused
    Given the engine trades as investor "000003"
    And the platform is running
    When a workload runs:
      | rate_per_s  | 200  |
      | operations  | 1500 |
      | risk_reject | 0.1  |
    Then every risk breach was refused
    And every check is valid
