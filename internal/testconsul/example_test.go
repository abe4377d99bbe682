package testconsul_test

import (
	"fmt"

	"github.com/peeringgw/peeringgw/internal/testconsul"
)

// Start needs a test's *testing.T, so agent_test.go shows it at work:
// TestStartPeering peers two agents.
func ExampleVersion() {
	fmt.Println("agents run Consul", testconsul.Version)
	// Output: agents run Consul 1.14.8
}
