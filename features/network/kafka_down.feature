Feature: Kafka unreachable for 10 seconds
  The engine writes every event into its outbox in the order's own transaction and relays it
  to Kafka afterwards, so an unreachable broker must not stop trading, and every event must
  reach Kafka once the link is back. The fault proxy takes the engine's Kafka link down (new
  connections refused, open ones closed) for ten seconds of a fifteen-second flow.

  Budget: 1 s at P99 in every phase, as in the happy path (a shared 2-core CI machine); an
  engine that waited for Kafka before acknowledging would break it during the fault.

  Scenario: trading continues while Kafka is unreachable and every event arrives after the heal
    Given the engine trades as investor "000003"
    And the order acknowledgement budget is P99 under 1 s
    And the trade return budget is P99 under 1 s
    And the platform is running
    When 1500 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 2000
      duration_ms = 10000
      fault = { kind = "down", link = "kafka" }
      """
    Then events were waiting in the outbox when each down fault on the kafka link was healed
    And trading continued during the faults
    And every ordinary order was acknowledged
    And the check kafka_has_every_event is valid
    And every check is valid
