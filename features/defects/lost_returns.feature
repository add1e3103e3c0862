Feature: The harness catches an engine that loses trade returns or events
  A harness is worth its verdicts. These scenarios switch on the reference engine's test-only
  defects and expect the check that each defect breaks to find it, naming the orders.

  Scenario: a dropped trade return is caught by the fills check
    Given the engine runs with the defect drop-trade-return
    And the platform is running
    When 300 orders are sent at 100 per second
    Then the check fills_match_orders is invalid
    And the check fills_match_orders names the evidence
    And the check positions_match_trades is invalid

  Scenario: events that skip the outbox are caught by the Kafka check
    Given the engine runs with the defect skip-outbox
    And the platform is running
    When 300 orders are sent at 100 per second
    Then the check kafka_has_every_event is invalid
    And the check kafka_has_every_event names the evidence
