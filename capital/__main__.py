"""`python -m capital` is the `capital` command."""

from capital.cli import main

main()
