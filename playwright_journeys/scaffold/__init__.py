"""`dvcwatch profile scaffold`: read each service's e-form on a portal and write the profile's `forms:`.

A person writing a profile for a new portal spends hours finding which box is which catalog field.
The scaffold does the looking: it logs in as the journeys do, opens each service's e-form (never
submitting anything), lists every control a citizen sees, and matches labels, options and document
slots to the catalog, ignoring case and diacritics. What matches is written so that it needs no edit;
what does not is written under `decide:`, which `profile check` refuses until a person has decided.

One job per module: `labels` (pure matching), `reader` (what a page shows), `draft` (controls →
a form section), `writer` (sections → YAML), `visit` (the browser), `command` (the CLI).
"""
