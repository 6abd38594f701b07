"""The verdict and the evidence of chaos runs: SLO gate, JUnit XML, experiment log, comparison, archiving."""
