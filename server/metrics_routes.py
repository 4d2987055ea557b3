"""GET /admin/metrics.csv?from=&to=&interval= for ADMIN keys (thin: authenticate, call
the use case, shape the CSV)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from server import actions
from server.actions import Services
from server.actions.metrics_export import as_csv
from server.auth import AuthError, authenticate
from server.responses import problem
from server.rewards.errors import Invalid, PermissionDenied
from server.rewards.text import msg

__all__ = ["metrics_csv"]


def _when(request: Request, name: str) -> datetime:
    raw = request.query_params.get(name, "")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(name, msg("{field} must be an ISO 8601 date or time.", field=name)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def metrics_csv(svc: Services, secret: str, request: Request) -> Response:
    try:
        principal = await authenticate(request.headers.get("authorization"), secret)
    except AuthError as exc:
        return problem(401, exc.text)
    try:
        interval = actions.Interval(request.query_params.get("interval", "MONTH").upper())
    except ValueError:
        return problem(400, msg("interval must be DAY, WEEK or MONTH."))
    try:
        found = await actions.program_metrics(
            svc,
            principal,
            start=_when(request, "from"),
            end=_when(request, "to"),
            interval=interval,
        )
    except PermissionDenied as exc:
        return problem(403, exc.text)
    except Invalid as exc:
        return problem(400, exc.text)
    return Response(
        as_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="laurel-metrics.csv"'},
    )
