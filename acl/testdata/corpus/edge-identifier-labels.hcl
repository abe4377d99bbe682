service web { policy = "read" }
key_prefix app-config.v1 { policy = "list" }
