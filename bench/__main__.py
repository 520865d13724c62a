"""``python -m bench``: run the benchmarks and print the table and the summary line."""

from bench.run import main

raise SystemExit(main())
