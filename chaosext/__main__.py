"""`python -m chaosext`: the same as the `chaosext` command."""

from chaosext.cli import main

if __name__ == "__main__":
    main()
