acl = "read"
