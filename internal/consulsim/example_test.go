package consulsim_test

import (
	"context"
	"fmt"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/peering"
)

// A source reads the server as it reads Consul; a change wakes its blocking read.
func Example() {
	s := consulsim.New(nil, 1000)
	defer s.Close()
	src, err := peering.NewConsulSources(s.Config(), consulsim.GatewayID)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	ps, v, err := src.Peerings.Read(ctx, peering.Version{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(ps), "peerings;", ps[0].Name, ps[0].PeerServerAddresses)

	s.SetPeeringAddresses(0, true)
	ps, next, err := src.Peerings.Read(ctx, v) // returns at once: the list changed
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(next.Index > v.Index, ps[0].Name, ps[0].PeerServerAddresses)
	fmt.Println(s.Reads(consulsim.Peerings), "reads of the peerings")
	// Output:
	// 1000 peerings; peer-0 [10.0.0.1:8443 10.0.0.2:8443 10.0.0.3:8443]
	// true peer-0 [10.0.0.101:8443 10.0.0.102:8443 10.0.0.103:8443]
	// 2 reads of the peerings
}
