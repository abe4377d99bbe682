package testconsul

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// ports are the loopback ports of one agent.
type ports struct {
	HTTP, DNS, GRPC, GRPCTLS, Server, SerfLAN, SerfWAN int
}

// portCount is the number of fields in ports.
const portCount = 7

func portsFrom(p []int) ports {
	return ports{HTTP: p[0], DNS: p[1], GRPC: p[2], GRPCTLS: p[3], Server: p[4], SerfLAN: p[5], SerfWAN: p[6]}
}

// agentConfig is the part of the agent's configuration that has no command
// line flag. It is written as a JSON configuration file.
type agentConfig struct {
	LogLevel           string             `json:"log_level"`
	DisableUpdateCheck bool               `json:"disable_update_check"`
	Connect            enabled            `json:"connect"`
	Peering            enabled            `json:"peering"`
	Ports              portsConfig        `json:"ports"`
	Performance        *performanceConfig `json:"performance,omitempty"`
	ACL                *aclConfig         `json:"acl,omitempty"`
}

type enabled struct {
	Enabled bool `json:"enabled"`
}

type portsConfig struct {
	GRPCTLS int `json:"grpc_tls"`
}

type performanceConfig struct {
	RaftMultiplier int `json:"raft_multiplier"`
}

type aclConfig struct {
	Enabled       bool      `json:"enabled"`
	DefaultPolicy string    `json:"default_policy"`
	Tokens        aclTokens `json:"tokens"`
}

type aclTokens struct {
	InitialManagement string `json:"initial_management"`
	Agent             string `json:"agent"`
}

// config returns the configuration file contents for o and p.
func config(o options, p ports) agentConfig {
	c := agentConfig{
		LogLevel:           "INFO",
		DisableUpdateCheck: true,
		Connect:            enabled{Enabled: true},
		Peering:            enabled{Enabled: true},
		Ports:              portsConfig{GRPCTLS: p.GRPCTLS},
	}
	if o.dataDir != "" {
		// -dev sets the fastest Raft timing; a real server needs it spelled out.
		c.Performance = &performanceConfig{RaftMultiplier: 1}
	}
	if o.managementToken != "" {
		c.ACL = &aclConfig{
			Enabled:       true,
			DefaultPolicy: "deny",
			Tokens:        aclTokens{InitialManagement: o.managementToken, Agent: o.managementToken},
		}
	}
	return c
}

// writeConfig writes the configuration file for o and p into dir and returns
// its path.
func writeConfig(dir string, o options, p ports) (string, error) {
	b, err := json.MarshalIndent(config(o, p), "", "  ")
	if err != nil {
		return "", fmt.Errorf("testconsul: encode agent config: %w", err)
	}
	path := filepath.Join(dir, "agent.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("testconsul: write agent config: %w", err)
	}
	return path, nil
}

// args returns the consul command line for o, p and the configuration file
// configFile.
func args(o options, p ports, configFile string) []string {
	a := []string{"agent"}
	if o.dataDir == "" {
		a = append(a, "-dev")
	} else {
		a = append(a, "-server", "-bootstrap-expect", "1", "-data-dir", o.dataDir)
	}
	a = append(a,
		"-datacenter", o.datacenter,
		"-node", o.nodeName,
		"-bind", "127.0.0.1",
		"-client", "127.0.0.1",
		"-http-port", strconv.Itoa(p.HTTP),
		"-dns-port", strconv.Itoa(p.DNS),
		"-grpc-port", strconv.Itoa(p.GRPC),
		"-server-port", strconv.Itoa(p.Server),
		"-serf-lan-port", strconv.Itoa(p.SerfLAN),
		"-serf-wan-port", strconv.Itoa(p.SerfWAN),
		"-config-file", configFile,
	)
	for _, h := range o.hcl {
		a = append(a, "-hcl", h)
	}
	return a
}
