Feature: A feature that does not parse

  Scenario: a doc string that is never closed
    Given the engine trades as investor "000001"
      """
      the rest of the file is swallowed

  Scenario: never reached
    Given the platform is running
