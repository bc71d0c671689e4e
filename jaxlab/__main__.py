"""``python -m jaxlab`` is the ``jaxlab`` command."""

from .cli import main

raise SystemExit(main())
