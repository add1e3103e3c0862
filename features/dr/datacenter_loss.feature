@dr
Feature: Unplanned loss of the primary datacenter
  Every dc1 container is killed at once (SIGKILL) five seconds into a flow of 100 orders per
  second, with orders in flight and trade returns flowing. Nobody tells the DR controller: it
  probes dc1's engine (`/ready` every 500 ms) and declares the site lost after three failures
  in a row, fences it (the router holds new orders; the promotion's higher epoch fences dc1's
  engine should it return), promotes dc2's PostgreSQL and engine, and reroutes. Under
  synchronous replication (`remote_apply`) every order dc1 acknowledged is already on dc2:
  nothing is lost. Orders in flight to dc1 when it died are unknown outcomes, judged all or
  nothing against the exchange. dc1 then comes back with its old data, and its engine must come
  back fenced.

  The reference allows 5 minutes (tier-1 RTO); the reference engine recovers order entry in
  about 2.5 s here, and the scenario holds it to 30 s.

  Scenario: dc1 lost under synchronous replication loses no acknowledged order and dc2 serves within 30 s
    Given two datacenters replicating sync
    When the dc-loss drill runs at 100 orders per second
    Then the controller took the steps "detected, fenced, promote_database, snapshot, promote_engine, rerouted, positions_queryable"
    And no acknowledged order was lost
    And the tier-1 RTO was within 30 s
    And the drill's check old_site_fenced is valid
    And the drill's check unknown_all_or_nothing is valid
    And the drill's check no_duplicate is valid
    And the drill's check rpo is valid
    And the drill's check no_business_loss is valid
    And the drill's check surviving_site is valid
    And the drill's check converged is valid
    And the new site served the post-drill validation
