Feature: A fault schedule that does not parse

  Scenario: a misspelt field in a schedule
    Given the engine trades as investor "000001"
    When 100 orders are sent at 100 per second with this schedule:
      """
      [[steps]]
      at_ms = 100
      fault = { kind = "kill", servise = "engine" }
      """
