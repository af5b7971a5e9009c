"""The sync contract: how a Store order and a Warehouse order correspond; how a sink fares."""
