package faultproxy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/peeringgw/peeringgw/internal/faultproxy"
)

// An HTTP proxy in front of a server answers 500 while told to, then passes requests
// through again.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	p, err := faultproxy.New(srv.Listener.Addr().String(), faultproxy.HTTP())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := p.Close(); err != nil {
			fmt.Println(err)
		}
	}()
	status := func() {
		resp, err := http.Get("http://" + p.Addr() + "/")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Fault(), resp.StatusCode)
		if err := resp.Body.Close(); err != nil {
			fmt.Println(err)
		}
	}
	status()
	if err := p.Set(faultproxy.Status(http.StatusInternalServerError)); err != nil {
		fmt.Println(err)
		return
	}
	status()
	if err := p.Set(faultproxy.Pass); err != nil {
		fmt.Println(err)
		return
	}
	status()
	// Output:
	// pass 200
	// status 500 500
	// pass 200
}
