@dr
Feature: Failback to the primary site
  The reference's drill plan (000 section 3.2.2) switches to the DR site and back. Under an
  open-loop flow of 100 orders per second through the order router, with trade returns
  flowing, the DR controller switches dc1 over to dc2 (`switch_to_dr`), rebuilds dc1 as the
  standby of dc2 (its engine and PostgreSQL stop, a base backup of dc2 is taken across the
  inter-DC line, its PostgreSQL streams from dc2, the synchronous standby under sync, and its
  engine waits as a standby because its database is one), switches back to dc1 the same way,
  and rebuilds dc2 as the standby of dc1: the topology the platform started with.

  Neither switch may lose anything: RPO = 0 is checked for the first against dc2's database at
  its promotion and for the failback against dc1's at its own, where every order acknowledged
  before it (dc1's first ones, which made the round trip through dc2 and the base backup,
  included) must be. The reference's post-drill validation: once dc2 has rejoined and replayed
  everything, both sites hold the same orders and trades.

  Scenario Outline: a failback under <replication> replication loses nothing and leaves both sites equal
    Given two datacenters replicating <replication>
    When the failback drill runs at 100 orders per second
    Then the controller took the steps "switchover_started, promote_engine, rerouted, rejoin_started, rejoined, switchover_started, caught_up, promote_database, promote_engine, rerouted, positions_queryable, rejoin_started, rejoined"
    And no acknowledged order was lost
    And the tier-1 RTO was within 30 s
    And the drill's check switchover_rto is valid
    And the drill's check switchover_rpo is valid
    And the drill's check rpo is valid
    And the drill's check no_business_loss is valid
    And the drill's check surviving_site is valid
    And the drill's check converged is valid
    And the drill's check sites_agree is valid
    And the new site served the post-drill validation

    Examples:
      | replication |
      | sync        |
      | async       |
