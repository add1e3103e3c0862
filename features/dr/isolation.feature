@dr
Feature: The primary datacenter cut off but alive (split brain)
  Every link of the inter-DC line is cut five seconds into a flow of 100 orders per second
  while dc1 keeps running, and a stale client keeps sending 10 orders per second straight to
  dc1's engine throughout, as a client that still resolves the old site would. The DR
  controller watches dc1 from the DR site's side, across the line (a `SELECT 1` on dc1's
  PostgreSQL every 500 ms, lost after three failures), then fences, promotes dc2 and reroutes.
  Six seconds after the cut the line is back, with the stale client still sending. At most
  one site may acknowledge orders at any time: under synchronous replication the cut-off dc1
  cannot (its commits wait for a standby that has been promoted away), and once the line is
  back it reads dc2's higher epoch and fences itself. An old primary that ignores the fence
  (a test-only defect) is caught: it comes back active, not fenced.

  Scenario: dc1 isolated under synchronous replication: one site at a time, and dc1 fences itself
    Given two datacenters replicating sync
    When the isolation drill runs at 100 orders per second
    Then the controller took the steps "detected, fenced, promote_database, snapshot, promote_engine, rerouted, positions_queryable"
    And the drill's check at_most_one_site is valid
    And the drill's check old_site_fenced is valid
    And no acknowledged order was lost
    And the tier-1 RTO was within 30 s
    And the drill's check surviving_site is valid
    And the drill's check converged is valid
    And the new site served the post-drill validation

  Scenario: an old primary that ignores the fence is caught by the split-brain drill
    Given two datacenters replicating sync
    And the engine runs with the defect ignore-fence
    When the isolation drill runs at 100 orders per second
    Then the drill's check old_site_fenced is invalid
