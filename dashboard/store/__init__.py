"""The database: the schema (SQLAlchemy Core tables), engine creation and bulk copy
(database), the Alembic migrations, the reference data of the pilots (reference,
pilot.toml) and the users table (users).

May import dashboard.core only.
"""
