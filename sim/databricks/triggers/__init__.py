"""Job triggers on the simulator's clock: `schedule` (Quartz cron), `trigger.periodic`,
`trigger.file_arrival` (the simulated S3) and `continuous`."""
