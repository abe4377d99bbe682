service_prefix "other" { policy = "write" }
