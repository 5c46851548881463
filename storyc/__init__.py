"""storyc: compile screenplay-like .story files into multi-shot AI videos."""

__version__ = "0.1.0"
