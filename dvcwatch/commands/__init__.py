"""One module per `dvcwatch` sub-command; see `dvcwatch.commands.cli.COMMANDS`."""
