"""The chained recorders are still correct recorders, by the `eventsourcing` library's own tests.

The library ships its recorder contract as abstract test cases (`eventsourcing.tests.persistence`):
insert and select, notification ids and their order, IntegrityError on a conflict, concurrent
writers without conflicts, notification ids that never interleave between transactions, and
subscriptions. Here they run against the chained SQLite, PostgreSQL and in-memory recorders, as
the library runs them against its own (its tests/persistence_tests/test_sqlite.py,
test_postgres.py, test_popo.py and test_noninterleaving_notification_ids.py), and after every test
the chain those writes left must verify intact. The base cases are reached through their module
so that pytest does not collect them on their own.

The factories the ledger names for each store (`StoreURL.environment`) run the library's factory
case, and every recorder they hand out its case: aggregate, application, tracking (the
library's) and process, each recorder that writes events chained.

Not run from the library's suites: tests of its datastores and connection pools (nothing of them
changed), and its PostgreSQL "with db functions" variants: the chained recorder refuses
POSTGRES_ENABLE_DB_FUNCTIONS, whose database-function insert would bypass the chain
(test_refuses_db_functions).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from threading import Event, Thread
from typing import Any, Literal
from unittest import TestCase

import psycopg
import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    OperationalError,
    PersistenceError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from eventsourcing.tests import persistence as library
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from jamsos_ledger.stores.integrity import (
    ChainBroken,
    ChainedPOPOAggregateRecorder,
    ChainedPOPOApplicationRecorder,
    ChainedPOPOProcessRecorder,
    ChainedSQLiteAggregateRecorder,
    ChainedSQLiteApplicationRecorder,
    ChainedSQLiteFactory,
    ChainedSQLiteProcessRecorder,
    verify,
)
from jamsos_ledger.stores.integrity_postgres import (
    ChainedPostgresAggregateRecorder,
    ChainedPostgresApplicationRecorder,
    ChainedPostgresProcessRecorder,
)
from jamsos_ledger.stores.postgres import LedgerPostgresFactory
from jamsos_ledger.stores.urls import StoreURL

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class ChainChecked(TestCase):
    """After each test, every recorder it made must hold an intact chain over all its events."""

    def setUp(self) -> None:
        super().setUp()
        self.recorders: list[ApplicationRecorder] = []

    def chained(self, recorder: ApplicationRecorder) -> ApplicationRecorder:
        self.recorders.append(recorder)
        return recorder

    def tearDown(self) -> None:
        for recorder in self.recorders:
            report = verify(recorder)
            self.assertIsNone(report.discrepancy, report)
            self.assertEqual(report.events_checked, _count_events(recorder))
        super().tearDown()


def _count_events(recorder: ApplicationRecorder) -> int:
    total, start = 0, 0
    while True:
        page = recorder.select_notifications(start, 1000, inclusive_of_start=False)
        total += len(page)
        if len(page) < 1000:
            return total
        start = page[-1].id


def _event(originator_id: Any = None, version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id or uuid.uuid4(), version, "topic", b"state")


# --- SQLite -----------------------------------------------------------------------------------


class TestChainedSQLiteApplicationRecorder(
    ChainChecked, library.ApplicationRecorderTestCase[ChainedSQLiteApplicationRecorder]
):
    db_uri = ":memory:"
    originator_id_type: Literal["uuid", "text"] = "uuid"

    def create_recorder(self) -> ChainedSQLiteApplicationRecorder:
        recorder = ChainedSQLiteApplicationRecorder(
            SQLiteDatastore(
                db_name=self.db_uri, pool_size=100, originator_id_type=self.originator_id_type
            )
        )
        recorder.create_table()
        self.chained(recorder)
        return recorder

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self.db_uri = next(library.tmpfile_uris())
        super().test_concurrent_no_conflicts()

    def test_concurrent_no_conflicts_in_memory_db(self) -> None:
        self.db_uri = "file::memory:?cache=shared"
        super().test_concurrent_no_conflicts()

    def test_concurrent_throughput(self) -> None:
        self.db_uri = next(library.tmpfile_uris())
        super().test_concurrent_throughput()

    def test_concurrent_throughput_in_memory_db(self) -> None:
        self.db_uri = "file::memory:?cache=shared"
        super().test_concurrent_throughput()


class TestChainedSQLiteApplicationRecorderWithTextOriginatorID(
    TestChainedSQLiteApplicationRecorder
):
    originator_id_type: Literal["uuid", "text"] = "text"

    def new_originator_id(self) -> uuid.UUID | str:
        return "test-" + str(uuid.uuid4())


class TestChainedSQLiteNonInterleavingInMemory(
    ChainChecked, library.NonInterleavingNotificationIDsBaseCase
):
    insert_num = 10000

    def create_recorder(self) -> ApplicationRecorder:
        recorder = ChainedSQLiteApplicationRecorder(
            SQLiteDatastore(db_name="file::memory:?cache=shared")
        )
        recorder.create_table()
        return self.chained(recorder)


class TestChainedSQLiteNonInterleavingFileDB(
    ChainChecked, library.NonInterleavingNotificationIDsBaseCase
):
    insert_num = 10000

    def create_recorder(self) -> ApplicationRecorder:
        recorder = ChainedSQLiteApplicationRecorder(
            SQLiteDatastore(db_name=next(library.tmpfile_uris()))
        )
        recorder.create_table()
        return self.chained(recorder)


class TestChainedSQLiteErrors(TestCase):
    """The library's own error tests for its SQLite application recorder."""

    def test_insert_raises_operational_error_if_table_not_created(self) -> None:
        recorder = ChainedSQLiteApplicationRecorder(SQLiteDatastore(":memory:"))
        with self.assertRaises(OperationalError):
            recorder.insert_events([_event()])

    def test_select_raises_operational_error_if_table_not_created(self) -> None:
        recorder = ChainedSQLiteApplicationRecorder(SQLiteDatastore(":memory:"))
        with self.assertRaises(OperationalError):
            recorder.select_events(uuid.uuid4())
        with self.assertRaises(OperationalError):
            recorder.select_notifications(start=1, limit=1)
        with self.assertRaises(OperationalError):
            recorder.max_notification_id()

    def test_subscribe_raised_not_implemented_error(self) -> None:
        recorder = ChainedSQLiteApplicationRecorder(SQLiteDatastore(":memory:"))
        with self.assertRaises(NotImplementedError):
            recorder.subscribe(0)


