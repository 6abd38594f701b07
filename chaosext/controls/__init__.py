"""Chaos Toolkit controls: ``chaosext.controls.abort`` halts an experiment when an abort criterion
(an SLO breach held for a duration) fires, so that the rollbacks run, and records why in the journal."""
