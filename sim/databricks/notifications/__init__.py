"""Job notifications: `email_notifications` into an outbox, `webhook_notifications` POSTed to the
notification destinations (Settings API) they name."""
