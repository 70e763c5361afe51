"""Locust load tests of a DVC portal: citizens, load shapes, SLO gates and the capacity report.

`locustfile.py` is the vendor-facing entry point; everything else is imported from there (in every
Locust process: master, workers, or a plain local run) or from `dvcwatch load`, which only launches
Locust processes and reads the report they leave behind.
"""
