"""What crosses a boundary, defined once: API models, task payloads, the webhook envelope, metric and environment
variable names, and the map from domain errors to what a client sees."""
