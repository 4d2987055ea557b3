"""Fixtures: the whole suite runs on the embedded defaults (SQLite file + Valkey), and
again on PostgreSQL + Redis when LAUREL_TEST_DATABASE_URL / LAUREL_TEST_REDIS_URL are set.

Each test starts from empty tables and an empty Redis database. The clock of
the use cases is a ``Clock`` the test can move.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis
from tortoise.contrib.test import truncate_all_models

from leaderboards import EmbeddedValkey, Leaderboards, connect
from server.actions import Services, adopt_boards, install_consumers
from server.app import create_app
from server.auth import create_api_key, issue_member_token
from server.db import apply_migrations, orm
from server.events import EventLog
from server.rewards import snapshots
from server.rewards.staff import StaffRole
from server.settings import Settings

JWT_SECRET = "test-secret-" + "x" * 40


@dataclass
class Backend:
    name: str
    database_url: str
    redis_url: str


class Clock:
    """A clock the test moves; starts at the real now."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _backends() -> list[Any]:
    """One back end per pytest run: Tortoise binds its models to one dialect per process.

    ``make test`` runs the suite on the embedded defaults, then again with
    LAUREL_TEST_BACKEND=postgres when the LAUREL_TEST_* URLs are set.
    """
    name = os.environ.get("LAUREL_TEST_BACKEND", "embedded")
    if name == "postgres" and not (
        os.environ.get("LAUREL_TEST_DATABASE_URL") and os.environ.get("LAUREL_TEST_REDIS_URL")
    ):
        raise pytest.UsageError(
            "LAUREL_TEST_BACKEND=postgres needs LAUREL_TEST_DATABASE_URL and LAUREL_TEST_REDIS_URL"
        )
    if name not in {"embedded", "postgres"}:
        raise pytest.UsageError("LAUREL_TEST_BACKEND must be embedded or postgres")
    return [pytest.param(name, id=name)]


def on_postgres() -> bool:
    return os.environ.get("LAUREL_TEST_BACKEND") == "postgres"


async def _create_pg_database(base_url: str) -> tuple[str, str]:
    name = f"laurel_test_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(base_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    prefix, _, _ = base_url.rpartition("/")
    return name, f"{prefix}/{name}"


async def _drop_pg_database(base_url: str, name: str) -> None:
    conn = await asyncpg.connect(base_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=_backends())
async def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backend]:
    if request.param == "embedded":
        data = tmp_path_factory.mktemp("embedded")
        valkey = EmbeddedValkey(data)
        url = valkey.start()
        try:
            yield Backend("embedded", f"sqlite://{data / 'laurel.sqlite3'}", url)
        finally:
            valkey.stop()
        return
    base = os.environ["LAUREL_TEST_DATABASE_URL"]
    name, url = await _create_pg_database(base)
    try:
        yield Backend("postgres", url, os.environ["LAUREL_TEST_REDIS_URL"])
    finally:
        await _drop_pg_database(base, name)


@pytest.fixture(scope="session")
async def redis(backend: Backend) -> AsyncIterator[Redis]:
    client = connect(backend.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
async def database(backend: Backend) -> AsyncIterator[Backend]:
    """Migrated with the shipped migrations, ORM open for the session."""
    await apply_migrations(backend.database_url)
    async with orm(backend.database_url):
        yield backend


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def svc(database: Backend, redis: Redis, clock: Clock) -> Services:
    """Clean tables and boards, and the services of one process."""
    await truncate_all_models()
    snapshots.changed()  # the configuration rows went with the tables
    await redis.flushdb()
    boards = Leaderboards(redis)
    return await services_of(boards, clock)


async def services_of(boards: Leaderboards, clock: Clock, **given: Any) -> Services:
    """The services of one process, with its consumers, on boards both empty and right."""
    svc = Services(events=EventLog(boards), boards=boards, clock=clock, **given)
    install_consumers(svc)
    await adopt_boards(svc)
    return svc


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Rate limits off: a test's bursts (Hypothesis) are not what they measure.
    # tests/server/test_rate_limits.py turns them on with tiny rates.
    return Settings(data_dir=tmp_path, jwt_secret=JWT_SECRET, rate_limit_enabled=False)


@pytest.fixture
async def client(svc: Services, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, services=svc, jwt_secret=JWT_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://laurel.test") as http:
        yield http


@pytest.fixture
async def keys(svc: Services) -> dict[str, str]:
    """One API key per staff role: {"SERVICE": key, "MODERATOR": key, "ADMIN": key}."""
    return {role.value: await create_api_key(role, f"test {role.value}") for role in StaffRole}


class GraphQL:
    """Posts GraphQL over HTTP as a given caller."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> dict[str, Any]:
        """The ``data`` of a successful response; fails the test on GraphQL errors."""
        response = await self.raw(query, variables, auth=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


async def member_token(external_id: str, *, minutes: float = 60) -> str:
    return await issue_member_token(external_id, JWT_SECRET, ttl=timedelta(minutes=minutes))
