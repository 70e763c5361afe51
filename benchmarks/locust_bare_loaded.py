"""Benchmark control: the bare FastHttpUser in a process that has read what our users read at start
(the load profile, the target profile, the catalog, the flows) and does none of our work per request.
Against the bare user it shows what the process's size alone costs, apart from the flow user's
per-request work (docs/load.md, "Measure the generator")."""

from typing import Any

from locust import FastHttpUser, constant, events, task

from loadtests import citizens, flow_user, report, report_html  # noqa: F401  (what our users' processes import)
from loadtests.context import RunContext, add_options

events.init_command_line_parser.add_listener(add_options)


@events.init.add_listener
def read_configuration(environment: Any, **_: Any) -> None:
    environment.dvc_run = RunContext.from_options(environment.parsed_options)


class BareLoaded(FastHttpUser):
    wait_time = constant(0)

    @task
    def page(self) -> None:
        self.client.get("/dich-vu/dang-ky-khai-sinh")
