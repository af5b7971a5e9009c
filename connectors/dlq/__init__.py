"""`python -m connectors.dlq`: list dead letters, replay them, or mark them handled.

The reading and replaying itself lives in ordersync.kafka.deadletters, which the admin's Sync page
shares.
"""
