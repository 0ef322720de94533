from bench.editions.coverage import main

raise SystemExit(main())
