"""No 5xx from bad input, anywhere: arbitrary bytes, JSON values of every type, deep nesting,
huge numbers and arbitrary Unicode sent to every HTTP route and every GraphQL argument.

Every answer must be below 500, never the masked ``"Unexpected error."``, JSON when it is
an error, and a refused request must write nothing. The GraphQL operations and their
argument types are read from the committed schema, so a new field is fuzzed without
touching this file. Examples are few per target (the suite runs on both back ends);
Hypothesis keeps the failures it finds in its database and replays them first.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from badges.models import BadgeDefinition
from schema import SCHEMA_FILE
from server.rewards.activities import Activity
from server.rewards.contests import Contest
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.prizes import Prize
from tests.conftest import GraphQL, member_token
from tests.helpers import UPSERT

_SDL = build_schema(SCHEMA_FILE.read_text())
FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CALLERS = ("ADMIN", "SERVICE", "MODERATOR", "SHOPPER", None)

# Strings a validator must think about, beside arbitrary ones.
_NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800x",
    "x\udfff",
    "\u202egnp.exe",
    "zero\u200bwidth",
    "line\nbreak",
    "cr\rlf",
    "\x1b[31m",
    "ada",
    "1",
    "0",
    "-1",
    "9" * 40,
    "A" * 17,
    "x" * 129,
    "x" * 5_001,
    "x" * 20_000,  # beyond any argument's limit
    "e\u0301",  # NFD é
    "👩\u200d💻",
    "http://shop.example.com:99999/",
    "http://[::1",
    "https://shop.example.com/p?utm_source=x",
    "2026-01-01T00:00:00Z",
    "#ffffff",
    "circle",
    "first-review",
]
_CHARS = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from(["\ud800", "\udfff", "\x00", "\x7f", "\u202e", "\u200b", "\n", "\r", "\t"]),
)
TEXT = st.one_of(
    st.sampled_from(_NASTY),
    st.text(_CHARS, max_size=40),
    st.text("abcdefghij0123456789-_ ", min_size=1, max_size=20),
)
INTS = st.one_of(
    st.integers(-5, 1_000),
    st.sampled_from([0, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**53, 10**30]),
    st.integers(),
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _scalar(named: GraphQLScalarType) -> st.SearchStrategy[Any]:
    match named.name:
        case "String":
            return TEXT
        case "ID":
            return st.one_of(st.integers(-2, 40).map(str), TEXT)
        case "Int":
            return INTS
        case "Float":
            return st.one_of(st.floats(allow_nan=True, allow_infinity=True), INTS)
        case "Boolean":
            return st.booleans()
        case "DateTime":
            moments = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
            return st.one_of(moments, TEXT)
        case _:
            return ANY_JSON


def values_for(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values shaped like ``kind`` mostly (so resolvers run), sometimes any JSON at all."""
    if isinstance(kind, GraphQLNonNull):
        right = _nullable(kind.of_type)
    else:
        right = st.one_of(st.none(), _nullable(kind))
    return st.integers(0, 15).flatmap(lambda n: ANY_JSON if n == 0 else right)


def _nullable(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    if isinstance(kind, GraphQLList):
        return st.lists(values_for(kind.of_type), max_size=3)
    if isinstance(kind, GraphQLInputObjectType):
        required = {n: values_for(f.type) for n, f in kind.fields.items() if _required(f.type)}
        optional = {n: values_for(f.type) for n, f in kind.fields.items() if n not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(kind, GraphQLEnumType):
        return st.one_of(st.sampled_from(list(kind.values)), TEXT)
    assert isinstance(kind, GraphQLScalarType)
    return _scalar(kind)


def _required(kind: GraphQLInputType) -> bool:
    return isinstance(kind, GraphQLNonNull)


def _document(operation: str, name: str, field: GraphQLField) -> str:
    variables = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    named = get_named_type(field.type)
    if is_leaf_type(named):
        selection = ""
    elif isinstance(named, GraphQLUnionType):
        selection = "{ __typename ... on Error { message } }"
    else:
        selection = "{ __typename }"
    head = f"{operation} Fuzz({variables})" if variables else f"{operation} Fuzz"
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {selection} }}"


