"""Benchmark: our citizen user (naming, checks, run hooks and timeline) making the same request."""

from locust import task

from loadtests import hooks
from loadtests.citizens import PortalUser

hooks.install()


class StaticCitizen(PortalUser):
    @task
    def page(self) -> None:
        self.find_service(self.catalog.service("dang-ky-khai-sinh"))
