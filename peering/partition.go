package peering

// DefaultPartition is the partition of Consul Community Edition, and the one an empty
// partition name means everywhere in Consul's API.
const DefaultPartition = "default"

// PartitionOf returns the partition a Consul API object names: name itself, or
// [DefaultPartition] when name is empty.
func PartitionOf(name string) string {
	if name == "" {
		return DefaultPartition
	}
	return name
}

// IsDefaultPartition reports whether name means the default partition ("" or
// "default").
func IsDefaultPartition(name string) bool { return PartitionOf(name) == DefaultPartition }
