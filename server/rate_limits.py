"""Who may call ``/graphql`` how often: the policy over ``leaderboards.RateLimiter``.

- Anonymous and shopper requests count per client address; shopper requests also
  per member. Staff keys count per key only: a shop's backend sends everything from
  one address, and its key is a 192-bit secret an admin handed out.
- Failed credentials count per address and per API-key prefix. Once either has had
  ``LAUREL_RATE_LIMIT_FAILED_AUTH`` failures, further wrong credentials are answered
  429 instead of 401. Credentials are still checked first (one indexed lookup, or a
  JWT signature), so a valid key keeps working from anywhere while someone guesses
  at it, even from the guesser's own address.
- Each WebSocket message counts like an HTTP request; too many close the socket
  with 4429.
- The client address is the TCP peer, unless the peer is in
  ``LAUREL_TRUSTED_PROXIES``: then X-Forwarded-For is read from the right, skipping
  trusted hops. IPv6 clients count per /64 (one host usually holds a whole /64).
- Redis away (or slower than the limiter's timeout): every request is allowed
  (``RateLimiter`` fails open and logs once), except wrong credentials, answered 429:
  a refusal costs a guesser only, and guessing must not get faster on a busy server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from leaderboards import Leaderboards, Rate, RateLimiter, Verdict, parse_rate
from server.auth import Principal, Role
from server.i18n import render
from server.rewards.text import msg
from server.settings import Settings

__all__ = ["RATE_LIMITED_CODE", "RateLimits", "client_address", "refuse", "too_many_requests"]

RATE_LIMITED_CODE = "RATE_LIMITED"
WS_CLOSE_RATE_LIMITED = 4429
_API_KEY = "lrl_"
_MAX_PREFIX = 16  # longer "prefixes" are cut: the counter's key stays short
_ALLOWED = Verdict(True)
_UNCOUNTED_FAILURE = Verdict(False, 5)

Network = IPv4Network | IPv6Network


def _parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _bucket(ip: IPv4Address | IPv6Address) -> str:
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The address a request's counts go to (see the module's docstring)."""
    peer = scope.get("client")
    host = peer[0] if peer else ""
    ip = _parse_ip(host) if host else None
    if ip is None:
        return host or "unknown"
    if not trusted or not any(ip in net for net in trusted):
        return _bucket(ip)
    forwarded: list[str] = []
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            forwarded.extend(value.decode("latin-1").split(","))
    for hop in reversed(forwarded):
        hop_ip = _parse_ip(hop)
        if hop_ip is None:
            break  # garbage from beyond the trusted hops: count the last trusted one
        ip = hop_ip
        if not any(hop_ip in net for net in trusted):
            break
    return _bucket(ip)


def _key_prefix(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    credential = authorization.strip().partition(" ")[2].strip()
    if not credential.startswith(_API_KEY):
        return None
    return credential[len(_API_KEY) :].split("_", 1)[0][:_MAX_PREFIX]


def too_many_requests(verdict: Verdict) -> JSONResponse:
    """429 with ``Retry-After`` and a GraphQL-shaped error the client can read."""
    seconds = max(1, verdict.retry_after)
    body = {
        "errors": [
            {
                "message": render(msg("Too many requests; retry in {seconds} s.", seconds=seconds)),
                "extensions": {"code": RATE_LIMITED_CODE, "retryAfter": seconds},
            }
        ]
    }
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(seconds)})


async def refuse(scope: Scope, receive: Receive, send: Send, verdict: Verdict) -> None:
    """Answer a refused request: 429 over HTTP; a WebSocket is closed with 4429."""
    if scope["type"] == "websocket":
        await WebSocket(scope, receive, send).close(
            code=WS_CLOSE_RATE_LIMITED, reason=f"rate limited; retry in {verdict.retry_after} s"
        )
        return
    await too_many_requests(verdict)(scope, receive, send)


class RateLimits:
    """The limits of one app from its settings; inert until ``use`` gives it Redis."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        self.enabled = settings.rate_limit_enabled
        self.trusted = settings.trusted_proxy_networks
        self.limiter = limiter
        self._owned = False
        self._address: Rate = parse_rate(settings.rate_limit_per_address)
        self._shopper: Rate = parse_rate(settings.rate_limit_per_shopper)
        self._api_key: Rate = parse_rate(settings.rate_limit_per_api_key)
        self._failed: Rate = parse_rate(settings.rate_limit_failed_auth)

    def use(self, boards: Leaderboards | None) -> None:
        """Count in the boards' Redis, unless a limiter was given."""
        if self.limiter is None and boards is not None:
            self.limiter = RateLimiter(boards.redis)
            self._owned = True

    async def aclose(self) -> None:
        """Close what ``use`` opened (on a Redis Cluster the limiter has its own client)."""
        if self._owned and self.limiter is not None:
            await self.limiter.aclose()

    def address(self, scope: Scope) -> str:
        return client_address(scope, self.trusted)

    async def _hit(self, *checks: tuple[Rate, str], when_down: Verdict = _ALLOWED) -> Verdict:
        if not self.enabled or self.limiter is None:
            return _ALLOWED
        return await self.limiter.hit(*checks, when_down=when_down)

    async def failed_auth(self, address: str, authorization: str | None) -> Verdict:
        """Wrong credentials: refused once the address or the key prefix is spent."""
        checks = [(self._failed, f"fail-addr:{address}")]
        prefix = _key_prefix(authorization)
        if prefix:
            checks.append((self._failed, f"fail-key:{prefix}"))
        # Not counted (Redis away or too slow): refused all the same. A wrong credential
        # loses nothing by a 429, and guessing must not speed up when the server is busy.
        return await self._hit(*checks, when_down=_UNCOUNTED_FAILURE)

    async def request(self, address: str, principal: Principal) -> Verdict:
        """One HTTP request or WebSocket message of an authenticated (or anonymous)
        caller: its address unless staff, and the caller, in one round trip."""
        checks: list[tuple[Rate, str]] = []
        if principal.is_staff:
            checks.append((self._api_key, f"key:{principal.actor}"))
        else:
            checks.append((self._address, f"addr:{address}"))
            if principal.role is Role.SHOPPER:
                checks.append((self._shopper, f"member:{principal.member_id}"))
        return await self._hit(*checks)

    def counted_receive(
        self, receive: Receive, send: Send, address: str, principal: Principal
    ) -> Receive:
        """``receive`` for a WebSocket whose every message counts; over the limit the
        socket is closed with 4429 and the app sees a disconnect."""

        async def counted() -> Message:
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            verdict = await self.request(address, principal)
            if verdict.allowed:
                return message
            reason = f"rate limited; retry in {max(1, verdict.retry_after)} s"
            await send({"type": "websocket.close", "code": WS_CLOSE_RATE_LIMITED, "reason": reason})
            return {"type": "websocket.disconnect", "code": WS_CLOSE_RATE_LIMITED}

        return counted
