Feature: A feature with a step no definition matches

  Scenario: the engine is asked for something it has no step for
    Given the engine trades as investor "000001"
    When the moon is full
