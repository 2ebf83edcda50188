"""The standalone action server's error handling.

rasa-sdk's default handler for an unexpected exception answers 500 with the whole request body (the tracker:
names, emails, descriptions) and logs the request. This handler answers with the action's name only and logs
the exception's type; the traceback goes to DEBUG, since exception messages (SQL parameters, say) may carry
personal data.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Sanic is loaded by the action server only: the embedded engine imports every actions module
    from sanic import HTTPResponse, Request, Sanic

logger = logging.getLogger(__name__)


async def safe_error_response(request: Request, exception: Exception) -> HTTPResponse:
    from sanic import response

    action_name = _action_name(request)
    logger.error("action %s failed: %s", action_name or "?", type(exception).__name__)
    logger.debug("action %s failed", action_name or "?", exc_info=exception)
    return response.json(
        {"error": "The action failed on the action server; details are in its log.", "action_name": action_name},
        status=500,
    )


def _action_name(request: Request) -> str | None:
    try:
        body: Any = request.json
    except Exception:  # an unreadable body is itself a possible cause of the failure
        return None
    name = body.get("next_action") if isinstance(body, dict) else None
    return name if isinstance(name, str) else None


def install(app: Sanic[Any, Any]) -> None:
    """Put our handler in front of rasa-sdk's catch-all one for every route of the action server.

    Sanic refuses a second catch-all handler, but looks up route-specific handlers first.
    """
    app.error_handler.add(Exception, safe_error_response, route_names=[route.name for route in app.router.routes])
