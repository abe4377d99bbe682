operator = ["read"]
