Feature: The harness catches an engine that acknowledges orders before they are durable
  The engine owes its clients: an acknowledged order is committed. With the test-only defect
  ack-before-durable the engine acknowledges and routes first and commits after; PostgreSQL
  slowed by 300 ms widens that window, and killing the engine inside it loses acknowledged
  orders. The same run on a healthy engine loses nothing.

  Scenario: acknowledged orders lost when a defective engine is killed
    Given the engine runs with the defect ack-before-durable
    And the platform is running
    When this fault is injected:
      """
      {"kind": "latency", "link": "postgres", "stream": "upstream", "latency_ms": 300}
      """
    And 200 orders are sent at 100 per second with this fault after 1 s:
      """
      {"kind": "kill", "service": "engine"}
      """
    Then the check no_lost_order is invalid
    And the check no_lost_order names the evidence

  Scenario: a healthy engine killed with orders in flight loses nothing
    Given the platform is running
    When this fault is injected:
      """
      {"kind": "latency", "link": "postgres", "stream": "upstream", "latency_ms": 300}
      """
    And 200 orders are sent at 100 per second with this fault after 1 s:
      """
      {"kind": "kill", "service": "engine"}
      """
    Then every check is valid
