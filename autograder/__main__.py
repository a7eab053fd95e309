"""``python -m autograder`` is ``dlgrade``."""

from .cli import main

raise SystemExit(main())
