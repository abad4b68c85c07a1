"""The facilitator checks; each registers itself in the catalog."""