def _operations() -> list[Any]:
    found = []
    for operation, root in (("query", _SDL.query_type), ("mutation", _SDL.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            found.append(pytest.param(operation, name, field, id=f"{operation}-{name}"))
    return found


async def _counts() -> tuple[int, ...]:
    """What a refused request must leave as it was."""
    return (
        await LedgerEntry.all().count(),
        await Member.all().count(),
        await Activity.all().count(),
        await Prize.all().count(),
        await Contest.all().count(),
        await BadgeDefinition.all().count(),
    )


def _assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Unexpected error." not in response.text, response.text[:500]
    assert "Internal server error." not in response.text, response.text[:500]
    if response.status_code >= 400 and response.content:
        assert response.headers["content-type"].startswith("application/"), response.text[:200]
        json.loads(response.content)  # a JSON error, not plain text


def _refused(body: dict[str, Any], name: str) -> bool:
    data = body.get("data") or {}
    result = data.get(name)
    if body.get("errors") or result is None:
        return True
    return isinstance(result, dict) and str(result.get("__typename", "")).endswith("Error")


def _outcome(response: httpx.Response, name: str) -> str:
    body = response.json()
    result = (body.get("data") or {}).get(name)
    if isinstance(result, dict) and "__typename" in result:
        return f"{response.status_code} {result['__typename']}"
    if body.get("errors"):
        return f"{response.status_code} error: {body['errors'][0]['message'][:30]}"
    return f"{response.status_code} answered"


@pytest.fixture
async def callers(gql: GraphQL, keys: dict[str, str]) -> dict[str, str | None]:
    """Bearer credentials per caller; a member ``ada`` exists for the shopper."""
    await gql(UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"])
    return {**keys, "SHOPPER": await member_token("ada"), None: None}  # type: ignore[dict-item]


@pytest.mark.parametrize(("operation", "name", "field"), _operations())
@FUZZ
@given(data=st.data(), caller=st.sampled_from(CALLERS))
async def test_every_graphql_argument(
    client: httpx.AsyncClient,
    callers: dict[str | None, str | None],
    operation: str,
    name: str,
    field: GraphQLField,
    data: st.DataObject,
    caller: str | None,
) -> None:
    document = _document(operation, name, field)
    arguments = {arg: values_for(spec.type) for arg, spec in field.args.items()}
    variables = data.draw(st.fixed_dictionaries(arguments), label="variables")
    token = callers[caller]
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    before = await _counts()
    # json.dumps escapes lone surrogates (\ud800), as a browser's JSON.stringify does.
    payload = json.dumps({"query": document, "variables": variables}).encode()
    response = await client.post("/graphql", content=payload, headers=headers)
    _assert_no_server_error(response)
    event(_outcome(response, name))  # --hypothesis-show-statistics: how far examples got
    if response.status_code == 200 and (operation == "query" or _refused(response.json(), name)):
        assert await _counts() == before, response.text[:300]


BODY_TYPES = ["application/json", "text/plain", "multipart/form-data", "application/graphql", ""]


@FUZZ
@given(body=st.binary(max_size=200), content_type=st.sampled_from(BODY_TYPES))
async def test_arbitrary_bytes_to_graphql(
    client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    before = await _counts()
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    _assert_no_server_error(response)
    assert await _counts() == before


@FUZZ
@given(value=ANY_JSON)
async def test_json_values_of_every_type(client: httpx.AsyncClient, value: Any) -> None:
    before = await _counts()
    for body in (value, {"query": value}, {"query": "{ __typename }", "variables": value}):
        response = await client.post(
            "/graphql",
            content=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        _assert_no_server_error(response)
    variables = json.dumps(value)
    if len(variables) <= 4_000:  # longer URLs: refused by the client (and servers: 414)
        params = {"query": "{ __typename }", "variables": variables}
        _assert_no_server_error(await client.get("/graphql", params=params))
    assert await _counts() == before


def _nested(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [33, 500, 10_000, 200_000])
@pytest.mark.parametrize("kind", ["list", "object"])
async def test_deep_nesting(client: httpx.AsyncClient, depth: int, kind: str) -> None:
    nested = _nested(depth, kind)
    bodies = [
        '{"query":"query($v: String){ __typename }","variables":{"v":' + nested + "}}",
        '{"query":"{ __typename }","extensions":' + nested + "}",
        nested,
    ]
    for body in bodies:
        response = await client.post(
            "/graphql", content=body.encode(), headers={"content-type": "application/json"}
        )
        _assert_no_server_error(response)
        if response.status_code == 413:  # larger than LAUREL_MAX_BODY_BYTES: not even read
            continue
        assert response.status_code == 400, response.text[:200]
        assert "nested" in response.json()["errors"][0]["message"]
    if depth <= 500:  # longer URLs are refused by the client (and by servers: 414)
        params = {"query": "{ __typename }", "variables": nested}
        response = await client.get("/graphql", params=params)
        _assert_no_server_error(response)
        assert response.status_code == 400, response.text[:200]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("{" + "viewer {" * 600 + "__typename" + "}" * 601, id="selections"),
        pytest.param(
            "{ leaderboard(first: " + "[" * 900 + "1" + "]" * 900 + ") { totalMembers } }",
            id="list-literal",
        ),
        pytest.param(
            "{ member(id: " + "{a: " * 600 + "1" + "}" * 600 + ") { id } }", id="object-literal"
        ),
    ],
)
async def test_deeply_nested_documents(client: httpx.AsyncClient, document: str) -> None:
    response = await client.post("/graphql", json={"query": document})
    _assert_no_server_error(response)


@pytest.mark.parametrize("digits", [20, 400, 5_000, 50_000])
async def test_huge_numbers(
    client: httpx.AsyncClient, callers: dict[str | None, str | None], digits: int
) -> None:
    before = await _counts()
    number = "9" * digits
    admin = {"content-type": "application/json", "authorization": f"Bearer {callers['ADMIN']}"}
    adjust = (
        'mutation($n: Int!) { adjustPoints(input: {idempotencyKey: "k", memberId: "1", '
        'amount: $n, reason: "r"}) { __typename } }'
    )
    query = json.dumps(adjust)
    bodies = [
        f'{{"query":{query},"variables":{{"n":{number}}}}}',
        f'{{"query":{query},"variables":{{"n":-{number}}}}}',
        f'{{"query":{query},"variables":{{"n":{number}.5e{number[:6]}}}}}',
        json.dumps({"query": f"{{ leaderboard(first: {number}) {{ totalMembers }} }}"}),
        json.dumps({"query": f"{{ member(id: {number}) {{ id }} }}"}),
    ]
    for body in bodies:
        response = await client.post("/graphql", content=body.encode(), headers=admin)
        _assert_no_server_error(response)
        assert response.status_code in {200, 400}, response.text[:200]
    assert await _counts() == before


SEGMENT = st.one_of(TEXT, st.text(st.characters(codec="ascii"), max_size=50), st.just("%00"))


def _quote(segment: str) -> str:
    # Arbitrary Unicode in a URL travels as UTF-8 percent-escapes; lone surrogates cannot.
    raw = segment[:2_000].encode("utf-8", "surrogatepass")  # URLs have a length limit too
    return segment if segment == "%00" else urllib.parse.quote(raw, safe="")


ROUTES = [
    "/graphql",
    "/healthz",
    "/",
    "/moderate",
    "/admin",
    "/static/{a}",
    "/static/vendor/uplot/{a}",
    "/static/locales/{a}",
    "/badges/{a}/{b}.png",
    "/prizes/{a}/image.png",
    "/photos",
    "/photos/{a}.jpg",
    "/photos/{a}/thumb.jpg",
    "/shop/logo.png",
    "/openbadges/issuer",
    "/openbadges/badges/{a}/{b}",
    "/openbadges/assertions/{a}",
    "/openbadges/assertions/{a}.png",
]


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    a=SEGMENT,
    b=st.one_of(SEGMENT, st.integers(-5, 10**40).map(str)),
    size=st.one_of(st.none(), SEGMENT, INTS.map(str)),
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]),
    authorization=st.one_of(
        st.none(),
        st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=60),
        st.integers(0, 200).map(lambda n: "Bearer lrl_" + "a" * n + "_x"),
    ),
    body=st.one_of(st.none(), st.binary(max_size=100)),
)
async def test_every_http_route(
    client: httpx.AsyncClient,
    route: str,
    a: str,
    b: str,
    size: str | None,
    method: str,
    authorization: str | None,
    body: bytes | None,
) -> None:
    before = await _counts()
    path = route.format(a=_quote(a), b=_quote(b))
    if size is not None:
        path += "?size=" + _quote(size)
    given = (authorization or "").strip()
    headers = {"authorization": given.encode("latin-1")} if given else {}
    response = await client.request(method, path, content=body, headers=headers)
    _assert_no_server_error(response)
    assert await _counts() == before