# --- In memory --------------------------------------------------------------------------------


class TestChainedPOPOApplicationRecorder(
    ChainChecked, library.ApplicationRecorderTestCase[ChainedPOPOApplicationRecorder]
):
    def create_recorder(self) -> ChainedPOPOApplicationRecorder:
        recorder = ChainedPOPOApplicationRecorder()
        self.chained(recorder)
        return recorder

    def test_insert_subscribe(self) -> None:
        super().optional_test_insert_subscribe()


class TestChainedPOPOAggregateRecorder(ChainChecked, library.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.chained(ChainedPOPOAggregateRecorder())


class TestChainedPOPOProcessRecorder(ChainChecked, library.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        recorder = ChainedPOPOProcessRecorder()
        self.chained(recorder)
        return recorder


class TestChainedPOPONonInterleaving(ChainChecked, library.NonInterleavingNotificationIDsBaseCase):
    insert_num = 10000

    def create_recorder(self) -> ApplicationRecorder:
        return self.chained(ChainedPOPOApplicationRecorder())


# --- PostgreSQL -------------------------------------------------------------------------------


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
    return None


class PostgresSchema(ChainChecked):
    """A datastore on a schema of this test's own, dropped with everything in it afterwards.

    The library's cases use a database `eventsourcing` and drop its tables around each test;
    the project's test server has a database `test`, and a fresh schema is safer to share.
    """

    pool_size = 1
    max_overflow = 0
    originator_id_type: Literal["uuid", "text"] = "uuid"

    def setUp(self) -> None:
        problem = _postgres_reachable()
        if problem is not None:
            pytest.skip(f"POSTGRESQL NOT REACHABLE at {POSTGRES}: {problem}")
        super().setUp()
        self.schema = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(self.schema)))
        self.datastore = PostgresDatastore(
            "test",
            "127.0.0.1",
            "5432",
            "postgres",
            "",
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            schema=self.schema,
            originator_id_type=self.originator_id_type,
        )

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            self.datastore.close()
            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                conn.execute(
                    SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(self.schema))
                )


