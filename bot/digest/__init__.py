"""Daily digests, Slack-free: `schedule` (when a channel wants one), `settings` (a channel's digest settings,
defaults resolved), `strictness` (the lowest score a paper needs to be posted), `selection` (which new papers,
in what order), `due` (what is due at a given instant), `service` (planning and posting exactly once through a
`Poster`) and `scheduler` (the clock-driven tick)."""
