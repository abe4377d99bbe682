partition "default" { namespace "default" { service "gw" { policy = "write" } } }
