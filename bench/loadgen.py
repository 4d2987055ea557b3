"""A small keep-alive HTTP/1.1 load generator (asyncio streams): fast enough that the
server, not the client, is what a run measures."""

from __future__ import annotations

import asyncio
import time

__all__ = ["alternating", "http_request", "requests_per_second"]


async def _worker(host: str, port: int, request: bytes, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            if status != b"200":
                raise RuntimeError(f"HTTP {status.decode()}: {head!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[0] += 1
    finally:
        writer.close()


async def requests_per_second(
    host: str, port: int, request: bytes, *, seconds: float, connections: int
) -> float:
    counts = [0]
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(_worker(host, port, request, deadline, counts) for _ in range(connections))
    )
    return counts[0] / (time.perf_counter() - start)


def http_request(method: str, path: str, body: bytes = b"", content_type: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", "Connection: keep-alive"]
    if body:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def alternating(
    product: tuple[int, bytes],
    floor: tuple[int, bytes],
    *,
    rounds: int,
    seconds: float,
    connections: int,
) -> tuple[float, float]:
    """Mean requests per second of (port, request) ``product`` and ``floor``, after a
    warm-up, measured in alternating rounds so that drift hits both alike."""
    for port, request in (product, floor):
        await requests_per_second("127.0.0.1", port, request, seconds=1, connections=4)
    product_total = floor_total = 0.0
    for _ in range(rounds):
        floor_total += await requests_per_second(
            "127.0.0.1", *floor, seconds=seconds, connections=connections
        )
        product_total += await requests_per_second(
            "127.0.0.1", *product, seconds=seconds, connections=connections
        )
    return product_total / rounds, floor_total / rounds
