"""Tables made and dropped straight from the models: how the tests (and the load and security
runs, which start from an empty database) get a clean schema in a second. A real database is
only ever made and changed by `intake.store.migrate`, so this lives with the tests, not the product."""

from sqlalchemy import Engine
from sqlmodel import SQLModel

import intake.store  # noqa: F401  (defines the tables on SQLModel.metadata)


def create_schema(engine: Engine) -> None:
    """Every table from the models, without Alembic: faster than migrating, for a fresh test instance."""
    SQLModel.metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    """Every table, and Alembic's record of the revision (tests start from nothing)."""
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def stamp_head(engine: Engine) -> None:
    """Record the tables made from the models as the head revision, as `intake init` leaves a database
    (what a backup names, and what `intake node join` and `intake serve` check)."""
    from alembic import command

    from intake.store import _alembic_config

    with engine.connect() as connection:
        command.stamp(_alembic_config(connection), "head")
        connection.commit()
