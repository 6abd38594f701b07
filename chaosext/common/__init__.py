"""Infrastructure every part of chaosext shares: paths and settings, processes, PKI, waiting, argument checks."""
