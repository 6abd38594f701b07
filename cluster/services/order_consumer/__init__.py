"""order-consumer: consumes order events, captures each order exactly once, dead-letters malformed ones."""
