"""One-time links carry their token in the path; the access log must not keep it."""

from __future__ import annotations

import httpx
import pytest

from tests.service.log_capture import Logs

TOKEN = "Zk3secret-token-that-must-not-be-logged-9f2"

# Every route whose path carries a one-time secret: the donor's sign-in link, both password
# resets, a member invitation, the failed-payment card link.
SECRET_PATHS = [
    f"/donor/sign-in/{TOKEN}",
    f"/dashboard/reset-password/{TOKEN}",
    f"/admin/reset-password/{TOKEN}",
    f"/dashboard/invite/{TOKEN}",
    f"/recurring/card/{TOKEN}",
]


@pytest.mark.parametrize("path", SECRET_PATHS)
async def test_a_token_in_the_path_never_reaches_the_log(
    client: httpx.AsyncClient, json_logs: Logs, path: str
) -> None:
    json_logs()

    response = await client.get(path)

    assert response.status_code < 500
    # The test's own HTTP client logs the URL it asked for (logger httpx); the app's lines must not.
    lines = [line for line in json_logs() if line.get("logger") != "httpx"]
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) == 1
    assert requests[0]["path"] == requests[0]["route"]
    assert "{token" in requests[0]["path"]
    assert [line for line in lines if TOKEN in str(line)] == []


async def test_other_paths_are_logged_as_requested(client: httpx.AsyncClient, json_logs: Logs) -> None:
    json_logs()

    await client.get("/c/no-such-campaign")

    [line] = [line for line in json_logs() if line["event"] == "request"]
    assert line["path"] == "/c/no-such-campaign"
