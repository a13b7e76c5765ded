"""What every werkplek service needs: settings, logging, Kafka helpers (producer, DLQ-aware consumer,
topic creation from the registry), the PostgreSQL pool and migrations, the outbox relay, metrics."""
