"""One module per `dvcwatch` sub-command; see `dvcwatch.cli.COMMANDS`."""
