@dr
Feature: A pod kill on the standby site
  The DR topology with the ordinary steps: dc1 trades, dc2 holds a streaming standby of dc1's
  database and a standby engine, and a fault names its datacenter. dc2's engine is killed
  (SIGKILL) three seconds into a flow on dc1 and started again a second later. A standby
  engine holds no CTP session and writes nothing, so dc1 must not notice: every order is
  acknowledged once, every return applied once, and the standby comes back a standby, ready
  to be promoted (its readiness probe is the standby's, not `/ready`).

  A standby engine's start is its process, its database connection and its fence read; 30 s
  leaves room for a shared 2-core CI machine.

  Scenario: dc1 trades on while dc2's standby engine is killed and comes back
    Given the platform is running on two datacenters replicating sync
    When 600 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 3000
      duration_ms = 1000
      fault = { kind = "kill", service = "dc2/engine" }
      """
    Then the dc2 engine was ready again within 30 s of its restart
    And trading continued during the faults
    And every check is valid
