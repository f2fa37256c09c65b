"""The store: the only package that talks to the database.

``probhealth.store.db.Store`` opens the database (one place), applies pragmas and migrations,
and hands out short read and write transactions. ``models`` holds the SQLModel tables;
``queries`` and the ``repo_*`` modules hold every SQL statement the application runs.
"""
