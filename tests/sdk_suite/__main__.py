from tests.sdk_suite.runner import main

raise SystemExit(main())
