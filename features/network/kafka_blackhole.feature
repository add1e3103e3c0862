Feature: Kafka's answers lost for a second
  A black hole on the engine's Kafka link (what Kafka sends back is swallowed, the
  connection stays open) leaves produce requests in flight without an answer. The engine's
  producer must send them again soon after the heal with the same sequence numbers, and
  must not let its messages time out: an idempotent producer whose messages time out bumps
  its epoch, which the tansu broker cannot take (its storage task panics and it answers
  nothing after that; found by the chaos property). So every event reaches Kafka once, and
  the platform settles within seconds rather than after librdkafka's default 60 s request
  timeout.

  Scenario: events whose acknowledgements were lost reach Kafka soon after the heal
    Given the engine trades as investor "000003"
    And the platform is running
    When 500 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 2000
      duration_ms = 1000
      fault = { kind = "timeout", link = "kafka", stream = "downstream", timeout_ms = 0 }
      """
    Then events were waiting in the outbox when each timeout fault on the kafka link was healed
    And trading continued during the faults
    And the check kafka_has_every_event is valid
    And the platform settled within 20 s of the flow's end
    And every check is valid
