// Command kstatus judges Kubernetes objects with kstatus, the library Flux's health checks use
// (sigs.k8s.io/cli-utils/pkg/kstatus/status), so tests can check our status against Flux's own
// reading of it rather than against our idea of it.
//
// Usage:
//
//	kstatus [-json] [FILE...]     (no FILE, or "-": read standard input)
//
// Each input holds JSON: one object, a List (kind: List or any *List with items), or a JSON
// array of objects. For every object it prints one line:
//
//	<namespace>/<name> <Status> <message>
//
// (<name> alone for a cluster-scoped object, as client-go's cache keys write it; no trailing
// space when the message is empty; a message's newlines and runs of spaces become one space)
// where Status is Current, InProgress, Failed, Terminating or Unknown. With -json each line is
// instead {"namespace":..,"name":..,"kind":..,"status":..,"message":..}. It exits 0 when every
// object was judged (whatever the verdicts), 1 on unreadable input, 2 on bad usage.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// verdict is one object's reading; its JSON form is what -json prints.
type verdict struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func main() {
	asJSON := flag.Bool("json", false, "print one JSON object per line instead of text")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: kstatus [-json] [FILE...]   (reads stdin when no FILE or FILE is -)")
		flag.PrintDefaults()
	}
	flag.Parse()

	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, in := range inputs {
		data, err := readInput(in)
		if err != nil {
			fail(err)
		}
		objs, err := decode(data)
		if err != nil {
			fail(fmt.Errorf("%s: %w", in, err))
		}
		for _, obj := range objs {
			v := judge(obj)
			if *asJSON {
				line, err := json.Marshal(v)
				if err != nil {
					fail(err)
				}
				fmt.Fprintf(out, "%s\n", line)
			} else {
				line := key(v) + " " + v.Status
				if v.Message != "" {
					line += " " + v.Message
				}
				fmt.Fprintln(out, line)
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// decode accepts one object, a list object with items, or a JSON array of objects. It goes
// through Unstructured's own decoder so numbers stay int64, as kstatus's generation check needs.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("no JSON input")
	}
	if data[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, err
		}
		var objs []*unstructured.Unstructured
		for i, raw := range raws {
			more, err := decode(raw)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			objs = append(objs, more...)
		}
		return objs, nil
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if !u.IsList() {
		return []*unstructured.Unstructured{u}, nil
	}
	list, err := u.ToList()
	if err != nil {
		return nil, err
	}
	objs := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		objs = append(objs, &list.Items[i])
	}
	return objs, nil
}

// judge runs kstatus on one object; an object kstatus cannot read is Unknown with the reason.
func judge(u *unstructured.Unstructured) verdict {
	v := verdict{Namespace: u.GetNamespace(), Name: u.GetName(), Kind: u.GetKind()}
	res, err := status.Compute(u)
	if err != nil {
		v.Status, v.Message = string(status.UnknownStatus), err.Error()
	} else {
		v.Status, v.Message = string(res.Status), res.Message
	}
	// One line per object, whatever the message holds.
	v.Message = strings.Join(strings.Fields(v.Message), " ")
	return v
}

func key(v verdict) string {
	if v.Namespace == "" {
		return v.Name
	}
	return v.Namespace + "/" + v.Name
}
