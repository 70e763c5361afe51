"""The core every layer stands on: the service catalog, target profiles, the step vocabulary, test
identities and accounts, OTP sources, politeness, YAML loading, child processes and errors. It imports no
instrument, no orchestration and no command (`lint-imports` checks it)."""
