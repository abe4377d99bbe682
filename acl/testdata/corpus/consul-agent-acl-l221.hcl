service_prefix "service" { policy = "write" }
