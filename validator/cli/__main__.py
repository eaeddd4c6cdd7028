"""`python -m validator.cli`: the same as the `slagate` command."""

from validator.cli import main

main()
