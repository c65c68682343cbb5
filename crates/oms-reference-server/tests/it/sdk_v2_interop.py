"""Drives the OMS v2 API of a server with the official SDK's native client.

Run by `tests/it/sdk.rs` inside the pinned virtual environment of
`sdk_requirements.txt`, beside `sdk_interop.py` (which covers v1 through
`call_api`). With `huaweicloudsdkoms.v2.OmsClient` and its typed requests it
creates a running task, shows and lists it, has its delete refused, stops it,
waits for status 3, deletes it, shows it missing, and sends a request signed
with a wrong secret key. It judges nothing: it prints one JSON line of what it
observed, and the Rust test asserts on that line.

Usage: sdk_v2_interop.py ENDPOINT PROJECT_ID
The access key and secret key come from OMS_SDK_AK and OMS_SDK_SK.
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
from huaweicloudsdkoms.v2 import (
    CreateTaskReq,
    CreateTaskRequest,
    DeleteTaskRequest,
    DstNodeReq,
    ListTasksRequest,
    OmsClient,
    ShowTaskRequest,
    SrcNodeReq,
    StopTaskRequest,
)

HTTP_TIMEOUT = (5, 10)
POLL_DEADLINE_S = 10.0
POLL_INTERVAL_S = 0.05


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
        .build()
    )


def refusal(exc):
    return {
        "outcome": "exception",
        "exception": type(exc).__name__,
        "status_code": getattr(exc, "status_code", None),
        "error_code": getattr(exc, "error_code", None),
        "request_id": getattr(exc, "request_id", None),
    }


def attempt(call):
    try:
        response = call()
        return {"outcome": "ok", "status_code": response.status_code}
    except ClientRequestException as exc:
        return refusal(exc)


def poll_status(oms, task_id, wanted):
    """Shows the task until its status is `wanted` or the deadline passes."""
    deadline = time.monotonic() + POLL_DEADLINE_S
    seen = []
    while True:
        status = oms.show_task(ShowTaskRequest(task_id=task_id)).status
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == wanted or time.monotonic() >= deadline:
            return {"status": status, "statuses_seen": seen}
        time.sleep(POLL_INTERVAL_S)


def run(endpoint, project_id, ak, sk, observed):
    oms = client(endpoint, ak, sk, project_id)
    body = CreateTaskReq(
        task_type="object",
        src_node=SrcNodeReq(
            cloud_type="Aliyun", region="cn-hangzhou", ak="SRCAK", sk="SRCSK",
            bucket="long-source", object_key=[""],
        ),
        dst_node=DstNodeReq(ak="DSTAK", sk="DSTSK", bucket="dst-bucket", region="cn-north-4"),
        description="sdk v2",
    )
    created = oms.create_task(CreateTaskRequest(body=body))
    observed["create"] = {"status_code": created.status_code, "id": created.id,
                          "task_name": created.task_name}
    task_id = created.id
    if task_id is None:
        return

    observed["running"] = poll_status(oms, task_id, 2)
    shown = oms.show_task(ShowTaskRequest(task_id=task_id))
    observed["show"] = {"id": shown.id, "name": shown.name, "status": shown.status,
                        "dst_bucket": shown.dst_node.bucket if shown.dst_node else None}
    listed = oms.list_tasks(ListTasksRequest(limit=100, offset=0))
    observed["list"] = {"count": listed.count, "ids": [t.id for t in listed.tasks or []]}
    observed["delete_running"] = attempt(lambda: oms.delete_task(DeleteTaskRequest(task_id=task_id)))
    observed["stop"] = attempt(lambda: oms.stop_task(StopTaskRequest(task_id=task_id)))
    observed["stopped"] = poll_status(oms, task_id, 3)
    observed["delete_stopped"] = attempt(lambda: oms.delete_task(DeleteTaskRequest(task_id=task_id)))
    observed["show_deleted"] = attempt(lambda: oms.show_task(ShowTaskRequest(task_id=task_id)))

    wrong = client(endpoint, ak, sk + "-wrong", project_id)
    observed["wrong_secret"] = attempt(lambda: wrong.list_tasks(ListTasksRequest()))


def main():
    endpoint, project_id = sys.argv[1:3]
    ak = os.environ["OMS_SDK_AK"]
    sk = os.environ["OMS_SDK_SK"]
    observed = {
        "sdk": {"core": version("huaweicloudsdkcore"), "oms": version("huaweicloudsdkoms")},
    }
    code = 0
    try:
        run(endpoint, project_id, ak, sk, observed)
    except Exception as exc:
        observed["unexpected"] = {
            "exception": type(exc).__name__,
            "detail": str(exc),
            "traceback": traceback.format_exc(),
        }
        code = 1
    print(json.dumps(observed, sort_keys=True))
    return code


if __name__ == "__main__":
    sys.exit(main())
