Feature: A check that does not exist

  Scenario: naming an unknown check
    Given the engine trades as investor "000001"
    Then the check no_such_check is valid
