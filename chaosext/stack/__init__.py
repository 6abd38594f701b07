"""The local sample checkout stack: configuration, install, rendering and lifecycle."""
