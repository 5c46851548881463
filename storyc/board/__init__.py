"""The storyboard page: `page` builds it from a plan and its clips, `thumbs` makes stills."""
