agent_prefix "bar" {
	policy = "write"
}
agent "foo" {
	policy = "read"
}
event_prefix "" {
	policy = "read"
}
event "foo" {
	policy = "write"
}
event "bar" {
	policy = "deny"
}
key_prefix "" {
	policy = "read"
}
key_prefix "foo/" {
	policy = "write"
}
key_prefix "foo/bar/" {
	policy = "read"
}
key "foo/bar/baz" {
	policy = "deny"
}
keyring = "deny"
node_prefix "" {
	policy = "read"
}
node "foo" {
	policy = "write"
}
node "bar" {
	policy = "deny"
}
operator = "deny"
mesh = "deny"
peering = "deny"
service_prefix "" {
	policy = "write"
}
service "foo" {
	policy = "read"
}
session "foo" {
	policy = "write"
}
session "bar" {
	policy = "deny"
}
session_prefix "baz" {
	policy = "deny"
}
query_prefix "" {
	policy = "read"
}
query "foo" {
	policy = "write"
}
query "bar" {
	policy = "deny"
}
