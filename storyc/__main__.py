"""`python -m storyc`: the same as the `storyc` command."""

from storyc.cli.app import main

main()
