"""`chaosext kind up|down`: the sample stack on a kind cluster on this machine."""
