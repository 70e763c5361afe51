from dvcwatch.commands.cli import main

raise SystemExit(main())
