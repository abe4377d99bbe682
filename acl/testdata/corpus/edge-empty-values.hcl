acl = ""
peering = ""
service "web" {
  policy = "read"
  intentions = ""
}
