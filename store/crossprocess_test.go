package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Environment of a helper process run by TestHelperProcess.
const (
	helperEnv        = "MCPAUTH_STORE_HELPER" // "count" or "loop"
	helperDirEnv     = "MCPAUTH_STORE_HELPER_DIR"
	helperNEnv       = "MCPAUTH_STORE_HELPER_N"
	helperServiceEnv = "MCPAUTH_STORE_HELPER_SERVICE" // set for the Keyring store
)

// TestHelperProcess is not a test: it is the body of the processes the
// cross-process tests start from this test binary. "count" increments the
// counter N times; "loop" increments it forever, printing each value once
// it is stored.
func TestHelperProcess(t *testing.T) {
	what := os.Getenv(helperEnv)
	if what == "" {
		t.Skip("run only as a helper process")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var s Store
	var err error
	if service := os.Getenv(helperServiceEnv); service != "" {
		s, err = NewKeyring(ctx, Options{Dir: os.Getenv(helperDirEnv), Service: service})
	} else {
		s, err = NewFile(os.Getenv(helperDirEnv))
	}
	if err != nil {
		fail(err)
	}
	n, _ := strconv.Atoi(os.Getenv(helperNEnv))
	out := bufio.NewWriter(os.Stdout)
	for i := 0; what == "loop" || i < n; i++ {
		r, err := s.Update(ctx, keyA, increment(keyA))
		if err != nil {
			fail(err)
		}
		if what == "loop" {
			fmt.Fprintln(out, counter(r))
			out.Flush()
		}
	}
	os.Exit(0)
}

// helper returns the command running TestHelperProcess with env.
func helper(env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// updatesFromProcesses runs procs processes that each increment the
// counter each times, and checks that none of the increments was lost.
func updatesFromProcesses(t *testing.T, s Store, dir, service string, procs, each int) {
	t.Helper()
	type result struct {
		out []byte
		err error
	}
	results := make(chan result, procs)
	for range procs {
		cmd := helper(helperEnv+"=count", helperDirEnv+"="+dir, helperServiceEnv+"="+service, helperNEnv+"="+strconv.Itoa(each))
		go func() {
			out, err := cmd.CombinedOutput()
			results <- result{out, err}
		}()
	}
	for range procs {
		if r := <-results; r.err != nil {
			t.Errorf("helper process: %v\n%s", r.err, r.out)
		}
	}
	if t.Failed() {
		return
	}
	if n := counter(load(t, s, keyA)); n != procs*each {
		t.Fatalf("counter = %d after %d processes did %d increments each, want %d: Update is not atomic across processes",
			n, procs, each, procs*each)
	}
}

func TestFileUpdateIsAtomicAcrossProcesses(t *testing.T) {
	each := 50
	if testing.Short() {
		each = 10
	}
	dir := t.TempDir()
	updatesFromProcesses(t, newFile(t, dir), dir, "", 8, each)
}

func TestKeyringUpdateIsAtomicAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	k := systemKeyring(t, dir, 0)
	updatesFromProcesses(t, k, dir, k.Service(), 8, 10)
}

func TestFileSurvivesSIGKILLDuringUpdates(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	dir := t.TempDir()
	f := newFile(t, dir)
	prev := 0
	for i := range kills {
		cmd := helper(helperEnv+"=loop", helperDirEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		written := make(chan int)
		go func() {
			defer close(written)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if n, err := strconv.Atoi(sc.Text()); err == nil {
					written <- n
				}
			}
		}()
		// Let the child store a value, then kill it at a random point of
		// its loop: reading, writing the temporary file, syncing, renaming.
		last, ok := <-written
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("kill %d: helper stored nothing: %s", i, stderr.Bytes())
		}
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for n := range written {
			last = n
		}
		_ = cmd.Wait()
		if stderr.Len() > 0 {
			t.Fatalf("kill %d: helper failed: %s", i, stderr.Bytes())
		}
		// The store holds the last value the child reported, or the one
		// after it if the kill came between its rename and its report.
		r, err := f.Load(context.Background(), keyA)
		if err != nil {
			t.Fatalf("kill %d: store unreadable after SIGKILL: %v", i, err)
		}
		if n := counter(r); n != last && n != last+1 || n < prev {
			t.Fatalf("kill %d: store holds %d; the child last reported %d (previous kill left %d)", i, n, last, prev)
		} else {
			prev = n
		}
	}
	t.Logf("%d kills, %d updates", kills, prev)
}
