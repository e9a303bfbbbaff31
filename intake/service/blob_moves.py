"""Moving an instance's files between the blob stores: filesystem -> database, and back.

Run with the service stopped (what it would write meanwhile goes to the store it was started
with), then set INTAKE_BLOBS to the new store and start it. Each blob is whole in the new store
(committed in the database, or written, fsynced and moved into place as a file) before it is
removed from the old one, so a move that is cut off loses nothing: run it again and it goes on.
Only blobs that a file of a case names move; anything else is an orphan, which `intake purge` sweeps.
"""

from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import select

from ..blobs import BlobStore, BlobWriter
from ..database_blobs import CHUNKS, DatabaseBlobStore
from ..settings import Settings
from ..store import Attachment, make_engine, reading


@dataclass(frozen=True)
class Moved:
    moved: int
    already: int  # in the new store already
    missing: int  # named by a file of a case, in neither store


def move_blobs(settings: Settings, to: str) -> Moved:
    """Every named blob into the store `to` ("database" or "filesystem")."""
    engine = make_engine(settings.database_url)
    database = DatabaseBlobStore(engine, upload_connections=1)
    directory = BlobStore(settings.blob_dir)
    try:
        with reading(engine) as db:
            named = sorted(set(db.exec(select(Attachment.blob_id)).all()))
        moved = already = missing = 0
        for blob_id in named:
            in_directory, in_database = directory.size(blob_id), database.size(blob_id)
            source_size = in_directory if to == "database" else in_database
            target_size = in_database if to == "database" else in_directory
            if source_size is None:
                already += target_size is not None
                missing += target_size is None
                continue
            if target_size != source_size:
                if to == "database":
                    with engine.begin() as connection:
                        connection.execute(delete(CHUNKS).where(CHUNKS.c.blob_id == blob_id))
                        database.write(blob_id, directory.read(blob_id), connection)
                else:
                    _write_file(directory, blob_id, database)
            if to == "database":
                directory.delete(blob_id)
            else:
                with engine.begin() as connection:
                    connection.execute(delete(CHUNKS).where(CHUNKS.c.blob_id == blob_id))
            moved += 1
        return Moved(moved, already, missing)
    finally:
        engine.dispose()


def _write_file(directory: BlobStore, blob_id: str, database: DatabaseBlobStore) -> None:
    writer = BlobWriter(directory, blob_id)
    try:
        for piece in database.read(blob_id):
            writer.write(piece)
    except BaseException:
        writer.abort()
        raise
    writer.commit()
    directory.settle([blob_id])


def misplaced(settings: Settings) -> int:
    """Blobs kept by the store INTAKE_BLOBS does not name: files the service would not find."""
    engine = make_engine(settings.database_url)
    try:
        if settings.blobs == "database":
            return len(BlobStore(settings.blob_dir).stored_ids()) if settings.blob_dir.exists() else 0
        with engine.connect() as connection:
            return len(connection.execute(select(CHUNKS.c.blob_id).limit(1)).all())
    finally:
        engine.dispose()
