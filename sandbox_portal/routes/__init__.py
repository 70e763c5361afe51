"""HTTP routes, one module per part of the portal a citizen (or a probe) meets."""
