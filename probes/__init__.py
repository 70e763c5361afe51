"""The async prober: is the portal up, how fast, and is a failure the portal's or the ward's own link?

One process per vantage point (a ward office, a kiosk, the data centre) probes the targets of a YAML
config on one event loop and exports what it saw to Prometheus; a central Prometheus scrapes them all.
See docs/probes.md.
"""
