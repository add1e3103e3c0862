Feature: The engine cut off from PostgreSQL
  An order is acknowledged only once it is committed, so while the engine cannot reach its
  database it acknowledges nothing new, and loses nothing: the orders it was committing when
  the cut began are either committed (and at the exchange) or nowhere. Each scenario cuts the
  database off for three seconds of an eight-second flow; an order whose answer takes over 5 s
  is an unknown outcome to the client, judged all or nothing.

  The first 500 ms of a cut are not judged for acknowledgements: the nemesis records the fault
  before it applies it, and an order committed in between is rightly acknowledged.

  A black hole on the link (the proxy's timeout toxic: answers swallowed, connections left
  open) is the hardest of them: nothing fails, the answers just never come, and TCP keepalives
  are answered by the proxy. The engine gives a PostgreSQL operation 10 s before it gives its
  connection up and tries again on a new one.

  Scenario: no order is acknowledged while the PostgreSQL link is down, none is lost, and trading resumes after the heal
    The fault proxy takes the engine's PostgreSQL link down: open connections are closed and
    new ones refused, so the engine sees errors at once and reconnects after the heal.

    Given the engine trades as investor "000003"
    And the platform is running
    When 800 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 3000
      fault = { kind = "down", link = "postgres" }
      """
    Then no order sent over 500 ms into a fault was acknowledged before its heal
    And trading resumed within 10 s of each heal
    And every check is valid

  Scenario: no order is acknowledged while PostgreSQL is partitioned away, none is lost, and trading resumes after the heal
    PostgreSQL's container is disconnected from the platform's network: packets are lost, no
    connection is closed, and TCP delivers what was held back once it is reconnected.

    Given the engine trades as investor "000003"
    And the platform is running
    When 800 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 3000
      fault = { kind = "partition", service = "postgres" }
      """
    Then no order sent over 500 ms into a fault was acknowledged before its heal
    And trading resumed within 10 s of each heal
    And every check is valid

  Scenario: commits whose answers a reset link lost are applied once, and trading resumes at once
    The fault proxy resets the engine's PostgreSQL connections as PostgreSQL answers (the
    reset_peer toxic on what the server sends), so commits happen whose answers are lost: the
    engine must not apply a batch of exchange returns twice when it tries again (it did: the
    account's margin moved twice, found by the chaos property), and a connection whose answer
    was swallowed must fail, not hang (the fault proxy let it live on after the heal, and the
    engine waited ~50 s).

    Given the engine trades as investor "000003"
    And the platform is running
    When 630 orders are sent at 126 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 600
      fault = { kind = "reset_peer", link = "postgres", stream = "downstream", timeout_ms = 300 }
      """
    Then trading resumed within 10 s of each heal
    And the check positions_match_trades is valid
    And the platform settled within 10 s of the flow's end
    And every check is valid

  Scenario: after a black hole on the PostgreSQL link the engine gives up the dead connections and trades again
    The fault proxy swallows everything PostgreSQL sends for two seconds, connections left
    open: the engine's commits in flight then never get an answer, even after the heal. Each
    gives its connection up after 10 s and tries again (an order batch reads back what
    committed; a return batch finds its flow position), so trading resumes within seconds of
    that, and nothing is lost or applied twice.

    Given the engine trades as investor "000003"
    And the platform is running
    When 1600 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 1000
      duration_ms = 2000
      fault = { kind = "timeout", link = "postgres", stream = "downstream", timeout_ms = 0 }
      """
    Then trading resumed within 15 s of each heal
    And the platform settled within 20 s of the flow's end
    And every check is valid
