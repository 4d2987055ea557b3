"""Security headers on every response, GraphiQL from shipped files, and the
LAUREL_GRAPHIQL / LAUREL_INTROSPECTION switches (the browser half: tests/e2e/test_csp.py)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.actions import Services
from server.app import create_app
from server.graphiql import GRAPHIQL_STYLE_HASHES
from server.settings import Settings
from tests.conftest import JWT_SECRET

HTML = {"Accept": "text/html"}
# (path, request headers): every kind of response the app gives a browser or a client.
RESPONSES = [
    ("/", {}),
    ("/moderate", {}),
    ("/admin", {}),
    ("/graphql", HTML),
    ("/static/app.css", {}),
    ("/static/community.js", {}),
    ("/static/i18n.js", {}),
    ("/static/locales/en.json", {}),
    ("/static/locales/bg.json", {}),
    ("/static/locales/xx.json", {}),
    ("/static/graphiql.js", {}),
    ("/static/graphiql.css", {}),
    ("/static/vendor/graphiql/graphiql.min.js", {}),
    ("/static/vendor/graphiql/graphiql.min.css", {}),
    ("/static/vendor/uplot/uPlot.esm.js", {}),
    ("/static/vendor/uplot/uPlot.min.css", {}),
    ("/static/nothing.js", {}),
    ("/no/such/page", {}),
    ("/healthz", {}),
    ("/openbadges/issuer", {}),
    ("/badges/first-review/1.png", {}),
    ("/photos/nothing-here-at-all-123.jpg", {}),
    ("/photos/nothing-here-at-all-123/thumb.jpg", {}),
    ("/shop/logo.png", {}),
]
PAGES = ["/", "/moderate", "/admin", "/graphql"]
# SHA-384 of the shipped files = the `integrity` of strawberry 0.341's CDN page.
VENDOR = {
    "react.production.min.js": "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    "react-dom.production.min.js": (
        "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
    ),
    "graphiql.min.js": "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    "graphiql.min.css": "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    "plugin-explorer.umd.js": "2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    "plugin-explorer.css": "5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
}
LICENSES = ["react", "react-dom", "graphiql", "plugin-explorer", "graphiql-explorer"]

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_with(svc: Services, tmp_path: Path) -> AppClient:
    """An HTTP client on an app built with the given settings."""

    @asynccontextmanager
    async def make(**given: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(data_dir=tmp_path, jwt_secret=JWT_SECRET, **given)
        app = create_app(settings, services=svc, jwt_secret=JWT_SECRET)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://laurel.test") as c:
            yield c

    return make


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


async def test_every_response_carries_the_headers(client: httpx.AsyncClient) -> None:
    for path, headers in RESPONSES:
        response = await client.get(path, headers=headers)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "strict-transport-security" not in response.headers, path
        policy = _directives(response.headers["content-security-policy"])
        assert policy["frame-ancestors"] == ["'none'"], path
        if response.headers.get("content-type", "").startswith("text/html"):
            assert policy["default-src"] == ["'self'"], path
        else:
            assert policy["default-src"] == ["'none'"], path


async def test_json_answers_carry_them_too(client: httpx.AsyncClient) -> None:
    ok = await client.post("/graphql", json={"query": "{ __typename }"})
    refused = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer nonsense"}
    )
    for response in (ok, refused):
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert ok.json() == {"data": {"__typename": "Query"}}
    assert refused.status_code == 401


async def test_page_policy_is_strict(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        policy = _directives(response.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"], path
        if path == "/graphql":  # GraphiQL's one scroll-lock <style>, by its hash
            assert policy["style-src"] == ["'self'", f"'{GRAPHIQL_STYLE_HASHES[0]}'"]
        else:
            assert policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["base-uri"] == ["'none'"], path
        assert policy["form-action"] == ["'self'"], path
        assert policy["img-src"] == ["'self'", "data:"], path
        # Subscriptions: the WebSocket of this host, and no other.
        assert policy["connect-src"] == ["'self'", "ws://laurel.test", "wss://laurel.test"]
        assert "unsafe" not in response.headers["content-security-policy"]


async def test_a_forged_host_header_is_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"Host": "evil.test; script-src *"})
    policy = _directives(response.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]


class _Markup(HTMLParser):
    """What would break under the CSP, or leave the machine: inline code and styles,
    and any address that is not this server's."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if not named.get("src"):
                self.problems.append("inline <script>")
            self.scripts.append(named.get("src") or "")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"inline {name}= on <{tag}>")
            if name in {"src", "href"} and value and not value.startswith(("/", "data:", "#")):
                self.problems.append(f"{name}={value} leaves the server")


