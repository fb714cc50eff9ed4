from harness.lint.command import main

raise SystemExit(main())
