// envoy-validate checks Envoy bootstrap documents against Envoy's own API definitions, as far as they can be
// checked without running Envoy (which cannot run where the tests run): each JSON document is decoded into
// envoy.config.bootstrap.v3.Bootstrap with unknown fields and unknown typed_config types refused, then the
// generated field validations (protoc-gen-validate's ValidateAll) run on it and on every message packed in a
// google.protobuf.Any inside it (HTTP filters, TLS contexts, ...), which ValidateAll alone does not open.
// Last, names that must refer to something do: every cluster a route, TCP proxy or gRPC service names is
// defined, and no two listeners or clusters share a name.
//
// Usage: envoy-validate FILE... ; a FILE holding a JSON array validates each element. Prints "ok NAME" or
// every problem, and exits 1 if any document is invalid.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	// The extensions a Portcullis bootstrap packs in typed_config: importing registers their types.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/grpc_credential/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

type validator interface{ ValidateAll() error }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: envoy-validate FILE...  (each a bootstrap as JSON, or a JSON array of them)")
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		docs := []json.RawMessage{data}
		if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "[") {
			if err := json.Unmarshal(data, &docs); err != nil {
				fmt.Printf("invalid %s: not a JSON array of bootstraps: %v\n", file, err)
				failed = true
				continue
			}
		}
		for i, doc := range docs {
			name := file
			if len(docs) > 1 || strings.HasPrefix(strings.TrimSpace(string(data)), "[") {
				name = fmt.Sprintf("%s[%d]", file, i)
			}
			problems := validate(doc)
			if len(problems) == 0 {
				fmt.Printf("ok %s\n", name)
				continue
			}
			failed = true
			for _, p := range problems {
				fmt.Printf("invalid %s: %s\n", name, p)
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

func validate(doc []byte) []string {
	var b bootstrapv3.Bootstrap
	// Unknown fields are refused (DiscardUnknown false), and so is a typed_config whose @type is not registered.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false, Resolver: protoregistry.GlobalTypes}).Unmarshal(doc, &b); err != nil {
		return []string{fmt.Sprintf("does not decode as envoy.config.bootstrap.v3.Bootstrap: %v", err)}
	}
	var problems []string
	if err := b.ValidateAll(); err != nil {
		problems = append(problems, flatten(err)...)
	}
	problems = append(problems, validateAnys(b.ProtoReflect(), "bootstrap")...)
	problems = append(problems, references(&b)...)
	return problems
}

// validateAnys finds every Any in the message tree, unpacks it and validates what it holds, recursively.
func validateAnys(m protoreflect.Message, path string) []string {
	var problems []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		here := path + "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			list := v.List()
			for i := 0; i < list.Len(); i++ {
				problems = append(problems, visit(list.Get(i).Message(), fmt.Sprintf("%s[%d]", here, i))...)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				problems = append(problems, visit(mv.Message(), fmt.Sprintf("%s[%s]", here, k.String()))...)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			problems = append(problems, visit(v.Message(), here)...)
		}
		return true
	})
	return problems
}

func visit(m protoreflect.Message, path string) []string {
	if m.Descriptor().FullName() != "google.protobuf.Any" {
		return validateAnys(m, path)
	}
	a := m.Interface().(*anypb.Any)
	inner, err := a.UnmarshalNew()
	if err != nil {
		return []string{fmt.Sprintf("%s: %s does not decode: %v", path, a.GetTypeUrl(), err)}
	}
	var problems []string
	if v, ok := inner.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			for _, p := range flatten(err) {
				problems = append(problems, fmt.Sprintf("%s (%s): %s", path, a.GetTypeUrl(), p))
			}
		}
	}
	return append(problems, validateAnys(inner.ProtoReflect(), path+"<"+string(inner.ProtoReflect().Descriptor().FullName())+">")...)
}

// flatten turns protoc-gen-validate's MultiError into one line per violation.
func flatten(err error) []string {
	var multi interface{ AllErrors() []error }
	if errors.As(err, &multi) {
		var out []string
		for _, e := range multi.AllErrors() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

// references checks names Envoy resolves when it loads the bootstrap: every cluster named by a route, a TCP
// proxy, or an envoy_grpc service is defined, and listener and cluster names are unique.
func references(b *bootstrapv3.Bootstrap) []string {
	var problems []string
	clusters := map[string]bool{}
	for _, c := range b.GetStaticResources().GetClusters() {
		if clusters[c.GetName()] {
			problems = append(problems, fmt.Sprintf("cluster %q is defined twice", c.GetName()))
		}
		clusters[c.GetName()] = true
	}
	listeners := map[string]bool{}
	for _, l := range b.GetStaticResources().GetListeners() {
		if listeners[l.GetName()] {
			problems = append(problems, fmt.Sprintf("listener %q is defined twice", l.GetName()))
		}
		listeners[l.GetName()] = true
	}
	named := map[string]bool{}
	collectClusterNames(b.ProtoReflect(), named)
	var missing []string
	for name := range named {
		if !clusters[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		problems = append(problems, fmt.Sprintf("cluster %q is referred to but not defined", name))
	}
	return problems
}

// collectClusterNames gathers the values of the fields that name a cluster (RouteAction.cluster,
// TcpProxy.cluster, GrpcService.EnvoyGrpc.cluster_name), Anys opened.
func collectClusterNames(m protoreflect.Message, out map[string]bool) {
	full := m.Descriptor().FullName()
	if full == "google.protobuf.Any" {
		inner, err := m.Interface().(*anypb.Any).UnmarshalNew()
		if err == nil {
			collectClusterNames(inner.ProtoReflect(), out)
		}
		return
	}
	field := map[protoreflect.FullName]protoreflect.Name{
		"envoy.config.route.v3.RouteAction":                      "cluster",
		"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy": "cluster",
		"envoy.config.core.v3.GrpcService.EnvoyGrpc":             "cluster_name",
	}[full]
	if field != "" {
		if fd := m.Descriptor().Fields().ByName(field); fd != nil && m.Has(fd) {
			out[m.Get(fd).String()] = true
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				collectClusterNames(v.List().Get(i).Message(), out)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				collectClusterNames(mv.Message(), out)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			collectClusterNames(v.Message(), out)
		}
		return true
	})
}