PROBES = [
    # A review of this suite's probes found these four (2026-12-03).
    pytest.param(
        "POST",
        "/graphql",
        b'{"query":"query A { __typename }","operationName":"\\ud800x"}',
        {},
        400,
        "operationName must be the name",
        id="operation-name-surrogate",
    ),
    pytest.param(
        "POST",
        "/graphql",
        b'{"query":"query A { __typename }","operationName":"' + b"Z" * 100_000 + b'"}',
        {},
        400,
        "operationName must be the name",
        id="operation-name-100k",
    ),
    pytest.param(
        "POST",
        "/graphql",
        b'{"query":"{ member(id: \\"' + b"y" * 200_000 + b'"}',
        {},
        400,
        "longer than 100,000 characters",
        id="query-200k-chars",
    ),
    pytest.param(
        "GET",
        "/graphql?query=%7B__typename%7D&operationName=%ED%A0%80",
        None,
        {},
        400,
        "operationName",
        id="get-operation-name-bad",
    ),
    pytest.param(
        "POST", "/graphql", b'{"query":"{ __typename \xff }"}', {}, 400, "UTF-8", id="not-utf8"
    ),
    pytest.param("POST", "/graphql", b'"hello"', {}, 400, "string", id="json-string"),
    pytest.param("POST", "/graphql", b"12", {}, 400, "number", id="json-number"),
    pytest.param(
        "POST",
        "/graphql",
        b'{"query":"query($v: String){ __typename }","variables":{"v":'
        + b"[" * 10_000
        + b"]" * 10_000
        + b"}}",
        {},
        400,
        "nested",
        id="variables-10000-deep",
    ),
    pytest.param(
        "GET", "/openbadges/assertions/" + "a" * 41, None, {}, 404, "No such", id="assertion-41"
    ),
    pytest.param(
        "GET",
        "/openbadges/assertions/" + "a" * 41 + ".png",
        None,
        {},
        404,
        "No such",
        id="assertion-41-png",
    ),
    pytest.param("GET", "/static/api.js%00.css", None, {}, 404, "No such file", id="static-nul"),
    pytest.param(
        "GET", "/static/locales/en.json%00", None, {}, 404, "No such file", id="locale-nul"
    ),
    pytest.param(
        "GET", "/static/locales/en.js", None, {}, 404, "No such file", id="locale-not-json"
    ),
    pytest.param(
        "POST",
        "/graphql",
        b'{"query":"{ __typename }"}',
        {"authorization": "Bearer lrl_" + "a" * 13 + "_secret"},
        401,
        "Unknown",
        id="key-prefix-13",
    ),
    pytest.param(
        "GET", "/badges/first-review/1.png?size=0", None, {}, 400, "64 to 512", id="size-0"
    ),
    pytest.param(
        "GET", "/badges/first-review/1.png?size=63", None, {}, 400, "64 to 512", id="size-63"
    ),
    pytest.param(
        "GET", "/badges/first-review/1.png?size=%C2%B2", None, {}, 400, "64 to 512", id="size-sup2"
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "says"), PROBES)
async def test_the_probes_of_issue_16(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    sent = {"content-type": "application/json", **headers}
    response = await client.request(method, path, content=body, headers=sent)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert says in response.text


async def test_a_spread_of_an_unknown_fragment_is_named_not_a_crash(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    name = "Foo" + "o" * 5_000
    response = await client.post("/graphql", json={"query": "{ ..." + name + " }"})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"].startswith("Unknown fragment 'Fooo"), error
    assert all(record.levelname != "ERROR" for record in caplog.records)


STRING_FIELDS = ["externalId", "displayName", "email", "community", "referralCode"]


@pytest.mark.parametrize("field", STRING_FIELDS)
@pytest.mark.parametrize("value", ["\ud800x", "x\x00y"], ids=["lone-surrogate", "nul"])
async def test_a_bad_code_point_is_a_validation_error_naming_the_field(
    client: httpx.AsyncClient, keys: dict[str, str], field: str, value: str
) -> None:
    before = await _counts()
    given = {"externalId": "nia", "displayName": "Nia", field: value}
    payload = json.dumps({"query": UPSERT, "variables": {"input": given}}).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {keys['SERVICE']}"}
    response = await client.post("/graphql", content=payload, headers=headers)
    result = response.json()["data"]["upsertMember"]
    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await _counts() == before


async def test_a_long_referral_code_is_refused_and_logged_short(
    gql: GraphQL, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    before = await _counts()
    for code in ("A" * 17, "A" * 100_000):
        given = {"externalId": "nia", "displayName": "Nia", "referralCode": code}
        result = (await gql(UPSERT, {"input": given}, auth=keys["SERVICE"]))["upsertMember"]
        assert result["__typename"] == "ValidationError", result
        assert result["field"] == "referralCode"
        assert len(result["message"]) < 200
    assert await _counts() == before
    assert all(len(record.getMessage()) < 2_000 for record in caplog.records)
