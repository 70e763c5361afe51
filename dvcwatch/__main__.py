from dvcwatch.cli import main

raise SystemExit(main())
