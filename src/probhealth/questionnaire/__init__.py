"""Questionnaires (pure): definitions loaded from YAML, skip logic, scoring, flags, needs and
barriers. No database, no printing: definitions and answers in, frozen results out."""
