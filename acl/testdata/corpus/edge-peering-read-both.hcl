peering = "read"
partition_prefix "" { peering = "read" }
