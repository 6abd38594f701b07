"""checkout-api: takes orders, charges them through payment-service and publishes them to Kafka."""
