ſervice "web" { policy = "read" }
Key_prefix "" { policy = "read" }
