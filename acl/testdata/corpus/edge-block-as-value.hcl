mesh = "write"
service = "read"
