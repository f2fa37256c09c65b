"""The service directory (pure): local providers of each pathway, their opening hours
(with bank holidays), and the checks that match them against a person's barriers."""
