"""One module per `storyc` command; each defines `register(app)`."""
