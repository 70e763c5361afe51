"""Benchmark baseline: the barest Locust FastHttpUser, asking for one service page over and over."""

from locust import FastHttpUser, constant, task


class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def page(self) -> None:
        self.client.get("/dich-vu/dang-ky-khai-sinh")
