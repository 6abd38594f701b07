"""payment-service: idempotent charges and captures over HTTPS, with the ledger in Redis."""
