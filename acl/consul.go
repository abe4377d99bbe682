package acl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"
)

// policyNameRE is the policy name Consul accepts (acl/validation.go validPolicyName).
var policyNameRE = regexp.MustCompile(`^[A-Za-z0-9\-_]{1,128}$`)

// APIPolicy returns p as a Consul ACL policy with the given name and description; its
// Rules are the HCL RenderHCL writes. Partition and Namespace are left empty, so Consul
// creates the policy where the request's token lives (the default partition and
// namespace unless the token is elsewhere); set them on the result to place it
// explicitly in Consul Enterprise. It fails with ErrInvalidArgument for a name Consul
// rejects (1 to 128 letters, digits, '-' and '_') and as RenderHCL does.
func (p *Policy) APIPolicy(name, description string) (*api.ACLPolicy, error) {
	if err := checkPolicyName(name); err != nil {
		return nil, err
	}
	rules, err := p.RenderHCL()
	if err != nil {
		return nil, err
	}
	return &api.ACLPolicy{Name: name, Description: description, Rules: string(rules)}, nil
}

func checkPolicyName(name string) error {
	if !policyNameRE.MatchString(name) {
		return fmt.Errorf("%w: policy name %q: want 1 to 128 letters, digits, '-' or '_'", ErrInvalidArgument, name)
	}
	return nil
}

// CreateOrUpdate makes Consul hold policy p, found by name (in p.Partition and
// p.Namespace): it creates the policy when there is none, updates it when its rules,
// description or datacenters differ, and otherwise leaves it alone. It returns the
// policy as Consul stores it and whether it created or changed it. Calling it again
// with the same p changes nothing. The client's token needs acl:write; a 403 answer
// gives an error that matches ErrPermissionDenied.
func CreateOrUpdate(ctx context.Context, client *api.Client, p *api.ACLPolicy) (*api.ACLPolicy, bool, error) {
	if client == nil || p == nil {
		return nil, false, fmt.Errorf("%w: nil client or policy", ErrInvalidArgument)
	}
	if err := checkPolicyName(p.Name); err != nil {
		return nil, false, err
	}
	q := (&api.QueryOptions{Partition: p.Partition, Namespace: p.Namespace}).WithContext(ctx)
	current, _, err := client.ACL().PolicyReadByName(p.Name, q)
	if err != nil && !isACLNotFound(err) {
		return nil, false, apiError("read policy", p.Name, err)
	}
	w := (&api.WriteOptions{Partition: p.Partition, Namespace: p.Namespace}).WithContext(ctx)
	want := *p
	if current == nil {
		want.ID = ""
		created, _, err := client.ACL().PolicyCreate(&want, w)
		if err != nil {
			return nil, false, apiError("create policy", p.Name, err)
		}
		return created, true, nil
	}
	if current.Rules == p.Rules && current.Description == p.Description && sameSet(current.Datacenters, p.Datacenters) {
		return current, false, nil
	}
	want.ID = current.ID
	updated, _, err := client.ACL().PolicyUpdate(&want, w)
	if err != nil {
		return nil, false, apiError("update policy", p.Name, err)
	}
	return updated, true, nil
}

// CreateToken creates a token linked to policy p (by ID when set, else by name) in
// p.Partition and p.Namespace, with the given description. The client's token needs
// acl:write; a 403 answer gives an error that matches ErrPermissionDenied.
func CreateToken(ctx context.Context, client *api.Client, p *api.ACLPolicy, description string) (*api.ACLToken, error) {
	if client == nil || p == nil {
		return nil, fmt.Errorf("%w: nil client or policy", ErrInvalidArgument)
	}
	link := &api.ACLTokenPolicyLink{ID: p.ID}
	if p.ID == "" {
		link.Name = p.Name
	}
	tok := &api.ACLToken{
		Description: description,
		Policies:    []*api.ACLTokenPolicyLink{link},
		Partition:   p.Partition,
		Namespace:   p.Namespace,
	}
	w := (&api.WriteOptions{Partition: p.Partition, Namespace: p.Namespace}).WithContext(ctx)
	created, _, err := client.ACL().TokenCreate(tok, w)
	if err != nil {
		return nil, apiError("create token for policy", p.Name, err)
	}
	return created, nil
}

// aclNotFound is the body of Consul's answer for a missing ACL object. Consul 1.14
// answers a read of a missing policy by name with 403 and this body, where the API
// client expects 404.
const aclNotFound = "ACL not found"

// isACLNotFound reports whether err is Consul's 403 "ACL not found" answer.
func isACLNotFound(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == http.StatusForbidden && strings.Contains(se.Body, aclNotFound)
}

// apiError wraps an error from the Consul API with what was being done, adding
// ErrPermissionDenied for a 403 answer that is not "ACL not found".
func apiError(op, name string, err error) error {
	var se api.StatusError
	if errors.As(err, &se) && se.Code == http.StatusForbidden && !isACLNotFound(err) {
		return fmt.Errorf("acl: %s %q: %w: %w", op, name, ErrPermissionDenied, err)
	}
	return fmt.Errorf("acl: %s %q: %w", op, name, err)
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
