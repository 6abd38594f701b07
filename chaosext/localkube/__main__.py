"""`python -m chaosext.localkube up|down|status|build`."""

from chaosext.localkube.cli import main

main()
