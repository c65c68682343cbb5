"""Drives an OMS v1 server with the official Huawei Cloud Python SDK.

Run by `tests/it/sdk.rs` inside the pinned virtual environment of
`sdk_requirements.txt`. It walks one task through create, running, a refused
delete, stop, stopped, delete and a missing-task query, then sends a request
signed with a wrong secret key. It judges nothing: it prints one JSON line of
what it observed, and the Rust test asserts on that line, so the verdict and
its message live in one place.

Usage: sdk_interop.py ENDPOINT PROJECT_ID CREATE_BODY_FILE
The access key and secret key come from OMS_SDK_AK and OMS_SDK_SK, so they
never appear in a process listing.
"""

import json
import os
import sys
import time
import traceback
from importlib.metadata import version

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkoms.v2 import OmsClient

# Generous for a local server, but finite: a hung server must not hang the test.
HTTP_TIMEOUT = (5, 10)
POLL_DEADLINE_S = 10.0
POLL_INTERVAL_S = 0.05

TASK_PATH = "/v1/{project_id}/objectstorage/task/{task_id}"
TASKS_PATH = "/v1/{project_id}/objectstorage/task"
JSON_HEADERS = {"Content-Type": "application/json"}

# Every request the SDK sent, in order: evidence of what it signs and how it
# serialises a body. Signatures and dates are left out; they change every run.
SENT = []


def record_request(request, logger):
    authorization = request.header_params.get("Authorization", "")
    scheme, _, params = authorization.partition(" ")
    fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    SENT.append(
        {
            "method": request.method,
            "path": request.resource_path,
            "scheme": scheme,
            "access": fields.get("Access"),
            "signed_headers": fields.get("SignedHeaders"),
            "body": body if isinstance(body, str) else None,
        }
    )


def client(endpoint, ak, sk, project_id):
    config = HttpConfig.get_default_config()
    config.timeout = HTTP_TIMEOUT
    return (
        OmsClient.new_builder()
        .with_http_config(config)
        # Without the project id the builder asks IAM for it over the network.
        .with_credentials(BasicCredentials(ak, sk, project_id))
        # Keep the scheme: without it the builder prepends https://.
        .with_endpoint(endpoint)
        .with_http_handler(HttpHandler().add_request_handler(record_request))
        .build()
    )


def call(oms, method, path, task_id=None, body=None, response_type="DeleteTaskResponse"):
    """One `call_api` on a v1 path. The v2 response models do not describe v1
    bodies, so the outcome is read from the raw reply, not the typed model."""
    response = oms.call_api(
        resource_path=path,
        method=method,
        path_params={} if task_id is None else {"task_id": task_id},
        header_params=dict(JSON_HEADERS),
        body=body,
        response_type=response_type,
    )
    raw = response.raw_content or b""
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return {"outcome": "ok", "status_code": response.status_code, "body": text, "json": parsed}


def refusal(exc):
    return {
        "outcome": "exception",
        "exception": type(exc).__name__,
        "status_code": getattr(exc, "status_code", None),
        "error_code": getattr(exc, "error_code", None),
        "error_msg": getattr(exc, "error_msg", None),
        "request_id": getattr(exc, "request_id", None),
    }


def attempt(oms, method, path, **kwargs):
    try:
        return call(oms, method, path, **kwargs)
    except ClientRequestException as exc:
        return refusal(exc)


def poll_status(oms, task_id, wanted):
    """Queries the task until its status is `wanted` or the deadline passes."""
    deadline = time.monotonic() + POLL_DEADLINE_S
    polls = 0
    seen = []
    while True:
        polls += 1
        reply = call(oms, "GET", TASK_PATH, task_id=task_id, response_type="ShowTaskResponse")
        status = (reply["json"] or {}).get("status")
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == wanted or time.monotonic() >= deadline:
            return {"status": status, "statuses_seen": seen, "polls": polls}
        time.sleep(POLL_INTERVAL_S)


def run(endpoint, project_id, create_body, ak, sk, observed):
    oms = client(endpoint, ak, sk, project_id)

    created = call(oms, "POST", TASKS_PATH, body=create_body, response_type="CreateTaskResponse")
    observed["create"] = created
    task_id = (created["json"] or {}).get("id")
    if task_id is None:
        return

    observed["running"] = poll_status(oms, task_id, 2)
    observed["delete_running"] = attempt(oms, "DELETE", TASK_PATH, task_id=task_id)
    observed["stop"] = attempt(
        oms, "PUT", TASK_PATH, task_id=task_id, body={"operation": "stop"}, response_type="StopTaskResponse"
    )
    observed["stopped"] = poll_status(oms, task_id, 3)
    observed["delete_stopped"] = attempt(oms, "DELETE", TASK_PATH, task_id=task_id)
    observed["query_deleted"] = attempt(
        oms, "GET", TASK_PATH, task_id=task_id, response_type="ShowTaskResponse"
    )

    wrong = client(endpoint, ak, sk + "-wrong", project_id)
    observed["wrong_secret"] = attempt(
        wrong, "GET", TASK_PATH, task_id=task_id, response_type="ShowTaskResponse"
    )


def main():
    endpoint, project_id, body_file = sys.argv[1:4]
    ak = os.environ["OMS_SDK_AK"]
    sk = os.environ["OMS_SDK_SK"]
    with open(body_file, encoding="utf-8") as f:
        # A dict, as an SDK user would pass it: the SDK serialises it itself.
        create_body = json.load(f)

    observed = {
        "sdk": {"core": version("huaweicloudsdkcore"), "oms": version("huaweicloudsdkoms")},
        "python": sys.version.split()[0],
    }
    code = 0
    try:
        run(endpoint, project_id, create_body, ak, sk, observed)
    except Exception as exc:
        # Still print what was seen so far: the Rust test names the step that broke.
        observed["unexpected"] = {
            "exception": type(exc).__name__,
            "detail": str(exc),
            "traceback": traceback.format_exc(),
        }
        code = 1
    observed["requests"] = SENT
    print(json.dumps(observed, sort_keys=True))
    return code


if __name__ == "__main__":
    sys.exit(main())
