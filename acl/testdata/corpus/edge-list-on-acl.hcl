acl = "list"
