service_prefix "service" { policy = "read" }