# The library's longest legal table name: its chain table's name is shortened to fit.
EVENTS_TABLE_NAME = "s" * 50 + "stored_events"


@pytest.mark.postgres
class TestChainedPostgresApplicationRecorder(
    PostgresSchema, library.ApplicationRecorderTestCase[ChainedPostgresApplicationRecorder]
):
    def create_recorder(
        self, table_name: str = EVENTS_TABLE_NAME
    ) -> ChainedPostgresApplicationRecorder:
        recorder = ChainedPostgresApplicationRecorder(
            self.datastore, events_table_name=table_name
        )
        recorder.create_table()
        self.chained(recorder)
        return recorder

    def test_insert_subscribe(self) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(2, 2)
        super().optional_test_insert_subscribe()

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(12, 12)
        super().test_concurrent_no_conflicts()

    def test_concurrent_throughput(self) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(10, 10)
        super().test_concurrent_throughput()

    def test_insert_lock_timeout_actually_works(self) -> None:
        # The library's test: a writer holding the table lock makes another time out.
        self.datastore.lock_timeout = 1
        self.datastore.pool.open()
        self.datastore.pool.resize(2, 2)
        recorder = self.create_recorder()
        table_lock_acquired, test_ended, timed_out = Event(), Event(), Event()

        def insert1() -> None:
            with self.datastore.transaction() as curs:
                recorder._insert_stored_events(curs, [_event()])
                table_lock_acquired.set()
                test_ended.wait(timeout=5)

        def insert2() -> None:
            try:
                with self.datastore.get_connection() as conn:
                    table_lock_acquired.wait(timeout=5)
                    with conn.transaction(), conn.cursor() as curs:
                        recorder._insert_stored_events(curs, [_event()])
            except OperationalError as e:
                if "lock timeout" in e.args[0]:
                    timed_out.set()

        threads = [Thread(target=insert1, daemon=True), Thread(target=insert2, daemon=True)]
        for t in threads:
            t.start()
        timed_out.wait(timeout=4)
        test_ended.set()
        for t in threads:
            t.join(timeout=10)
        self.assertTrue(timed_out.is_set())

    def test_fetch_ids_after_insert_events(self) -> None:
        # The library's test: a broken insert (no RETURNING) is reported, not half-chained.
        recorder = self.create_recorder()
        self.assertEqual(recorder.insert_events([_event()]), [1])
        # The chained recorder inserts with its own statement (arrays of plain types).
        recorder._insert_columns = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[])"
        ).format(
            schema=Identifier(self.schema),
            table=Identifier(recorder.events_table_name),
            id_type=Identifier(self.originator_id_type),
        )
        with self.assertRaises(ProgrammingError) as cm:
            recorder.insert_events([_event()])
        self.assertIn("Couldn't get all notification IDs", str(cm.exception))
        self.assertEqual(recorder.max_notification_id(), 1)


@pytest.mark.postgres
class TestChainedPostgresApplicationRecorderWithTextOriginatorID(
    TestChainedPostgresApplicationRecorder
):
    originator_id_type: Literal["uuid", "text"] = "text"

    def new_originator_id(self) -> uuid.UUID | str:
        return "test-" + str(uuid.uuid4())


@pytest.mark.postgres
class TestChainedPostgresNonInterleaving(
    PostgresSchema, library.NonInterleavingNotificationIDsBaseCase
):
    insert_num = 100
    pool_size = 2

    def create_recorder(self) -> ApplicationRecorder:
        recorder = ChainedPostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        return self.chained(recorder)


@pytest.mark.postgres
class TestChainedPostgresErrors(PostgresSchema):
    def test_refuses_db_functions(self) -> None:
        datastore = PostgresDatastore(
            "test", "127.0.0.1", "5432", "postgres", "", schema=self.schema,
            enable_db_functions=True,
        )
        try:
            with self.assertRaises(ProgrammingError):
                ChainedPostgresApplicationRecorder(datastore)
        finally:
            datastore.close()

    def test_select_notifications_raises_programming_error_when_table_not_created(self) -> None:
        recorder = ChainedPostgresApplicationRecorder(self.datastore)
        with self.assertRaises(ProgrammingError):
            recorder.select_notifications(start=1, limit=1)


