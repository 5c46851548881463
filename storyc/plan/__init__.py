"""The plan: checked shots to the clips a model renders, with their prompts and cost.

`capabilities` reads `models.toml` (what every model accepts and costs), `planner` packs
shots into clips, `prompt` words them through the Jinja2 templates, `takes` applies the
writer's picks, and `schema` is the plan as data (`plan.json`).
"""
