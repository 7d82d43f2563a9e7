from hackatimed.cli import main

raise SystemExit(main())
