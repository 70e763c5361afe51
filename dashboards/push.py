"""Push the dashboards to a running Grafana over its HTTP API (grafana-client).

For Grafanas that are not provisioned from files. The token comes from the command line or the
environment and is only ever put in the Authorization header: never printed, logged or written.
"""

from __future__ import annotations

from typing import Any

from dvcwatch.core.errors import DvcwatchError

FOLDER_UID = "dvcwatch"
FOLDER_TITLE = "dvcwatch"


class PushError(DvcwatchError):
    exit_code = 1


def _redact(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def push(url: str, token: str, dashboards: dict[str, dict[str, Any]], timeout: float = 10.0) -> list[str]:
    """Create the folder if needed and upsert every dashboard; returns the URLs Grafana reports."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaClientError, GrafanaException

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    try:
        try:
            api.folder.get_folder(FOLDER_UID)
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
            api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        urls = []
        for dashboard in dashboards.values():
            answer = api.dashboard.update_dashboard(
                {
                    "dashboard": {**dashboard, "id": None},
                    "folderUid": FOLDER_UID,
                    "overwrite": True,
                    "message": "dvcwatch dashboards push",
                }
            )
            urls.append(
                str(answer.get("url", dashboard["uid"])) if isinstance(answer, dict) else dashboard["uid"]
            )
        return urls
    except GrafanaException as exc:
        status = getattr(exc, "status_code", None)
        what = f"HTTP {status}" if status else type(exc).__name__
        raise PushError(
            _redact(f"Grafana at {url} refused the push ({what}): {exc.message}", token)
        ) from None
    except OSError as exc:
        raise PushError(_redact(f"cannot reach Grafana at {url}: {exc}", token)) from None