# --- Atomicity of events and chain, on every store ----------------------------------------------


def _sqlite(tmp_path: Any) -> ChainedSQLiteApplicationRecorder:
    recorder = ChainedSQLiteApplicationRecorder(SQLiteDatastore(f"{tmp_path}/events.db"))
    recorder.create_table()
    return recorder


def _chain_length(recorder: Any) -> int:
    return len(recorder.select_chain_rows(-1, 10**18, 10**6))


def _make(kind: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if kind == "sqlite":
        r = _sqlite(tmp_path)
        yield r
        r.datastore.close()
    elif kind == "memory":
        yield ChainedPOPOApplicationRecorder()
    else:
        url = request.getfixturevalue("postgres_url")
        schema = url.rsplit("schema=", 1)[1]
        datastore = PostgresDatastore("test", "127.0.0.1", "5432", "postgres", "", schema=schema)
        r = ChainedPostgresApplicationRecorder(datastore)
        r.create_table()
        yield r
        datastore.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def recorder(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """Each chained recorder in turn, on a fresh store."""
    yield from _make(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_recorder(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """The chained recorders that write with SQL."""
    yield from _make(request.param, request, tmp_path)


def test_a_conflict_raises_integrity_error_and_writes_nothing(recorder: Any) -> None:
    taken = _event()
    assert recorder.insert_events([taken]) == [1]
    with pytest.raises(IntegrityError):
        recorder.insert_events([_event(), taken])  # the second conflicts, the first must go too
    assert recorder.max_notification_id() == 1
    assert _chain_length(recorder) == 1
    ids = recorder.insert_events([_event(), _event()])
    # PostgreSQL's sequence skipped the ids of the rolled-back insert: the chain follows the ids.
    assert len(ids) == 2 and ids[0] > 1
    report = verify(recorder)
    assert report.intact, report
    assert (report.events_checked, report.head_position) == (3, ids[-1])


def test_a_failing_chain_insert_writes_no_event(sql_recorder: Any) -> None:
    recorder = sql_recorder
    recorder.insert_events([_event()])
    recorder._insert_chain = (
        "INSERT INTO no_such_table VALUES (?, ?)"
        if isinstance(recorder, ChainedSQLiteApplicationRecorder)
        else SQL("INSERT INTO no_such_table SELECT * FROM unnest(%s::bigint[], %s::bytea[])")
    )
    with pytest.raises(PersistenceError):
        recorder.insert_events([_event()])
    assert recorder.max_notification_id() == 1
    assert verify(recorder).intact


def test_a_write_after_events_were_cut_off_is_refused(tmp_path: Any) -> None:
    # SQLite numbers a new row after the highest left: after the last events were deleted, new
    # events would take positions the chain already holds. The write is refused, not chained.
    recorder = _sqlite(tmp_path)
    recorder.insert_events([_event(), _event()])
    with recorder.datastore.transaction(commit=True) as c:
        c.execute("DELETE FROM stored_events WHERE rowid = 2")
    with pytest.raises(ChainBroken, match="already reaches position 2"):
        recorder.insert_events([_event()])
    assert recorder.max_notification_id() == 1


def test_events_stored_before_the_chain_are_chained_by_the_next_write(tmp_path: Any) -> None:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    datastore = SQLiteDatastore(f"{tmp_path}/old.db")
    old = SQLiteApplicationRecorder(datastore)
    old.create_table()
    old.insert_events([_event() for _ in range(1500)])
    recorder = ChainedSQLiteApplicationRecorder(datastore)
    recorder.create_table()
    before = verify(recorder)
    assert before.discrepancy is not None
    assert (before.discrepancy.position, before.discrepancy.kind) == (1, "inserted")
    recorder.insert_events([_event()])
    after = verify(recorder)
    assert after.intact and after.events_checked == 1501


# --- The factories the ledger names, and every recorder they hand out ---------------------------


class StoreOfItsOwn(TestCase):
    """A store of this test's own as the ledger names it (a store URL), and the settings the
    ledger makes of it (`StoreURL.environment`): the factory is the one a command uses."""

    kind = "sqlite"

    def setUp(self) -> None:
        self.schema = ""
        if self.kind == "postgresql":
            problem = _postgres_reachable()
            if problem is not None:
                pytest.skip(f"POSTGRESQL NOT REACHABLE at {POSTGRES}: {problem}")
            self.schema = f"test_{uuid.uuid4().hex[:16]}"
            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(self.schema)))
            url = f"{POSTGRES}?schema={self.schema}"
        else:
            self.folder = tempfile.TemporaryDirectory()
            url = f"sqlite:///{self.folder.name}/ledger.db"
        # No application name, as the library's own factory tests (they set one themselves).
        self.env = Environment("", StoreURL.parse(url).environment())
        super().setUp()

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            factory = getattr(self, "factory", None)
            if factory is not None:
                factory.close()
            if self.schema:
                with psycopg.connect(POSTGRES, autocommit=True) as conn:
                    conn.execute(
                        SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(self.schema))
                    )
            else:
                self.folder.cleanup()


class SQLiteTracking(SQLiteTrackingRecorder):
    pass


class PostgresTracking(PostgresTrackingRecorder):
    pass


class TestChainedSQLiteFactory(StoreOfItsOwn, library.InfrastructureFactoryTestCase[Any]):
    def expected_factory_class(self) -> type[Any]:
        return ChainedSQLiteFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return ChainedSQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return ChainedSQLiteApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return SQLiteTracking

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return ChainedSQLiteProcessRecorder


@pytest.mark.postgres
class TestLedgerPostgresFactory(StoreOfItsOwn, library.InfrastructureFactoryTestCase[Any]):
    kind = "postgresql"

    def expected_factory_class(self) -> type[Any]:
        return LedgerPostgresFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return ChainedPostgresAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return ChainedPostgresApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return PostgresTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return PostgresTracking

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return ChainedPostgresProcessRecorder


class FactoryMade(ChainChecked, StoreOfItsOwn):
    """Recorders made by the ledger's factory of the store; those that write events must leave
    an intact chain over all of them (ChainChecked)."""

    def setUp(self) -> None:
        super().setUp()
        self.factory = InfrastructureFactory.construct(self.env)

    def events_recorder(self, recorder: Any) -> Any:
        self.assertTrue(hasattr(recorder, "chain_table_name"), type(recorder))
        return self.chained(recorder)


class TestSQLiteFactoryAggregateRecorder(FactoryMade, library.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.events_recorder(self.factory.aggregate_recorder("snapshots"))


class TestSQLiteFactoryApplicationRecorder(
    FactoryMade, library.ApplicationRecorderTestCase[Any]
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.events_recorder(self.factory.application_recorder())


class TestSQLiteFactoryTrackingRecorder(StoreOfItsOwn, library.TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        self.factory = InfrastructureFactory.construct(self.env)
        return self.factory.tracking_recorder()


class TestSQLiteFactoryProcessRecorder(FactoryMade, library.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return self.events_recorder(self.factory.process_recorder())


@pytest.mark.postgres
class TestPostgresFactoryAggregateRecorder(TestSQLiteFactoryAggregateRecorder):
    kind = "postgresql"


@pytest.mark.postgres
class TestPostgresFactoryApplicationRecorder(TestSQLiteFactoryApplicationRecorder):
    kind = "postgresql"


@pytest.mark.postgres
class TestPostgresFactoryTrackingRecorder(TestSQLiteFactoryTrackingRecorder):
    kind = "postgresql"


@pytest.mark.postgres
class TestPostgresFactoryProcessRecorder(TestSQLiteFactoryProcessRecorder):
    kind = "postgresql"


class TestMemoryFactoryRecorders(ChainChecked):
    """The in-memory store's factory: its events recorders are chained too."""

    def test_every_events_recorder_is_chained(self) -> None:
        factory = InfrastructureFactory.construct(
            Environment("", StoreURL.parse("memory://").environment())
        )
        for recorder in (
            factory.aggregate_recorder(),
            factory.application_recorder(),
            factory.process_recorder(),
        ):
            self.chained(recorder)
            recorder.insert_events([_event(), _event()])
            self.assertEqual(_chain_length(recorder), 2, type(recorder))
