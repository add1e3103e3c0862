@dr
Feature: Losing the primary datacenter behind a slow inter-DC line
  The ground truth the RPO meter must reproduce. The inter-DC line is slowed to 200 ms each
  way, then dc1 is lost (every container killed at once, and the line's end with it: what the
  line held undelivered is lost) under a flow of 100 orders per second. With asynchronous
  replication dc1 acknowledges each order once it is durable on dc1 alone, so the orders whose
  WAL was still on the line (about the last 200 to 500 ms of them) are acknowledged and lost:
  the RPO is above 0 and the certificate names them. With synchronous replication
  (`remote_apply`) no commit returns before dc2 has applied it: nothing acknowledged is lost,
  however slow the line. A meter that measures 0 in the first scenario, or anything in the
  second, is wrong.

  Scenario: asynchronous replication loses acknowledged orders, and the meter names them
    Given two datacenters replicating async
    When the slow-line-loss drill runs at 100 orders per second
    Then WAL was on its way to dc2 when dc1 was lost
    And acknowledged orders were lost, each named
    And the drill's check rpo is invalid
    And the drill's check no_lost_order is invalid
    And the drill's check rto is valid

  Scenario: synchronous replication loses nothing behind the same line
    Given two datacenters replicating sync
    When the slow-line-loss drill runs at 100 orders per second
    Then no acknowledged order was lost
    And the drill's check rpo is valid
    And the drill's check no_business_loss is valid
    And the drill's check surviving_site is valid
    And the tier-1 RTO was within 30 s
