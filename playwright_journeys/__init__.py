"""Mystery-shopper journeys: a browser plays a citizen and tries each of the 25 services end to end.

A journey is a list of named steps from the shared vocabulary (`dvcwatch.core.steps`); each step is one
async function in `playwright_journeys.steps`. What differs per service comes from the catalog, what
differs per portal from the target profile, so the same code tests the sandbox and a real portal.
"""
