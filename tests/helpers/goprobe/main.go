// goprobe — a short-connection client written in Go, the kind of probe
// LD_PRELOAD cannot reach: Go makes its own system calls, and with
// CGO_ENABLED=0 the binary is static.  The supervisor's target.
//
//	goprobe -addr 127.0.0.1:7000 -n 200 -c 8 [-request] [-linger0]
//
// Runs n dial/close cycles spread evenly over c goroutines, each locked to
// an OS thread of its own (so the connects come from c threads whatever the
// scheduler does), and prints one line:
//
//	attempted= ok= failed= eaddrnotavail= first_error= lport_min= lport_max=
//	elapsed_us= conn_per_s=
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type result struct {
	attempted, ok, failed, enotavail int64
	mu                               sync.Mutex
	firstErr                         string
	lmin, lmax                       int
}

func errName(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "EADDRNOTAVAIL"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "ECONNREFUSED"
	case errors.Is(err, syscall.ECONNRESET):
		return "ECONNRESET"
	case errors.Is(err, syscall.ENOSYS):
		return "ENOSYS"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "ETIMEDOUT"
	}
	return "other"
}

func (r *result) fail(err error) {
	atomic.AddInt64(&r.failed, 1)
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		atomic.AddInt64(&r.enotavail, 1)
	}
	r.mu.Lock()
	if r.firstErr == "" {
		r.firstErr = errName(err)
	}
	r.mu.Unlock()
}

func (r *result) port(p int) {
	r.mu.Lock()
	if r.lmin == 0 || p < r.lmin {
		r.lmin = p
	}
	if p > r.lmax {
		r.lmax = p
	}
	r.mu.Unlock()
}

func once(r *result, addr string, timeout time.Duration, request, linger0 bool, upload int) {
	atomic.AddInt64(&r.attempted, 1)
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		r.fail(err)
		return
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	if linger0 {
		tc.SetLinger(0)
	}
	r.port(c.LocalAddr().(*net.TCPAddr).Port)
	if request {
		c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			r.fail(err)
			return
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "OK\n" {
			if err == nil {
				err = errors.New("bad reply")
			}
			r.fail(err)
			return
		}
	}
	if upload > 0 {
		// Write everything, then close at once (deferred): what the
		// kernel still has to send must not be lost.
		if _, err := c.Write(make([]byte, upload)); err != nil {
			r.fail(err)
			return
		}
	}
	atomic.AddInt64(&r.ok, 1)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "server address")
	n := flag.Int("n", 100, "connections in all")
	conc := flag.Int("c", 1, "concurrent goroutines")
	request := flag.Bool("request", false, "write a line and read the reply before closing")
	linger0 := flag.Bool("linger0", false, "SetLinger(0) in the probe itself (benchmark baseline)")
	timeout := flag.Duration("timeout", 5*time.Second, "dial and request timeout")
	upload := flag.Int("upload", 0, "write this many bytes after connecting, then close")
	flag.Parse()

	r := &result{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < *conc; g++ {
		share := *n / *conc
		if g < *n%*conc {
			share++
		}
		wg.Add(1)
		go func(share int) {
			defer wg.Done()
			runtime.LockOSThread()
			for i := 0; i < share; i++ {
				once(r, *addr, *timeout, *request, *linger0, *upload)
			}
		}(share)
	}
	wg.Wait()
	el := time.Since(t0).Microseconds()
	if r.firstErr == "" {
		r.firstErr = "none"
	}
	cps := int64(0)
	if el > 0 {
		cps = r.attempted * 1000000 / el
	}
	fmt.Printf("attempted=%d ok=%d failed=%d eaddrnotavail=%d first_error=%s lport_min=%d lport_max=%d elapsed_us=%d conn_per_s=%d\n",
		r.attempted, r.ok, r.failed, r.enotavail, r.firstErr, r.lmin, r.lmax, el, cps)
}
