Feature: A step naming a datacenter that does not exist

  Scenario: the third datacenter's engine
    When the dc3 engine is killed
