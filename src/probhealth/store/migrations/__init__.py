"""Alembic migration scripts (``script_location = probhealth.store:migrations``)."""
