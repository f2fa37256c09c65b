"""The schema revision this code expects, known without importing Alembic.

Opening a database compares its ``alembic_version`` with ``HEAD``; only when they differ is
Alembic imported to migrate. ``tests/store/test_migrations.py`` checks ``HEAD`` and
``KNOWN`` against the migration scripts, so a new migration cannot forget to update them.
"""

HEAD = "0011"
KNOWN = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011")
APPLICATION_ID = 0x50484C54  # "PHLT" in the SQLite header: marks a probhealth database