async def test_pages_have_no_inline_code_nor_outside_addresses(
    client: httpx.AsyncClient,
) -> None:
    for path in PAGES:
        markup = _Markup()
        markup.feed((await client.get(path, headers=HTML)).text)
        assert markup.problems == [], path
        assert markup.scripts, path
    graphiql = _Markup()
    graphiql.feed((await client.get("/graphql", headers=HTML)).text)
    assert "/static/vendor/graphiql/graphiql.min.js" in graphiql.scripts
    assert graphiql.scripts[-1] == "/static/graphiql.js"


async def test_hsts_only_with_an_https_public_url(app_with: AppClient) -> None:
    async with app_with(public_url="https://rewards.shop.example.com") as https:
        for path, headers in RESPONSES:
            response = await https.get(path, headers=headers)
            assert response.headers["strict-transport-security"] == "max-age=31536000", path
        page = await https.get("/")
        policy = _directives(page.headers["content-security-policy"])
        # The public host, whatever Host the request came with.
        assert policy["connect-src"] == [
            "'self'",
            "ws://rewards.shop.example.com",
            "wss://rewards.shop.example.com",
        ]
    async with app_with(public_url="http://rewards.shop.example.com") as plain:
        for path, headers in RESPONSES:
            response = await plain.get(path, headers=headers)
            assert "strict-transport-security" not in response.headers, path


def test_shipped_files_are_the_published_ones_with_their_licenses() -> None:
    folder = files("frontend_stub").joinpath("vendor/graphiql")
    for name, digest in VENDOR.items():
        data = folder.joinpath(name).read_bytes()
        assert base64.b64encode(hashlib.sha384(data).digest()).decode() == digest, name
    for name in LICENSES:
        assert "MIT License" in folder.joinpath(f"LICENSE.{name}").read_text("utf-8"), name
    assert "npm pack" in folder.joinpath("README.md").read_text("utf-8")


async def test_vendor_files_served_with_types_and_etags(client: httpx.AsyncClient) -> None:
    for name in VENDOR:
        response = await client.get(f"/static/vendor/graphiql/{name}")
        assert response.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(kind), name
        again = await client.get(
            f"/static/vendor/graphiql/{name}", headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304, name
    for other in ["LICENSE.react", "README.md", "..%2Fapp.css", "nothing.js"]:
        assert (await client.get(f"/static/vendor/graphiql/{other}")).status_code == 404


INTROSPECT = "{ __schema { queryType { name } } }"


async def test_graphiql_and_introspection_on_by_default(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "graphiql" in page.text
    answer = await client.post("/graphql", json={"query": INTROSPECT})
    assert answer.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_graphiql_off(app_with: AppClient) -> None:
    async with app_with(graphiql=False) as http:
        page = await http.get("/graphql", headers=HTML)
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()
        assert (await http.get("/static/vendor/graphiql/graphiql.min.js")).status_code == 404
        # The API itself still answers, introspection included.
        answer = await http.post("/graphql", json={"query": INTROSPECT})
        assert answer.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_off(app_with: AppClient) -> None:
    async with app_with(introspection=False) as http:
        answer = (await http.post("/graphql", json={"query": INTROSPECT})).json()
        assert answer.get("data") is None
        assert "introspection" in answer["errors"][0]["message"].lower()
        typed = await http.post("/graphql", json={"query": '{ __type(name: "Member") { name } }'})
        assert typed.json().get("data") is None
        # __typename is no introspection of the schema: clients rely on it.
        plain = await http.post("/graphql", json={"query": "{ __typename }"})
        assert plain.json() == {"data": {"__typename": "Query"}}
