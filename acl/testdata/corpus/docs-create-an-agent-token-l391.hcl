acl = {
  enabled = true
  tokens = {
    agent = "<token>"
    ...
  }
  ...
}
