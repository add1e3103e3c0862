Feature: A budget that makes no sense

  Scenario: a negative budget
    Given the order acknowledgement budget is P99 under -2 ms
